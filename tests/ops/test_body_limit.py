"""Request bodies over ``MAX_CONTENT_LENGTH`` are refused with 413 in the JSON error shape, over real HTTP.

Whether the size is announced (``Content-Length``) or only discovered while reading a chunked body,
for anonymous and authenticated endpoints; a body within the limit still works, and the internal
result endpoint keeps its own, larger limit.
"""

from __future__ import annotations

import os

import pytest
import requests

from common.config import get_settings
from tests.helpers import PASSWORD, register_user


@pytest.fixture
def limit() -> int:
    return get_settings().max_content_length


def padded_json(size: int) -> bytes:
    """A syntactically valid JSON object of exactly ``size`` bytes."""
    head, tail = b'{"email": "a@example.com", "password": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def assert_413(response: requests.Response) -> None:
    assert response.status_code == 413, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == 413 and body["status"] == "Request Entity Too Large" and body["message"]


def test_announced_oversized_body_is_413_on_a_public_endpoint(live_server, limit):
    response = requests.post(
        f"{live_server}/api/v1/auth/login",
        data=padded_json(limit + 1),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert_413(response)


def test_chunked_oversized_body_is_413_too(live_server, limit, client):
    user = register_user(client)
    chunk = b"x" * (1024 * 1024)

    def body():
        yield b'{"name": "'
        for _ in range(limit // len(chunk) + 1):
            yield chunk
        yield b'"}'

    response = requests.post(
        f"{live_server}/api/v1/policies",
        data=body(),  # a generator: sent with Transfer-Encoding: chunked, no Content-Length
        headers={**user.headers(), "Content-Type": "application/json"},
        timeout=30,
    )
    assert_413(response)


def test_a_body_at_the_limit_is_read(live_server, limit, client):
    register_user(client)
    response = requests.post(
        f"{live_server}/api/v1/auth/login",
        data=padded_json(limit),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    # read and validated: the password is longer than the schema allows
    assert response.status_code == 422 and "password" in response.json()["errors"]
    ok = requests.post(
        f"{live_server}/api/v1/auth/login",
        json={"email": "nobody@example.com", "password": PASSWORD},
        timeout=10,
    )
    assert ok.status_code == 401


def test_the_internal_result_endpoint_has_its_own_larger_limit(live_server, limit):
    response = requests.post(
        f"{live_server}/api/v1/internal/scans/no-such-scan/result",
        data=b'{"components": [], "padding": "' + b"x" * (limit + 1024) + b'"}',
        headers={"Content-Type": "application/json", "X-Internal-API-Key": os.environ["INTERNAL_API_KEY"]},
        timeout=30,
    )
    assert response.status_code == 404 and response.json()["message"] == "Scan not found."

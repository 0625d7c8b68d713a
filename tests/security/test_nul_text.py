"""A NUL character anywhere a request's text reaches a query is the request's error (400), not a 500.

The attacker needs no account: ``GET /sso/%00/check``, ``/sso/%00/login`` and a login whose email holds a
NUL each failed in PostgreSQL's driver and answered 500, logging a traceback per request; signed in, so
did a NUL in ``X-Organization-Id`` on every endpoint, in an organization id of a path, and in the text
fields of several bodies. (Filters and scan ids were already refused by their schemas.)
"""

from __future__ import annotations

import logging

import pytest

ANONYMOUS = [
    ("GET", "/api/v1/sso/%00/check", None),
    ("GET", "/api/v1/sso/%00/login", None),
    ("POST", "/api/v1/auth/login", {"email": "a\x00@example.com", "password": "whatever"}),
]
SIGNED_IN = [
    ("GET", "/api/v1/organizations/%00", None),
    ("GET", "/api/v1/organizations/%00/members", None),
    ("GET", "/api/v1/organizations/%00/sso", None),
    ("POST", "/api/v1/organizations", {"name": "a\x00b"}),
    ("POST", "/api/v1/auth/api-key", {"name": "k\x00"}),
    ("POST", "/api/v1/webhooks", {"url": "https://example.com/\x00", "events": ["scan.completed"]}),
    (
        "POST",
        "/api/v1/compliance/rules",
        {"name": "x", "condition": {"field": "name", "operator": "equals", "value": "\x00"}},
    ),
]


def _answer(client, method, path, body, headers=None):
    return client.open(path, method=method, json=body, headers=headers or {})


def _tracebacks(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.exc_info]


@pytest.mark.parametrize(("method", "path", "body"), ANONYMOUS)
def test_an_anonymous_nul_is_a_400(client, caplog, method, path, body):
    with caplog.at_level(logging.ERROR):
        response = _answer(client, method, path, body)
    assert response.status_code == 400 and response.json["code"] == 400, response.json
    assert not _tracebacks(caplog)


@pytest.mark.parametrize(("method", "path", "body"), SIGNED_IN)
def test_a_nul_in_a_path_id_or_a_body_is_a_400(client, make_user, caplog, method, path, body):
    user = make_user()
    with caplog.at_level(logging.ERROR):
        response = _answer(client, method, path, body, user.headers())
    assert response.status_code == 400 and response.json["code"] == 400, response.json
    assert not _tracebacks(caplog)


@pytest.mark.parametrize("path", ["/api/v1/scans", "/api/v1/webhooks", "/api/v1/dashboard/overview"])
def test_a_nul_in_the_organization_header_is_a_400(client, make_user, path):
    user = make_user()
    response = client.get(path, headers={**user.headers(), "X-Organization-Id": "a\x00b"})
    assert response.status_code == 400 and response.json["code"] == 400, response.json

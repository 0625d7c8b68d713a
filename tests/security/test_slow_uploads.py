"""Clients that send a request's headers and then trickle its body, over real HTTP.

Authentication took a pooled database connection (an API key is always looked up; a token whose
principal is not cached too) and kept it, its transaction open, while the view read the body: a
``POST /scans/import`` may be 50 MB, so a handful of slow uploaders held the whole pool and every other
request of every organization waited for a connection. Authentication now hands its connection back
before any body is read, and the import reads its body before its idempotency lookup.
"""

from __future__ import annotations

import socket
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import requests

from common import db as db_module
from tests.helpers import counted_statements, wait_for

POOL = 1  # every connection of the pool: one upload that keeps its connection starves the API


@contextmanager
def small_pool():
    """The API's engine rebuilt with a pool of ``POOL`` connections and no overflow, for the block only
    (a write's audit row takes a second connection: the test's own requests come before it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db_module, "POOL_SIZE", POOL)
        patch.setattr(db_module, "POOL_OVERFLOW", 0)
        db_module.reset_engine()
        try:
            yield
        finally:
            patch.undo()
            db_module.reset_engine()


def _start_upload(live_server: str, key: str, *, chunked: bool, idempotency_key: str | None) -> socket.socket:
    """An import whose headers and first bytes are sent, the rest of its (large) body never."""
    address = urlsplit(live_server)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {40 * 1024 * 1024}"
    replay = f"Idempotency-Key: {idempotency_key}\r\n" if idempotency_key else ""
    head = (
        "POST /api/v1/scans/import HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\n"
        f"Authorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\n"
        f"{replay}{framing}\r\n\r\n"
    )
    first = b'{"components": ['
    body = b"%x\r\n%s\r\n" % (len(first), first) if chunked else first
    upload = socket.create_connection((address.hostname, address.port), timeout=30)
    upload.sendall(head.encode() + body)
    return upload


def test_slow_uploads_leave_the_connection_pool_to_every_other_request(live_server, client, make_user):
    user = make_user()
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=user.headers()).json["key"]
    # Its first use notes ``last_used_at``; the uploads then authenticate with the key's read alone.
    assert client.get("/api/v1/scans", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    uploads: list[socket.socket] = []
    with small_pool(), counted_statements() as statements:
        try:
            uploads.append(_start_upload(live_server, key, chunked=False, idempotency_key="slow-1"))
            uploads.append(_start_upload(live_server, key, chunked=True, idempotency_key=None))
            wait_for(lambda: sum("api_keys.key_hash" in s for s in statements) >= len(uploads), timeout=10)
            response = requests.get(f"{live_server}/api/v1/scans", headers=user.headers(), timeout=5)
            assert response.status_code == 200, response.text
        finally:
            for upload in uploads:
                upload.close()

"""Guard rails shared by the abuse-resistance tests (authorization matrix, fuzzing).

Imported by those test modules only; ``tests/ops/conftest.py`` belongs to the operations tests.
"""

from __future__ import annotations

import socket

import pytest

LOOPBACK = {"127.0.0.1", "localhost", "::1", "ip6-localhost"}


class RecordedTasks:
    """Stands in for the Celery client: requests made here queue nothing for the session's worker."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_task(self, name, *args, **kwargs):
        self.sent.append(name)
        return type("AsyncResult", (), {"id": f"recorded-{len(self.sent)}"})()


@pytest.fixture
def guarded(app, monkeypatch):
    """No rate limits, no broker, no name resolution beyond loopback, for the duration of a test.

    Rate limits have their own tests; here thousands of requests come from one principal. Every
    generated URL (n8n probe, webhook test) then stays on this machine.
    """
    from common import celery_client
    from web.core.ratelimits import limiter

    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.strip("[]").lower() not in LOOPBACK:
            raise socket.gaierror(socket.EAI_NONAME, f"these tests resolve loopback only, not {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    tasks = RecordedTasks()
    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    monkeypatch.setattr(celery_client, "celery_client", lambda: tasks)
    monkeypatch.setattr(limiter, "enabled", False)
    return tasks

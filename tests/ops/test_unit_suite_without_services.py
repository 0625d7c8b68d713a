"""``tests/unit`` runs anywhere: with every service address pointing at a closed port, the unit suite
still passes, so no unit test (or fixture it pulls in) reaches Redis, PostgreSQL or a broker.

The shared services stay up for the other suites; closed ports stand in for stopped ones.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

from tests.ops.conftest import ROOT

CLOSED_PORT = 1  # tcpmux: nothing listens there on a test machine
SERVICES_STOPPED = {
    "REDIS_URL": f"redis://127.0.0.1:{CLOSED_PORT}/0",
    "BROKER_URL": f"redis://127.0.0.1:{CLOSED_PORT}/0",
    "DATABASE_URL": f"postgresql+psycopg://127.0.0.1:{CLOSED_PORT}/x",
    "TEST_REDIS_URL": f"redis://127.0.0.1:{CLOSED_PORT}",
    "TEST_BROKER_URL": f"redis://127.0.0.1:{CLOSED_PORT}/0",
    "TEST_PG_ADMIN_URL": f"postgresql://127.0.0.1:{CLOSED_PORT}/x",
}


def _refuses_connections(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_unit_suite_passes_with_every_service_unreachable():
    assert _refuses_connections(CLOSED_PORT), "the stand-in for a stopped service must refuse connections"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q", "tests/unit"],
        cwd=ROOT,
        env={**os.environ, **SERVICES_STOPPED},
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    summary = completed.stdout.strip().splitlines()[-1]  # e.g. "1090 passed, 4 skipped in 95.2s"
    assert re.match(r"\d+ passed", summary) and "failed" not in summary and "error" not in summary, summary

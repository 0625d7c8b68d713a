"""Issue 19's hostile repository through a real platform scan: HTTP → Redis → scans worker
(isolated detector processes under the watchdog) → internal API → ingest → DB."""

from __future__ import annotations

import time

import pytest

from common.scanner.model import storable_text
from tests.helpers import wait_for_scan
from tests.hostile_repo import write_hostile_repo

pytestmark = pytest.mark.usefixtures("celery_worker")


def test_a_hostile_repository_completes_with_a_warning_for_each_skipped_file(client, make_user, scan_root):
    user = make_user()
    expected = write_hostile_repo(scan_root)
    started = time.monotonic()
    response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
    assert response.status_code == 202
    scan = wait_for_scan(client, user, response.json["id"], timeout=300)
    assert scan["status"] == "completed", scan
    assert time.monotonic() - started < 300
    warned = {w["file"] for w in scan["warnings"]}
    assert {f for f, what in expected.items() if what == "warning"} <= warned
    components = client.get(
        f"/api/v1/scans/{scan['id']}/components?per_page=100", headers=user.headers()
    ).json["items"]
    by_file = {location["file"]: c for c in components for location in c["locations"]}
    for relpath, what in expected.items():
        if what == "dangerous_code":
            assert "dangerous_code" in by_file[relpath]["flags"], relpath
        elif what == "finding":
            assert storable_text(relpath) in by_file, relpath
    assert "caf\\xe9_\\xff.py" in by_file  # a name that is not UTF-8, stored with visible escapes

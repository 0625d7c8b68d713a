"""Issue 19's hostile repository through a real platform scan: HTTP → Redis → scans worker
(isolated detector processes under the watchdog) → internal API → ingest → DB."""

from __future__ import annotations

import os
import time

import pytest

from common.scanner.model import storable_text
from common.scanner.worker import MEMORY_WARNING
from tests.helpers import child_pids, separate_scans_worker, wait_for_scan
from tests.hostile_repo import write_hostile_repo
from tests.unit.scanner_helpers import write_tree
from tests.unit.test_scanner_budget import BALLOONING_MANIFEST, SMALL_SCAN_MEMORY_BYTES

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


def test_a_small_tree_ballooning_a_parser_stops_at_the_memory_cap_of_a_prefork_pool_process(
    client, make_user, scan_root, celery_worker
):
    """A tree under 1,000 files is scanned in the scans worker's prefork pool process itself, with no
    isolated worker's address-space limit: a 4.5 MB manifest of empty lists grew that process by ~100 MB
    (as much as the file asked). With ``SCAN_MEMORY_BYTES`` the file is a warning, the scan completes
    with the rest of the tree, and the same pool process takes the next scan."""
    user = make_user()
    write_tree(scan_root, {"package.json": BALLOONING_MANIFEST, "app.py": "import anthropic\n"})
    memory = str(SMALL_SCAN_MEMORY_BYTES)
    with separate_scans_worker(celery_worker, f"memtest-{os.getpid()}", SCAN_MEMORY_BYTES=memory) as worker:
        [pool_process] = child_pids(worker.pid)
        scans = []
        for _ in range(2):
            response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
            assert response.status_code == 202, response.json
            scans.append(wait_for_scan(client, user, response.json["id"], timeout=120))
        assert child_pids(worker.pid) == [pool_process]
    for scan in scans:
        assert scan["status"] == "completed", scan
        assert {(w["file"], w["message"]) for w in scan["warnings"]} == {("package.json", MEMORY_WARNING)}
        components = client.get(f"/api/v1/scans/{scan['id']}/components", headers=user.headers()).json
        assert "anthropic" in {c["name"] for c in components["items"]}

"""Issue 19 on the real path: a hostile tree scanned by the platform (HTTP → queue → real worker →
internal API → ingest → DB) leaks no planted key into the API's components, the stored snippets and
details, the stored result or any export the worker renders; hostile and non-UTF-8 file names survive
the database and every export.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from common.db import session_scope
from common.exporters import FORMATS
from common.models import Component, Scan, ScanResultPayload
from tests.export_validators import check_export
from tests.helpers import all_stored_text, post_result, running_scan, wait_for_scan
from tests.hostile_content import HOSTILE_NAMES, leaked, plant_hostile_names, plant_secrets, random_text
from tests.pipeline.test_exports_pipeline import completed_scan, download, finished_export, request_export

pytestmark = pytest.mark.usefixtures("celery_worker")

API = "/api/v1"


def _leaks(text: str, keys: dict[str, str]) -> list[str]:
    return [where for where, key in keys.items() if leaked(text, key)]


def test_a_platform_scan_stores_and_exports_no_planted_key_and_every_hostile_name(
    client, make_user, scan_root
):
    user = make_user()
    keys = plant_secrets(scan_root / "keys")
    plant_hostile_names(scan_root / "names")
    scan = completed_scan(client, user, scan_root)
    total = scan["summary"]["total_components"]

    listed = client.get(f"{API}/scans/{scan['id']}/components?per_page=100", headers=user.headers()).json
    assert listed["total"] == total
    assert _leaks(json.dumps(listed), keys) == []
    by_name = {c["name"]: c for c in listed["items"]}
    for name in ("openai", "github", "Minified support bot"):
        assert "hardcoded_api_key" in by_name[name]["flags"], name
    assert set(HOSTILE_NAMES) <= set(by_name)
    files = {loc["file"] for c in listed["items"] for loc in c["locations"]}
    assert "names/model-\\xff\\xfe.env" in files and "names/4-two\nlines.env" in files

    with session_scope() as session:
        rows = session.scalars(select(Component).where(Component.scan_id == scan["id"])).all()
        stored = json.dumps([[row.name, row.locations, row.details] for row in rows])
        assert session.get(ScanResultPayload, scan["id"]) is None  # the posted result went with ingest
        warnings = json.dumps(session.get(Scan, scan["id"]).warnings)
    assert len(rows) == total
    assert _leaks(stored, keys) == [] and _leaks(warnings, keys) == []

    requested = {name: request_export(client, user, scan["id"], name) for name in FORMATS}
    for name, export in requested.items():
        finished = finished_export(client, user, export["id"])
        data = download(client, user, finished)
        check_export(name, data, components=total)
        text = data.decode("utf-8")
        assert _leaks(text, keys) == [], name
        if name not in ("csv", "html"):  # data formats keep the name; JSON and XML escape or drop ESC
            assert "\x1b" not in text, name
    markdown = download(client, user, finished_export(client, user, requested["markdown"]["id"])).decode()
    assert "\\[click\\]\\(javascript:alert\\(1\\)\\)" in markdown and "](javascript:" not in markdown
    sarif = json.loads(download(client, user, finished_export(client, user, requested["sarif"]["id"])))
    uris = {
        location["physicalLocation"]["artifactLocation"]["uri"]
        for result in sarif["runs"][0]["results"]
        for location in result.get("locations", [])
    }
    assert "names/9-%252e%252e%252f%252e%252e%252fetc%252fpasswd.env" in uris
    assert "names/4-two%0Alines.env" in uris
    assert _leaks(all_stored_text(), keys) == []  # every table, the exports' rows included


def test_ingest_masks_a_result_that_arrives_unmasked(client, make_user):
    """Whoever produced a result (an older worker, an upload), the rows stored from it are masked."""
    user = make_user()
    key, token = "sk-proj-" + random_text(60), random_text(40)
    raw = {
        "id": "3f1e0c2a-0000-4000-8000-000000000001",
        "name": "openai",
        "type": "llm_provider",
        "severity": "high",
        "risk_score": 65,
        "locations": [{"file": "app.py", "line": 3, "snippet": "o" * 190 + f' api_key="{key}"'}],
        "metadata": {"env": {"QDRANT_API_KEY": token}, "note": f"Authorization: Bearer {token}"},
    }
    scan_id = running_scan(user.org_id, "/srv/upload")
    response = post_result(
        client, scan_id, {"components": [raw], "relationships": [], "warnings": [], "files_scanned": 1}
    )
    assert response.status_code == 202, response.json
    wait_for_scan(client, user, scan_id)
    stored = client.get(f"{API}/scans/{scan_id}/components", headers=user.headers()).json["items"]
    assert len(stored) == 1 and len(stored[0]["locations"][0]["snippet"]) <= 200
    assert _leaks(json.dumps(stored), {"key": key, "token": token}) == []


def test_a_short_secret_found_in_a_scanned_config_shows_none_of_its_characters(client, make_user, scan_root):
    """A hard-coded secret is shown masked to every viewer of the scan; the mask kept a third of its length
    and at least 5 characters (``hun******22`` of ``hunter22``), so a short password was mostly shown.
    As for saved credentials (``common.security.mask_secret``), the ends are shown only when at least 16
    characters stay hidden."""
    password = "Qz7vK2pw9x"  # named PASSWORD and holding digits: a secret to the MCP detector
    config = {
        "mcpServers": {
            "db": {"command": "npx", "args": ["-y", "@x/db-mcp"], "env": {"DB_PASSWORD": password}}
        }
    }
    (scan_root / ".cursor").mkdir()
    (scan_root / ".cursor" / "mcp.json").write_text(json.dumps(config, indent=2))
    user = make_user()
    scan = completed_scan(client, user, scan_root)
    listed = client.get(f"{API}/scans/{scan['id']}/components?per_page=100", headers=user.headers()).json
    shown = json.dumps(listed)
    assert "hardcoded_api_key" in {flag for c in listed["items"] for flag in c["flags"]}
    with session_scope() as session:
        rows = session.scalars(select(Component).where(Component.scan_id == scan["id"])).all()
        stored = json.dumps([[row.name, row.locations, row.details] for row in rows])
    for text in (shown, stored):
        assert password[:3] not in text and password[-2:] not in text

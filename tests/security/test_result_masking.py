"""Secrets in a posted scan result never reach what the API shows (the internal result endpoint and
``scans.ingest``).

The attack: a scanner (or a crafted repository whose file names and parse errors the scanner repeats)
puts a credential in a scan warning, or in the name of a component the platform rejects, whose reason
becomes a warning. Snippets and metadata are masked at ingest; the warnings must be too.
"""

from __future__ import annotations

import json
import os

from common.db import session_scope
from common.models import Scan
from workers.ingest import ingest_scan

SECRET = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0"
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"


def _running_scan(org_id: str) -> str:
    with session_scope() as session:
        scan = Scan(organization_id=org_id, target="/srv/masked", status="running", stage="scanning")
        session.add(scan)
        session.flush()
        return scan.id


def _post(client, scan_id: str, result: dict):
    return client.post(
        f"/api/v1/internal/scans/{scan_id}/result",
        data=json.dumps(result).encode(),
        headers={"X-Internal-API-Key": os.environ["INTERNAL_API_KEY"], "Content-Type": "application/json"},
    )


def _component(index: int, **fields) -> dict:
    return {
        "id": f"{index:064x}",
        "name": f"model-{index}",
        "type": "model",
        "severity": "low",
        "locations": [{"file": "app.py", "line": 1, "snippet": f"key = '{SECRET}'"}],
        **fields,
    }


def test_secrets_in_warnings_and_rejected_components_are_masked(client, make_user):
    user = make_user()
    scan_id = _running_scan(user.org_id)
    result = {
        "components": [_component(1), _component(2, name=f"aws {AWS_KEY}", type="no-such-type")],
        "relationships": [],
        "warnings": [{"file": "settings.py", "message": f"could not parse: OPENAI_API_KEY={SECRET}"}],
        "files_scanned": 2,
    }
    assert _post(client, scan_id, result).status_code == 202
    ingest_scan.apply(args=(scan_id,), throw=True)

    scan = client.get(f"/api/v1/scans/{scan_id}", headers=user.headers())
    assert scan.status_code == 200 and scan.json["status"] == "completed"
    components = client.get(f"/api/v1/scans/{scan_id}/components", headers=user.headers())
    assert components.status_code == 200 and components.json["total"] == 1
    shown = scan.get_data(as_text=True) + components.get_data(as_text=True)
    assert len(scan.json["warnings"]) == 2
    assert SECRET not in shown and SECRET[:20] not in shown
    assert AWS_KEY not in shown

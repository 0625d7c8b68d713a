"""The internal result as stored and ingested: the posted bytes kept as they came (the database never
parses them), re-encoded only when they are not plain UTF-8 JSON or when components were set aside, and
an ingestion run again on the same stored result writes the same rows."""

from __future__ import annotations

import itertools
import json
import os
import uuid

import pytest
from sqlalchemy import select, text, update

from common import fastjson
from common.db import session_scope
from common.models import Component, Scan, ScanRelationship
from tests.helpers import wait_for_scan
from workers.ingest import ingest_scan, random_ids, stored_result

pytestmark = pytest.mark.usefixtures("celery_worker")

API = "/api/v1"


def _result(count: int) -> dict:
    components = [
        {
            "id": f"{index:064x}",
            "name": f"model-{index}",
            "type": "model",
            "provider": "openai",
            "severity": "medium",
            "risk_score": index,
            "flags": ["unpinned_model", "unpinned_model"],
            "locations": [
                {"file": f"src/m{index}.py", "line": index + 1, "snippet": f"model = 'gpt-{index}'"}
            ],
            "metadata": {"index": index},
        }
        for index in range(count)
    ]
    edges = [
        {"source": a["id"], "target": b["id"], "relation": "uses_model"}
        for a, b in itertools.pairwise(components)
    ]
    return {"components": components, "relationships": edges, "warnings": [], "files_scanned": count}


def _running_scan(org_id: str) -> str:
    with session_scope() as session:
        scan = Scan(organization_id=org_id, target="/srv/stored", status="running", stage="scanning")
        session.add(scan)
        session.flush()
        return scan.id


def _post(client, scan_id: str, body: bytes):
    return client.post(
        f"{API}/internal/scans/{scan_id}/result",
        data=body,
        headers={"X-Internal-API-Key": os.environ["INTERNAL_API_KEY"], "Content-Type": "application/json"},
    )


def _stored_bytes(scan_id: str) -> bytes:
    with session_scope() as session:
        return bytes(
            session.execute(
                text("SELECT payload FROM scan_results WHERE scan_id = :id"), {"id": scan_id}
            ).scalar_one()
        )


def _stored_rows(scan_id: str) -> tuple[list, list, dict]:
    """Every column of the scan's components and edges but the row ids, and the scan's summary."""
    with session_scope() as session:
        components = [
            {name: value for name, value in row._mapping.items() if name != "id"}
            for row in session.execute(
                select(Component.__table__)
                .where(Component.scan_id == scan_id)
                .order_by(Component.fingerprint)
            )
        ]
        edges = session.execute(
            select(ScanRelationship.source, ScanRelationship.target, ScanRelationship.relation)
            .where(ScanRelationship.scan_id == scan_id)
            .order_by(ScanRelationship.source)
        ).all()
        return components, edges, session.get(Scan, scan_id).summary


def test_the_posted_bytes_are_stored_as_they_came_and_ingesting_them_again_writes_the_same_rows(
    client, make_user
):
    user = make_user()
    scan_id = _running_scan(user.org_id)
    body = json.dumps(_result(30), indent=1).encode()  # any layout: what is stored is what was sent
    assert _post(client, scan_id, body).status_code == 202
    assert wait_for_scan(client, user, scan_id)["status"] == "completed"
    assert _stored_bytes(scan_id) == body
    with session_scope() as session:
        assert stored_result(session, scan_id) == json.loads(body)

    first = _stored_rows(scan_id)
    assert len(first[0]) == 30 and len(first[1]) == 29 and first[2]["total_components"] == 30
    assert first[0][0]["flags"] == ["unpinned_model"] and first[0][0]["metadata"] == {"index": 0}
    with session_scope() as session:  # a redelivered message meeting a scan not yet marked completed
        session.execute(update(Scan).where(Scan.id == scan_id).values(status="running"))
    ingest_scan.apply(args=(scan_id,), throw=True)
    assert _stored_rows(scan_id) == first


def test_a_result_with_components_set_aside_is_stored_without_them(client, make_user):
    user = make_user()
    scan_id = _running_scan(user.org_id)
    result = _result(2)
    result["components"].append({"id": "f" * 64, "name": "", "type": "model"})
    assert _post(client, scan_id, json.dumps(result).encode()).status_code == 202
    stored = fastjson.loads(_stored_bytes(scan_id))
    assert [c["name"] for c in stored["components"]] == ["model-0", "model-1"]
    assert ["rejected" in w["message"] for w in stored["warnings"]] == [True]
    assert wait_for_scan(client, user, scan_id)["summary"]["total_components"] == 2


def test_a_body_only_the_standard_library_reads_is_stored_as_utf8_json(client, make_user):
    user = make_user()
    scan_id = _running_scan(user.org_id)
    result = _result(3)
    assert _post(client, scan_id, json.dumps(result).encode("utf-16")).status_code == 202
    assert json.loads(_stored_bytes(scan_id).decode("utf-8")) == result
    assert wait_for_scan(client, user, scan_id)["summary"]["total_components"] == 3


def test_row_ids_are_distinct_version_4_uuids():
    ids = list(itertools.islice(random_ids(), 10_000))
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == value

"""The internal result as stored and ingested: the posted bytes kept as they came (the database never
parses them), re-encoded only when they are not plain UTF-8 JSON or when components were set aside, and
an ingestion run again on the same stored result writes the same rows. The API checks every component
of a result it stores and says so; ingest checks again only a result that does not say so. Components
are deleted with their organization through their scan. The stored result is deleted when ingest
completes the scan (it holds snippets unmasked): tests that read it hold the ingest back."""

from __future__ import annotations

import itertools
import json
import os
import uuid

import pytest
import requests
from sqlalchemy import func, select, text, update

from common import fastjson
from common.db import session_scope
from common.models import Component, Scan, ScanRelationship, ScanResultPayload
from common.scanner import redaction
from tests.helpers import post_result, running_scan, wait_for, wait_for_scan
from workers import ingest
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


def _with_a_nameless_component(result: dict) -> dict:
    """``result`` plus a component the platform cannot store (a blank name) and an edge to it."""
    nameless = {"id": "e" * 64, "name": "  ", "type": "model", "locations": [{"file": "src/x.py", "line": 1}]}
    edge = {"source": result["components"][0]["id"], "target": nameless["id"], "relation": "uses_model"}
    return {
        **result,
        "components": [*result["components"], nameless],
        "relationships": [*result["relationships"], edge],
    }


def _ingested(scan_id: str) -> str:
    ingest_scan.apply(args=(scan_id,), throw=True)
    with session_scope() as session:
        assert session.get(ScanResultPayload, scan_id) is None
    return _status(scan_id)


def _status(scan_id: str) -> str:
    with session_scope() as session:
        return session.get(Scan, scan_id).status


def _warning_messages(scan_id: str) -> list[str]:
    with session_scope() as session:
        return [warning["message"] for warning in session.get(Scan, scan_id).warnings]


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
    client, make_user, held_ingest
):
    user = make_user()
    scan_id = running_scan(user.org_id)
    body = json.dumps(_result(30), indent=1).encode()  # any layout: what is stored is what was sent
    assert post_result(client, scan_id, body).status_code == 202
    assert held_ingest == [scan_id] and _stored_bytes(scan_id) == body
    with session_scope() as session:
        assert stored_result(session, scan_id) == (json.loads(body), True)  # checked by the API
    assert _ingested(scan_id) == "completed"

    first = _stored_rows(scan_id)
    assert len(first[0]) == 30 and len(first[1]) == 29 and first[2]["total_components"] == 30
    assert first[0][0]["flags"] == ["unpinned_model"] and first[0][0]["metadata"] == {"index": 0}
    ingest_scan.apply(args=(scan_id,), throw=True)  # a redelivered message: the scan is completed
    assert _stored_rows(scan_id) == first and _status(scan_id) == "completed"
    with session_scope() as session:  # the same result ingested into a scan whose rows are already written
        session.execute(update(Scan).where(Scan.id == scan_id).values(status="running"))
        session.add(ScanResultPayload(scan_id=scan_id, payload=body, components_checked=True))
    assert _ingested(scan_id) == "completed"
    assert _stored_rows(scan_id) == first


def test_a_result_with_components_set_aside_is_stored_without_them(client, make_user, held_ingest):
    user = make_user()
    scan_id = running_scan(user.org_id)
    result = _result(2)
    result["components"].append({"id": "f" * 64, "name": "", "type": "model"})
    assert post_result(client, scan_id, result).status_code == 202
    stored = fastjson.loads(_stored_bytes(scan_id))
    assert [c["name"] for c in stored["components"]] == ["model-0", "model-1"]
    assert ["rejected" in w["message"] for w in stored["warnings"]] == [True]
    assert _ingested(scan_id) == "completed"
    assert len(_stored_rows(scan_id)[0]) == 2


def test_a_body_only_the_standard_library_reads_is_stored_as_utf8_json(client, make_user, held_ingest):
    user = make_user()
    scan_id = running_scan(user.org_id)
    result = _result(3)
    assert post_result(client, scan_id, json.dumps(result).encode("utf-16")).status_code == 202
    assert json.loads(_stored_bytes(scan_id).decode("utf-8")) == result
    assert _ingested(scan_id) == "completed"
    assert len(_stored_rows(scan_id)[0]) == 3


def test_row_ids_are_distinct_version_4_uuids():
    ids = list(itertools.islice(random_ids(), 10_000))
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == value


def test_a_posted_edge_to_a_component_set_aside_is_dropped_with_a_warning(client, make_user):
    user = make_user()
    scan_id = running_scan(user.org_id)
    assert post_result(client, scan_id, _with_a_nameless_component(_result(2))).status_code == 202
    assert wait_for_scan(client, user, scan_id)["status"] == "completed"
    components, edges, _summary = _stored_rows(scan_id)
    assert [c["name"] for c in components] == ["model-0", "model-1"] and len(edges) == 1
    messages = _warning_messages(scan_id)
    assert any("rejected: 'name' must be a non-empty string" in m for m in messages)
    assert "1 relationship(s) dropped: they name a component set aside" in messages


def test_an_uploaded_cli_result_is_stored_as_sent_and_checked_at_ingest(client, make_user, held_ingest):
    """The schema of a CLI result accepts a blank name. The API stores the upload's body as it came (its
    schema and conversion are the worker's, ``common.bom.upload``); ingest validates it, then sets that
    component aside as it does for a posted result."""
    user = make_user()
    upload = _with_a_nameless_component(_result(2))
    body = json.dumps(upload).encode()
    response = client.post(
        "/api/v1/scans/import", data=body, content_type="application/json", headers=user.headers()
    )
    assert response.status_code == 202, response.json
    scan_id = response.json["id"]
    assert held_ingest == [scan_id]
    with session_scope() as session:
        stored = stored_result(session, scan_id)
    assert not stored.components_checked and _stored_bytes(scan_id) == body
    assert _ingested(scan_id) == "completed"
    assert [c["name"] for c in _stored_rows(scan_id)[0]] == ["model-0", "model-1"]
    assert len(_stored_rows(scan_id)[1]) == 1
    assert "1 relationship(s) dropped: they name a component set aside" in _warning_messages(scan_id)


def test_a_result_stored_unchecked_is_checked_at_ingest(make_user):
    """A result written without the API's check (before migration 0015, or by any other writer): ingest sets
    its bad components aside, drops the edges to them with a warning, and stores the rest."""
    user = make_user()
    scan_id = running_scan(user.org_id)
    with session_scope() as session:
        session.add(ScanResultPayload(scan_id=scan_id, payload=_with_a_nameless_component(_result(2))))
    ingest_scan.apply(args=(scan_id,), throw=True)
    components, edges, summary = _stored_rows(scan_id)
    assert [c["name"] for c in components] == ["model-0", "model-1"] and len(edges) == 1
    assert summary["total_components"] == 2
    messages = _warning_messages(scan_id)
    assert any("rejected: 'name' must be a non-empty string" in m for m in messages)
    assert "1 relationship(s) dropped: they name a component set aside" in messages


def test_a_checked_result_is_stored_without_checking_its_components_again(make_user, monkeypatch):
    user = make_user()
    scan_id = running_scan(user.org_id)
    with session_scope() as session:
        session.add(ScanResultPayload(scan_id=scan_id, payload=_result(3), components_checked=True))

    def checked_again(payload):
        raise AssertionError("a checked result was checked again")

    monkeypatch.setattr(ingest, "keep_storable_components", checked_again)
    ingest_scan.apply(args=(scan_id,), throw=True)
    assert len(_stored_rows(scan_id)[0]) == 3


def test_deleting_an_organization_deletes_its_components_through_its_scans(client, make_user):
    """``components.organization_id`` has no foreign key of its own (migration 0015): the scan's cascade
    deletes them, and another organization's components stay."""
    admin, neighbour = make_user(), make_user()
    team = client.post(
        "/api/v1/organizations",
        json={"name": "Doomed", "slug": f"doomed-{uuid.uuid4().hex[:8]}"},
        headers=admin.headers(),
    )
    assert team.status_code == 201, team.json
    team_id = team.json["id"]
    doomed, kept = running_scan(team_id), running_scan(neighbour.org_id)
    for scan_id in (doomed, kept):
        assert post_result(client, scan_id, _result(5)).status_code == 202
    for scan_id in (doomed, kept):
        wait_for(lambda scan_id=scan_id: _status(scan_id) == "completed", timeout=60)

    def components_of(column, value) -> int:
        with session_scope() as session:
            return session.scalar(select(func.count()).select_from(Component).where(column == value))

    assert components_of(Component.organization_id, team_id) == 5
    assert client.delete(f"{API}/organizations/{team_id}", headers=admin.headers()).status_code == 204
    assert components_of(Component.organization_id, team_id) == 0
    assert components_of(Component.scan_id, doomed) == 0
    with session_scope() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(ScanRelationship).where(ScanRelationship.scan_id == doomed)
            )
            == 0
        )
    assert components_of(Component.organization_id, neighbour.org_id) == 5


def test_the_ingest_warm_up_compiles_every_masking_rule_and_stores_nothing(make_user):
    with session_scope() as session:
        before = session.scalar(select(func.count()).select_from(Component))
    redaction._compiled.cache_clear()
    ingest.warm_up()
    assert redaction._compiled.cache_info().currsize == len({rule[2] for rule in redaction._known_formats()})
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Component)) == before
        assert session.get(Scan, ingest.NO_SCAN) is None


def test_a_malformed_edge_is_refused_with_its_path_and_nothing_is_stored(client, make_user):
    """An edge the worker cannot store (an end missing, not a string, a relation longer than its column,
    not an object) used to reach ingest and fail it with a ``KeyError``: the API refuses it instead."""
    user = make_user()
    scan_id = running_scan(user.org_id)
    result = _result(2)
    first, second = (c["id"] for c in result["components"])
    result["relationships"] += [
        {"source": first, "relation": "uses_model"},
        {"source": first, "target": 7, "relation": "uses_model"},
        {"source": first, "target": second, "relation": "x" * 51},
        ["not", "an", "edge"],
    ]
    response = post_result(client, scan_id, result)
    assert response.status_code == 422, response.json
    assert set(response.json["errors"]) == {
        "relationships.1.target",
        "relationships.2.target",
        "relationships.3.relation",
        "relationships.4",
    }
    assert _status(scan_id) == "running"
    with session_scope() as session:
        assert session.get(ScanResultPayload, scan_id) is None


def test_an_edge_to_no_component_of_the_result_is_dropped_with_a_warning(client, make_user, held_ingest):
    """An edge naming an id the result does not hold would dangle in the graph; one from a file
    (``file:<path>``, as the scanner writes them) names no component and stays."""
    user = make_user()
    scan_id = running_scan(user.org_id)
    result = _result(2)
    first = result["components"][0]["id"]
    result["relationships"] += [
        {"source": first, "target": "9" * 64, "relation": "uses_model"},
        {"source": "nowhere", "target": first, "relation": "uses_model"},
        {"source": "file:src/m0.py", "target": first, "relation": "contains"},
    ]
    assert post_result(client, scan_id, result).status_code == 202
    assert _ingested(scan_id) == "completed"
    _components, edges, _summary = _stored_rows(scan_id)
    assert sorted(edge.source for edge in edges) == [first, "file:src/m0.py"]
    assert "2 relationship(s) dropped: they name no component of the result" in _warning_messages(scan_id)


def test_a_stored_result_with_a_malformed_edge_is_ingested_without_it(make_user):
    """A result stored before the API checked edges: ingest drops the malformed edge with a warning rather
    than failing the scan."""
    user = make_user()
    scan_id = running_scan(user.org_id)
    result = _result(2)
    result["relationships"] += [
        {"source": result["components"][0]["id"], "relation": "uses_model"},
        {"source": ["unhashable"], "target": "file:x.py", "relation": "uses_model"},
        "not an edge",
    ]
    with session_scope() as session:
        session.add(ScanResultPayload(scan_id=scan_id, payload=result))
    assert _ingested(scan_id) == "completed"
    assert len(_stored_rows(scan_id)[1]) == 1
    assert "3 relationship(s) dropped: they are malformed" in _warning_messages(scan_id)


def test_a_held_ingest_holds_the_tests_own_results_only(client, make_user, live_server, held_ingest):
    """The session's worker may still post an earlier test's result while a test holds its ingests: that
    one goes to ``live_server`` from a thread of its own, and its scan is ingested as usual, neither held
    (lost) nor listed as the test's."""
    user = make_user()
    theirs, ours = running_scan(user.org_id), running_scan(user.org_id)
    from_the_worker = requests.post(
        f"{live_server}{API}/internal/scans/{theirs}/result",
        data=json.dumps(_result(1)).encode(),
        headers={"X-Internal-API-Key": os.environ["INTERNAL_API_KEY"], "Content-Type": "application/json"},
        timeout=30,
    )
    assert from_the_worker.status_code == 202, from_the_worker.text
    assert post_result(client, ours, _result(1)).status_code == 202
    assert held_ingest == [ours]
    assert wait_for_scan(client, user, theirs)["status"] == "completed"

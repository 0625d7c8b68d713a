"""Secrets in a posted scan result never reach what the API shows (the internal result endpoint and
``scans.ingest``).

The attack: a scanner (or a crafted repository whose file names and parse errors the scanner repeats)
puts a credential in a scan warning, or in the name of a component the platform rejects, whose reason
becomes a warning. Snippets and metadata are masked at ingest; the warnings must be too. And a
result read one way by validation and another by ingest (``NaN``, integers beyond 64 bits) must not
store what validation would have refused.
"""

from __future__ import annotations

import json
import secrets
import string

from sqlalchemy import text

from common.db import session_scope
from common.models import Component, Scan
from tests.helpers import all_stored_text, post_result, running_scan
from workers.ingest import ingest_scan

SECRET = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0"
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"


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
    scan_id = running_scan(user.org_id)
    result = {
        "components": [_component(1), _component(2, name=f"aws {AWS_KEY}", type="no-such-type")],
        "relationships": [],
        "warnings": [{"file": "settings.py", "message": f"could not parse: OPENAI_API_KEY={SECRET}"}],
        "files_scanned": 2,
    }
    assert post_result(client, scan_id, result).status_code == 202
    ingest_scan.apply(args=(scan_id,), throw=True)

    scan = client.get(f"/api/v1/scans/{scan_id}", headers=user.headers())
    assert scan.status_code == 200 and scan.json["status"] == "completed"
    components = client.get(f"/api/v1/scans/{scan_id}/components", headers=user.headers())
    assert components.status_code == 200 and components.json["total"] == 1
    shown = scan.get_data(as_text=True) + components.get_data(as_text=True)
    assert len(scan.json["warnings"]) == 2
    assert SECRET not in shown and SECRET[:20] not in shown
    assert AWS_KEY not in shown


def test_a_component_validation_accepted_is_stored_as_validated(client, make_user):
    """A body orjson refuses (``NaN``) is read by the standard library and stored re-encoded; with an
    integer beyond 64 bits the re-encoding falls back to the standard library too, and keeps ``NaN``.
    What validation accepted must then be what ingest stores: no non-finite confidence in a component
    (``NaN`` is not JSON: API clients could not read the component)."""
    user = make_user()
    scan_id = running_scan(user.org_id)
    components = [
        _component(1, confidence=float("nan"), metadata={"size": 2**70}),
        _component(2, confidence=float("inf")),
        _component(4, confidence=10**400),
        _component(3, confidence=0.5, metadata={"size": 2**70}),
    ]
    response = post_result(
        client, scan_id, {"components": components, "relationships": [], "files_scanned": 3}
    )
    assert response.status_code == 202, response.json
    ingest_scan.apply(args=(scan_id,), throw=True)

    listed = client.get(f"/api/v1/scans/{scan_id}/components", headers=user.headers())
    assert listed.status_code == 200
    json.loads(listed.get_data(as_text=True), parse_constant=_refuse_constant)
    assert [c["confidence"] for c in listed.json["items"]] == [0.5]
    scan = client.get(f"/api/v1/scans/{scan_id}", headers=user.headers()).json
    assert scan["status"] == "completed" and scan["summary"]["total_components"] == 1
    assert sum("confidence" in warning["message"] for warning in scan["warnings"]) == 3


def _found_key_result(key: str) -> dict:
    """A result whose component holds ``key`` in its snippet and metadata, as a scan reports a hard-coded
    key, and a warning quoting it."""
    return {
        "components": [
            {
                "id": "a" * 64,
                "name": "openai",
                "type": "llm_provider",
                "locations": [{"file": "app.py", "line": 3, "snippet": f'client = OpenAI(api_key="{key}")'}],
                "flags": ["hardcoded_api_key"],
                "metadata": {"api_key": key},
            }
        ],
        "relationships": [],
        "warnings": [{"file": "app.py", "message": f"could not parse {key}"}],
        "files_scanned": 1,
        "tool": {"name": "trusera", "version": "test"},
    }


def test_no_table_keeps_a_found_key_once_its_scan_is_ingested(client, make_user, held_ingest):
    """The posted result is kept only until ingest completed the scan: the key it holds unmasked must be
    nowhere in the database afterwards, for a scanner's result and an uploaded one alike. A redelivered
    ingest then changes nothing."""
    user = make_user()
    key = "sk-proj-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
    posted = running_scan(user.org_id)
    result = _found_key_result(key)
    assert post_result(client, posted, {k: v for k, v in result.items() if k != "tool"}).status_code == 202
    uploaded = client.post("/api/v1/scans/import", json=result, headers=user.headers())
    assert uploaded.status_code == 202, uploaded.json
    scan_ids = [posted, uploaded.json["id"]]
    assert (
        held_ingest == scan_ids and key in all_stored_text()
    )  # the attack's premise: the raw results sit in scan_results

    for scan_id in scan_ids:
        ingest_scan.apply(args=(scan_id,), throw=True)
    assert key not in all_stored_text()

    def state(scan_id):
        with session_scope() as session:
            scan = session.get(Scan, scan_id)
            count = session.query(Component).filter_by(scan_id=scan_id).count()
            return scan.status, scan.summary, scan.warnings, count

    before = [state(scan_id) for scan_id in scan_ids]
    assert [b[0] for b in before] == ["completed", "completed"] and [b[3] for b in before] == [1, 1]
    for scan_id in scan_ids:
        ingest_scan.apply(args=(scan_id,), throw=True)
    assert [state(scan_id) for scan_id in scan_ids] == before
    with session_scope() as session:
        kept = session.execute(
            text("SELECT count(*) FROM scan_results WHERE scan_id IN (:a, :b)"),
            dict(zip("ab", scan_ids, strict=True)),
        )
        assert kept.scalar_one() == 0


def test_a_scan_that_fails_after_its_result_was_posted_keeps_no_found_key(client, make_user, held_ingest):
    """Ingest may never complete a scan: a task's failure, or the reconciler giving up on a worker that
    vanished. The posted result goes with either ending as with a completion."""
    from datetime import timedelta

    from sqlalchemy import update

    from common import jobs
    from common.models.base import utcnow
    from workers.base import PlatformTask
    from workers.maintenance import reconcile_jobs

    user = make_user()
    key = "sk-proj-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
    result = {k: v for k, v in _found_key_result(key).items() if k != "tool"}
    failed, vanished = running_scan(user.org_id), running_scan(user.org_id)
    for scan_id in (failed, vanished):
        assert post_result(client, scan_id, result).status_code == 202
    assert key in all_stored_text()

    PlatformTask.mark_failed(Scan, failed, "ingest failed")
    long_ago = utcnow() - timedelta(days=1)
    with session_scope() as session:
        session.execute(
            update(Scan).where(Scan.id == vanished).values(heartbeat_at=long_ago, attempts=jobs.MAX_ATTEMPTS)
        )
    reconcile_jobs.apply()
    with session_scope() as session:
        assert [session.get(Scan, i).status for i in (failed, vanished)] == ["failed", "failed"]
    assert key not in all_stored_text()


def _refuse_constant(name: str):
    raise AssertionError(f"{name} in an API answer is not JSON")


def test_a_files_scanned_count_the_database_cannot_hold_is_refused(client, make_user, held_ingest):
    """``files_scanned`` goes to an ``integer`` column at ingest: a count past it (or negative, or a
    boolean) must be refused, by the API for a posted result and by the upload's schema in the worker,
    not fail the insert and leave the scan running."""
    user = make_user()
    scan_id = running_scan(user.org_id)
    for count in (2**31, -1, True, 2**70):
        response = post_result(
            client, scan_id, {"components": [], "relationships": [], "files_scanned": count}
        )
        assert response.status_code == 422 and "files_scanned" in response.json["errors"], (
            count,
            response.json,
        )
    upload = {"components": [], "files_scanned": 2**31, "tool": {"name": "trusera", "version": "test"}}
    response = client.post("/api/v1/scans/import", json=upload, headers=user.headers())
    assert response.status_code == 202, response.json
    ingest_scan.apply(args=(response.json["id"],), throw=True)
    scan = client.get(f"/api/v1/scans/{response.json['id']}", headers=user.headers()).json
    assert scan["status"] == "failed" and "files_scanned: must be at most" in scan["error"], scan


def test_text_the_database_cannot_hold_is_escaped_instead_of_failing_ingest(client, make_user, held_ingest):
    """NUL (a line of a scanned file can hold one) fits no PostgreSQL text or ``jsonb`` value, and a lone
    surrogate escape is not UTF-8: either anywhere in a result used to fail its ingest and leave the scan
    running. Posted or uploaded, such text is stored escaped (``\\x00``, ``\\xed\\xa0\\x80``)."""
    user = make_user()
    component = {
        "id": "a" * 64,
        "name": "model\u0000name",
        "type": "model",
        "locations": [{"file": "app\u0000.py", "line": 1, "snippet": "key\u0000"}],
        "metadata": {"k\u0000": "v\ud800"},
    }
    result = {
        "components": [component, {**component, "id": "b" * 64, "name": "other\ud800"}],
        "relationships": [{"source": "file:app\u0000.py", "target": "a" * 64, "relation": "contains"}],
        "warnings": [{"file": "f", "message": "m\u0000"}],
        "files_scanned": 1,
    }
    posted = running_scan(user.org_id)
    assert post_result(client, posted, result).status_code == 202
    upload = client.post(
        "/api/v1/scans/import", json={**result, "tool": {"name": "t"}}, headers=user.headers()
    )
    assert upload.status_code == 202, upload.json
    for scan_id in (posted, upload.json["id"]):
        ingest_scan.apply(args=(scan_id,), throw=True)
        assert client.get(f"/api/v1/scans/{scan_id}", headers=user.headers()).json["status"] == "completed"
        listed = client.get(f"/api/v1/scans/{scan_id}/components", headers=user.headers()).json["items"]
        assert sorted(c["name"] for c in listed) == ["model\\x00name", "other\\xed\\xa0\\x80"]
        graph = client.get(f"/api/v1/scans/{scan_id}/graph", headers=user.headers())
        assert graph.status_code == 200
        assert [edge["source"] for edge in graph.json["edges"]] == ["file:app\\x00.py"]


def _nested(depth: int) -> dict:
    value: object = "x"
    for _ in range(depth):
        value = {"k": value}
    return value


def test_a_component_or_warning_nested_too_deep_for_ingest_is_set_aside(client, make_user, held_ingest):
    """Ingest masks every value recursively: metadata nested 500 levels deep used to exhaust Python's
    recursion limit there and leave the scan running. Such a component is set aside with its reason, and
    such a warning dropped with a note; the rest is stored."""
    user = make_user()
    scan_id = running_scan(user.org_id)
    result = {
        "components": [_component(1), _component(2, metadata=_nested(500))],
        "relationships": [{"source": f"{1:064x}", "target": f"{2:064x}", "relation": "uses_model"}],
        "warnings": [_nested(500), {"file": "a.py", "message": "kept"}],
        "files_scanned": 2,
    }
    assert post_result(client, scan_id, result).status_code == 202
    ingest_scan.apply(args=(scan_id,), throw=True)
    scan = client.get(f"/api/v1/scans/{scan_id}", headers=user.headers()).json
    assert scan["status"] == "completed" and scan["summary"]["total_components"] == 1
    messages = [warning["message"] for warning in scan["warnings"]]
    assert "a warning nested deeper than 252 levels was dropped" in messages and "kept" in messages
    assert any("rejected: nested deeper than 252 levels" in message for message in messages)
    assert "1 relationship(s) dropped: they name a component set aside" in messages

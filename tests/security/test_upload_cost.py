"""An uploaded BOM's cost to the API: the schema pass costs microseconds per JSON value (a minute of CPU for
an upload at ``IMPORT_MAX_CONTENT_LENGTH``), so it runs in the ingest worker under its soft time limit, and
the API only parses the body and reads its top level (docs/security.md, "Uploaded BOMs")."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import func, select, update

from bench.bench_exports import big_bundle
from common.bom import importer
from common.config import get_settings
from common.db import session_scope
from common.exporters import render
from common.models import Scan, ScanResultPayload
from common.models.base import utcnow
from workers import ingest
from workers.base import TIME_LIMIT_ERROR
from workers.ingest import UNREADABLE_UPLOAD_ERROR, ingest_scan

IMPORT = "/api/v1/scans/import"


def _cheap_values_bom(properties: int) -> str:
    """One component of many properties: the plainest values the schema still visits one by one."""
    component = {
        "type": "library",
        "name": "openai",
        "purl": "pkg:pypi/openai@1.30.0",
        "properties": [{"name": f"p{i}", "value": "v"} for i in range(properties)],
    }
    return json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [component]}
    )


def _refuse_to_validate():
    raise AssertionError("the schema ran in the API")


def test_the_api_stores_an_upload_without_running_its_schema(client, make_user, held_ingest, monkeypatch):
    monkeypatch.setattr(importer, "_cyclonedx_validator", _refuse_to_validate)
    monkeypatch.setattr(importer, "_result_validator", _refuse_to_validate)
    user = make_user()
    body = _cheap_values_bom(20_000)
    response = client.post(IMPORT, data=body, content_type="application/json", headers=user.headers())
    assert response.status_code == 202, response.json
    assert held_ingest == [response.json["id"]]
    with session_scope() as session:
        assert session.get(ScanResultPayload, response.json["id"]).payload == json.loads(body)


def test_an_upload_of_more_json_values_than_allowed_is_a_413_storing_nothing(client, make_user, held_ingest):
    """``[[],[],…]`` decodes to ~50 bytes per 3 of body: 25 MiB of it held 1.2 GB of the ingest worker.
    Refused from its bytes at the default limit, before anything decodes or is stored."""
    user = make_user()
    empties = get_settings().import_max_values // 2 + 1
    body = b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "x": [' + b"[]," * empties + b"[]]}"
    response = client.post(IMPORT, data=body, content_type="application/json", headers=user.headers())
    assert response.status_code == 413
    assert "IMPORT_MAX_VALUES" in response.json["message"]
    assert held_ingest == []
    with session_scope() as session:
        organization_scans = select(func.count()).where(Scan.organization_id == user.org_id)
        assert session.scalar(organization_scans) == 0


def test_our_own_export_of_20000_components_is_accepted(client, make_user, held_ingest):
    """The platform's CycloneDX export of 20,000 components (16 MiB, ~846,000 values counted) passes the
    default value limit with margin."""
    user = make_user()
    body = render("cyclonedx", big_bundle(20_000))
    response = client.post(IMPORT, data=body, content_type="application/json", headers=user.headers())
    assert response.status_code == 202, response.json
    assert held_ingest == [response.json["id"]]


def test_an_upload_past_the_workers_time_limit_fails_its_scan(client, make_user, held_ingest, monkeypatch):
    """The soft time limit reached in the schema pass ends the scan failed, its stored body gone, instead of
    leaving it running until the hard limit kills the worker process and the reconciler re-sends it."""
    user = make_user()
    response = client.post(
        IMPORT, data=_cheap_values_bom(10), content_type="application/json", headers=user.headers()
    )
    assert response.status_code == 202, response.json

    def out_of_time(_document):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(importer, "import_document", out_of_time)
    ingest_scan.apply(args=(response.json["id"],), throw=True)
    with session_scope() as session:
        scan = session.get(Scan, response.json["id"])
        assert (scan.status, scan.error) == ("failed", TIME_LIMIT_ERROR)
        assert session.get(ScanResultPayload, scan.id) is None


def test_an_upload_past_its_cpu_time_fails_its_scan(client, make_user, held_ingest, monkeypatch):
    """The budget is the upload's own CPU time: a conversion that keeps computing past it ends the scan
    failed (before, only wall time counted: this upload completed)."""
    user = make_user()
    response = client.post(
        IMPORT, data=_cheap_values_bom(10), content_type="application/json", headers=user.headers()
    )
    assert response.status_code == 202, response.json
    convert = importer.import_document

    def computing(document):
        started = time.process_time()
        while time.process_time() - started < 1.0:
            pass
        return convert(document)

    monkeypatch.setattr(ingest, "INGEST_CPU_SECONDS", 0.3, raising=False)
    monkeypatch.setattr(importer, "import_document", computing)
    ingest_scan.apply(args=(response.json["id"],), throw=True)
    with session_scope() as session:
        scan = session.get(Scan, response.json["id"])
        assert (scan.status, scan.error) == ("failed", TIME_LIMIT_ERROR)


def test_an_upload_kept_off_the_cpu_past_its_budget_completes(client, make_user, held_ingest, monkeypatch):
    """Time spent waiting (for a CPU other tenants' work keeps busy, here a sleep) is not the upload's
    cost: it completes past its CPU budget in wall time."""
    user = make_user()
    response = client.post(
        IMPORT, data=_cheap_values_bom(10), content_type="application/json", headers=user.headers()
    )
    convert = importer.import_document

    def kept_waiting(document):
        time.sleep(0.5)
        return convert(document)

    monkeypatch.setattr(ingest, "INGEST_CPU_SECONDS", 0.3, raising=False)
    monkeypatch.setattr(importer, "import_document", kept_waiting)
    ingest_scan.apply(args=(response.json["id"],), throw=True)
    with session_scope() as session:
        assert session.get(Scan, response.json["id"]).status == "completed"


def test_ingesting_an_upload_twice_leaves_one_result(client, make_user, held_ingest):
    user = make_user()
    response = client.post(
        IMPORT, data=_cheap_values_bom(10), content_type="application/json", headers=user.headers()
    )
    scan_id = response.json["id"]
    states = []
    for _ in range(2):
        ingest_scan.apply(args=(scan_id,), throw=True)
        components = client.get(f"/api/v1/scans/{scan_id}/components", headers=user.headers()).json
        scan = client.get(f"/api/v1/scans/{scan_id}", headers=user.headers()).json
        states.append((scan["status"], scan["finished_at"], [c["id"] for c in components["items"]]))
    assert states[0][0] == "completed" and len(states[0][2]) == 1
    assert states[1] == states[0]


def test_an_upload_validates_with_a_fresh_heartbeat(client, make_user, held_ingest, monkeypatch):
    """The reconciler fails a running scan silent for ``SCAN_STALE_MINUTES``: an upload that waited on a
    backlog is marked alive when its validation starts, so the reconciler does not take a long schema pass
    for a vanished worker."""
    user = make_user()
    response = client.post(
        IMPORT, data=_cheap_values_bom(10), content_type="application/json", headers=user.headers()
    )
    scan_id = response.json["id"]
    long_ago = utcnow() - timedelta(hours=1)
    with session_scope() as session:
        session.execute(update(Scan).where(Scan.id == scan_id).values(heartbeat_at=long_ago))
    heartbeats = []
    validate = importer.import_document

    def validate_noting_the_heartbeat(document):
        with session_scope() as session:
            heartbeats.append(session.get(Scan, scan_id).heartbeat_at)
        return validate(document)

    monkeypatch.setattr(importer, "import_document", validate_noting_the_heartbeat)
    ingest_scan.apply(args=(scan_id,), throw=True)
    assert heartbeats[0] > long_ago + timedelta(minutes=59)
    assert client.get(f"/api/v1/scans/{scan_id}", headers=user.headers()).json["status"] == "completed"


SECRET_DIGITS = "sk-proj-Q7fZ2kLm9XwR4tVb8NcJ²"


def _exported_model_bom(**properties: str) -> str:
    """A BOM as this platform exports it (its ``trusera:`` properties say what the engine knew), with
    ``properties`` besides the component's type."""
    props = [{"name": "trusera:type", "value": "model"}] + [
        {"name": f"trusera:{name}", "value": value} for name, value in properties.items()
    ]
    component = {"type": "library", "name": "gpt-4o", "bom-ref": "m", "properties": props}
    return json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [component]}
    )


def test_an_exported_number_int_refuses_is_read_as_zero_and_the_upload_completes(
    client, make_user, held_ingest
):
    """A property the schema lets through (any string) that ``int()`` refuses after ``isdigit()`` said yes
    (a superscript digit, a doubled minus) raised ``ValueError`` out of the ingest task: the scan stayed
    running at stage ``validating`` until the reconciler re-sent it, to fail the same way each attempt."""
    user = make_user()
    for properties in ({"risk_score": SECRET_DIGITS[-1]}, {"risk_factor": f"{SECRET_DIGITS}:--5: r"}):
        response = client.post(
            IMPORT,
            data=_exported_model_bom(**properties),
            content_type="application/json",
            headers=user.headers(),
        )
        assert response.status_code == 202, response.json
        ingest_scan.apply(args=(response.json["id"],), throw=True)
        scan = client.get(f"/api/v1/scans/{response.json['id']}", headers=user.headers()).json
        assert scan["status"] == "completed", scan


def test_an_upload_whose_conversion_fails_ends_its_scan_failed_quoting_nothing(
    client, make_user, held_ingest, monkeypatch
):
    """Whatever else the conversion of a hostile document raises ends its scan failed at once, with an
    error that quotes no uploaded value (an exception's text may: ``int()``'s quotes its argument)."""
    user = make_user()
    response = client.post(
        IMPORT, data=_exported_model_bom(), content_type="application/json", headers=user.headers()
    )
    assert response.status_code == 202, response.json

    def conversion_bug(_document):
        int(SECRET_DIGITS)

    monkeypatch.setattr(importer, "import_document", conversion_bug)
    ingest_scan.apply(args=(response.json["id"],), throw=True)
    with session_scope() as session:
        scan = session.get(Scan, response.json["id"])
        assert scan.status == "failed" and SECRET_DIGITS not in scan.error, scan.error
        assert session.get(ScanResultPayload, scan.id) is None


def test_an_upload_the_worker_cannot_decode_fails_its_scan(client, make_user, held_ingest):
    """The API checks the body's syntax without building its values; what only building them refuses (a
    string of invalid UTF-8, an integer past Python's 4,300 digits) fails the scan in the worker instead of
    escaping its task and leaving the scan running."""
    user = make_user()
    top = b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": '
    for components in (b'[{"type": "library", "name": "\xff"}]', b"[" + b"9" * 5000 + b"]"):
        response = client.post(
            IMPORT, data=top + components + b"}", content_type="application/json", headers=user.headers()
        )
        assert response.status_code == 202, response.json
        ingest_scan.apply(args=(response.json["id"],), throw=True)
        with session_scope() as session:
            scan = session.get(Scan, response.json["id"])
            assert (scan.status, scan.error) == ("failed", UNREADABLE_UPLOAD_ERROR)
            assert session.get(ScanResultPayload, scan.id) is None

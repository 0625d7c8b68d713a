"""Deleting an organization while a worker writes for one of its scans (its completion or failure, a
follow-up of the completion): the deletion locks the organization's row, then its scans; a worker
transaction that locked the scan first and then wrote a row referencing the organization (a result, a
run, a webhook event) deadlocked with it, and the deletion was answered 503.
Each worker transaction is paused after its first locks until the deletion waits for a lock, then let
go: the deletion must wait for it (or it for the deletion), never both."""

from __future__ import annotations

import logging
import threading
import uuid

import pytest
from sqlalchemy import func, select, text

from common import jobs
from common.db import session_scope
from common.models import Organization, Scan, ScanResultPayload
from common.models.compliance import EvaluationRun
from common.models.webhooks import Webhook
from tests.helpers import running_scan, wait_for
from workers import compliance, ingest
from workers.base import Job, settle

API = "/api/v1"
PAUSE_SECONDS = 5
NOTHING_EVALUATED = {"frameworks": [], "custom_rules": []}
EMPTY_RESULT = {"components": [], "relationships": [], "warnings": [], "files_scanned": 0}


def _team_with_running_scan(client, admin) -> tuple[str, str]:
    team = client.post(
        f"{API}/organizations",
        json={"name": "Doomed", "slug": f"doomed-{uuid.uuid4().hex[:8]}"},
        headers=admin.headers(),
    )
    assert team.status_code == 201, team.json
    return team.json["id"], running_scan(team.json["id"])


def _complete(scan_id: str) -> None:
    with session_scope() as session:
        jobs.complete(session.get(Scan, scan_id), summary={})


def _add_webhook(organization_id: str, event_type: str) -> None:
    with session_scope() as session:
        session.add(
            Webhook(
                organization_id=organization_id,
                url="https://hooks.example/scans",
                events=[event_type],
                secret_encrypted="unused",
            )
        )


def _paused_once(function, reached: threading.Event, resume: threading.Event):
    """``function``, whose first call signals ``reached`` and waits for ``resume`` first."""

    def paused(*args, **kwargs):
        if not reached.is_set():
            reached.set()
            assert resume.wait(PAUSE_SECONDS)
        return function(*args, **kwargs)

    return paused


def _the_deletion_waits_for_a_lock() -> bool:
    with session_scope() as session:
        waiting = (
            select(func.count())
            .select_from(text("pg_stat_activity"))
            .where(
                text("datname = current_database() AND wait_event_type = 'Lock'"),
                text("query LIKE 'DELETE FROM organizations%'"),
            )
        )
        return session.scalar(waiting) > 0


def _in_thread(target) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = target()
        except BaseException as exc:  # reported by the test, not lost in the thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _store_paused_with_the_scan_locked(monkeypatch, scan_id, organization_id, reached, resume):
    """The evaluation's results stored: paused once it holds the scan, before it writes them."""
    _complete(scan_id)
    run_id, _ = compliance._start_automatic_run(scan_id)
    monkeypatch.setattr(compliance, "_live", _paused_once(compliance._live, reached, resume))
    return lambda: compliance._store(run_id, scan_id, organization_id, NOTHING_EVALUATED, [])


def _run_started_paused_with_the_scan_locked(monkeypatch, scan_id, organization_id, reached, resume):
    """The scan's evaluation run created: paused once it holds the scan, before it writes the run."""
    _complete(scan_id)
    monkeypatch.setattr(compliance, "new_id", _paused_once(compliance.new_id, reached, resume))
    return lambda: compliance._start_automatic_run(scan_id)


def _result_ingested_paused_with_the_scan_locked(monkeypatch, scan_id, organization_id, reached, resume):
    """The scan's result ingested while a webhook listens (the completion's event then references the
    organization): paused once it holds the scan, before it stores the result."""
    _add_webhook(organization_id, "scan.completed")
    with session_scope() as session:
        session.add(ScanResultPayload(scan_id=scan_id, payload=EMPTY_RESULT, components_checked=True))
    monkeypatch.setattr(ingest, "store_result", _paused_once(ingest.store_result, reached, resume))
    return lambda: ingest.ingest_stored_result(scan_id)


def _scan_failed_paused_with_the_scan_locked(monkeypatch, scan_id, organization_id, reached, resume):
    """The scan failed while a webhook listens (its ``scan.failed`` event references the organization):
    paused once it holds the scan, before it writes the failure."""
    _add_webhook(organization_id, "scan.failed")
    fail = _paused_once(lambda scan: jobs.fail(scan, "lost"), reached, resume)
    return lambda: settle(Scan, scan_id, fail)


@pytest.mark.parametrize(
    "worker_transaction",
    [
        _store_paused_with_the_scan_locked,
        _run_started_paused_with_the_scan_locked,
        _result_ingested_paused_with_the_scan_locked,
        _scan_failed_paused_with_the_scan_locked,
    ],
)
def test_an_organization_is_deleted_while_a_worker_writes_for_its_scan(
    client, make_user, monkeypatch, worker_transaction
):
    admin = make_user()
    organization_id, scan_id = _team_with_running_scan(client, admin)
    reached, resume = threading.Event(), threading.Event()
    writer, written = _in_thread(worker_transaction(monkeypatch, scan_id, organization_id, reached, resume))
    assert reached.wait(PAUSE_SECONDS)
    deleter, deleted = _in_thread(
        lambda: client.delete(f"{API}/organizations/{organization_id}", headers=admin.headers())
    )
    try:
        wait_for(_the_deletion_waits_for_a_lock, timeout=PAUSE_SECONDS, interval=0.02)
    finally:
        resume.set()
    for thread in (writer, deleter):
        thread.join(PAUSE_SECONDS * 2)
    assert "error" not in written, written
    assert deleted["result"].status_code == 204, deleted["result"].json
    with session_scope() as session:
        assert session.get(Organization, organization_id) is None
        assert session.get(Scan, scan_id) is None


def test_an_evaluation_whose_organization_was_deleted_meanwhile_ends_quietly(client, make_user, caplog):
    """Its run went with the scan: nothing to store, nothing to fail, no error logged for it."""
    admin = make_user()
    organization_id, scan_id = _team_with_running_scan(client, admin)
    _complete(scan_id)
    run_id, _ = compliance._start_automatic_run(scan_id)
    assert client.delete(f"{API}/organizations/{organization_id}", headers=admin.headers()).status_code == 204
    job = Job(model=EvaluationRun, row_id=run_id, organization_id=organization_id)
    compliance._run(job, run_id, scan_id)
    compliance._store(run_id, scan_id, organization_id, NOTHING_EVALUATED, [])
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]

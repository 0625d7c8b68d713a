"""Every kind of job through the real worker: the reconciler finds each one through ``JobMixin``, and
a broker that refuses a job's task leaves it queued for the reconciler, never failed.

Rows are aged by hand (``created_at``/``heartbeat_at`` two hours back) instead of waiting out
``SCAN_STALE_MINUTES``; the reconciler then runs on the real ``maintenance`` queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from common import cli, jobs
from common.celery_client import enqueue
from common.db import session_scope
from common.jobs import JobMixin
from common.models import Scan
from common.models.base import isoformat, utcnow
from common.models.compliance import EvaluationRun
from common.models.exports import Export
from common.models.maintenance import AUDIT_CLEANUP_JOB, MaintenanceJob
from common.tasks import RECONCILE_JOBS
from tests.helpers import wait_for, wait_for_scan
from workers.maintenance import VANISHED_WORKER_ERROR

pytestmark = pytest.mark.usefixtures("celery_worker")

API = "/api/v1"
LONG_AGO = timedelta(hours=2)


def _project(root):
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(
        "import openai\n\nclient = openai.OpenAI()\n"
        "client.chat.completions.create(model='gpt-4o', messages=[])\n"
    )
    return root


def _completed_scan(client, user, root) -> str:
    response = client.post(f"{API}/scans", json={"target": str(_project(root))}, headers=user.headers())
    assert response.status_code == 202, response.json
    scan = wait_for_scan(client, user, response.json["id"], timeout=90)
    assert scan["status"] == "completed", scan
    return scan["id"]


# How to make a row of each job kind that its real task can run to completion.
JOB_ROWS: dict[type[JobMixin], Callable[[str, str, str], JobMixin]] = {
    Scan: lambda org, _scan_id, target: Scan(organization_id=org, target=target),
    Export: lambda org, scan_id, _target: Export(organization_id=org, scan_id=scan_id, format="csv"),
    EvaluationRun: lambda org, scan_id, _target: EvaluationRun(
        organization_id=org, scan_id=scan_id, trigger="manual"
    ),
    MaintenanceJob: lambda org, _scan_id, _target: MaintenanceJob(
        organization_id=org,
        kind=AUDIT_CLEANUP_JOB,
        params={"older_than_days": 90, "cutoff": isoformat(utcnow() - timedelta(days=90))},
    ),
}


def _status(model: type[JobMixin], row_id: str) -> tuple[str, str | None]:
    with session_scope() as session:
        row = session.get(model, row_id)
        return row.status, row.error


def _settled(model: type[JobMixin], *row_ids: str) -> list[tuple[str, str | None]]:
    def all_finished():
        statuses = [_status(model, row_id) for row_id in row_ids]
        return all(status in jobs.TERMINAL_STATUSES for status, _ in statuses) and statuses

    return wait_for(all_finished, timeout=90, interval=0.2)


def _age(model: type[JobMixin], row_id: str) -> None:
    """As if the row had waited (or its worker had been silent) well beyond ``SCAN_STALE_MINUTES``."""
    with session_scope() as session:
        row = session.get(model, row_id)
        row.created_at = utcnow() - LONG_AGO
        if row.heartbeat_at is not None:
            row.heartbeat_at = row.started_at = utcnow() - LONG_AGO


def test_every_job_model_has_a_row_builder_here():
    assert set(JOB_ROWS) == set(jobs.job_models())


@pytest.mark.parametrize("model", jobs.job_models(), ids=lambda model: model.__name__)
def test_the_reconciler_recovers_every_kind_of_job(client, make_user, scan_root, model):
    """Lost message: re-sent. Worker vanished: requeued and run again. Vanished too often: failed."""
    user = make_user()
    scan_id = _completed_scan(client, user, scan_root / "done")
    target = str(_project(scan_root))
    long_ago = utcnow() - LONG_AGO
    with session_scope() as session:
        lost, interrupted, abandoned = (JOB_ROWS[model](user.org_id, scan_id, target) for _ in range(3))
        for row in (interrupted, abandoned):
            jobs.start(row)
        abandoned.attempts = jobs.MAX_ATTEMPTS
        for row in (lost, interrupted, abandoned):
            row.created_at = long_ago
        for row in (interrupted, abandoned):
            row.started_at = row.heartbeat_at = long_ago
        session.add_all([lost, interrupted, abandoned])
        session.flush()
        ids = lost.id, interrupted.id, abandoned.id

    enqueue(RECONCILE_JOBS)
    lost_status, interrupted_status, abandoned_status = _settled(model, *ids)
    assert lost_status == ("completed", None)
    assert interrupted_status == ("completed", None)
    assert abandoned_status == ("failed", VANISHED_WORKER_ERROR)


class BrokerDown:
    """``web.core.enqueueing.enqueue`` while the broker refuses every message."""

    def __init__(self) -> None:
        self.refused: list[str] = []

    def __call__(self, task_name: str, *_args, **_kwargs):
        self.refused.append(task_name)
        raise ConnectionError("broker unreachable")


def _create_scan(client, user, scan_root, _tmp_path, _scan_id) -> tuple[type[JobMixin], str]:
    response = client.post(f"{API}/scans", json={"target": str(_project(scan_root))}, headers=user.headers())
    assert response.status_code == 202, response.json
    return Scan, response.json["id"]


def _import_scan(client, user, scan_root, tmp_path, _scan_id) -> tuple[type[JobMixin], str]:
    report = tmp_path / "result.json"
    assert cli.main(["scan", str(_project(scan_root)), "--format", "json", "-o", str(report), "--quiet"]) == 0
    response = client.post(f"{API}/scans/import", json=json.loads(report.read_text()), headers=user.headers())
    assert response.status_code == 202, response.json
    return Scan, response.json["id"]


def _create_export(client, user, _scan_root, _tmp_path, scan_id) -> tuple[type[JobMixin], str]:
    response = client.post(f"{API}/scans/{scan_id}/export", json={"format": "csv"}, headers=user.headers())
    assert response.status_code == 202, response.json
    return Export, response.json["id"]


def _create_evaluation(client, user, _scan_root, _tmp_path, scan_id) -> tuple[type[JobMixin], str]:
    response = client.post(f"{API}/scans/{scan_id}/evaluate", headers=user.headers())
    assert response.status_code == 202, response.json
    return EvaluationRun, response.json["id"]


def _create_cleanup(client, user, _scan_root, _tmp_path, _scan_id) -> tuple[type[JobMixin], str]:
    response = client.delete(f"{API}/audit-log/cleanup", headers=user.headers())
    assert response.status_code == 202, response.json
    return MaintenanceJob, response.json["id"]


@pytest.mark.parametrize(
    "create",
    [_create_scan, _import_scan, _create_export, _create_evaluation, _create_cleanup],
    ids=["scan", "scan-import", "export", "evaluation", "audit-cleanup"],
)
def test_a_refused_job_stays_queued_then_the_reconciler_completes_it(
    client, make_user, scan_root, tmp_path, monkeypatch, create
):
    user = make_user()
    scan_id = _completed_scan(client, user, scan_root / "done")
    broker = BrokerDown()
    with monkeypatch.context() as patched:
        patched.setattr("web.core.enqueueing.enqueue", broker)
        model, row_id = create(client, user, scan_root, tmp_path, scan_id)
    assert len(broker.refused) == 1, broker.refused
    status, error = _status(model, row_id)
    assert status in jobs.ACTIVE_STATUSES and error is None  # as committed: never failed for a blip
    _age(model, row_id)
    enqueue(RECONCILE_JOBS)
    assert _settled(model, row_id) == [("completed", None)]

"""Job transitions on unsaved rows: which are legal, which are idempotent, what they announce."""

from __future__ import annotations

import pytest

from common import jobs
from common.jobs import IllegalTransition, JobStatus
from common.models import Scan
from common.models.compliance import EvaluationRun
from common.models.exports import Export
from common.models.maintenance import MaintenanceJob


def _scan(status: JobStatus = JobStatus.QUEUED, attempts: int = 0) -> Scan:
    return Scan(id="s1", organization_id="o1", target="/x", status=status.value, attempts=attempts)


def test_every_job_model_is_found_through_the_mixin():
    assert set(jobs.job_models()) == {Scan, Export, EvaluationRun, MaintenanceJob}


def test_start_runs_the_job_and_counts_the_attempt():
    scan = _scan()
    event = jobs.start(scan)
    assert (scan.status, scan.attempts, scan.error) == ("running", 1, None)
    assert scan.started_at is not None and scan.heartbeat_at is not None
    assert event == jobs.JobEvent("o1", "scan.started", {"scan_id": "s1"})


def test_start_on_a_running_job_is_a_redelivery_that_keeps_its_start_time_and_announces_nothing():
    scan = _scan()
    jobs.start(scan)
    first_start = scan.started_at
    assert jobs.start(scan) is None
    assert (scan.status, scan.attempts, scan.started_at) == ("running", 2, first_start)


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED])
def test_a_finished_job_cannot_start_or_go_back_to_the_queue(status):
    for transition in (jobs.start, jobs.requeue):
        with pytest.raises(IllegalTransition, match=f"Scan s1: it is {status.value}"):
            transition(_scan(status))


def test_complete_stores_the_end_and_announces_the_payload():
    scan = _scan(JobStatus.RUNNING)
    event = jobs.complete(scan, summary={"total": 3})
    assert (scan.status, scan.progress, scan.stage) == ("completed", 100, "completed")
    assert scan.finished_at is not None
    assert event == jobs.JobEvent("o1", "scan.completed", {"scan_id": "s1", "summary": {"total": 3}})


def test_complete_twice_is_a_no_op_and_complete_after_failure_is_refused():
    done = _scan(JobStatus.COMPLETED)
    assert jobs.complete(done) is None and done.finished_at is None
    with pytest.raises(IllegalTransition, match="cannot complete"):
        jobs.complete(_scan(JobStatus.FAILED))


def test_fail_keeps_a_bounded_error_and_is_idempotent():
    scan = _scan(JobStatus.RUNNING)
    event = jobs.fail(scan, "x" * 5000)
    assert scan.status == "failed" and len(scan.error) == jobs.ERROR_MAX_CHARS
    assert event.type == "scan.failed" and event.payload["scan_id"] == "s1"
    assert jobs.fail(scan, "again") is None and scan.error == "x" * jobs.ERROR_MAX_CHARS
    with pytest.raises(IllegalTransition, match="cannot fail"):
        jobs.fail(_scan(JobStatus.COMPLETED), "late")


def test_requeue_sends_a_running_job_back_without_a_heartbeat():
    scan = _scan()
    jobs.start(scan)
    event = jobs.requeue(scan)
    assert (scan.status, scan.stage, scan.heartbeat_at, scan.attempts) == ("queued", "queued", None, 1)
    assert event.type == "scan.queued"


def test_attempts_are_bounded():
    assert not jobs.out_of_attempts(_scan(JobStatus.RUNNING, attempts=jobs.MAX_ATTEMPTS - 1))
    assert jobs.out_of_attempts(_scan(JobStatus.RUNNING, attempts=jobs.MAX_ATTEMPTS))


def test_an_evaluation_run_announces_its_scan_and_is_sent_with_it():
    run = EvaluationRun(id="r1", organization_id="o1", scan_id="s1", trigger="manual", status="queued")
    assert jobs.start(run).payload == {"evaluation_id": "r1", "scan_id": "s1"}
    assert run.task_call(None) == ("compliance.evaluate_scan", ("s1", "r1"))


def test_statuses_are_the_stored_strings():
    assert jobs.JOB_STATUSES == ("queued", "running", "completed", "failed")
    assert JobStatus.COMPLETED == "completed" and f"{JobStatus.FAILED}" == "failed"

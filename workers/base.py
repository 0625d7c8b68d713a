"""The one task base class: state transitions, progress events, retries and metrics.

Every task takes ids, reloads its row, and returns quietly when the row is gone or
already finished, so a redelivered or duplicated message changes nothing.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import redis
import requests
from celery import Task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from common import events, jobs
from common.accounts import hold_organization_of
from common.db import session_scope
from common.jobs import JobEvent, JobMixin
from common.redis_client import get_redis
from common.tasks import TASK_DURATION_BUCKETS, TASK_DURATIONS_KEY, TASK_OUTCOMES_KEY, TaskOutcome

log = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, redis.ConnectionError, requests.ConnectionError, requests.Timeout)
PROGRESS_INTERVAL_SECONDS = 1.0
# A job's error when its task ran past its soft time limit.
TIME_LIMIT_ERROR = "time limit exceeded"


class PermanentTaskError(Exception):
    """A failure that retrying cannot fix (bad target, rejected result): fail the job at once."""


@dataclass
class Job:
    """A running tracked row: publishes progress at least once a second while it lives.

    Every change of stage is published at once, but the row is written at most every half
    ``PROGRESS_INTERVAL_SECONDS`` (a job not started by ``PlatformTask.job`` writes on its first flush;
    the heartbeat writes the latest state): a small scan passes through five stages in a few
    milliseconds, and a transaction for each was half of its time in the worker. A row found no longer
    running stops all further progress events.
    """

    model: type[JobMixin]
    row_id: str
    organization_id: str
    progress_state: dict = field(default_factory=lambda: {"progress": 0, "stage": "starting"})
    _last_publish: float = 0.0
    _last_write: float = -PROGRESS_INTERVAL_SECONDS
    _finished: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Called by the heartbeat every beat while the job runs (a lease kept while its worker lives).
    on_beat: Callable[[], None] | None = None

    def progress(self, progress: int, stage: str, **extra) -> None:
        with self._lock:
            changed_stage = stage != self.progress_state.get("stage")
            self.progress_state = {"progress": max(0, min(100, int(progress))), "stage": stage, **extra}
            due = time.monotonic() - self._last_publish >= PROGRESS_INTERVAL_SECONDS / 2
        if due or changed_stage:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            state = dict(self.progress_state)
            now = time.monotonic()
            self._last_publish = now
            write = now - self._last_write >= PROGRESS_INTERVAL_SECONDS / 2
            if write:
                self._last_write = now
        if write and not self._save(state):
            self._finished = True
        if self._finished:
            return  # finished (or failed) meanwhile: a late progress event would contradict it
        event = jobs.progress_event(self.model, self.row_id, self.organization_id, state)
        events.broadcast(event.organization_id, event.type, **event.payload)

    def _save(self, state: dict) -> bool:
        """Write progress and heartbeat to the row; False once the row is no longer running."""
        columns = {}
        if "files_scanned" in state and hasattr(self.model, "files_scanned"):
            columns["files_scanned"] = state["files_scanned"]
        try:
            with session_scope() as session:
                saved = jobs.progress(
                    session, self.model, self.row_id, self.organization_id, state, **columns
                )
                return saved is not None
        except OperationalError as exc:
            log.warning("progress of %s not saved: %s", self.row_id, exc)
            return True  # unknown: progress still tells clients the worker is alive

    @contextmanager
    def heartbeat(self) -> Iterator[None]:
        """Keep progress flowing (and the row's heartbeat fresh) even while one big file is read."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(PROGRESS_INTERVAL_SECONDS):
                try:
                    if self.on_beat is not None:
                        self.on_beat()
                    if time.monotonic() - self._last_publish >= PROGRESS_INTERVAL_SECONDS:
                        self.flush()
                except Exception:  # one beat lost, not the rest: a MemoryError while a scan in this process
                    # is at its memory cap, a database error; the thread ending let the scan's turn lapse
                    with suppress(Exception):
                        log.warning("heartbeat of %s failed", self.row_id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"heartbeat-{self.row_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)


@contextmanager
def cpu_time_limit(seconds: float) -> Iterator[None]:
    """Raise ``SoftTimeLimitExceeded`` once this process has spent ``seconds`` of CPU time (user and
    system, ``ITIMER_PROF``) inside the block, as Celery's own soft limit raises it on wall time.

    What a task's input costs is its CPU; the wall time it takes also counts how long other tenants' work
    kept the CPU busy, so a wall-time limit fails honest work on a saturated host. A prefork worker runs
    one task per process, so the process's CPU is the task's. Signals reach the main thread only: in a
    thread pool the wall-time limits alone apply."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def over_budget(_signal, _frame):
        raise SoftTimeLimitExceeded(f"CPU time limit of {seconds} s exceeded")

    previous = signal.signal(signal.SIGPROF, over_budget)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


class PlatformTask(Task):
    """Base for every task: transient errors retry with backoff, durations are recorded."""

    max_retries = 5
    retry_backoff_base = 2

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self._record_duration(time.perf_counter() - started)

    def _record_duration(self, seconds: float) -> None:
        """Sum, count and the cumulative histogram buckets, shared in Redis by every worker process."""
        try:
            pipe = get_redis().pipeline()
            pipe.hincrbyfloat(TASK_DURATIONS_KEY, f"{self.name}:sum", seconds)
            pipe.hincrby(TASK_DURATIONS_KEY, f"{self.name}:count", 1)
            for bound in TASK_DURATION_BUCKETS:
                if seconds <= bound:
                    pipe.hincrby(TASK_DURATIONS_KEY, f"{self.name}:le:{bound}", 1)
            pipe.execute()
        except redis.RedisError:
            pass

    def _record_outcome(self, outcome: str) -> None:
        with suppress(redis.RedisError):
            get_redis().hincrby(TASK_OUTCOMES_KEY, f"{self.name}:{outcome}", 1)

    def on_retry(self, exc, task_id, args, kwargs, einfo) -> None:
        self._record_outcome(TaskOutcome.RETRIED)

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """A failed task; one that had used up its retries is dead-lettered: nobody will run it again."""
        self._record_outcome(TaskOutcome.FAILED)
        if self.request.retries >= (self.max_retries or 0):
            self._record_outcome(TaskOutcome.DEAD_LETTERED)

    def retry_later(self, exc: Exception) -> Retry:
        countdown = min(300, self.retry_backoff_base ** (self.request.retries + 1))
        return self.retry(exc=exc, countdown=countdown)

    @contextmanager
    def job(self, model: type[JobMixin], row_id: str, *, finish: bool = True) -> Iterator[Job | None]:
        """Run the body as the tracked job of ``model`` row ``row_id``.

        Yields ``None`` when there is nothing to do (row gone or already finished).
        ``finish=False`` leaves the row ``running`` for a follow-up task to complete. The row's
        organization is held before the row is locked, in its deletion's order (``hold_organization``):
        the start's webhook event references it.
        """
        with session_scope() as session:
            row = locked_unfinished(session, model, row_id)
            if row is None:
                log.info("%s %s: nothing to do (gone or finished)", self.name, row_id)
                yield None
                return
            events.record_job_event(session, jobs.start(row))
            organization_id = row.organization_id
        with self.started_job(model, row_id, organization_id, finish=finish) as job:
            yield job

    @contextmanager
    def started_job(
        self, model: type[JobMixin], row_id: str, organization_id: str, *, finish: bool = True
    ) -> Iterator[Job]:
        """Run the body as the tracked job of a row its caller has just started (``jobs.start``).

        For a task that creates its own row: starting it in the creating transaction saves one.
        """
        # The row was written just now: the job's first progress need not write it again.
        job = Job(model=model, row_id=row_id, organization_id=organization_id, _last_write=time.monotonic())
        try:
            with job.heartbeat():
                yield job
        except Retry:
            raise
        except TRANSIENT_ERRORS as exc:
            if self.request.retries < self.max_retries:
                raise self.retry_later(exc) from exc
            self.mark_failed(model, row_id, f"gave up after retries: {exc}")
            return
        except SoftTimeLimitExceeded:
            self.mark_failed(model, row_id, TIME_LIMIT_ERROR)
            return
        except Exception as exc:
            log.exception("%s %s failed", self.name, row_id)
            self.mark_failed(model, row_id, str(exc) or type(exc).__name__)
            return
        if finish:
            self.mark_completed(model, row_id)

    @contextmanager
    def failing_past_time_limit(self, model: type[JobMixin], row_id: str) -> Iterator[None]:
        """For a task that settles its row itself (not through ``started_job``), around its whole body: its
        soft time limit fails the job as ``started_job``'s does, instead of leaving it running until the
        hard limit kills the process and the reconciler finds the job."""
        try:
            yield
        except SoftTimeLimitExceeded:
            self.mark_failed(model, row_id, TIME_LIMIT_ERROR)

    @staticmethod
    def mark_failed(model: type[JobMixin], row_id: str, error: str) -> None:
        settle(model, row_id, lambda row: jobs.fail(row, error))

    @staticmethod
    def mark_completed(model: type[JobMixin], row_id: str) -> None:
        settle(model, row_id, jobs.complete)


def locked_unfinished(session: Session, model: type[JobMixin], row_id: str) -> JobMixin | None:
    """``model``'s row ``row_id`` locked for this transaction, its organization held first in its deletion's
    order (``hold_organization``); None when the row or its organization is gone, or the job finished
    (another delivery settled it)."""
    if hold_organization_of(session, model, row_id) is None:
        return None
    row = session.get(model, row_id, with_for_update=True)
    return None if row is None or jobs.is_finished(row) else row


def settle(model: type[JobMixin], row_id: str, transition: Callable[[JobMixin], JobEvent | None]) -> None:
    """End a job that is still unfinished; one finished meanwhile (another delivery) is left as it is."""
    with session_scope() as session:
        row = locked_unfinished(session, model, row_id)
        if row is None:
            return
        events.record_job_event(session, transition(row))
        row.discard_inputs(session)

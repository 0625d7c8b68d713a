"""One lifecycle for every background job (scan, export, evaluation run, maintenance job).

A job row is ``queued`` until a worker starts it, ``running`` while that worker heartbeats, and ends
``completed`` or ``failed``. The functions below are the only code that changes a job's status: each
checks that the transition is legal, changes the row in the caller's session and returns the event
to publish, which the caller records (``events.record_job_event``) in the same transaction.

Redelivery is normal (late acks, the reconciler's re-sends), so the repeatable transitions are
idempotent: ``start`` on a running job is a redelivery and starts it again (announced once, when it left
the queue), ``complete`` on a
completed job and ``fail`` on a failed one change nothing. Contradicting a finished job raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import DateTime, Integer, String, Text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.dashboard_cache import WRITES_ORGANIZATION
from common.job_status import ACTIVE_STATUSES, JOB_STATUSES, TERMINAL_STATUSES, JobStatus  # noqa: F401  (re-exported)

ERROR_MAX_CHARS = 2000
# A job whose worker vanished this many times is failed rather than started once more.
MAX_ATTEMPTS = 3
# A queued job the reconciler has re-sent this many times (once per ``SCAN_STALE_MINUTES``) without any
# worker starting it fails: its task dies before it starts, or its message never arrives, and a scan left
# queued for ever would hold one of its organization's ``SCANS_IN_FLIGHT_PER_ORG`` slots for good.
MAX_RESENDS = 3
NEVER_STARTED_ERROR = (
    f"no worker started this job after {MAX_RESENDS} re-sends of its message; it was given up "
    f"(ask an administrator to check the workers and the broker)"
)


def utcnow() -> datetime:
    """As ``common.models.base.utcnow``, which cannot be imported: ``common.models`` imports this module."""
    return datetime.now(UTC)


class IllegalTransition(Exception):
    """A transition the lifecycle forbids, e.g. completing a job that already failed."""

    def __init__(self, row: JobMixin, transition: str) -> None:
        super().__init__(f"cannot {transition} {type(row).__name__} {row.id}: it is {row.status}")


@dataclass(frozen=True)
class JobEvent:
    """What a transition announces: published once the transaction that made it commits."""

    organization_id: str
    type: str
    payload: dict = field(default_factory=dict)


class JobMixin:
    """The columns every job shares, and how the reconciler re-sends it.

    ``event_prefix`` names its events (``scan.started``…); ``task_name`` is the task that runs it.
    """

    event_prefix: ClassVar[str]
    task_name: ClassVar[str]

    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED.value, nullable=False)
    progress: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    stage: Mapped[str | None] = mapped_column(String(50), default=JobStatus.QUEUED.value)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # The reconciler's re-sends of the job's message since a worker last started it.
    resends: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @classmethod
    def id_key(cls) -> str:
        return f"{cls.event_prefix}_id"

    def event_ids(self) -> dict:
        """The identifiers every event of this job carries."""
        return {self.id_key(): self.id}

    def task_call(self, session: Session) -> tuple[str, tuple]:
        """The task (and its arguments) that takes this job from where it is to its end."""
        return self.task_name, (self.id,)

    @classmethod
    def queued_since(cls):
        """Since when a queued job's message is expected to have started it: the reconciler re-sends one
        queued for longer."""
        return cls.created_at

    def discard_inputs(self, session: Session) -> None:
        """Delete what the job kept only to be run, once it has ended (in the ending transaction)."""


def job_models() -> list[type[JobMixin]]:
    """Every mapped job model, found through the mixin, so no job kind can be left out."""
    from common import models  # noqa: F401  (every model module is imported, so every subclass exists)

    return sorted(_mapped_subclasses(JobMixin), key=lambda model: model.__name__)


def _mapped_subclasses(cls: type) -> Iterator[type]:
    for subclass in cls.__subclasses__():
        if hasattr(subclass, "__table__"):
            yield subclass
        yield from _mapped_subclasses(subclass)


def is_finished(row: JobMixin) -> bool:
    return row.status in TERMINAL_STATUSES


def _event(row: JobMixin, what: str, **payload) -> JobEvent:
    return JobEvent(row.organization_id, f"{row.event_prefix}.{what}", {**row.event_ids(), **payload})


def start(row: JobMixin) -> JobEvent | None:
    """A worker takes the job; on a running job this is a redelivery, which starts it again.

    Only the move out of the queue announces ``<job>.started``: a second delivery of the message running
    beside the first (late acks, a re-send) finds the job running, and announcing again would tell every
    client and webhook that it started twice. Callers hold the row locked (``FOR UPDATE``), so of two
    concurrent deliveries exactly one finds it queued."""
    if is_finished(row):
        raise IllegalTransition(row, "start")
    leaves_the_queue = row.status in (None, JobStatus.QUEUED.value)  # None: a new row, not yet flushed
    now = utcnow()
    row.status = JobStatus.RUNNING.value
    row.started_at = row.started_at or now
    row.heartbeat_at = now
    row.attempts = (row.attempts or 0) + 1
    row.resends = 0
    row.error = None
    return _event(row, "started") if leaves_the_queue else None


def progress(
    session: Session, model: type[JobMixin], row_id: str, organization_id: str, state: dict, **columns
) -> JobEvent | None:
    """Save progress (and the heartbeat) of a running job; None once it is no longer running,
    when a late progress event would contradict its end."""
    # The organization in the condition makes the statement's one (``WRITES_ORGANIZATION``): progress
    # shows on the dashboard, whose cache this write then ends for that organization only.
    updated = session.execute(
        update(model)
        .where(
            model.id == row_id,
            model.organization_id == organization_id,
            model.status == JobStatus.RUNNING.value,
        )
        .values(progress=state["progress"], stage=state["stage"], heartbeat_at=utcnow(), **columns)
        .execution_options(synchronize_session=False, **{WRITES_ORGANIZATION: organization_id})
    ).rowcount
    if not updated:
        return None
    return progress_event(model, row_id, organization_id, state)


def progress_event(model: type[JobMixin], row_id: str, organization_id: str, state: dict) -> JobEvent:
    """A running job's progress, for the moments its row is not written (writes are throttled)."""
    return JobEvent(organization_id, f"{model.event_prefix}.progress", {model.id_key(): row_id, **state})


def complete(row: JobMixin, **payload) -> JobEvent | None:
    """The job's work is stored; None when it was already completed (a redelivered message)."""
    if row.status == JobStatus.COMPLETED:
        return None
    if row.status == JobStatus.FAILED:
        raise IllegalTransition(row, "complete")
    row.status = JobStatus.COMPLETED.value
    row.progress = 100
    row.stage = JobStatus.COMPLETED.value
    row.finished_at = utcnow()
    return _event(row, "completed", **payload)


def fail(row: JobMixin, error: str) -> JobEvent | None:
    """The job cannot succeed; None when it had already failed."""
    if row.status == JobStatus.FAILED:
        return None
    if row.status == JobStatus.COMPLETED:
        raise IllegalTransition(row, "fail")
    row.status = JobStatus.FAILED.value
    row.error = error[:ERROR_MAX_CHARS]
    row.finished_at = utcnow()
    return _event(row, "failed", error=error)


def requeue(row: JobMixin) -> JobEvent:
    """Back to the queue for another delivery (its worker vanished, or the broker lost its message)."""
    if is_finished(row):
        raise IllegalTransition(row, "requeue")
    row.status = JobStatus.QUEUED.value
    row.stage = JobStatus.QUEUED.value
    row.heartbeat_at = None
    return _event(row, "queued")


def out_of_attempts(row: JobMixin) -> bool:
    return (row.attempts or 0) >= MAX_ATTEMPTS


def out_of_resends(row: JobMixin) -> bool:
    """Re-sent ``MAX_RESENDS`` times and never started since: sending it again would not start it either."""
    return (row.resends or 0) >= MAX_RESENDS

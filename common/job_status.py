"""The statuses every background job moves through: a leaf module, so the CLI and the exporters can
name them without importing SQLAlchemy (``common.jobs`` holds the columns and the transitions)."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


JOB_STATUSES = tuple(status.value for status in JobStatus)
TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED})
ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)

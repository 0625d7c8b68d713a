"""Housekeeping jobs an admin queues (audit cleanup), tracked with a status the client can poll."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, JSONType
from common.jobs import JobMixin
from common.models.base import id_column, owned_by_column
from common.tasks import AUDIT_CLEANUP

AUDIT_CLEANUP_JOB = "audit_cleanup"
# Applied to entries with no (longer existing) organization; organizations carry their own.
DEFAULT_AUDIT_RETENTION_DAYS = 90


class MaintenanceJob(JobMixin, Base):
    """One queued housekeeping run for an organization, tracked like any other job."""

    __tablename__ = "maintenance_jobs"
    event_prefix = "maintenance"
    task_name = AUDIT_CLEANUP

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    params: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    result: Mapped[dict | None] = mapped_column(JSONType)

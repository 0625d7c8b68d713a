"""Scheduled scans: the database row is the scheduler's only state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base
from common.models.base import created_column, id_column, owned_by_column, updated_column


class Schedule(Base):
    """A scan definition plus a cron expression; the row itself is the scheduler's state."""

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_due", "enabled", "next_run_at"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    target: Mapped[str | None] = mapped_column(Text)
    n8n_credential_id: Mapped[str | None] = mapped_column(
        ForeignKey("n8n_credentials.id", ondelete="SET NULL"), index=True
    )
    repository_url: Mapped[str | None] = mapped_column(Text)
    repository_ref: Mapped[str | None] = mapped_column(String(255))
    repository_credential_id: Mapped[str | None] = mapped_column(
        ForeignKey("repository_credentials.id", ondelete="SET NULL"), index=True
    )
    deep: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    cron: Mapped[str] = mapped_column(String(200), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_scan_id: Mapped[str | None] = mapped_column(ForeignKey("scans.id", ondelete="SET NULL"), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()

"""Column helpers shared by every model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a trailing Z, as the conventions require."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def id_column() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)


def owned_by_column(parent: str) -> Mapped[str]:
    """A required, indexed reference to the row (``"table.id"``) whose deletion deletes this one."""
    return mapped_column(ForeignKey(parent, ondelete="CASCADE"), nullable=False, index=True)


def created_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


def updated_column() -> Mapped[datetime]:
    """Set at creation and moved on by every ORM update of the row."""
    return mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; treat them as the UTC they were stored as."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)

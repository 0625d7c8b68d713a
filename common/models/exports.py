"""Exports of a scan: one row per request, rendered on the ``exports`` queue, the file kept in the row.

The rendered bytes live in the database rather than on a disk, so any API process can serve the
download without recomputation or a shared volume. ``content`` is deferred: reading an export's
status never loads its file.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base
from common.jobs import JobMixin
from common.models.base import id_column, owned_by_column
from common.tasks import EXPORT_RENDER


class Export(JobMixin, Base):
    __tablename__ = "exports"
    event_prefix = "export"
    task_name = EXPORT_RENDER
    __table_args__ = (
        # A person's exports in flight, counted at each export's creation (``web.core.job_quota``).
        Index(
            "ix_exports_creator_in_flight",
            "created_by",
            postgresql_where=text("status IN ('queued', 'running')"),
            sqlite_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    scan_id: Mapped[str] = owned_by_column("scans.id")
    format: Mapped[str] = mapped_column(String(20), nullable=False)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    content_type: Mapped[str | None] = mapped_column(String(100))
    filename: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

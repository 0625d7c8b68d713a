"""Scans, the raw result a scanner posted, and the components ingested from it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    delete,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from common import fastjson
from common.db import Base, JSONType
from common.jobs import JOB_STATUSES, JobMixin, JobStatus
from common.models.base import created_column, id_column, owned_by_column
from common.tasks import SCAN_INGEST, SCAN_RUN

SCAN_STATUSES = JOB_STATUSES

# What a scan scanned, as one key: the dashboard's "target", whose latest completed scan is its current
# state. A repository at a ref, an upload by the repository and branch it names (one that names none is
# a target of its own: nothing says two of them are of the same code), and otherwise the path and the
# n8n instance (a scan may take both). The same SQL on PostgreSQL and SQLite (migration 0016).
TARGET_KEY_SQL = (
    "CASE"
    " WHEN substr(target, 1, 7) = 'upload:'"
    " THEN 'upload ' || coalesce(repository_url || ' ' || coalesce(source_branch, ''), id)"
    " WHEN repository_url IS NOT NULL"
    " THEN 'repository ' || repository_url || ' ' || coalesce(repository_ref, 'HEAD')"
    " ELSE coalesce('path ' || target, '') || coalesce(' n8n ' || n8n_url, '')"
    " END"
)


class Scan(JobMixin, Base):
    __tablename__ = "scans"
    event_prefix = "scan"
    task_name = SCAN_RUN
    __table_args__ = (
        UniqueConstraint("organization_id", "idempotency_key", name="uq_scan_idempotency"),
        Index("ix_scans_org_repository", "organization_id", "repository_url"),
        # A repository's baseline (``common.baseline.previous_completed_scan``): read newest first from the
        # scan being judged, past the uploads it must not trust, instead of every scan of the repository.
        Index(
            "ix_scans_completed_by_repository",
            "organization_id",
            "repository_url",
            text("created_at DESC"),
            postgresql_where=text("status = 'completed'"),
            sqlite_where=text("status = 'completed'"),
        ),
        # The dashboard's latest completed scan of each target, and its trend of the last days' scans:
        # both read off these instead of every scan of the organization.
        Index(
            "ix_scans_completed_by_target",
            "organization_id",
            "target_key",
            text("finished_at DESC"),
            text("id DESC"),
            postgresql_where=text("status = 'completed'"),
            sqlite_where=text("status = 'completed'"),
        ),
        Index(
            "ix_scans_completed_by_finish",
            "organization_id",
            "finished_at",
            postgresql_where=text("status = 'completed'"),
            sqlite_where=text("status = 'completed'"),
        ),
        # The newest scans first (the dashboard's recent scans, the scan list), without sorting them all.
        Index("ix_scans_org_created", "organization_id", text("created_at DESC"), "id"),
        # The scans an organization has in flight, counted at each scan's creation (``common.scan_quota``).
        Index(
            "ix_scans_org_in_flight",
            "organization_id",
            postgresql_where=text("status IN ('queued', 'running')"),
            sqlite_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The API key the scan was sent with (none from a session): an upload is a baseline only for its sender.
    api_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    target: Mapped[str | None] = mapped_column(Text)
    n8n_url: Mapped[str | None] = mapped_column(Text)
    n8n_api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    # Read with a credential the organization saved, not a key the requester sent: only such a scan of an
    # instance is everyone's baseline (``common.baseline.trusted_for``).
    n8n_from_credential: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    deep: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # A repository the scans worker clones (``repository_ref`` at ``commit_sha`` once resolved), or the
    # source an uploaded result names; ``source_branch`` and ``ci_run_url`` come with CI uploads.
    repository_url: Mapped[str | None] = mapped_column(Text)
    repository_ref: Mapped[str | None] = mapped_column(String(255))
    repository_credential_id: Mapped[str | None] = mapped_column(
        ForeignKey("repository_credentials.id", ondelete="SET NULL"), index=True
    )
    commit_sha: Mapped[str | None] = mapped_column(String(64))
    source_branch: Mapped[str | None] = mapped_column(String(255))
    ci_run_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(
        String(20), default=JobStatus.QUEUED.value, nullable=False, index=True
    )
    files_scanned: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    summary: Mapped[dict | None] = mapped_column(JSONType)
    warnings: Mapped[list | None] = mapped_column(JSONType)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    target_key: Mapped[str] = mapped_column(Text, Computed(TARGET_KEY_SQL))
    # When a scan waiting its organization's turn to run (``SCANS_RUNNING_PER_ORG``) looks again.
    next_look_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @classmethod
    def queued_since(cls):
        """A scan waiting its turn to run went back on the queue at its last look, its message with it."""
        return func.coalesce(cls.next_look_at, cls.created_at)

    def task_call(self, session) -> tuple[str, tuple]:
        """A scan whose result was handed in only needs ingesting; any other one is scanned (again)."""
        if session.get(ScanResultPayload, self.id) is not None:
            return SCAN_INGEST, (self.id,)
        return SCAN_RUN, (self.id,)

    def discard_inputs(self, session) -> None:
        """The posted result: it holds snippets unmasked (a hard-coded key a scan found), and an ended scan
        is never ingested again. And the n8n instance's API key, copied from the request or the saved
        credential for the worker: kept, it outlived the credential's deletion in every scan made with it."""
        session.execute(delete(ScanResultPayload).where(ScanResultPayload.scan_id == self.id))
        self.n8n_api_key_encrypted = None


class JSONDocument(TypeDecorator):
    """A JSON document kept as its UTF-8 text in a binary column and decoded when loaded: the database
    neither parses it (as it did ``jsonb``) nor converts its encoding. ``bytes`` bound to it are taken as
    the document's JSON text and stored as they are; any other value is encoded."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or isinstance(value, bytes):
            return value
        return fastjson.dumps(value).encode()

    def process_result_value(self, value, dialect):
        return None if value is None else fastjson.loads(value)


class ScanResultPayload(Base):
    """The scanner's raw result, kept so ingestion is a task that takes an id and can run twice, and deleted
    when the scan ends (``Scan.discard_inputs``): its snippets are not masked.

    ``payload`` is stored uncompressed out of line (migration 0014) and loaded only when read: checking
    that a result is there does not fetch and decode megabytes."""

    __tablename__ = "scan_results"

    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True)
    payload: Mapped[dict] = mapped_column(JSONDocument, nullable=False, deferred=True)
    # Set by a writer that kept only storable components (``keep_storable_components``): ingest then
    # stores them without checking each again. A row written any other way is checked at ingest.
    components_checked: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    received_at: Mapped[datetime] = created_column()


class Component(Base):
    __tablename__ = "components"
    __table_args__ = (
        UniqueConstraint("scan_id", "fingerprint", name="uq_component_scan_fingerprint"),
        # The component listing's order: a page is read off the index instead of sorting the scan.
        Index("ix_components_scan_rank", "scan_id", text("risk_score DESC"), "name", "id"),
    )

    id: Mapped[str] = id_column()
    # Not indexed on its own: the unique constraint and the listing's index both lead with it.
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), nullable=False)
    # The scan's organization, copied at ingest and matched by the listing. Neither a foreign key nor an
    # index (migration 0015): the scan's reference already ties the row to that organization and deletes
    # it with the scan, and each would cost every ingested row a check or an index write.
    organization_id: Mapped[str] = mapped_column(String(36), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    provider: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[str | None] = mapped_column(String(200))
    model_name: Mapped[str | None] = mapped_column(String(300))
    locations: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    flags: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    risk_score: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    severity: Mapped[str] = mapped_column(String(20), default="info", nullable=False)
    risk_factors: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    detector: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    confidence: Mapped[float] = mapped_column(Float, default=1.0, nullable=False)
    scope: Mapped[str] = mapped_column(String(20), default="production", nullable=False)
    details: Mapped[dict] = mapped_column("metadata", JSONType, nullable=False, default=dict)

    def to_dict(self) -> dict:
        """The engine's wire form, with the fingerprint as the public id."""
        return {name: getattr(self, attribute) for name, attribute in COMPONENT_WIRE_FIELDS.items()}

    @classmethod
    def wire_columns(cls) -> tuple:
        """``to_dict()`` as labelled columns: a Core row of them is the wire form without an ORM object."""
        return tuple(getattr(cls, attribute).label(name) for name, attribute in COMPONENT_WIRE_FIELDS.items())


# The wire name of each component field and the attribute it is read from.
COMPONENT_WIRE_FIELDS = {
    "id": "fingerprint",
    "name": "name",
    "type": "type",
    "provider": "provider",
    "version": "version",
    "model_name": "model_name",
    "locations": "locations",
    "flags": "flags",
    "risk_score": "risk_score",
    "severity": "severity",
    "risk_factors": "risk_factors",
    "detector": "detector",
    "confidence": "confidence",
    "scope": "scope",
    "metadata": "details",
}


class ScanRelationship(Base):
    __tablename__ = "scan_relationships"
    __table_args__ = (
        UniqueConstraint("scan_id", "source", "target", "relation", name="uq_relationship_edge"),
    )

    id: Mapped[str] = id_column()
    # Not indexed on its own: the unique constraint leads with it.
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), nullable=False)
    source: Mapped[str] = mapped_column(String(600), nullable=False)
    target: Mapped[str] = mapped_column(String(600), nullable=False)
    relation: Mapped[str] = mapped_column(String(50), nullable=False)

    def to_dict(self) -> dict:
        return {"source": self.source, "target": self.target, "relation": self.relation}


class ScanRollup(Base):
    """A completed scan's components counted once, per severity, provider and model name, plus its total
    (kind ``total``, name ``""``, with the highest risk score): the dashboard adds these up instead of
    grouping every component of every latest scan on each view. A completed scan's components never
    change, so a rollup, once written, stays true; deleting the scan deletes it."""

    __tablename__ = "scan_rollups"
    __table_args__ = (
        # Each scan's total, for the dashboard's trend and its "rolled up yet?" test: read off this small
        # index (on PostgreSQL without visiting the table) instead of the scans' hundreds of other rows.
        Index(
            "ix_scan_rollups_totals",
            "scan_id",
            postgresql_include=["components", "highest_risk_score"],
            postgresql_where=text("kind = 'total'"),
            sqlite_where=text("kind = 'total'"),
        ),
    )

    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    components: Mapped[int] = mapped_column(Integer, nullable=False)
    highest_risk_score: Mapped[int | None] = mapped_column(Integer)


class DashboardSummary(Base):
    """An organization's current state on the dashboard (``common.dashboard``), as the JSON text its one
    statement returns, with the key (``latest_scans``: the digest of the sorted ids of the latest completed
    scan of each target) of what it was counted from, and when (``counted_at``; NULL for a row counted
    before that was kept). A row whose key is not the organization's key now is not read; deleting a
    completed scan of the organization (on PostgreSQL a trigger, migration 0018), or the organization,
    deletes it."""

    __tablename__ = "dashboard_summaries"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    latest_scans: Mapped[str | None] = mapped_column(String(32))
    current: Mapped[str] = mapped_column(Text, nullable=False)
    counted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

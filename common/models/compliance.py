"""Compliance and policy state: which frameworks an organization follows, its custom rules and
policies, and what the ``compliance`` worker concluded about each scan.

Results are per scan and replaced as a whole on re-evaluation: ``ComplianceResult`` is keyed by
the scan, and ``PolicyEvaluation`` is unique per (scan, policy).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.db import Base, JSONType
from common.jobs import JobMixin
from common.models.base import created_column, id_column, isoformat, owned_by_column, updated_column, utcnow
from common.tasks import COMPLIANCE_EVALUATE_SCAN

POLICY_ACTIONS = ("warn", "block")
CUSTOM_FRAMEWORK = "custom"
EVALUATION_TRIGGERS = ("scan", "manual")


class FrameworkSetting(Base):
    """An organization's choice for one built-in framework; no row means the framework is active."""

    __tablename__ = "framework_settings"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    framework_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = updated_column()


class CustomRule(Base):
    """A condition over components; the rule fails on a scan when any component matches."""

    __tablename__ = "custom_rules"

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    framework: Mapped[str] = mapped_column(String(100), nullable=False, default=CUSTOM_FRAMEWORK)
    condition: Mapped[dict] = mapped_column(JSONType, nullable=False)
    severity: Mapped[str] = mapped_column(String(20), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Policy(Base):
    """A named gate: component and scan-threshold rules with a ``warn`` or ``block`` action."""

    __tablename__ = "policies"

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    action: Mapped[str] = mapped_column(String(10), nullable=False)
    rules: Mapped[list] = mapped_column(JSONType, nullable=False)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()

    def to_engine(self) -> dict:
        """The policy as the compliance library evaluates it."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "action": self.action,
            "rules": self.rules,
        }


class PolicyEvaluation(Base):
    """One policy's outcome on one scan; ``name`` and ``action`` are as they were when evaluated.

    Deleting the policy keeps its past outcomes (``policy_id`` becomes NULL): they are the record
    of what a scan was judged against. Re-evaluating the scan replaces all of its rows.
    """

    __tablename__ = "policy_evaluations"
    __table_args__ = (
        UniqueConstraint("scan_id", "policy_id", name="uq_policy_evaluation_scan_policy"),
        Index("ix_policy_evaluations_policy_evaluated", "policy_id", "evaluated_at"),
    )

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), nullable=False)
    policy_id: Mapped[str | None] = mapped_column(ForeignKey("policies.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(10), nullable=False)
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    violation_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    violations: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    evaluated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


class ComplianceResult(Base):
    """The framework and custom-rule result of a scan (the library's "compliance result" shape)."""

    __tablename__ = "compliance_results"

    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    result: Mapped[dict] = mapped_column(JSONType, nullable=False)
    evaluated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


class EvaluationRun(JobMixin, Base):
    """One run of the ``compliance`` worker over a scan: the pollable resource behind ``POST …/evaluate``.

    ``trigger`` is ``scan`` for the automatic run after a scan completes, ``manual`` for a request.
    ``outcome`` summarises what the run stored once it completed.
    """

    __tablename__ = "evaluation_runs"
    event_prefix = "evaluation"
    task_name = COMPLIANCE_EVALUATE_SCAN
    __table_args__ = (
        # A person's evaluations in flight, counted at each one they ask for (``web.core.job_quota``).
        Index(
            "ix_evaluation_runs_requester_in_flight",
            "requested_by",
            postgresql_where=text("status IN ('queued', 'running')"),
            sqlite_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    scan_id: Mapped[str] = owned_by_column("scans.id")
    trigger: Mapped[str] = mapped_column(String(20), nullable=False)
    requested_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[dict | None] = mapped_column(JSONType)

    def event_ids(self) -> dict:
        return {self.id_key(): self.id, "scan_id": self.scan_id}

    def task_call(self, session) -> tuple[str, tuple]:
        return self.task_name, (self.scan_id, self.id)


def inactive_framework_ids(session: Session, organization_id: str) -> set[str]:
    """Built-in frameworks the organization switched off (every other one is active)."""
    return set(
        session.scalars(
            select(FrameworkSetting.framework_id).where(
                FrameworkSetting.organization_id == organization_id, FrameworkSetting.active.is_(False)
            )
        )
    )


AI_ROLES = ("provider", "deployer", "importer", "distributor")
RISK_CLASSES = ("prohibited_screening", "high_risk", "limited", "minimal")
# Annex III points 1-8 of Regulation (EU) 2024/1689, in order.
ANNEX_III_AREAS = (
    "biometrics",
    "critical_infrastructure",
    "education",
    "employment",
    "essential_services",
    "law_enforcement",
    "migration_border_control",
    "justice_democratic_processes",
)
ORGANIZATION_WIDE = ""  # the profile target that applies to every scan without one of its own


class AISystemProfile(Base):
    """What the organization is for an AI system, which decides the obligations that bind it.

    ``target`` is a scan target (path or n8n URL) or ``ORGANIZATION_WIDE``; a scan uses the profile
    of its own target when there is one, else the organization-wide one. A field left NULL is
    undecided: the controls it would decide stay warnings that "apply if".
    """

    __tablename__ = "ai_system_profiles"
    __table_args__ = (UniqueConstraint("organization_id", "target", name="uq_ai_system_profile_target"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    target: Mapped[str] = mapped_column(String(1024), nullable=False, default=ORGANIZATION_WIDE)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    role: Mapped[str | None] = mapped_column(String(20))
    risk_class: Mapped[str | None] = mapped_column(String(30))
    annex_iii_area: Mapped[str | None] = mapped_column(String(40))
    places_gpai_model: Mapped[bool | None] = mapped_column(Boolean)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()

    def to_engine(self) -> dict:
        """The profile as the compliance library reads it."""
        return {
            "id": self.id,
            "target": self.target,
            "role": self.role,
            "risk_class": self.risk_class,
            "annex_iii_area": self.annex_iii_area,
            "places_gpai_model": self.places_gpai_model,
        }


class ControlEvidence(Base):
    """An attestation that a manual control is met: a note, an optional file, who attested it, until when.

    The file lives in the row like an export's (``content`` deferred). ``attested_by_email`` keeps
    who attested after the account is gone, because the attestation is a record.
    """

    __tablename__ = "control_evidence"
    __table_args__ = (Index("ix_control_evidence_control", "organization_id", "framework_id", "control_id"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    framework_id: Mapped[str] = mapped_column(String(100), nullable=False)
    control_id: Mapped[str] = mapped_column(String(100), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    content_type: Mapped[str | None] = mapped_column(String(100))
    filename: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    attested_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    attested_by_email: Mapped[str] = mapped_column(String(320), nullable=False)
    attested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    def to_engine(self) -> dict:
        """The attestation as the compliance library and the exports read it (never the file itself)."""
        return {
            "id": self.id,
            "framework_id": self.framework_id,
            "control_id": self.control_id,
            "note": self.note,
            "filename": self.filename,
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "attested_by": self.attested_by_email,
            "attested_at": isoformat(self.attested_at),
            "expires_at": isoformat(self.expires_at),
        }


def profile_for(session: Session, organization_id: str, target: str | None) -> AISystemProfile | None:
    """The profile of ``target``, else the organization-wide one, else None."""
    rows = session.scalars(
        select(AISystemProfile).where(
            AISystemProfile.organization_id == organization_id,
            AISystemProfile.target.in_({target or ORGANIZATION_WIDE, ORGANIZATION_WIDE}),
        )
    )
    by_target = {row.target: row for row in rows}
    return by_target.get(target or ORGANIZATION_WIDE) or by_target.get(ORGANIZATION_WIDE)


def attestations(session: Session, organization_id: str) -> list[dict]:
    """Every attestation of the organization, oldest first, in the library's shape."""
    rows = session.scalars(
        select(ControlEvidence)
        .where(ControlEvidence.organization_id == organization_id)
        .order_by(ControlEvidence.attested_at, ControlEvidence.id)
    )
    return [row.to_engine() for row in rows]

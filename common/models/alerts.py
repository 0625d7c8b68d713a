"""Alert rules (a trigger over scan outcomes plus webhook channels) and the alerts they raise.

``Alert.open_key`` is ``"<rule id>:<sha256 of the target>"`` while the alert is unresolved and NULL once
resolved; its unique constraint is what keeps one unresolved alert per rule and target even
when two scans of the same target finish at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, JSONType
from common.models.base import created_column, id_column, owned_by_column, updated_column

ALERT_TRIGGERS = (
    "severity_at_least",
    "new_component",
    "policy_failed",
    "risk_score_above",
    "scan_failed",
    "evidence_expiring",
)
ALERT_STATUSES = ("open", "acknowledged", "resolved")


class AlertRule(Base):
    __tablename__ = "alert_rules"

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    trigger: Mapped[str] = mapped_column(String(40), nullable=False)
    params: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    webhook_ids: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("open_key", name="uq_alert_open_key"),
        UniqueConstraint("rule_id", "scan_id", name="uq_alert_rule_scan"),
    )

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    rule_id: Mapped[str | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"), index=True)
    scan_id: Mapped[str | None] = mapped_column(ForeignKey("scans.id", ondelete="SET NULL"), index=True)
    last_scan_id: Mapped[str | None] = mapped_column(ForeignKey("scans.id", ondelete="SET NULL"))
    target: Mapped[str] = mapped_column(Text, nullable=False, default="")
    open_key: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="open", nullable=False, index=True)
    severity: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    details: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    occurrences: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    created_at: Mapped[datetime] = created_column()
    acknowledged_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def mapped_model(name: str) -> type | None:
    """Another feature's model by class name, or None when that feature is not installed.

    Alert rules read policy outcomes this way, so alerts work with or without the compliance feature.
    """
    return next((m.class_ for m in Base.registry.mappers if m.class_.__name__ == name), None)

"""Webhooks, the events queued for them, and every delivery and delivery attempt.

A ``WebhookEvent`` is written once per published event (the outbox); the dispatcher
creates one ``WebhookDelivery`` per subscribed webhook (unique per webhook and event,
so a redelivered dispatch adds nothing), and each HTTP try is one ``WebhookDeliveryAttempt``
(unique per delivery and attempt number, so a redelivered attempt is recorded once).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Base, JSONType
from common.models.base import created_column, id_column, owned_by_column, updated_column


class DeliveryStatus(StrEnum):
    """A delivery's lifecycle (not a job's: it retries on its own schedule and may be replayed)."""

    PENDING = "pending"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # the event was raised while the webhook was disabled; an admin may replay it


DELIVERY_STATUSES = tuple(status.value for status in DeliveryStatus)
FINAL_DELIVERY_STATUSES = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
# ``generic`` receivers get the signed Standard Webhooks body; chat kinds get their product's message format.
WEBHOOK_KINDS = ("generic", "slack", "teams")


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    url: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="generic", server_default="generic")
    events: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class WebhookEvent(Base):
    """One event as it will be sent: the body is fixed here so every attempt signs the same bytes."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    type: Mapped[str] = mapped_column(String(50), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_column()


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id", name="uq_webhook_delivery_event"),)

    id: Mapped[str] = id_column()
    webhook_id: Mapped[str] = owned_by_column("webhooks.id")
    event_id: Mapped[str] = owned_by_column("webhook_events.id")
    event_type: Mapped[str] = mapped_column(String(50), nullable=False)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING.value, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When a worker claimed attempt ``attempts + 1`` and began to send it; None once its outcome is
    # recorded. The send runs outside any transaction, so this claim, not a held row lock, keeps a
    # concurrent delivery of the same message from sending the attempt again.
    sending_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDeliveryAttempt(Base):
    __tablename__ = "webhook_delivery_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "attempt", name="uq_webhook_attempt_number"),)

    id: Mapped[str] = id_column()
    delivery_id: Mapped[str] = owned_by_column("webhook_deliveries.id")
    webhook_id: Mapped[str] = owned_by_column("webhooks.id")
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    success: Mapped[bool] = mapped_column(Boolean, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    next_retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_column()

    delivery: Mapped[WebhookDelivery] = relationship(lazy="selectin")

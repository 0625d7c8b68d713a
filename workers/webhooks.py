"""``webhooks.dispatch`` fans one event out to its webhooks; ``webhooks.deliver`` makes one attempt.

Both are safe to run twice, even at once: a delivery is unique per webhook and event, and an
attempt is sent while its delivery's row is locked and recorded in that transaction, so a second
delivery of the message finds it being sent (or sent) and sends nothing. Retries are new
``deliver`` messages with a countdown.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common import webhooks
from common.celery_client import enqueue
from common.db import session_scope
from common.models.base import utcnow
from common.models.webhooks import (
    FINAL_DELIVERY_STATUSES,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from common.security import decrypt_secret
from common.tasks import WEBHOOK_DELIVER, WEBHOOK_DISPATCH, TaskOutcome
from workers.app import app
from workers.base import TRANSIENT_ERRORS, PlatformTask

log = logging.getLogger(__name__)


def _create_deliveries(event_id: str) -> list[str]:
    """Deliveries of the event that still await their first attempt (created now or by an earlier run)."""
    with session_scope() as session:
        event = session.get(WebhookEvent, event_id)
        if event is None:
            return []
        existing = set(
            session.scalars(select(WebhookDelivery.webhook_id).where(WebhookDelivery.event_id == event_id))
        )
        enabled, disabled = webhooks.event_targets(session, event)
        for webhook_id in enabled:
            if webhook_id not in existing:
                session.add(WebhookDelivery(webhook_id=webhook_id, event_id=event_id, event_type=event.type))
        for webhook_id in disabled:
            if webhook_id not in existing:
                session.add(webhooks.skipped_delivery(webhook_id, event))
    with session_scope() as session:
        return list(
            session.scalars(
                select(WebhookDelivery.id).where(
                    WebhookDelivery.event_id == event_id,
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.attempts == 0,
                )
            )
        )


@app.task(bind=True, base=PlatformTask, name=WEBHOOK_DISPATCH)
def dispatch_event(self: PlatformTask, event_id: str) -> int:
    try:
        try:
            delivery_ids = _create_deliveries(event_id)
        except IntegrityError:  # a concurrent run of the same event created them first
            delivery_ids = _create_deliveries(event_id)
    except TRANSIENT_ERRORS as exc:
        raise self.retry_later(exc) from exc
    for delivery_id in delivery_ids:
        enqueue(WEBHOOK_DELIVER, delivery_id, 1)
    return len(delivery_ids)


def _claim(session: Session, delivery_id: str, attempt: int) -> tuple[WebhookDelivery, Webhook, str] | None:
    """The delivery, its webhook and the event's body when attempt ``attempt`` is due, with the delivery
    row locked until ``session`` ends; a disabled webhook's delivery is skipped.

    None also when another delivery of this message holds the row: it is sending this attempt now, and
    the lock, released by its commit or its connection's end, is what keeps the request from being sent
    twice (a check of ``attempts`` alone passes for both while neither has recorded its outcome).

    The webhook's row is held first (``FOR KEY SHARE``: other deliveries and edits go on), as its deletion
    locks it before cascading to its deliveries. Claiming the delivery first and locking the webhook after
    the send, the other order, deadlocked with a deletion made during the send.
    """
    webhook_id = session.scalar(select(WebhookDelivery.webhook_id).where(WebhookDelivery.id == delivery_id))
    if webhook_id is None:
        return None
    session.execute(
        select(Webhook.id).where(Webhook.id == webhook_id).with_for_update(read=True, key_share=True)
    )
    row = session.execute(
        select(WebhookDelivery, WebhookEvent.body)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id == delivery_id)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    ).one_or_none()
    if row is None:
        return None
    delivery, body = row
    if delivery.status in FINAL_DELIVERY_STATUSES or delivery.attempts >= attempt:
        return None
    webhook = session.get(Webhook, delivery.webhook_id)
    if not webhook.enabled:
        webhooks.skip(delivery)
        return None
    return delivery, webhook, body


@app.task(bind=True, base=PlatformTask, name=WEBHOOK_DELIVER)
def deliver(self: PlatformTask, delivery_id: str, attempt: int = 1) -> str | None:
    """Make attempt ``attempt`` while holding the delivery's row, and record its outcome in that
    transaction (a worker lost mid-send rolls back, and the redelivered message sends it again)."""
    policy = webhooks.RetryPolicy.from_env()
    retry_in = None
    try:
        with session_scope() as session:
            claimed = _claim(session, delivery_id, attempt)
            if claimed is None:
                return None
            delivery, webhook, body = claimed
            started_at = utcnow()
            outcome = webhooks.send(
                webhook.url,
                decrypt_secret(webhook.secret_encrypted),
                delivery_id,
                body,
                policy.timeout_seconds,
                webhook.kind,
            )
            if not outcome.success and outcome.retryable and attempt < policy.max_attempts:
                retry_in = policy.delay(attempt, outcome.retry_after)
            # Other events' deliveries count the webhook's failures too: read them under its lock
            # (``NO KEY UPDATE``, which the key-share locks of the others' claims do not block).
            webhook = session.get(
                Webhook, webhook.id, with_for_update={"key_share": True}, populate_existing=True
            )
            webhooks.record_outcome(
                session,
                delivery,
                webhook,
                outcome,
                attempt=attempt,
                started_at=started_at,
                retry_in=retry_in,
                policy=policy,
            )
            status = delivery.status
    except TRANSIENT_ERRORS as exc:
        raise self.retry_later(exc) from exc
    if status == DeliveryStatus.FAILED:  # given up after its last attempt
        self._record_outcome(TaskOutcome.DEAD_LETTERED)
    if retry_in is not None:
        enqueue(WEBHOOK_DELIVER, delivery_id, attempt + 1, countdown=retry_in)
    return status

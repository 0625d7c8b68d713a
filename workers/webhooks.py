"""``webhooks.dispatch`` fans one event out to its webhooks; ``webhooks.deliver`` makes one attempt.

Both are safe to run twice: a delivery is unique per webhook and event, and an attempt is
recorded once per delivery and attempt number, so a redelivered message sends nothing twice
once its outcome is written. Retries are new ``deliver`` messages with a countdown.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

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


def _delivery_with_webhook():
    return select(WebhookDelivery, Webhook).join(Webhook, Webhook.id == WebhookDelivery.webhook_id)


def _load(delivery_id: str, attempt: int) -> tuple[str, str, str, str] | None:
    """(url, secret, body, kind) when attempt ``attempt`` is due; a disabled webhook's delivery is skipped."""
    with session_scope() as session:
        row = session.execute(
            _delivery_with_webhook()
            .add_columns(WebhookEvent.body)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id == delivery_id)
        ).one_or_none()
        if row is None:
            return None
        delivery, webhook, body = row
        if delivery.status in FINAL_DELIVERY_STATUSES or delivery.attempts >= attempt:
            return None
        if not webhook.enabled:
            webhooks.skip(delivery)
            return None
        return webhook.url, decrypt_secret(webhook.secret_encrypted), body, webhook.kind


@app.task(bind=True, base=PlatformTask, name=WEBHOOK_DELIVER)
def deliver(self: PlatformTask, delivery_id: str, attempt: int = 1) -> str | None:
    policy = webhooks.RetryPolicy.from_env()
    try:
        target = _load(delivery_id, attempt)
    except TRANSIENT_ERRORS as exc:
        raise self.retry_later(exc) from exc
    if target is None:
        return None
    url, secret, body, kind = target
    started_at = utcnow()
    outcome = webhooks.send(url, secret, delivery_id, body, policy.timeout_seconds, kind)
    retry_in = None
    if not outcome.success and outcome.retryable and attempt < policy.max_attempts:
        retry_in = policy.delay(attempt, outcome.retry_after)
    with session_scope() as session:
        row = session.execute(
            _delivery_with_webhook().where(WebhookDelivery.id == delivery_id).with_for_update()
        ).one_or_none()
        if row is None or row[0].status in FINAL_DELIVERY_STATUSES or row[0].attempts >= attempt:
            return None  # a duplicate of this message recorded the attempt first
        delivery, webhook = row
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
    if status == DeliveryStatus.FAILED:  # given up after its last attempt
        self._record_outcome(TaskOutcome.DEAD_LETTERED)
    if retry_in is not None:
        enqueue(WEBHOOK_DELIVER, delivery_id, attempt + 1, countdown=retry_in)
    return status

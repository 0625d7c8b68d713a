"""``webhooks.dispatch`` fans one event out to its webhooks; ``webhooks.deliver`` makes one attempt.

Both are safe to run twice, even at once: a delivery is unique per webhook and event, and an
attempt is claimed in one short transaction (``WebhookDelivery.sending_since``), sent outside any
transaction, and recorded in another, so a second delivery of the message finds it claimed (or sent)
and sends nothing. Retries are new ``deliver`` messages with a countdown.

The deliveries threads are shared by every organization, and a receiver may answer as slowly as the
exchange's deadline allows: an organization sends at most ``WEBHOOK_SENDS_PER_ORG`` at once, and so do
the webhooks one user created across all their organizations (``common.org_slots.Share``); further
deliveries wait their turn on the queue, so neither one organization's receivers nor one person's
organizations hold every thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common import netguard, webhooks
from common.accounts import hold_organization
from common.celery_client import enqueue
from common.db import session_scope
from common.models.base import as_utc, utcnow
from common.models.webhooks import (
    FINAL_DELIVERY_STATUSES,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from common.org_slots import Share, turn_wait
from common.security import decrypt_secret
from common.tasks import WEBHOOK_DELIVER, WEBHOOK_DISPATCH, TaskOutcome
from workers.app import app
from workers.base import TRANSIENT_ERRORS, PlatformTask

log = logging.getLogger(__name__)

CLAIM_MARGIN_SECONDS = 30  # beyond the longest send: the worker's own scheduling, a slow commit


def _create_deliveries(event_id: str) -> list[str]:
    """Deliveries of the event that still await their first attempt (created now or by an earlier run).

    The event's organization is held before any delivery references its webhooks and the event, in the
    order its deletion locks them (``hold_organization``)."""
    with session_scope() as session:
        event = session.get(WebhookEvent, event_id)
        if event is None or not hold_organization(session, event.organization_id):
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


@dataclass(frozen=True)
class Claimed:
    """What sending one claimed attempt needs, read in the claiming transaction."""

    url: str
    secret: str
    kind: str
    body: str


@dataclass(frozen=True)
class Busy:
    """Another delivery of this message claimed the attempt ``retry_in`` seconds before its claim lapses."""

    retry_in: float


@dataclass(frozen=True)
class NotItsTurn:
    """The webhook's organization already has ``WEBHOOK_SENDS_PER_ORG`` sends in flight: look again in
    ``retry_in`` seconds."""

    retry_in: float


def claim_lapses_after(policy: webhooks.RetryPolicy) -> timedelta:
    """How long a claimed attempt stays another delivery's: longer than any send can take (each exchange
    ends within ``EXCHANGE_SECONDS_PER_TIMEOUT`` times the timeout), so a claim still standing after it
    belongs to a worker lost mid-send, and the attempt is sent again rather than lost."""
    return timedelta(
        seconds=netguard.EXCHANGE_SECONDS_PER_TIMEOUT * policy.timeout_seconds + CLAIM_MARGIN_SECONDS
    )


def _webhook_id_of(session: Session, delivery_id: str) -> str | None:
    """The delivery's webhook, read before either row is locked: its webhook's row is locked first."""
    return session.scalar(select(WebhookDelivery.webhook_id).where(WebhookDelivery.id == delivery_id))


def _claim(
    delivery_id: str, attempt: int, policy: webhooks.RetryPolicy, share: Share, waits: int = 0
) -> Claimed | Busy | NotItsTurn | None:
    """Claim attempt ``attempt`` of the delivery in one short transaction (``sending_since``), or say why
    not: None when it is not due (sent, final, gone, its webhook disabled: skipped), ``Busy`` while
    another delivery of the message holds a claim that has not lapsed, ``NotItsTurn`` when ``share``
    cannot be taken (the organization's sends in flight, or those of the webhooks its creator made in
    any organization, are at their cap; nothing is claimed, and the
    delivery's ``next_retry_at`` says when it looks again, so the reconciler leaves it to its message).

    The webhook's row is held first (``FOR KEY SHARE``: other deliveries and edits go on), as its deletion
    locks it before cascading to its deliveries; the delivery's row is then locked ``SKIP LOCKED``: a
    delivery that finds it locked is beside another one claiming it now, which will send it.
    """
    with session_scope() as session:
        webhook_id = _webhook_id_of(session, delivery_id)
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
        now = utcnow()
        if delivery.sending_since is not None:
            lapses_at = as_utc(delivery.sending_since) + claim_lapses_after(policy)
            if lapses_at > now:
                return Busy(retry_in=(lapses_at - now).total_seconds())
        webhook = session.get(Webhook, delivery.webhook_id)
        if not webhook.enabled:
            webhooks.skip(delivery)
            return None
        lease = claim_lapses_after(policy).total_seconds()
        if not share.take(webhook.organization_id, webhook.created_by, policy.sends_per_organization, lease):
            wait = turn_wait(waits)
            delivery.next_retry_at = now + timedelta(seconds=wait)
            return NotItsTurn(retry_in=wait)
        delivery.sending_since = now
        return Claimed(webhook.url, decrypt_secret(webhook.secret_encrypted), webhook.kind, body)


def _record(
    delivery_id: str,
    attempt: int,
    outcome: webhooks.AttemptOutcome,
    started_at: datetime,
    retry_in: float | None,
    policy: webhooks.RetryPolicy,
) -> str | None:
    """Record the attempt's outcome in a second short transaction; the delivery's status, or None when
    there is nothing to record: the webhook was deleted during the send (its deliveries with it), or
    another delivery recorded this attempt (it took over a lapsed claim, and sends what follows).

    The webhook's row is locked before the delivery's, as its deletion locks them, and ``NO KEY UPDATE``:
    other events' deliveries count its failures too, and the key-share locks of their claims do not
    wait for it."""
    with session_scope() as session:
        webhook_id = _webhook_id_of(session, delivery_id)
        webhook = (
            session.get(Webhook, webhook_id, with_for_update={"key_share": True}, populate_existing=True)
            if webhook_id
            else None
        )
        delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True) if webhook else None
        if delivery is None:
            return None
        if delivery.attempts >= attempt:
            return None
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
        delivery.sending_since = None
        return delivery.status


@app.task(bind=True, base=PlatformTask, name=WEBHOOK_DELIVER)
def deliver(self: PlatformTask, delivery_id: str, attempt: int = 1, waits: int = 0) -> str | None:
    """Claim attempt ``attempt``, send it outside any transaction, then record its outcome.

    A receiver that answers slowly holds no database connection and no row lock while it does: the
    webhook may be edited or deleted meanwhile, and slow receivers cannot take the pool. A delivery of
    the same message meanwhile finds the claim and looks again once it would have lapsed (a worker lost
    mid-send leaves its claim standing; the attempt is then sent again, not lost). One that finds its
    organization's sends at their cap goes back on the queue (``waits`` times so far): no attempt is made
    or counted."""
    policy = webhooks.RetryPolicy.from_env()
    retry_in = None
    share = Share("webhook-sends")
    try:
        claimed = _claim(delivery_id, attempt, policy, share, waits)
        if isinstance(claimed, Busy):
            enqueue(WEBHOOK_DELIVER, delivery_id, attempt, countdown=claimed.retry_in)
            return None
        if isinstance(claimed, NotItsTurn):
            enqueue(WEBHOOK_DELIVER, delivery_id, attempt, waits + 1, countdown=claimed.retry_in)
            return None
        if claimed is None:
            return None
        started_at = utcnow()
        outcome = webhooks.send(
            claimed.url, claimed.secret, delivery_id, claimed.body, policy.timeout_seconds, claimed.kind
        )
        if not outcome.success and outcome.retryable and attempt < policy.max_attempts:
            retry_in = policy.delay(attempt, outcome.retry_after)
        status = _record(delivery_id, attempt, outcome, started_at, retry_in, policy)
    except TRANSIENT_ERRORS as exc:
        raise self.retry_later(exc) from exc
    finally:
        share.release()
    if status == DeliveryStatus.FAILED:  # given up after its last attempt
        self._record_outcome(TaskOutcome.DEAD_LETTERED)
    if retry_in is not None and status is not None:
        enqueue(WEBHOOK_DELIVER, delivery_id, attempt + 1, countdown=retry_in)
    return status

"""Webhook delivery rules shared by the API (test sends), the event publisher (outbox) and the workers.

- :func:`record_event` is the outbox: it stores an event's body once, only when some enabled
  webhook of the organization could receive it, so events nobody listens to cost one small query.
- :func:`send` makes one signed HTTP attempt through :mod:`common.netguard` and classifies it.
- :func:`record_outcome` writes the attempt and moves the delivery (and the webhook's failure streak) on.
- :class:`RetryPolicy` holds the knobs, read from the environment at each use so operators and
  tests can tune them: ``WEBHOOK_MAX_ATTEMPTS`` (8), ``WEBHOOK_RETRY_BASE_SECONDS`` (30),
  ``WEBHOOK_RETRY_MAX_SECONDS`` (3600), ``WEBHOOK_TIMEOUT_SECONDS`` (10),
  ``WEBHOOK_DISABLE_AFTER_FAILURES`` (10 consecutive failed deliveries), ``WEBHOOK_SENDS_PER_ORG`` (4
  sends of one organization at once, across workers: ``workers.webhooks.SendSlot``).
"""

from __future__ import annotations

import json
import os
import random
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from urllib3.exceptions import HTTPError as Urllib3Error

from common import chat_messages, netguard
from common.models.alerts import AlertRule
from common.models.base import isoformat, new_id, utcnow
from common.models.webhooks import (
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEvent,
)
from common.webhook_signing import signature_headers

TEST_EVENT = "webhook.test"
WEBHOOK_EVENT_TYPES = (
    "scan.started",
    "scan.completed",
    "scan.failed",
    "policy.violated",
    "alert.triggered",
    "export.completed",
    TEST_EVENT,
)
# Events the publisher hands to the outbox (the test event is sent directly by the API).
OUTBOX_EVENT_TYPES = frozenset(WEBHOOK_EVENT_TYPES) - {TEST_EVENT}
ALERT_EVENT = "alert.triggered"

RESPONSE_EXCERPT_CHARS = 1000
USER_AGENT = "trusera-webhooks/0.1"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 30.0
    max_delay_seconds: float = 3600.0
    timeout_seconds: float = 10.0
    disable_after_failures: int = 10
    sends_per_organization: int = 4

    @classmethod
    def from_env(cls) -> RetryPolicy:
        env = os.environ.get
        return cls(
            max_attempts=max(1, int(env("WEBHOOK_MAX_ATTEMPTS", cls.max_attempts))),
            base_seconds=float(env("WEBHOOK_RETRY_BASE_SECONDS", cls.base_seconds)),
            max_delay_seconds=float(env("WEBHOOK_RETRY_MAX_SECONDS", cls.max_delay_seconds)),
            timeout_seconds=float(env("WEBHOOK_TIMEOUT_SECONDS", cls.timeout_seconds)),
            disable_after_failures=max(
                1, int(env("WEBHOOK_DISABLE_AFTER_FAILURES", cls.disable_after_failures))
            ),
            sends_per_organization=max(1, int(env("WEBHOOK_SENDS_PER_ORG", cls.sends_per_organization))),
        )

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before attempt ``attempt + 1``: exponential plus up to 25 % jitter, at least Retry-After.

        The jitter only ever adds, so each wait is at least the previous one's upper bound
        times 1.6: delays grow strictly while retries from many deliveries still spread out.
        """
        backoff = self.base_seconds * 2 ** (attempt - 1)
        backoff *= 1 + random.uniform(0, 0.25)
        return min(self.max_delay_seconds, max(backoff, retry_after or 0.0))


@dataclass
class AttemptOutcome:
    success: bool
    retryable: bool
    status_code: int | None
    duration_ms: int
    response_excerpt: str | None
    error: str | None
    retry_after: float | None = None


def event_body(event_id: str, organization_id: str, event_type: str, data: dict) -> str:
    """The JSON every receiver gets: ``{"id", "type", "timestamp", "organization_id", "data"}``."""
    return json.dumps(
        {
            "id": event_id,
            "type": event_type,
            "timestamp": isoformat(utcnow()),
            "organization_id": organization_id,
            "data": data,
        },
        separators=(",", ":"),
        default=str,
    )


def has_listeners(session: Session, organization_id: str, event_type: str) -> bool:
    """Could any webhook receive this event? (Alert channels are any webhook of the organization.)

    Disabled webhooks count: the event is kept for them as a ``skipped`` delivery an admin can replay.
    """
    subscriptions = session.scalars(
        select(Webhook.events).where(Webhook.organization_id == organization_id)
    ).all()
    if event_type == ALERT_EVENT:
        return bool(subscriptions)
    return any(event_type in (events or []) for events in subscriptions)


def record_event(session: Session, organization_id: str, event_type: str, data: dict) -> str | None:
    """Store the event for dispatch when someone listens; returns its id, or None when nobody does."""
    if event_type not in OUTBOX_EVENT_TYPES or not has_listeners(session, organization_id, event_type):
        return None
    event_id = new_id()
    session.add(
        WebhookEvent(
            id=event_id,
            organization_id=organization_id,
            type=event_type,
            body=event_body(event_id, organization_id, event_type, data),
        )
    )
    return event_id


def event_targets(session: Session, event: WebhookEvent) -> tuple[list[str], list[str]]:
    """Webhooks subscribed to the event's type, plus, for an alert, its rule's channels.

    Returns (enabled ids, disabled ids): the first get a delivery, the second a ``skipped`` one.
    """
    rows = session.execute(
        select(Webhook.id, Webhook.events, Webhook.enabled).where(
            Webhook.organization_id == event.organization_id
        )
    ).all()
    targets = {webhook_id for webhook_id, events, _enabled in rows if event.type in (events or [])}
    if event.type == ALERT_EVENT:
        rule_id = json.loads(event.body).get("data", {}).get("rule_id")
        rule = session.get(AlertRule, rule_id) if rule_id else None
        if rule is not None and rule.organization_id == event.organization_id:
            targets |= {webhook_id for webhook_id, _e, _en in rows} & set(rule.webhook_ids or [])
    enabled = {webhook_id for webhook_id, _events, is_enabled in rows if is_enabled}
    return sorted(targets & enabled), sorted(targets - enabled)


def skipped_delivery(webhook_id: str, event: WebhookEvent) -> WebhookDelivery:
    """The record of an event raised while its webhook was disabled."""
    delivery = WebhookDelivery(webhook_id=webhook_id, event_id=event.id, event_type=event.type)
    skip(delivery)
    return delivery


def skip(delivery: WebhookDelivery) -> None:
    delivery.status = DeliveryStatus.SKIPPED.value
    delivery.next_retry_at = None
    delivery.finished_at = utcnow()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def request_for(kind: str, secret: str, delivery_id: str, body: str) -> tuple[bytes, dict[str, str]]:
    """The bytes and headers a destination of ``kind`` receives for the stored event ``body``.

    A ``generic`` receiver gets the event itself, Standard-Webhooks signed; Slack and Teams verify no
    signature, so they get their own message format and the secret stays out of the request.
    """
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if kind in chat_messages.RENDERERS:
        return chat_messages.render(kind, body).encode(), headers
    payload = body.encode()
    return payload, {**signature_headers(secret, delivery_id, payload), **headers}


def send(
    url: str, secret: str, delivery_id: str, body: str, timeout: float, kind: str = "generic"
) -> AttemptOutcome:
    """One POST; network errors, 5xx and 429 are retryable, anything else but 2xx is final."""
    payload, headers = request_for(kind, secret, delivery_id, body)
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        result = netguard.post(url, payload, headers, timeout=timeout)
    except netguard.UnsafeDestination as exc:
        return AttemptOutcome(False, False, None, elapsed(), None, f"refused: {exc}")
    except socket.gaierror as exc:
        return AttemptOutcome(False, True, None, elapsed(), None, f"DNS resolution failed: {exc}")
    except (Urllib3Error, OSError) as exc:
        return AttemptOutcome(False, True, None, elapsed(), None, f"{type(exc).__name__}: {exc}"[:1000])
    status = result.status
    excerpt = result.body_excerpt.decode("utf-8", errors="replace")[:RESPONSE_EXCERPT_CHARS]
    if 200 <= status < 300:
        return AttemptOutcome(True, False, status, elapsed(), excerpt, None)
    retryable = status == 429 or status >= 500
    retry_after = parse_retry_after(_header(result.headers, "Retry-After")) if retryable else None
    error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    return AttemptOutcome(False, retryable, status, elapsed(), excerpt, error, retry_after)


def _header(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def record_outcome(
    session: Session,
    delivery: WebhookDelivery,
    webhook: Webhook,
    outcome: AttemptOutcome,
    *,
    attempt: int,
    started_at: datetime,
    retry_in: float | None,
    policy: RetryPolicy | None,
) -> None:
    """Write the attempt and settle the delivery; ``policy`` None means the failure streak is untouched."""
    next_retry_at = started_at + timedelta(seconds=retry_in) if retry_in is not None else None
    session.add(
        WebhookDeliveryAttempt(
            delivery_id=delivery.id,
            webhook_id=webhook.id,
            attempt=attempt,
            success=outcome.success,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            response_excerpt=outcome.response_excerpt,
            error=outcome.error,
            next_retry_at=next_retry_at,
            created_at=started_at,
        )
    )
    delivery.attempts = attempt
    delivery.next_retry_at = next_retry_at
    if outcome.success:
        delivery.status = DeliveryStatus.SUCCEEDED.value
        delivery.finished_at = utcnow()
        if policy is not None:
            webhook.consecutive_failures = 0
    elif next_retry_at is not None:
        delivery.status = DeliveryStatus.RETRYING.value
    else:
        delivery.status = DeliveryStatus.FAILED.value
        delivery.finished_at = utcnow()
        if policy is not None:
            _count_failure(webhook, outcome, policy)


def _count_failure(webhook: Webhook, outcome: AttemptOutcome, policy: RetryPolicy) -> None:
    webhook.consecutive_failures = (webhook.consecutive_failures or 0) + 1
    if webhook.enabled and webhook.consecutive_failures >= policy.disable_after_failures:
        webhook.enabled = False
        webhook.disabled_at = utcnow()
        webhook.disabled_reason = (
            f"Disabled automatically after {webhook.consecutive_failures} consecutive failed deliveries "
            f'(last: {outcome.error or "no response"}). Re-enable with PUT {{"enabled": true}}.'
        )

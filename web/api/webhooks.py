"""``/webhooks``: signed event deliveries to the organization's endpoints, their history and a test send.

The secret is write-only: stored encrypted, generated when absent and then shown once in
the creation response, never returned afterwards.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint, abort
from sqlalchemy import func, or_, select

from common import netguard, webhooks
from common.celery_client import enqueue
from common.models.alerts import AlertRule
from common.models.base import isoformat, new_id, utcnow
from common.models.webhooks import (
    DELIVERY_STATUSES,
    WEBHOOK_KINDS,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEvent,
)
from common.security import decrypt_secret, encrypt_secret
from common.tasks import WEBHOOK_DELIVER
from common.webhook_signing import chosen_secret_problem, generate_secret
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.filtering import apply_filters, equal_columns, equals, is_
from web.core.openapi import REQUIRED_LOCATION, ObjectSchema, PageSchema, ResourceSchema
from web.core.outbound import outbound_request
from web.core.pagination import page_args_with, paginate
from web.core.ratelimits import limit_group

log = logging.getLogger(__name__)

REPLAYABLE_STATUSES = (DeliveryStatus.SKIPPED, DeliveryStatus.FAILED)
REPLAY_BATCH_LIMIT = 500

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks", description="Webhooks and deliveries")


def _check_url(url: str) -> None:
    errors = netguard.url_errors(url)
    if errors:
        raise ma.ValidationError(errors)


def _check_secret(secret: str) -> None:
    problem = chosen_secret_problem(secret)
    if problem:
        raise ma.ValidationError(problem)


Secret = ma.validate.Length(min=16, max=500)


class WebhookUpdateSchema(ma.Schema):
    url = ma.fields.String(validate=[ma.validate.Length(min=1, max=2048), _check_url])
    events = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(webhooks.WEBHOOK_EVENT_TYPES)),
        validate=ma.validate.Length(min=1, max=len(webhooks.WEBHOOK_EVENT_TYPES)),
    )
    secret = ma.fields.String(validate=[Secret, _check_secret], load_only=True)
    enabled = ma.fields.Boolean()
    kind = ma.fields.String(validate=ma.validate.OneOf(WEBHOOK_KINDS))

    @ma.post_load
    def unique_events(self, data, **_kwargs):
        if "events" in data:
            data["events"] = list(dict.fromkeys(data["events"]))
        return data


class WebhookCreateSchema(WebhookUpdateSchema):
    url = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=2048), _check_url])
    events = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(webhooks.WEBHOOK_EVENT_TYPES)),
        required=True,
        validate=ma.validate.Length(min=1, max=len(webhooks.WEBHOOK_EVENT_TYPES)),
    )
    secret = ma.fields.String(load_default=None, validate=[Secret, _check_secret], load_only=True)
    enabled = ma.fields.Boolean(load_default=True)
    kind = ma.fields.String(load_default="generic", validate=ma.validate.OneOf(WEBHOOK_KINDS))


WebhookListArgs = page_args_with(enabled=ma.fields.Boolean())


class ReplaySchema(ma.Schema):
    since = ma.fields.AwareDateTime(required=True, default_timezone=None)
    until = ma.fields.AwareDateTime(load_default=None)
    statuses = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(REPLAYABLE_STATUSES)),
        load_default=list(REPLAYABLE_STATUSES),
        validate=ma.validate.Length(min=1),
    )

    @ma.validates_schema
    def ordered_window(self, data, **_kwargs):
        if data.get("until") is not None and data["until"] < data["since"]:
            raise ma.ValidationError("Must not be before 'since'.", "until")


DeliveryListArgs = page_args_with(
    status=ma.fields.String(validate=ma.validate.OneOf(DELIVERY_STATUSES)),
    event_type=ma.fields.String(validate=ma.validate.OneOf(webhooks.WEBHOOK_EVENT_TYPES)),
    delivery_id=ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
)


def shown_url(url: str) -> tuple[str, bool]:
    """The URL as the acting member may see it, and whether it was masked. A webhook URL often is its
    receiver's credential (a Slack or Teams incoming webhook's token in the path, ``?token=``, ``?code=``):
    the admins who manage webhooks read it whole, other members its scheme and host only."""
    if context().role == "admin":
        return url, False
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/...", True


def webhook_json(webhook: Webhook) -> dict:
    url, masked = shown_url(webhook.url)
    return {
        "id": webhook.id,
        "organization_id": webhook.organization_id,
        "url": url,
        "url_masked": masked,
        "kind": webhook.kind,
        "events": webhook.events,
        "enabled": webhook.enabled,
        "disabled_reason": webhook.disabled_reason,
        "disabled_at": isoformat(webhook.disabled_at),
        "consecutive_failures": webhook.consecutive_failures,
        "created_by": webhook.created_by,
        "created_at": isoformat(webhook.created_at),
        "updated_at": isoformat(webhook.updated_at),
    }


def history_json(row: tuple[WebhookDelivery, WebhookDeliveryAttempt | None]) -> dict:
    """One attempt; a skipped delivery, which has none, shows as attempt 0. The receiver's answer is shown
    to admins only, as its URL is (``shown_url``): a receiver may echo the request's path or query (an
    Express 404 page says ``Cannot POST /hooks/<token>``), and so the token the URL is masked for."""
    delivery, attempt = row
    answer = attempt.response_excerpt if attempt and context().role == "admin" else None
    return {
        "id": attempt.id if attempt else delivery.id,
        "delivery_id": delivery.id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "delivery_status": delivery.status,
        "attempt": attempt.attempt if attempt else 0,
        "success": attempt.success if attempt else False,
        "status_code": attempt.status_code if attempt else None,
        "duration_ms": attempt.duration_ms if attempt else None,
        "response_excerpt": answer,
        "error": attempt.error if attempt else None,
        "next_retry_at": isoformat(attempt.next_retry_at if attempt else delivery.next_retry_at),
        "created_at": isoformat(attempt.created_at if attempt else delivery.created_at),
    }


@blp.route("", methods=["POST"])
@blp.alt_response(201, schema=ResourceSchema, success=True, headers=REQUIRED_LOCATION)
@access("admin")
@blp.arguments(WebhookCreateSchema)
def create_webhook(body):
    ctx = context()
    generated = body["secret"] is None
    secret = generate_secret() if generated else body["secret"]
    webhook = Webhook(
        organization_id=ctx.organization_id,
        created_by=ctx.user_id,
        url=body["url"],
        kind=body["kind"],
        events=body["events"],
        enabled=body["enabled"],
        secret_encrypted=encrypt_secret(secret),
    )
    db().add(webhook)
    db().commit()
    audit("webhook.create", "webhook", webhook.id, url=webhook.url, events=webhook.events)
    response = webhook_json(webhook)
    if generated:
        response["secret"] = secret  # the only time it is ever shown
    return response, 201, {"Location": url_for("webhooks.get_webhook", webhook_id=webhook.id)}


@blp.route("", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(WebhookListArgs, location="query")
def list_webhooks(args):
    query = select(Webhook).where(Webhook.organization_id == context().organization_id)
    query = apply_filters(query, Webhook, args, {"enabled": is_()})
    return paginate(query.order_by(Webhook.created_at.desc()), args["page"], args["per_page"], webhook_json)


@blp.route("/<webhook_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("viewer")
def get_webhook(webhook_id):
    return webhook_json(scoped_get_or_404(Webhook, webhook_id, "Webhook"))


@blp.route("/<webhook_id>", methods=["PUT"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("admin")
@blp.arguments(WebhookUpdateSchema)
def update_webhook(body, webhook_id):
    webhook = scoped_get_or_404(Webhook, webhook_id, "Webhook")
    if "url" in body and body["url"] != webhook.url:
        # Its sends are counted in its owner's share across all their organizations (``workers.webhooks``):
        # whoever chooses the receiver, and so how long each send holds, is that owner.
        webhook.url = body["url"]
        webhook.created_by = context().user_id
    if "events" in body:
        webhook.events = body["events"]
    if "kind" in body:
        webhook.kind = body["kind"]
    if "secret" in body:
        webhook.secret_encrypted = encrypt_secret(body["secret"])
    if "enabled" in body:
        if body["enabled"] and not webhook.enabled:
            webhook.disabled_reason = None
            webhook.disabled_at = None
            webhook.consecutive_failures = 0
        webhook.enabled = body["enabled"]
    db().commit()
    changed = sorted(body)
    audit("webhook.update", "webhook", webhook.id, fields=changed)
    return webhook_json(webhook)


@blp.route("/<webhook_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@access("admin")
def delete_webhook(webhook_id):
    webhook = scoped_get_or_404(Webhook, webhook_id, "Webhook")
    rules = db().scalars(select(AlertRule).where(AlertRule.organization_id == webhook.organization_id))
    for rule in rules:
        if webhook.id in (rule.webhook_ids or []):
            rule.webhook_ids = [w for w in rule.webhook_ids if w != webhook.id]
    db().delete(webhook)
    db().commit()
    audit("webhook.delete", "webhook", webhook_id)
    return "", 204


@blp.route("/<webhook_id>/deliveries", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(DeliveryListArgs, location="query")
def list_deliveries(args, webhook_id):
    """Every attempt of every delivery, and every skipped delivery, newest first."""
    webhook = scoped_get_or_404(Webhook, webhook_id, "Webhook")
    query = (
        select(WebhookDelivery, WebhookDeliveryAttempt)
        .outerjoin(WebhookDeliveryAttempt, WebhookDeliveryAttempt.delivery_id == WebhookDelivery.id)
        .where(
            WebhookDelivery.webhook_id == webhook.id,
            or_(WebhookDeliveryAttempt.id.is_not(None), WebhookDelivery.status == DeliveryStatus.SKIPPED),
        )
    )
    query = apply_filters(
        query, WebhookDelivery, args, {**equal_columns("status", "event_type"), "delivery_id": equals("id")}
    )
    newest = func.coalesce(WebhookDeliveryAttempt.created_at, WebhookDelivery.created_at)
    query = query.order_by(newest.desc(), WebhookDeliveryAttempt.attempt.desc(), WebhookDelivery.id)
    return paginate(query, args["page"], args["per_page"], history_json, rows_of_entities=True)


@blp.route("/<webhook_id>/deliveries/replay", methods=["POST"])
@blp.alt_response(202, schema=ObjectSchema, success=True, headers=REQUIRED_LOCATION)
@blp.alt_response(409, response="CONFLICT")
@access("admin")
@blp.arguments(ReplaySchema)
def replay_deliveries(body, webhook_id):
    """Send again the skipped and failed deliveries of a time window, each as its next attempt.

    A replayed delivery becomes ``pending`` before its task is sent, so a second replay of the same
    window finds nothing left to send.
    """
    webhook = scoped_get_or_404(Webhook, webhook_id, "Webhook")
    if not webhook.enabled:
        abort(409, message='Enable the webhook (PUT {"enabled": true}) before replaying its deliveries.')
    query = select(WebhookDelivery).where(
        WebhookDelivery.webhook_id == webhook.id,
        WebhookDelivery.status.in_(body["statuses"]),
        WebhookDelivery.event_type != webhooks.TEST_EVENT,
        WebhookDelivery.created_at >= body["since"],
    )
    if body["until"] is not None:
        query = query.where(WebhookDelivery.created_at <= body["until"])
    chosen = db().scalars(query.order_by(WebhookDelivery.created_at).limit(REPLAY_BATCH_LIMIT + 1)).all()
    batch, more = chosen[:REPLAY_BATCH_LIMIT], len(chosen) > REPLAY_BATCH_LIMIT
    previous = {delivery.id: (delivery.status, delivery.finished_at) for delivery in batch}
    for delivery in batch:
        delivery.status, delivery.finished_at, delivery.next_retry_at = (
            DeliveryStatus.PENDING.value,
            None,
            None,
        )
    db().commit()
    for sent, delivery in enumerate(batch):
        try:
            enqueue(WEBHOOK_DELIVER, delivery.id, delivery.attempts + 1)
        except Exception as exc:
            log.error("replay of webhook %s stopped at delivery %s: %s", webhook.id, delivery.id, exc)
            for unsent in batch[sent:]:
                unsent.status, unsent.finished_at = previous[unsent.id]
            db().commit()
            abort(503, message=f"Only {sent} deliveries could be queued; retry the replay shortly.")
    audit("webhook.replay", "webhook", webhook.id, deliveries=len(batch), statuses=body["statuses"])
    location = url_for("webhooks.list_deliveries", webhook_id=webhook.id, status=DeliveryStatus.PENDING.value)
    return (
        {"replayed": len(batch), "delivery_ids": [d.id for d in batch], "more": more},
        202,
        {"Location": location},
    )


@blp.route("/<webhook_id>/test", methods=["POST"])
@blp.alt_response(200, schema=ObjectSchema, success=True)
@access("admin")
@limit_group("webhook-test")
def test_webhook(webhook_id):
    """Send a signed ``webhook.test`` now and answer with the outcome (recorded like any delivery)."""
    webhook = scoped_get_or_404(Webhook, webhook_id, "Webhook")
    with outbound_request(
        webhook.organization_id, user_id=context().user_id
    ):  # before the delivery is written: a refusal leaves none
        return _send_test(webhook)


def _send_test(webhook: Webhook) -> dict:
    event_id = new_id()
    data = {"webhook_id": webhook.id, "message": "This is a test delivery from Trusera."}
    event = WebhookEvent(
        id=event_id,
        organization_id=webhook.organization_id,
        type=webhooks.TEST_EVENT,
        body=webhooks.event_body(event_id, webhook.organization_id, webhooks.TEST_EVENT, data),
    )
    db().add(event)
    db().flush()
    delivery = WebhookDelivery(webhook_id=webhook.id, event_id=event_id, event_type=webhooks.TEST_EVENT)
    db().add(delivery)
    db().commit()
    started_at = utcnow()
    policy = webhooks.RetryPolicy.from_env()
    outcome = webhooks.send(
        webhook.url,
        decrypt_secret(webhook.secret_encrypted),
        delivery.id,
        event.body,
        policy.timeout_seconds,
        webhook.kind,
    )
    webhooks.record_outcome(
        db(), delivery, webhook, outcome, attempt=1, started_at=started_at, retry_in=None, policy=None
    )
    db().commit()
    audit("webhook.test", "webhook", webhook.id, success=outcome.success, status_code=outcome.status_code)
    return {
        "delivery_id": delivery.id,
        "event_id": event_id,
        "success": outcome.success,
        "status_code": outcome.status_code,
        "duration_ms": outcome.duration_ms,
        "response_excerpt": outcome.response_excerpt,
        "error": outcome.error,
    }

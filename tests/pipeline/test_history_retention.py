"""History retention: old webhook deliveries and export files go, anything still in use stays.
Run by the real maintenance worker, as beat runs it daily."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from common.celery_client import enqueue
from common.db import session_scope
from common.models import Scan
from common.models.base import utcnow
from common.models.exports import Export
from common.models.webhooks import WebhookDelivery, WebhookDeliveryAttempt, WebhookEvent
from common.tasks import PRUNE_HISTORY
from tests.helpers import wait_for

pytestmark = pytest.mark.usefixtures("celery_worker")


def _event_with_delivery(session, organization_id: str, webhook_id: str, age: timedelta, status: str) -> str:
    created = utcnow() - age
    event = WebhookEvent(
        organization_id=organization_id, type="scan.completed", body="{}", created_at=created
    )
    session.add(event)
    session.flush()
    delivery = WebhookDelivery(
        webhook_id=webhook_id, event_id=event.id, event_type=event.type, status=status, created_at=created
    )
    session.add(delivery)
    session.flush()
    session.add(
        WebhookDeliveryAttempt(
            delivery_id=delivery.id,
            webhook_id=webhook_id,
            attempt=1,
            success=False,
            duration_ms=5,
            created_at=created,
        )
    )
    return event.id


def test_old_settled_history_is_pruned_and_live_work_is_kept(client, make_user):
    user = make_user()
    webhook = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["scan.completed"]},
        headers=user.headers(),
    )
    assert webhook.status_code == 201, webhook.json
    webhook_id, organization_id = webhook.json["id"], user.org_id
    old, fresh = timedelta(days=45), timedelta(days=2)
    with session_scope() as session:
        events = {
            "old settled": _event_with_delivery(session, organization_id, webhook_id, old, "failed"),
            "old retrying": _event_with_delivery(session, organization_id, webhook_id, old, "retrying"),
            "fresh settled": _event_with_delivery(session, organization_id, webhook_id, fresh, "succeeded"),
        }
        scan = Scan(organization_id=organization_id, target="/x", status="completed")
        session.add(scan)
        session.flush()
        exports = {}
        for name, age, status in (
            ("old", old, "completed"),
            ("fresh", fresh, "completed"),
            ("old queued", old, "queued"),
        ):
            row = Export(
                organization_id=organization_id,
                scan_id=scan.id,
                format="csv",
                status=status,
                content=b"a,b\r\n",
                created_at=utcnow() - age,
                finished_at=utcnow() - age if status == "completed" else None,
            )
            session.add(row)
            session.flush()
            exports[name] = row.id

    enqueue(PRUNE_HISTORY)

    def kept_events():
        with session_scope() as session:
            return set(session.scalars(select(WebhookEvent.id).where(WebhookEvent.id.in_(events.values()))))

    wait_for(lambda: events["old settled"] not in kept_events(), timeout=30)
    assert kept_events() == {events["old retrying"], events["fresh settled"]}
    with session_scope() as session:
        deliveries = set(
            session.scalars(select(WebhookDelivery.event_id).where(WebhookDelivery.webhook_id == webhook_id))
        )
        attempts = session.scalar(
            select(WebhookDeliveryAttempt.id)
            .join(WebhookDelivery)
            .where(WebhookDelivery.event_id == events["old settled"])
        )
        kept_exports = set(session.scalars(select(Export.id).where(Export.id.in_(exports.values()))))
    assert deliveries == {events["old retrying"], events["fresh settled"]} and attempts is None
    assert kept_exports == {exports["fresh"], exports["old queued"]}
    gone = client.get(f"/api/v1/exports/{exports['old']}", headers=user.headers())
    assert gone.status_code == 404

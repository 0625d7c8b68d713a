"""History retention: old webhook deliveries and export files go, anything still in use stays; lapsed
invitations and long-ended sessions go too. Run by the real maintenance worker, as beat runs it daily."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from common.celery_client import enqueue
from common.db import session_scope
from common.models import AuthSession, Scan
from common.models.base import utcnow
from common.models.exports import Export
from common.models.identity import MemberInvitation
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


def test_lapsed_invitations_and_long_ended_sessions_are_pruned_and_live_ones_kept(client, make_user):
    """Before, nothing deleted an invitation: lapsed ones, and those whose admin account was deleted, stood
    in ``member_invitations`` for ever (an admin may invite any number of addresses). Revoked login
    sessions were kept for ever too."""
    admin = make_user()
    org_id = client.post("/api/v1/organizations", json={"name": "Prune"}, headers=admin.headers()).json["id"]
    invitees = {name: make_user() for name in ("lapsed", "standing", "orphaned")}
    invitee = invitees["standing"]
    invitations = {}
    for name, user in invitees.items():
        invited = client.post(
            f"/api/v1/organizations/{org_id}/members",
            json={"email": user.email, "role": "viewer"},
            headers=admin.headers(),
        )
        assert invited.status_code == 202, invited.json
        with session_scope() as session:
            invitations[name] = session.scalar(
                select(MemberInvitation.id).where(
                    MemberInvitation.organization_id == org_id, MemberInvitation.user_id == user.id
                )
            )
    now = utcnow()
    with session_scope() as session:
        session.get(MemberInvitation, invitations["lapsed"]).created_at = now - timedelta(days=15)
        session.get(MemberInvitation, invitations["orphaned"]).invited_by = None
        sessions = {
            name: AuthSession(user_id=invitee.id, refresh_jti=secrets.token_hex(8), revoked_at=revoked)
            for name, revoked in (
                ("long ended", now - timedelta(days=31)),
                ("just ended", now - timedelta(days=1)),
                ("live", None),
            )
        }
        session.add_all(sessions.values())
        session.flush()
        session_ids = {name: row.id for name, row in sessions.items()}

    enqueue(PRUNE_HISTORY)

    def kept(model, ids: dict) -> set[str]:
        with session_scope() as session:
            found = set(session.scalars(select(model.id).where(model.id.in_(ids.values()))))
        return {name for name, row_id in ids.items() if row_id in found}

    wait_for(lambda: kept(AuthSession, session_ids) == {"just ended", "live"}, timeout=30)
    assert kept(MemberInvitation, invitations) == {"standing"}
    pending = client.get("/api/v1/auth/invitations", headers=invitee.headers()).json["items"]
    assert [i["organization"]["id"] for i in pending] == [org_id]

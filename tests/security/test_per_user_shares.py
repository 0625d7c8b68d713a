"""One person's organizations share one person's turn of the workers every tenant uses.

The attacker is any registered user: with open registration they are admin of a personal workspace and
of up to ``ORGANIZATIONS_PER_USER`` (20) team organizations. The scans workers' turns, the webhook
threads and the ingest processes were shared per organization only, so such a user held a turn in each
of their organizations: 21 running scans (compose has 2 scans processes), 21 times ``WEBHOOK_SENDS_PER_ORG``
sends (16 delivery threads), 21 uploads validating (2 ingest processes), and every other tenant waited.
Each is now counted per creator as well, across their organizations, with the per-organization cap, in
the same ``common.org_slots`` leases as the API's outbound share counts a signed-in user.

The tasks are called here in the test's process, their follow-up messages captured: the shares are in
Redis, the rows in PostgreSQL, as the workers have them.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import update

from common.bom.upload import UPLOAD_TARGET_PREFIX
from common.config import get_settings, reset_settings
from common.db import session_scope
from common.models import Scan, ScanResultPayload
from common.models.webhooks import WebhookDelivery, WebhookEvent
from common.org_slots import Share
from common.tasks import SCAN_INGEST, SCAN_RUN, WEBHOOK_DELIVER
from tests.factories import make_scan
from tests.helpers import add_member, register_user
from tests.webhook_receiver import Receiver
from workers import ingest as ingest_tasks
from workers import scans as scan_tasks
from workers import webhooks as webhook_tasks

CYCLONEDX = b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}'


@pytest.fixture
def one_turn_each(monkeypatch):
    monkeypatch.setenv("SCANS_RUNNING_PER_ORG", "1")
    monkeypatch.setenv("WEBHOOK_SENDS_PER_ORG", "1")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
def held():
    """Shares the test takes as if calls were in flight elsewhere; released at the end."""
    shares: list[Share] = []

    def take(kind: str, organization_id: str, user_id: str) -> None:
        share = Share(kind, token=f"elsewhere-{len(shares)}")
        assert share.take(organization_id, user_id, 1, 60)
        shares.append(share)

    yield take
    for share in shares:
        share.release()


@pytest.fixture
def scans_left():
    ids: list[str] = []
    yield ids
    with session_scope() as session:
        session.execute(update(Scan).where(Scan.id.in_(ids)).values(status="failed", error="test ended"))


def _team_organization(client, user) -> str:
    created = client.post("/api/v1/organizations", json={"name": "Second"}, headers=user.headers())
    assert created.status_code == 201, created.json
    return created.json["id"]


def _scan(ids: list[str], organization_id: str, creator_id: str, **columns) -> str:
    with session_scope() as session:
        scan = Scan(
            organization_id=organization_id, created_by=creator_id, n8n_url="http://127.0.0.1:9", **columns
        )
        session.add(scan)
        session.flush()
        ids.append(scan.id)
        return scan.id


def _end_everyone_elses_scans(*organization_ids: str) -> None:
    """Earlier tests of the session leave scans in flight: the attacker is alone once they are ended."""
    with session_scope() as session:
        session.execute(
            update(Scan)
            .where(Scan.organization_id.not_in(organization_ids), Scan.status.in_(("queued", "running")))
            .values(status="failed", error="left over by an earlier test")
        )


def test_one_users_scans_in_another_organization_wait_while_someone_else_waits(
    client, one_turn_each, held, scans_left, monkeypatch
):
    """The attacker's scan runs in their workspace; their scan in their team organization, whose own turn
    is free, waits while the victim's scan is in flight (before: it ran, a second turn of one person)."""
    attacker, victim = register_user(client), register_user(client)
    team = _team_organization(client, attacker)
    _scan(scans_left, victim.org_id, victim.id)
    held("scans-running", attacker.org_id, attacker.id)
    second = _scan(scans_left, team, attacker.id)
    queued, ran = [], []
    monkeypatch.setattr(scan_tasks, "enqueue", lambda *args, **kwargs: queued.append(args))
    monkeypatch.setattr(scan_tasks, "_run", lambda _task, scan_id, _share: ran.append(scan_id))
    scan_tasks.run_scan(second)
    assert (ran, queued) == ([], [(SCAN_RUN, second, 1)])
    # Another member's scan in the team organization is theirs, not the attacker's: it runs.
    member = register_user(client)
    others = _scan(scans_left, team, member.id)
    scan_tasks.run_scan(others)
    assert ran == [others]


def test_one_users_organizations_alone_still_use_every_worker(
    client, one_turn_each, held, scans_left, monkeypatch
):
    """Work-conserving as before: with nobody else's scan in flight, the attacker's second organization's
    scan borrows a turn although the person's turn is taken."""
    user = register_user(client)
    team = _team_organization(client, user)
    _end_everyone_elses_scans(user.org_id, team)
    held("scans-running", user.org_id, user.id)
    second = _scan(scans_left, team, user.id)
    ran = []
    monkeypatch.setattr(scan_tasks, "enqueue", lambda *args, **kwargs: pytest.fail("it waited"))
    monkeypatch.setattr(scan_tasks, "_run", lambda _task, scan_id, _share: ran.append(scan_id))
    scan_tasks.run_scan(second)
    assert ran == [second]


def _pending_delivery(client, user, organization_id: str, url: str) -> str:
    """A webhook of ``organization_id`` at ``url`` and a delivery of it awaiting attempt 1, written
    directly so that no worker dispatches it."""
    response = client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": ["policy.violated"]},
        headers=user.headers(organization_id),
    )
    assert response.status_code == 201, response.json
    with session_scope() as session:
        event = WebhookEvent(organization_id=organization_id, type="policy.violated", body='{"type": "x"}')
        session.add(event)
        session.flush()
        delivery = WebhookDelivery(webhook_id=response.json["id"], event_id=event.id, event_type=event.type)
        session.add(delivery)
        session.flush()
        return delivery.id


def test_one_users_webhooks_in_several_organizations_share_one_cap(client, one_turn_each, held, monkeypatch):
    """A send of a webhook the attacker made in their workspace is in flight; their webhook in the team
    organization, whose own share is free, waits its turn (before: sent, a second share of one person)."""
    attacker = register_user(client)
    team = _team_organization(client, attacker)
    queued = []
    monkeypatch.setattr(webhook_tasks, "enqueue", lambda *args, **kwargs: queued.append(args))
    with Receiver([200]) as receiver:
        delivery_id = _pending_delivery(client, attacker, team, receiver.url)
        held("webhook-sends", attacker.org_id, attacker.id)
        assert webhook_tasks.deliver(delivery_id, 1) is None
        assert receiver.requests == []
        assert queued == [(WEBHOOK_DELIVER, delivery_id, 1, 1)]


def _stored_upload(ids: list[str], organization_id: str, uploader_id: str) -> str:
    scan_id = _scan(ids, organization_id, uploader_id, status="running", stage="validating")
    with session_scope() as session:
        session.execute(
            update(Scan).where(Scan.id == scan_id).values(target=f"{UPLOAD_TARGET_PREFIX}bom.json")
        )
        session.add(ScanResultPayload(scan_id=scan_id, payload=CYCLONEDX, components_checked=False))
    return scan_id


def test_an_organizations_uploads_wait_their_turn_at_the_ingest_workers(
    client, one_turn_each, held, scans_left, monkeypatch
):
    """One upload of the attacker's organization validates; its next waits while another organization's
    scan is in flight, its scan still running and its heartbeat fresh (before: validated at once, each of
    the organization's 20 uploads in flight a turn of the shared ingest processes)."""
    attacker, victim = register_user(client), register_user(client)
    _scan(scans_left, victim.org_id, victim.id)
    held("ingest-uploads", attacker.org_id, attacker.id)
    upload = _stored_upload(scans_left, attacker.org_id, attacker.id)
    queued = []
    monkeypatch.setattr(ingest_tasks, "enqueue", lambda *args, **kwargs: queued.append(args), raising=False)
    ingest_tasks.ingest_scan(upload)
    assert queued == [(SCAN_INGEST, upload, 1)]
    with session_scope() as session:
        scan = session.get(Scan, upload)
        assert (scan.status, scan.stage) == ("running", "validating")
        assert scan.heartbeat_at is not None
    # The same uploader's upload in another organization of theirs waits as well.
    team = _team_organization(client, attacker)
    elsewhere = _stored_upload(scans_left, team, attacker.id)
    ingest_tasks.ingest_scan(elsewhere)
    assert queued[-1] == (SCAN_INGEST, elsewhere, 1)


def test_an_upload_with_a_free_turn_is_ingested(client, one_turn_each, scans_left):
    user = register_user(client)
    upload = _stored_upload(scans_left, user.org_id, user.id)
    ingest_tasks.ingest_scan(upload)
    with session_scope() as session:
        assert session.get(Scan, upload).status == "completed"


def test_one_users_exports_and_evaluations_in_several_organizations_share_one_limit(client, monkeypatch):
    """The attacker's exports (and evaluations) fill their workspace's limit; in their team organization,
    where nothing is in flight, the next is a 429 naming the limit (before: 202, a second organization's
    limit of one person's jobs on the shared queues). Another member of that organization is not held up."""
    limits = dataclasses.replace(get_settings(), exports_in_flight_per_org=2, evaluations_in_flight_per_org=2)
    monkeypatch.setattr("web.api.scan_exports.get_settings", lambda: limits)
    monkeypatch.setattr("web.api.scan_compliance.get_settings", lambda: limits)
    monkeypatch.setattr(
        "web.core.enqueueing.enqueue", lambda *_args, **_kwargs: "task-id"
    )  # no worker drains
    attacker, member = register_user(client), register_user(client)
    team = _team_organization(client, attacker)
    add_member(client, attacker, team, member, "analyst")
    own, teams = make_scan(attacker.org_id), make_scan(team)
    for path, setting in (
        ("export", "EXPORTS_IN_FLIGHT_PER_ORG"),
        ("evaluate", "EVALUATIONS_IN_FLIGHT_PER_ORG"),
    ):

        def ask(user, scan_id, organization_id, path=path):
            body = {"format": "html"} if path == "export" else None
            return client.post(
                f"/api/v1/scans/{scan_id}/{path}", json=body, headers=user.headers(organization_id)
            )

        assert [ask(attacker, own, attacker.org_id).status_code for _ in range(2)] == [202, 202]
        refused = ask(attacker, teams, team)
        assert refused.status_code == 429, refused.json
        assert setting in refused.json["message"] and "across your organizations" in refused.json["message"]
        assert int(refused.headers["Retry-After"]) >= 9
        assert ask(member, teams, team).status_code == 202


def test_a_webhook_another_admin_points_elsewhere_is_no_longer_its_creators_share(
    client, one_turn_each, held, monkeypatch
):
    """The attacker invites the victim to their team organization, where the victim makes a webhook; the
    attacker then points it at a receiver that answers at the deadline and replays its deliveries. Its
    sends were counted in the victim's own share, across the victim's organizations: their workspace's
    webhooks waited their turn behind the attacker's receiver. Whoever sets a webhook's URL owns it."""
    attacker, victim = register_user(client), register_user(client)
    team = _team_organization(client, attacker)
    add_member(client, attacker, team, victim, "admin")
    queued = []
    monkeypatch.setattr(webhook_tasks, "enqueue", lambda *args, **kwargs: queued.append(args))
    with Receiver([200]) as receiver:
        delivery_id = _pending_delivery(client, victim, team, "https://victim.example.com/hook")
        with session_scope() as session:
            webhook_id = session.get(WebhookDelivery, delivery_id).webhook_id
        pointed = client.put(
            f"/api/v1/webhooks/{webhook_id}", json={"url": receiver.url}, headers=attacker.headers(team)
        )
        assert pointed.status_code == 200, pointed.json
        assert pointed.json["created_by"] == attacker.id
        held("webhook-sends", victim.org_id, victim.id)  # the victim's own send, in flight
        webhook_tasks.deliver(delivery_id, 1)
        assert len(receiver.requests) == 1  # counted as the attacker's: before, it waited on the victim's
        assert queued == []

"""A schedule stops running under the name of a creator who can no longer create one.

Before, a member's schedule kept scanning the organization's targets (with the repository credential
they chose) after an admin removed them, after they left, after their role fell below editor, and after
their account was deleted: every run was a scan ``created_by`` someone with no say in the organization.
Now the dispatcher pauses such a schedule with the reason in ``last_error``; an admin who enables it again
takes it over, and its credentials are checked to be the organization's again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from common.celery_client import enqueue
from common.db import session_scope
from common.models import Membership, Scan, User
from common.models.connectors import RepositoryCredential
from common.models.schedules import Schedule
from tests.helpers import PASSWORD, add_member, register_user, wait_for
from workers.schedules import dispatch_due

API = "/api/v1"
FIRST_TICK = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def only_these_schedules():
    with session_scope() as session:
        session.execute(update(Schedule).values(enabled=False, next_run_at=None))


@pytest.fixture
def team(client):
    """An organization with an admin and an editor member."""
    admin, editor = register_user(client), register_user(client)
    org_id = client.post(f"{API}/organizations", json={"name": "Team"}, headers=admin.headers()).json["id"]
    add_member(client, admin, org_id, editor, "editor")
    return admin, editor, org_id


def _schedule_by(client, user, org_id: str, scan_root) -> str:
    (scan_root / "app.py").write_text("import openai\n")
    body = {"name": "nightly", "target": str(scan_root), "cron": "* * * * *", "timezone": "UTC"}
    created = client.post(f"{API}/schedules", json=body, headers=user.headers(org_id))
    assert created.status_code == 201, created.json
    with session_scope() as session:
        session.get(Schedule, created.json["id"]).next_run_at = FIRST_TICK
    return created.json["id"]


def _repository_schedule(client, team) -> tuple[str, str]:
    """The editor's schedule of a repository, with the admin's saved credential for its host: (credential
    id, schedule id)."""
    admin, editor, org_id = team
    credential_id = client.post(
        f"{API}/connectors/repositories/credentials",
        json={"name": "ci", "kind": "https_token", "secret": "t" * 40, "host": "git.example.com"},
        headers=admin.headers(org_id),
    ).json["id"]
    body = {
        "name": "nightly",
        "cron": "* * * * *",
        "repository_url": "https://git.example.com/acme/app.git",
        "repository_credential_id": credential_id,
    }
    created = client.post(f"{API}/schedules", json=body, headers=editor.headers(org_id))
    assert created.status_code == 201, created.json
    return credential_id, created.json["id"]


def _scans_of(org_id: str) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).where(Scan.organization_id == org_id))


def _lower_role(org_id: str, user_id: str) -> None:
    """What an identity provider's claim does at the member's next sign-in (``common.sso``)."""
    with session_scope() as session:
        session.execute(
            update(Membership)
            .where(Membership.organization_id == org_id, Membership.user_id == user_id)
            .values(role="analyst")
        )


def _delete_account(user_id: str) -> None:
    with session_scope() as session:
        session.delete(session.get(User, user_id))


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("removed", "no longer a member"),
        ("left", "no longer a member"),
        ("demoted", "role is now 'analyst'"),
        ("deleted", "account that created it was deleted"),
    ],
)
def test_a_schedule_whose_creator_cannot_run_it_is_paused_not_run(
    client, team, scan_root, monkeypatch, how, reason
):
    monkeypatch.setattr("workers.schedules.enqueue", lambda *_args, **_kwargs: None)
    admin, editor, org_id = team
    schedule_id = _schedule_by(client, editor, org_id, scan_root)
    if how == "removed":
        gone = client.delete(f"{API}/organizations/{org_id}/members/{editor.id}", headers=admin.headers())
        assert gone.status_code == 204
    elif how == "left":
        assert (
            client.delete(f"{API}/organizations/{org_id}/membership", headers=editor.headers()).status_code
            == 204
        )
    elif how == "demoted":
        _lower_role(org_id, editor.id)
    else:
        _delete_account(editor.id)

    assert dispatch_due(now=FIRST_TICK) == []
    assert _scans_of(org_id) == 0
    shown = client.get(f"{API}/schedules/{schedule_id}", headers=admin.headers(org_id)).json
    assert shown["enabled"] is False and shown["next_run_at"] is None
    assert reason in shown["last_error"] and "admin" in shown["last_error"]
    assert dispatch_due(now=FIRST_TICK + timedelta(minutes=5)) == []


def test_a_schedule_whose_creator_is_still_an_editor_runs(client, team, scan_root, monkeypatch):
    monkeypatch.setattr("workers.schedules.enqueue", lambda *_args, **_kwargs: None)
    _admin, editor, org_id = team
    _schedule_by(client, editor, org_id, scan_root)
    (scan_id,) = dispatch_due(now=FIRST_TICK)
    with session_scope() as session:
        assert session.get(Scan, scan_id).created_by == editor.id


def test_only_an_admin_enables_a_paused_schedule_and_its_runs_are_then_theirs(
    client, team, scan_root, monkeypatch
):
    admin, editor, org_id = team
    other_editor = register_user(client)
    add_member(client, admin, org_id, other_editor, "editor")
    schedule_id = _schedule_by(client, editor, org_id, scan_root)
    client.delete(f"{API}/organizations/{org_id}/members/{editor.id}", headers=admin.headers())
    monkeypatch.setattr("workers.schedules.enqueue", lambda *_args, **_kwargs: None)
    assert dispatch_due(now=FIRST_TICK) == []
    monkeypatch.undo()

    refused = client.put(
        f"{API}/schedules/{schedule_id}", json={"enabled": True}, headers=other_editor.headers(org_id)
    )
    assert refused.status_code == 403 and "admin" in refused.json["message"]
    with session_scope() as session:
        assert session.get(Schedule, schedule_id).created_by == editor.id

    taken = client.put(
        f"{API}/schedules/{schedule_id}", json={"enabled": True}, headers=admin.headers(org_id)
    )
    assert taken.status_code == 200, taken.json
    assert taken.json["created_by"] == admin.id and taken.json["enabled"] is True
    assert taken.json["last_error"] is None
    audit = client.get(
        f"{API}/audit-log", query_string={"action": "schedule.take_over"}, headers=admin.headers(org_id)
    )
    assert [entry["target_id"] for entry in audit.json["items"]] == [schedule_id]


@pytest.mark.usefixtures("celery_worker")
def test_a_taken_over_schedule_runs_through_the_worker_as_its_new_creator(
    client, team, scan_root, monkeypatch
):
    admin, editor, org_id = team
    schedule_id = _schedule_by(client, editor, org_id, scan_root)
    _lower_role(org_id, editor.id)
    assert dispatch_due(now=FIRST_TICK) == []
    assert (
        client.put(
            f"{API}/schedules/{schedule_id}", json={"enabled": True}, headers=admin.headers(org_id)
        ).status_code
        == 200
    )
    with session_scope() as session:
        due = session.get(Schedule, schedule_id).next_run_at
    (scan_id,) = dispatch_due(now=due)

    def finished():
        scan = client.get(f"{API}/scans/{scan_id}", headers=admin.headers(org_id)).json
        return scan if scan["status"] in ("completed", "failed") else None

    assert wait_for(finished, timeout=90, interval=0.2)["status"] == "completed"
    with session_scope() as session:
        assert session.get(Scan, scan_id).created_by == admin.id


def test_taking_over_checks_the_saved_credential_is_still_the_organizations_for_that_host(
    client, team, monkeypatch
):
    """The credential the departed creator chose is checked again: one now bound to another host is a 422
    and the schedule stays paused; the dispatcher refuses one that is no longer the organization's."""
    admin, editor, org_id = team
    credentials = f"{API}/connectors/repositories/credentials"
    credential_id, schedule_id = _repository_schedule(client, team)
    client.delete(f"{API}/organizations/{org_id}/members/{editor.id}", headers=admin.headers())
    moved = client.put(
        f"{credentials}/{credential_id}",
        json={"host": "elsewhere.example.com", "secret": "u" * 40},
        headers=admin.headers(org_id),
    )
    assert moved.status_code == 200, moved.json

    refused = client.put(
        f"{API}/schedules/{schedule_id}", json={"enabled": True}, headers=admin.headers(org_id)
    )
    assert refused.status_code == 422 and "repository_credential_id" in refused.json["errors"]
    with session_scope() as session:
        kept = session.get(Schedule, schedule_id)
        assert kept.created_by == editor.id

    client.put(
        f"{credentials}/{credential_id}",
        json={"host": "git.example.com", "secret": "v" * 40},
        headers=admin.headers(org_id),
    )
    taken = client.put(
        f"{API}/schedules/{schedule_id}", json={"enabled": True}, headers=admin.headers(org_id)
    )
    assert taken.status_code == 200, taken.json
    other_org = register_user(client).org_id
    with session_scope() as session:
        session.get(RepositoryCredential, credential_id).organization_id = other_org
        session.get(Schedule, schedule_id).next_run_at = FIRST_TICK
    monkeypatch.setattr("workers.schedules.enqueue", lambda *_args, **_kwargs: None)
    assert dispatch_due(now=FIRST_TICK) == []
    assert _scans_of(org_id) == 0
    shown = client.get(f"{API}/schedules/{schedule_id}", headers=admin.headers(org_id)).json
    assert shown["last_error"] == "The schedule's repository credential no longer exists."


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("removed", "no longer a member"),
        ("left", "no longer a member"),
        ("deleted", "account that created it was deleted"),
    ],
)
def test_a_creators_schedules_are_paused_when_the_membership_changes(client, team, scan_root, how, reason):
    """Paused only at their next due run, a departed creator's schedules still read as enabled (a monthly
    one for a month) to the admins deciding who should take them over; they are paused at the change."""
    admin, editor, org_id = team
    schedule_id = _schedule_by(client, editor, org_id, scan_root)
    if how == "removed":
        response = client.delete(f"{API}/organizations/{org_id}/members/{editor.id}", headers=admin.headers())
    elif how == "left":
        response = client.delete(f"{API}/organizations/{org_id}/membership", headers=editor.headers())
    else:
        response = client.delete(f"{API}/auth/account", json={"password": PASSWORD}, headers=editor.headers())
    assert response.status_code == 204, response.json
    shown = client.get(f"{API}/schedules/{schedule_id}", headers=admin.headers(org_id)).json
    assert shown["enabled"] is False and shown["next_run_at"] is None
    assert reason in shown["last_error"] and "admin" in shown["last_error"]


@pytest.mark.usefixtures("celery_worker")
@pytest.mark.parametrize("scanning", ["a repository with a saved credential", "a plain target"])
def test_a_scan_queued_by_a_departed_creators_schedule_does_not_run(
    client, team, scan_root, monkeypatch, scanning
):
    """A scan the dispatcher queued just before its creator was removed still ran under their name: with the
    repository credential they chose, or (a plain target) scanning what they chose. The worker now checks
    the creator when it runs, as the dispatcher does at each due run."""
    admin, editor, org_id = team
    if scanning == "a plain target":
        schedule_id = _schedule_by(client, editor, org_id, scan_root)
    else:
        _credential, schedule_id = _repository_schedule(client, team)
    with session_scope() as session:
        session.get(Schedule, schedule_id).next_run_at = FIRST_TICK
    sent = []
    monkeypatch.setattr("workers.schedules.enqueue", lambda *args, **_kwargs: sent.append(args))
    (scan_id,) = dispatch_due(now=FIRST_TICK)  # queued; its message is sent once the creator is gone
    monkeypatch.undo()
    gone = client.delete(f"{API}/organizations/{org_id}/members/{editor.id}", headers=admin.headers())
    assert gone.status_code == 204
    enqueue(*sent[0])

    def finished():
        scan = client.get(f"{API}/scans/{scan_id}", headers=admin.headers(org_id)).json
        return scan if scan["status"] in ("completed", "failed") else None

    scan = wait_for(finished, timeout=90, interval=0.2)
    assert scan["status"] == "failed"
    assert "not run" in scan["error"] and "no longer a member" in scan["error"]


def test_an_editor_who_changes_an_admins_schedule_runs_it_in_their_own_name(
    client, team, scan_root, monkeypatch
):
    """Before, an editor's edit of an admin's schedule (here its target) kept the admin as creator, so its
    scans ran in the admin's name and under the admin's per-person shares; renaming or pausing does not
    change who answers for the runs."""
    monkeypatch.setattr("workers.schedules.enqueue", lambda *_args, **_kwargs: None)
    admin, editor, org_id = team
    schedule_id = _schedule_by(client, admin, org_id, scan_root)
    (scan_root / "other").mkdir(exist_ok=True)
    url = f"{API}/schedules/{schedule_id}"

    renamed = client.put(url, json={"name": "renamed"}, headers=editor.headers(org_id))
    assert renamed.status_code == 200 and renamed.json["created_by"] == admin.id
    changed = client.put(url, json={"target": str(scan_root / "other")}, headers=editor.headers(org_id))

    assert changed.status_code == 200, changed.json
    assert changed.json["created_by"] == editor.id
    (scan_id,) = dispatch_due(now=FIRST_TICK)
    with session_scope() as session:
        assert session.get(Scan, scan_id).created_by == editor.id
    audit = client.get(
        f"{API}/audit-log", query_string={"action": "schedule.take_over"}, headers=admin.headers(org_id)
    ).json["items"]
    assert [(entry["target_id"], entry["details"]["previous_creator"]) for entry in audit] == [
        (schedule_id, admin.id)
    ]
    paused = client.put(url, json={"enabled": False}, headers=admin.headers(org_id))
    assert paused.json["created_by"] == editor.id
    resumed = client.put(url, json={"enabled": True}, headers=admin.headers(org_id))
    assert resumed.json["created_by"] == admin.id

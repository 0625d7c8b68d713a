"""``/schedules``: validation of cron and timezone, target confinement, planning, roles and tenancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from common.cron import next_run_after
from tests.helpers import add_member, settings_from

SCHEDULES = "/api/v1/schedules"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _create(client, user, **fields):
    body = {"name": "nightly", "cron": "0 9 * * *", "timezone": "Europe/Berlin", **fields}
    return client.post(SCHEDULES, json=body, headers=user.headers())


def test_create_plans_the_next_run_in_the_schedules_timezone(client, make_user, scan_root):
    user = make_user()
    before = datetime.now(UTC)
    response = _create(client, user, target=str(scan_root), deep=True)
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"].endswith(f"{SCHEDULES}/{body['id']}")
    assert body["target"] == str(scan_root) and body["deep"] is True and body["enabled"] is True
    assert body["last_run_at"] is None and body["last_scan_id"] is None
    next_run = _parse(body["next_run_at"])
    assert body["next_run_at"].endswith("Z")
    assert next_run == next_run_after("0 9 * * *", "Europe/Berlin", before)
    local = next_run.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (9, 0) and before < next_run <= before + timedelta(hours=25)
    fetched = client.get(f"{SCHEDULES}/{body['id']}", headers=user.headers()).json
    assert fetched == body


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "* * * *"}, "cron"),
        ({"cron": "*/5 * * * * *"}, "cron"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"target": None}, "target"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(client, make_user, scan_root, fields, field):
    user = make_user()
    response = _create(client, user, **{"target": str(scan_root), **fields})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json


def test_a_schedule_needs_exactly_one_source(client, make_user, scan_root):
    user = make_user()
    missing = client.post(SCHEDULES, json={"name": "x", "cron": "0 9 * * *"}, headers=user.headers())
    assert missing.status_code == 422 and "target" in missing.json["errors"]
    both = _create(
        client, user, target=str(scan_root), n8n_credential_id="00000000-0000-0000-0000-000000000000"
    )
    assert both.status_code == 422


def test_targets_are_confined_to_the_scan_roots(client, make_user, scan_root, tmp_path):
    user = make_user()
    outside = _create(client, user, target=str(tmp_path))
    assert outside.status_code == 400 and "target" in outside.json["errors"]
    escape = _create(client, user, target=str(scan_root / ".." / ".."))
    assert escape.status_code == 400
    (scan_root / "link").symlink_to("/etc")
    assert _create(client, user, target=str(scan_root / "link")).status_code == 400


def test_a_credential_of_another_organization_is_not_found(client, make_user):
    alice, bob = make_user(), make_user()
    credential = client.post(
        "/api/v1/connectors/n8n/credentials",
        json={"name": "prod", "url": "https://n8n.example.com", "api_key": "secret-key-123"},
        headers=alice.headers(),
    ).json
    assert _create(client, bob, n8n_credential_id=credential["id"]).status_code == 404
    mine = _create(client, alice, n8n_credential_id=credential["id"])
    assert mine.status_code == 201 and mine.json["n8n_credential_id"] == credential["id"]
    assert mine.json["target"] is None


def test_update_replans_only_when_the_timing_changes(client, make_user, scan_root):
    user = make_user()
    created = _create(client, user, target=str(scan_root)).json
    url = f"{SCHEDULES}/{created['id']}"
    renamed = client.put(url, json={"name": "renamed"}, headers=user.headers()).json
    assert renamed["name"] == "renamed" and renamed["next_run_at"] == created["next_run_at"]
    before = datetime.now(UTC)
    hourly = client.put(url, json={"cron": "15 * * * *", "timezone": "UTC"}, headers=user.headers()).json
    assert _parse(hourly["next_run_at"]) == next_run_after("15 * * * *", "UTC", before)
    paused = client.put(url, json={"enabled": False}, headers=user.headers()).json
    assert paused["enabled"] is False and paused["next_run_at"] is None
    resumed = client.put(url, json={"enabled": True}, headers=user.headers()).json
    assert _parse(resumed["next_run_at"]).minute == 15
    bad = client.put(url, json={"timezone": "Nowhere/Land"}, headers=user.headers())
    assert bad.status_code == 422 and "timezone" in bad.json["errors"]
    assert client.put(url, json={"surprise": 1}, headers=user.headers()).status_code == 422


def test_roles_follow_the_reference(client, make_user, scan_root):
    owner, viewer, analyst, editor = (make_user() for _ in range(4))
    for member, role in ((viewer, "viewer"), (analyst, "analyst"), (editor, "editor")):
        add_member(client, owner, owner.org_id, member, role)
    body = {"name": "n", "target": str(scan_root), "cron": "0 9 * * *"}
    assert client.post(SCHEDULES, json=body, headers=analyst.headers(owner.org_id)).status_code == 403
    created = client.post(SCHEDULES, json=body, headers=editor.headers(owner.org_id))
    assert created.status_code == 201
    url = f"{SCHEDULES}/{created.json['id']}"
    assert client.get(SCHEDULES, headers=viewer.headers(owner.org_id)).json["total"] == 1
    assert client.get(url, headers=viewer.headers(owner.org_id)).status_code == 200
    assert client.put(url, json={"deep": True}, headers=analyst.headers(owner.org_id)).status_code == 403
    assert client.put(url, json={"deep": True}, headers=editor.headers(owner.org_id)).json["deep"] is True
    assert client.delete(url, headers=editor.headers(owner.org_id)).status_code == 403
    assert client.delete(url, headers=owner.headers()).status_code == 204
    assert client.get(url, headers=owner.headers()).status_code == 404


def test_another_organizations_schedule_is_not_found(client, make_user, scan_root):
    alice, bob = make_user(), make_user()
    schedule_id = _create(client, alice, target=str(scan_root)).json["id"]
    url = f"{SCHEDULES}/{schedule_id}"
    assert client.get(url, headers=bob.headers()).status_code == 404
    assert client.put(url, json={"name": "mine"}, headers=bob.headers()).status_code == 404
    assert client.delete(url, headers=bob.headers()).status_code == 404
    assert client.get(SCHEDULES, headers=bob.headers()).json["total"] == 0


def test_list_filters_and_paginates(client, make_user, scan_root):
    user = make_user()
    for index in range(3):
        _create(client, user, name=f"s{index}", target=str(scan_root), enabled=index != 1)
    page = client.get(f"{SCHEDULES}?per_page=2", headers=user.headers()).json
    assert page["total"] == 3 and len(page["items"]) == 2 and page["page"] == 1
    enabled = client.get(f"{SCHEDULES}?enabled=true", headers=user.headers()).json
    assert sorted(s["name"] for s in enabled["items"]) == ["s0", "s2"]
    disabled = client.get(f"{SCHEDULES}?enabled=false", headers=user.headers()).json["items"]
    assert [(s["name"], s["next_run_at"]) for s in disabled] == [("s1", None)]


def test_an_organization_keeps_a_bounded_number_of_schedules(client, make_user, scan_root, monkeypatch):
    """The dispatcher reads every organization's due schedules each minute: one organization's unbounded
    rows would slow everyone's runs. Past SCHEDULES_PER_ORG creation is a 409; other organizations are not
    affected, and deleting one makes room."""
    owner, other = make_user(), make_user()
    with settings_from(monkeypatch, SCHEDULES_PER_ORG="2"):
        created = [_create(client, owner, target=str(scan_root)) for _ in range(2)]
        assert [response.status_code for response in created] == [201, 201]
        refused = _create(client, owner, target=str(scan_root))
        assert refused.status_code == 409 and "limit (2)" in refused.json["message"]
        assert _create(client, other, target=str(scan_root)).status_code == 201
        client.delete(f"{SCHEDULES}/{created[0].json['id']}", headers=owner.headers())
        assert _create(client, owner, target=str(scan_root)).status_code == 201

"""A scan reads nothing outside its target (issue 12, item 4).

The attack: commit ``linked -> /somewhere/else`` (a directory), ``leak.py -> /elsewhere/file.py`` and an
n8n workflow file linked from outside into a repository, then scan it: the other files' contents came
back as components, source lines included. And on a shared host, one organization scanned another's
checkout by naming its path. Now links leaving the target are not followed and are reported as scan
warnings (API and CLI alike), and scan roots can be confined per organization.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from common import cli
from common.db import session_scope
from common.models import Organization
from common.scanner.detectors.base import HARD_LINK
from tests.helpers import add_member, register_user, wait_for_scan

OUTSIDE_MARKERS = ("gpt-4o-mini", "claude-3-5-sonnet-20241022", "o3-mini", "Outside flow")
INSIDE_MODEL = "claude-3-haiku-20240307"
NOT_FOLLOWED = "symlink leads outside the scan target; not followed"
WORKFLOW = {
    "name": "Outside flow",
    "nodes": [
        {
            "parameters": {"model": "o3-mini"},
            "id": "a",
            "name": "Chat",
            "type": "@n8n/n8n-nodes-langchain.lmChatOpenAi",
            "typeVersion": 1,
        }
    ],
    "connections": {},
}


def write_outside(root: Path) -> Path:
    """Someone else's files: an app directory, a single source file and an n8n workflow."""
    (root / "app").mkdir(parents=True)
    (root / "app" / "app.py").write_text(
        "import openai\nclient = openai.OpenAI()\n"
        "client.chat.completions.create(model='gpt-4o-mini', messages=[])\n"
    )
    (root / "keys.py").write_text(
        "import anthropic\nanthropic.Anthropic().messages.create("
        "model='claude-3-5-sonnet-20241022', max_tokens=1, messages=[])\n"
    )
    (root / "workflow.json").write_text(json.dumps(WORKFLOW))
    return root


def write_hostile_repository(target: Path, outside: Path) -> Path:
    (target / "src").mkdir(parents=True)
    (target / "src" / "inside.py").write_text(
        f"import anthropic\nanthropic.Anthropic().messages.create(model='{INSIDE_MODEL}', messages=[])\n"
    )
    (target / "linked").symlink_to(outside / "app", target_is_directory=True)
    (target / "leak.py").symlink_to(outside / "keys.py")
    (target / "flow.json").symlink_to(outside / "workflow.json")
    (target / "alias").symlink_to(target / "src", target_is_directory=True)  # inside: still followed
    return target


def test_the_cli_does_not_follow_links_out_of_the_target(tmp_path):
    outside = write_outside(tmp_path / "outside")
    target = write_hostile_repository(tmp_path / "repo", outside)
    report = tmp_path / "outside-only.json"
    assert cli.main(["scan", str(outside), "--jobs", "1", "--format", "json", "-o", str(report)]) == 0
    seen_directly = report.read_text()
    assert all(marker in seen_directly for marker in OUTSIDE_MARKERS)  # the markers are detectable

    report = tmp_path / "repo.json"
    assert cli.main(["scan", str(target), "--jobs", "1", "--format", "json", "-o", str(report)]) == 0
    text = report.read_text()
    assert INSIDE_MODEL in text
    assert not [marker for marker in OUTSIDE_MARKERS if marker in text]
    warnings = json.loads(text)["warnings"]
    assert {(w["file"], w["message"]) for w in warnings} >= {
        ("linked", NOT_FOLLOWED),
        ("leak.py", NOT_FOLLOWED),
        ("flow.json", NOT_FOLLOWED),
    }
    assert not [w for w in warnings if w["file"].startswith("alias")]


@pytest.mark.usefixtures("celery_worker")
def test_a_platform_scan_reports_the_links_as_warnings_and_nothing_behind_them(
    client, make_user, scan_root, tmp_path
):
    user = make_user()
    outside = write_outside(tmp_path / "outside")
    write_hostile_repository(scan_root / "repo", outside)
    response = client.post("/api/v1/scans", json={"target": str(scan_root / "repo")}, headers=user.headers())
    assert response.status_code == 202, response.json
    scan = wait_for_scan(client, user, response.json["id"])
    assert scan["status"] == "completed", scan
    messages = {(w["file"], w["message"]) for w in scan["warnings"]}
    assert {("linked", NOT_FOLLOWED), ("leak.py", NOT_FOLLOWED), ("flow.json", NOT_FOLLOWED)} <= messages
    components = client.get(
        f"/api/v1/scans/{scan['id']}/components?per_page=100", headers=user.headers()
    ).get_data(as_text=True)
    assert INSIDE_MODEL in components
    assert not [marker for marker in OUTSIDE_MARKERS if marker in components]


@pytest.mark.usefixtures("celery_worker")
def test_a_platform_scan_does_not_read_files_hard_linked_into_the_target(client, make_user, scan_root):
    """Round 34: a hard link has no path to check. An organization that can write in its scan root links
    another checkout's files (on the same file system) into its own and scans it: their components and
    lines were reported. A file with other names is now a warning, not read."""
    user = make_user()
    outside = write_outside(scan_root / "another-checkout")
    target = scan_root / "repo"
    (target / "src").mkdir(parents=True)
    (target / "src" / "inside.py").write_text(
        f"import anthropic\nanthropic.Anthropic().messages.create(model='{INSIDE_MODEL}', messages=[])\n"
    )
    os.link(outside / "keys.py", target / "leak.py")
    os.link(outside / "workflow.json", target / "flow.json")
    response = client.post("/api/v1/scans", json={"target": str(target)}, headers=user.headers())
    assert response.status_code == 202, response.json
    scan = wait_for_scan(client, user, response.json["id"])
    assert scan["status"] == "completed", scan
    messages = {(w["file"], w["message"]) for w in scan["warnings"]}
    assert {("leak.py", HARD_LINK), ("flow.json", HARD_LINK)} <= messages
    components = client.get(
        f"/api/v1/scans/{scan['id']}/components?per_page=100", headers=user.headers()
    ).get_data(as_text=True)
    assert INSIDE_MODEL in components
    assert not [marker for marker in OUTSIDE_MARKERS if marker in components]


@pytest.fixture
def per_organization_layout(monkeypatch):
    import common.config as config

    monkeypatch.setattr(
        config, "_settings", dataclasses.replace(config.get_settings(), scan_roots_per_organization=True)
    )


@pytest.mark.usefixtures("per_organization_layout")
def test_on_a_shared_host_an_organization_cannot_scan_anothers_checkout(client):
    from tests.services import SCAN_ROOT

    victim, attacker = register_user(client), register_user(client)
    checkout = SCAN_ROOT / victim.org_id / "checkout"
    checkout.mkdir(parents=True)
    (checkout / "app.py").write_text("import openai\n")
    stolen = client.post("/api/v1/scans", json={"target": str(checkout)}, headers=attacker.headers())
    assert stolen.status_code == 400 and "outside the allowed scan roots" in stolen.json["message"]
    schedule = client.post(
        "/api/v1/schedules",
        json={"name": "steal", "target": str(checkout), "cron": "0 * * * *"},
        headers=attacker.headers(),
    )
    assert schedule.status_code == 400 and "outside the allowed scan roots" in schedule.json["message"]
    # The attacker's admin cannot widen its own roots onto the victim's directory either.
    widened = client.put(
        f"/api/v1/organizations/{attacker.org_id}/scan-roots",
        json={"scan_roots": [str(checkout)]},
        headers=attacker.headers(),
    )
    assert widened.status_code == 422 and "outside the scan roots" in widened.json["message"]
    # Relative targets resolve inside the organization's own directory.
    own = client.post("/api/v1/scans", json={"target": "checkout"}, headers=victim.headers())
    assert own.status_code == 202 and own.json["target"] == str(checkout)


def test_an_admin_narrows_the_organizations_scan_roots(client, scan_root):
    admin, analyst = register_user(client), register_user(client)
    team = client.post("/api/v1/organizations", json={"name": "Narrowed"}, headers=admin.headers()).json
    add_member(client, admin, team["id"], analyst, "analyst")
    ours, theirs = scan_root / "ours", scan_root / "theirs"
    ours.mkdir()
    theirs.mkdir()
    path = f"/api/v1/organizations/{team['id']}/scan-roots"
    assert client.get(path, headers=admin.headers()).json["scan_roots"] is None
    assert client.put(path, json={"scan_roots": [str(ours)]}, headers=analyst.headers()).status_code == 403

    narrowed = client.put(path, json={"scan_roots": [str(ours)]}, headers=admin.headers())
    assert narrowed.status_code == 200
    assert narrowed.json == {"scan_roots": [str(ours)], "effective_roots": [str(ours)]}
    with session_scope() as session:
        assert session.get(Organization, team["id"]).scan_roots == [str(ours)]

    as_analyst = analyst.headers(team["id"])
    refused = client.post("/api/v1/scans", json={"target": str(theirs)}, headers=as_analyst)
    assert refused.status_code == 400
    schedule = {"name": "nightly", "target": str(theirs), "cron": "0 3 * * *"}
    assert (
        client.post("/api/v1/schedules", json=schedule, headers=admin.headers(team["id"])).status_code == 400
    )
    accepted = client.post("/api/v1/scans", json={"target": str(ours)}, headers=as_analyst)
    assert accepted.status_code == 202
    # The restriction is the organization's alone: the analyst's personal workspace is not narrowed.
    assert (
        client.post("/api/v1/scans", json={"target": str(theirs)}, headers=analyst.headers()).status_code
        == 202
    )

    for bad in (["relative/path"], [str(scan_root / "missing")], ["/etc"], [f"{ours}/../theirs"], []):
        answer = client.put(path, json={"scan_roots": bad}, headers=admin.headers())
        assert answer.status_code == 422 and "scan_roots" in answer.json["errors"], (bad, answer.json)
    cleared = client.put(path, json={"scan_roots": None}, headers=admin.headers()).json
    assert cleared["scan_roots"] is None and str(scan_root.parent) in cleared["effective_roots"]


def test_a_schedule_made_before_the_narrowing_stops_at_its_next_run(client, scan_root):
    from datetime import UTC, datetime

    from sqlalchemy import update

    from common.models.schedules import Schedule
    from workers.schedules import dispatch_due

    admin = register_user(client)
    ours, theirs = scan_root / "ours", scan_root / "theirs"
    ours.mkdir()
    theirs.mkdir()
    body = {"name": "nightly", "target": str(theirs), "cron": "0 3 * * *"}
    created = client.post("/api/v1/schedules", json=body, headers=admin.headers())
    assert created.status_code == 201, created.json
    path = f"/api/v1/organizations/{admin.org_id}/scan-roots"
    assert client.put(path, json={"scan_roots": [str(ours)]}, headers=admin.headers()).status_code == 200
    due_at = datetime(2031, 1, 1, 3, 0, tzinfo=UTC)
    with session_scope() as session:  # only this test's schedule is due
        session.execute(update(Schedule).values(enabled=False, next_run_at=None))
        session.execute(
            update(Schedule).where(Schedule.id == created.json["id"]).values(enabled=True, next_run_at=due_at)
        )
    assert dispatch_due(now=due_at) == []
    with session_scope() as session:
        schedule = session.get(Schedule, created.json["id"])
        assert "outside the allowed scan roots" in schedule.last_error and schedule.last_scan_id is None


def test_a_target_that_became_a_link_out_of_the_roots_after_it_was_queued_is_not_scanned(
    client, scan_root, tmp_path, held_ingest
):
    """The API resolves the target when the scan is made; the worker runs later. A directory swapped for a
    link to another organization's checkout (or anywhere outside the roots) in between is refused then."""
    from common.models import Scan
    from workers.scans import run_scan

    user = register_user(client)
    outside = write_outside(tmp_path / "outside")
    swapped = scan_root / "swapped"
    swapped.mkdir()
    response = client.post("/api/v1/scans", json={"target": str(swapped)}, headers=user.headers())
    assert response.status_code == 202, response.json
    scan_id = response.json["id"]
    assert held_ingest == [scan_id]
    swapped.rmdir()
    swapped.symlink_to(outside, target_is_directory=True)

    run_scan.apply(args=(scan_id,))
    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        assert scan.status == "failed" and "outside the allowed scan roots" in (scan.error or ""), (
            scan.status,
            scan.error,
        )


def test_a_target_swapped_for_a_link_after_the_worker_confined_it_is_not_scanned(
    client, scan_root, tmp_path, live_server, held_ingest, monkeypatch
):
    """The worker confines the target when the scan starts, but scans it only after cloning and scanning
    the repository the same scan may name: a folder swapped for a link to another organization's checkout
    in between was scanned through the link. The scan now reads the real path it was confined to, or
    nothing."""
    from common.models import Scan
    from workers import scans as scans_worker
    from workers.ingest import stored_result

    user = register_user(client)
    outside = write_outside(tmp_path / "outside")
    swapped = scan_root / "swapped"
    swapped.mkdir()
    response = client.post("/api/v1/scans", json={"target": str(swapped)}, headers=user.headers())
    assert response.status_code == 202, response.json
    scan_id = response.json["id"]
    confine = scans_worker._confined_target

    def confine_then_swap(scan, session):
        target = confine(scan, session)
        if not swapped.is_symlink():
            swapped.rmdir()
            swapped.symlink_to(outside, target_is_directory=True)
        return target

    monkeypatch.setattr(scans_worker, "_confined_target", confine_then_swap)
    scans_worker.run_scan.apply(args=(scan_id,))
    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        assert stored_result(session, scan_id) is None, "the other checkout's scan was posted"
        assert scan.status == "failed" and "no longer resolves" in (scan.error or ""), (
            scan.status,
            scan.error,
        )

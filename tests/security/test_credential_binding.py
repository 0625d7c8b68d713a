"""A saved repository credential is sent only to the host it was saved for.

The attacker is a member who may use the organization's saved credentials but never read them (an analyst
tests and scans with them; an editor replaces them): they name a repository on a server of their own
together with the credential of the organization's real git host, and read the token from the request
git sends. The credential names its host when it is saved; the API refuses any other host, and the scans
worker refuses again at clone time (a schedule's URL, or a row written before the binding).
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import update

from common.celery_client import enqueue
from common.db import session_scope
from common.models import Scan
from common.models.connectors import RepositoryCredential
from common.tasks import SCAN_RUN
from tests.git_server import GitServer, make_repository
from tests.helpers import add_member, sqlite_migrator, wait_for

pytestmark = pytest.mark.usefixtures("celery_worker")

TOKEN = "ghp_organizationsOwnToken0123456789ab"
CREDENTIALS = "/api/v1/connectors/repositories/credentials"


@pytest.fixture(scope="module")
def company_git():
    root = Path(tempfile.mkdtemp(prefix="trusera-git-company-"))
    make_repository(root, "private.git", [{"app.py": "import openai\n"}])
    server = GitServer(root, tokens={"private.git": TOKEN}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def attacker_git():
    """Another git server on loopback: any repository, no token needed, every request's header kept."""
    root = Path(tempfile.mkdtemp(prefix="trusera-git-attacker-"))
    make_repository(root, "bait.git", [{"README.md": "nothing here\n"}])
    server = GitServer(root).start()
    yield server
    server.stop()


def _host_of(server: GitServer) -> str:
    return server.base_url.split("://", 1)[1]


def _tokens_received(server: GitServer) -> list[str]:
    received = []
    for request in server.requests:
        header = request["authorization"] or ""
        if header.startswith("Basic "):
            received.append(base64.b64decode(header[6:]).decode().partition(":")[2])
    return received


@pytest.fixture
def organization(client, make_user, company_git):
    """An organization whose admin saved the token of its git host, and an analyst member of it."""
    admin, analyst = make_user(), make_user()
    org_id = client.post("/api/v1/organizations", json={"name": "acme"}, headers=admin.headers()).json["id"]
    add_member(client, admin, org_id, analyst, "analyst")
    saved = client.post(
        CREDENTIALS,
        json={"name": "ci token", "kind": "https_token", "secret": TOKEN, "host": _host_of(company_git)},
        headers=admin.headers(org_id),
    )
    assert saved.status_code == 201, saved.json
    return admin, analyst, org_id, saved.json["id"]


def test_an_analyst_cannot_send_the_saved_token_to_a_server_of_their_own(
    client, organization, company_git, attacker_git
):
    _admin, analyst, org_id, credential_id = organization
    attacker_git.requests.clear()
    bait = attacker_git.url("bait.git")
    probe = client.post(
        "/api/v1/connectors/repositories/test",
        json={"repository_url": bait, "credential_id": credential_id},
        headers=analyst.headers(org_id),
    )
    scan = client.post(
        "/api/v1/scans",
        json={"repository_url": bait, "repository_credential_id": credential_id},
        headers=analyst.headers(org_id),
    )
    assert probe.status_code == 422 and "credential_id" in probe.json["errors"], probe.json
    assert scan.status_code == 422 and "repository_credential_id" in scan.json["errors"], scan.json
    assert TOKEN not in _tokens_received(attacker_git)
    # The credential still works where it was saved for.
    own = client.post(
        "/api/v1/connectors/repositories/test",
        json={"repository_url": company_git.url("private.git"), "credential_id": credential_id},
        headers=analyst.headers(org_id),
    )
    assert own.status_code == 200 and own.json["status"] == "reachable", own.json


def test_an_editor_cannot_point_the_credential_or_a_schedule_at_another_host(
    client, make_user, organization, company_git, attacker_git
):
    admin, _analyst, org_id, credential_id = organization
    editor = make_user()
    add_member(client, admin, org_id, editor, "editor")
    moved = client.put(
        f"{CREDENTIALS}/{credential_id}",
        json={"host": _host_of(attacker_git)},
        headers=editor.headers(org_id),
    )
    assert moved.status_code == 422 and "secret" in moved.json["errors"], moved.json
    schedule = client.post(
        "/api/v1/schedules",
        json={
            "name": "nightly",
            "cron": "0 3 * * *",
            "repository_url": company_git.url("private.git"),
            "repository_credential_id": credential_id,
        },
        headers=editor.headers(org_id),
    )
    assert schedule.status_code == 201, schedule.json
    repointed = client.put(
        f"/api/v1/schedules/{schedule.json['id']}",
        json={"repository_url": attacker_git.url("bait.git"), "repository_credential_id": credential_id},
        headers=editor.headers(org_id),
    )
    assert repointed.status_code == 422 and "repository_credential_id" in repointed.json["errors"]
    moved_alone = client.put(  # a new URL alone is a new source: the credential stays behind
        f"/api/v1/schedules/{schedule.json['id']}",
        json={"repository_url": attacker_git.url("bait.git")},
        headers=editor.headers(org_id),
    )
    assert moved_alone.status_code == 200 and moved_alone.json["repository_credential_id"] is None
    # A new secret may come with a new host: that is saving another credential, nothing is revealed.
    replaced = client.put(
        f"{CREDENTIALS}/{credential_id}",
        json={"host": _host_of(attacker_git), "secret": "ghp_theEditorsOwnToken000000000000"},
        headers=editor.headers(org_id),
    )
    assert replaced.status_code == 200 and replaced.json["host"] == _host_of(attacker_git), replaced.json


def test_the_worker_gives_the_token_to_its_host_only(client, organization, attacker_git, held_ingest):
    """A scan row naming another host than its credential's (written before the binding, or by any
    path that skipped the API's check) fails before git runs."""
    _admin, analyst, org_id, credential_id = organization
    attacker_git.requests.clear()
    queued = client.post(
        "/api/v1/scans",
        json={"repository_url": attacker_git.url("bait.git")},
        headers=analyst.headers(org_id),
    )
    assert queued.status_code == 202 and held_ingest == [queued.json["id"]], queued.json
    with session_scope() as session:
        session.execute(
            update(Scan).where(Scan.id == queued.json["id"]).values(repository_credential_id=credential_id)
        )
    enqueue(SCAN_RUN, queued.json["id"])

    def ended():
        scan = client.get(f"/api/v1/scans/{queued.json['id']}", headers=analyst.headers(org_id)).json
        return scan if scan["status"] in ("completed", "failed") else None

    scan = wait_for(ended, timeout=60)
    assert scan["status"] == "failed" and "saved for" in scan["error"], scan
    assert TOKEN not in _tokens_received(attacker_git)


def test_a_credential_saved_before_hosts_were_recorded_is_used_nowhere(client, organization, company_git):
    admin, analyst, org_id, credential_id = organization
    schedule = client.post(
        "/api/v1/schedules",
        json={
            "name": "nightly",
            "cron": "0 3 * * *",
            "repository_url": company_git.url("private.git"),
            "repository_credential_id": credential_id,
        },
        headers=admin.headers(org_id),
    ).json
    with session_scope() as session:
        session.execute(
            update(RepositoryCredential).where(RepositoryCredential.id == credential_id).values(host=None)
        )
    probe = client.post(
        "/api/v1/connectors/repositories/test",
        json={"repository_url": company_git.url("private.git"), "credential_id": credential_id},
        headers=analyst.headers(org_id),
    )
    assert probe.status_code == 422 and "host" in str(probe.json["errors"]["credential_id"]), probe.json
    # Its schedules can still be edited (disabled, renamed); each run is refused by the worker.
    disabled = client.put(
        f"/api/v1/schedules/{schedule['id']}", json={"enabled": False}, headers=admin.headers(org_id)
    )
    assert disabled.status_code == 200, disabled.json


def test_migration_0019_binds_a_credential_only_to_the_one_host_it_was_used_with(tmp_path):
    """Existing credentials: one host in every use binds; two hosts (one may be someone's own server) or
    no use at all leave the credential bound nowhere, until it is saved again with its host."""
    import sqlite3

    path = tmp_path / "credentials.db"
    upgrade = sqlite_migrator(path)
    upgrade("0018_dash_reconcile")
    uses = {
        "c-one": ["https://github.com/acme/a.git", "https://github.com/acme/b.git"],
        "c-port": ["https://git.corp.example:8443/acme/a.git"],
        "c-ssh": ["ssh://git@github.com/acme/a.git"],
        "c-two": ["https://github.com/acme/a.git", "https://attacker.example/bait.git"],
        "c-unused": [],
    }
    with sqlite3.connect(path) as db:
        for credential_id, urls in uses.items():
            db.execute(
                "INSERT INTO repository_credentials (id, organization_id, name, kind, secret_encrypted,"
                " secret_masked, created_at, updated_at)"
                " VALUES (?, 'o', ?, ?, 'x', 'x', '2026-12-06', '2026-12-06')",
                (credential_id, credential_id, "ssh_key" if credential_id == "c-ssh" else "https_token"),
            )
            for number, url in enumerate(urls):
                db.execute(
                    "INSERT INTO scans (id, organization_id, status, files_scanned, deep, progress, attempts,"
                    " created_at, repository_url, repository_credential_id)"
                    " VALUES (?, 'o', 'completed', 0, 0, 0, 0, '2026-12-06', ?, ?)",
                    (f"{credential_id}-{number}", url, credential_id),
                )
    upgrade("0019_credential_host")
    with sqlite3.connect(path) as db:
        hosts = dict(db.execute("SELECT id, host FROM repository_credentials"))
    assert hosts == {
        "c-one": "github.com",
        "c-port": "git.corp.example:8443",
        "c-ssh": "github.com",
        "c-two": None,
        "c-unused": None,
    }

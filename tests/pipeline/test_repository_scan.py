"""Repository scans against a real git smart-HTTP server on loopback (``git http-backend``).

HTTP -> ``scans`` worker (clone through the outbound guard) -> internal result -> ``ingest`` ->
events, for a private repository and its token, a wrong token, a missing ref, an oversized
repository, a hostile repository, schedules and compare.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from common.db import session_scope
from common.models.schedules import Schedule
from tests.git_server import SSHD, GitServer, SshGitServer, add_gitlink, make_repository
from tests.helpers import scan_event_reader, settings_from, wait_for_scan
from workers.schedules import dispatch_due

pytestmark = pytest.mark.usefixtures("celery_worker")

TOKEN = "ghp_repositoryTokenForTests0123456789"
FIRST = {"app.py": "import openai\n\nclient = openai.OpenAI()\n"}
SECOND = {"agent.py": "from anthropic import Anthropic\n\nclient = Anthropic()\n"}


@pytest.fixture(scope="module")
def git_server():
    root = Path(tempfile.mkdtemp(prefix="trusera-git-server-"))
    shas = {"private": make_repository(root, "private.git", [FIRST, SECOND], tag="v1")}
    server = GitServer(root, tokens={"private.git": TOKEN}).start()
    server.shas = shas
    yield server
    server.stop()


def _credential(client, user, git_server, secret=TOKEN) -> str:
    host = git_server.base_url.split("://", 1)[1]
    response = client.post(
        "/api/v1/connectors/repositories/credentials",
        json={"name": f"ci token {secret[-4:]}", "kind": "https_token", "secret": secret, "host": host},
        headers=user.headers(),
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def _scan(client, user, **body) -> dict:
    response = client.post("/api/v1/scans", json=body, headers=user.headers())
    assert response.status_code == 202, response.json
    assert response.headers["Location"].endswith(response.json["id"])
    return response.json


def _component_names(client, user, scan_id) -> set[str]:
    page = client.get(f"/api/v1/scans/{scan_id}/components?per_page=100", headers=user.headers()).json
    return {c["name"] for c in page["items"]}


def _events_of(user, live_server):
    """A WebSocket reader collecting this organization's events until a scan finishes."""
    socket, hello, received, done = scan_event_reader(live_server, user)
    assert hello["type"] == "hello"
    return socket, received, done


def test_a_private_repository_is_cloned_with_its_token_scanned_and_deleted(
    client, make_user, git_server, live_server
):
    user = make_user()
    credential_id = _credential(client, user, git_server)
    socket, received, done = _events_of(user, live_server)
    git_server.requests.clear()
    url = git_server.url("private.git")
    queued = _scan(client, user, repository_url=url, ref="main", repository_credential_id=credential_id)
    assert done.wait(60), received
    socket.close()
    scan = wait_for_scan(client, user, queued["id"])
    assert scan["status"] == "completed", scan
    assert scan["repository_url"] == url and scan["ref"] == "main" and scan["target"] is None
    assert scan["commit_sha"] == git_server.shas["private"][1]
    assert {"openai", "anthropic"} <= _component_names(client, user, scan["id"])
    stages = [e["stage"] for e in received if e.get("scan_id") == scan["id"] and e["type"] == "scan.progress"]
    assert (
        stages[0] == "cloning" and "scanning" in stages and stages.index("cloning") < stages.index("scanning")
    )
    assert git_server.requests and all(r["authorized"] for r in git_server.requests)
    assert TOKEN not in json.dumps(scan) and TOKEN not in json.dumps(received)
    assert not list(Path(tempfile.gettempdir()).glob("trusera-repository-*"))  # the clone is gone
    assert not list(Path(tempfile.gettempdir()).glob("trusera-git-home-*"))


def test_a_wrong_token_fails_the_scan_clearly(client, make_user, git_server):
    user = make_user()
    wrong = "ghp_wrongTokenWrongTokenWrong000000"
    credential_id = _credential(client, user, git_server, secret=wrong)
    queued = _scan(
        client, user, repository_url=git_server.url("private.git"), repository_credential_id=credential_id
    )
    scan = wait_for_scan(client, user, queued["id"])
    assert scan["status"] == "failed"
    assert "authentication failed" in scan["error"] and "credentials were refused" in scan["error"]
    assert wrong not in scan["error"] and scan["commit_sha"] is None
    no_token = wait_for_scan(
        client, user, _scan(client, user, repository_url=git_server.url("private.git"))["id"]
    )
    assert no_token["status"] == "failed" and "credentials are needed" in no_token["error"]


def test_a_ref_that_does_not_exist_fails_the_scan(client, make_user, git_server):
    user = make_user()
    credential_id = _credential(client, user, git_server)
    queued = _scan(
        client,
        user,
        repository_url=git_server.url("private.git"),
        ref="release/9.9",
        repository_credential_id=credential_id,
    )
    scan = wait_for_scan(client, user, queued["id"])
    assert scan["status"] == "failed"
    assert scan["error"] == f"The ref 'release/9.9' does not exist in {git_server.url('private.git')}."


@pytest.fixture
def small_clone_limit(monkeypatch):
    with settings_from(monkeypatch, REPOSITORY_MAX_BYTES="200000"):
        yield 200000


def test_an_oversized_repository_is_refused_at_the_limit(client, make_user, git_server, small_clone_limit):
    make_repository(
        git_server.root, "big.git", [{"data/blob.bin": os.urandom(1_000_000), "app.py": FIRST["app.py"]}]
    )
    user = make_user()
    scan = wait_for_scan(client, user, _scan(client, user, repository_url=git_server.url("big.git"))["id"])
    assert scan["status"] == "failed"
    assert (
        f"the limit of {small_clone_limit} bytes" in scan["error"]
        or f"the limit is {small_clone_limit}" in (scan["error"])
    )
    assert scan["summary"] is None


def test_hooks_and_submodules_of_a_hostile_repository_never_run(
    client, make_user, git_server, tmp_path, monkeypatch
):
    marker = tmp_path / "pwned"
    hook = f"#!/bin/sh\ntouch {marker}\n"
    make_repository(
        git_server.root,
        "hostile.git",
        [{"hooks/post-checkout": hook, ".githooks/post-checkout": hook, "app.py": FIRST["app.py"]}],
    )
    add_gitlink(git_server.root, "hostile.git", "evil", f"ext::sh -c touch% {marker}")
    add_gitlink(git_server.root, "hostile.git", "inner", git_server.url("canary.git"))
    # What a careless git invocation would inherit from the worker's environment: a template and a
    # global config that install and enable hooks, and allow every transport.
    templates = tmp_path / "templates"
    (templates / "hooks").mkdir(parents=True)
    for name in ("post-checkout", "post-merge", "reference-transaction"):
        (templates / "hooks" / name).write_text(hook)
        (templates / "hooks" / name).chmod(0o755)
    (tmp_path / ".gitconfig").write_text(
        f"[core]\n\thooksPath = {templates / 'hooks'}\n"
        "[protocol]\n\tallow = always\n[submodule]\n\trecurse = true\n"
    )
    monkeypatch.setenv("GIT_TEMPLATE_DIR", str(templates))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / ".gitconfig"))
    user = make_user()
    git_server.requests.clear()
    scan = wait_for_scan(
        client, user, _scan(client, user, repository_url=git_server.url("hostile.git"))["id"]
    )
    assert scan["status"] == "completed", scan
    assert not marker.exists()
    assert not any("canary" in r["path"] for r in git_server.requests)
    assert any("submodule" in w["message"] for w in scan["warnings"])
    assert "openai" in _component_names(client, user, scan["id"])


def test_compare_two_commits_of_one_repository_and_filter_the_list(client, make_user, git_server):
    user = make_user()
    credential_id = _credential(client, user, git_server)
    url = git_server.url("private.git")
    older = wait_for_scan(
        client,
        user,
        _scan(client, user, repository_url=url, ref="v1", repository_credential_id=credential_id)["id"],
    )
    first_sha, second_sha = git_server.shas["private"]
    newer = wait_for_scan(
        client,
        user,
        _scan(client, user, repository_url=url, ref=second_sha, repository_credential_id=credential_id)["id"],
    )
    assert (older["commit_sha"], newer["commit_sha"]) == (first_sha, second_sha)
    difference = client.get(f"/api/v1/scans/{older['id']}/compare/{newer['id']}", headers=user.headers()).json
    assert "anthropic" in {c["name"] for c in difference["added"]}
    assert "openai" not in {c["name"] for c in difference["added"]}
    listed = client.get(f"/api/v1/scans?repository={url}", headers=user.headers()).json
    assert {s["id"] for s in listed["items"]} == {older["id"], newer["id"]}
    assert all(s["repository_url"] == url for s in listed["items"])
    by_commit = client.get(f"/api/v1/scans?commit={first_sha[:10]}", headers=user.headers()).json
    assert [s["id"] for s in by_commit["items"]] == [older["id"]]


def test_a_schedule_scans_a_repository(client, make_user, git_server):
    with session_scope() as session:  # dispatch_due serves every organization: only this schedule is due
        session.execute(update(Schedule).values(enabled=False, next_run_at=None))
    user = make_user()
    credential_id = _credential(client, user, git_server)
    response = client.post(
        "/api/v1/schedules",
        json={
            "name": "repo nightly",
            "repository_url": git_server.url("private.git"),
            "ref": "main",
            "repository_credential_id": credential_id,
            "cron": "0 3 * * *",
        },
        headers=user.headers(),
    )
    assert response.status_code == 201, response.json
    schedule = response.json
    assert schedule["repository_url"] == git_server.url("private.git") and schedule["ref"] == "main"
    in_use = client.delete(
        f"/api/v1/connectors/repositories/credentials/{credential_id}", headers=user.headers()
    )
    assert in_use.status_code == 409
    due_at = datetime(2026, 4, 2, 3, 0, tzinfo=UTC)
    with session_scope() as session:
        session.get(Schedule, schedule["id"]).next_run_at = due_at
    (scan_id,) = dispatch_due(now=due_at)
    scan = wait_for_scan(client, user, scan_id)
    assert scan["status"] == "completed", scan
    assert scan["commit_sha"] == git_server.shas["private"][1]


@pytest.mark.skipif(not os.access(SSHD, os.X_OK), reason="sshd is not installed (make test installs it)")
def test_a_repository_scan_over_ssh_with_a_deploy_key(client, make_user, tmp_path):
    make_repository(tmp_path, "ssh.git", [FIRST])
    sshd = SshGitServer(tmp_path).start()
    try:
        user = make_user()
        credential = client.post(
            "/api/v1/connectors/repositories/credentials",
            json={
                "name": "deploy",
                "kind": "ssh_key",
                "secret": sshd.deploy_key,
                "known_hosts": sshd.known_hosts,
                "host": f"localhost:{sshd.port}",
            },
            headers=user.headers(),
        )
        assert credential.status_code == 201, credential.json
        queued = _scan(
            client, user, repository_url=sshd.url("ssh.git"), repository_credential_id=credential.json["id"]
        )
        scan = wait_for_scan(client, user, queued["id"])
    finally:
        sshd.stop()
    assert scan["status"] == "completed", scan
    assert len(scan["commit_sha"]) == 40 and "openai" in _component_names(client, user, scan["id"])
    assert "PRIVATE KEY" not in json.dumps(scan)

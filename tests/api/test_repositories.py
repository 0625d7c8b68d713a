"""Repository credentials (write-only secrets, CRUD, test) and the repository form of ``POST /scans``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from common.db import session_scope
from common.models.connectors import RepositoryCredential
from common.security import decrypt_secret
from tests.git_server import GitServer, make_repository
from tests.helpers import add_member

TOKEN = "ghp_apiTestToken0123456789abcdef"
SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
CREDENTIALS = "/api/v1/connectors/repositories/credentials"


@pytest.fixture(scope="module")
def server():
    root = Path(tempfile.mkdtemp(prefix="trusera-git-api-"))
    make_repository(root, "private.git", [{"app.py": "import openai\n"}])
    git_server = GitServer(root, tokens={"private.git": TOKEN}).start()
    yield git_server
    git_server.stop()


def _create(client, user, **body):
    return client.post(
        CREDENTIALS,
        json={"name": "token", "kind": "https_token", "secret": TOKEN, "host": "127.0.0.1", **body},
        headers=user.headers(),
    )


def test_the_secret_is_encrypted_and_never_returned(client, make_user):
    user = make_user()
    created = _create(client, user, username="oauth2")
    assert created.status_code == 201, created.json
    body = created.json
    assert body["secret_masked"] == "ghp_********cdef" and body["username"] == "oauth2"
    listed = client.get(CREDENTIALS, headers=user.headers()).json
    fetched = client.get(f"{CREDENTIALS}/{body['id']}", headers=user.headers()).json
    for answer in (body, listed, fetched):
        assert TOKEN not in str(answer)
    with session_scope() as session:
        row = session.get(RepositoryCredential, body["id"])
        assert TOKEN not in row.secret_encrypted and decrypt_secret(row.secret_encrypted) == TOKEN
    assert _create(client, user).status_code == 409


def test_ssh_keys_rotation_and_deletion(client, make_user):
    user = make_user()
    assert _create(client, user, kind="ssh_key", secret="not a key").status_code == 422
    created = _create(
        client, user, name="deploy", kind="ssh_key", secret=SSH_KEY, known_hosts="github.com ssh-ed25519 AAA"
    )
    assert created.status_code == 201, created.json
    assert created.json["secret_masked"].startswith("ssh key sha256:") and created.json["has_known_hosts"]
    assert "PRIVATE" not in str(created.json)
    credential_id = created.json["id"]
    rotated = client.put(
        f"{CREDENTIALS}/{credential_id}",
        json={"name": "deploy 2", "secret": SSH_KEY + "\n"},
        headers=user.headers(),
    )
    assert rotated.status_code == 200 and rotated.json["name"] == "deploy 2"
    assert client.delete(f"{CREDENTIALS}/{credential_id}", headers=user.headers()).status_code == 204
    assert client.get(f"{CREDENTIALS}/{credential_id}", headers=user.headers()).status_code == 404


def test_roles_follow_the_n8n_connector(client, make_user):
    owner, analyst = make_user(), make_user()
    add_member(client, owner, owner.org_id, analyst, "analyst")
    headers = analyst.headers(owner.org_id)
    assert (
        client.post(
            CREDENTIALS, json={"name": "x", "kind": "https_token", "secret": "t"}, headers=headers
        ).status_code
        == 403
    )
    assert client.get(CREDENTIALS, headers=headers).status_code == 200


def test_the_test_endpoint_classifies_the_repository(client, make_user, server):
    user = make_user()
    credential_id = _create(client, user, host=server.base_url.split("://", 1)[1]).json["id"]
    url = server.url("private.git")

    def probe(**body):
        response = client.post(
            "/api/v1/connectors/repositories/test",
            json={"repository_url": url, **body},
            headers=user.headers(),
        )
        assert response.status_code == 200, response.json
        return response.json

    assert probe(credential_id=credential_id, ref="main")["status"] == "reachable"
    assert probe(credential_id=credential_id, ref="missing")["status"] == "not_found"
    assert probe(token="wrong-token")["status"] == "unauthorized"
    assert probe()["status"] == "unauthorized"
    outcome = probe(token=TOKEN)
    assert outcome["status"] == "reachable" and TOKEN not in str(outcome)
    unresolvable = client.post(
        "/api/v1/connectors/repositories/test",
        json={"repository_url": "https://git.example.invalid/org/repo.git"},
        headers=user.headers(),
    ).json
    assert unresolvable["status"] == "unreachable" and "does not resolve" in unresolvable["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"repository_url": "file:///etc"}, "repository_url"),
        ({"repository_url": "ext::sh -c id"}, "repository_url"),
        ({"repository_url": "/srv/repos/app"}, "repository_url"),
        ({"repository_url": "http://github.com/org/repo.git"}, "repository_url"),
        ({"repository_url": "https://x:ghp_secret@github.com/org/repo.git"}, "repository_url"),
        ({"repository_url": "https://github.com/org/repo.git", "ref": "--upload-pack=id"}, "ref"),
        ({"repository_url": "https://github.com/org/repo.git", "target": "/tmp"}, "repository_url"),
        ({"ref": "main", "target": "/tmp"}, "ref"),
    ],
)
def test_repository_scans_refuse_what_the_rules_forbid(client, make_user, body, field):
    user = make_user()
    response = client.post("/api/v1/scans", json=body, headers=user.headers())
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert "ghp_secret" not in str(response.json)


def test_another_organizations_credential_is_not_found(client, make_user):
    alice, bob = make_user(), make_user()
    credential_id = _create(client, alice).json["id"]
    response = client.post(
        "/api/v1/scans",
        json={"repository_url": "https://github.com/org/repo.git", "repository_credential_id": credential_id},
        headers=bob.headers(),
    )
    assert response.status_code == 404

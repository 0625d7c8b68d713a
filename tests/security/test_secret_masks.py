"""A saved secret's mask shows nothing of a short secret.

Analysts list the organization's n8n and repository credentials, whose secrets only editors write. The mask
showed the first and last four characters of any secret over eight: 8 of a 12-character password (an HTTPS
"token" is often a password), leaving four to guess. Now the ends show only when 16 characters stay hidden.
"""

from __future__ import annotations

import sqlite3

from cryptography.fernet import Fernet

from tests.helpers import add_member, register_user, sqlite_migrator

API = "/api/v1"
SHORT_SECRETS = ("Tr0ub4dor&3x", "correcthorse9", "n8n-key-2026-prod-q")


def _shown_part_of(secret: str, text: str) -> str | None:
    """The longest run (3 characters or more) of ``secret`` that ``text`` shows, if any."""
    for length in range(len(secret), 2, -1):
        for start in range(len(secret) - length + 1):
            if secret[start : start + length] in text:
                return secret[start : start + length]
    return None


def test_an_analyst_sees_nothing_of_a_short_saved_secret(client):
    editor = register_user(client)
    org_id = client.post(f"{API}/organizations", json={"name": "Masks"}, headers=editor.headers()).json["id"]
    analyst = register_user(client)
    add_member(client, editor, org_id, analyst, "analyst")
    for number, secret in enumerate(SHORT_SECRETS):
        saved = client.post(
            f"{API}/connectors/repositories/credentials",
            json={
                "name": f"token-{number}",
                "kind": "https_token",
                "secret": secret,
                "username": "ci",
                "host": "git.example.com",
            },
            headers=editor.headers(org_id),
        )
        assert saved.status_code == 201, saved.json
        n8n = client.post(
            f"{API}/connectors/n8n/credentials",
            json={"name": f"n8n-{number}", "url": "https://n8n.example.com", "api_key": secret},
            headers=editor.headers(org_id),
        )
        assert n8n.status_code == 201, n8n.json
    repositories = client.get(f"{API}/connectors/repositories/credentials", headers=analyst.headers(org_id))
    n8n_instances = client.get(f"{API}/connectors/n8n/credentials", headers=analyst.headers(org_id))
    masks = [item["secret_masked"] for item in repositories.json["items"]]
    masks += [item["api_key_masked"] for item in n8n_instances.json["items"]]
    assert len(masks) == 2 * len(SHORT_SECRETS)
    for secret in SHORT_SECRETS:
        assert _shown_part_of(secret, " ".join(masks)) is None, masks
    assert set(masks) == {"********"}  # not even the length


def test_a_long_token_still_shows_its_ends_to_be_recognised(client):
    editor = register_user(client)
    token = "ghp_" + "x" * 28 + "9f3a"
    saved = client.post(
        f"{API}/connectors/repositories/credentials",
        json={"name": "ci", "kind": "https_token", "secret": token, "host": "github.com"},
        headers=editor.headers(),
    )
    assert saved.json["secret_masked"] == "ghp_********9f3a"


def test_migration_0022_masks_the_saved_secrets_again(tmp_path):
    key = Fernet.generate_key()
    path = tmp_path / "masks.db"
    upgrade = sqlite_migrator(path, ENCRYPTION_KEY=key.decode())
    upgrade("0021_sec_bounds11")
    fernet = Fernet(key)
    short, long = "Tr0ub4dor&3x", "glpat-" + "y" * 20 + "Zq7w"
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO organizations (id, name, slug, personal, audit_retention_days, created_at)"
            " VALUES ('o', 'O', 'o', 0, 90, '2026-12-06')"
        )
        for credential_id, kind, secret in (
            ("short", "https_token", fernet.encrypt(short.encode()).decode()),
            ("long", "https_token", fernet.encrypt(long.encode()).decode()),
            ("foreign", "https_token", Fernet(Fernet.generate_key()).encrypt(short.encode()).decode()),
            ("ssh", "ssh_key", fernet.encrypt(b"-----BEGIN OPENSSH PRIVATE KEY-----").decode()),
        ):
            db.execute(
                "INSERT INTO repository_credentials (id, organization_id, name, kind, secret_encrypted,"
                " secret_masked, created_at, updated_at)"
                " VALUES (?, 'o', ?, ?, ?, ?, '2026-12-06', '2026-12-06')",
                (
                    credential_id,
                    credential_id,
                    kind,
                    secret,
                    "Tr0u********&3x" if kind != "ssh_key" else "sha",
                ),
            )
        db.execute(
            "INSERT INTO n8n_credentials (id, organization_id, name, url, api_key_encrypted, api_key_masked,"
            " created_at)"
            " VALUES ('n', 'o', 'n', 'https://n8n.example.com', ?, 'Tr0u********&3x', '2026-12-06')",
            (fernet.encrypt(short.encode()).decode(),),
        )
    upgrade("0022_sec_review12")
    with sqlite3.connect(path) as db:
        masks = dict(db.execute("SELECT id, secret_masked FROM repository_credentials"))
        masks["n"] = db.execute("SELECT api_key_masked FROM n8n_credentials").fetchone()[0]
    assert masks == {
        "short": "********",
        "long": "glpa********Zq7w",
        "foreign": "********",
        "ssh": "sha",
        "n": "********",
    }

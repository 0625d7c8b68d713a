"""A saved secret's mask shows nothing of a short secret.

Analysts list the organization's n8n and repository credentials, whose secrets only editors write. The mask
showed the first and last four characters of any secret over eight: 8 of a 12-character password (an HTTPS
"token" is often a password), leaving four to guess. Now the ends show only when 16 characters stay hidden.
"""

from __future__ import annotations

import sqlite3

from cryptography.fernet import Fernet

from tests.helpers import add_member, insert_organization, postgres_migrator, register_user, sqlite_migrator

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
        insert_organization(db)
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


# Masks the scanner's earlier rule made of found secrets, as stored, and as migration 0024 leaves them.
FOUND_MASKS = [
    ('"DB_PASSWORD": "Qz7******9x"', '"DB_PASSWORD": "******"'),  # 10 characters
    ("password=abc******wxyz", "password=******"),  # 16 to 19 characters: first 3, last 4
    ("MISTRAL_API_KEY=abcd******wxyz", "MISTRAL_API_KEY=******"),  # 20 to 24: first 4
    ("https://bot:s3c******9Z@git.example.com/x.git", "https://bot:******@git.example.com/x.git"),
    ('OPENAI_API_KEY="sk-proj-******wxyz"', 'OPENAI_API_KEY="sk-proj-******wxyz"'),  # 40 or more: kept
    ("token: ****** and ******** stay", "token: ****** and ******** stay"),  # the current masks
]


def _completed_scan(db, warnings=None) -> None:
    """Organization ``o`` and its completed scan ``s`` (with ``warnings``), as the migrations find them."""
    insert_organization(db)
    db.execute(
        "INSERT INTO scans (id, organization_id, status, files_scanned, deep, progress, attempts,"
        " resends, created_at, warnings) VALUES ('s', 'o', 'completed', 1, false, 100, 1, 0, now(), %s)",
        (warnings,),
    )


def test_migration_0024_masks_found_secrets_again_on_postgresql():
    """Found secrets stored before the scanner's mask showed nothing of a short secret kept their old masks
    (``Qz7******9x`` of a 10-character password) in components and scan warnings until retention removed
    them; the migration masks them again from what they show, and leaves the masks the rule still makes."""
    import psycopg
    from psycopg.types.json import Jsonb

    with postgres_migrator() as (upgrade, url):
        upgrade("0023_sec_residue13")
        with psycopg.connect(url, autocommit=True) as db:
            _completed_scan(db, Jsonb([{"file": "app.env", "message": stored} for stored, _ in FOUND_MASKS]))
            for number, (stored, _masked) in enumerate(FOUND_MASKS):
                db.execute(
                    "INSERT INTO components (id, scan_id, organization_id, fingerprint, name, type,"
                    " locations, flags, risk_score, severity, risk_factors, detector, confidence, scope,"
                    " metadata) VALUES (%s, 's', 'o', %s, 'db', 'llm_provider', %s, '[]', 0, 'info', '[]',"
                    " 'secrets', 1, 'production', %s)",
                    (
                        f"c{number}",
                        f"f{number}",
                        Jsonb([{"file": "app.env", "line": 3, "snippet": stored}]),
                        Jsonb({"secrets": [{"masked": stored.split()[-1], "sha256": "e3b0"}], "n": number}),
                    ),
                )
        upgrade("0024_sec_residue15")
        with psycopg.connect(url) as db:
            rows = db.execute("SELECT id, locations, metadata FROM components ORDER BY id").fetchall()
            (warnings,) = db.execute("SELECT warnings FROM scans").fetchone()
    assert [warning["message"] for warning in warnings] == [masked for _, masked in FOUND_MASKS]
    for (component_id, locations, metadata), (_stored, masked) in zip(rows, FOUND_MASKS, strict=True):
        assert locations == [{"file": "app.env", "line": 3, "snippet": masked}], component_id
        number = int(component_id[1:])
        assert metadata == {"secrets": [{"masked": masked.split()[-1], "sha256": "e3b0"}], "n": number}


def test_migration_0027_removes_the_digests_stored_beside_whole_masks_on_postgresql():
    """A found secret's SHA-256 beside ``******`` (sha256 of ``hunter22``: any lookup table reverses it)
    is removed from stored components; beside a mask that shows the secret's ends it stays."""
    import hashlib

    import psycopg
    from psycopg.types.json import Jsonb

    digest = hashlib.sha256(b"hunter22").hexdigest()
    stored = {
        "secrets": [
            {"field": "env.DB_PASSWORD", "masked": "******", "hash": digest},
            {"masked": "******", "sha256": digest, "provider": "OpenAI"},
            {"masked": "sk-proj-******wxyz", "sha256": "e3b0", "provider": "OpenAI"},
        ],
        "sha256": "a model file's digest",
    }
    with postgres_migrator() as (upgrade, url):
        upgrade("0026_sec_review19")
        with psycopg.connect(url, autocommit=True) as db:
            _completed_scan(db)
            db.execute(
                "INSERT INTO components (id, scan_id, organization_id, fingerprint, name, type,"
                " locations, flags, risk_score, severity, risk_factors, detector, confidence, scope,"
                " metadata) VALUES ('c', 's', 'o', 'f', 'db', 'mcp_server', '[]', '[]', 0, 'info', '[]',"
                " 'mcp', 1, 'production', %s)",
                (Jsonb(stored),),
            )
        upgrade("0027_sec_hostile20")
        with psycopg.connect(url) as db:
            (metadata,) = db.execute("SELECT metadata FROM components").fetchone()
    assert metadata == {
        "secrets": [
            {"field": "env.DB_PASSWORD", "masked": "******"},
            {"masked": "******", "provider": "OpenAI"},
            {"masked": "sk-proj-******wxyz", "sha256": "e3b0", "provider": "OpenAI"},
        ],
        "sha256": "a model file's digest",
    }

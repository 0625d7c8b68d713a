"""Migration 0031 records on each earlier upload the API key that sent it, read off its ``scan.import``
audit row: a CI key's uploads stay the baseline of its next upload (``common.baseline.trusted_for``)."""

from __future__ import annotations

import sqlite3

from tests.helpers import insert_organization, sqlite_migrator


def test_migration_0031_takes_each_uploads_api_key_from_its_audit_row(tmp_path):
    path = tmp_path / "upgrade.db"
    upgrade = sqlite_migrator(path)
    upgrade("0030_review_sec23")
    with sqlite3.connect(path) as db:
        insert_organization(db)
        db.execute(
            "INSERT INTO users (id, email, name, password_hash, onboarding_completed, created_at,"
            " updated_at) VALUES ('u', 'u@example.test', '', NULL, 0, '2026-12-06', '2026-12-06')"
        )
        db.execute(
            "INSERT INTO api_keys (id, user_id, organization_id, name, prefix, key_hash, created_at,"
            " sso_session) VALUES ('ci', 'u', 'o', 'CI', 'tsk_', 'hash', '2026-12-06', 0)"
        )
        for scan_id, actor_key in [
            ("by-key", "ci"),
            ("by-session", None),
            ("by-deleted-key", "gone"),
            ("no-audit-row", None),
        ]:
            db.execute(
                "INSERT INTO scans (id, organization_id, created_by, status, files_scanned, deep, progress,"
                " attempts, resends, created_at, target, repository_url) VALUES (?, 'o', 'u', 'completed',"
                " 1, 0, 100, 1, 0, '2026-12-06', 'upload:json', 'https://git.example.com/acme/a.git')",
                (scan_id,),
            )
            if scan_id != "no-audit-row":
                db.execute(
                    "INSERT INTO audit_log (id, organization_id, actor_user_id, actor_api_key_id, action,"
                    " target_type, target_id, details, created_at) VALUES (?, 'o', 'u', ?, 'scan.import',"
                    " 'scan', ?, '{}', '2026-12-06')",
                    (f"a-{scan_id}", actor_key, scan_id),
                )
    upgrade("0031_sec_baseline33")
    with sqlite3.connect(path) as db:
        senders = dict(db.execute("SELECT id, api_key_id FROM scans").fetchall())
    assert senders == {"by-key": "ci", "by-session": None, "by-deleted-key": None, "no-audit-row": None}

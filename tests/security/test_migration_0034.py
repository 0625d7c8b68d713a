"""Migration 0034 marks every earlier n8n scan as read with a saved credential: which key an earlier scan
used was never recorded, and they were everyone's baseline before (``common.baseline.trusted_for``)."""

from __future__ import annotations

import sqlite3

from tests.helpers import insert_organization, sqlite_migrator


def test_migration_0034_takes_earlier_n8n_scans_as_made_with_a_saved_credential(tmp_path):
    path = tmp_path / "upgrade.db"
    upgrade = sqlite_migrator(path)
    upgrade("0033_review_sec34a")
    with sqlite3.connect(path) as db:
        insert_organization(db)
        for scan_id, target, n8n_url in [
            ("instance", None, "https://n8n.example.com"),
            ("path-and-instance", "/srv/code", "https://n8n.example.com"),
            ("path", "/srv/code", None),
        ]:
            db.execute(
                "INSERT INTO scans (id, organization_id, status, files_scanned, deep, progress, attempts,"
                " resends, created_at, target, n8n_url) VALUES (?, 'o', 'completed', 1, 0, 100, 1, 0,"
                " '2026-12-07', ?, ?)",
                (scan_id, target, n8n_url),
            )
    upgrade("0034_sec_residue35")
    with sqlite3.connect(path) as db:
        marked = dict(db.execute("SELECT id, n8n_from_credential FROM scans").fetchall())
    assert marked == {"instance": 1, "path-and-instance": 1, "path": 0}

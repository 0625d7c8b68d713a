"""Migration 0030 keys each unresolved alert of a repository's scan by the repository, as
``workers/alerts.py`` now does, so an alert opened before the upgrade still counts the next match of its
repository; and drops the n8n API key that ended scans kept."""

from __future__ import annotations

import hashlib

from tests.helpers import insert_organization, postgres_migrator


def _key(rule_id: str, source: str) -> str:
    return f"{rule_id}:{hashlib.sha256(source.encode()).hexdigest()}"


def test_migration_0030_keys_open_alerts_by_their_repository_and_drops_n8n_keys_on_postgresql():
    import psycopg

    with postgres_migrator() as (upgrade, url):
        upgrade("0029_sec_leads23")
        with psycopg.connect(url, autocommit=True) as db:
            insert_organization(db)
            db.execute(
                "INSERT INTO alert_rules (id, organization_id, name, enabled, trigger, params, webhook_ids,"
                " created_at, updated_at) VALUES ('r', 'o', 'R', true, 'severity_at_least', '{}', '[]',"
                " now(), now())"
            )
            for scan_id, status, target, repository, n8n_url in [
                ("path", "completed", "/srv/a", None, None),
                ("path-earlier", "completed", "/srv/a", None, None),
                ("repo-a", "completed", None, "https://git.example.com/acme/a.git", None),
                ("repo-b", "completed", None, "https://git.example.com/acme/b.git", None),
                ("n8n-ended", "failed", None, None, "https://n8n.example.com"),
                ("n8n-queued", "queued", None, None, "https://n8n.example.com"),
            ]:
                db.execute(
                    "INSERT INTO scans (id, organization_id, status, files_scanned, deep, progress, attempts,"
                    " resends, created_at, target, repository_url, n8n_url, n8n_api_key_encrypted) VALUES"
                    " (%s, 'o', %s, 1, false, 100, 1, 0, now(), %s, %s, %s, %s)",
                    (scan_id, status, target, repository, n8n_url, n8n_url and "encrypted key"),
                )
            for alert_id, scan_id, last_scan_id, open_key in [
                ("on-path", "path", "path", _key("r", "/srv/a")),
                ("on-repositories", "repo-a", "repo-b", _key("r", "")),
                ("resolved", "path-earlier", "path-earlier", None),
            ]:
                db.execute(
                    "INSERT INTO alerts (id, organization_id, rule_id, scan_id, last_scan_id, target,"
                    " open_key, status, severity, title, details, occurrences, created_at) VALUES (%s, 'o',"
                    " 'r', %s, %s, '', %s, 'open', 'high', 't', '{}', 1, now())",
                    (alert_id, scan_id, last_scan_id, open_key),
                )
        upgrade("0030_review_sec23")
        with psycopg.connect(url) as db:
            keys = dict(db.execute("SELECT id, open_key FROM alerts").fetchall())
            n8n_keys = dict(db.execute("SELECT id, n8n_api_key_encrypted FROM scans").fetchall())
    assert keys == {
        "on-path": _key("r", "/srv/a"),  # unchanged
        "on-repositories": _key("r", "https://git.example.com/acme/b.git"),
        "resolved": None,
    }
    assert {scan_id for scan_id, key in n8n_keys.items() if key} == {"n8n-queued"}  # it still has to run

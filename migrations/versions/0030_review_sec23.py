"""An unresolved alert of a repository's scan is keyed by the repository (``baseline.scan_source``); an
ended scan keeps no copy of its n8n instance's API key

The key hashed ``target`` (else ``n8n_url``), so every repository scan (no ``target``) and every upload of
a format (``upload:json``) was one target, and one repository's open alert took the others' matches. Each
unresolved alert whose latest scan names a repository is keyed by it again, so the next match of that
repository still counts as its occurrence (of two such alerts of one rule and repository, the older keeps
the key; the other counts no more occurrences). Alerts of paths and n8n instances keep theirs: their key
is unchanged.

A scan of an n8n instance kept the instance's API key (encrypted) for the worker, and kept it once ended,
in every scan made with a saved credential after the credential was deleted; ``Scan.discard_inputs`` now
drops it when the scan ends, and the scans that ended before drop it here (a downgrade cannot bring it back).

Revision ID: 0030_review_sec23
Revises: 0029_sec_leads23
Create Date: 2026-12-07 15:30:00.000000
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0030_review_sec23"
down_revision = "0029_sec_leads23"
branch_labels = None
depends_on = None

OPEN_ALERTS_OF_REPOSITORIES = (
    "SELECT alerts.id, alerts.rule_id, {source} FROM alerts"
    " JOIN scans ON scans.id = coalesce(alerts.last_scan_id, alerts.scan_id)"
    " WHERE alerts.open_key IS NOT NULL AND alerts.rule_id IS NOT NULL AND scans.repository_url IS NOT NULL"
    " ORDER BY alerts.created_at, alerts.id"
)
SET_KEY = sa.text("UPDATE alerts SET open_key = :key WHERE id = :id")


def _rekey(source: str) -> None:
    """Key each unresolved alert of a repository's scan by ``source`` (an SQL expression over its latest
    scan); an alert whose key an older one took already keeps none."""
    connection = op.get_bind()
    rows = connection.execute(sa.text(OPEN_ALERTS_OF_REPOSITORIES.format(source=source))).all()
    keys: dict[str, str | None] = {}
    taken: set[str] = set()
    for alert_id, rule_id, value in rows:
        key = f"{rule_id}:{hashlib.sha256((value or '').encode()).hexdigest()}"
        keys[alert_id] = None if key in taken else key
        taken.add(key)
    for alert_id in keys:  # first let go of every old key, so no new one meets an old one still held
        connection.execute(SET_KEY, {"key": None, "id": alert_id})
    for alert_id, key in keys.items():
        connection.execute(SET_KEY, {"key": key, "id": alert_id})


def upgrade() -> None:
    _rekey("scans.repository_url")
    op.execute(
        "UPDATE scans SET n8n_api_key_encrypted = NULL"
        " WHERE status IN ('completed', 'failed') AND n8n_api_key_encrypted IS NOT NULL"
    )


def downgrade() -> None:
    _rekey("coalesce(scans.target, scans.n8n_url, '')")

"""An unresolved alert is keyed by its scan's ``target_key`` (``workers/alerts.py::open_key``); an ended
scan keeps no copy of its n8n instance's API key

The key hashed ``target`` (else ``n8n_url``), so every repository scan (no ``target``) and every upload of
a format (``upload:json``) was one target, and one repository's open alert took the others' matches. Each
unresolved alert is keyed again from its latest scan's ``target_key``, so the next match of the same
target still counts as its occurrence. One whose scans are gone (history retention) or whose rule was
deleted keeps its key: nothing will match it again, and it is resolved as before.

A scan of an n8n instance kept the instance's API key (encrypted) for the worker, and kept it once ended,
in every scan made with a saved credential after the credential was deleted; ``Scan.discard_inputs`` now
drops it when the scan ends, and the scans that ended before drop it here (a downgrade cannot bring it back).

Revision ID: 0029_review_sec23
Revises: 0028_sec_review20
Create Date: 2026-12-07 15:30:00.000000
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0029_review_sec23"
down_revision = "0028_sec_review20"
branch_labels = None
depends_on = None

OPEN_ALERTS = (
    "SELECT alerts.id, alerts.rule_id, {source} FROM alerts"
    " JOIN scans ON scans.id = coalesce(alerts.last_scan_id, alerts.scan_id)"
    " WHERE alerts.open_key IS NOT NULL AND alerts.rule_id IS NOT NULL"
    " ORDER BY alerts.created_at, alerts.id"
)
SET_KEY = sa.text("UPDATE alerts SET open_key = :key WHERE id = :id")


def _key(rule_id: str, source: str) -> str:
    return f"{rule_id}:{hashlib.sha256(source.encode()).hexdigest()}"


def _rekey(source: str) -> None:
    """Key each unresolved alert by ``source`` (an SQL expression over its scan); an alert whose key an
    older one took already keeps none (it counts no more occurrences)."""
    connection = op.get_bind()
    rows = connection.execute(sa.text(OPEN_ALERTS.format(source=source))).all()
    keys: dict[str, str | None] = {}
    taken: set[str] = set()
    for alert_id, rule_id, value in rows:
        key = _key(rule_id, value or "")
        keys[alert_id] = None if key in taken else key
        taken.add(key)
    for alert_id in keys:  # first let go of every old key, so no new one meets an old one still held
        connection.execute(SET_KEY, {"key": None, "id": alert_id})
    for alert_id, key in keys.items():
        connection.execute(SET_KEY, {"key": key, "id": alert_id})


def upgrade() -> None:
    _rekey("scans.target_key")
    op.execute(
        "UPDATE scans SET n8n_api_key_encrypted = NULL"
        " WHERE status IN ('completed', 'failed') AND n8n_api_key_encrypted IS NOT NULL"
    )


def downgrade() -> None:
    _rekey("coalesce(scans.target, scans.n8n_url, '')")

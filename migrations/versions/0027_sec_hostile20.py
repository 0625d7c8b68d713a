"""Found secrets' digests stored beside a whole mask are removed

The scanner stored a found secret's unsalted SHA-256 in its record (``secrets``: ``sha256``, MCP
configs: ``hash``) even when the mask hid the secret whole: ``******`` beside sha256("hunter22"), which
any lookup table reverses, shown to every viewer of the scan. The scanner and ingest no longer keep
such a digest (``textutil.secret_hash``, ``redaction.mask_value``); this removes the stored ones from
components' metadata. Idempotent; a digest beside a mask that shows a secret's ends is kept.

Revision ID: 0027_sec_hostile20
Revises: 0026_sec_review19
Create Date: 2026-12-07 10:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

from common.db import JSONType

revision = "0027_sec_hostile20"
down_revision = "0026_sec_review19"
branch_labels = None
depends_on = None

WHOLE_MASK = "******"
DIGEST_KEYS = ("hash", "sha256")
BATCH = 500


def _without_reversible_digests(value):
    if isinstance(value, list):
        return [_without_reversible_digests(item) for item in value]
    if isinstance(value, dict):
        whole = value.get("masked") == WHOLE_MASK
        return {
            key: _without_reversible_digests(item)
            for key, item in value.items()
            if not (whole and key in DIGEST_KEYS)
        }
    return value


def upgrade() -> None:
    connection = op.get_bind()
    components = sa.table("components", sa.column("id", sa.String), sa.column("metadata", JSONType))
    holding_mask = sa.cast(components.c.metadata, sa.Text).contains(WHOLE_MASK, autoescape=True)
    ids = (
        connection.execute(sa.select(components.c.id).where(holding_mask).order_by(components.c.id))
        .scalars()
        .all()
    )
    for offset in range(0, len(ids), BATCH):
        batch = ids[offset : offset + BATCH]
        for row in connection.execute(sa.select(components).where(components.c.id.in_(batch))).mappings():
            cleaned = _without_reversible_digests(row["metadata"])
            if cleaned != row["metadata"]:
                connection.execute(
                    sa.update(components).where(components.c.id == row["id"]).values(metadata=cleaned)
                )


def downgrade() -> None:
    """The digests gave the short secrets away: nothing to restore."""

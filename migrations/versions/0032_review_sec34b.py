"""Evidence expiring past the year 9999 in UTC is kept to expire at its end

``expires_at`` took ``9999-12-31T23:59:59-14:00``, which PostgreSQL stores as a moment of the year 10000:
Python cannot read it back, so every read of such a row failed (the organization's evidence list, its
compliance results and exports, the row's deletion). Such a row now expires at the last moment Python holds.

Revision ID: 0032_review_sec34b
Revises: 0031_sec_baseline33
Create Date: 2026-12-07 21:45:00.000000
"""

from alembic import op

revision = "0032_review_sec34b"
down_revision = "0031_sec_baseline33"
branch_labels = None
depends_on = None

KEEP_WITHIN_PYTHONS_RANGE = (
    "UPDATE control_evidence SET expires_at = '9999-12-31 23:59:59.999999+00'"
    " WHERE expires_at > '9999-12-31 23:59:59.999999+00'"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # SQLite keeps what Python wrote, which Python reads
        op.execute(KEEP_WITHIN_PYTHONS_RANGE)


def downgrade() -> None:
    """The moments past it are not kept: nothing to restore."""

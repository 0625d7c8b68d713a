"""An invitation records the API key it was sent with, and stands only while that key is live

An admin's API key may invite editors and viewers; the invitation stood after the key was revoked, so whoever
held a leaked key left invitations for their own accounts behind that they could accept once the key was
gone. Invitations sent before this revision record no key and stand as they did.

Revision ID: 0033_review_sec34a
Revises: 0032_review_sec34b
Create Date: 2026-12-07 21:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0033_review_sec34a"
down_revision = "0032_review_sec34b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column's reference only with the column; its table is not copied (``target_key``).
        op.execute(
            "ALTER TABLE member_invitations ADD COLUMN invited_with_api_key_id VARCHAR(36)"
            " REFERENCES api_keys (id) ON DELETE CASCADE"
        )
    else:
        op.add_column(
            "member_invitations", sa.Column("invited_with_api_key_id", sa.String(length=36), nullable=True)
        )
        op.create_foreign_key(
            "member_invitations_invited_with_api_key_id_fkey",
            "member_invitations",
            "api_keys",
            ["invited_with_api_key_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.drop_column(
        "member_invitations", "invited_with_api_key_id"
    )  # its reference with it, on either database

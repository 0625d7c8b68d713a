"""An invitation is accepted with the code its admin was given (``member_invitations.code_hash``)

Registration proves no email address: whoever registered an address first received every invitation sent
to it and joined with the invited role. Invitations now carry a code, shown once to the admin who invites
and passed on by them to the person; accepting takes it. The invitations pending before carry no code
anyone was given, so they are deleted: their admins invite again.

Revision ID: 0026_sec_review19
Revises: 0025_sec_scanfair17
Create Date: 2026-12-07 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_sec_review19"
down_revision = "0025_sec_scanfair17"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM member_invitations")
    # SQLite adds a NOT NULL column only with a default; the table is empty and every new row sets it.
    with op.batch_alter_table("member_invitations") as batch:
        batch.add_column(sa.Column("code_hash", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("member_invitations") as batch:
        batch.alter_column("code_hash", existing_type=sa.String(64), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("member_invitations") as batch:
        batch.drop_column("code_hash")

"""An invitation may be for an address with no account yet (``member_invitations.email``)

With ``REGISTRATION=invite`` an account is created only with an invitation's code, and an admin invites
people who have no account yet: such an invitation names the address instead of a user until the person
registers with its code.

Revision ID: 0028_sec_review20
Revises: 0027_sec_hostile20
Create Date: 2026-12-07 13:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0028_sec_review20"
down_revision = "0027_sec_hostile20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member_invitations") as batch:
        batch.alter_column("user_id", existing_type=sa.String(36), nullable=True)
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
        batch.create_unique_constraint("uq_invitation_org_email", ["organization_id", "email"])


def downgrade() -> None:
    op.execute("DELETE FROM member_invitations WHERE user_id IS NULL")
    with op.batch_alter_table("member_invitations") as batch:
        batch.drop_constraint("uq_invitation_org_email", type_="unique")
        batch.drop_column("email")
        batch.alter_column("user_id", existing_type=sa.String(36), nullable=False)

"""sso identities, organization-bound sessions, SSO-managed memberships and member invitations

Existing memberships start with sso_managed false (an organization's policy no longer reaches them until
its IdP links them); accounts SSO created earlier are adopted at their next sign-in (common.sso).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 04:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso_identities",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "organization_id", "issuer", "subject", name="uq_sso_identity_org_issuer_subject"
        ),
    )
    op.create_index("ix_sso_identities_user_id", "sso_identities", ["user_id"])
    op.create_table(
        "member_invitations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("invited_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invited_by"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "user_id", name="uq_invitation_org_user"),
    )
    op.create_index("ix_member_invitations_organization_id", "member_invitations", ["organization_id"])
    op.create_index("ix_member_invitations_user_id", "member_invitations", ["user_id"])
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("sso_managed", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("auth_sessions") as batch:
        batch.add_column(sa.Column("organization_id", sa.String(length=36), nullable=True))
        batch.create_foreign_key(
            "fk_auth_sessions_organization_id",
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("sso_configs") as batch:
        batch.add_column(
            sa.Column(
                "trust_email_without_verified_claim", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("sso_configs") as batch:
        batch.drop_column("trust_email_without_verified_claim")
    with op.batch_alter_table("auth_sessions") as batch:
        batch.drop_constraint("fk_auth_sessions_organization_id", type_="foreignkey")
        batch.drop_column("organization_id")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("sso_managed")
    op.drop_table("member_invitations")
    op.drop_table("sso_identities")

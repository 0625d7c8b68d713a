"""memberships.role_from_idp, api_keys.sso_session, auth_sessions.sso_signed_in_at: what an organization's
identity provider vouches for, and until when

A membership the IdP created (just-in-time, or when a non-member linked) now follows the IdP's role claim
at every sign-in, down as well as up; one an admin's invitation created keeps its hand-set role. Existing
SSO-managed memberships of password-less accounts were all created by their IdP and follow it from now
on; those of accounts with a password may have been invited first and keep their role.

An API key minted in an SSO session records it, so it ends with the organization's SSO sessions (SSO
disabled, deleted, or its provider, client or role rules changed).

An SSO session records when the IdP signed its user in, and refreshes only SSO_SESSION_HOURS after that
(existing SSO sessions count from their start).

Revision ID: 0020_sec_sso8
Revises: 0019_credential_host
Create Date: 2026-12-07 00:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_sec_sso8"
down_revision = "0019_credential_host"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("role_from_idp", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("sso_session", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("auth_sessions") as batch:
        batch.add_column(sa.Column("sso_signed_in_at", sa.DateTime(timezone=True), nullable=True))
    sessions = sa.table(
        "auth_sessions",
        sa.column("organization_id", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("sso_signed_in_at", sa.DateTime),
    )
    op.execute(
        sessions.update()
        .where(sessions.c.organization_id.is_not(None))
        .values(sso_signed_in_at=sessions.c.created_at)
    )
    memberships = sa.table(
        "memberships",
        sa.column("user_id", sa.String),
        sa.column("sso_managed", sa.Boolean),
        sa.column("role_from_idp", sa.Boolean),
    )
    users = sa.table("users", sa.column("id", sa.String), sa.column("password_hash", sa.String))
    op.execute(
        memberships.update()
        .where(
            memberships.c.sso_managed.is_(True),
            memberships.c.user_id.in_(sa.select(users.c.id).where(users.c.password_hash.is_(None))),
        )
        .values(role_from_idp=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("auth_sessions") as batch:
        batch.drop_column("sso_signed_in_at")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("sso_session")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("role_from_idp")

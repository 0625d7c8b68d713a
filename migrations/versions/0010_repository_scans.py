"""repository credentials; repository and source metadata on scans and schedules

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "repository_credentials",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=True),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("secret_masked", sa.String(length=64), nullable=False),
        sa.Column("known_hosts", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "name", name="uq_repository_credential_org_name"),
    )
    op.create_index(
        op.f("ix_repository_credentials_organization_id"),
        "repository_credentials",
        ["organization_id"],
        unique=False,
    )
    with op.batch_alter_table("scans") as batch:
        batch.add_column(sa.Column("repository_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("repository_ref", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("repository_credential_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("commit_sha", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("source_branch", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("ci_run_url", sa.Text(), nullable=True))
        batch.create_foreign_key(
            "scans_repository_credential_id_fkey",
            "repository_credentials",
            ["repository_credential_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_scans_repository_credential_id", ["repository_credential_id"], unique=False)
        batch.create_index("ix_scans_org_repository", ["organization_id", "repository_url"], unique=False)
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("repository_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("repository_ref", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("repository_credential_id", sa.String(length=36), nullable=True))
        batch.create_foreign_key(
            "schedules_repository_credential_id_fkey",
            "repository_credentials",
            ["repository_credential_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(
            "ix_schedules_repository_credential_id", ["repository_credential_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.drop_index("ix_schedules_repository_credential_id")
        batch.drop_constraint("schedules_repository_credential_id_fkey", type_="foreignkey")
        batch.drop_column("repository_credential_id")
        batch.drop_column("repository_ref")
        batch.drop_column("repository_url")
    with op.batch_alter_table("scans") as batch:
        batch.drop_index("ix_scans_org_repository")
        batch.drop_index("ix_scans_repository_credential_id")
        batch.drop_constraint("scans_repository_credential_id_fkey", type_="foreignkey")
        for column in ("ci_run_url", "source_branch", "commit_sha", "repository_credential_id"):
            batch.drop_column(column)
        batch.drop_column("repository_ref")
        batch.drop_column("repository_url")
    op.drop_index(op.f("ix_repository_credentials_organization_id"), table_name="repository_credentials")
    op.drop_table("repository_credentials")

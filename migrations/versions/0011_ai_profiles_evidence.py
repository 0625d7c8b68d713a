"""ai system profiles and control evidence: the role and risk class that decide which obligations
bind, and attestations that satisfy manual controls until they expire

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06 04:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_system_profiles",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("target", sa.String(length=1024), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("risk_class", sa.String(length=30), nullable=True),
        sa.Column("annex_iii_area", sa.String(length=40), nullable=True),
        sa.Column("places_gpai_model", sa.Boolean(), nullable=True),
        sa.Column("updated_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "target", name="uq_ai_system_profile_target"),
    )
    op.create_index(
        op.f("ix_ai_system_profiles_organization_id"), "ai_system_profiles", ["organization_id"], unique=False
    )
    op.create_table(
        "control_evidence",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("framework_id", sa.String(length=100), nullable=False),
        sa.Column("control_id", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("attested_by", sa.String(length=36), nullable=True),
        sa.Column("attested_by_email", sa.String(length=320), nullable=False),
        sa.Column("attested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attested_by"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_control_evidence_organization_id"), "control_evidence", ["organization_id"], unique=False
    )
    op.create_index(
        "ix_control_evidence_control",
        "control_evidence",
        ["organization_id", "framework_id", "control_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_control_evidence_control", table_name="control_evidence")
    op.drop_index(op.f("ix_control_evidence_organization_id"), table_name="control_evidence")
    op.drop_table("control_evidence")
    op.drop_index(op.f("ix_ai_system_profiles_organization_id"), table_name="ai_system_profiles")
    op.drop_table("ai_system_profiles")

"""One OpenID Connect identity provider per organization."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, JSONType
from common.models.base import created_column, id_column, owned_by_column, updated_column


class SsoConfig(Base):
    """``version`` grows with every change, so a sign-in started under an older configuration is refused."""

    __tablename__ = "sso_configs"

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    issuer: Mapped[str] = mapped_column(String(500), nullable=False)
    client_id: Mapped[str] = mapped_column(String(255), nullable=False)
    client_secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    scopes: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    allowed_domains: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    default_role: Mapped[str] = mapped_column(String(20), nullable=False, default="viewer")
    role_claim: Mapped[str | None] = mapped_column(String(100))
    role_values: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    allow_password_login: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Treat an ID token without an email_verified claim as verified (some providers never send it).
    trust_email_without_verified_claim: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class SsoIdentity(Base):
    """A person at an organization's identity provider (issuer, subject), linked to one platform user.

    Sign-in finds the user through this row, never through the email the provider asserts: a row is
    made only for an account the provider created just in time, or one whose owner proved it.
    """

    __tablename__ = "sso_identities"
    __table_args__ = (
        UniqueConstraint("organization_id", "issuer", "subject", name="uq_sso_identity_org_issuer_subject"),
    )

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    issuer: Mapped[str] = mapped_column(String(500), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    user_id: Mapped[str] = owned_by_column("users.id")
    created_at: Mapped[datetime] = created_column()

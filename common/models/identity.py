"""Users, organizations, memberships, API keys and login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Base, JSONType
from common.models.base import created_column, id_column, owned_by_column, updated_column

ROLES = ("viewer", "analyst", "editor", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    onboarding_completed: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    personal_org_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    personal: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    audit_retention_days: Mapped[int] = mapped_column(Integer, default=90, nullable=False)
    created_at: Mapped[datetime] = created_column()
    # Directories this organization's scans are confined to (within SCAN_ROOTS); None: no narrowing.
    scan_roots: Mapped[list | None] = mapped_column(JSONType)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id", name="uq_membership_org_user"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    user_id: Mapped[str] = owned_by_column("users.id")
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    # Provisioned or linked by this organization's identity provider: only such memberships let the
    # organization's SSO policy (allow_password_login=false) restrict the account.
    sso_managed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    # Created by the identity provider (not by an admin's invitation): the role follows its claim at every
    # sign-in, down as well as up (common.sso).
    role_from_idp: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    created_at: Mapped[datetime] = created_column()

    user: Mapped[User] = relationship(lazy="joined")


class MemberInvitation(Base):
    """An admin's offer of a role, which the invited account accepts; for an existing account, or, when
    registration is by invitation (``REGISTRATION=invite``), for an address with none yet (``email``),
    which registers with the code.

    Accepting takes the code the admin was given (``code_hash`` keeps its keyed hash) and passed on to the
    person: registration proves no email address, so the account holding the address may not be its owner.
    """

    __tablename__ = "member_invitations"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id", name="uq_invitation_org_user"),
        UniqueConstraint("organization_id", "email", name="uq_invitation_org_email"),
    )

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    invited_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The admin's API key it was sent with, if any: it stands only while that key is live (deleted with it).
    invited_with_api_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = created_column()


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = owned_by_column("users.id")
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = created_column()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Minted in an SSO session: revoked with the organization's SSO sessions (web.core.tokens).
    sso_session: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)


class AuthSession(Base):
    """One login: access tokens carry its id; the refresh token rotates within it."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = owned_by_column("users.id")
    refresh_jti: Mapped[str] = mapped_column(String(36), nullable=False)
    # Set for a session started by an organization's SSO: its tokens act in that organization only.
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    # When the IdP last vouched for an SSO session's user: its refresh ends SSO_SESSION_HOURS later.
    sso_signed_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

"""One OpenID Connect identity provider per organization."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, JSONType
from common.models.base import created_column, id_column, utcnow


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
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False
    )

"""Saved connector credentials (n8n instances, git repositories): secrets encrypted at rest, shown masked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base
from common.models.base import created_column, id_column, owned_by_column, updated_column


class N8nCredential(Base):
    __tablename__ = "n8n_credentials"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_n8n_credential_org_name"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    api_key_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    # The masked form is kept beside the ciphertext so listings never decrypt.
    api_key_masked: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = created_column()


REPOSITORY_CREDENTIAL_KINDS = ("https_token", "ssh_key")


class RepositoryCredential(Base):
    """An HTTPS token or SSH deploy key for cloning repositories; the secret is encrypted, never shown."""

    __tablename__ = "repository_credentials"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_repository_credential_org_name"),)

    id: Mapped[str] = id_column()
    organization_id: Mapped[str] = owned_by_column("organizations.id")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    # The HTTP basic user sent with a token (GitHub: x-access-token, GitLab: oauth2).
    username: Mapped[str | None] = mapped_column(String(200))
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    secret_masked: Mapped[str] = mapped_column(String(64), nullable=False)
    # SSH: the server's host keys (known_hosts lines); without them the first key seen is accepted.
    known_hosts: Mapped[str | None] = mapped_column(Text)
    # The only host ("name" or "name:port") the secret is sent to; None (saved before) is sent nowhere.
    host: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()

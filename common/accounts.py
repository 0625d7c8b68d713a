"""Creating users with their personal organization, and slugs that stay unique."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.models import Membership, Organization, User
from common.security import hash_password


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:60] or "org"


def unique_slug(session: Session, wanted: str) -> str:
    slug = slugify(wanted)
    while session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
        slug = f"{slugify(wanted)[:52]}-{secrets.token_hex(3)}"
    return slug


def create_organization(session: Session, name: str, owner: User, *, slug: str | None = None, personal=False):
    organization = Organization(name=name, slug=slug or unique_slug(session, name), personal=personal)
    session.add(organization)
    session.flush()
    session.add(Membership(organization_id=organization.id, user_id=owner.id, role="admin"))
    return organization


def lock_organization(session: Session, organization_id: str) -> None:
    """Hold the organization's row until the transaction ends, before counting its admins to remove one.

    Two admins removing each other (or leaving) at once each counted two admins and both went through,
    leaving no admin. ``FOR NO KEY UPDATE`` serializes these changes without blocking the inserts that only
    reference the organization (scans, keys, memberships)."""
    session.execute(
        select(Organization.id).where(Organization.id == organization_id).with_for_update(key_share=True)
    )


def create_user(session: Session, email: str, name: str, password: str | None) -> User:
    """A user always has a personal organization in which they are admin."""
    user = User(email=email.lower(), name=name, password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    personal = create_organization(session, workspace_name(name or email), user, personal=True)
    user.personal_org_id = personal.id
    return user


def workspace_name(owner: str) -> str:
    """The personal workspace's name, within organizations.name's 200 characters for any owner name."""
    suffix = "'s workspace"
    return owner[: 200 - len(suffix)] + suffix


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.lower()))

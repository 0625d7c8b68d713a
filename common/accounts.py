"""Creating users with their personal organization, and slugs that stay unique."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, aliased

from common.models import Membership, Organization, User
from common.models.base import utcnow
from common.models.identity import MemberInvitation
from common.security import hash_password, hash_token


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


def create_user(
    session: Session, email: str, name: str, password: str | None, *, personal_workspace: bool = True
) -> User:
    """A user, with a personal organization in which they are admin unless ``personal_workspace`` is
    false: where registration is not open, an account is no longer one more organization with every
    per-organization share (``REGISTRATION``)."""
    user = User(email=email.lower(), name=name, password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    if personal_workspace:
        personal = create_organization(session, workspace_name(name or email), user, personal=True)
        user.personal_org_id = personal.id
    return user


def standing_invitations(invitation_days: int) -> Select:
    """(invitation, organization) of the invitations that still stand: sent less than ``invitation_days``
    ago by someone who is still an admin of the organization (an admin removed leaves no way in behind)."""
    inviter = aliased(Membership)
    return (
        select(MemberInvitation, Organization)
        .join(Organization, Organization.id == MemberInvitation.organization_id)
        .join(
            inviter,
            (inviter.organization_id == MemberInvitation.organization_id)
            & (inviter.user_id == MemberInvitation.invited_by)
            & (inviter.role == "admin"),
        )
        .where(MemberInvitation.created_at > utcnow() - timedelta(days=invitation_days))
    )


def registration_invitation(
    session: Session, email: str, code: str, invitation_days: int
) -> tuple[MemberInvitation, Organization] | None:
    """The standing invitation of this address (one with no account yet) that ``code`` opens, its row held
    until the registration commits, so it is spent once."""
    query = standing_invitations(invitation_days).where(
        MemberInvitation.user_id.is_(None),
        MemberInvitation.email == email.lower(),
        MemberInvitation.code_hash == hash_token(code),
    )
    row = session.execute(query.with_for_update(of=MemberInvitation)).first()
    return (row[0], row[1]) if row is not None else None


def hand_invitations_to(session: Session, user: User) -> None:
    """The invitations an address received before it had an account become the account's, which accepts
    each with its own code as any invitation."""
    session.execute(
        update(MemberInvitation)
        .where(MemberInvitation.email == user.email, MemberInvitation.user_id.is_(None))
        .values(user_id=user.id, email=None)
    )


def workspace_name(owner: str) -> str:
    """The personal workspace's name, within organizations.name's 200 characters for any owner name."""
    suffix = "'s workspace"
    return owner[: 200 - len(suffix)] + suffix


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.lower()))

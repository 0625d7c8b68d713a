"""Creating users with their personal organization, and slugs that stay unique."""

from __future__ import annotations

import functools
import re
import secrets
from datetime import timedelta

from sqlalchemy import Select, bindparam, or_, select, update
from sqlalchemy.orm import Session, aliased

from common.models import ApiKey, Membership, Organization, User
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


# ``FOR KEY SHARE``: it blocks only the organization's deletion (or a change of its id), never another
# worker holding it nor ``lock_organization``. Built once: every worker transaction of a job runs it.
_HOLD_ORGANIZATION = (
    select(Organization.id)
    .where(Organization.id == bindparam("organization_id"))
    .with_for_update(read=True, key_share=True)
)


def hold_organization(session: Session, organization_id: str) -> bool:
    """Keep the organization from being deleted until the transaction ends; False when it is gone.

    Deleting an organization locks its row, then (its foreign keys' cascades) its scans and every row
    below them. A worker's transaction that locked one of those rows and then wrote a row referencing the
    organization, whose foreign key check waits for the organization's row, deadlocked with the deletion,
    which PostgreSQL then failed (a 503). Taken before any other lock of the transaction, this puts it in
    the deletion's order: it waits for the deletion to end and finds nothing, or the deletion waits for it."""
    return session.scalar(_HOLD_ORGANIZATION, {"organization_id": organization_id}) is not None


@functools.cache
def _hold_organization_of(model: type) -> Select:
    return (
        select(Organization.id)
        .join(model, model.organization_id == Organization.id)
        .where(model.id == bindparam("row_id"))
        .with_for_update(of=Organization, read=True, key_share=True)
    )


def hold_organization_of(session: Session, model: type, row_id: str) -> str | None:
    """``hold_organization`` for the organization of ``model``'s row ``row_id`` (a scan, a job), found and
    held in one statement before the row itself is locked: its id, or None when the row or its
    organization is gone."""
    return session.scalar(_hold_organization_of(model), {"row_id": row_id})


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
    ago by someone who is still an admin of the organization (an admin removed leaves no way in behind), with
    a session or an API key still live (a leaked key's holder, the key revoked, leaves no invitation of their
    own accounts behind either; one deleted takes its invitations with it)."""
    inviter = aliased(Membership)
    now = utcnow()
    return (
        select(MemberInvitation, Organization)
        .join(Organization, Organization.id == MemberInvitation.organization_id)
        .join(
            inviter,
            (inviter.organization_id == MemberInvitation.organization_id)
            & (inviter.user_id == MemberInvitation.invited_by)
            & (inviter.role == "admin"),
        )
        .outerjoin(ApiKey, ApiKey.id == MemberInvitation.invited_with_api_key_id)
        .where(
            MemberInvitation.created_at > now - timedelta(days=invitation_days),
            or_(
                MemberInvitation.invited_with_api_key_id.is_(None),
                ApiKey.revoked_at.is_(None) & (ApiKey.expires_at.is_(None) | (ApiKey.expires_at > now)),
            ),
        )
    )


def registration_invitation(
    session: Session, email: str, code: str, invitation_days: int
) -> tuple[MemberInvitation, Organization] | None:
    """The standing invitation of this address (one with no account yet) that ``code`` opens, its row held
    until the registration commits, so it is spent once.

    Every invitation of the address is held first, their organizations before them (their deletion's
    order, ``hold_organization``: the account joins one). Two registrations of one address with two codes
    each held its own invitation, then the first waited for the other's (the account takes every
    invitation of its address, ``hand_invitations_to``) while the second waited for the first's user row:
    PostgreSQL failed one with a deadlock, a 500. Now the second waits for the first, then finds its code
    handed to the new account: a 403, as when it comes after."""
    address = email.lower()
    unclaimed = (MemberInvitation.email == address, MemberInvitation.user_id.is_(None))
    session.execute(
        select(Organization.id)
        .where(Organization.id.in_(select(MemberInvitation.organization_id).where(*unclaimed)))
        .order_by(Organization.id)
        .with_for_update(read=True, key_share=True)
    )
    session.execute(
        select(MemberInvitation.id).where(*unclaimed).order_by(MemberInvitation.id).with_for_update()
    )
    query = standing_invitations(invitation_days).where(
        *unclaimed, MemberInvitation.code_hash == hash_token(code)
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

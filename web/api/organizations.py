"""``/organizations``: tenancy, members and their roles."""

from __future__ import annotations

import secrets

import marshmallow as ma
from flask_smorest import Blueprint, abort
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from common import schedule_owner
from common.accounts import create_organization, find_user_by_email, lock_organization, slugify
from common.config import get_settings
from common.models import ROLES, ApiKey, AuthSession, Membership, Organization, User
from common.models.base import isoformat, utcnow
from common.models.identity import MemberInvitation
from common.security import hash_token
from web.api.auth import user_session_principal
from web.core.access import AUTHENTICATED, access, context
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.openapi import ObjectSchema, PageSchema, ResourceSchema
from web.core.pagination import PageArgs, paginate
from web.core.principal import current_principal
from web.core.tokens import revoke_sessions
from web.core.visible_text import visible_text

blp = Blueprint("organizations", __name__, url_prefix="/api/v1/organizations", description="Organizations")


class OrganizationCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=200), visible_text])
    slug = ma.fields.String(
        load_default=None,
        validate=ma.validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,59}$", error="Use 2-60 of a-z, 0-9, -."),
    )


class MemberAddSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=320))  # users.email holds 320
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))


def organization_json(org: Organization, role: str | None = None) -> dict:
    data = {
        "id": org.id,
        "name": org.name,
        "slug": org.slug,
        "personal": org.personal,
        "audit_retention_days": org.audit_retention_days,
        "created_at": isoformat(org.created_at),
    }
    if role:
        data["role"] = role
    return data


def member_json(membership: Membership) -> dict:
    return {
        "user_id": membership.user_id,
        "email": membership.user.email,
        "name": membership.user.name,
        "role": membership.role,
        "joined_at": isoformat(membership.created_at),
    }


@blp.route("", methods=["POST"])
@blp.alt_response(201, schema=ResourceSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(403, response="FORBIDDEN")
@access(AUTHENTICATED)
@blp.arguments(OrganizationCreateSchema)
def create(body):
    if user_session_principal("create organizations").session_org_id:
        # An SSO session reaches its own organization only: none of its sessions could act in a new one,
        # and the organization's IdP would fill the account's ORGANIZATIONS_PER_USER in its name.
        abort(
            403, message="A single sign-on session cannot create organizations; sign in with your password."
        )
    slug = body["slug"] or slugify(body["name"])
    if body["slug"] and db().scalar(select(Organization.id).where(Organization.slug == slug)):
        abort(409, message="This slug is already taken.")
    user = current_principal().user
    if user.personal_org_id is None and get_settings().registration != "open":
        # Made by an invitation or an IdP: creating organizations, each with every per-organization
        # share, and inviting accounts into them would make accounts as cheap as open registration did.
        abort(
            403,
            message="On this server accounts made by invitation or single sign-on join organizations: "
            "ask an admin of one to invite you, or the operator to create it.",
        )
    _check_organization_cap(user)
    org = create_organization(db(), body["name"], user, slug=body["slug"])
    db().commit()
    audit("organization.create", "organization", org.id)
    return organization_json(org, "admin"), 201


def _check_organization_cap(user: User) -> None:
    """Refuse a new team organization past ORGANIZATIONS_PER_USER: each one brings its own export and
    evaluation quotas and rate limits, so unlimited organizations would multiply one user's share. The
    user's row is locked first, so concurrent creations are counted one after another."""
    cap = get_settings().organizations_per_user
    db().execute(select(User.id).where(User.id == user.id).with_for_update())
    held = db().scalar(
        select(func.count(Membership.id))
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user.id, Membership.role == "admin", Organization.personal.is_(False))
    )
    if held >= cap:
        abort(
            409,
            message=f"You are admin of {held} organizations, the limit per user ({cap}); "
            "delete one of them before creating another.",
        )


@blp.route("", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access(AUTHENTICATED)
@blp.arguments(PageArgs, location="query")
def list_organizations(args):
    principal = current_principal()
    query = (
        select(Organization)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == principal.user_id)
        .order_by(Organization.created_at)
    )
    if principal.bound_org_id:  # an API key or an SSO session sees only the organization it is bound to
        query = query.where(Organization.id == principal.bound_org_id)
    roles = dict(
        db()
        .execute(
            select(Membership.organization_id, Membership.role).where(
                Membership.user_id == current_principal().user_id
            )
        )
        .all()
    )
    return paginate(
        query, args["page"], args["per_page"], lambda org: organization_json(org, roles.get(org.id))
    )


@blp.route("/<org_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("viewer", org_arg="org_id")
def get(org_id):
    ctx = context()
    return organization_json(ctx.organization, ctx.role)


@blp.route("/<org_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@blp.alt_response(409, response="CONFLICT")
@access("admin", org_arg="org_id")
def delete_organization(org_id):
    """Delete a team organization with everything in it. Its admins' own decision, made signed in: an
    admin's API key (a CI secret, readable by whoever runs the pipelines) may not, as it may not leave."""
    principal = user_session_principal("delete organizations")
    org = context().organization
    if org.personal:
        abort(409, message="A personal workspace is deleted with its account, not on its own.")
    if principal.session_org_id and _admins_with_a_password(org.id):
        _refuse_identity_provider("delete the organization")
    audit("organization.delete", "organization", org.id, name=org.name)
    db().delete(org)
    db().commit()
    return "", 204


@blp.route("/<org_id>/members", methods=["POST"])
@blp.alt_response(202, schema=ObjectSchema, success=True)
@access("admin", org_arg="org_id")
@blp.arguments(MemberAddSchema)
def add_member(body, org_id):
    """Invite the account with this email; the answer is the same whether such an account exists or not.

    The account becomes a member when it accepts (``POST /auth/invitations/:id/accept``) with the
    ``invitation_code`` of this answer, which the admin passes on to the person: registration proves no
    address, so whoever registered it first holds the invitation but, without the code, cannot take it. An
    unknown email leaves nothing behind (its code matches nothing), so whoever registers that address later
    inherits no invitation; except where registration is by invitation (``REGISTRATION=invite``), where the
    address registers with the code and joins. Inviting again renews the invitation with a new code.

    Inviting an admin is made signed in: an admin's API key (a CI secret) that invited an account as admin
    handed whoever holds it every right a key is refused, deleting the organization included.
    """
    if body["role"] == "admin":
        user_session_principal("invite an admin")
    code = secrets.token_urlsafe(24)
    user = find_user_by_email(db(), body["email"])
    if user is not None and not _is_member(org_id, user.id):
        _renew_invitation(MemberInvitation.user_id == user.id, body["role"], code, user_id=user.id)
    elif user is None and get_settings().registration == "invite":
        email = body["email"].lower()
        _renew_invitation(MemberInvitation.email == email, body["role"], code, email=email)
    audit("organization.member_invite", "organization", org_id, email=body["email"], role=body["role"])
    return {
        "status": "invited",
        "email": body["email"],
        "role": body["role"],
        "invitation_code": code,
        "message": "If an account uses this email, it has been invited and joins when it accepts with "
        "invitation_code (where registration is by invitation, an address with no account registers with "
        "it): give the code to the person through a channel that reaches them.",
    }, 202


def _renew_invitation(invitee, role: str, code: str, **names_the_invitee) -> None:
    """Invite the account (``user_id``) or the address with no account yet (``email``, where registration
    is by invitation), or renew its invitation, with this role and code, in the current admin's name and
    with their API key, if it was sent with one (it stands while the key is live)."""
    organization_id, admin_id = context().organization_id, context().user_id
    api_key_id = current_principal().api_key_id
    for last_try in (False, True):
        invitation = db().scalar(
            select(MemberInvitation).where(MemberInvitation.organization_id == organization_id, invitee)
        )
        if invitation is None:
            invitation = MemberInvitation(organization_id=organization_id, **names_the_invitee)
            db().add(invitation)
        invitation.role, invitation.invited_by = role, admin_id
        invitation.invited_with_api_key_id = api_key_id
        invitation.code_hash = hash_token(code)
        invitation.created_at = utcnow()  # renewed: it lapses INVITATION_DAYS from now
        try:
            db().commit()
            return
        except (IntegrityError, StaleDataError):
            # Another admin's invitation of the same person was written meanwhile, or the one read was
            # deleted meanwhile (lapsed, the maintenance worker's ``prune_spent``): look again.
            db().rollback()
            if last_try:
                raise


def _is_member(org_id: str, user_id: str) -> bool:
    return (
        db().scalar(
            select(Membership.id).where(Membership.organization_id == org_id, Membership.user_id == user_id)
        )
        is not None
    )


@blp.route("/<org_id>/members", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer", org_arg="org_id")
@blp.arguments(PageArgs, location="query")
def list_members(args, org_id):
    query = select(Membership).where(Membership.organization_id == org_id).order_by(Membership.created_at)
    return paginate(query, args["page"], args["per_page"], member_json)


@blp.route("/<org_id>/members/<user_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@blp.alt_response(409, response="CONFLICT")
@access("admin", org_arg="org_id")
def remove_member(org_id, user_id):
    """Removing an admin takes admin rights away, as inviting one grants them: it is made signed in. An
    admin's API key (a CI secret) removed every other admin, or its own user, which leaving refuses to a
    key."""
    membership = db().scalar(
        select(Membership).where(Membership.organization_id == org_id, Membership.user_id == user_id)
    )
    if membership is None:
        abort(404, message="Member not found.")
    if membership.role == "admin":
        principal = user_session_principal("remove an admin")
        if principal.session_org_id and membership.user.password_hash is not None:
            _refuse_identity_provider("remove an admin who signs in with a password")
    if context().organization.personal and membership.user.personal_org_id == org_id:
        abort(409, message="The owner of a personal workspace stays in it; it goes with their account.")
    _delete_membership(membership)
    audit("organization.member_remove", "user", user_id)
    return "", 204


@blp.route("/<org_id>/membership", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
@access("viewer", org_arg="org_id")
def leave(org_id):
    """Any member leaves, unless they are its last admin (or it is their personal workspace). Leaving is the
    account's decision, as joining is: an API key (a CI job's) cannot make its user leave, nor can a single
    sign-on session an admin who signs in with a password (as it cannot remove one)."""
    principal = user_session_principal("leave organizations")
    ctx = context()
    if ctx.organization.personal and ctx.organization.id == ctx.principal.user.personal_org_id:
        abort(409, message="A personal workspace is left by deleting the account.")
    membership = db().scalar(
        select(Membership).where(Membership.organization_id == org_id, Membership.user_id == ctx.user_id)
    )
    if membership is None:
        abort(404, message="Member not found.")  # an admin removed them since the role check
    if principal.session_org_id and membership.role == "admin" and principal.user.password_hash is not None:
        _refuse_identity_provider("make an admin who signs in with a password leave")
    _delete_membership(membership)
    audit("organization.member_leave", "user", ctx.user_id)
    return "", 204


def _admins_with_a_password(org_id: str) -> bool:
    return bool(
        db().scalar(
            select(func.count())
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.organization_id == org_id,
                Membership.role == "admin",
                User.password_hash.is_not(None),
            )
        )
    )


def _refuse_identity_provider(action: str) -> None:
    """Admins who sign in with a password are the organization's way back in when its identity provider
    breaks or is taken over (they keep password login whatever the SSO policy says), so the provider's word
    (a single sign-on session, even an admin's) does not remove them nor delete what they would recover."""
    abort(
        403,
        message=f"A single sign-on session cannot {action}; sign in with your password to do it.",
    )


def _delete_membership(membership: Membership) -> None:
    """Remove a membership, keeping at least one admin in the organization.

    The member's API keys for the organization are revoked with it: a key checks the membership on each
    request, so a kept key would work again the day its user rejoins, without anyone issuing it. So are
    their sessions bound to it (single sign-on's, for ``SSO_SESSION_HOURS``), before the keys as a password
    change revokes them, and so goes an invitation still pending for them (they joined another way,
    through SSO): either would let them back in."""
    if membership.role == "admin":
        lock_organization(db(), membership.organization_id)
        admins = db().scalar(
            select(func.count()).where(
                Membership.organization_id == membership.organization_id, Membership.role == "admin"
            )
        )
        if admins <= 1:
            abort(409, message="An organization keeps at least one admin.")
    # Held before the member's keys are looked up: a key being minted holds it until it is written
    # (``web.api.auth._hold_membership``), so it is revoked below with the others.
    held = db().scalar(select(Membership.id).where(Membership.id == membership.id).with_for_update())
    if held is None:
        abort(404, message="Member not found.")  # removed meanwhile, by another admin or by leaving
    revoke_sessions(
        list(
            db().scalars(
                select(AuthSession).where(
                    AuthSession.user_id == membership.user_id,
                    AuthSession.organization_id == membership.organization_id,
                    AuthSession.revoked_at.is_(None),
                )
            )
        )
    )
    # One by one, as ``POST /auth/api-key/:id/revoke`` does, so the revocation listeners see each key.
    for key in db().scalars(
        select(ApiKey).where(
            ApiKey.user_id == membership.user_id,
            ApiKey.organization_id == membership.organization_id,
            ApiKey.revoked_at.is_(None),
        )
    ):
        key.revoked_at = utcnow()
    db().execute(
        delete(MemberInvitation).where(
            MemberInvitation.organization_id == membership.organization_id,
            MemberInvitation.user_id == membership.user_id,
        )
    )
    db().delete(membership)
    db().flush()
    schedule_owner.pause_schedules_of(db(), membership.organization_id, membership.user_id)
    db().commit()

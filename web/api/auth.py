"""``/auth``: registration, login, tokens, profile, password, API keys, account deletion."""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

import marshmallow as ma
from flask import after_this_request, g, request
from flask_smorest import Blueprint, abort
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from common import login_guard, schedule_owner
from common.accounts import (
    create_user,
    find_user_by_email,
    hand_invitations_to,
    hold_organization,
    lock_organization,
    registration_invitation,
)
from common.config import get_settings
from common.models import ApiKey, AuthSession, Membership, Organization, User
from common.models.base import isoformat, utcnow
from common.models.identity import MemberInvitation
from common.security import api_key_prefix, generate_api_key, hash_api_key, hash_password, verify_password
from common.sso import organizations_requiring_sso
from web.core.access import AUTHENTICATED, PUBLIC, access, context
from web.core.audit_recorder import audit, audit_organization
from web.core.client_address import request_client
from web.core.database import db
from web.core.openapi import (
    ApiKeyCreatedSchema,
    ApiKeyPageSchema,
    PasswordChangedSchema,
    ResourceSchema,
    SessionSchema,
    TokensSchema,
)
from web.core.pagination import PageArgs, paginate
from web.core.principal import AuthenticationError, Principal, bearer_token, current_principal, decode_jwt
from web.core.ratelimits import limit_group
from web.core.tokens import (
    forget_refresh,
    revoke_access_token,
    revoke_sessions,
    rotate,
    sso_session_over,
    start_session,
    user_sessions,
)
from web.core.visible_text import visible_text

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Authentication and account")

Password = ma.fields.String(required=True, validate=ma.validate.Length(min=8, max=256))


class RegisterSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=320))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=8, max=256))
    name = ma.fields.String(load_default="", validate=[ma.validate.Length(max=200), visible_text])
    # With REGISTRATION=invite: the code of an invitation to this address, from the admin who sent it.
    invitation_code = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=200))


class LoginSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=320))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=256))


class ProfileSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=200), visible_text])


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=256))
    new_password = ma.fields.String(required=True, validate=ma.validate.Length(min=8, max=256))
    keep_api_keys = ma.fields.Boolean(load_default=False)


class ApiKeyCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=200), visible_text])
    expires_in_days = ma.fields.Integer(
        load_default=None, allow_none=True, validate=ma.validate.Range(1, 3650)
    )


class AccountDeleteSchema(ma.Schema):
    password = ma.fields.String(load_default=None, validate=ma.validate.Length(max=256))


def user_json(user: User, bound_org_id: str | None = None) -> dict:
    """The user and their organizations; for a credential bound to one organization (an API key, an SSO
    session), that one only."""
    query = (
        select(Membership.role, Organization)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user.id)
        .order_by(Organization.created_at)
    )
    if bound_org_id:
        query = query.where(Organization.id == bound_org_id)
    memberships = db().execute(query).all()
    personal = user.personal_org_id if bound_org_id in (None, user.personal_org_id) else None
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "onboarding_completed": user.onboarding_completed,
        "personal_organization_id": personal,
        "organizations": [
            {"id": org.id, "name": org.name, "slug": org.slug, "role": role} for role, org in memberships
        ],
        "created_at": isoformat(user.created_at),
    }


def api_key_json(key: ApiKey) -> dict:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "organization_id": key.organization_id,
        "created_at": isoformat(key.created_at),
        "expires_at": isoformat(key.expires_at),
        "revoked_at": isoformat(key.revoked_at),
        "last_used_at": isoformat(key.last_used_at),
    }


def user_session_principal(action: str):
    """The caller, who must be signed in as the user: an API key is a delegated credential and
    may not take over the account it belongs to (its password, its other keys, its deletion)."""
    principal = current_principal()
    if principal.api_key_id:
        abort(403, message=f"An API key cannot {action}; sign in with your account to do it.")
    return principal


def account_principal(action: str) -> Principal:
    """``user_session_principal`` that also refuses a single sign-on session of an account with a password:
    that session is the organization's IdP's word for the user and reaches that organization only, not the
    account, whose name every other organization shows. An account with no password is its IdP's own (its
    only sessions are that IdP's), so its SSO session may act on it."""
    principal = user_session_principal(action)
    if principal.session_org_id and principal.user.password_hash is not None:
        abort(
            403,
            message=f"A single sign-on session acts in its organization only and cannot {action}; "
            "sign in with your password to do it.",
        )
    return principal


def confirm_current_password(principal: Principal, password: str, refusal: str) -> None:
    """Abort 403 with ``refusal`` unless ``password`` is the user's; wrong ones count with failed logins
    (``login_guard``), against the session from whatever address (ten per window: a stolen session changing
    address had ten per address, 500 in all) and at the address too, so a stolen session cannot guess the
    password to change it or to delete the account: 429 with ``Retry-After`` while the session is locked.
    Only the session's own count holds it: nobody's guesses elsewhere keep the owner from changing the
    password in their own session."""
    user = principal.user
    address = request_client()
    client = login_guard.session_client(principal.session_id) if principal.session_id else address
    try:
        proven = login_guard.guess(
            user.email,
            client,
            lambda: verify_password(user.password_hash, password),
            also_counted_at=address if client != address else None,
        )
    except login_guard.Locked as locked:
        too_many_guesses(locked, "wrong passwords", "auth.reauth_throttled", user.id)
    if not proven:
        abort(403, message=refusal)


def too_many_guesses(locked: login_guard.Locked, guesses: str, action: str, user_id: str | None) -> NoReturn:
    """429 with ``Retry-After`` while ``login_guard`` locks this account from this address."""
    audit(action, "user", user_id)
    abort(
        429,
        message=f"Too many {guesses} for this account from here; try again in {locked.wait} seconds.",
        headers={"Retry-After": str(locked.wait)},
    )


def own_api_key_or_404(key_id: str) -> ApiKey:
    principal = user_session_principal("manage API keys")
    key = db().get(ApiKey, key_id)
    if key is None or key.user_id != principal.user_id:
        abort(404, message="API key not found.")
    if principal.session_org_id and key.organization_id != principal.session_org_id:
        abort(404, message="API key not found.")  # an SSO session manages its organization's keys only
    return key


@blp.route("/register", methods=["POST"])
@blp.alt_response(201, schema=SessionSchema, success=True)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
@access(PUBLIC)
@limit_group("auth")
@blp.arguments(RegisterSchema)
def register(body):
    """Open registration gives every account a personal workspace, an organization with every
    per-organization share, so one person with a few accounts held the API's outbound share, the webhook
    threads and the scans workers. ``REGISTRATION=invite`` makes an account cost an admin's invitation
    (and gives it no workspace); ``closed`` leaves account creation to SSO."""
    mode = get_settings().registration
    if mode == "closed":
        abort(403, message="Registration is closed on this server; sign in through your organization's SSO.")
    invitation, joined_org_id = None, None
    if mode == "invite":  # before the 409, so that nobody without a code learns which addresses are taken
        invitation = registration_invitation(
            db(), body["email"], body["invitation_code"] or "", get_settings().invitation_days
        )
        if invitation is None:
            abort(
                403,
                message="Registration on this server is by invitation: give the invitation_code an admin "
                "sent to this address.",
            )
    if find_user_by_email(db(), body["email"]) is not None:
        abort(409, message="An account with this email already exists.")
    try:
        user = create_user(
            db(), body["email"], body["name"], body["password"], personal_workspace=mode == "open"
        )
        if invitation is not None:
            joined_org_id = _join_by_invitation(user, *invitation)
        hand_invitations_to(db(), user)
        tokens = start_session(user)
        db().commit()
    except IntegrityError:
        db().rollback()
        abort(409, message="An account with this email already exists.")
    g.audit_actor = user.id
    audit_organization(joined_org_id or user.personal_org_id)
    audit("auth.register", "user", user.id, invited=joined_org_id is not None)
    return {"user": user_json(user), **tokens}, 201


def _join_by_invitation(user: User, invitation: MemberInvitation, organization: Organization) -> str:
    """The new account joins with the invitation's role, which is spent; the organization's id."""
    db().add(Membership(organization_id=organization.id, user_id=user.id, role=invitation.role))
    db().delete(invitation)
    return organization.id


@blp.route("/login", methods=["POST"])
@blp.alt_response(200, schema=SessionSchema, success=True)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@access(PUBLIC)
@limit_group("auth")
@blp.arguments(LoginSchema)
def login(body):
    """A browser that signed in before counts its wrong passwords against its device token, not its
    address, while the account and its password are the ones it signed in to (``login_guard.login_client``);
    each sign-in hands it a fresh token."""
    user = find_user_by_email(db(), body["email"])
    client = login_guard.login_client(user, request.cookies.get(login_guard.DEVICE_COOKIE), request_client())
    try:  # the password is verified even for no account, so the answer takes as long either way
        proven = login_guard.guess(
            body["email"],
            client,
            lambda: (
                verify_password(user.password_hash if user else None, body["password"]) and user is not None
            ),
        )
    except login_guard.Locked as locked:
        too_many_guesses(locked, "failed sign-ins", "auth.login_throttled", None)
    if not proven:
        audit("auth.login_failed", "user", user.id if user else None)
        abort(401, message="Invalid email or password.")
    g.audit_actor = user.id
    audit_organization(user.personal_org_id)
    sso_only = organizations_requiring_sso(db(), user.id)
    if sso_only:
        audit_organization(sso_only[0].id)
        audit("auth.login_refused", "user", user.id, reason="sso_required")
        abort(
            403,
            message=f"The organization '{sso_only[0].slug}' requires single sign-on: "
            f"sign in at /api/v1/sso/{sso_only[0].slug}/login.",
        )
    tokens = start_session(user)
    db().commit()
    audit("auth.login", "user", user.id)
    device = login_guard.device_token(user)

    @after_this_request
    def remember_the_device(response):
        response.set_cookie(
            login_guard.DEVICE_COOKIE,
            device,
            max_age=login_guard.DEVICE_DAYS * 86400,
            path=request.path,
            secure=request.is_secure,
            httponly=True,
            samesite="Strict",
        )
        return response

    return {**tokens, "user": user_json(user)}


@blp.route("/me", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access(AUTHENTICATED)
@limit_group("auth")
def me():
    principal = current_principal()
    return user_json(principal.user, principal.bound_org_id)


@blp.route("/profile", methods=["PUT"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@blp.alt_response(403, response="FORBIDDEN")
@access(AUTHENTICATED)
@limit_group("auth")
@blp.arguments(ProfileSchema)
def update_profile(body):
    principal = account_principal("change the profile")
    user = principal.user
    user.name = body["name"]
    db().commit()
    audit("auth.profile_update", "user", user.id)
    return user_json(user, principal.bound_org_id)


@blp.route("/password", methods=["PUT"])
@blp.alt_response(200, schema=PasswordChangedSchema, success=True)
@blp.alt_response(403, response="FORBIDDEN")
@access(AUTHENTICATED)
@limit_group("auth")
@blp.arguments(PasswordChangeSchema)
def change_password(body):
    principal = user_session_principal("change the password")
    user = principal.user
    confirm_current_password(principal, body["current_password"], "The current password is not correct.")
    user.password_hash = hash_password(body["new_password"])
    # This session ends too: a copy of its tokens (often the reason for the change) must not outlive the
    # change. The caller goes on in a new session, bound where this one was.
    current = db().get(AuthSession, principal.session_id) if principal.session_id else None
    revoke_sessions(user_sessions(user.id))
    revoke_access_token(principal.token_jti, principal.token_exp)
    keys_revoked = 0 if body["keep_api_keys"] else revoke_api_keys(user.id)
    # A password proves the account, not the IdP's say: an SSO session's IdP sign-in time carries over.
    tokens = start_session(
        user,
        organization_id=principal.session_org_id,
        sso_signed_in_at=current.sso_signed_in_at if current is not None else None,
    )
    db().commit()
    audit("auth.password_change", "user", user.id, api_keys_revoked=keys_revoked)
    keys_said = (
        "API keys were kept (keep_api_keys): review them at GET /auth/api-keys"
        if body["keep_api_keys"]
        else f"{keys_revoked} API key(s) were revoked"
    )
    return {
        "message": f"Password changed; every session was signed out, this one goes on with new tokens; "
        f"{keys_said}.",
        "api_keys_revoked": keys_revoked,
        **tokens,
    }


def revoke_api_keys(user_id: str) -> int:
    """Revoke every live API key of the user; how many. A password change ends them with the sessions: a
    key minted from a stolen session (or with a guessed password) would otherwise outlive the change that
    was meant to end the intruder's access, and nothing tells the user it exists. A routine change keeps
    them by asking (``keep_api_keys``). Each is revoked as ``POST /auth/api-key/:id/revoke`` does, so open
    WebSockets and cached principals learn of it (``common.revocation``)."""
    now = utcnow()
    keys = db().scalars(select(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))).all()
    for key in keys:
        key.revoked_at = now
    return len(keys)


@blp.route("/api-key", methods=["POST"])
@blp.alt_response(201, schema=ApiKeyCreatedSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("viewer")
@limit_group("api-key-create")
@blp.arguments(ApiKeyCreateSchema)
def create_api_key(body):
    principal = user_session_principal("create API keys")
    ctx = context()
    key_value = generate_api_key()
    expires_at = utcnow() + timedelta(days=body["expires_in_days"]) if body["expires_in_days"] else None
    key = ApiKey(
        user_id=ctx.user_id,
        organization_id=ctx.organization_id,
        name=body["name"],
        prefix=api_key_prefix(key_value),
        key_hash=hash_api_key(key_value),
        expires_at=expires_at,
        sso_session=principal.session_org_id is not None,
    )
    # Before the session's row, in the organization's deletion's order (``hold_organization``): an SSO
    # session is deleted with its organization, which the key references.
    if not hold_organization(db(), ctx.organization_id):
        abort(404, message="Organization not found.")
    _hold_membership(ctx.user_id, ctx.organization_id)
    _check_api_key_cap(ctx.user_id, ctx.organization_id)
    _hold_live_session(principal.session_id)
    db().add(key)
    db().commit()
    audit("auth.api_key_create", "api_key", key.id, name=key.name)
    return {
        "key": key_value,
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "organization_id": key.organization_id,
        "created_at": isoformat(key.created_at),
        "expires_at": isoformat(key.expires_at),
    }, 201


def _check_api_key_cap(user_id: str, organization_id: str) -> None:
    """Refuse a key past API_KEYS_PER_USER live ones in the organization: rate limits count per key, so
    unbounded keys multiplied one user's request share. The user's row is locked first (before the session,
    in a password change's order), so concurrent creations are counted one after another; keys already past
    the cap keep working."""
    cap = get_settings().api_keys_per_user
    db().execute(select(User.id).where(User.id == user_id).with_for_update())
    now = utcnow()
    live = db().scalar(
        select(func.count(ApiKey.id)).where(
            ApiKey.user_id == user_id,
            ApiKey.organization_id == organization_id,
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
        )
    )
    if live >= cap:
        abort(
            409,
            message=f"You have {live} live API keys in this organization, the limit per user ({cap}); "
            "revoke or delete one (GET /auth/api-keys lists them) before creating another.",
        )


def _hold_membership(user_id: str, organization_id: str) -> None:
    """Hold the membership the key acts through, still there, until the key is committed (403 if it went
    meanwhile): a removal, which revokes the member's keys, waits for the key and revokes it too. Before, a
    key requested as its user was removed was written after the removal had revoked the keys it found, and
    worked again the day they rejoined. ``FOR KEY SHARE``: it waits for a removal only, not a role change."""
    held = db().scalar(
        select(Membership.id)
        .where(Membership.user_id == user_id, Membership.organization_id == organization_id)
        .with_for_update(read=True, key_share=True)
    )
    if held is None:
        abort(403, message="You are no longer a member of this organization.")


def _hold_live_session(session_id: str | None) -> None:
    """Hold the minting session's row, still live, until the key is committed (401 if it ended meanwhile):
    a password change, which revokes the sessions and then the keys, waits for the key and revokes it too.
    Before, a key requested by a stolen session as the owner changed the password was written after the
    change had revoked the keys it found, and outlived it."""
    if session_id is None:
        return
    live = db().scalar(
        select(AuthSession.id)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .with_for_update(read=True)
    )
    if live is None:
        abort(401, message="The session has ended; sign in again.")


@blp.route("/api-keys", methods=["GET"])
@blp.alt_response(200, schema=ApiKeyPageSchema, success=True)
@blp.alt_response(403, response="FORBIDDEN")
@access(AUTHENTICATED)
@limit_group("auth")
@blp.arguments(PageArgs, location="query")
def list_api_keys(args):
    principal = user_session_principal("list API keys")
    query = select(ApiKey).where(ApiKey.user_id == principal.user_id)
    if principal.session_org_id:
        query = query.where(ApiKey.organization_id == principal.session_org_id)
    query = query.order_by(ApiKey.created_at.desc(), ApiKey.id)
    return paginate(query, args["page"], args["per_page"], api_key_json)


@blp.route("/api-key/<key_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@blp.alt_response(403, response="FORBIDDEN")
@access(AUTHENTICATED)
@limit_group("auth")
def delete_api_key(key_id):
    key = own_api_key_or_404(key_id)
    db().delete(key)
    db().commit()
    audit("auth.api_key_delete", "api_key", key_id)
    return "", 204


@blp.route("/api-key/<key_id>/revoke", methods=["POST"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@blp.alt_response(403, response="FORBIDDEN")
@access(AUTHENTICATED)
@limit_group("auth")
def revoke_api_key(key_id):
    key = own_api_key_or_404(key_id)
    key.revoked_at = key.revoked_at or utcnow()
    db().commit()
    audit("auth.api_key_revoke", "api_key", key_id)
    return api_key_json(key)


@blp.route("/refresh", methods=["POST"])
@blp.alt_response(200, schema=TokensSchema, success=True)
@blp.alt_response(401, response="UNAUTHORIZED")
@access(PUBLIC)
@limit_group("auth")
def refresh():
    try:
        claims = decode_jwt(bearer_token() or "", "refresh")
    except AuthenticationError as exc:
        abort(401, message=str(exc))
    # Held until the rotation commits: the same refresh token presented twice at once refreshes once.
    session = db().get(AuthSession, claims.get("sid"), with_for_update=True)
    user = db().get(User, claims["sub"])
    if session is None or user is None or session.revoked_at is not None:
        forget_refresh(claims.get("sid"))
        abort(401, message="The session has ended; sign in again.")
    if sso_session_over(session):
        revoke_sessions([session])
        db().commit()
        abort(
            401, message="The single sign-on session has ended; sign in through the identity provider again."
        )
    if session.refresh_jti != claims.get("jti"):
        # A rotated-out refresh token came back: treat it as stolen and end the session.
        revoke_sessions([session])
        db().commit()
        abort(401, message="This refresh token was already used; the session has been revoked.")
    tokens = rotate(user, session)
    db().commit()
    return tokens


@blp.route("/logout", methods=["POST"])
@blp.alt_response(204, description="No Content", success=True)
@blp.alt_response(400, response="BAD_REQUEST")
@access(AUTHENTICATED)
@limit_group("auth")
def logout():
    principal = current_principal()
    if principal.api_key_id:
        abort(400, message="API keys are not sessions; revoke the key instead.")
    revoke_access_token(principal.token_jti, principal.token_exp)
    session = db().get(AuthSession, principal.session_id)
    if session is not None:
        revoke_sessions([session])
    db().commit()
    audit("auth.logout", "user", principal.user_id)
    return "", 204


@blp.route("/onboarding-complete", methods=["POST"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access(AUTHENTICATED)
@limit_group("auth")
def onboarding_complete():
    principal = current_principal()
    user = principal.user
    user.onboarding_completed = True
    db().commit()
    audit("auth.onboarding_complete", "user", user.id)
    return user_json(user, principal.bound_org_id)


@blp.route("/account", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
@access(AUTHENTICATED)
@limit_group("auth")
@blp.arguments(AccountDeleteSchema)
def delete_account(body):
    """Remove the user, their keys, sessions, memberships and their personal workspace; never the last
    admin of an organization with other members, nor the last member of one.

    The personal workspace goes whoever else was invited into it, as a user's own repositories go with
    the account elsewhere: it stays ``personal`` (its slug is made from the owner's email, its deletion is
    the account's), so left behind it was a workspace nobody could ever delete."""
    principal = user_session_principal("delete the account")
    user = principal.user
    if user.password_hash:
        confirm_current_password(
            principal, body.get("password") or "", "Confirm account deletion with your current password."
        )
    memberships = (
        db()
        .scalars(select(Membership).where(Membership.user_id == user.id).order_by(Membership.organization_id))
        .all()
    )
    for membership in memberships:
        if membership.organization_id == user.personal_org_id:
            continue  # deleted below, with its other members' memberships and keys
        if membership.role == "admin":
            lock_organization(db(), membership.organization_id)  # no other admin leaves meanwhile
        other_admins = db().scalar(
            select(Membership.id).where(
                Membership.organization_id == membership.organization_id,
                Membership.user_id != user.id,
                Membership.role == "admin",
            )
        )
        others = db().scalar(
            select(Membership.id).where(
                Membership.organization_id == membership.organization_id, Membership.user_id != user.id
            )
        )
        if membership.role == "admin" and others and not other_admins:
            abort(
                409, message="Hand over admin rights in organizations you share before deleting your account."
            )
        if not others:
            # Nobody would be left to stop its schedules and webhooks, or to delete it.
            abort(409, message="Delete the organizations only you belong to before deleting your account.")
    # In a key minting's order (its organization, its membership, the user, then its session:
    # ``create_api_key``), after the organizations as a removal locks them: a key minted meanwhile is
    # deleted with the others, where the sessions locked first made a cycle and the deletion failed (503).
    # The personal workspace, deleted below, is locked as its deletion will lock it.
    if user.personal_org_id:
        db().execute(select(Organization.id).where(Organization.id == user.personal_org_id).with_for_update())
    db().execute(
        select(Membership.id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.organization_id)
        .with_for_update()
    )
    db().execute(select(User.id).where(User.id == user.id).with_for_update())
    revoke_sessions(user_sessions(user.id))
    if principal.token_jti:
        revoke_access_token(principal.token_jti, principal.token_exp)
    personal = db().get(Organization, user.personal_org_id) if user.personal_org_id else None
    db().execute(delete(ApiKey).where(ApiKey.user_id == user.id))
    db().execute(delete(Membership).where(Membership.user_id == user.id))
    db().execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    schedule_owner.pause_schedules_of_deleted_account(db(), user.id)
    if personal is not None:
        db().delete(personal)  # its scans, keys, memberships and the rest go with it (ON DELETE CASCADE)
    audit("auth.account_delete", "user", user.id)
    db().delete(user)
    db().commit()
    return "", 204

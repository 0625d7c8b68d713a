"""``/sso/:orgSlug``: the public side of single sign-on — check, login redirect and the provider's callback.

The callback finds the platform user by the identity's (issuer, subject): a new person gets a user created
just in time and a membership with the mapped role; a person whose email already has an account gets no
session but a 409 with a one-time link token, which ``POST /sso/:orgSlug/link`` redeems with the account's
password. Every session it starts is bound to the organization (docs/security.md).
These are GET requests, which the audit trail does not record by itself, so every outcome is written here.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import marshmallow as ma
from flask import g, make_response, redirect, request
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from common.db import session_scope
from common.models import AuditLog, Organization
from common.models.base import utcnow
from common.models.sso import SsoConfig
from common.sso import (
    CODE_REJECTED,
    PENDING_LINK_TTL_SECONDS,
    PENDING_LOGIN_TTL_SECONDS,
    PendingLogin,
    SignInOutcome,
    SsoError,
    begin_login,
    client_settings,
    complete_login,
    consume_pending_login,
    discover_and_remember,
    new_browser_binding,
    note_rejected_code,
    pending_login,
    redeem_link,
    rejected_a_code_lately,
    remembered_discovery,
    sign_in_identity,
)
from web.api.auth import user_json
from web.core.access import PUBLIC, access
from web.core.audit_recorder import audit, audit_organization
from web.core.client_address import request_client
from web.core.database import db
from web.core.openapi import REQUIRED_LOCATION, ObjectSchema, SsoSessionSchema, error_responses
from web.core.outbound import outbound_request
from web.core.public_urls import external_url
from web.core.ratelimits import limit_group
from web.core.tokens import end_password_sessions, start_session

log = logging.getLogger(__name__)

blp = Blueprint("sso_public", __name__, url_prefix="/api/v1/sso", description="Single sign-on (public)")

BINDING_COOKIE = "trusera_sso_binding"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


class LinkSchema(ma.Schema):
    link_token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=256))


def _record(
    action: str, status: int, organization_id: str | None, user_id: str | None = None, **details
) -> None:
    """One audit row for a GET outcome; the query string (code, state) is never written."""
    row = AuditLog(
        organization_id=organization_id,
        actor_user_id=user_id,
        action=action,
        target_type="organization",
        target_id=organization_id or request.view_args.get("org_slug"),
        status_code=status,
        ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:500],
        details={**details, "method": request.method, "path": request.path},
    )
    try:
        with session_scope() as session:
            session.add(row)
    except SQLAlchemyError as exc:
        log.error("audit entry %s not written: %s", action, exc)


def _refuse(error: SsoError, action: str, organization_id: str | None, **details):
    _record(action, error.status, organization_id, reason=error.reason, **details)
    abort(error.status, message=error.message)


UNKNOWN_ORGANIZATION = "No organization has this slug."


def _organization(org_slug: str) -> Organization:
    """The team organization of this slug. A personal workspace has no SSO (``sso_config`` refuses it) and
    its slug is made from its owner's email: it answers as an unknown slug, or the check would tell anyone
    which emails have accounts."""
    organization = db().scalar(
        select(Organization).where(Organization.slug == org_slug, Organization.personal.is_(False))
    )
    if organization is None:
        raise SsoError(404, "unknown_organization", UNKNOWN_ORGANIZATION)
    return organization


def _config(organization: Organization) -> SsoConfig | None:
    return db().scalar(select(SsoConfig).where(SsoConfig.organization_id == organization.id))


def _enabled_config(organization: Organization) -> SsoConfig:
    """The configuration an organization signs in with. One without (never set up, or switched off) answers
    every public SSO route as an unknown slug, word for word (the audit row keeps the reason), or anyone
    could confirm that a slug's organization exists."""
    config = _config(organization)
    if config is None or not config.enabled:
        raise SsoError(404, "sso_disabled", UNKNOWN_ORGANIZATION)
    return config


@blp.route("/<org_slug>/check", methods=["GET"])
@blp.alt_response(200, schema=ObjectSchema, success=True)
@access(PUBLIC)
@limit_group("auth")
def check(org_slug):
    """Answers only for an organization that signs in through its provider (``_enabled_config``): its name,
    which its login page shows."""
    organization_id = None
    try:
        organization = _organization(org_slug)
        organization_id = organization.id
        config = _enabled_config(organization)
    except SsoError as error:
        _refuse(error, "sso.check_failed", organization_id, slug=org_slug)
    return {
        "organization": {"slug": organization.slug, "name": organization.name},
        "enabled": True,
        "login_url": external_url("sso_public.login", org_slug=org_slug),
        "password_login_allowed": config.allow_password_login,
    }


@blp.route("/<org_slug>/login", methods=["GET"])
@blp.alt_response(
    302, description="Redirect to the identity provider", headers=REQUIRED_LOCATION, success=True
)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(502, response="BAD_GATEWAY")
@access(PUBLIC)
@limit_group("auth")
def login(org_slug):
    organization_id = None
    browser_binding = new_browser_binding()
    try:
        organization = _organization(org_slug)
        organization_id = organization.id
        config = _enabled_config(organization)
        callback_url = external_url("sso_public.callback", org_slug=org_slug)
        client = client_settings(config)
        # Anyone may start a login: only one that finds no discovery document kept calls the provider.
        metadata = remembered_discovery(client.issuer, organization.id, config.version)
        if metadata is None:
            with outbound_request(organization.id, anonymous_client=request_client()):
                metadata = discover_and_remember(client.issuer, organization.id, config.version)
        authorization_url = begin_login(
            client,
            metadata,
            organization_id=organization.id,
            config_version=config.version,
            redirect_uri=callback_url,
            browser_binding=browser_binding,
        )
    except SsoError as error:
        _refuse(error, "sso.login_failed", organization_id, slug=org_slug)
    response = redirect(authorization_url, code=302)
    response.set_cookie(
        BINDING_COOKIE,
        browser_binding,
        max_age=PENDING_LOGIN_TTL_SECONDS,
        path=urlsplit(callback_url).path,
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",  # sent on the provider's top-level redirect back, not on cross-site subrequests
    )
    return response


@blp.route("/<org_slug>/callback", methods=["GET"])
@blp.alt_response(200, schema=SsoSessionSchema, success=True)
@error_responses(blp, 400, 401, 403, 409, 502)
@access(PUBLIC)
@limit_group("auth")
def callback(org_slug):
    organization_id = None
    try:
        organization = _organization(org_slug)
        organization_id = organization.id
        config = _enabled_config(organization)
        pending = _started_here(organization, config)
        # Only a sign-in this browser started takes a share, one address never takes all of it, and the
        # addresses whose codes the provider rejected lately never take all of it together; the state is
        # spent once the share is taken, so a sign-in refused for it (429) may be retried as it is.
        with outbound_request(
            organization.id,
            anonymous_client=request_client(),
            rejected_lately=rejected_a_code_lately(organization.id, request_client()),
        ):
            claims, outcome = _complete(organization, config, pending)
    except SsoError as error:
        if error.reason == CODE_REJECTED:
            note_rejected_code(organization_id, request_client())
        _refuse(error, "sso.login_failed", organization_id, slug=org_slug)
    if outcome.link_token:
        _record("sso.link_offered", 409, organization.id, subject=claims.get("sub"))
        response = make_response(_link_offer(org_slug, outcome.link_token), 409, NO_STORE)
    else:
        response = _bound_session(organization, config, outcome)
        _record(
            "sso.login",
            200,
            organization.id,
            outcome.user.id,
            subject=claims.get("sub"),
            role=outcome.role,
            claimed_role=outcome.claimed_role,
            joined=outcome.joined,
        )
    response.delete_cookie(BINDING_COOKIE, path=request.path)
    return response


def _started_here(organization: Organization, config: SsoConfig) -> PendingLogin:
    """The pending sign-in the callback answers, checked before any call to the provider: a made-up or
    spent state is refused without one. A sign-in whose answer cannot complete (another organization's,
    another browser's, an error of the provider's) ends there: its state is spent."""
    state = request.args.get("state", "")
    pending = pending_login(state)
    if pending is None:
        raise _invalid_state()
    refusal = (
        _invalid_state() if pending.organization_id != organization.id else _unusable_answer(config, pending)
    )
    if refusal is not None:
        consume_pending_login(state)
        raise refusal
    return pending


def _invalid_state() -> SsoError:
    return SsoError(400, "invalid_state", "This sign-in is unknown, expired or already used; start again.")


def _unusable_answer(config: SsoConfig, pending: PendingLogin) -> SsoError | None:
    if not pending.started_by(request.cookies.get(BINDING_COOKIE)):
        return SsoError(
            400, "browser_mismatch", "This sign-in was started in another browser; start again here."
        )
    if request.args.get("error"):
        return SsoError(
            401,
            "idp_denied",
            f"The identity provider refused the sign-in ({request.args['error'][:100]}).",
        )
    if pending.config_version != config.version:
        return SsoError(409, "config_changed", "The SSO configuration changed during sign-in; start again.")
    if request.args.get("iss") not in (None, config.issuer):
        return SsoError(401, "issuer_mismatch", "The authorization response comes from another issuer.")
    if not request.args.get("code"):
        return SsoError(400, "missing_code", "The authorization response carries no code.")
    return None


def _complete(
    organization: Organization, config: SsoConfig, pending: PendingLogin
) -> tuple[dict, SignInOutcome]:
    """Spend the sign-in's state (once: a second callback with it finds it gone), exchange the code at the
    provider and sign in whom it proves."""
    if consume_pending_login(request.args.get("state", "")) is None:
        raise _invalid_state()
    claims = complete_login(client_settings(config), pending, request.args["code"])
    return claims, _sign_in(organization, config, claims)


@blp.route("/<org_slug>/link", methods=["POST"])
@blp.alt_response(200, schema=SsoSessionSchema, success=True)
@error_responses(blp, 400, 401, 403, 409)
@access(PUBLIC)
@limit_group("auth")
@blp.arguments(LinkSchema)
def link(body, org_slug):
    """Link the identity of a sign-in that met an existing account, once its owner gives the password."""
    organization_id = None
    try:
        organization = _organization(org_slug)
        organization_id = organization.id
        config = _enabled_config(organization)
        outcome = _redeem(organization, config, body["link_token"], body["password"])
    except SsoError as error:
        audit_organization(organization_id)  # a POST: the audit trail writes the entry itself
        audit("sso.link_failed", "organization", organization_id or org_slug, reason=error.reason)
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
        abort(error.status, message=error.message, headers=headers)
    g.audit_actor = outcome.user.id
    audit_organization(organization.id)
    audit(
        "sso.link",
        "user",
        outcome.user.id,
        role=outcome.role,
        claimed_role=outcome.claimed_role,
        joined=outcome.joined,
    )
    return _bound_session(organization, config, outcome)


def _link_offer(org_slug: str, link_token: str) -> dict:
    return {
        "code": 409,
        "status": "Conflict",
        "message": "An account with this email already exists and is not linked to this identity provider. "
        "Its owner can link it by posting the link token and the account's password to link_url.",
        "link_token": link_token,
        "link_url": external_url("sso_public.link", org_slug=org_slug),
        "expires_in": PENDING_LINK_TTL_SECONDS,
    }


def _bound_session(organization: Organization, config: SsoConfig, outcome: SignInOutcome):
    """Platform tokens for a session bound to ``organization``: they act nowhere else. A member this
    sign-in leaves governed by ``allow_password_login: false`` (an identity linked, a role the IdP took
    back from an admin) loses their password sessions and the organization's keys minted in them, as the
    members governed when the policy came into force did: before, they kept them for good."""
    user = outcome.user
    if config.enabled and not config.allow_password_login and outcome.role != "admin":
        end_password_sessions(organization.id, [user.id])
    tokens = start_session(user, organization_id=organization.id, sso_signed_in_at=utcnow())
    db().commit()
    body = {
        **tokens,
        "user": user_json(user, bound_org_id=organization.id),
        "organization_id": organization.id,
    }
    return make_response(body, 200, NO_STORE)


def _redeem(organization: Organization, config: SsoConfig, link_token: str, password: str) -> SignInOutcome:
    """Redeem once: the token is spent by the first attempt, so a lost insert race is not retried."""
    try:
        return redeem_link(db(), organization, config, link_token, password, request_client())
    except IntegrityError as exc:
        db().rollback()
        raise SsoError(409, "identity_linked", "This identity was linked meanwhile; sign in again.") from exc


def _sign_in(organization: Organization, config: SsoConfig, claims: dict) -> SignInOutcome:
    return _retrying(lambda: sign_in_identity(db(), organization, config, claims))


def _retrying(step):
    """Run ``step``; when a concurrent first sign-in of the same person won an insert, run it again."""
    try:
        return step()
    except IntegrityError:
        db().rollback()
    try:
        return step()
    except IntegrityError as exc:
        db().rollback()
        raise SsoError(409, "conflict", "Another sign-in of this account is under way; try again.") from exc

"""Authorization: every view declares the lowest role it admits, and queries are scoped to one organization.

The declared role is stored on the view (``required_role``) so the authorization
matrix test can walk every endpoint of the app and check it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import g, request
from flask_smorest import abort

from common.models import ROLE_RANK, Organization
from web.core.database import connection_released_before_body, db
from web.core.principal import (
    OWN_ORGANIZATION,
    AuthenticationError,
    Credential,
    Membership,
    Principal,
    ServiceUnavailable,
    current_credential,
    current_principal,
    load_acting_principal,
    load_principal,
    unchecked_request_credential,
)

PUBLIC = "public"  # no authentication
AUTHENTICATED = "authenticated"  # any user, no organization context needed


@dataclass(frozen=True)
class Context:
    """The acting organization of a request. Its ``Organization`` row is loaded only when a view asks:
    most views need its id alone. ``organization`` is the session's object, so a view may modify it."""

    principal: Principal
    membership: Membership

    @property
    def organization_id(self) -> str:
        return self.membership.organization_id

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def organization(self) -> Organization:
        organization = db().get(Organization, self.organization_id)
        if organization is None:
            abort(404, message="Organization not found.")
        return organization

    @property
    def user_id(self) -> str:
        return self.principal.user_id


def acting_organization(
    credential: Credential | None, path_org_id: str | None
) -> tuple[Principal, Membership]:
    """The principal and its membership in the organization it acts in, in one query.

    The path's organization, else the header's, else the bound one (an API key's, an SSO session's),
    else the personal one. A bound credential acts in its own organization only: an API key elsewhere
    is refused as bound, an SSO session is answered as a non-member. ``credential`` None: the request's,
    checked in the Redis round trip that may also find the principal cached (``load_acting_principal``).
    """
    explicit, missing_status = _explicit_organization(path_org_id)
    session_org = (credential or unchecked_request_credential()).session_org_id
    if explicit is not None and session_org is not None and explicit != session_org:
        if credential is None:
            current_credential()  # a revoked token is refused as revoked first
        _not_a_member(missing_status)
    wanted = explicit or session_org or OWN_ORGANIZATION
    if credential is None:
        principal, membership = load_acting_principal(wanted)
    else:
        principal, membership = load_principal(credential, wanted)
    g.principal = principal
    if principal.api_key_org_id and explicit is not None and explicit != principal.api_key_org_id:
        abort(missing_status, message="This API key is bound to another organization.")
    if membership is None:
        _not_a_member(missing_status)
    return principal, membership


def _explicit_organization(path_org_id: str | None) -> tuple[str | None, int]:
    """The organization the request names (the path's, else the header's) and the status of a refusal."""
    if path_org_id is not None:
        return path_org_id, 404
    return request.headers.get("X-Organization-Id") or None, 403


def wanted_organization(credential: Credential, path_org_id: str | None) -> str | object | None:
    """Where ``acting_organization`` will look the principal up; None when it will refuse first."""
    explicit, _status = _explicit_organization(path_org_id)
    session_org = credential.session_org_id
    if explicit is not None and session_org is not None and explicit != session_org:
        return None
    return explicit or session_org or OWN_ORGANIZATION


def _not_a_member(missing_status: int):
    if missing_status == 404:
        abort(404, message="Organization not found.")
    abort(403, message="You are not a member of this organization.")


def access(role: str, *, org_arg: str | None = None):
    """Require ``role`` (or higher) in the acting organization; ``org_arg`` names a path org id."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if role != PUBLIC:
                try:
                    with connection_released_before_body():
                        if role == AUTHENTICATED:
                            current_principal()
                        else:
                            principal, membership = acting_organization(None, kwargs.get(org_arg))
                except AuthenticationError as exc:
                    abort(401, message=str(exc), headers={"WWW-Authenticate": "Bearer"})
                except ServiceUnavailable as exc:
                    abort(503, message=f"Authentication is temporarily unavailable: {exc}.")
                if role != AUTHENTICATED:
                    if ROLE_RANK[membership.role] < ROLE_RANK[role]:
                        abort(403, message=f"This action requires the '{role}' role or higher.")
                    g.context = Context(principal=principal, membership=membership)
            return view(*args, **kwargs)

        wrapper.required_role = role
        wrapper.org_arg = org_arg
        return wrapper

    return decorator


def context() -> Context:
    return g.context


def scoped_get_or_404(model, object_id: str, what: str | None = None):
    """Fetch a row of the acting organization; another organization's row is simply not found."""
    row = db().get(model, object_id) if looks_like_id(object_id) else None
    if row is None or row.organization_id != context().organization_id:
        abort(404, message=f"{what or model.__name__} not found.")
    return row


def looks_like_id(value: str) -> bool:
    """Worth looking up: an id PostgreSQL cannot even compare (a NUL byte in it) is simply not found."""
    return isinstance(value, str) and 0 < len(value) <= 64 and "\x00" not in value

"""Authorization: every view declares the lowest role it admits, and queries are scoped to one organization.

The declared role is stored on the view (``required_role``) so the authorization
matrix test can walk every endpoint of the app and check it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import g, request
from flask_smorest import abort
from sqlalchemy import select

from common.models import ROLE_RANK, Membership, Organization
from web.database import db
from web.principal import AuthenticationError, Principal, ServiceUnavailable, current_principal

PUBLIC = "public"  # no authentication
AUTHENTICATED = "authenticated"  # any user, no organization context needed


@dataclass
class Context:
    principal: Principal
    organization: Organization
    role: str

    @property
    def organization_id(self) -> str:
        return self.organization.id

    @property
    def user_id(self) -> str:
        return self.principal.user_id


def _membership(organization_id: str, user_id: str) -> Membership | None:
    return db().scalar(
        select(Membership).where(Membership.organization_id == organization_id, Membership.user_id == user_id)
    )


def resolve_organization(principal: Principal, path_org_id: str | None) -> tuple[Organization, str]:
    """Pick the acting organization: the path's, else the header's, else the bound or personal one.

    A bound credential (an API key, an SSO session) acts in its own organization only.
    """
    header_org = request.headers.get("X-Organization-Id")
    bound_org = principal.bound_org_id
    if path_org_id is not None:
        wanted, missing_status = path_org_id, 404
    elif header_org:
        wanted, missing_status = header_org, 403
    else:
        wanted, missing_status = bound_org or principal.user.personal_org_id, 403
    if principal.api_key_org_id and wanted != bound_org:
        abort(missing_status, message="This API key is bound to another organization.")
    # An SSO session is answered as a non-member everywhere but in its own organization.
    outside_binding = bound_org is not None and wanted != bound_org
    membership = _membership(wanted, principal.user_id) if wanted and not outside_binding else None
    if membership is None:
        if missing_status == 404:
            abort(404, message="Organization not found.")
        abort(403, message="You are not a member of this organization.")
    return db().get(Organization, wanted), membership.role


def access(role: str, *, org_arg: str | None = None):
    """Require ``role`` (or higher) in the acting organization; ``org_arg`` names a path org id."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if role != PUBLIC:
                try:
                    principal = current_principal()
                except AuthenticationError as exc:
                    abort(401, message=str(exc), headers={"WWW-Authenticate": "Bearer"})
                except ServiceUnavailable as exc:
                    abort(503, message=f"Authentication is temporarily unavailable: {exc}.")
                if role != AUTHENTICATED:
                    organization, member_role = resolve_organization(principal, kwargs.get(org_arg))
                    if ROLE_RANK[member_role] < ROLE_RANK[role]:
                        abort(403, message=f"This action requires the '{role}' role or higher.")
                    g.context = Context(principal=principal, organization=organization, role=member_role)
            return view(*args, **kwargs)

        wrapper.required_role = role
        return wrapper

    return decorator


def context() -> Context:
    return g.context


def scoped_get_or_404(model, object_id: str, what: str | None = None):
    """Fetch a row of the acting organization; another organization's row is simply not found."""
    row = db().get(model, object_id) if _looks_like_id(object_id) else None
    if row is None or row.organization_id != context().organization_id:
        abort(404, message=f"{what or model.__name__} not found.")
    return row


def _looks_like_id(value: str) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64

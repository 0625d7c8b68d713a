"""``/auth/invitations``: an organization's offers of membership, which only the invited account accepts.

``POST /organizations/:orgId/members`` answers the same for a registered and an unknown email, so an
admin learns nothing about who has an account; a registered account gets an invitation here, an unknown
email gets nothing (no pending invitation waits for whoever registers that address first), except where
registration is by invitation (``REGISTRATION=invite``): then the address registers with the code.

An invitation stands only while the admin who made it is still an admin of the organization: nobody else
sees or withdraws it, so an admin who is removed, leaves or deletes the account leaves no way in behind.
Accepting takes the invitation's code, which the admin got from ``POST /organizations/:orgId/members``
and passed on: registration proves no address, so the account holding it may have been registered by
someone else first, to catch the invitations sent to it.

Nor does it stand for ever: an admin cannot withdraw one sent to the wrong account or with too high a
role, so it lapses ``INVITATION_DAYS`` after it was sent (inviting again renews it).
"""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from common.accounts import hold_organization_of, standing_invitations
from common.config import get_settings
from common.models import Membership, Organization
from common.models.base import isoformat
from common.models.identity import MemberInvitation
from common.security import constant_time_equals, hash_token
from web.api.auth import user_session_principal
from web.core.access import AUTHENTICATED, access
from web.core.audit_recorder import audit, audit_organization
from web.core.database import db
from web.core.openapi import ObjectSchema, PageSchema
from web.core.principal import current_principal

blp = Blueprint(
    "invitations", __name__, url_prefix="/api/v1/auth/invitations", description="Invitations to organizations"
)


class InvitationAcceptSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


def invitation_json(invitation: MemberInvitation, organization: Organization) -> dict:
    return {
        "id": invitation.id,
        "organization": {"id": organization.id, "name": organization.name, "slug": organization.slug},
        "role": invitation.role,
        "created_at": isoformat(invitation.created_at),
    }


def _own_invitations():
    """The caller's invitations sent less than ``INVITATION_DAYS`` ago by someone still an admin there; an
    SSO session sees its own organization's only."""
    principal = current_principal()
    query = standing_invitations(get_settings().invitation_days).where(
        MemberInvitation.user_id == principal.user_id
    )
    if principal.bound_org_id:
        query = query.where(MemberInvitation.organization_id == principal.bound_org_id)
    return query


def _own_invitation_or_404(invitation_id: str) -> tuple[MemberInvitation, Organization]:
    """The invitation, its row held until the answer commits: the same invitation accepted (or declined)
    twice at once is settled once, and the second finds it gone (404) instead of joining again (a second
    200, or the membership's unique constraint: a 500). Its organization is held before it, in its
    deletion's order (``hold_organization``): accepting writes a membership that references it, and
    holding the invitation first deadlocked with the organization's deletion (a 503)."""
    hold_organization_of(db(), MemberInvitation, invitation_id)
    query = _own_invitations().where(MemberInvitation.id == invitation_id)
    row = db().execute(query.with_for_update(of=MemberInvitation)).first()
    if row is None:
        abort(404, message="Invitation not found.")
    return row


@blp.route("", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access(AUTHENTICATED)
def list_invitations():
    rows = db().execute(_own_invitations().order_by(MemberInvitation.created_at)).all()
    items = [invitation_json(invitation, organization) for invitation, organization in rows]
    return {"items": items, "page": 1, "per_page": len(items), "total": len(items)}


@blp.route("/<invitation_id>/accept", methods=["POST"])
@blp.alt_response(200, schema=ObjectSchema, success=True)
@blp.alt_response(403, response="FORBIDDEN")
@access(AUTHENTICATED)
@blp.arguments(InvitationAcceptSchema)
def accept(body, invitation_id):
    """Joining an organization is the account's decision, as its password and keys are: an API key, a
    credential delegated to act in one organization, cannot accept (nor decline) on its behalf. The code
    proves the person is the one the admin meant, which the account's email alone does not."""
    user_id = user_session_principal("accept invitations").user_id
    invitation, organization = _own_invitation_or_404(invitation_id)
    if not constant_time_equals(invitation.code_hash, hash_token(body["code"])):
        abort(403, message="This is not the invitation's code; ask the admin who invited you for it.")
    membership = db().scalar(
        select(Membership).where(Membership.organization_id == organization.id, Membership.user_id == user_id)
    )
    if membership is None:
        membership = Membership(organization_id=organization.id, user_id=user_id, role=invitation.role)
        db().add(membership)
    db().delete(invitation)
    db().commit()
    audit_organization(organization.id)
    audit("organization.member_join", "user", user_id, role=membership.role)
    return {"organization_id": organization.id, "role": membership.role}


@blp.route("/<invitation_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@blp.alt_response(403, response="FORBIDDEN")
@access(AUTHENTICATED)
def decline(invitation_id):
    user_session_principal("decline invitations")
    invitation, organization = _own_invitation_or_404(invitation_id)
    db().delete(invitation)
    db().commit()
    audit_organization(organization.id)
    audit("organization.invitation_decline", "user", current_principal().user_id)
    return "", 204

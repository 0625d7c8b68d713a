"""``/compliance/profiles``: the AI system profile that decides which obligations bind.

One profile per organization and scan target (``target: ""`` is the organization-wide one a scan
without its own falls back to). A profile takes effect at the next evaluation of a scan
(``POST /scans/:id/evaluate``); every change is in the audit log with the values before and after.
"""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from common.models.base import isoformat
from common.models.compliance import (
    AI_ROLES,
    ANNEX_III_AREAS,
    ORGANIZATION_WIDE,
    RISK_CLASSES,
    AISystemProfile,
)
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.filtering import apply_filters, equal_columns
from web.core.openapi import REQUIRED_LOCATION, PageSchema, ResourceSchema
from web.core.pagination import page_args_with, paginate
from web.core.visible_text import visible_text

blp = Blueprint(
    "ai_profiles",
    __name__,
    url_prefix="/api/v1/compliance/profiles",
    description="AI system profiles: role, risk class and general-purpose model, per organization or target",
)

PROFILE_FIELDS = ("name", "role", "risk_class", "annex_iii_area", "places_gpai_model")


class ProfileUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=[ma.validate.Length(max=200), visible_text])
    role = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(AI_ROLES))
    risk_class = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(RISK_CLASSES))
    annex_iii_area = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(ANNEX_III_AREAS))
    places_gpai_model = ma.fields.Boolean(allow_none=True)


class ProfileCreateSchema(ProfileUpdateSchema):
    target = ma.fields.String(load_default=ORGANIZATION_WIDE, validate=ma.validate.Length(max=1024))
    name = ma.fields.String(load_default="", validate=[ma.validate.Length(max=200), visible_text])


ProfileListArgs = page_args_with(target=ma.fields.String(validate=ma.validate.Length(max=1024)))


def profile_json(profile: AISystemProfile) -> dict:
    return {
        "id": profile.id,
        "organization_id": profile.organization_id,
        "target": profile.target,
        "name": profile.name,
        "role": profile.role,
        "risk_class": profile.risk_class,
        "annex_iii_area": profile.annex_iii_area,
        "places_gpai_model": profile.places_gpai_model,
        "updated_by": profile.updated_by,
        "created_at": isoformat(profile.created_at),
        "updated_at": isoformat(profile.updated_at),
    }


def _values(profile: AISystemProfile) -> dict:
    return {field: getattr(profile, field) for field in PROFILE_FIELDS}


def _check_consistent(values: dict) -> None:
    """A high-risk system names its Annex III area; no other risk class has one."""
    risk_class, area = values.get("risk_class"), values.get("annex_iii_area")
    if risk_class == "high_risk" and area is None:
        abort(
            422,
            message="The profile is invalid.",
            errors={"annex_iii_area": ["Required for a high-risk system."]},
        )
    if risk_class != "high_risk" and area is not None:
        abort(
            422,
            message="The profile is invalid.",
            errors={"annex_iii_area": ["Only a high-risk system has an Annex III area."]},
        )


@blp.route("", methods=["POST"])
@blp.alt_response(201, schema=ResourceSchema, success=True, headers=REQUIRED_LOCATION)
@blp.alt_response(409, response="CONFLICT")
@access("editor")
@blp.arguments(ProfileCreateSchema)
def create_profile(body):
    ctx = context()
    _check_consistent(body)
    profile = AISystemProfile(organization_id=ctx.organization_id, updated_by=ctx.user_id, **body)
    db().add(profile)
    try:
        db().commit()
    except IntegrityError:
        db().rollback()
        abort(409, message="This target already has a profile; change it with PUT.")
    audit(
        "compliance.profile.create",
        "ai_system_profile",
        profile.id,
        target=profile.target,
        after=_values(profile),
    )
    return profile_json(profile), 201, {"Location": url_for("ai_profiles.get_profile", profile_id=profile.id)}


@blp.route("", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(ProfileListArgs, location="query")
def list_profiles(args):
    query = select(AISystemProfile).where(AISystemProfile.organization_id == context().organization_id)
    query = apply_filters(query, AISystemProfile, args, equal_columns("target"))
    query = query.order_by(AISystemProfile.target, AISystemProfile.id)
    return paginate(query, args["page"], args["per_page"], profile_json)


@blp.route("/<profile_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("viewer")
def get_profile(profile_id):
    return profile_json(scoped_get_or_404(AISystemProfile, profile_id, "Profile"))


@blp.route("/<profile_id>", methods=["PUT"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("editor")
@blp.arguments(ProfileUpdateSchema)
def update_profile(body, profile_id):
    profile = scoped_get_or_404(AISystemProfile, profile_id, "Profile")
    before = _values(profile)
    _check_consistent({**before, **body})
    for field, value in body.items():
        setattr(profile, field, value)
    profile.updated_by = context().user_id
    db().commit()
    audit("compliance.profile.update", "ai_system_profile", profile.id, before=before, after=_values(profile))
    return profile_json(profile)


@blp.route("/<profile_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@access("editor")
def delete_profile(profile_id):
    profile = scoped_get_or_404(AISystemProfile, profile_id, "Profile")
    before = _values(profile)
    db().delete(profile)
    db().commit()
    audit("compliance.profile.delete", "ai_system_profile", profile_id, before=before)
    return "", 204

"""``/organizations/:orgId/scan-roots``: an organization's admins confine its scans to some directories.

An extension of the reference. The operator's ``SCAN_ROOTS`` (and, on a shared host,
``SCAN_ROOTS_PER_ORGANIZATION``) say what any organization may scan at most; this narrows it for one
organization, checked again at every scan and schedule run (``common.targets``).
"""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint, abort

from common.targets import (
    MAX_ORGANIZATION_ROOTS,
    TargetError,
    organization_roots,
    validate_organization_roots,
)
from web.core.access import access, context
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.openapi import ObjectSchema

blp = Blueprint(
    "scan_roots", __name__, url_prefix="/api/v1/organizations", description="Per-organization scan roots"
)


class ScanRootsSchema(ma.Schema):
    scan_roots = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=4096)),
        required=True,
        allow_none=True,
        validate=ma.validate.Length(min=1, max=MAX_ORGANIZATION_ROOTS),
        metadata={"description": "Absolute directories within SCAN_ROOTS; null removes the narrowing."},
    )


def scan_roots_json() -> dict:
    organization = context().organization
    return {
        "scan_roots": organization.scan_roots,
        "effective_roots": organization_roots(organization.id, organization.scan_roots),
    }


@blp.route("/<org_id>/scan-roots", methods=["GET"])
@blp.alt_response(200, schema=ObjectSchema, success=True)
@access("admin", org_arg="org_id")
def get_scan_roots(org_id):
    return scan_roots_json()


@blp.route("/<org_id>/scan-roots", methods=["PUT"])
@blp.alt_response(200, schema=ObjectSchema, success=True)
@access("admin", org_arg="org_id")
@blp.arguments(ScanRootsSchema)
def put_scan_roots(body, org_id):
    organization = context().organization
    roots = None
    if body["scan_roots"] is not None:
        try:
            roots = validate_organization_roots(organization.id, body["scan_roots"])
        except TargetError as exc:
            abort(422, message=str(exc), errors={"scan_roots": [str(exc)]})
    organization.scan_roots = roots
    db().commit()
    audit("organization.scan_roots_update", "organization", organization.id, scan_roots=roots)
    return scan_roots_json()

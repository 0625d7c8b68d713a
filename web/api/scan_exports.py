"""A scan's bill of materials in other shapes: exports (queued), the dependency graph, and the
comparison with another scan.

Roles: the reference names none for these, so any member may use them (conventions: "any member
may read"). An export only renders what the member can already read through the API; it is
queued because rendering a large scan takes longer than a request should.

Each export is a worker job and a file kept in the database, and any viewer may ask for one, so an
organization has at most ``EXPORTS_IN_FLIGHT_PER_ORG`` exports queued or running (429 with
``Retry-After`` past it) and keeps its newest ``EXPORTS_KEPT_PER_ORG`` finished ones (older ones are
deleted as new ones are asked for). The request rate limit alone let every member queue 200 a minute,
each kept for ``HISTORY_RETENTION_DAYS``.
"""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint, abort

from common import scan_bom
from common.bom.compare import compare
from common.bom.graph import build_graph
from common.config import get_settings
from common.export_retention import delete_finished_beyond_newest
from common.exporters import FORMATS
from common.jobs import JobStatus
from common.models import Scan
from common.models.exports import Export
from common.tasks import EXPORT_RENDER
from web.api.exports import ExportSchema, export_json
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.enqueueing import enqueue_or_leave_queued
from web.core.job_quota import admit_job
from web.core.openapi import REQUIRED_LOCATION

blp = Blueprint(
    "scan_exports",
    __name__,
    url_prefix="/api/v1/scans",
    description="Exports, the dependency graph and comparison of a scan",
)

GRAPH_DEFAULT_LIMIT = 2000
GRAPH_MAX_LIMIT = 10000


class ExportCreateSchema(ma.Schema):
    format = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(
            tuple(FORMATS), error="'{input}' is not an export format; use one of: {choices}."
        ),
    )


class GraphSchema(ma.Schema):
    scan_id = ma.fields.String(required=True)
    limit = ma.fields.Integer(required=True)
    nodes = ma.fields.List(
        ma.fields.Dict(), required=True, metadata={"description": "{id, type, label, severity?}"}
    )
    edges = ma.fields.List(
        ma.fields.Dict(), required=True, metadata={"description": "{source, target, relation}"}
    )
    truncated = ma.fields.Boolean(required=True, metadata={"description": "More nodes than ``limit``"})
    total_nodes = ma.fields.Integer(required=True)
    total_edges = ma.fields.Integer(required=True)


class CompareSchema(ma.Schema):
    before_scan_id = ma.fields.String(required=True)
    after_scan_id = ma.fields.String(required=True)
    added = ma.fields.List(ma.fields.Dict(), required=True)
    removed = ma.fields.List(ma.fields.Dict(), required=True)
    changed = ma.fields.List(
        ma.fields.Dict(),
        required=True,
        metadata={"description": "{id, name, type, changes: {field: {before, after}}}"},
    )
    summary = ma.fields.Dict(
        required=True,
        metadata={"description": "added, removed, changed, unchanged, risk_before, risk_after, risk_delta"},
    )


GraphArgs = ma.Schema.from_dict(
    {
        "limit": ma.fields.Integer(
            load_default=GRAPH_DEFAULT_LIMIT, validate=ma.validate.Range(min=1, max=GRAPH_MAX_LIMIT)
        )
    },
    name="GraphArgs",
)


def completed_scan_or_error(scan_id: str, action: str) -> Scan:
    """The caller's scan, which must be completed (a scan still running has no components yet)."""
    scan = scoped_get_or_404(Scan, scan_id, "Scan")
    if scan.status != JobStatus.COMPLETED:
        abort(409, message=f"Only a completed scan can be {action}; scan {scan.id} is {scan.status}.")
    return scan


def admit_export(organization_id: str, user_id: str | None) -> None:
    """Make room for one more export of the organization, or abort 429 while too many are in flight, the
    organization's or the user's."""
    settings = get_settings()
    admit_job(
        Export,
        organization_id,
        settings.exports_in_flight_per_org,
        "EXPORTS_IN_FLIGHT_PER_ORG",
        "exports",
        requester=(Export.created_by, user_id),
    )
    delete_finished_beyond_newest(db(), organization_id, settings.exports_kept_per_org)


@blp.route("/<scan_id>/export", methods=["POST"])
@blp.alt_response(202, schema=ExportSchema, success=True, headers=REQUIRED_LOCATION)
@blp.alt_response(409, response="CONFLICT")
@access("viewer")
@blp.arguments(ExportCreateSchema)
def create_export(body, scan_id):
    """Queue an export; 429 while the organization, or the caller across their organizations, has
    ``EXPORTS_IN_FLIGHT_PER_ORG`` exports in flight."""
    ctx = context()
    scan = completed_scan_or_error(scan_id, "exported")
    admit_export(ctx.organization_id, ctx.user_id)
    export = Export(
        organization_id=ctx.organization_id,
        scan_id=scan.id,
        format=body["format"],
        created_by=ctx.user_id,
    )
    db().add(export)
    db().commit()
    audit("scan.export", "export", export.id, scan_id=scan.id, format=export.format)
    enqueue_or_leave_queued(export, EXPORT_RENDER, export.id, what="export")
    return export_json(export), 202, {"Location": url_for("exports.get_export", export_id=export.id)}


@blp.route("/<scan_id>/graph", methods=["GET"])
@blp.alt_response(200, schema=GraphSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("viewer")
@blp.arguments(GraphArgs, location="query")
def get_graph(args, scan_id):
    """Nodes (components, files, manifests) and named edges; at most ``limit`` nodes, riskiest first."""
    scan = completed_scan_or_error(scan_id, "drawn as a graph")
    graph = build_graph(
        scan_bom.components(db(), scan.id), scan_bom.relationships(db(), scan.id), limit=args["limit"]
    )
    return {"scan_id": scan.id, "limit": args["limit"], **graph}


@blp.route("/<scan_id>/compare/<other_id>", methods=["GET"])
@blp.alt_response(200, schema=CompareSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("viewer")
def compare_scans(scan_id, other_id):
    """What changed from scan ``scan_id`` (before) to scan ``other_id`` (after), by component fingerprint."""
    before = completed_scan_or_error(scan_id, "compared")
    after = completed_scan_or_error(other_id, "compared")
    difference = compare(scan_bom.components(db(), before.id), scan_bom.components(db(), after.id))
    return {"before_scan_id": before.id, "after_scan_id": after.id, **difference}

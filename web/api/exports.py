"""``/exports``: an export's status, and its file once the ``exports`` worker has rendered it.

Exports are created with ``POST /scans/:id/export`` (``web/api/scan_exports.py``). The file is stored
in the export's row, so every API process serves it as rendered, without recomputation.
Downloading an export that is not completed yet is a 409 naming its status: the export exists,
it is just not in a state that has a file (a 404 would tell a polling client it is gone).
"""

from __future__ import annotations

import marshmallow as ma
from flask import Response, url_for
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from common.exporters import FORMATS
from common.jobs import JOB_STATUSES, JobStatus
from common.models.base import isoformat
from common.models.exports import Export
from web.core.access import access, scoped_get_or_404
from web.core.database import db
from web.core.openapi import file_responses

blp = Blueprint("exports", __name__, url_prefix="/api/v1/exports", description="Rendered scan exports")


class ExportSchema(ma.Schema):
    id = ma.fields.String(required=True)
    organization_id = ma.fields.String(required=True)
    scan_id = ma.fields.String(required=True)
    format = ma.fields.String(required=True, validate=ma.validate.OneOf(tuple(FORMATS)))
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(JOB_STATUSES))
    progress = ma.fields.Integer(allow_none=True)
    stage = ma.fields.String(allow_none=True)
    error = ma.fields.String(allow_none=True)
    content_type = ma.fields.String(allow_none=True)
    filename = ma.fields.String(allow_none=True)
    size_bytes = ma.fields.Integer(allow_none=True)
    sha256 = ma.fields.String(allow_none=True)
    created_by = ma.fields.String(allow_none=True)
    created_at = ma.fields.String(required=True)
    started_at = ma.fields.String(allow_none=True)
    finished_at = ma.fields.String(allow_none=True)
    download_url = ma.fields.String(metadata={"description": "Present once the export is completed"})


def export_json(export: Export) -> dict:
    body = {
        "id": export.id,
        "organization_id": export.organization_id,
        "scan_id": export.scan_id,
        "format": export.format,
        "status": export.status,
        "progress": export.progress,
        "stage": export.stage,
        "error": export.error,
        "content_type": export.content_type,
        "filename": export.filename,
        "size_bytes": export.size_bytes,
        "sha256": export.sha256,
        "created_by": export.created_by,
        "created_at": isoformat(export.created_at),
        "started_at": isoformat(export.started_at),
        "finished_at": isoformat(export.finished_at),
    }
    if export.status == JobStatus.COMPLETED:
        body["download_url"] = url_for("exports.download_export", export_id=export.id)
    return body


@blp.route("/<export_id>", methods=["GET"])
@blp.alt_response(200, schema=ExportSchema, success=True)
@access("viewer")
def get_export(export_id):
    return export_json(scoped_get_or_404(Export, export_id, "Export"))


@blp.route("/<export_id>/download", methods=["GET"])
@file_responses(blp, {meta["content_type"] for meta in FORMATS.values()})
@blp.alt_response(409, response="CONFLICT")
@access("viewer")
def download_export(export_id):
    export = scoped_get_or_404(Export, export_id, "Export")
    if export.status == JobStatus.FAILED:
        abort(409, message=f"This export failed and has no file ({export.error}); request a new one.")
    if export.status != JobStatus.COMPLETED:
        abort(
            409, message=f"This export is {export.status}; its file can be downloaded once it is completed."
        )
    content = db().scalar(select(Export.content).where(Export.id == export.id))
    if content is None:  # deleted since it was read: past its retention, or beyond the newest kept
        abort(404, message="Export not found.")
    return Response(
        content,
        status=200,
        content_type=export.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Content-Length": str(len(content)),
            "ETag": f'"{export.sha256}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=0, must-revalidate",
        },
    )

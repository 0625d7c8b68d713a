"""``/compliance/evidence``: attestations that satisfy a manual control until they expire.

Create one with JSON, or with ``multipart/form-data`` to attach a file (field ``file``, at most
``EVIDENCE_MAX_BYTES``); the file is kept in the row like an export's and served back as an
attachment. Only a manual control of a built-in framework takes evidence: an automated control
is decided by the scan. The attester is the caller; evidence is applied when a result is read,
so ``GET /scans/:id/compliance`` and new exports show it at once, and show it expired after
``expires_at``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import quote

import marshmallow as ma
from flask import Response, request, url_for
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from common.compliance import load_frameworks
from common.config import get_settings
from common.evidence_store import evidence_room_problem
from common.models import User
from common.models.base import isoformat
from common.models.compliance import ControlEvidence
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.filtering import Filter, apply_filters, equal_columns
from web.core.openapi import REQUIRED_LOCATION, PageSchema, ResourceSchema, file_responses
from web.core.pagination import page_args_with, paginate

blp = Blueprint(
    "control_evidence",
    __name__,
    url_prefix="/api/v1/compliance/evidence",
    description="Evidence attested for manual compliance controls",
)

# Types served back as they were declared; anything else is served as application/octet-stream.
SERVED_TYPES = {
    "application/pdf",
    "application/json",
    "application/zip",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/csv",
    "text/markdown",
}
READ_CHUNK = 64 * 1024


class UtcDateTime(ma.fields.AwareDateTime):
    """An aware date-time, as UTC. One that UTC cannot hold is refused: ``9999-12-31T23:59:59-14:00`` is in
    the year 10000, which PostgreSQL stores and Python cannot read back, so every read of the row failed,
    its deletion included."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:
            raise ma.ValidationError("Must fall within the years 1 to 9999 in UTC.") from exc


class EvidenceCreateSchema(ma.Schema):
    framework_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    control_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    note = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=5000))
    expires_at = UtcDateTime(required=True, default_timezone=UTC)


_FIELDS = {
    "framework_id": {"type": "string", "minLength": 1, "maxLength": 100},
    "control_id": {"type": "string", "minLength": 1, "maxLength": 100},
    "note": {"type": "string", "minLength": 1, "maxLength": 5000},
    "expires_at": {"type": "string", "format": "date-time", "description": "In the future"},
}
REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object", "required": list(_FIELDS), "properties": _FIELDS}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": list(_FIELDS),
                "properties": {**_FIELDS, "file": {"type": "string", "format": "binary"}},
            }
        },
    },
}

EvidenceListArgs = page_args_with(
    framework_id=ma.fields.String(validate=ma.validate.Length(max=100)),
    control_id=ma.fields.String(validate=ma.validate.Length(max=100)),
    expired=ma.fields.Boolean(),
)


def evidence_json(evidence: ControlEvidence, now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    expires_at = (
        evidence.expires_at if evidence.expires_at.tzinfo else evidence.expires_at.replace(tzinfo=UTC)
    )
    body = {
        "organization_id": evidence.organization_id,
        **evidence.to_engine(),
        "attested_by_user_id": evidence.attested_by,
        "expired": expires_at <= now,
        "file_url": None,
    }
    if evidence.filename is not None:
        body["file_url"] = url_for("control_evidence.download_evidence_file", evidence_id=evidence.id)
    return body


def _manual_control_errors(framework_id: str, control_id: str) -> dict[str, list[str]]:
    framework = next((f for f in load_frameworks() if f.id == framework_id), None)
    if framework is None:
        return {"framework_id": [f"must be one of: {', '.join(f.id for f in load_frameworks())}"]}
    control = next((c for c in framework.controls if c.id == control_id), None)
    manual = [c.id for c in framework.controls if c.assessment == "manual"]
    if control is None or control.assessment != "manual":
        return {"control_id": [f"must be a manual control of {framework_id}: {', '.join(manual) or 'none'}"]}
    return {}


def _read_upload(upload) -> bytes:
    """The uploaded file, refused with a 413 past the evidence limit without reading all of it."""
    limit = get_settings().evidence_max_bytes
    chunks, size = [], 0
    while chunk := upload.stream.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            abort(413, message=f"The evidence file is larger than {limit} bytes (EVIDENCE_MAX_BYTES).")
        chunks.append(chunk)
    return b"".join(chunks)


def _safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"').strip()
    return cleaned[:255] or "evidence"


@blp.route("", methods=["POST"])
@blp.doc(requestBody=REQUEST_BODY)
@blp.alt_response(201, schema=ResourceSchema, success=True, headers=REQUIRED_LOCATION)
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@access("editor")
def create_evidence():
    """JSON ``{framework_id, control_id, note, expires_at}``, or the same as form fields plus ``file``."""
    ctx = context()
    multipart = request.mimetype == "multipart/form-data"
    raw = request.form.to_dict() if multipart else request.get_json(silent=True)
    if not isinstance(raw, dict):
        abort(422, message="Send a JSON object or multipart/form-data.", errors={"_body": ["Not an object."]})
    try:
        body = EvidenceCreateSchema().load(raw)
    except ma.ValidationError as exc:
        abort(422, message="The evidence is invalid.", errors=exc.messages)
    errors = _manual_control_errors(body["framework_id"], body["control_id"])
    if body["expires_at"] <= datetime.now(UTC):
        errors["expires_at"] = ["Must be in the future."]
    if errors:
        abort(422, message="The evidence is invalid.", errors=errors)
    upload = request.files.get("file") if multipart else None
    user = db().get(User, ctx.user_id)
    evidence = ControlEvidence(
        organization_id=ctx.organization_id,
        framework_id=body["framework_id"],
        control_id=body["control_id"],
        note=body["note"],
        attested_by=ctx.user_id,
        attested_by_email=user.email if user is not None else "api key",
        attested_at=datetime.now(UTC),
        expires_at=body["expires_at"],
    )
    if upload is not None:
        content = _read_upload(upload)
        limit = get_settings().evidence_bytes_per_org
        if problem := evidence_room_problem(db(), ctx.organization_id, len(content), limit):
            db().rollback()
            abort(409, message=problem)
        evidence.content = content
        evidence.size_bytes = len(content)
        evidence.sha256 = hashlib.sha256(content).hexdigest()
        evidence.filename = _safe_filename(upload.filename or "")
        evidence.content_type = (upload.mimetype or "application/octet-stream")[:100]
    db().add(evidence)
    db().commit()
    audit(
        "compliance.evidence.create",
        "control_evidence",
        evidence.id,
        framework_id=evidence.framework_id,
        control_id=evidence.control_id,
        expires_at=isoformat(evidence.expires_at),
        sha256=evidence.sha256,
    )
    location = url_for("control_evidence.get_evidence", evidence_id=evidence.id)
    return evidence_json(evidence), 201, {"Location": location}


@blp.route("", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(EvidenceListArgs, location="query")
def list_evidence(args):
    query = select(ControlEvidence).where(ControlEvidence.organization_id == context().organization_id)
    now = datetime.now(UTC)
    expired = Filter(
        lambda expires_at, wanted: expires_at <= now if wanted else expires_at > now, "expires_at"
    )
    spec = {**equal_columns("framework_id", "control_id"), "expired": expired}
    query = apply_filters(query, ControlEvidence, args, spec)
    query = query.order_by(ControlEvidence.expires_at, ControlEvidence.id)
    return paginate(query, args["page"], args["per_page"], lambda row: evidence_json(row, now))


@blp.route("/<evidence_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("viewer")
def get_evidence(evidence_id):
    return evidence_json(scoped_get_or_404(ControlEvidence, evidence_id, "Evidence"))


@blp.route("/<evidence_id>/file", methods=["GET"])
@file_responses(blp, {*SERVED_TYPES, "application/octet-stream"})
@access("viewer")
def download_evidence_file(evidence_id):
    evidence = scoped_get_or_404(ControlEvidence, evidence_id, "Evidence")
    if evidence.filename is None:
        abort(404, message="This evidence has no file attached.")
    content = db().scalar(select(ControlEvidence.content).where(ControlEvidence.id == evidence.id))
    content_type = (
        evidence.content_type if evidence.content_type in SERVED_TYPES else "application/octet-stream"
    )
    return Response(
        content,
        status=200,
        content_type=content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(evidence.filename)}",
            "Content-Length": str(len(content)),
            "ETag": f'"{evidence.sha256}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=0, must-revalidate",
        },
    )


@blp.route("/<evidence_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@access("editor")
def delete_evidence(evidence_id):
    evidence = scoped_get_or_404(ControlEvidence, evidence_id, "Evidence")
    db().delete(evidence)
    db().commit()
    audit(
        "compliance.evidence.delete",
        "control_evidence",
        evidence_id,
        framework_id=evidence.framework_id,
        control_id=evidence.control_id,
    )
    return "", 204

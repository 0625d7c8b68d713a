"""``/internal``: where scanner workers hand in results, authenticated by the internal API key."""

from __future__ import annotations

import contextlib

import orjson
from flask import request
from flask_smorest import Blueprint, abort

from common import fastjson, jobs
from common.celery_client import enqueue
from common.config import get_settings
from common.models import Scan, ScanResultPayload
from common.scanner.model import (
    edge_problem,
    keep_storable_components,
    may_hold_unstorable_text,
    storable_text,
)
from common.security import constant_time_equals
from common.tasks import SCAN_INGEST
from web.core.access import PUBLIC, access
from web.core.database import db
from web.core.openapi import ObjectSchema, error_responses

MAX_EDGE_ERRORS = 20
MAX_FILES_SCANNED = 2**31 - 1  # ``scans.files_scanned`` is an ``integer``: a larger count would fail ingest

blp = Blueprint("internal", __name__, url_prefix="/api/v1/internal", description="Scanner service endpoints")


def _require_internal_key() -> None:
    given = request.headers.get("X-Internal-API-Key", "")
    if not given or not constant_time_equals(given, get_settings().internal_api_key):
        abort(401, message="A valid X-Internal-API-Key header is required.")


def _read_result() -> tuple[bytes | None, object]:
    """The body decoded, and the body itself when it is strict UTF-8 JSON (what orjson reads) holding no
    text the database refuses, to be stored as it came; None for what only the standard library reads
    (``NaN``, UTF-16, lone surrogates) or what holds NUL, stored re-encoded with such text escaped
    (``storable_text``). Flask keeps no copy of the raw bytes (a result can be tens of MB)."""
    if not request.is_json:
        abort(415, message="The result must be sent as application/json.")
    body = request.get_data(cache=False)
    with contextlib.suppress(orjson.JSONDecodeError):
        decoded = orjson.loads(body)
        return (None, storable_text(decoded)) if may_hold_unstorable_text(body) else (body, decoded)
    try:
        return None, storable_text(fastjson.loads(body))
    except (ValueError, RecursionError):
        abort(400, message="The body is not valid JSON.")


def _validate_result(payload) -> dict:
    errors: dict[str, list[str]] = {}
    if not isinstance(payload, dict):
        abort(422, message="The result must be a JSON object.", errors={"_body": ["Expected an object."]})
    components = payload.get("components")
    if not isinstance(components, list):
        errors["components"] = ["A list of components is required."]
    for key in ("relationships", "warnings"):
        if not isinstance(payload.get(key, []), list):
            errors[key] = ["Must be a list."]
    files_scanned = payload.get("files_scanned", 0)
    if type(files_scanned) is not int or not 0 <= files_scanned <= MAX_FILES_SCANNED:
        errors["files_scanned"] = [f"Must be an integer from 0 to {MAX_FILES_SCANNED}."]
    if not errors:
        errors = _edge_errors(payload.get("relationships", []))
    if errors:
        abort(422, message="The scan result is invalid.", errors=errors)
    return keep_storable_components(payload)


def _edge_errors(edges: list) -> dict[str, list[str]]:
    """The first malformed edges by their path: an edge the worker cannot store fails the request, not the
    ingest. Edges of the right shape naming no component are dropped with a scan warning instead."""
    errors: dict[str, list[str]] = {}
    for index, edge in enumerate(edges):
        if (problem := edge_problem(edge)) is not None:
            field, reason = problem
            errors[f"relationships.{index}.{field}".rstrip(".")] = [reason]
            if len(errors) >= MAX_EDGE_ERRORS:
                break
    return errors


@blp.before_request
def allow_large_results():
    request.max_content_length = get_settings().internal_max_content_length


@blp.route("/scans/<scan_id>/result", methods=["POST"])
@blp.alt_response(202, schema=ObjectSchema, success=True)
@error_responses(blp, 400, 413, 409, 422)
@access(PUBLIC)
def submit_result(scan_id):
    _require_internal_key()
    body, posted = _read_result()
    payload = _validate_result(posted)
    scan = db().get(Scan, scan_id)
    if scan is None:
        abort(404, message="Scan not found.")
    if jobs.is_finished(scan):
        abort(409, message=f"The scan is already {scan.status}.")
    # The body is stored as it came when every component was kept (no second encoding; ingest decodes it
    # again), else what was kept. ``payload`` is deferred: a stored result is replaced without loading it.
    document = body if payload is posted and body is not None else payload
    stored = db().get(ScanResultPayload, scan_id)
    if stored is None:
        db().add(ScanResultPayload(scan_id=scan_id, payload=document, components_checked=True))
    else:
        stored.payload, stored.components_checked = document, True
    scan.stage = "ingesting"
    db().commit()
    enqueue(SCAN_INGEST, scan_id)
    return {"scan_id": scan_id, "status": "accepted"}, 202

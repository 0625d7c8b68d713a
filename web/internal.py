"""``/internal``: where scanner workers hand in results, authenticated by the internal API key."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint, abort

from common.config import get_settings
from common.models import Scan, ScanResultPayload
from common.pipeline import enqueue
from common.scanner.model import COMPONENT_TYPES
from common.security import constant_time_equals
from common.tasks import SCAN_INGEST
from web.access import PUBLIC, access
from web.database import db
from web.openapi import ObjectSchema

blp = Blueprint("internal", __name__, url_prefix="/api/v1/internal", description="Scanner service endpoints")

REQUIRED_COMPONENT_KEYS = ("id", "name", "type")


def _require_internal_key() -> None:
    given = request.headers.get("X-Internal-API-Key", "")
    if not given or not constant_time_equals(given, get_settings().internal_api_key):
        abort(401, message="A valid X-Internal-API-Key header is required.")


def _validate_result(payload) -> dict:
    errors: dict[str, list[str]] = {}
    if not isinstance(payload, dict):
        abort(422, message="The result must be a JSON object.", errors={"_body": ["Expected an object."]})
    components = payload.get("components")
    if not isinstance(components, list):
        errors["components"] = ["A list of components is required."]
    else:
        for index, component in enumerate(components):
            if not isinstance(component, dict) or any(
                not isinstance(component.get(k), str) or not component.get(k) for k in REQUIRED_COMPONENT_KEYS
            ):
                errors[f"components.{index}"] = ["Each component needs string 'id', 'name' and 'type'."]
            elif component["type"] not in COMPONENT_TYPES:
                errors[f"components.{index}.type"] = [f"Unknown component type '{component['type']}'."]
            if len(errors) >= 20:
                break
    for key in ("relationships", "warnings"):
        if not isinstance(payload.get(key, []), list):
            errors[key] = ["Must be a list."]
    if not isinstance(payload.get("files_scanned", 0), int):
        errors["files_scanned"] = ["Must be an integer."]
    if errors:
        abort(422, message="The scan result is invalid.", errors=errors)
    return payload


@blp.before_request
def allow_large_results():
    request.max_content_length = get_settings().internal_max_content_length


@blp.route("/scans/<scan_id>/result", methods=["POST"])
@blp.alt_response(202, schema=ObjectSchema, success=True)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@access(PUBLIC)
def submit_result(scan_id):
    _require_internal_key()
    payload = _validate_result(request.get_json(silent=False))
    scan = db().get(Scan, scan_id)
    if scan is None:
        abort(404, message="Scan not found.")
    if scan.status in ("completed", "failed"):
        abort(409, message=f"The scan is already {scan.status}.")
    stored = db().get(ScanResultPayload, scan_id)
    if stored is None:
        db().add(ScanResultPayload(scan_id=scan_id, payload=payload))
    else:
        stored.payload = payload
    scan.stage = "ingesting"
    db().commit()
    enqueue(SCAN_INGEST, scan_id)
    return {"scan_id": scan_id, "status": "accepted"}, 202

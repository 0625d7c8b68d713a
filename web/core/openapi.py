"""The OpenAPI document follows the conventions: every status an operation can answer is documented.

Each view documents its own success response (``@blp.alt_response(..., success=True)``) and the
errors only it raises (a 409, a business 403...). The errors every view shares are derived here
from what the view declares, by an apispec plugin, so they cannot drift from the code:

- 401 (and ``bearerAuth`` security) unless the view is public; 403 when it needs a role in an
  organization (too low a role, or an ``X-Organization-Id`` the caller is not a member of);
- 404 when the path names a resource; 400 (malformed JSON) and 413 (over ``MAX_CONTENT_LENGTH``)
  when the operation takes a body; 429 with ``Retry-After`` when it is rate limited;
- 503 everywhere (database or Redis unavailable).

A documented response schema describes the wire exactly: ``tests/api/test_response_drift.py`` drives
real requests and fails when an endpoint returns a field its schema omits, or omits a required one.
``ResourceSchema`` and ``ObjectSchema`` are the only open schemas (their other fields are described
by the reference).

There is no catch-all ``default`` response: a status code that is not documented is a bug, and the
schemathesis test (``tests/ops/test_fuzz.py``) fails on it.

Every operation also carries a summary, a request example (the body's ``example`` and a curl
command in ``x-codeSamples``) and a response example. A view's docstring or its own ``example=``
wins; otherwise they come from ``openapi_examples.yaml``, keyed by ``METHOD /path``. The reference
at ``/api/v1/docs`` shows them, and ``tests/api/test_openapi_examples.py`` fails on an operation
missing any of them.
"""

from __future__ import annotations

import http
import json
import shlex
from functools import cache
from pathlib import Path

import marshmallow as ma
import yaml
from apispec import BasePlugin

from common.models.scans import SCAN_STATUSES

HTTP_METHODS = ("get", "put", "post", "delete", "patch")


class ErrorSchema(ma.Schema):
    """The one error shape: ``{"code", "status", "message", "errors"?}``."""

    code = ma.fields.Integer(required=True, metadata={"description": "HTTP status code"})
    status = ma.fields.String(required=True, metadata={"description": "HTTP reason phrase"})
    message = ma.fields.String(required=True, metadata={"description": "A human sentence"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"description": "Validation messages by field (validation errors only)"},
    )


class PageSchema(ma.Schema):
    """The one list shape."""

    items = ma.fields.List(ma.fields.Dict(), required=True)
    page = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))
    per_page = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))
    total = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0))


class ResourceSchema(ma.Schema):
    """A stored resource: always has its ``id``; its other fields are described by the reference."""

    class Meta:
        unknown = ma.INCLUDE

    id = ma.fields.String(required=True)


class ObjectSchema(ma.Schema):
    """A JSON object computed on the fly (dashboard, compliance results, previews...)."""

    class Meta:
        unknown = ma.INCLUDE


class QueuedSchema(ResourceSchema):
    """Queued work (202): the created resource with its ``status``."""

    status = ma.fields.String(required=True)


def page_of(item_schema: type[ma.Schema]) -> type[PageSchema]:
    """The list shape whose items are documented by ``item_schema``."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(name, (PageSchema,), {"items": ma.fields.List(ma.fields.Nested(item_schema), required=True)})


class ScanSchema(ma.Schema):
    """Closed, like every schema but the open ``ResourceSchema``/``ObjectSchema``: a returned field it
    omits fails ``tests/api/test_response_drift.py``."""

    id = ma.fields.String(required=True)
    organization_id = ma.fields.String(required=True)
    target = ma.fields.String(allow_none=True)
    n8n_url = ma.fields.String(allow_none=True)
    repository_url = ma.fields.String(allow_none=True)
    ref = ma.fields.String(allow_none=True)
    commit_sha = ma.fields.String(allow_none=True)
    branch = ma.fields.String(allow_none=True)
    ci_run_url = ma.fields.String(allow_none=True)
    repository_credential_id = ma.fields.String(allow_none=True)
    deep = ma.fields.Boolean()
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(SCAN_STATUSES))
    progress = ma.fields.Integer(required=True, validate=ma.validate.Range(0, 100))
    stage = ma.fields.String(allow_none=True)
    files_scanned = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)
    summary = ma.fields.Dict(allow_none=True)
    warnings = ma.fields.List(ma.fields.Dict(), metadata={"description": "``{file, message}`` each"})
    created_by = ma.fields.String(allow_none=True)
    created_at = ma.fields.String(required=True)
    started_at = ma.fields.String(allow_none=True)
    finished_at = ma.fields.String(allow_none=True)


class ComponentSchema(ma.Schema):
    """A component of a scan, in the scanner's wire form (its fingerprint is its public id)."""

    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    provider = ma.fields.String(allow_none=True)
    version = ma.fields.String(allow_none=True)
    model_name = ma.fields.String(allow_none=True)
    locations = ma.fields.List(ma.fields.Dict(), required=True)
    flags = ma.fields.List(ma.fields.String(), required=True)
    risk_score = ma.fields.Integer(required=True, validate=ma.validate.Range(0, 100))
    severity = ma.fields.String(required=True)
    risk_factors = ma.fields.List(ma.fields.Dict(), required=True)
    detector = ma.fields.String(required=True)
    confidence = ma.fields.Float(required=True)
    scope = ma.fields.String(required=True)
    metadata = ma.fields.Dict(required=True)


class ApiKeySchema(ma.Schema):
    """A listed API key: its ``prefix``, never the key."""

    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    prefix = ma.fields.String(required=True)
    organization_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.String(required=True)
    expires_at = ma.fields.String(allow_none=True)
    revoked_at = ma.fields.String(allow_none=True)
    last_used_at = ma.fields.String(allow_none=True)


class DashboardSchema(ma.Schema):
    """The organization at a glance (``null`` where the numbers need a model that is not installed)."""

    recent_scans = ma.fields.List(ma.fields.Nested(ScanSchema), required=True)
    scans_by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    targets = ma.fields.Integer(required=True)
    severity_distribution = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    trend = ma.fields.List(ma.fields.Dict(), required=True)
    top_providers = ma.fields.List(ma.fields.Dict(), required=True)
    top_models = ma.fields.List(ma.fields.Dict(), required=True)
    open_alerts = ma.fields.Integer(allow_none=True)
    policy_pass_rate = ma.fields.Dict(allow_none=True)


ScanPageSchema = page_of(ScanSchema)
ComponentPageSchema = page_of(ComponentSchema)
ApiKeyPageSchema = page_of(ApiKeySchema)


class TokensSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, validate=ma.validate.OneOf(["Bearer"]))
    expires_in = ma.fields.Integer(required=True)


class SessionSchema(TokensSchema):
    """Login and registration: the tokens and the user."""

    user = ma.fields.Dict(required=True)


class PasswordChangedSchema(TokensSchema):
    """A password change: the new session's tokens (every earlier session was signed out) and how many
    API keys it revoked (none when the change asked to keep them)."""

    message = ma.fields.String(required=True)
    api_keys_revoked = ma.fields.Integer(required=True)


class SsoSessionSchema(SessionSchema):
    """A single sign-on: the session acts in this organization only."""

    organization_id = ma.fields.String(required=True)


class ApiKeyCreatedSchema(ma.Schema):
    """The only time the full key is shown."""

    id = ma.fields.String(required=True)
    key = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^tsk_[A-Za-z0-9_-]{32,}$"))
    name = ma.fields.String(required=True)
    prefix = ma.fields.String(required=True)
    organization_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.String(required=True)
    expires_at = ma.fields.String(allow_none=True)


class MessageSchema(ma.Schema):
    message = ma.fields.String(required=True)


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["ok", "error"]))
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)


class ProbeSchema(ma.Schema):
    status = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["reachable", "unauthorized", "unreachable"])
    )
    detail = ma.fields.String(required=True, allow_none=True)
    url = ma.fields.String(required=True, metadata={"description": "The instance that was probed"})


LOCATION = {
    "Location": {"description": "Where the created or queued resource is", "schema": {"type": "string"}}
}
REQUIRED_LOCATION = {"Location": {**LOCATION["Location"], "required": True}}


def file_responses(blp, content_types):
    """Document a download: a 200 whose body is the file, once per content type it may be served as."""

    def decorate(view):
        for content_type in sorted(content_types):
            view = blp.alt_response(
                200,
                schema={"type": "string", "format": "binary"},
                content_type=content_type,
                success=True,
                headers={"Content-Disposition": {"schema": {"type": "string"}, "required": True}},
            )(view)
        return view

    return decorate


def error_responses(blp, *statuses: int):
    """Document, in this order, the errors a view raises itself, each by its shared response."""

    def decorate(view):
        for status in reversed(statuses):
            view = blp.alt_response(status, response=http.HTTPStatus(status).name)(view)
        return view

    return decorate


RATE_LIMITED = "RATE_LIMITED"
_RATE_LIMIT_HEADERS = {
    "Retry-After": {
        "description": "Seconds until the window frees a request",
        "schema": {"type": "integer"},
        "required": True,
    },
    "X-RateLimit-Limit": {"description": "Requests allowed in the window", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the window", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {
        "description": "When the window resets (epoch seconds)",
        "schema": {"type": "integer"},
    },
}


def _name(code: int) -> str:
    return http.HTTPStatus(code).name


class ConventionsPlugin(BasePlugin):
    """Adds the responses, and the security requirement, that follow from each view's declarations."""

    def __init__(self) -> None:
        self.app = None

    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        spec.components.security_scheme(
            "bearerAuth",
            {
                "type": "http",
                "scheme": "bearer",
                "description": "An access token (JWT) or an API key (tsk_...)",
            },
        )
        spec.components.security_scheme(
            "internalKey", {"type": "apiKey", "in": "header", "name": "X-Internal-API-Key"}
        )
        spec.components.response(
            RATE_LIMITED,
            {
                "description": "Too Many Requests",
                "headers": _RATE_LIMIT_HEADERS,
                "content": {"application/json": {"schema": ErrorSchema}},
            },
        )

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        rule = kwargs.get("rule")
        if rule is None or self.app is None or not operations:
            return
        from web.core.access import AUTHENTICATED, PUBLIC
        from web.core.ratelimits import UNLIMITED_ENDPOINTS

        view = self.app.view_functions.get(rule.endpoint)
        role = getattr(view, "required_role", None)
        internal = rule.rule.startswith("/api/v1/internal/")
        documentation = rule.endpoint.startswith("api-docs.")
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})

            def add(code: int, response: str | None = None, responses=responses) -> None:
                if code not in responses and str(code) not in responses:
                    responses[code] = response or _name(code)

            has_body = "requestBody" in operation
            if has_body:
                add(400)
                add(413)
            if internal:
                add(401)
                operation["security"] = [{"internalKey": []}]
            elif role in (None, PUBLIC):
                operation["security"] = []
            else:
                add(401)
                operation["security"] = [{"bearerAuth": []}]
                if role != AUTHENTICATED:
                    add(403)
            if rule.arguments:
                add(404)
            if not (internal or documentation or rule.endpoint in UNLIMITED_ENDPOINTS):
                add(429, RATE_LIMITED)
            if not documentation:
                add(503)
            document_examples(path, method, operation)


PROMETHEUS_TEXT = {"type": "string", "description": "Prometheus text exposition format 0.0.4"}


EXAMPLES_FILE = Path(__file__).with_name("openapi_examples.yaml")
EXAMPLE_SERVER = "https://trusera.example.com"
# Path parameters of the examples: one made-up id per kind of resource.
PATH_PARAMETER_EXAMPLES = {
    "org_slug": "acme",
    "other_id": "6f1c2a9e-8d4b-4f7a-9c3e-2b5d7e8f9a10",
}
DEFAULT_ID = "3b8f6d2e-1c4a-4e9b-8f7d-5a6c9e0b1d2f"


@cache
def operation_examples() -> dict:
    return yaml.safe_load(EXAMPLES_FILE.read_text(encoding="utf-8")) or {}


def _success_response(responses: dict) -> dict | None:
    for code in sorted(responses, key=str):
        if str(code).startswith("2") and isinstance(responses[code], dict):
            return responses[code]
    return None


def _curl(method: str, path: str, operation: dict, body_example) -> str:
    url = path
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        url = url.replace(f"{{{name}}}", PATH_PARAMETER_EXAMPLES.get(name, DEFAULT_ID))
    parts = ["curl", "-X", method.upper(), shlex.quote(EXAMPLE_SERVER + url)]
    security = operation.get("security") or []
    if any("bearerAuth" in requirement for requirement in security):
        parts += ["-H", '"Authorization: Bearer $TRUSERA_TOKEN"']
    if any("internalKey" in requirement for requirement in security):
        parts += ["-H", '"X-Internal-API-Key: $INTERNAL_API_KEY"']
    if body_example is not None:
        parts += ["-H", shlex.quote("Content-Type: application/json")]
        parts += ["-d", shlex.quote(json.dumps(body_example))]
    return " ".join(parts)


def document_examples(path: str, method: str, operation: dict) -> None:
    """Fill the summary, request and response examples an operation does not declare itself."""
    entry = operation_examples().get(f"{method.upper()} {path}") or {}
    if not operation.get("summary") and entry.get("summary"):
        operation["summary"] = entry["summary"]
    body_example = None
    for media in (operation.get("requestBody") or {}).get("content", {}).values():
        if "example" not in media and "request" in entry:
            media["example"] = entry["request"]
        body_example = media.get("example", body_example)
    if "requestBody" not in operation:
        body_example = entry.get("request")  # a view that reads its raw body (an upload) shows it in curl
    success = _success_response(operation.get("responses", {}))
    for media in (success or {}).get("content", {}).values():
        if "example" not in media and "response" in entry:
            media["example"] = entry["response"]
    operation.setdefault(
        "x-codeSamples", [{"lang": "curl", "source": _curl(method, path, operation, body_example)}]
    )

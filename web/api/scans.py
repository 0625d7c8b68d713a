"""``/scans``: create (queued), list, read, and the components a scan found."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta
from itertools import chain
from typing import NoReturn

import marshmallow as ma
from flask import Response, request, url_for
from flask_smorest import Blueprint, abort
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    Insert,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.exc import IntegrityError

from common import dashboard_cache, events, jobs, scan_quota
from common.bom.upload import (
    UPLOAD_TARGET_PREFIX,
    UploadInvalid,
    json_values_at_most,
    top_level,
    upload_format,
)
from common.config import get_settings
from common.dashboard import compiled_sql
from common.dashboard_cache import WRITES_ORGANIZATION
from common.db import COMMITS_ALONE, typed_bindparams
from common.jobs import JobStatus
from common.models import SCAN_STATUSES, AuditLog, Component, Scan, ScanResultPayload
from common.models.base import as_utc, isoformat, new_id, utcnow
from common.models.scans import COMPONENT_WIRE_FIELDS
from common.repositories import RepositoryError, parse_repository_url
from common.scanner.model import COMPONENT_TYPES, SCOPES, SEVERITIES
from common.security import encrypt_secret
from common.targets import TargetError, organization_roots, resolve_target
from common.tasks import SCAN_INGEST, SCAN_RUN
from web.api.connectors import N8nUrl, credential_or_404
from web.api.repositories import RefField, RepositoryUrlField, credential_for
from web.core.access import access, context, looks_like_id, scoped_get_or_404
from web.core.audit_recorder import audit_in, audit_values, discard_audit
from web.core.database import db, dialect, plain_read, reads_before_writing
from web.core.enqueueing import enqueue_or_leave_queued
from web.core.filtering import (
    Filter,
    apply_filters,
    at_least,
    contains_text,
    equal_columns,
    equals,
    starts_with,
)
from web.core.openapi import (
    REQUIRED_LOCATION,
    ComponentPageSchema,
    ScanPageSchema,
    ScanSchema,
    error_responses,
)
from web.core.pagination import counted_page, page_args_with, paginate_counted, query_arguments
from web.core.ratelimits import limit_group

log = logging.getLogger(__name__)

blp = Blueprint("scans", __name__, url_prefix="/api/v1/scans", description="Scans and their components")

IDEMPOTENCY_WINDOW = timedelta(hours=24)


class ScanCreateSchema(ma.Schema):
    target = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(min=1, max=4096)
    )
    deep = ma.fields.Boolean(load_default=False)
    n8n_url = N8nUrl(load_default=None, allow_none=True, validate=ma.validate.Length(max=2048))
    n8n_api_key = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(min=1, max=4096)
    )
    n8n_credential_id = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(min=1, max=64)
    )
    repository_url = RepositoryUrlField(load_default=None, allow_none=True)
    ref = RefField(load_default=None, allow_none=True)
    repository_credential_id = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(min=1, max=64)
    )

    @ma.validates_schema
    def one_repository(self, data, **_kwargs):
        if data.get("repository_url"):
            if data.get("target") or data.get("n8n_url") or data.get("n8n_credential_id"):
                raise ma.ValidationError(
                    "A repository scan scans the repository only: give no 'target' or n8n fields.",
                    "repository_url",
                )
        elif data.get("ref") or data.get("repository_credential_id"):
            raise ma.ValidationError(
                "'ref' and 'repository_credential_id' go with a 'repository_url'.", "ref"
            )

    @ma.validates_schema
    def needs_a_target(self, data, **_kwargs):
        if data.get("repository_url"):
            return
        if data.get("n8n_credential_id") and (data.get("n8n_url") or data.get("n8n_api_key")):
            raise ma.ValidationError(
                "Give 'n8n_credential_id' or 'n8n_url' with 'n8n_api_key', not both.", "n8n_credential_id"
            )
        if not data.get("target") and not data.get("n8n_url") and not data.get("n8n_credential_id"):
            raise ma.ValidationError(
                "Give a 'target' path, a 'repository_url', an 'n8n_credential_id', or an 'n8n_url' with its "
                "'n8n_api_key'.",
                "target",
            )
        if bool(data.get("n8n_url")) != bool(data.get("n8n_api_key")):
            raise ma.ValidationError("'n8n_url' and 'n8n_api_key' go together.", "n8n_api_key")


ScanListArgs = page_args_with(
    status=ma.fields.String(validate=ma.validate.OneOf(SCAN_STATUSES)),
    target=ma.fields.String(validate=ma.validate.Length(max=4096)),
    repository=ma.fields.String(validate=ma.validate.Length(max=2048)),
    commit=ma.fields.String(validate=ma.validate.Length(max=64)),
)

ComponentListArgs = page_args_with(
    type=ma.fields.String(validate=ma.validate.OneOf(COMPONENT_TYPES)),
    severity=ma.fields.String(validate=ma.validate.OneOf(SEVERITIES)),
    scope=ma.fields.String(validate=ma.validate.OneOf(SCOPES)),
    provider=ma.fields.String(validate=ma.validate.Length(max=100)),
    detector=ma.fields.String(validate=ma.validate.Length(max=100)),
    flag=ma.fields.String(validate=ma.validate.Length(max=100)),
    name=ma.fields.String(validate=ma.validate.Length(max=300)),
    min_risk=ma.fields.Integer(validate=ma.validate.Range(0, 100)),
)


def normal_repository_url(raw: str) -> str:
    """The stored form of a repository URL, so a filter matches however the URL was written."""
    try:
        return str(parse_repository_url(raw))
    except RepositoryError:
        return raw


# The wire name of each scan field and the attribute it is read from (``ScanSchema`` documents them).
SCAN_WIRE_FIELDS = {
    "id": "id",
    "organization_id": "organization_id",
    "target": "target",
    "n8n_url": "n8n_url",
    "repository_url": "repository_url",
    "ref": "repository_ref",
    "commit_sha": "commit_sha",
    "branch": "source_branch",
    "ci_run_url": "ci_run_url",
    "repository_credential_id": "repository_credential_id",
    "deep": "deep",
    "status": "status",
    "progress": "progress",
    "stage": "stage",
    "files_scanned": "files_scanned",
    "error": "error",
    "summary": "summary",
    "warnings": "warnings",
    "created_by": "created_by",
    "created_at": "created_at",
    "started_at": "started_at",
    "finished_at": "finished_at",
}
SCAN_WIRE_COLUMNS = tuple(
    getattr(Scan, attribute).label(name) for name, attribute in SCAN_WIRE_FIELDS.items()
)


def _scan_wire(fields: dict) -> dict:
    fields["warnings"] = fields["warnings"] or []
    for moment in ("created_at", "started_at", "finished_at"):
        fields[moment] = isoformat(fields[moment])
    return fields


def scan_json(scan: Scan) -> dict:
    return _scan_wire({name: getattr(scan, attribute) for name, attribute in SCAN_WIRE_FIELDS.items()})


def scan_row_json(row) -> dict:
    """``scan_json`` of a Core row that starts with ``SCAN_WIRE_COLUMNS`` (columns after them, such as a
    list's total, are not part of the scan): no ORM object is built for a list."""
    return _scan_wire(dict(zip(SCAN_WIRE_FIELDS, row, strict=False)))


def _queued_response(scan: Scan):
    return scan_json(scan), 202, {"Location": url_for("scans.get_scan", scan_id=scan.id)}


def _insert_of(table: Table, columns: tuple[str, ...], prefix: str) -> Insert:
    return insert(table).values(dict(zip(columns, typed_bindparams(table, columns, prefix), strict=True)))


# What ``create_scan`` writes: every column a new scan sets (the job columns at their start), and the
# audit row. On PostgreSQL both go in one statement, which commits alone (``COMMITS_ALONE``): with the
# principal read outside a transaction, the whole request costs two round trips to the database.
NEW_SCAN_COLUMNS = (
    *("id", "organization_id", "created_by", "api_key_id", "target", "deep", "n8n_url"),
    *("n8n_api_key_encrypted", "n8n_from_credential", "repository_url", "repository_ref"),
    "repository_credential_id",
    *("idempotency_key", "status", "progress", "stage", "attempts", "files_scanned", "created_at"),
)
# The scan is inserted only while its organization has fewer than ``SCANS_IN_FLIGHT_PER_ORG`` scans in
# flight (``common.scan_quota``), and the audit row only with it: a refused request writes nothing.
AUDIT_COLUMNS = tuple(AuditLog.__table__.c.keys())
INSERT_ADMITTED_SCAN = scan_quota.admitting_insert(Scan.__table__, NEW_SCAN_COLUMNS, "scan_")
INSERT_AUDIT_ROW = _insert_of(AuditLog.__table__, AUDIT_COLUMNS, "audit_")
_ADMITTED_SCAN = INSERT_ADMITTED_SCAN.returning(Scan.__table__.c.id).cte("new_scan")
INSERT_SCAN_AND_AUDIT_ROW = (
    insert(AuditLog.__table__)
    .from_select(
        list(AUDIT_COLUMNS),
        select(*typed_bindparams(AuditLog.__table__, AUDIT_COLUMNS, "audit_")).select_from(_ADMITTED_SCAN),
    )
    .add_cte(_ADMITTED_SCAN)
    .execution_options(preserve_rowcount=True, **{COMMITS_ALONE: True})
)


def _insert_scan_and_audit_row(scan: Scan, audit_row: dict, in_flight_limit: int) -> set[str] | None:
    """Write the new scan and its audit row atomically: one statement on PostgreSQL (a database
    without writes in a CTE takes two in the session's transaction). Returns what the dashboard's cache
    must bump once it commits, which the task's pipeline carries (``dashboard_cache.take``), or None
    when the organization already has ``in_flight_limit`` scans in flight and nothing was written."""
    session = db()
    params = {f"scan_{name}": getattr(scan, name) for name in NEW_SCAN_COLUMNS}
    params.update((f"audit_{name}", value) for name, value in audit_row.items())
    params[scan_quota.LIMIT_PARAMETER] = in_flight_limit
    if session.new:  # anything else recorded (an event's outbox row) must share the scan's transaction
        session.flush()
    connection = session.connection()  # Core statements: the ORM's execution path has nothing to add
    options = {WRITES_ORGANIZATION: scan.organization_id}  # the new scan's organization
    if connection.dialect.name == "postgresql":
        admitted = connection.execute(INSERT_SCAN_AND_AUDIT_ROW, params, execution_options=options).rowcount
    else:
        admitted = connection.execute(INSERT_ADMITTED_SCAN, params, execution_options=options).rowcount
        if admitted:
            connection.execute(INSERT_AUDIT_ROW, params)
    written = dashboard_cache.take(connection)
    return written if admitted else None


def _refuse_past_in_flight_limit(limit: int) -> NoReturn:
    """429: the organization has ``limit`` scans queued or running; whatever the request staged (its
    ``scan.queued`` outbox row) is rolled back with it."""
    db().rollback()
    discard_audit()
    abort(
        429,
        message=scan_quota.refusal_message(limit),
        headers={"Retry-After": str(scan_quota.RETRY_AFTER_SECONDS)},
    )


def _replay_for_key(clash: IntegrityError, organization_id: str, key: str | None):
    """A concurrent request with the same Idempotency-Key won the insert: answer with its scan.
    Any other constraint failure is the caller's error and is raised again.

    ``organization_id`` must not be read from the request's context by the caller: until the rollback
    here, the failed session refuses to load the context's organization."""
    db().rollback()
    discard_audit()
    existing = _existing_for_key(organization_id, key) if key else None
    if existing is None:
        raise clash
    return _queued_response(existing)


def _existing_for_key(organization_id: str, key: str) -> Scan | None:
    scan = db().scalar(
        select(Scan).where(Scan.organization_id == organization_id, Scan.idempotency_key == key)
    )
    if scan is not None and utcnow() - as_utc(scan.created_at) > IDEMPOTENCY_WINDOW:
        scan.idempotency_key = None  # expired: the key may name a new scan
        db().flush()
        return None
    return scan


@blp.route("", methods=["POST"])
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(202, schema=ScanSchema, success=True, headers=REQUIRED_LOCATION)
@blp.alt_response(400, response="BAD_REQUEST")
@access("analyst")
@limit_group("scan-create")
@blp.arguments(ScanCreateSchema())  # an instance: webargs would build one per request from a class
@reads_before_writing
def create_scan(body):
    """Queue a scan; 429 while the organization has ``SCANS_IN_FLIGHT_PER_ORG`` scans queued or running."""
    ctx = context()
    key = (request.headers.get("Idempotency-Key") or "").strip()[:200] or None
    if key and (existing := _existing_for_key(ctx.organization_id, key)) is not None:
        return _queued_response(existing)
    target = None
    if body["target"]:
        try:
            roots = organization_roots(ctx.organization_id, ctx.membership.scan_roots)
            target = resolve_target(body["target"], roots)
        except TargetError as exc:
            abort(400, message=str(exc), errors={"target": [str(exc)]})
    n8n_url = body["n8n_url"]
    n8n_api_key_encrypted = encrypt_secret(body["n8n_api_key"]) if body["n8n_api_key"] else None
    if body["n8n_credential_id"]:
        credential = credential_or_404(body["n8n_credential_id"])
        n8n_url, n8n_api_key_encrypted = credential.url, credential.api_key_encrypted
    repository_credential_id = None
    if body["repository_credential_id"]:
        repository_credential_id = credential_for(
            body["repository_credential_id"], body["repository_url"], "repository_credential_id"
        ).id
    scan = Scan(
        id=new_id(),
        organization_id=ctx.organization_id,
        created_by=ctx.user_id,
        api_key_id=ctx.principal.api_key_id,
        target=target,
        deep=body["deep"],
        n8n_url=n8n_url,
        n8n_api_key_encrypted=n8n_api_key_encrypted,
        n8n_from_credential=bool(body["n8n_credential_id"]),
        repository_url=body["repository_url"],
        repository_ref=(body["ref"] or "HEAD") if body["repository_url"] else None,
        repository_credential_id=repository_credential_id,
        idempotency_key=key,
        status=JobStatus.QUEUED.value,
        progress=0,
        stage=JobStatus.QUEUED.value,
        attempts=0,
        files_scanned=0,
        created_at=utcnow(),
    )
    # One transaction for the scan, its audit row and its event, which is published after it commits
    # with the task, ahead of it in one Redis pipeline: a quick worker's ``scan.started`` cannot overtake it.
    audit_row = audit_values(
        db(),
        202,
        "scan.create",
        "scan",
        scan.id,
        target=target,
        repository=scan.repository_url,
        deep=scan.deep,
    )
    queued = events.record_for_task(db(), scan.organization_id, "scan.queued", scan_id=scan.id)
    in_flight_limit = get_settings().scans_in_flight_per_org
    try:
        dashboard_writes = _insert_scan_and_audit_row(scan, audit_row, in_flight_limit)
        if dashboard_writes is None:
            _refuse_past_in_flight_limit(in_flight_limit)
        db().commit()
    except IntegrityError as clash:
        return _replay_for_key(clash, scan.organization_id, key)
    enqueue_or_leave_queued(
        scan, SCAN_RUN, scan.id, what="scan", announcing=queued, dashboard_writes=dashboard_writes
    )
    return _queued_response(scan)


class ScanImportArgs(ma.Schema):
    """Where the uploaded result came from (all optional), recorded on the scan."""

    repository_url = RepositoryUrlField(load_default=None)
    commit = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^[0-9a-fA-F]{7,64}$"))
    branch = ma.fields.String(
        load_default=None,
        validate=[ma.validate.Length(min=1, max=255), ma.validate.Regexp(r"^[^\x00-\x1f\x7f]+$")],
    )
    ci_run_url = ma.fields.Url(
        load_default=None,
        schemes={"http", "https"},
        require_tld=False,
        validate=ma.validate.Length(max=2048),
    )

    @ma.validates("ci_run_url")
    def no_credentials(self, value, **_kwargs):
        if value and "@" in value.split("//", 1)[-1].split("/", 1)[0]:
            raise ma.ValidationError("Credentials in the URL are not allowed.")


@blp.route("/import", methods=["POST"])
@blp.alt_response(202, schema=ScanSchema, success=True, headers=REQUIRED_LOCATION)
@error_responses(blp, 400, 413, 422)
@access("analyst")
@limit_group("scan-create")
@blp.arguments(ScanImportArgs, location="query")
def import_scan(args):
    """A result made elsewhere (the CLI's JSON, or a CycloneDX 1.6 BOM), stored as uploaded and ingested.

    The API parses the body once and checks its top level only (``common.bom.upload``): not JSON is a
    400, neither format (or CycloneDX of another version) a 422. The schema and the conversion cost
    microseconds per JSON value, tens of seconds of CPU for an upload at the size limit, so they run in the
    ``ingest`` worker under its time limit: a document they refuse fails the scan, its errors as the
    scan's ``error``. ``ingest`` then completes it as it completes a native scan, so compliance, policies,
    alerts and webhooks follow the same way. 429 while the organization has ``SCANS_IN_FLIGHT_PER_ORG``
    scans queued or running, as for ``POST /scans``.
    """
    ctx = context()
    request.max_content_length = get_settings().import_max_content_length
    # Received whole before any query: a client trickling its upload holds no pooled connection meanwhile.
    body = request.get_data()
    key = (request.headers.get("Idempotency-Key") or "").strip()[:200] or None
    if key and (existing := _existing_for_key(ctx.organization_id, key)) is not None:
        return _queued_response(existing)
    _refuse_past_value_limit(body)
    source_format = _upload_format(body)
    scan = Scan(
        id=new_id(),
        organization_id=ctx.organization_id,
        created_by=ctx.user_id,
        api_key_id=ctx.principal.api_key_id,
        target=f"{UPLOAD_TARGET_PREFIX}{source_format}",
        repository_url=args["repository_url"],
        commit_sha=args["commit"].lower() if args["commit"] else None,
        source_branch=args["branch"],
        ci_run_url=args["ci_run_url"],
        idempotency_key=key,
        progress=95,
    )
    # An upload is a scan in flight as any other (running, its ``ingest`` job on a queue every
    # organization shares): counted against the same limit, checked just before the write.
    in_flight_limit = get_settings().scans_in_flight_per_org
    if not scan_quota.admits_another(db(), ctx.organization_id, in_flight_limit):
        _refuse_past_in_flight_limit(in_flight_limit)
    jobs.start(scan)  # the worker's share is all that is left; ``scan.queued`` is its only event
    scan.stage = "validating"  # then ingesting, in the same ``ingest`` task
    db().add(scan)
    audit_in(db(), 202, "scan.import", "scan", scan.id, format=source_format, bytes=len(body))
    events.record(db(), scan.organization_id, "scan.queued", scan_id=scan.id)
    try:
        db().flush()
        # The body as it came: ``ingest`` validates and converts it (``components_checked`` false).
        db().add(ScanResultPayload(scan_id=scan.id, payload=body, components_checked=False))
        db().commit()
    except IntegrityError as clash:
        return _replay_for_key(clash, scan.organization_id, key)
    enqueue_or_leave_queued(scan, SCAN_INGEST, scan.id, what="imported scan")
    return _queued_response(scan)


def _refuse_past_value_limit(body: bytes) -> None:
    """A 413 for a body of more JSON values than ``IMPORT_MAX_VALUES``, counted from its bytes before any
    decoding: the ingest worker's memory is per value, not per byte."""
    limit = get_settings().import_max_values
    if json_values_at_most(body) > limit:
        abort(
            413,
            message=f"The upload holds more than {limit} JSON values (IMPORT_MAX_VALUES).",
        )


def _upload_format(body: bytes) -> str:
    """The upload's format, from one pass over the body that keeps only its top level (``top_level``);
    aborts 400 or 422 otherwise. The worker decodes the stored body whole."""
    try:
        # Parsed as JSON whatever the Content-Type: `curl --data-binary @bom.json` sends a form type.
        document = top_level(body)
    except (ValueError, RecursionError):
        abort(400, message="The request body is not valid JSON.")
    try:
        return upload_format(document)
    except UploadInvalid as exc:
        abort(422, message=str(exc), errors=exc.errors)


@blp.route("", methods=["GET"])
@blp.alt_response(200, schema=ScanPageSchema, success=True)
@access("viewer")
@query_arguments(blp, ScanListArgs())
def list_scans(args):
    query = apply_filters(SCANS_OF_ORGANIZATION, Scan, args, SCAN_FILTERS)
    params = {"organization_id": context().organization_id}
    page, per_page = args["page"], args["per_page"]
    if query is SCANS_OF_ORGANIZATION and dialect().name == "postgresql":
        sql = unfiltered_scan_json_page_sql(dialect())
        values = params | {"limit": per_page, "offset": (page - 1) * per_page}
        [(items, total)] = plain_read(sql, values)
        body = f'{{"items":{items},"page":{page},"per_page":{per_page},"total":{total}}}'
        return Response(body, mimetype="application/json")
    statement = UNFILTERED_SCAN_PAGE if query is SCANS_OF_ORGANIZATION else _scan_page(query)
    return paginate_counted(statement, params, page, per_page, scan_row_json)


def _scan_page(scans: Select) -> Select:
    return counted_page(scans.order_by(Scan.created_at.desc()))


# The organization's scans as Core columns, and their unfiltered page (the common case) built once.
SCANS_OF_ORGANIZATION = select(*SCAN_WIRE_COLUMNS).where(Scan.organization_id == bindparam("organization_id"))
UNFILTERED_SCAN_PAGE = _scan_page(SCANS_OF_ORGANIZATION)
ISO_UTC_MILLISECONDS = literal_column("""'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'""")  # models.base.isoformat
SCAN_PAGE_VALUES = frozenset({"organization_id", "limit", "offset"})


def scan_wire_json():
    """``scan_row_json`` in SQL (PostgreSQL): the wire fields, timestamps in ``isoformat``'s form, no
    warnings as [] (shared by the list and the dashboard's recent scans)."""

    def wire(name: str, column):
        if isinstance(column.type, DateTime):
            return func.to_char(func.timezone("UTC", column), ISO_UTC_MILLISECONDS)
        if name == "warnings":  # SQL NULL, or the JSON null the ORM writes for None
            return func.coalesce(
                func.nullif(column, literal_column("'null'::jsonb")), literal_column("'[]'::jsonb")
            )
        return column

    fields = ((name, wire(name, getattr(Scan, field))) for name, field in SCAN_WIRE_FIELDS.items())
    return func.json_build_object(
        *chain.from_iterable((literal_column(f"'{name}'"), value) for name, value in fields)
    )


def _scan_json_page() -> Select:
    """The unfiltered list on PostgreSQL: its items as one JSON text and its total, in one row. The page is
    chosen from the list's index by key, and only its scans are turned into JSON."""
    organization = bindparam("organization_id")
    keys = (
        select(Scan.id)
        .where(Scan.organization_id == organization)
        .order_by(Scan.created_at.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery("page")
    )
    listed = select(scan_wire_json().label("scan"), Scan.created_at, Scan.id).join(keys, keys.c.id == Scan.id)
    listed = listed.subquery("listed")
    in_order = aggregate_order_by(listed.c.scan, listed.c.created_at.desc(), listed.c.id)
    items = select(cast(func.coalesce(func.json_agg(in_order), literal_column("'[]'::json")), Text))
    total = select(func.count()).select_from(Scan).where(Scan.organization_id == organization)
    return select(items.scalar_subquery(), total.scalar_subquery())


@functools.cache
def unfiltered_scan_json_page_sql(dialect) -> str:
    """The unfiltered list's page as driver SQL compiled once, its values read through sub-selects, as
    ``unfiltered_component_json_page_sql``: PostgreSQL keeps one generic plan, and the API builds no row,
    dict or encoder per scan."""
    return compiled_sql(dialect, _scan_json_page(), SCAN_PAGE_VALUES)


@blp.route("/<scan_id>", methods=["GET"])
@blp.alt_response(200, schema=ScanSchema, success=True)
@access("viewer")
def get_scan(scan_id):
    return scan_json(scoped_get_or_404(Scan, scan_id, "Scan"))


COMPONENT_WIRE_NAMES = tuple(COMPONENT_WIRE_FIELDS)
# A scan's components, as Core columns; the scan and the organization are bound at execution.
COMPONENTS_OF_SCAN = select(Component.id.label("row_id"), *Component.wire_columns()).where(
    Component.scan_id == bindparam("scan_id"), Component.organization_id == bindparam("organization_id")
)


def _scan_with_page(components: Select) -> Select:
    """The acting organization's scan joined to one page of its components: no row when the scan is
    not the organization's, one row of NULL components when the page is empty."""
    order = (Component.risk_score.desc(), Component.name, Component.id)
    rows = components.order_by(*order).limit(bindparam("limit")).offset(bindparam("offset")).subquery()
    stored_total = Scan.summary["total_components"].as_integer()
    return (
        select(Scan.status, stored_total, rows)
        .outerjoin(rows, true())
        .where(Scan.id == bindparam("scan_id"), Scan.organization_id == bindparam("organization_id"))
        .order_by(rows.c.risk_score.desc(), rows.c.name, rows.c.row_id)
    )


def _wire(column):
    """A column as JSON the way Python writes it: a float keeps its ``.0`` (PostgreSQL writes 1.0 as 1)."""
    if not isinstance(column.type, Float):
        return column
    integral = and_(column == func.floor(column), func.abs(column) < 1e15)
    as_text = case((integral, cast(cast(column, BigInteger), Text) + ".0"), else_=cast(column, Text))
    return cast(as_text, JSON)


def _scan_with_json_page(components: Select) -> Select:
    """``_scan_with_page`` for PostgreSQL: the page's items as one JSON text (``json_agg`` of each row's
    wire fields), the response body's without a row, dict or encoder per component in Python."""
    order = (Component.risk_score.desc(), Component.name, Component.id)
    rows = components.order_by(*order).limit(bindparam("limit")).offset(bindparam("offset")).subquery()
    item = func.json_build_object(
        *chain.from_iterable(
            (literal_column(f"'{name}'"), _wire(rows.c[name])) for name in COMPONENT_WIRE_NAMES
        )
    )
    in_order = aggregate_order_by(item, rows.c.risk_score.desc(), rows.c.name, rows.c.row_id)
    items = select(cast(func.coalesce(func.json_agg(in_order), literal_column("'[]'::json")), Text))
    return select(Scan.status, Scan.summary["total_components"].as_integer(), items.scalar_subquery()).where(
        Scan.id == bindparam("scan_id"), Scan.organization_id == bindparam("organization_id")
    )


# Built once: an unfiltered page (the common case) pays neither statement construction nor its cache key.
UNFILTERED_COMPONENT_PAGE = _scan_with_page(COMPONENTS_OF_SCAN)
UNFILTERED_COMPONENT_JSON_PAGE = _scan_with_json_page(COMPONENTS_OF_SCAN)
COMPONENT_PAGE_VALUES = frozenset({"scan_id", "organization_id", "limit", "offset"})


@functools.cache
def unfiltered_component_json_page_sql(dialect) -> str:
    """``UNFILTERED_COMPONENT_JSON_PAGE`` as driver SQL, compiled once, each per-request value read through
    a sub-select (``common.dashboard.compiled_sql``).

    With the values visible, PostgreSQL planned the prepared statement again on every page: a custom plan
    knows ``LIMIT 20`` and is estimated at a thirty-sixth of the generic one, which must assume a tenth
    of the scan's rows, so the generic plan (the same index scan) was never chosen; planning cost about as
    much PostgreSQL CPU as running the page. Hidden, every plan is estimated alike and the generic one is
    kept. The SQL is executed as is: no SQLAlchemy compilation or cache key per request either."""
    return compiled_sql(dialect, UNFILTERED_COMPONENT_JSON_PAGE, COMPONENT_PAGE_VALUES)


@blp.route("/<scan_id>/components", methods=["GET"])
@blp.alt_response(200, schema=ComponentPageSchema, success=True)
@access("viewer")
@query_arguments(blp, ComponentListArgs())
def list_components(args, scan_id):
    """The scan and the page in one statement; the total from a completed scan's summary. On PostgreSQL
    the items come as JSON text and the body is written around it; elsewhere from Core rows."""
    if not looks_like_id(scan_id):
        abort(404, message="Scan not found.")
    query = apply_filters(COMPONENTS_OF_SCAN, Component, args, COMPONENT_FILTERS)
    unfiltered = query is COMPONENTS_OF_SCAN
    where = {"scan_id": scan_id, "organization_id": context().organization_id}
    page = {"limit": args["per_page"], "offset": (args["page"] - 1) * args["per_page"]}
    as_json = dialect().name == "postgresql"
    if as_json and unfiltered:
        rows = plain_read(unfiltered_component_json_page_sql(dialect()), where | page)
    else:
        connection = db().connection()
        if as_json:
            statement = _scan_with_json_page(query)
        else:
            statement = UNFILTERED_COMPONENT_PAGE if unfiltered else _scan_with_page(query)
        rows = connection.execute(statement, where | page).all()
    if not rows:
        abort(404, message="Scan not found.")
    status, stored_total = rows[0][:2]
    total = stored_total if unfiltered and status == JobStatus.COMPLETED else None
    if total is None:
        total = db().connection().scalar(select(func.count()).select_from(query.subquery()), where)
    if as_json:
        body = f'{{"items":{rows[0][2]},"page":{args["page"]},"per_page":{args["per_page"]},"total":{total}}}'
        return Response(body, mimetype="application/json")
    items = [dict(zip(COMPONENT_WIRE_NAMES, row[3:], strict=True)) for row in rows if row.row_id is not None]
    return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total}


def _is_postgres() -> bool:
    return db().get_bind().dialect.name == "postgresql"


def _jsonb(column):
    """The column compared as JSONB: ``@>`` with a JSONB parameter (as plain JSON the parameter was sent in
    JSONB's binary form to a ``::JSON`` cast, which PostgreSQL refuses)."""
    return type_coerce(column, JSONB)


def _has_flag(flags, flag: str):
    """JSONB containment on PostgreSQL; a match on the JSON text elsewhere (SQLite in tests)."""
    return _jsonb(flags).contains([flag]) if _is_postgres() else cast(flags, String).like(f'%"{flag}"%')


SCAN_FILTERS = {
    **equal_columns("status", "target"),
    "repository": equals("repository_url", convert=normal_repository_url),
    "commit": starts_with("commit_sha", convert=str.lower),
}
COMPONENT_FILTERS = {
    **equal_columns("type", "severity", "scope", "provider", "detector"),
    "name": contains_text(),
    "min_risk": at_least("risk_score"),
    "flag": Filter(_has_flag, "flags"),
}

"""``scans.ingest``: store a posted result as components and edges, then complete the scan. An uploaded
document (``POST /scans/import``) is validated against its schema and converted here first.

The ingest processes are shared by every organization, and an upload costs up to a few tens of seconds of
CPU: an organization (and each uploader, across every organization they belong to) validates at most
``SCANS_RUNNING_PER_ORG`` uploads at once while someone else's scan waits or runs, as the scans workers
share their turns (``workers.scans``). A further upload goes back on the queue to look again later; its
scan stays running, its heartbeat fresh. Results posted by the scans workers have had their turn and are
ingested at once.

Replacing a scan's rows in one transaction makes a second run of the same
ingestion leave exactly the same rows. The posted result is deleted in the transaction that completes
the scan: it holds snippets unmasked (a hard-coded key a scan found), and a completed scan is never
ingested again, so nothing needs it after.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init
from psycopg.adapt import Loader
from psycopg.pq import Format
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from common import events, fastjson, jobs
from common.baseline import is_uploaded
from common.bom.upload import UploadInvalid
from common.celery_client import celery_client, enqueue
from common.db import bulk_insert, session_scope
from common.models import Component, Scan, ScanRelationship, ScanResultPayload
from common.models.base import utcnow
from common.org_slots import Share, turn_wait
from common.redis_client import get_redis
from common.scan_quota import take_a_turn
from common.scanner import summarize
from common.scanner.model import keep_storable_components, storable_text
from common.scanner.redaction import clip, compile_rules, mask_value
from common.tasks import SCAN_INGEST, queue_for
from workers.app import app
from workers.base import PlatformTask, cpu_time_limit, locked_unfinished

log = logging.getLogger(__name__)
# An ingest past this much CPU time fails its scan ("time limit exceeded"): a 200 MB result ingests in
# well under a minute, and an upload at IMPORT_MAX_CONTENT_LENGTH (25 MiB) of the plainest JSON values
# validates in ~20 s of CPU (42 s for 49 MB: bench/bench_import.py --uploads). Its memory is bounded by
# IMPORT_MAX_VALUES, which the API checks before storing it (~300 MB: bench/bench_import.py --worker-memory).
INGEST_CPU_SECONDS = 5 * 60
# The wall-time limits are the backstop (a thread pool, a process stuck off the CPU): three times the CPU
# budget, so a worker that other tenants' load leaves a third of a core still finishes an honest upload.
INGEST_SOFT_TIME_LIMIT_SECONDS = 3 * INGEST_CPU_SECONDS
INGEST_HARD_TIME_LIMIT_SECONDS = INGEST_SOFT_TIME_LIMIT_SECONDS + 60
# An upload's turn outlives the task's hard limit (so it needs no renewal); a lost worker's then lapses.
UPLOAD_TURN_LEASE_SECONDS = INGEST_HARD_TIME_LIMIT_SECONDS + 30
# What ``ingest_stored_result`` returns for a stored upload that does not decode, and the scan's error.
UNREADABLE_UPLOAD = object()
UNREADABLE_UPLOAD_ERROR = "The upload is not JSON the worker can read (invalid UTF-8, or a number too long)."
# An upload's scan error when converting its document raised: the exception's text is not shown.
CONVERSION_FAILED_ERROR = "The upload passed its schema but could not be converted; no component was stored."
# No scan has this id (row ids are random version 4 UUIDs): the warm-up's reads find nothing and lock nothing.
NO_SCAN = "00000000-0000-4000-8000-000000000000"
# A result the warm-up runs through the row path: one component stored, one set aside, an edge to each.
WARM_UP_RESULT = {
    "components": [
        {
            "id": "0" * 64,
            "name": "warm-up",
            "type": "model",
            "locations": [{"file": "warm_up.py", "line": 1, "snippet": "client = OpenAI()"}],
            "flags": ["unpinned_model"],
            "metadata": {"api_key": "x1y2z3w4v5u6"},
        },
        {"id": "1" * 64, "name": "", "type": "model"},
    ],
    "relationships": [
        {"source": "0" * 64, "target": "0" * 64, "relation": "uses_model"},
        {"source": "0" * 64, "target": "1" * 64, "relation": "uses_model"},
    ],
    "warnings": [],
    "files_scanned": 1,
}


def random_ids() -> Iterator[str]:
    """Version 4 UUIDs as ``new_id()`` writes them, from one read of the OS's random source per 4,096:
    ``uuid.uuid4()`` costs a tenth of a second for a large result's rows."""
    while True:
        block = os.urandom(16 * 4096).hex()
        for start in range(0, len(block), 32):
            digits = block[start : start + 32]
            variant = "89ab"[int(digits[16], 16) & 3]
            yield f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


class _JSONFromBuffer(Loader):
    """A ``bytea`` read in binary, decoded as JSON straight from the driver's buffer."""

    format = Format.BINARY

    def load(self, data):
        return fastjson.loads(data)


class StoredResult(NamedTuple):
    payload: dict
    # True when the API kept only storable components before writing it (``keep_storable_components``).
    components_checked: bool


def stored_result(session: Session, scan_id: str) -> StoredResult | None:
    """The scan's stored result, decoded. PostgreSQL sends it in binary and it is decoded from the
    driver's buffer: as text a ``bytea`` travels as hex, twice its size, and the bytes would be copied
    once more before decoding, megabytes the worker would hold besides the decoded result."""
    if session.get_bind().dialect.name != "postgresql":
        row = session.execute(
            select(ScanResultPayload.payload, ScanResultPayload.components_checked).where(
                ScanResultPayload.scan_id == scan_id
            )
        ).first()
        return None if row is None else StoredResult(*row)
    cursor = session.connection().connection.driver_connection.cursor(binary=True)
    cursor.adapters.register_loader("bytea", _JSONFromBuffer)
    with cursor:
        cursor.execute("SELECT payload, components_checked FROM scan_results WHERE scan_id = %s", (scan_id,))
        row = cursor.fetchone()
    return None if row is None else StoredResult(*row)


def storable(stored: StoredResult) -> dict:
    """The result with only the components the platform can store, its text storable: as the API left it
    when it checked them (the only writer of results, for posted and uploaded ones alike), else checked
    here."""
    return (
        stored.payload
        if stored.components_checked
        else keep_storable_components(storable_text(stored.payload))
    )


def stored_locations(locations: list[dict]) -> list[dict]:
    """Locations as stored: every snippet masked, then cut, whoever produced the result."""
    return [{**location, "snippet": clip(location.get("snippet") or "")} for location in locations]


def stored_warnings(warnings: list) -> list:
    """Warnings as stored: every string masked, as snippets are. A parse error can quote the line that
    holds a key, and a rejected component's warning repeats its name."""
    return [mask_value("", warning) for warning in warnings[:1000]]


def component_rows(scan: Scan, components: Iterable[dict]) -> Iterator[dict]:
    ids = random_ids()
    return (
        {
            "id": next(ids),
            "scan_id": scan.id,
            "organization_id": scan.organization_id,
            "fingerprint": c["id"],
            "name": c["name"],
            "type": c["type"],
            "provider": c.get("provider"),
            "version": c.get("version"),
            "model_name": c.get("model_name"),
            "locations": stored_locations(c.get("locations") or []),
            "flags": sorted(set(c.get("flags") or [])),
            "risk_score": int(c.get("risk_score") or 0),
            "severity": c.get("severity") or "info",
            "risk_factors": c.get("risk_factors") or [],
            "detector": c.get("detector") or "",
            "confidence": float(c.get("confidence", 1.0)),
            "scope": c.get("scope") or "production",
            "metadata": mask_value("", c.get("metadata") or {}),
        }
        for c in components
    )


def ranked(rows: Iterator[dict], ranks: list[dict]) -> Iterator[dict]:
    """``rows`` as they stream by, keeping what the summary counts of each in ``ranks``."""
    for row in rows:
        ranks.append({"type": row["type"], "severity": row["severity"], "risk_score": row["risk_score"]})
        yield row


def edge_rows(scan_id: str, relationships: list[dict]) -> list[dict]:
    unique = {(r["source"], r["target"], r["relation"]) for r in relationships}
    ids = random_ids()
    return [
        {"id": next(ids), "scan_id": scan_id, "source": s, "target": t, "relation": rel}
        for s, t, rel in sorted(unique)
    ]


@app.task(
    bind=True,
    base=PlatformTask,
    name=SCAN_INGEST,
    soft_time_limit=INGEST_SOFT_TIME_LIMIT_SECONDS,
    time_limit=INGEST_HARD_TIME_LIMIT_SECONDS,
)
def ingest_scan(self: PlatformTask, scan_id: str, waits: int = 0) -> None:
    """Ingest the scan's result; an upload first waits for its turn (``waits`` times so far)."""
    share = Share("ingest-uploads", token=scan_id)
    try:
        with self.failing_past_time_limit(Scan, scan_id), cpu_time_limit(INGEST_CPU_SECONDS):
            wait = wait_for_upload_turn(scan_id, share, waits)
            if wait is not None:
                enqueue(SCAN_INGEST, scan_id, waits + 1, countdown=wait)
                return
            upload = ingest_stored_result(scan_id)
            if upload is UNREADABLE_UPLOAD:
                self.mark_failed(Scan, scan_id, UNREADABLE_UPLOAD_ERROR)
            elif upload is not None:
                ingest_upload(self, scan_id, upload)
    finally:
        share.release()


def wait_for_upload_turn(scan_id: str, share: Share, waits: int) -> float | None:
    """Take an upload's turn to be validated (``share``), or the seconds after which it looks again: its
    organization, or its uploader, already validates ``SCANS_RUNNING_PER_ORG`` uploads and someone else's
    scan waits or runs. A waiting upload's heartbeat is renewed, so the reconciler counts its message as
    alive. None too for anything else (a posted result, a finished scan): there is no turn to wait for."""
    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        if scan is None or jobs.is_finished(scan) or not is_uploaded(scan):
            return None
        checked = session.scalar(
            select(ScanResultPayload.components_checked).where(ScanResultPayload.scan_id == scan_id)
        )
        if checked is None or checked:
            return None
        if take_a_turn(session, share, scan.organization_id, scan.created_by, UPLOAD_TURN_LEASE_SECONDS):
            return None
        session.execute(update(Scan).where(Scan.id == scan_id).values(heartbeat_at=utcnow()))
        return turn_wait(waits)


def ingest_stored_result(scan_id: str) -> object | None:
    """Ingest the scan's stored result, and return None; an upload still to be validated is returned
    instead, decoded: it is validated outside this transaction, whose lock on the scan would otherwise
    be held for the schema's whole pass (``UNREADABLE_UPLOAD`` when it does not decode). The organization
    is held before the scan is locked, in its deletion's order (``hold_organization``): the completion's
    webhook event references it."""
    with session_scope() as session:
        scan = locked_unfinished(session, Scan, scan_id)
        if scan is None:
            return None
        try:
            stored = stored_result(session, scan_id)
        except (ValueError, RecursionError):
            # The API checks an upload's syntax without building its values (``common.bom.upload``);
            # building them refuses a little more: the uploader's to fix, not a task to retry.
            if not is_uploaded(scan):
                raise
            return UNREADABLE_UPLOAD
        if stored is None:
            return None
        if is_unchecked_upload(scan, stored):
            # Alive as of now for the reconciler (``SCAN_STALE_MINUTES``), however long the upload waited.
            scan.heartbeat_at = utcnow()
            return stored.payload
        store_result(session, scan, storable(stored))
        return None


def is_unchecked_upload(scan: Scan, stored: StoredResult) -> bool:
    """A document ``POST /scans/import`` stored as it came (an upload's result stored converted, as the API
    did before it left the schema to this worker, is ingested as any result)."""
    return is_uploaded(scan) and not stored.components_checked


def ingest_upload(task: PlatformTask, scan_id: str, document: object) -> None:
    """Validate an uploaded document against its schema and convert it (the CPU an upload costs, about a
    second per megabyte of plain JSON values), then ingest it. A document the schema refuses fails the
    scan, its errors as the scan's error: they quote no uploaded value, and what they repeat of its paths
    is masked."""
    from common.bom.importer import import_document  # its schemas and validators: ~25 MB, for uploads only

    try:
        _, result = import_document(document)
        payload = keep_storable_components(storable_text(result))
    except UploadInvalid as refused:
        task.mark_failed(Scan, scan_id, mask_value("", refused.as_scan_error()))
        return
    except SoftTimeLimitExceeded:  # ``failing_past_time_limit``'s
        raise
    except Exception as failure:  # the uploader's document, not the platform, is at fault
        # Named by its type only: an exception's text may quote the value (``int()``'s does), and a scan's
        # error goes to every member and webhook. Raised, it left the scan running for the reconciler to
        # re-send, each attempt failing the same way.
        log.error("ingest %s: converting the upload failed (%s)", scan_id, type(failure).__name__)
        task.mark_failed(Scan, scan_id, CONVERSION_FAILED_ERROR)
        return
    with session_scope() as session:
        scan = locked_unfinished(session, Scan, scan_id)
        if scan is None:
            return  # another delivery ingested it meanwhile
        store_result(session, scan, payload)


def store_result(session: Session, scan: Scan, payload: dict) -> None:
    """The result's components and edges replace the scan's, and the scan completes, in the caller's
    transaction: a second run leaves the same rows."""
    components = {c["id"]: c for c in payload.get("components", [])}
    session.execute(delete(Component).where(Component.scan_id == scan.id))
    session.execute(delete(ScanRelationship).where(ScanRelationship.scan_id == scan.id))
    ranks: list[dict] = []
    bulk_insert(session, Component.__table__, ranked(component_rows(scan, components.values()), ranks))
    bulk_insert(session, ScanRelationship.__table__, edge_rows(scan.id, payload.get("relationships", [])))
    summary = summarize(ranks)
    summary["files_scanned"] = int(payload.get("files_scanned", 0))
    scan.summary = summary
    scan.warnings = stored_warnings(payload.get("warnings") or [])
    scan.files_scanned = summary["files_scanned"]
    scan.discard_inputs(session)
    events.record_job_event(session, jobs.complete(scan, summary=summary))


def warm_up() -> None:
    """Pay at start what a worker process's first ingest pays besides its work: the masking rules compiled,
    the row path run on a sample, the connections to the database (the task's scan lookup compiled), Redis
    and the broker opened, and the result backend of the Celery client (which sends the follow-ups) loaded."""
    compile_rules()
    payload = keep_storable_components(WARM_UP_RESULT)
    ranks: list[dict] = []
    for _row in ranked(
        component_rows(Scan(id=NO_SCAN, organization_id=NO_SCAN), payload["components"]), ranks
    ):
        pass
    summarize(ranks)
    edge_rows(NO_SCAN, payload["relationships"])
    with session_scope() as session:
        session.get(Scan, NO_SCAN, with_for_update=True)
        stored_result(session, NO_SCAN)
    get_redis().ping()
    client = celery_client()
    client.backend  # noqa: B018 - loaded through entry points on first access
    with client.producer_or_acquire() as producer:
        producer.connection.default_channel  # noqa: B018 - connects; the pool keeps the connection


@worker_process_init.connect
def warm_up_ingest_process(**_kwargs) -> None:
    """In each pool process of a worker that consumes the ingest queue, before it takes a task. A failure
    is logged and left to the first ingest, which meets it again and fails or retries as a task does."""
    if queue_for(SCAN_INGEST) not in app.amqp.queues.consume_from:
        return
    try:
        warm_up()
    except Exception:
        log.warning("ingest warm-up failed; the first ingest pays for it", exc_info=True)

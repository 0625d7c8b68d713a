"""``scans.ingest``: store a posted result as components and edges, then complete the scan.

Replacing a scan's rows in one transaction makes a second run of the same
ingestion leave exactly the same rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from psycopg.adapt import Loader
from psycopg.pq import Format
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common import events, fastjson, jobs
from common.db import bulk_insert, session_scope
from common.models import Component, Scan, ScanRelationship, ScanResultPayload
from common.scanner import summarize
from common.scanner.model import split_components
from common.scanner.redaction import clip, mask_value
from common.tasks import SCAN_INGEST
from workers.app import app
from workers.base import PlatformTask


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


def stored_result(session: Session, scan_id: str) -> dict | None:
    """The scan's stored result, decoded. PostgreSQL sends it in binary and it is decoded from the
    driver's buffer: as text a ``bytea`` travels as hex, twice its size, and the bytes would be copied
    once more before decoding, megabytes the worker would hold besides the decoded result."""
    if session.get_bind().dialect.name != "postgresql":
        return session.scalar(select(ScanResultPayload.payload).where(ScanResultPayload.scan_id == scan_id))
    cursor = session.connection().connection.driver_connection.cursor(binary=True)
    cursor.adapters.register_loader("bytea", _JSONFromBuffer)
    with cursor:
        cursor.execute("SELECT payload FROM scan_results WHERE scan_id = %s", (scan_id,))
        row = cursor.fetchone()
    return None if row is None else row[0]


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


@app.task(bind=True, base=PlatformTask, name=SCAN_INGEST)
def ingest_scan(self: PlatformTask, scan_id: str) -> None:
    with session_scope() as session:
        scan = session.get(Scan, scan_id, with_for_update=True)
        if scan is None or jobs.is_finished(scan):
            return
        payload = stored_result(session, scan_id)
        if payload is None:
            return
        storable, rejected = split_components(payload.get("components", []))
        components = {c["id"]: c for c in storable}
        session.execute(delete(Component).where(Component.scan_id == scan_id))
        session.execute(delete(ScanRelationship).where(ScanRelationship.scan_id == scan_id))
        ranks: list[dict] = []
        bulk_insert(session, Component.__table__, ranked(component_rows(scan, components.values()), ranks))
        bulk_insert(session, ScanRelationship.__table__, edge_rows(scan_id, payload.get("relationships", [])))
        summary = summarize(ranks)
        summary["files_scanned"] = int(payload.get("files_scanned", 0))
        scan.summary = summary
        scan.warnings = stored_warnings([*payload.get("warnings", []), *rejected])
        scan.files_scanned = summary["files_scanned"]
        events.record_job_event(session, jobs.complete(scan, summary=summary))

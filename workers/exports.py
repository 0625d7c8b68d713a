"""``exports.render``: render one export of a completed scan and keep the file in the export's row.

The file and the ``completed`` status are written in one transaction, so a completed export always
has its file and a download never recomputes it. A redelivered message re-renders an export left
``running`` (same inputs, same bytes) and returns quietly once it is completed or failed.

An export asked for right after its scan completed would miss the compliance and policy results
the ``compliance`` worker is still writing (JUnit would hold no test cases), so while that
evaluation is pending the task re-sends itself a few times before rendering with what exists.
"""

from __future__ import annotations

import hashlib
import logging

from common import events, jobs, scan_bom
from common.celery_client import enqueue
from common.db import session_scope
from common.exporters import FORMATS, render
from common.jobs import JobStatus
from common.models import Scan
from common.models.exports import Export
from common.tasks import EXPORT_RENDER
from workers.app import app
from workers.base import TRANSIENT_ERRORS, PermanentTaskError, PlatformTask, locked_unfinished

log = logging.getLogger(__name__)

COMPLIANCE_WAITS = 15
COMPLIANCE_WAIT_SECONDS = 2.0


def download_path(export_id: str) -> str:
    return f"/api/v1/exports/{export_id}/download"


def export_filename(scan_id: str, format_name: str) -> str:
    return f"trusera-scan-{scan_id}.{FORMATS[format_name]['extension']}"


def _waits_for_compliance(export_id: str) -> bool:
    """Only a queued export of a completed scan whose evaluation is still to come waits."""
    with session_scope() as session:
        export = session.get(Export, export_id)
        if export is None or export.status != JobStatus.QUEUED:
            return False
        scan = session.get(Scan, export.scan_id)
        return (
            scan is not None
            and scan.status == JobStatus.COMPLETED
            and scan_bom.evaluation_pending(session, scan.id)
        )


def _load(export_id: str) -> tuple[str, dict]:
    with session_scope() as session:
        export = session.get(Export, export_id)
        scan = session.get(Scan, export.scan_id)
        if scan is None or scan.status != JobStatus.COMPLETED:
            status = scan.status if scan is not None else "gone"
            raise PermanentTaskError(f"scan {export.scan_id} is {status}; only a completed scan is exported")
        return export.format, scan_bom.export_bundle(session, scan)


def _store(export_id: str, format_name: str, content: bytes) -> None:
    """Keep the file and complete the export, unless another delivery settled it first. The export's
    organization is held first, in its deletion's order (``hold_organization``)."""
    with session_scope() as session:
        export = locked_unfinished(session, Export, export_id)
        if export is None:
            return
        export.content = content
        export.content_type = FORMATS[format_name]["content_type"]
        export.filename = export_filename(export.scan_id, format_name)
        export.size_bytes = len(content)
        export.sha256 = hashlib.sha256(content).hexdigest()
        completed = jobs.complete(
            export,
            scan_id=export.scan_id,
            format=format_name,
            size_bytes=export.size_bytes,
            sha256=export.sha256,
            download_url=download_path(export.id),
        )
        events.record_job_event(session, completed)


@app.task(bind=True, base=PlatformTask, name=EXPORT_RENDER)
def render_export(self: PlatformTask, export_id: str, waits: int = 0) -> None:
    """Render export ``export_id``; ``waits`` counts the re-sends spent waiting for compliance results."""
    if waits < COMPLIANCE_WAITS:
        try:
            pending = _waits_for_compliance(export_id)
        except TRANSIENT_ERRORS as exc:
            raise self.retry_later(exc) from exc
        if pending:
            try:
                enqueue(EXPORT_RENDER, export_id, waits + 1, countdown=COMPLIANCE_WAIT_SECONDS)
                return
            except Exception as exc:  # no broker to wait through: render with the results that exist
                log.warning("export %s renders without waiting for compliance: %s", export_id, exc)
    with self.job(Export, export_id, finish=False) as job:
        if job is None:
            return
        job.progress(10, "loading")
        format_name, bundle = _load(export_id)
        job.progress(30, "rendering")
        content = render(format_name, bundle)
        job.progress(90, "storing")
        _store(export_id, format_name, content)

"""``scans.run``: walk the target with the scanner engine and hand the result to the API."""

from __future__ import annotations

import multiprocessing
from contextlib import contextmanager

import requests

from common import netguard
from common.config import get_settings
from common.db import session_scope
from common.models import Scan
from common.scanner import scan_path
from common.scanner.model import ScanResult, storable_text
from common.security import decrypt_secret
from common.tasks import SCAN_RUN
from workers.app import app
from workers.base import PermanentTaskError, PlatformTask

RESULT_POST_TIMEOUT_SECONDS = 120


def _scan_n8n(url: str, api_key: str, progress) -> ScanResult:
    """The instance's host is resolved and checked once, and every request goes to that address."""
    from common.scanner.n8n_client import scan_n8n_instance

    try:
        session = netguard.pinned_session(url)
    except netguard.UnsafeDestination as exc:
        raise PermanentTaskError(f"n8n instance refused: {exc}") from exc
    except OSError as exc:
        raise PermanentTaskError(f"n8n instance host does not resolve: {exc}") from exc
    with session:
        return scan_n8n_instance(url, api_key, progress=progress, session=session)


def _merge(results: list[ScanResult]) -> ScanResult:
    merged = ScanResult()
    seen: set[str] = set()
    for result in results:
        for component in result.components:
            if component.id not in seen:
                seen.add(component.id)
                merged.components.append(component)
        merged.relationships += result.relationships
        merged.warnings += result.warnings
        merged.files_scanned += result.files_scanned
        merged.bytes_scanned += result.bytes_scanned
        merged.duration_ms += result.duration_ms
    return merged


@contextmanager
def child_processes_allowed():
    """Let the engine fan out over all cores from a prefork pool process.

    Celery's pool processes are daemonic and multiprocessing refuses children to daemons;
    the engine joins its process pool before returning, so no child outlives the task. The
    pool process is billiard's, and so is its authentication key's type, which the standard
    library cannot pickle for a spawned child: it gets the same key as a standard-library type.
    """
    process = multiprocessing.current_process()
    saved = {key: process._config.get(key) for key in ("daemon", "authkey")}
    process._config["daemon"] = False
    process._config["authkey"] = multiprocessing.process.AuthenticationString(bytes(process.authkey))
    try:
        yield
    finally:
        process._config.update(saved)


def post_result(scan_id: str, payload: dict) -> None:
    """Deliver the result through the internal API, which owns ingestion."""
    settings = get_settings()
    response = requests.post(
        f"{settings.internal_api_url}/internal/scans/{scan_id}/result",
        json=payload,
        headers={"X-Internal-API-Key": settings.internal_api_key},
        timeout=RESULT_POST_TIMEOUT_SECONDS,
    )
    if response.status_code >= 500:
        raise requests.ConnectionError(f"internal API answered {response.status_code}")
    if response.status_code >= 400 and response.status_code != 409:
        raise PermanentTaskError(
            f"internal API rejected the result: {response.status_code} {response.text[:300]}"
        )


@app.task(bind=True, base=PlatformTask, name=SCAN_RUN)
def run_scan(self: PlatformTask, scan_id: str) -> None:
    with self.job(Scan, scan_id, event_prefix="scan", finish=False) as job:
        if job is None:
            return
        with session_scope() as session:
            scan = session.get(Scan, scan_id)
            target, deep = scan.target, scan.deep
            n8n_url = scan.n8n_url
            n8n_key = decrypt_secret(scan.n8n_api_key_encrypted) if scan.n8n_api_key_encrypted else None

        def on_progress(stage: str, done: int, total: int) -> None:
            job.progress(int(90 * done / total) if total else 0, stage, files_scanned=done, files_total=total)

        results = []
        if target:
            with child_processes_allowed():
                budget = get_settings().scan_file_budget_seconds
                results.append(scan_path(target, deep=deep, progress=on_progress, file_budget_seconds=budget))
        if n8n_url and n8n_key:
            results.append(_scan_n8n(n8n_url, n8n_key, on_progress))
        result = _merge(results)
        job.progress(95, "submitting", files_scanned=result.files_scanned)
        post_result(scan_id, storable_text(result.to_dict()))

"""``scans.run``: walk the target with the scanner engine and hand the result to the API.

The scans workers are shared by every organization, and a scan may wait long on a remote its organization
chose (an n8n instance, a git server): an organization runs at most ``SCANS_RUNNING_PER_ORG`` scans at
once (``common.org_slots``, one lease per running scan, renewed by its heartbeat, so a lost worker's lapses)
while another organization has a scan queued or running, and so does each scan's creator across every
organization they belong to (one person admin of many organizations held a turn in each). Further scans
stay ``queued`` and go back on the queue to look again later: no attempt is counted. The cap is
work-conserving: with no scan of another organization and another creator waiting or running, a scan over
it borrows a turn (a lease too), so an install with one organization (or one person's organizations) still
uses every worker; once someone else's scan shows up, the borrowing one cannot start more until it is back
under its cap.
"""

from __future__ import annotations

import os
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from common import fastjson, netguard, schedule_owner
from common.celery_client import enqueue
from common.config import get_settings
from common.db import session_scope
from common.jobs import JobStatus
from common.models import Organization, Scan
from common.models.base import utcnow
from common.models.connectors import RepositoryCredential
from common.org_slots import Share, turn_wait
from common.repositories import (
    CloneLimits,
    RepositoryAuth,
    RepositoryError,
    clone_repository,
    credential_host_problem,
    parse_repository_url,
)
from common.scan_quota import take_a_turn
from common.scanner import scan_path
from common.scanner.engine import TargetMoved
from common.scanner.model import ScanResult, ScanWarning, storable_text
from common.security import decrypt_secret
from common.targets import TargetError, organization_roots, resolve_target
from common.tasks import SCAN_RUN
from workers.app import app
from workers.base import TRANSIENT_ERRORS, PermanentTaskError, PlatformTask

RESULT_POST_TIMEOUT_SECONDS = 120
RUNNING_LEASE_SECONDS = 60  # a lost worker's scan frees its organization's turn this long after its last beat
_internal_api = threading.local()


def _scan_n8n(url: str, api_key: str, progress) -> ScanResult:
    """The instance's host is resolved and checked once, and every request goes to that address."""
    from common.scanner.n8n_client import scan_n8n_instance

    try:
        session = netguard.pinned_session(url)
    except netguard.UnsafeDestination as exc:
        raise PermanentTaskError(f"n8n instance refused: {exc}") from exc
    except OSError as exc:
        raise PermanentTaskError(f"n8n instance host does not resolve: {exc}") from exc
    settings = get_settings()
    with session:
        return scan_n8n_instance(
            url,
            api_key,
            progress=progress,
            session=session,
            file_budget_seconds=settings.scan_file_budget_seconds,
            scan_budget_seconds=settings.scan_budget_seconds,
            deadline_seconds=settings.n8n_scan_deadline_seconds,
            scan_memory_bytes=settings.scan_memory_bytes,
        )


def _confined_target(scan: Scan, session) -> str:
    """The scan's target confined again to its organization's roots, as a schedule's is at each run: the
    API resolved it when the scan was made, but a directory in a root may since have become a link out of
    the roots (another organization's checkout), and the roots may have been narrowed."""
    organization = session.get(Organization, scan.organization_id)
    roots = organization_roots(scan.organization_id, organization.scan_roots if organization else [])
    try:
        return resolve_target(scan.target, roots)
    except TargetError as exc:
        raise PermanentTaskError(str(exc)) from exc


def _repository_auth(scan: Scan, session) -> RepositoryAuth | None:
    if not scan.repository_credential_id:
        return None
    credential = session.get(RepositoryCredential, scan.repository_credential_id)
    if credential is None or credential.organization_id != scan.organization_id:
        raise PermanentTaskError("The scan's repository credential no longer exists.")
    try:  # checked by the API too; here whatever wrote the row (a schedule's run, a row from before)
        problem = credential_host_problem(
            credential.host, credential.kind, parse_repository_url(scan.repository_url)
        )
    except RepositoryError as exc:
        raise PermanentTaskError(str(exc)) from exc
    if problem:
        raise PermanentTaskError(problem)
    return RepositoryAuth(
        kind=credential.kind,
        secret=decrypt_secret(credential.secret_encrypted),
        username=credential.username,
        known_hosts=credential.known_hosts,
    )


def _scan_repository(scan_id: str, url: str, ref: str, auth, deep: bool, job, on_progress) -> ScanResult:
    """Clone shallow into a private temporary directory, record the commit, scan, and delete the clone.

    The URL is checked again here: the allowlist may have changed since the scan was queued.
    """
    settings = get_settings()
    limits = CloneLimits(
        max_bytes=settings.repository_max_bytes,
        max_files=settings.repository_max_files,
        timeout_seconds=settings.repository_clone_timeout_seconds,
    )
    job.progress(2, "cloning")
    with tempfile.TemporaryDirectory(prefix="trusera-repository-") as workdir:
        checkout = Path(workdir) / "checkout"
        checkout.mkdir()
        try:
            clone = clone_repository(parse_repository_url(url), ref, auth, checkout, limits)
        except RepositoryError as exc:
            raise PermanentTaskError(str(exc)) from exc
        with session_scope() as session:
            session.get(Scan, scan_id).commit_sha = clone.commit_sha
        job.progress(10, "scanning", commit_sha=clone.commit_sha, files_total=clone.files)
        result = _scan_tree(str(checkout), deep, on_progress(10, 80))
    result.warnings = [ScanWarning("(repository)", w) for w in clone.warnings] + list(result.warnings)
    return result


def _scan_tree(path: str, deep: bool, progress, confined: bool = False) -> ScanResult:
    """Scan a local tree under the operator's per-file and whole-scan time budgets. A ``confined`` path
    is the real path ``_confined_target`` answered, a while ago (a repository may have been cloned and
    scanned since): the scan is refused if it now resolves elsewhere (a folder swapped for a link to
    another organization's checkout), where checking the roots again would leave the same gap."""
    settings = get_settings()
    try:
        return scan_path(
            path,
            deep=deep,
            progress=progress,
            file_budget_seconds=settings.scan_file_budget_seconds,
            scan_budget_seconds=settings.scan_budget_seconds,
            resolves_to=path if confined else None,
            scan_memory_bytes=settings.scan_memory_bytes,
        )
    except TargetMoved as exc:
        raise PermanentTaskError(str(exc)) from exc


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


def internal_api_session() -> requests.Session:
    """One keep-alive connection to the internal API per worker thread, instead of a new one per scan.

    A connection the API closed while idle is retried once on a fresh one: posting a result twice is
    safe (the stored result is replaced, or the scan is already completed: 409)."""
    if getattr(_internal_api, "pid", None) != os.getpid():
        session = requests.Session()
        retry = Retry(total=1, connect=1, read=1, status=0, other=0, allowed_methods=None)
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        _internal_api.session, _internal_api.pid = session, os.getpid()
    return _internal_api.session


def post_result(scan_id: str, payload: dict) -> None:
    """Deliver the result through the internal API, which owns ingestion."""
    settings = get_settings()
    response = internal_api_session().post(
        f"{settings.internal_api_url}/internal/scans/{scan_id}/result",
        data=fastjson.dumps(payload).encode(),
        headers={"X-Internal-API-Key": settings.internal_api_key, "Content-Type": "application/json"},
        timeout=RESULT_POST_TIMEOUT_SECONDS,
    )
    if response.status_code >= 500:
        raise requests.ConnectionError(f"internal API answered {response.status_code}")
    if response.status_code >= 400 and response.status_code != 409:
        raise PermanentTaskError(
            f"internal API rejected the result: {response.status_code} {response.text[:300]}"
        )


def _wait_for_turn(scan_id: str, share: Share, waits: int) -> float | None:
    """Take the scan's turn to run (``share``), or the seconds after which it looks again: its organization,
    or its creator, already runs ``SCANS_RUNNING_PER_ORG`` scans and someone else's scan waits or runs. A
    waiting scan stays queued and records when it looks again (``next_look_at``), so the reconciler counts
    its message as alive; its re-sends start over."""
    with session_scope() as session:
        scan = session.get(Scan, scan_id, with_for_update=True)
        if scan is None or scan.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return None  # nothing to run: ``job`` says so
        if take_a_turn(session, share, scan.organization_id, scan.created_by, RUNNING_LEASE_SECONDS):
            return None
        wait = turn_wait(waits)
        if scan.status == JobStatus.QUEUED:
            scan.next_look_at = utcnow() + timedelta(seconds=wait)
            scan.resends = 0
        return wait


@app.task(bind=True, base=PlatformTask, name=SCAN_RUN)
def run_scan(self: PlatformTask, scan_id: str, waits: int = 0) -> None:
    """Scan once the organization has a free turn (else look again later, ``waits`` times so far); the
    turn is given back on every way out: the end, a failure, a soft time limit; a killed worker's lapses."""
    share = Share("scans-running", token=scan_id)
    try:
        try:
            wait = _wait_for_turn(scan_id, share, waits)
        except TRANSIENT_ERRORS as exc:
            raise self.retry_later(exc) from exc
        if wait is not None:
            enqueue(SCAN_RUN, scan_id, waits + 1, countdown=wait)
            return
        _run(self, scan_id, share)
    finally:
        share.release()


def _run(self: PlatformTask, scan_id: str, share: Share) -> None:
    with self.job(Scan, scan_id, finish=False) as job:
        if job is None:
            return
        job.on_beat = lambda: share.renew(RUNNING_LEASE_SECONDS)
        with session_scope() as session:
            scan = session.get(Scan, scan_id)
            gone = schedule_owner.queued_run_problem(session, scan)
            if gone:  # queued by a schedule before its creator left: nothing runs in their name
                raise PermanentTaskError(gone)
            target, deep = _confined_target(scan, session) if scan.target else None, scan.deep
            n8n_url = scan.n8n_url
            n8n_key = decrypt_secret(scan.n8n_api_key_encrypted) if scan.n8n_api_key_encrypted else None
            repository = (scan.repository_url, scan.repository_ref or "HEAD") if scan.repository_url else None
            repository_auth = _repository_auth(scan, session) if repository else None

        def on_progress(start: int, span: int):
            def report(stage: str, done: int, total: int) -> None:
                share = int(span * done / total) if total else 0
                job.progress(start + share, stage, files_scanned=done, files_total=total)

            return report

        results = []
        if repository:
            results.append(_scan_repository(scan_id, *repository, repository_auth, deep, job, on_progress))
        if target:
            results.append(_scan_tree(target, deep, on_progress(0, 90), confined=True))
        if n8n_url and n8n_key:
            results.append(_scan_n8n(n8n_url, n8n_key, on_progress(0, 90)))
        result = _merge(results)
        job.progress(95, "submitting", files_scanned=result.files_scanned)
        post_result(scan_id, storable_text(result.to_dict()))

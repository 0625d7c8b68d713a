"""Scan a live n8n instance through its public API (``GET /api/v1/workflows`` with ``X-N8N-API-KEY``).

Every workflow goes through the same analysis as an exported workflow file
(``detectors.n8n.analyze_workflow``); findings are located at ``n8n://<host>/workflows/<id>`` (line 0,
the snippet names the node) and merged, flagged and scored like a file scan.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import msgspec
import requests

from common.netguard import EXCHANGE_SECONDS_PER_TIMEOUT as EXCHANGE_READS
from common.netguard import MAX_RESPONSE_BYTES
from common.scanner.detectors.base import FileReport, Finding
from common.scanner.detectors.n8n import analyze_workflow
from common.scanner.engine import build_result
from common.scanner.model import ScanResult, ScanWarning
from common.scanner.worker import (
    DEFAULT_FILE_BUDGET_SECONDS,
    DEFAULT_SCAN_BUDGET_SECONDS,
    DEFAULT_SCAN_MEMORY_BYTES,
    MEMORY_WARNING,
    FileBudgetExceeded,
    ScanBudget,
    cpu_budget,
    memory_cap,
)

Progress = Callable[[str, int, int], None]

PAGE_SIZE = 100
MAX_PAGES = 10_000
# n8n's cursors are short base64 tokens; a hostile instance could send megabytes per page, each kept to
# detect a loop and sent back in the next URL
MAX_CURSOR_CHARS = 1024
READ_CHUNK_BYTES = 64 * 1024
MIN_READ_SECONDS = 0.05  # the last request before the deadline still gets a chance to answer


class N8nError(RuntimeError):
    """The instance could not be scanned; the message is safe to show (it never contains the key).

    A RuntimeError, so that the CLI (which imports this module only when asked to scan n8n) reports it
    as one line like any other failed scan."""


class N8nUnauthorized(N8nError):
    """The instance refused the API key (401/403)."""


class N8nUnreachable(N8nError):
    """No answer from the instance: DNS, connection refused, TLS or timeout."""


class _BudgetSpent(Exception):
    """The whole-scan budget ran out before the next request to the instance."""


class N8nTooSlow(N8nError):
    """The instance's scan outlasted its deadline (``deadline_seconds``)."""


@dataclass(frozen=True)
class _Deadline:
    """The end of the whole scan: each request gets at most what is left of it."""

    at: float | None
    seconds: float | None

    @classmethod
    def after(cls, seconds: float | None) -> _Deadline:
        return cls(None if seconds is None else time.monotonic() + seconds, seconds)

    def timeout(self, timeout: float) -> float:
        """The per-read timeout of the next request: an exchange may last ``EXCHANGE_READS`` times it
        (``netguard``), so it ends by the deadline. Past the deadline: ``N8nTooSlow``."""
        left = self.check()
        return timeout if left is None else min(timeout, max(left / EXCHANGE_READS, MIN_READ_SECONDS))

    def check(self) -> float | None:
        """Seconds left, None without a deadline; past it: ``N8nTooSlow``."""
        if self.at is None:
            return None
        left = self.at - time.monotonic()
        if left <= 0:
            raise self.exceeded()
        return left

    def exceeded(self) -> N8nTooSlow:
        return N8nTooSlow(
            f"the n8n instance's scan took longer than its deadline of {self.seconds:g} s "
            "(N8N_SCAN_DEADLINE_SECONDS); it was stopped"
        )


NO_DEADLINE = _Deadline(None, None)


def _get(
    session: requests.Session,
    url: str,
    api_key: str,
    params: dict,
    timeout: float,
    deadline: _Deadline = NO_DEADLINE,
) -> requests.Response:
    bounded = deadline.timeout(timeout)
    try:
        response = session.get(
            url,
            params=params,
            headers={"X-N8N-API-KEY": api_key, "Accept": "application/json"},
            timeout=bounded,
            # requests keeps a custom header across hosts: a sign-in proxy's 302 would carry the key away
            allow_redirects=False,
            stream=True,
        )
        response._content = _read_bounded(response)
    except requests.RequestException as exc:
        if bounded < timeout:  # a request cut short to end by the deadline is the deadline's failure
            raise deadline.exceeded() from exc
        raise N8nUnreachable(f"n8n instance unreachable: {type(exc).__name__}") from exc
    if response.status_code in (401, 403):
        raise N8nUnauthorized(f"n8n refused the API key (HTTP {response.status_code})")
    if response.status_code != 200:
        raise N8nError(f"n8n answered HTTP {response.status_code} for {urlsplit(url).path}")
    return response


def _read_bounded(response: requests.Response) -> bytes:
    """The decoded body, refused past MAX_RESPONSE_BYTES: the CLI's plain session would otherwise hold
    whatever a hostile instance sends (or a small gzip that inflates to gigabytes) in memory. The
    platform's guarded session has read it already within the same limit; this then just replays it."""
    body = bytearray()
    try:
        for chunk in response.iter_content(READ_CHUNK_BYTES):
            body += chunk
            if len(body) > MAX_RESPONSE_BYTES:
                raise N8nError(f"n8n answered with more than the limit of {MAX_RESPONSE_BYTES} bytes")
    finally:
        response.close()
    return bytes(body)


def _json(response: requests.Response) -> dict:
    """The answer's JSON object. Nesting past the parser's recursion is the instance's fault too: left a
    ``RecursionError``, the API's handler took it for the member's own request body (a 400)."""
    try:
        body = response.json()
    except ValueError as exc:
        raise N8nError("n8n answered with something that is not JSON") from exc
    except RecursionError as exc:
        raise N8nError("n8n answered with JSON nested too deeply") from exc
    if not isinstance(body, dict):
        raise N8nError("n8n answered with an unexpected JSON shape")
    return body


def iter_workflows(
    base_url: str,
    api_key: str,
    *,
    session: requests.Session,
    timeout: float,
    on_page: Callable[[int], None] | None = None,
    spent: Callable[[], bool] = lambda: False,
    deadline: _Deadline = NO_DEADLINE,
) -> Iterator[tuple[dict, int]]:
    """(workflow, response bytes) for every workflow, following ``nextCursor`` until it is empty.

    ``spent`` is asked before every request (raising ``_BudgetSpent`` when true): a page may yield no
    workflow at all (empty, or only entries that are not objects), so a check per workflow alone let a
    hostile instance send empty pages with fresh cursors, each slowly, for ``MAX_PAGES`` requests."""
    endpoint = f"{base_url.rstrip('/')}/api/v1/workflows"
    cursor: str | None = None
    seen_cursors: set[str] = set()
    fetched = 0
    for _ in range(MAX_PAGES):
        if spent():
            raise _BudgetSpent
        params = {"limit": PAGE_SIZE, **({"cursor": cursor} if cursor else {})}
        response = _get(session, endpoint, api_key, params, timeout, deadline)
        body = _json(response)
        page = body.get("data")
        if not isinstance(page, list):
            raise N8nError("n8n workflow list has no 'data' array")
        share = len(response.content) // max(len(page), 1)
        for workflow in page:
            if not isinstance(workflow, dict):
                continue
            if not isinstance(workflow.get("nodes"), list) and workflow.get("id") is not None:
                if spent():
                    raise _BudgetSpent
                detail = _get(session, f"{endpoint}/{workflow['id']}", api_key, {}, timeout, deadline)
                workflow = _json(detail)
                share = len(detail.content)
            yield workflow, share
        fetched += len(page)
        if on_page:
            on_page(fetched)
        cursor = body.get("nextCursor")
        if not cursor or cursor in seen_cursors:
            return
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS:
            raise N8nError("n8n answered with an implausible page cursor")
        seen_cursors.add(cursor)
    raise N8nError(f"n8n kept returning pages after {MAX_PAGES} requests")


def scan_n8n_instance(
    url: str,
    api_key: str,
    *,
    progress: Progress | None = None,
    timeout: float = 10,
    session: requests.Session | None = None,
    file_budget_seconds: float = DEFAULT_FILE_BUDGET_SECONDS,
    scan_budget_seconds: float | None = DEFAULT_SCAN_BUDGET_SECONDS,
    deadline_seconds: float | None = None,
    scan_memory_bytes: int | None = DEFAULT_SCAN_MEMORY_BYTES,
) -> ScanResult:
    """Every AI component in the instance's workflows; raises N8nUnauthorized / N8nUnreachable / N8nError.

    The instance is as untrusted as a repository, so the same budgets hold: each workflow gets the per-file
    CPU budget, and past the whole-scan budget (time, or findings) the scan ends with what it found and
    says so, instead of following an endless run of pages. Past ``deadline_seconds`` (every request
    included: an instance answering each page just inside the timeout) the scan fails: ``N8nTooSlow``.
    The scan runs in the caller's process, which may grow by ``scan_memory_bytes`` (``memory_cap``): a
    workflow whose analysis needs more is a warning, a page whose JSON needs more fails the scan.
    """
    started = time.monotonic()
    budget = ScanBudget.starting_at(started, scan_budget_seconds)
    stopped_early = False
    own_session = session is None
    session = session or requests.Session()
    host = urlsplit(url).netloc or url
    findings: list[Finding] = []
    warnings: list[ScanWarning] = []
    workflows = 0
    received = 0
    if progress:
        progress("fetching n8n workflows", 0, 0)
    try:
        with memory_cap(scan_memory_bytes):
            pages = iter_workflows(
                url,
                api_key,
                session=session,
                timeout=timeout,
                on_page=(lambda n: progress("fetching n8n workflows", n, 0)) if progress else None,
                spent=budget.over,
                deadline=_Deadline.after(deadline_seconds),
            )
            for workflow, size in pages:
                if budget.over():
                    stopped_early = True
                    break
                workflows += 1
                received += size
                location = f"n8n://{host}/workflows/{workflow.get('id', workflows)}"
                report = budget.admit(_analysed(workflow, location, file_budget_seconds))
                findings.extend(report.findings)
                warnings.extend(ScanWarning(file=location, message=m) for m in report.warnings)
                if progress:
                    progress("analysing n8n workflows", workflows, 0)
    except _BudgetSpent:
        stopped_early = True
    except MemoryError as exc:  # a page's JSON: what it leaves out cannot be told from what it holds
        raise N8nError("n8n answered with more than the scan's memory limit holds") from exc
    finally:
        if own_session:
            session.close()
    if stopped_early:
        warnings.append(
            ScanWarning(
                file=f"n8n://{host}",
                message=f"stopped: over the {budget.seconds:g} s time budget for the whole scan; "
                f"workflows after the first {workflows} were not scanned",
            )
        )
    warnings.extend(ScanWarning(file=f"n8n://{host}", message=m) for m in budget.warnings(workflows))
    if progress:
        progress("analysing n8n workflows", workflows, workflows)
    return build_result(
        findings, {}, warnings=warnings, files_scanned=workflows, bytes_scanned=received, started=started
    )


def _analysed(workflow: dict, location: str, budget_seconds: float) -> FileReport:
    report = FileReport()
    try:
        with cpu_budget(budget_seconds):
            report.findings, report.warnings = analyze_workflow(workflow, location)
    except FileBudgetExceeded:
        report.findings = []
        report.warnings = [f"over the {budget_seconds:g} s CPU budget for one workflow: not analysed"]
    except MemoryError:
        report.findings, report.warnings = [], [MEMORY_WARNING]
    return report


class _AnyObject(msgspec.Struct):
    """A JSON object whose members are skipped, never built."""


def _require_json_object(content: bytes) -> None:
    """The connection test's answer is a JSON object, checked without building it: the API runs the test,
    and a hostile instance's 32 MiB of ``[]`` decoded into 770 MB of the API process."""
    try:
        msgspec.json.decode(content, type=_AnyObject)
    except msgspec.ValidationError as exc:
        raise N8nError("n8n answered with an unexpected JSON shape") from exc
    except msgspec.DecodeError as exc:
        raise N8nError("n8n answered with something that is not JSON") from exc
    except RecursionError as exc:
        raise N8nError("n8n answered with JSON nested too deeply") from exc


def check_n8n_connection(
    url: str, api_key: str, *, timeout: float = 10, session: requests.Session | None = None
) -> tuple[str, str]:
    """("reachable" | "unauthorized" | "unreachable", detail) for the connector test endpoint."""
    own_session = session is None
    session = session or requests.Session()
    try:
        _require_json_object(
            _get(session, f"{url.rstrip('/')}/api/v1/workflows", api_key, {"limit": 1}, timeout).content
        )
        return "reachable", "the API key can list workflows"
    except N8nUnauthorized as exc:
        return "unauthorized", str(exc)
    except N8nError as exc:
        return "unreachable", str(exc)
    finally:
        if own_session:
            session.close()

"""``trusera scan --upload``: send the local result to the platform, and optionally wait for its verdict.

The upload is ``POST /api/v1/scans/import`` with the CLI's JSON result and an ``Idempotency-Key``
(retried with the same key, so a retry never makes a second scan). With ``--wait`` the CLI follows
the scan to ``completed``, then the organization's policy evaluation, and exits 1 when a ``block``
policy failed there: the platform's policies gate the CI job, not only the local policy files.

Source metadata (repository, commit, branch, CI run) comes from the flags or, when absent, from the
CI's own environment (GitHub Actions, GitLab CI).
"""

from __future__ import annotations

import os
import time
import uuid
from urllib.parse import urljoin

import requests

from common.jobs import TERMINAL_STATUSES, JobStatus
from common.scanner.display import terminal_text

REQUEST_TIMEOUT_SECONDS = 60
UPLOAD_ATTEMPTS = 3
POLL_INTERVAL_SECONDS = 1.0


class UploadFailed(Exception):
    """The platform could not be reached or refused the upload; the message says which."""


def ci_metadata(environ: dict[str, str]) -> dict[str, str]:
    """What the CI's environment says about the checkout and the run."""
    if environ.get("GITHUB_ACTIONS") == "true":
        server, repository = (
            environ.get("GITHUB_SERVER_URL", "https://github.com"),
            environ.get("GITHUB_REPOSITORY"),
        )
        run = environ.get("GITHUB_RUN_ID")
        return _present(
            repository_url=f"{server}/{repository}" if repository else None,
            commit=environ.get("GITHUB_SHA"),
            branch=environ.get("GITHUB_HEAD_REF") or environ.get("GITHUB_REF_NAME"),
            ci_run_url=f"{server}/{repository}/actions/runs/{run}" if repository and run else None,
        )
    if environ.get("GITLAB_CI") == "true":
        return _present(
            repository_url=environ.get("CI_PROJECT_URL"),
            commit=environ.get("CI_COMMIT_SHA"),
            branch=environ.get("CI_COMMIT_REF_NAME"),
            ci_run_url=environ.get("CI_JOB_URL"),
        )
    return {}


def _present(**values) -> dict[str, str]:
    return {key: value for key, value in values.items() if value}


def source_metadata(args, environ: dict[str, str]) -> dict[str, str]:
    given = _present(
        repository_url=args.repository_url, commit=args.commit, branch=args.branch, ci_run_url=args.ci_run_url
    )
    return {**ci_metadata(environ), **given}


class Platform:
    def __init__(self, base_url: str, api_key: str, org: str | None):
        self.base_url = base_url.rstrip("/") + "/"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"
        if org:
            self.session.headers["X-Organization-Id"] = org

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path.lstrip("/"))

    def get(self, path: str, **params) -> dict:
        response = self._send("GET", self.url(path), params=params)
        if response.status_code != 200:
            raise UploadFailed(_problem(response))
        return response.json()

    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            return self.session.request(
                method, url, timeout=REQUEST_TIMEOUT_SECONDS, allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            raise UploadFailed(f"{url}: {type(exc).__name__}") from exc

    def upload(self, result: dict, metadata: dict[str, str]) -> tuple[dict, str]:
        """The queued scan and its URL; transient failures are retried with the same idempotency key."""
        headers = {"Idempotency-Key": f"cli-{uuid.uuid4()}"}
        url = self.url("/api/v1/scans/import")
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            try:
                response = self.session.post(
                    url,
                    json=result,
                    params=metadata,
                    headers=headers,
                    timeout=REQUEST_TIMEOUT_SECONDS,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                if attempt == UPLOAD_ATTEMPTS:
                    raise UploadFailed(f"{url}: {type(exc).__name__}") from exc
            else:
                if response.status_code == 202:
                    return response.json(), urljoin(url, response.headers.get("Location", ""))
                if response.status_code < 500 or attempt == UPLOAD_ATTEMPTS:
                    raise UploadFailed(_problem(response))
            time.sleep(2**attempt)
        raise UploadFailed(url)


def _problem(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("message") or body.get("status") or ""
    errors = body.get("errors")
    return f"HTTP {response.status_code}: {detail}" + (f" {errors}" if errors else "")


def upload_and_wait(args, result: dict, stream) -> int:
    """Upload, print the scan's URL; with ``--wait``, 1 when a block policy of the platform failed."""
    platform = Platform(args.upload, args.api_key, args.org)
    scan, scan_url = platform.upload(result, source_metadata(args, dict(os.environ)))
    print(f"uploaded: {terminal_text(scan_url)}", file=stream)
    if not args.wait:
        return 0
    deadline = time.monotonic() + args.wait_timeout
    scan = _poll(lambda: _finished_scan(platform, scan["id"]), deadline, "the scan to complete")
    if scan["status"] != JobStatus.COMPLETED:
        raise UploadFailed(f"the platform failed the scan: {scan.get('error')}")
    _poll(lambda: _finished_evaluation(platform, scan["id"]), deadline, "the policy evaluation")
    failed = platform.get(
        f"/api/v1/scans/{scan['id']}/evaluations", action="block", passed="false", per_page=100
    )
    for evaluation in failed["items"]:
        count = evaluation["violation_count"]
        name = terminal_text(evaluation["name"])
        print(f"platform policy {name!r} [block]: FAILED ({terminal_text(count)} violations)", file=stream)
    return 1 if failed["total"] else 0


def _finished_scan(platform: Platform, scan_id: str) -> dict | None:
    scan = platform.get(f"/api/v1/scans/{scan_id}")
    return scan if scan["status"] in TERMINAL_STATUSES else None


def _finished_evaluation(platform: Platform, scan_id: str) -> dict | None:
    runs = platform.get("/api/v1/compliance/evaluations", scan_id=scan_id)["items"]
    return next((run for run in runs if run["status"] in TERMINAL_STATUSES), None)


def _poll(check, deadline: float, what: str):
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(POLL_INTERVAL_SECONDS)
    raise UploadFailed(f"timed out waiting for {what}")

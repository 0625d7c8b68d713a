"""``trusera`` command line: scan a directory (and/or an n8n instance) with no services running.

Exit codes: 0 clean, 1 a component reached ``--fail-on`` or a ``block`` policy of ``--policy``
failed, 2 error. Policies are the platform's own language, evaluated by the same code, so CI and
the platform give the same answer. ``--baseline FILE`` reports and gates only on what is new or
changed since an earlier report, and ``trusera:ignore <reason>`` comments silence single findings
(counted in the report, never dropped silently). Output
formats are a registry: ``table`` and ``json`` are built in, followed by the
seven export formats of ``common.exporters`` (the same files the API exports).

A scan's start-up is part of every CI run, so what only some options need (the exporters, the
policy engine, the baseline comparison and the database models they pull in) is imported by
the option that needs it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from common import fastjson
from common.job_status import JobStatus
from common.scanner import scan_path, summarize
from common.scanner.detectors.base import READ_HARD_LINKS
from common.scanner.display import terminal_text
from common.scanner.model import SEVERITIES, Component, ScanResult
from common.scanner.worker import DEFAULT_FILE_BUDGET_SECONDS, DEFAULT_SCAN_BUDGET_SECONDS
from common.suppressions import MARKER, Suppressor
from common.version import tool

Renderer = Callable[[dict, ScanResult], bytes]


def render_json(bundle: dict, result: ScanResult) -> bytes:
    payload = {**result.to_dict(), "summary": bundle["scan"]["summary"], "tool": tool()}
    if bundle["policies"] is not None:
        payload["policies"] = bundle["policies"]
    if bundle.get("suppressions"):
        payload["suppressions"] = bundle["suppressions"]
    return fastjson.dumps_indented(payload) + b"\n"


def render_table(bundle: dict, result: ScanResult) -> bytes:
    rows = [("SEVERITY", "SCORE", "TYPE", "NAME", "VERSION", "SCOPE", "FLAGS", "WHERE")]
    ordered = sorted(result.components, key=lambda c: (-c.risk_score, c.type, c.name))
    for component in ordered:
        where = ""
        if component.locations:
            first = component.locations[0]
            extra = len(component.locations) - 1
            where = f"{first.file}:{first.line}" + (f" (+{extra})" if extra else "")
        cells = (
            component.severity,
            str(component.risk_score),
            component.type,
            component.name[:48],
            (component.version or "")[:16],
            component.scope,
            ",".join(component.flags)[:60],
            where,
        )
        rows.append(tuple(terminal_text(cell) for cell in cells))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    summary = bundle["scan"]["summary"]
    by_severity = ", ".join(f"{k}: {v}" for k, v in summary["by_severity"].items()) or "none"
    lines.append("")
    lines.append(
        f"{summary['total_components']} components ({by_severity}); "
        f"highest risk {summary['highest_risk_score']}; {summary['files_scanned']} files "
        f"in {result.duration_ms} ms; {len(result.warnings)} warnings"
    )
    lines.extend(triage_lines(summary))
    return ("\n".join(lines) + "\n").encode("utf-8")


BUILTIN_RENDERERS: dict[str, Renderer] = {"table": render_table, "json": render_json}


def available_formats() -> list[str]:
    from common import exporters

    return [*BUILTIN_RENDERERS, *(f for f in exporters.FORMATS if f not in BUILTIN_RENDERERS)]


def build_bundle(target: str, deep: bool, result: ScanResult, started: datetime, finished: datetime) -> dict:
    return {
        "scan": {
            "id": None,
            "organization_id": None,
            "target": target,
            "status": JobStatus.COMPLETED.value,
            "deep": deep,
            "created_at": started.isoformat(),
            "started_at": started.isoformat(),
            "finished_at": finished.isoformat(),
            "summary": summarize(result),
        },
        "components": [c.to_dict() for c in result.components],
        "relationships": [r.to_dict() for r in result.relationships],
        "compliance": None,
        "policies": None,
        "tool": tool(),
    }


def render(format_name: str, bundle: dict, result: ScanResult) -> bytes:
    if format_name in BUILTIN_RENDERERS:
        return BUILTIN_RENDERERS[format_name](bundle, result)
    from common import exporters

    if format_name not in exporters.FORMATS:
        raise ValueError(f"unknown format {format_name!r}; available: {', '.join(available_formats())}")
    return exporters.render(format_name, bundle)


class ProgressBar:
    """A throttled one-line progress bar on stderr (silent when stderr is not a terminal)."""

    def __init__(self, stream, enabled: bool):
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self.last = 0.0
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or (stage == self.stage and now - self.last < 0.1 and done != total):
            return
        self.stage, self.last = stage, now
        if total:
            filled = int(30 * done / total)
            bar = "#" * filled + "-" * (30 - filled)
            line = f"\r{stage:<10} [{bar}] {done}/{total}"
        else:
            line = f"\r{stage:<10} {done} files"
        self.stream.write(line.ljust(70))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()


def merge_results(first: ScanResult, second: ScanResult) -> ScanResult:
    """Combine a path scan and an n8n scan; a component present in both keeps one entry."""
    components: dict[str, Component] = {c.id: c for c in first.components}
    for component in second.components:
        existing = components.get(component.id)
        if existing is None:
            components[component.id] = component
            continue
        existing.locations.extend(loc for loc in component.locations if loc not in existing.locations)
        existing.flags = sorted(set(existing.flags) | set(component.flags))
        if component.risk_score > existing.risk_score:
            existing.risk_score, existing.severity = component.risk_score, component.severity
            existing.risk_factors = component.risk_factors
    return ScanResult(
        components=sorted(components.values(), key=lambda c: (c.type, c.name)),
        relationships=sorted(
            set(first.relationships) | set(second.relationships),
            key=lambda r: (r.source, r.target, r.relation),
        ),
        warnings=[*first.warnings, *second.warnings],
        files_scanned=first.files_scanned + second.files_scanned,
        bytes_scanned=first.bytes_scanned + second.bytes_scanned,
        duration_ms=first.duration_ms + second.duration_ms,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trusera", description="AI Bill of Materials scanner")
    commands = parser.add_subparsers(dest="command", required=True)
    scan = commands.add_parser("scan", help="scan a directory for AI components")
    scan.add_argument("path", nargs="?", help="directory or file to scan")
    scan.add_argument("--deep", action="store_true", help="cross-file resolution (slower, finds more)")
    scan.add_argument("--format", default="table", help="output format: " + ", ".join(available_formats()))
    scan.add_argument("-o", "--output", help="write the report to this file instead of stdout")
    scan.add_argument(
        "--fail-on", choices=SEVERITIES, help="exit 1 when a component has this severity or worse"
    )
    scan.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="FILE",
        help="YAML/JSON policy file (repeatable): exit 1 when a 'block' policy fails",
    )
    scan.add_argument("--n8n-url", help="also scan a live n8n instance")
    scan.add_argument("--n8n-api-key", help="API key for --n8n-url (X-N8N-API-KEY)")
    scan.add_argument(
        "--jobs", type=int, default=None, help="worker processes (default: all cores; 1 = in-process)"
    )
    scan.add_argument(
        "--file-budget",
        type=float,
        default=DEFAULT_FILE_BUDGET_SECONDS,
        metavar="SECONDS",
        help="CPU seconds one file may use; a slower file is stopped with a warning (default %(default)g)",
    )
    scan.add_argument(
        "--scan-budget",
        type=float,
        default=DEFAULT_SCAN_BUDGET_SECONDS,
        metavar="SECONDS",
        help="wall-clock seconds the whole scan may take; files not started by then are left out with a "
        "warning (default %(default)g)",
    )
    scan.add_argument("--quiet", action="store_true", help="no progress bar")
    upload = scan.add_argument_group("upload to the platform (CI)")
    upload.add_argument("--upload", metavar="URL", help="platform base URL: upload the result as a scan")
    upload.add_argument("--api-key", help="API key for --upload (default: $TRUSERA_API_KEY)")
    upload.add_argument("--org", help="organization id to upload into (default: the key's)")
    upload.add_argument(
        "--wait",
        action="store_true",
        help="wait for the platform's policies; exit 1 when a block policy failed",
    )
    upload.add_argument("--wait-timeout", type=float, default=600, help="seconds --wait waits (default 600)")
    upload.add_argument("--repository-url", help="source repository recorded on the scan (default: from CI)")
    upload.add_argument("--commit", help="commit id recorded on the scan (default: from CI)")
    upload.add_argument("--branch", help="branch recorded on the scan (default: from CI)")
    upload.add_argument("--ci-run-url", help="CI run recorded on the scan (default: from CI)")
    _add_triage_arguments(scan)
    return parser


def _add_triage_arguments(scan: argparse.ArgumentParser) -> None:
    """The CI adoption options: a baseline to judge only what changed, and one to write."""
    scan.add_argument(
        "--baseline",
        metavar="FILE",
        help="a previous JSON report: report and gate only on components new or changed since it",
    )
    scan.add_argument(
        "--write-baseline",
        metavar="FILE",
        help="write this scan (after inline suppressions) as a baseline JSON file",
    )


def triage(
    args: argparse.Namespace,
    result: ScanResult,
    suppressor: Suppressor | None,
    baseline: list[dict] | None,
    bundle_for: Callable[[ScanResult], dict],
) -> dict:
    """Apply inline suppressions and the baseline to ``result`` (in place); the bundle of what remains.

    Suppressed findings are listed in ``bundle["suppressions"]`` and counted in the summary; with
    ``--baseline`` the summary says how many components were unchanged and left out.
    """
    suppressions = suppressor.suppressed if suppressor else []
    if suppressor:
        result.warnings.extend(suppressor.warnings())
    if args.write_baseline:
        Path(args.write_baseline).write_bytes(render_json(bundle_for(result), result))
    baseline_summary = None
    if baseline is not None:
        from common.baseline import new_since

        current = [c.to_dict() for c in result.components]
        new_ids, baseline_summary = new_since(baseline, current)
        result.components = [c for c in result.components if c.id in new_ids]
        known = {c["id"] for c in current} - new_ids
        result.relationships = [
            r for r in result.relationships if r.source not in known and r.target not in known
        ]
    bundle = bundle_for(result)
    bundle["suppressions"] = [s.to_dict() for s in suppressions]
    bundle["scan"]["summary"]["suppressed"] = len(suppressions)
    if baseline_summary is not None:
        from common.baseline import BASELINE_FIELD

        bundle["scan"]["summary"]["baseline"] = {
            "file": args.baseline,
            **{k: baseline_summary[k] for k in ("added", "changed", "unchanged", "removed")},
        }
        for component in bundle["components"]:
            component[BASELINE_FIELD] = True
    return bundle


def triage_lines(summary: dict) -> list[str]:
    """The table's account of what was silenced or set aside, so nothing is dropped silently."""
    lines = []
    if summary.get("suppressed"):
        lines.append(
            f"{summary['suppressed']} findings suppressed inline (trusera:ignore); see --format json"
        )
    baseline = summary.get("baseline")
    if baseline:
        lines.append(
            f"baseline {baseline['file']}: {baseline['added']} new, {baseline['changed']} changed, "
            f"{baseline['unchanged']} unchanged (not reported), {baseline['removed']} removed"
        )
    return lines


def _run_scan(args: argparse.Namespace) -> int:
    if not args.path and not args.n8n_url:
        print("trusera: error: give a PATH, --n8n-url, or both", file=sys.stderr)
        return 2
    if args.n8n_url and not args.n8n_api_key:
        print("trusera: error: --n8n-url needs --n8n-api-key", file=sys.stderr)
        return 2
    if args.format not in available_formats():
        known = ", ".join(available_formats())
        print(f"trusera: error: unknown format {args.format!r}; available: {known}", file=sys.stderr)
        return 2
    if args.file_budget <= 0:
        print("trusera: error: --file-budget must be positive", file=sys.stderr)
        return 2
    if args.scan_budget <= 0:
        print("trusera: error: --scan-budget must be positive", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print("trusera: error: --jobs must be at least 1", file=sys.stderr)
        return 2
    policies = []
    if args.policy:
        from common.compliance import PolicyFileError, load_policy_file

        try:
            policies = [policy for path in args.policy for policy in load_policy_file(path)]
        except PolicyFileError as exc:
            print(f"trusera: error: {terminal_text(exc)}", file=sys.stderr)
            return 2
    if args.upload:
        args.api_key = args.api_key or os.environ.get("TRUSERA_API_KEY")
        if not args.api_key:
            print("trusera: error: --upload needs --api-key or TRUSERA_API_KEY", file=sys.stderr)
            return 2
        if not args.upload.startswith(("https://", "http://")):
            print("trusera: error: --upload takes the platform's http(s) base URL", file=sys.stderr)
            return 2
    baseline = None
    if args.baseline:
        from common.baseline import BaselineError, load_baseline_file

        try:
            baseline = load_baseline_file(args.baseline)
        except BaselineError as exc:
            print(f"trusera: error: {terminal_text(exc)}", file=sys.stderr)
            return 2
    progress = ProgressBar(sys.stderr, enabled=not args.quiet)
    suppressor = Suppressor(args.path) if args.path else None
    started = datetime.now(UTC)
    try:
        result = ScanResult()
        if args.path:
            result = scan_path(
                args.path,
                deep=args.deep,
                jobs=args.jobs,
                progress=progress,
                file_budget_seconds=args.file_budget,
                scan_budget_seconds=args.scan_budget,
                finding_filter=suppressor,
            )
        if args.n8n_url:
            from common.scanner.n8n_client import scan_n8n_instance

            n8n_result = scan_n8n_instance(
                args.n8n_url,
                args.n8n_api_key,
                progress=progress,
                file_budget_seconds=args.file_budget,
                scan_budget_seconds=args.scan_budget,
            )
            result = merge_results(result, n8n_result) if args.path else n8n_result
    except (OSError, ValueError, RuntimeError) as exc:  # n8n_client.N8nError is a RuntimeError
        progress.close()
        print(f"trusera: error: {terminal_text(exc)}", file=sys.stderr)
        return 2
    finally:
        progress.close()
    target = args.path or args.n8n_url
    finished = datetime.now(UTC)
    try:
        bundle = triage(
            args,
            result,
            suppressor,
            baseline,
            lambda r: build_bundle(target, args.deep, r, started, finished),
        )
    except OSError as exc:
        print(f"trusera: error: {terminal_text(exc)}", file=sys.stderr)
        return 2
    for warning in result.warnings:
        if MARKER in warning.message:
            where, what = terminal_text(warning.file), terminal_text(warning.message)
            print(f"trusera: warning: {where}: {what}", file=sys.stderr)
    policy_exit = 0
    if policies:
        from common.compliance import gate

        policy_exit, bundle["policies"] = gate(policies, bundle["components"], bundle["scan"]["summary"])
        report_policies(bundle["policies"], sys.stderr)
    try:
        output = render(args.format, bundle, result)
        if args.output:
            Path(args.output).write_bytes(output)
        else:
            sys.stdout.buffer.write(output)
            sys.stdout.flush()
    except (OSError, ValueError) as exc:
        print(f"trusera: error: {terminal_text(exc)}", file=sys.stderr)
        return 2
    upload_exit = 0
    if args.upload:
        from common.cli_upload import UploadFailed, upload_and_wait

        try:
            upload_exit = upload_and_wait(args, json.loads(render_json(bundle, result)), sys.stderr)
        except UploadFailed as exc:
            print(f"trusera: error: upload failed: {terminal_text(exc)}", file=sys.stderr)
            return 2
    if args.fail_on:
        threshold = SEVERITIES.index(args.fail_on)
        if any(SEVERITIES.index(c.severity) >= threshold for c in result.components):
            return 1
    return max(policy_exit, upload_exit)


def report_policies(evaluations: list[dict], stream) -> None:
    """One line per policy on stderr, so a CI log says why the gate closed."""
    for evaluation in evaluations:
        violations = evaluation["violations"]
        verdict = "passed" if evaluation["passed"] else f"FAILED ({len(violations)} violations)"
        name = terminal_text(evaluation["name"])
        print(f"policy {name!r} [{terminal_text(evaluation['action'])}]: {verdict}", file=stream)
        for violation in violations[:5]:
            print(f"  - {terminal_text(violation['message'])}", file=stream)
        if len(violations) > 5:
            print(f"  … and {len(violations) - 5} more", file=stream)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    if args.command == "scan":
        if READ_HARD_LINKS in os.environ:  # the operator chose
            return _run_scan(args)
        os.environ[READ_HARD_LINKS] = "1"
        try:
            return _run_scan(args)
        finally:
            del os.environ[READ_HARD_LINKS]
    return 2


if __name__ == "__main__":
    sys.exit(main())

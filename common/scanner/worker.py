"""The per-process half of a scan: run the detectors over a chunk of files.

Runs inside ``ProcessPoolExecutor`` workers (or in-process for ``jobs=1``), so
everything it returns must pickle; it returns only files that produced
something, which keeps the traffic back to the parent small.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

from common.scanner.detectors.base import Detector, FileReport, SourceFile
from common.scanner.registry import all_detectors

BINARY_SNIFF_BYTES = 8192
PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Pool initializer: a worker whose parent is killed (e.g. a SIGKILLed Celery pool process)
    is killed too, instead of lingering as an orphan (Linux only; elsewhere a no-op). A parent
    that died while this worker was still starting is caught by comparing the parent's pid."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:
            os._exit(1)


def _run(detector: Detector, source: SourceFile, report: FileReport) -> None:
    try:
        report.findings.extend(detector.detect(source, report))
    except RecursionError:
        report.warnings.append(f"{detector.name}: nesting too deep to analyse")
    except Exception as exc:  # a broken file must never stop the scan
        report.warnings.append(f"{detector.name}: {type(exc).__name__}: {exc}"[:300])


def scan_file(
    source: SourceFile, detectors: tuple[Detector, ...], max_file_bytes: int
) -> tuple[FileReport, int]:
    """Findings for one file and the number of bytes read."""
    report = FileReport()
    applicable = [d for d in detectors if d.applies_to(source)]
    if not applicable:
        return report, 0
    for detector in applicable:
        if not detector.text_only:
            _run(detector, source, report)
    text_detectors = [d for d in applicable if d.text_only]
    if not text_detectors:
        return report, 0
    if source.size > max_file_bytes:
        report.warnings.append(f"skipped: {source.size} bytes is over the {max_file_bytes} byte limit")
        return report, 0
    try:
        data = source.data
    except OSError as exc:
        report.warnings.append(f"unreadable: {exc.strerror or exc}")
        return report, 0
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        if len(text_detectors) == len(applicable):  # a binary detector (model files) read it: no news
            report.warnings.append("binary content; text detectors skipped")
        return report, len(data)
    try:
        source.__dict__["text"] = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.warnings.append(f"invalid UTF-8 at byte {exc.start}; undecodable bytes replaced")
    for detector in text_detectors:
        _run(detector, source, report)
    return report, len(data)


def scan_chunk(
    root: str, entries: list[tuple[str, int, str]], max_file_bytes: int
) -> tuple[list[tuple[str, FileReport]], int]:
    """Scan a chunk of (relpath, size, scope); returns non-empty reports and bytes read."""
    detectors = all_detectors()
    base = Path(root)
    results: list[tuple[str, FileReport]] = []
    total_bytes = 0
    for relpath, size, scope in entries:
        source = SourceFile(path=base / relpath, relpath=relpath, size=size, scope=scope)
        report, read = scan_file(source, detectors, max_file_bytes)
        total_bytes += read
        if report.findings or report.warnings or report.facts:
            results.append((relpath, report))
    return results, total_bytes

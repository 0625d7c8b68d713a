"""What the per-detector tests share: write one file, run one detector on it, read its findings."""

from __future__ import annotations

import json
from pathlib import Path

from common.scanner.detectors.base import FileReport, SourceFile
from tests.unit.scanner_helpers import write_file

OPENAI_KEY = "sk-proj-Abcdefghijklmnopqrstuvwxyz0123456789"
GITHUB_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


def write(root: Path, relpath: str, content: str | bytes) -> SourceFile:
    path = write_file(root, relpath, content)
    return SourceFile(path=path, relpath=relpath, size=path.stat().st_size)


def run(detector, root: Path, relpath: str, content: str | bytes):
    source = write(root, relpath, content)
    report = FileReport()
    findings = list(detector.detect(source, report)) if detector.applies_to(source) else []
    return findings, report


def by_key(findings) -> dict:
    merged: dict = {}
    for finding in findings:
        entry = merged.setdefault(finding.key, {"flags": set(), "lines": set(), "findings": []})
        entry["flags"] |= finding.flags
        entry["lines"].add(finding.location.line)
        entry["findings"].append(finding)
    return merged


def dump(findings) -> str:
    return json.dumps(
        [
            {
                "name": f.name,
                "loc": f.location.to_dict(),
                "meta": f.metadata,
                "version": f.version,
                "model": f.model_name,
            }
            for f in findings
        ],
        default=str,
    )

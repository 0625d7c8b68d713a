"""Inline suppressions: ``trusera:ignore <reason>`` in a comment silences one finding.

The comment sits on the finding's line, or alone on the line just above it, and silences the
findings of that line (a detector's sighting: a secret, an import, a model name); a component
none of whose findings remain is left out of the report.
Silenced findings are never dropped silently: each is returned (with its reason) so the report
can count and list it. A marker without a reason is not honoured and becomes a scan warning,
so nobody can silence a finding without saying why.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from common.scanner.detectors.base import Finding, open_regular_file
from common.scanner.lazy import lazy_re
from common.scanner.model import ScanWarning

MARKER = "trusera:ignore"
MAX_FILE_BYTES = 5 * 1024 * 1024
_MARKER_RE = lazy_re(r"trusera:ignore\b(?P<reason>[^\r\n]*)", re.IGNORECASE)
_COMMENT_CLOSERS = ("-->", "*/", "#}", "%}", "*)")


@dataclass(frozen=True)
class Suppression:
    """A silenced finding: what was seen, where, and why it is accepted."""

    name: str
    type: str
    flags: tuple[str, ...]
    file: str
    line: int
    reason: str

    def to_dict(self) -> dict:
        return {**asdict(self), "flags": list(self.flags)}


@dataclass(frozen=True)
class _Marker:
    reason: str
    alone: bool  # nothing but comment punctuation before it: it may cover the next line


def _read_marker(text: str) -> _Marker | None:
    found = _MARKER_RE.search(text)
    if found is None:
        return None
    reason = found.group("reason").strip()
    for closer in _COMMENT_CLOSERS:
        reason = reason.removesuffix(closer).rstrip()
    reason = reason.lstrip(":-= ").strip()
    alone = not any(char.isalnum() for char in text[: found.start()])
    return _Marker(reason=reason if any(char.isalnum() for char in reason) else "", alone=alone)


# ``:ignore`` as UTF-8 after ``bytes.lower`` (ASCII letters only): ``re.IGNORECASE`` matches the ``i``
# with i, I, U+0130 and U+0131 and the other letters with their ASCII cases only, so a file without
# any of these holds no marker (most code has a ``:i`` somewhere; few files have ``:ignore``)
_MARKER_WORDS = (b":ignore", b":\xc4\xb0gnore", b":\xc4\xb1gnore")


class _Lines:
    """Lines of the scanned files, read once each, only inside the scan root; None for a file that
    cannot be read or cannot hold a marker (its findings are all kept)."""

    def __init__(self, root: Path):
        self.root = os.path.realpath(root)
        self.cache: dict[str, list[str] | None] = {}

    def get(self, relative: str) -> list[str] | None:
        if relative not in self.cache:
            self.cache[relative] = self._read(relative)
        return self.cache[relative]

    def _read(self, relative: str) -> list[str] | None:
        # checked on the opened descriptor (a regular file, inside the real root): one open instead of
        # resolving every component of the path and stating the file twice
        try:
            with open_regular_file(os.path.join(self.root, relative), root=self.root) as file:
                if os.fstat(file.fileno()).st_size > MAX_FILE_BYTES:
                    return None
                data = file.read()
        except OSError:
            return None
        lowered = data.lower()
        if not any(word in lowered for word in _MARKER_WORDS):
            return None
        return data.decode("utf-8", errors="replace").splitlines()


class Suppressor:
    """A ``finding_filter`` for :func:`common.scanner.scan_path` that drops the silenced findings.

    It runs before findings merge into components, so a silenced secret leaves no flag or risk
    behind on its component. What it drops is kept in ``suppressed``; markers it refused are
    turned into scan warnings by :meth:`warnings`.
    """

    def __init__(self, root: str | Path):
        base = Path(root).expanduser()
        self.lines = _Lines(base.parent if base.is_file() else base)
        self.suppressed: list[Suppression] = []
        self.refused: set[tuple[str, int]] = set()

    def __call__(self, findings: list[Finding]) -> list[Finding]:
        kept = []
        for finding in findings:
            location = finding.location
            marker_line, marker = _marker_for(self.lines.get(location.file), location.line)
            if marker is None or not marker.reason:
                kept.append(finding)
                if marker is not None:
                    self.refused.add((location.file, marker_line))
                continue
            silenced = Suppression(
                name=finding.name,
                type=finding.type,
                flags=tuple(sorted(finding.flags)),
                file=location.file,
                line=location.line,
                reason=marker.reason,
            )
            # two detectors seeing the same thing at the same place (the secrets and config detectors on
            # one key line) silence one finding, as they would have merged into one component
            if silenced not in self.suppressed:
                self.suppressed.append(silenced)
        return kept

    def warnings(self) -> list[ScanWarning]:
        return [
            ScanWarning(file=file, message=f"line {line}: {MARKER} without a reason is not honoured")
            for file, line in sorted(self.refused)
        ]


def _marker_for(file_lines: list[str] | None, line: int) -> tuple[int, _Marker | None]:
    """The marker covering ``line`` (1-based): on the line itself, or alone on the line above."""
    if not file_lines or not 0 < line <= len(file_lines):
        return line, None
    own = _read_marker(file_lines[line - 1])
    if own is not None:
        return line, own
    if line >= 2:
        above = _read_marker(file_lines[line - 2])
        if above is not None and above.alone:
            return line - 1, above
    return line, None

"""The contract between the walker and the detectors.

A detector looks at one file at a time (in a worker process) and returns
``Finding``s; the engine merges findings into ``Component``s (one component,
many locations), scores them and builds the graph. Keeping detectors per-file
and side-effect free is what lets the engine fan them out over all cores.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from common.scanner.facts import FileFacts
from common.scanner.keys import component_key
from common.scanner.model import Location

# A hard link is a name in the tree for a file that may have others anywhere on the file system (another
# organization's checkout on a shared host), and no path check can tell where: a file with more than one
# name is not read in a confined scan. Git never checks one out; the folders where tools make them
# (node_modules, virtual environments, package stores, caches) are not walked.
HARD_LINK = "a hard link (the file has other names, maybe outside the scan target); not read"
# Set by the CLI, which scans its user's own files: there a hard link is an installer's (uv and conda link
# packages from their caches, rsnapshot links backups), not a way into someone else's. The environment
# carries it to the scan's worker processes.
READ_HARD_LINKS = "TRUSERA_READ_HARD_LINKS"


def refused_hard_link(status: os.stat_result) -> bool:
    """Whether a file with this status is a hard link a confined scan does not read (``HARD_LINK``)."""
    return status.st_nlink > 1 and os.environ.get(READ_HARD_LINKS) != "1"


def open_regular_file(path: str | Path, mode: str = "rb", root: str | None = None, **options):
    """``path`` opened as the builtin ``open`` does, if it is still a regular file (else ``OSError``)
    and, given the scan's real ``root``, still inside it.

    The walk refused FIFOs, devices and symlinks leading out of the target, but a walked path can be
    swapped for one before it is read: opening a FIFO blocks until a writer comes, with no CPU spent
    (the per-file CPU budget never fires), ``/dev/zero`` never ends, and a symlink to ``/etc/shadow``
    would put that file's lines in snippets. Opened non-blocking and checked on the descriptor (the
    file actually opened, as ``/proc`` names it), so nothing can be swapped in between; given ``root``,
    a file with other names (``HARD_LINK``) is refused too."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    problem = None
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        problem = (errno.EINVAL, "not a regular file (replaced since the walk)")
    elif root is not None and not _inside(opened_path(descriptor, path), root):
        problem = (errno.EACCES, "leads outside the scan target (replaced since the walk)")
    elif root is not None and refused_hard_link(status):
        problem = (errno.EACCES, HARD_LINK)
    if problem:
        os.close(descriptor)
        raise OSError(*problem)
    return open(descriptor, mode, **options)


def _inside(path: str, root: str) -> bool:
    """``os.path.commonpath([path, root]) == root`` for absolute, normalized paths (``/proc`` names and
    real paths are), as a prefix test: ``commonpath`` splits and rejoins both paths on every read."""
    return path == root or path.startswith(root if root.endswith("/") else root + "/")


def opened_path(descriptor: int, path: str | Path) -> str:
    """The real path of the file behind ``descriptor`` (Linux names it; elsewhere the path resolved now)."""
    try:
        return os.readlink(f"/proc/self/fd/{descriptor}")
    except OSError:
        return os.path.realpath(path)


@dataclass
class SourceFile:
    """One file handed to detectors; content is read lazily and at most once."""

    path: Path  # absolute
    relpath: str  # relative to the scan root, POSIX separators
    size: int
    scope: str = "production"  # "test" for files under test folders
    root: str | None = None  # the scan target's real path, where the caller worked it out once

    @cached_property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    @cached_property
    def data(self) -> bytes:
        """The file's bytes, at most the ``size`` the walk saw: a file that grew since (appended to, or
        swapped for a huge sparse file while the scan runs) is read no further than the size limits
        allowed, so it cannot fill the memory of a scan that runs without a worker's limit."""
        with self.open() as handle:
            return handle.read(self.size)

    def open(self):
        """The file opened for binary reading, if it is still a regular file inside the scan target
        (``open_regular_file``)."""
        return open_regular_file(self.path, root=self.real_root)

    @cached_property
    def real_root(self) -> str:
        """The real path of the directory ``relpath`` is relative to (the scan target)."""
        return self.root or os.path.realpath(self.path.parents[self.relpath.count("/")])

    @cached_property
    def text(self) -> str:
        """Decoded text; invalid UTF-8 bytes are replaced, never fatal. A byte-order mark is not text:
        a UTF-8 one is dropped (else ``using X;`` on line 1 is not at the start of a line) and a UTF-16
        one selects that encoding (Windows editors save YAML and C# that way)."""
        if self.data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return self.data.decode("utf-16", errors="replace")
        return self.data.decode("utf-8-sig", errors="replace")

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def location(self, line: int, snippet: str | None = None) -> Location:
        if snippet is None:
            snippet = stripped_line(self.lines[line - 1]) if 0 < line <= len(self.lines) else ""
        return Location(file=self.relpath, line=line, snippet=snippet)


class _LastStripped:
    line: str | None = None
    stripped = ""


def stripped_line(line: str) -> str:
    """``line.strip()``, kept for the last line asked: each finding of a long line (a one-line program of
    thousands of resources) copied the whole line for its snippet, quadratic in the line's length."""
    if _LastStripped.line is not line:
        _LastStripped.stripped, _LastStripped.line = line.strip(), line
    return _LastStripped.stripped


@dataclass
class Finding:
    """One sighting of a component by one detector at one place.

    ``key`` identifies the component across sightings (e.g. ``"llm_provider:openai"``,
    ``"model:gpt-4o"``); findings with the same key merge into one component whose
    fingerprint is derived from the key, so it is stable across scans of the same tree.
    """

    key: str
    name: str
    type: str
    location: Location
    detector: str
    provider: str | None = None
    version: str | None = None
    model_name: str | None = None
    flags: set[str] = field(default_factory=set)
    confidence: float = 1.0
    metadata: dict = field(default_factory=dict)
    # edges from this finding's component: (relation, target key or "file:<path>")
    relations: list[tuple[str, str]] = field(default_factory=list)


def model_sighting(found: tuple, location: Location, detector: str, **extra_metadata) -> Finding:
    """The finding of one catalog model (``model_finding``'s answer) seen at ``location``; deep mode
    builds these outside any detector, so it is a function rather than a ``Detector`` method."""
    key, name, provider, metadata = found
    return Finding(
        key=key,
        name=name,
        type="model",
        provider=provider,
        model_name=name,
        location=location,
        detector=detector,
        metadata={**metadata, **extra_metadata},
    )


@dataclass
class FileReport:
    """What the detectors found in one file, or why they could not read it."""

    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # what deep mode needs from this file to resolve references across files
    facts: FileFacts = field(default_factory=FileFacts)


class Detector:
    """Base class: subclasses set ``name`` and implement ``applies_to`` and ``detect``."""

    name: str = ""
    # True: the engine runs this detector only on text files within the size limit and the detector
    # reads ``file.text``. False: it gets every file it applies to (binary, oversized) and reads
    # the file itself (model files stream header + sha256).
    text_only: bool = True

    def applies_to(self, file: SourceFile) -> bool:
        raise NotImplementedError

    def detect(self, file: SourceFile, report: FileReport) -> Iterable[Finding]:
        """Yield findings; append human-readable problems to ``report.warnings``."""
        raise NotImplementedError

    def located(
        self,
        file: SourceFile,
        line: int,
        kind: str,
        name: str,
        provider: str | None,
        *,
        key_name: str | None = None,
        **fields,
    ) -> Finding:
        """A finding of this detector at ``line`` of ``file``, keyed by ``component_key`` (on ``key_name``
        where the key is spelled unlike the display name, e.g. lower-cased)."""
        return Finding(
            key=component_key(kind, key_name if key_name is not None else name),
            name=name,
            type=kind,
            provider=provider,
            location=file.location(line),
            detector=self.name,
            **fields,
        )

    def model_at(self, file: SourceFile, line: int, found: tuple, **extra_metadata) -> Finding:
        """The finding of one catalog model (``model_finding``'s answer) at ``line`` of ``file``."""
        return model_sighting(found, file.location(line), self.name, **extra_metadata)

    def endpoint_finding(
        self, file: SourceFile, line: int, endpoint: tuple[str, str | None, dict]
    ) -> Finding:
        """The finding of one AI endpoint (``textutil.endpoint_for_url``'s answer) at ``line``."""
        name, provider, metadata = endpoint
        return self.located(file, line, "endpoint", name, provider, metadata=metadata)

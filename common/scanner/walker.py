"""One pass over the tree: which files to look at, and which of them are tests.

The walk honours ``.gitignore`` files (at every level) and a ``.truseraignore``
at the root, skips dependency/vendored/virtualenv folders, and never follows a
symlink into a directory it has already visited (loops become warnings) nor one
whose resolved path leaves the scan target (a warning too: a repository must not
make the scanner read the host's files). It only stats files; reading is left
to the detector processes.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from common.scanner.catalog import patterns

if TYPE_CHECKING:
    from pathspec import PathSpec

IGNORE_FILES = (".gitignore", ".truseraignore")


@dataclass(frozen=True)
class WalkEntry:
    relpath: str
    size: int
    scope: str


@dataclass
class _IgnoreSpec:
    base: str  # relative dir the patterns are anchored at ("" for the root)
    spec: PathSpec

    def ignores(self, relpath: str, is_dir: bool) -> bool:
        local = relpath[len(self.base) + 1 :] if self.base else relpath
        return self.spec.match_file(local + "/" if is_dir else local)


def _read_ignore_spec(directory: Path, base: str, names: tuple[str, ...]) -> _IgnoreSpec | None:
    lines: list[str] = []
    for name in names:
        path = directory / name
        if path.is_file() and not path.is_symlink():  # a linked ignore file could name any file
            try:
                lines.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())
            except OSError:
                continue
    if not lines:
        return None
    return _IgnoreSpec(base, _compiled_spec(tuple(lines)))


@lru_cache(maxsize=256)
def _compiled_spec(lines: tuple[str, ...]) -> PathSpec:
    """One matcher per distinct ignore file text: repositories and folders repeat the same files, and
    a matcher only answers questions (pathspec's RE2 backend compiles a regex set per file)."""
    import pathspec  # a tenth of a small scan's start-up: only trees with an ignore file need it

    return pathspec.GitIgnoreSpec.from_lines(lines, _ignore_pattern)


_IGNORE_PATTERNS: dict = {}


class _DeferredRegex:
    """An ignore line's regular expression, compiled by ``re`` only when something matches with it.
    pathspec compiles every line with ``re`` (about a millisecond each), but the RE2 backend it picks
    whenever RE2 is installed (a dependency of the scanner) reads only the text, ``pattern``."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled = None

    def _regex(self) -> re.Pattern:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern)
        return self._compiled

    def match(self, text: str):  # defined here: pathspec asks ``hasattr(regex, "match")``
        return self._regex().match(text)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._regex(), name)


def _ignore_pattern(line: str):
    """One ignore line, shared by every ignore file that has it (ignore files repeat the same
    templates across folders and repositories), its regex compiled on demand (``_DeferredRegex``)."""
    compiled = _IGNORE_PATTERNS.get(line)
    if compiled is None:
        from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

        regex, include = GitIgnoreSpecPattern.pattern_to_regex(line)
        if include is None:  # a comment or blank line: pathspec compiles nothing for it either
            compiled = GitIgnoreSpecPattern(line)
        else:
            compiled = GitIgnoreSpecPattern(_DeferredRegex(regex), include)
            compiled.pattern = line
        _IGNORE_PATTERNS[line] = compiled
    return compiled


@cache
def _test_rules() -> tuple[frozenset[str], Callable[[str], object]]:
    """The test folders, and one match of every test file pattern (``fnmatchcase`` of each, joined
    into one alternation: each translated pattern is anchored at both ends, as ``fnmatchcase`` is)."""
    rules = patterns()
    names = "|".join(f"(?:{fnmatch.translate(pattern)})" for pattern in rules["test_file_patterns"])
    return frozenset(rules["test_dirs"]), re.compile(names or "(?!)").match


def scope_for(relpath: str) -> str:
    test_dirs, test_file = _test_rules()
    parts = relpath.split("/")
    if any(part.lower() in test_dirs for part in parts[:-1]):
        return "test"
    return "test" if test_file(parts[-1]) else "production"


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def walk(
    root: Path,
    warn: Callable[[str, str], None],
    progress: Callable[[int], None] | None = None,
) -> list[WalkEntry]:
    """Every candidate file under ``root`` (or ``root`` itself when it is a file)."""
    entries: list[WalkEntry] = []
    for entry in iter_walk(root, warn):
        entries.append(entry)
        if progress and len(entries) % 500 == 0:
            progress(len(entries))
    return entries


def iter_walk(root: Path, warn: Callable[[str, str], None]) -> Iterator[WalkEntry]:
    """``walk``'s entries one at a time, in the same order, so that a large scan's detection can start
    while the rest of the tree is still being walked."""
    if root.is_file():
        yield WalkEntry(root.name, root.stat().st_size, scope_for(root.name))
        return
    rules = patterns()
    skip_dirs = set(rules["skip_dirs"])
    venv_markers = rules["venv_markers"]
    real_root = os.path.realpath(root)
    root_spec = _read_ignore_spec(root, "", IGNORE_FILES)
    visited: set[tuple[int, int]] = set()
    root_stat = root.stat()
    visited.add((root_stat.st_dev, root_stat.st_ino))
    stack: list[tuple[Path, str, list[_IgnoreSpec]]] = [(root, "", [root_spec] if root_spec else [])]
    while stack:
        directory, rel_dir, specs = stack.pop()
        try:
            with os.scandir(directory) as iterator:
                children = sorted(iterator, key=lambda e: e.name)
        except OSError as exc:
            warn(rel_dir or ".", f"cannot read directory: {exc.strerror or exc}")
            continue
        if rel_dir and any(child.name == ".gitignore" for child in children):
            nested = _read_ignore_spec(directory, rel_dir, (".gitignore",))
            if nested:
                specs = [*specs, nested]
        for child in children:
            relpath = f"{rel_dir}/{child.name}" if rel_dir else child.name
            try:
                is_dir = child.is_dir(follow_symlinks=True)
                is_symlink = child.is_symlink()
            except OSError as exc:
                warn(relpath, f"cannot stat: {exc.strerror or exc}")
                continue
            if any(spec.ignores(relpath, is_dir) for spec in specs):
                continue
            if is_symlink and not _inside(os.path.realpath(child.path), real_root):
                warn(relpath, "symlink leads outside the scan target; not followed")
                continue
            if is_dir:
                if child.name in skip_dirs or any(
                    os.path.exists(os.path.join(child.path, m)) for m in venv_markers
                ):
                    continue
                try:
                    stat = child.stat(follow_symlinks=True)
                except OSError as exc:
                    warn(relpath, f"cannot stat directory: {exc.strerror or exc}")
                    continue
                identity = (stat.st_dev, stat.st_ino)
                if identity in visited:
                    if is_symlink:
                        warn(relpath, "symlink loop or already visited directory; not followed")
                    continue
                visited.add(identity)
                stack.append((Path(child.path), relpath, specs))
                continue
            try:
                if is_symlink and not os.path.exists(child.path):
                    warn(relpath, "broken symlink")
                    continue
                if not child.is_file(follow_symlinks=True):
                    continue
                size = child.stat(follow_symlinks=True).st_size
            except OSError as exc:
                warn(relpath, f"cannot stat: {exc.strerror or exc}")
                continue
            yield WalkEntry(relpath, size, scope_for(relpath))

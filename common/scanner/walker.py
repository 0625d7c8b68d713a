"""One pass over the tree: which files to look at, and which of them are tests.

The walk honours ``.gitignore`` files (at every level) for the files git does
not track (as git does: a committed file is in the repository whatever the
ignore files say, see ``git_index``) and a ``.truseraignore`` at the root for
every file, skips dependency/vendored/virtualenv folders, and never follows a
symlink into a directory it has already visited (loops become warnings) nor one
whose resolved path leaves the scan target (a warning too: a repository must not
make the scanner read the host's files). It only stats files; reading is left
to the detector processes.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from common.scanner import git_index
from common.scanner.catalog import patterns
from common.scanner.detectors.base import HARD_LINK, open_regular_file, opened_path, refused_hard_link

if TYPE_CHECKING:
    from pathspec import PathSpec

IGNORE_FILES = (".gitignore", ".truseraignore")
# the largest ignore file applied: real ones are a few KiB, and compiling patterns costs superlinear time
MAX_IGNORE_FILE_BYTES = 256 * 1024
MAX_IGNORE_BYTES_PER_WALK = 4 * 1024**2  # about a CPU second per MiB of the worst distinct text
# RE2 cannot compile one set of a few thousand patterns (and takes a tenth of a second failing to)
MAX_IGNORE_PATTERNS = 3_000
# translating and compiling costs per pattern (RE2 failing on a set of 2,900 wildcards: a quarter second),
# and files of 2,900 short lines fit ~130 times in the walk's distinct bytes: 30 s of walk CPU
MAX_IGNORE_PATTERNS_PER_WALK = 20_000
MAX_IGNORE_LINE_CHARS = 4096  # Linux's PATH_MAX: no longer pattern names a path git could check out
# every entry is matched against each ignore file above it: a .gitignore in each of 1,000 nested folders
# of 20 files each cost 59 s of walk CPU (quadratic); real trees nest a handful
MAX_NESTED_IGNORE_FILES = 16
_HELD_STRING_BYTES = 64  # what a held string costs besides its characters (object header, set slot)


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


@dataclass
class _IgnoreFiles:
    """The ignore files of one walk. The walk runs outside any file's budget, so what they may cost is
    bounded here: one over ``MAX_IGNORE_FILE_BYTES``, or past ``MAX_IGNORE_BYTES_PER_WALK`` of distinct
    ignore text (compiling patterns is what costs; a repeated file is compiled once), is not read, and
    one of more than ``MAX_IGNORE_PATTERNS`` patterns, past ``MAX_IGNORE_PATTERNS_PER_WALK`` patterns of
    distinct ignore files, or whose patterns RE2 cannot compile as one set (``[z-a]``) is not applied;
    each is a warning and the files it names are scanned. Lines pathspec cannot read (``!``, a trailing
    backslash) or longer than any path are skipped, as git skips the first: pathspec's error for one
    ended the whole walk."""

    warn: Callable[[str, str], None]
    root: str | None = None  # the scan target's real path: a folder swapped for a link is not read through
    bytes_left: int = field(default_factory=lambda: MAX_IGNORE_BYTES_PER_WALK)
    distinct: set[bytes] = field(default_factory=set)  # at most the bytes the walk may read
    patterns_left: int = field(default_factory=lambda: MAX_IGNORE_PATTERNS_PER_WALK)
    compiled: set[int] = field(default_factory=set)  # hashes of the pattern lists charged already

    def spec(self, directory: Path, base: str, names: tuple[str, ...]) -> _IgnoreSpec | None:
        lines: list[str] = []
        read: list[str] = []
        for name in names:
            path = directory / name
            relpath = f"{base}/{name}" if base else name
            if path.is_file() and not path.is_symlink():  # a linked ignore file could name any file
                try:
                    text = self._text(path, relpath)
                except OSError:
                    continue
                if text is not None:
                    lines.extend(text.splitlines())
                    read.append(relpath)
        lines = [line for line in lines if line.strip() and not line.startswith("#")]
        if len(lines) > MAX_IGNORE_PATTERNS:
            for relpath in read:
                self.warn(relpath, f"ignore files over {MAX_IGNORE_PATTERNS:,} patterns; not applied")
            return None
        if not self._charged(lines):
            for relpath in read:
                self.warn(
                    relpath, f"over {MAX_IGNORE_PATTERNS_PER_WALK:,} ignore patterns in the walk; not applied"
                )
            return None
        lines = [line for line in lines if _readable_pattern(line)]
        if not lines:
            return None
        import re2  # as pathspec's own: only trees with an ignore file need it

        try:
            return _IgnoreSpec(base, _compiled_spec(tuple(lines)))
        except re2.error:
            for relpath in read:
                self.warn(
                    relpath, "ignore file has patterns RE2 cannot compile (too many, or invalid); not applied"
                )
            return None

    def _charged(self, lines: list[str]) -> bool:
        """Whether these patterns may be translated and compiled: a list this walk met before costs
        nothing more (the matcher is cached), a new one its length of the walk's pattern budget."""
        key = hash(tuple(lines))
        if key in self.compiled:
            return True
        if len(lines) > self.patterns_left:
            return False
        self.patterns_left -= len(lines)
        self.compiled.add(key)
        return True

    def _text(self, path: Path, relpath: str) -> str | None:
        """The ignore file's text, or None (with a warning) when it is over either limit. Read no further
        than the limit: a sparse or highly compressible file of gigabytes costs nothing to commit."""
        with open_regular_file(path, root=self.root) as handle:
            data = handle.read(MAX_IGNORE_FILE_BYTES + 1)
        if len(data) > MAX_IGNORE_FILE_BYTES:
            self.warn(relpath, f"ignore file over {MAX_IGNORE_FILE_BYTES // 1024} KiB; not applied")
            return None
        if data not in self.distinct:
            if len(data) > self.bytes_left:
                self.warn(
                    relpath,
                    f"over {MAX_IGNORE_BYTES_PER_WALK:,} bytes of distinct ignore files; not applied",
                )
                return None
            self.bytes_left -= len(data)
            self.distinct.add(data)
        return data.decode("utf-8", errors="replace")


@dataclass
class _Tracked:
    """The paths git tracks in the work trees met on the walk (the target's own, and any repository
    inside it), with every folder above them: ``.gitignore`` hides none of these. All the indexes of a
    walk share one ``IndexBudget``, which the folders they add are charged to as well (a path of a
    thousand levels names a thousand folders, each a string of up to its length); a work tree whose
    index or folders would pass it adds nothing (a warning), and ``.gitignore`` hides its files."""

    warn: Callable[[str, str], None]
    root: str | None = None  # the scan target's real path, which every index read stays in
    budget: git_index.IndexBudget = field(default_factory=git_index.IndexBudget)
    files: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=set)
    over_budget: bool = False  # warned once: the work trees after the first over it are not read either

    def add(self, work_tree: Path, rel_dir: str) -> None:
        paths = git_index.tracked_paths(work_tree, self.budget, root=self.root)
        if paths is None:
            if self.budget.left <= 0:
                self._over_budget(rel_dir)
            return
        files, folders = set(), set()
        try:
            for path in paths:
                if rel_dir:  # a new string, the folder's path longer than the tracked one
                    self.budget.spend(len(rel_dir) + 1 + len(path) + _HELD_STRING_BYTES)
                relpath = f"{rel_dir}/{path}" if rel_dir else path
                files.add(relpath)
                folder = relpath.rpartition("/")[0]
                while folder and folder not in folders and folder not in self.folders:
                    self.budget.spend(len(folder) + _HELD_STRING_BYTES)
                    folders.add(folder)
                    folder = folder.rpartition("/")[0]
        except ValueError:  # over the budget
            self._over_budget(rel_dir)
            return
        self.files |= files
        self.folders |= folders

    def _over_budget(self, rel_dir: str) -> None:
        if self.over_budget:
            return
        self.over_budget = True
        self.warn(
            f"{rel_dir}/.git/index" if rel_dir else ".git/index",
            f"git indexes over {git_index.MAX_INDEX_BYTES_PER_WALK // 1024**2} MiB in this walk; not read "
            "(.gitignore hides tracked files too)",
        )

    def holds(self, relpath: str, is_dir: bool) -> bool:
        return relpath in (self.folders if is_dir else self.files)


def _readable_pattern(line: str) -> bool:
    """Whether the line is a pattern pathspec reads, no longer than a path can be (translating a line
    costs time superlinear in its length: a quarter-megabyte line took a second)."""
    if len(line) > MAX_IGNORE_LINE_CHARS:
        return False
    try:
        _ignore_pattern(line)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=256)
def _compiled_spec(lines: tuple[str, ...]) -> PathSpec:
    """One matcher per distinct ignore file text: repositories and folders repeat the same files, and
    a matcher only answers questions (pathspec's RE2 backend compiles a regex set per file)."""
    import pathspec  # a tenth of a small scan's start-up: only trees with an ignore file need it

    return pathspec.GitIgnoreSpec.from_lines(lines, _ignore_pattern)


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


@lru_cache(maxsize=16_384)
def _ignore_pattern(line: str):
    """One ignore line, shared by every ignore file that has it (ignore files repeat the same
    templates across folders and repositories), its regex compiled on demand (``_DeferredRegex``).
    Bounded: a worker process outlives many scans, and a repository's distinct lines are its own."""
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

    regex, include = GitIgnoreSpecPattern.pattern_to_regex(line)
    if include is None:  # a comment or blank line: pathspec compiles nothing for it either
        return GitIgnoreSpecPattern(line)
    compiled = GitIgnoreSpecPattern(_DeferredRegex(regex), include)
    compiled.pattern = line
    return compiled


@cache
def _test_rules() -> tuple[frozenset[str], Callable[[str], object]]:
    """The test folders, and one match of every test file pattern (``fnmatchcase`` of each, joined
    into one alternation: each translated pattern is anchored at both ends, as ``fnmatchcase`` is)."""
    rules = patterns()
    names = "|".join(f"(?:{fnmatch.translate(pattern)})" for pattern in rules["test_file_patterns"])
    return frozenset(rules["test_dirs"]), re.compile(names or "(?!)").match


def scope_for(relpath: str) -> str:
    test_dirs, _ = _test_rules()
    *folders, name = relpath.split("/")
    return _scope(any(part.lower() in test_dirs for part in folders), name)


def _scope(in_test_folder: bool, name: str) -> str:
    """``scope_for`` of a file named ``name`` in a folder that is (or lies in) a test folder or not: the
    walk works that out once per folder (per file, every folder of its path: quadratic in the depth)."""
    return "test" if in_test_folder or _test_rules()[1](name) else "production"


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def _open_folder(directory: Path, real_root: str) -> int:
    """A descriptor of ``directory`` if the folder it opens is still inside ``real_root``. The walk lists
    folders by path: one swapped for a link since it was pushed (an organization renaming in its own
    scan root during its scan) would hand out another tree's file names and read its ignore files."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    if not _inside(opened_path(descriptor, directory), real_root):
        os.close(descriptor)
        raise OSError(errno.EACCES, "leads outside the scan target (replaced since the walk)")
    return descriptor


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


def iter_walk(
    root: Path, warn: Callable[[str, str], None], real_root: str | None = None, below: str = ""
) -> Iterator[WalkEntry]:
    """``walk``'s entries one at a time, in the same order, so that a large scan's detection can start
    while the rest of the tree is still being walked. ``real_root`` is ``root``'s real path where the
    caller worked it out already: resolved again when the walk begins, a target swapped for a link
    since would be listed as the target. ``below`` (a folder's path relative to ``root``) walks that
    folder alone, as the walk of ``root`` sees it: the ignore files of the folders above it apply, and
    the paths stay relative to ``root``."""
    if root.is_file():
        yield WalkEntry(root.name, root.stat().st_size, scope_for(root.name))
        return
    rules = patterns()
    skip_dirs = set(rules["skip_dirs"])
    venv_markers = rules["venv_markers"]
    real_root = real_root or os.path.realpath(root)
    ignore_files = _IgnoreFiles(warn, real_root)
    user_spec = ignore_files.spec(root, "", IGNORE_FILES[1:])
    tracked = _Tracked(warn, real_root)
    visited: set[tuple[int, int]] = set()
    root_stat = root.stat()
    visited.add((root_stat.st_dev, root_stat.st_ino))
    test_dirs, _ = _test_rules()
    stack: list[tuple[Path, str, list[_IgnoreSpec], bool]] = [
        _folder_below(root, below, ignore_files, tracked, test_dirs) if below else (root, "", [], False)
    ]
    if below:
        start = stack[0][0].stat()
        visited.add((start.st_dev, start.st_ino))
    while stack:
        directory, rel_dir, specs, in_test_folder = stack.pop()
        try:
            descriptor = _open_folder(directory, real_root)
        except OSError as exc:
            warn(rel_dir or ".", f"cannot read directory: {exc.strerror or exc}")
            continue
        try:  # listed and stat'ed through the descriptor of the folder checked, not its path
            try:
                with os.scandir(descriptor) as iterator:
                    children = sorted(iterator, key=lambda e: e.name)
            except OSError as exc:
                warn(rel_dir or ".", f"cannot read directory: {exc.strerror or exc}")
                continue
            names = {child.name for child in children}
            if ".git" in names:
                tracked.add(directory, rel_dir)
            if ".gitignore" in names and len(specs) >= MAX_NESTED_IGNORE_FILES:
                warn(
                    f"{rel_dir}/.gitignore" if rel_dir else ".gitignore",
                    f"{MAX_NESTED_IGNORE_FILES} ignore files above it already; not applied",
                )
            elif ".gitignore" in names:
                nested = ignore_files.spec(directory, rel_dir, (".gitignore",))
                if nested:
                    specs = [*specs, nested]
            for child in children:
                relpath = f"{rel_dir}/{child.name}" if rel_dir else child.name
                child_path = os.path.join(directory, child.name)
                try:
                    is_dir = child.is_dir(follow_symlinks=True)
                    is_symlink = child.is_symlink()
                except OSError as exc:
                    warn(relpath, f"cannot stat: {exc.strerror or exc}")
                    continue
                if user_spec and user_spec.ignores(relpath, is_dir):
                    continue
                if any(spec.ignores(relpath, is_dir) for spec in specs) and not tracked.holds(
                    relpath, is_dir
                ):
                    continue
                if is_symlink and not _inside(os.path.realpath(child_path), real_root):
                    warn(relpath, "symlink leads outside the scan target; not followed")
                    continue
                if is_dir:
                    if child.name in skip_dirs or any(
                        os.path.exists(os.path.join(child_path, m)) for m in venv_markers
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
                    stack.append(
                        (Path(child_path), relpath, specs, in_test_folder or child.name.lower() in test_dirs)
                    )
                    continue
                try:
                    if is_symlink and not os.path.exists(child_path):
                        warn(relpath, "broken symlink")
                        continue
                    if not child.is_file(follow_symlinks=True):
                        continue
                    status = child.stat(follow_symlinks=True)
                except OSError as exc:
                    warn(relpath, f"cannot stat: {exc.strerror or exc}")
                    continue
                if refused_hard_link(status):
                    warn(relpath, HARD_LINK)
                    continue
                yield WalkEntry(relpath, status.st_size, _scope(in_test_folder, child.name))
        finally:
            os.close(descriptor)


def _folder_below(
    root: Path, below: str, ignore_files: _IgnoreFiles, tracked: _Tracked, test_dirs: frozenset[str]
) -> tuple[Path, str, list[_IgnoreSpec], bool]:
    """Where a walk of ``below`` starts: the folder, the ignore files of every folder above it (the work
    trees among them read for what they track) and whether it is in a test folder, as the walk from
    ``root`` would hold them there."""
    specs: list[_IgnoreSpec] = []
    parts = below.split("/")
    for depth in range(len(parts)):
        rel_dir = "/".join(parts[:depth])
        directory = root.joinpath(*parts[:depth])
        if os.path.lexists(directory / ".git"):
            tracked.add(directory, rel_dir)
        if os.path.lexists(directory / ".gitignore") and len(specs) < MAX_NESTED_IGNORE_FILES:
            nested = ignore_files.spec(directory, rel_dir, (".gitignore",))
            if nested:
                specs = [*specs, nested]
    in_test_folder = any(part.lower() in test_dirs for part in parts)
    return root.joinpath(*parts), below, specs, in_test_folder

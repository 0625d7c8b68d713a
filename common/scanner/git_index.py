"""The paths a git work tree tracks, read from its index file without running git.

``.gitignore`` only hides files git does not track: a committed file stays in the repository (and in
every clone) whatever the ignore files say, so committing a file and then listing it in ``.gitignore``
must not hide it from an inventory. The walk asks this module which paths are tracked.

The index is read directly, not through ``git ls-files``: a scanned repository's ``.git/config`` is
the repository's to write, and some of its settings make git run commands. The read is bounded: an
index over ``MAX_INDEX_BYTES``, a name longer than any path git can check out (``MAX_PATH_BYTES``), or
more than a walk's ``IndexBudget`` of bytes read and names decoded (version 4 names are the previous
name plus a suffix, so a few megabytes of index decode to gigabytes of names, and a tree may hold any
number of repositories) answers None, and the walk honours ``.gitignore`` fully.
Format: https://git-scm.com/docs/index-format (versions 2, 3 and 4; SHA-1 object names).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from common.scanner.detectors.base import open_regular_file

MAX_INDEX_BYTES = 64 * 1024**2  # a repository of ~500,000 files; larger indexes are not read
MAX_INDEX_BYTES_PER_WALK = 2 * MAX_INDEX_BYTES  # read, decoded and held, over every index of one walk
MAX_PATH_BYTES = 4096  # Linux's PATH_MAX: git cannot check out a longer path
_HEADER = struct.Struct(">4sII")
_STAT_AND_NAME = 40 + 20  # ten 32-bit stat fields, then the SHA-1 object name
_EXTENDED = 0x4000
_NAME_LENGTH = 0x0FFF


@dataclass
class IndexBudget:
    """What reading indexes may still cost, in bytes read plus bytes of names decoded (and, for the
    walk, of folder names held): the walk runs outside any file's budget."""

    left: int = MAX_INDEX_BYTES_PER_WALK

    def spend(self, cost: int) -> None:
        self.left -= cost
        if self.left < 0:
            raise ValueError("over the index budget")


def tracked_paths(
    work_tree: Path, budget: IndexBudget | None = None, root: str | None = None
) -> frozenset[str] | None:
    """The tracked paths under ``work_tree`` (``/``-separated, relative to it), or None when it has no
    ``.git`` directory of its own or the index cannot be read (missing, too large, another format, or
    over what ``budget`` has left). The index is read only inside ``root`` (the scan target's real path;
    by default the work tree's): resolved again here, a folder swapped for a link would be followed."""
    budget = IndexBudget() if budget is None else budget
    git_dir = work_tree / ".git"
    if git_dir.is_symlink() or not git_dir.is_dir():  # a ``.git`` file points elsewhere: not followed
        return None
    if budget.left <= 0:
        return None
    try:
        with open_regular_file(git_dir / "index", root=root or os.path.realpath(work_tree)) as handle:
            data = handle.read(min(MAX_INDEX_BYTES, budget.left) + 1)
    except (OSError, ValueError):
        return None
    try:
        budget.spend(len(data))
        if len(data) > MAX_INDEX_BYTES:
            return None
        return frozenset(_entries(data, budget))
    except (ValueError, IndexError, struct.error, UnicodeError):
        return None


def _entries(data: bytes, budget: IndexBudget) -> list[str]:
    signature, version, count = _HEADER.unpack_from(data)
    if signature != b"DIRC" or version not in (2, 3, 4):
        raise ValueError("not a git index")
    paths: list[str] = []
    position, previous = _HEADER.size, b""
    for _ in range(count):
        start = position
        flags = int.from_bytes(data[position + _STAT_AND_NAME : position + _STAT_AND_NAME + 2], "big")
        position += _STAT_AND_NAME + 2 + (2 if flags & _EXTENDED and version >= 3 else 0)
        if version == 4:  # the name is the previous one less its last N bytes, plus what follows
            strip, position = _varint(data, position)
            end = data.index(b"\0", position)
            if strip > len(previous):
                raise ValueError("bad prefix length")
            name = previous[: len(previous) - strip] + data[position:end]
            position = end + 1
        else:
            length = flags & _NAME_LENGTH
            end = data.index(b"\0", position) if length == _NAME_LENGTH else position + length
            name = data[position:end]
            position = start + ((end - start + 8) & ~7)  # NUL-padded to a multiple of eight bytes
        if position > len(data):
            raise ValueError("truncated index")
        if len(name) > MAX_PATH_BYTES:
            raise ValueError("a name longer than any path")
        budget.spend(len(name))
        paths.append(os.fsdecode(name))
        previous = name
    return paths


def _varint(data: bytes, position: int) -> tuple[int, int]:
    """git's offset encoding of version 4 name prefixes (``varint.c``). Each continuation byte shifts
    the value left by seven bits: a run of them grew an integer of megabits, quadratic CPU in the run's
    length, so a value past any name's length is refused as soon as it is."""
    byte = data[position]
    position += 1
    value = byte & 0x7F
    while byte & 0x80:
        byte = data[position]
        position += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
        if value > MAX_PATH_BYTES:
            raise ValueError("a prefix longer than any name")
    return value, position

"""A committed file stays in the inventory when ``.gitignore`` lists it: git ignores only untracked files,
so "commit it, then ignore it" must not hide AI from a scan. The index is read without running git."""

from __future__ import annotations

import os
import shutil
import struct
import time

import pytest

from common.scanner import git_index, scan_path, walker
from common.scanner.walker import walk
from tests.unit.scanner_helpers import committed_then_ignored, git, write_tree

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git builds the fixture repositories")


def walked(root):
    return {entry.relpath for entry in walk(root, lambda *_: None)}


@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_a_committed_file_the_gitignore_lists_is_walked_untracked_ones_are_not(tmp_path, version):
    committed_then_ignored(tmp_path)
    git(tmp_path, "update-index", "--index-version", version)
    if version == "3":  # an extended flag makes git write version 3 entries
        git(tmp_path, "update-index", "--skip-worktree", "app.py")
    assert git_index.tracked_paths(tmp_path) == {"app.py", "secret_ai/client.py"}
    assert walked(tmp_path) == {".gitignore", "app.py", "secret_ai/client.py"}
    names = {component.name for component in scan_path(tmp_path, jobs=1).components}
    assert "anthropic" in names and "openai" not in names and "cohere" not in names


def test_version_4_names_share_prefixes(tmp_path):
    files = {f"deep/folder/name_{index:03d}.py": "x = 1\n" for index in range(40)}
    write_tree(tmp_path, {**files, "deep/other.py": "x = 1\n"})
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "update-index", "--index-version", "4")
    assert git_index.tracked_paths(tmp_path) == {*files, "deep/other.py"}


def test_a_repository_inside_the_target_counts_its_own_tracked_files(tmp_path):
    committed_then_ignored(tmp_path / "inner")
    assert walked(tmp_path) == {"inner/.gitignore", "inner/app.py", "inner/secret_ai/client.py"}


def test_truseraignore_still_hides_a_tracked_file(tmp_path):
    committed_then_ignored(tmp_path)
    write_tree(tmp_path, {".truseraignore": "secret_ai/\n"})
    assert "secret_ai/client.py" not in walked(tmp_path)


@pytest.mark.parametrize(
    "index",
    [
        b"",
        b"DIRC\x00\x00\x00\x02\x00\x00\x00\x05",  # five entries promised, none there
        b"DIRC\x00\x00\x00\x09\x00\x00\x00\x00",  # an unknown version
        b"DIRC\x00\x00\x00\x04\x00\x00\x00\x01" + b"\x00" * 62 + b"\xff\xff\xff\x7fx\x00",  # prefix too long
        b"\x00" * 100,
    ],
)
def test_an_unreadable_index_leaves_the_gitignore_in_force(tmp_path, index):
    committed_then_ignored(tmp_path)
    (tmp_path / ".git" / "index").write_bytes(index)
    assert git_index.tracked_paths(tmp_path) is None
    assert walked(tmp_path) == {".gitignore", "app.py"}


def test_an_index_or_git_folder_leading_out_of_the_target_is_not_read(tmp_path):
    """A hostile tree cannot make the walk read another repository's index (or a host file) through a
    symlinked ``.git`` or ``.git/index``."""
    outside = tmp_path / "outside"
    committed_then_ignored(outside)
    target = tmp_path / "target"
    committed_then_ignored(target)
    os.remove(target / ".git" / "index")
    os.symlink(outside / ".git" / "index", target / ".git" / "index")
    assert git_index.tracked_paths(target) is None
    shutil.rmtree(target / ".git")
    os.symlink(outside / ".git", target / ".git")
    assert git_index.tracked_paths(target) is None


def _index(version: int, entries: list[bytes]) -> bytes:
    return b"DIRC" + struct.pack(">II", version, len(entries)) + b"".join(entries)


def _v2_entry(name: bytes) -> bytes:
    """A version 2 entry: no stat data, the name NUL-padded to a multiple of eight bytes."""
    fixed = b"\0" * 60 + min(len(name), 0x0FFF).to_bytes(2, "big")
    return (fixed + name).ljust((len(fixed) + len(name) + 8) & ~7, b"\0")


def _v4_entry(strip: int, suffix: bytes) -> bytes:
    assert strip < 0x80  # one varint byte
    return b"\0" * 62 + bytes([strip]) + suffix + b"\0"


def test_version_4_names_that_only_grow_are_refused_at_the_longest_path(tmp_path):
    """Each version 4 entry may keep the whole previous name and add one byte: 65 bytes of index per
    entry, quadratic bytes of names (a 1.3 MB index held 200 MB of them, a 64 MiB one would hold 500 GB).
    No name git can check out is longer than ``MAX_PATH_BYTES``."""
    committed_then_ignored(tmp_path)
    growing = [_v4_entry(0, b"a")] * 5000  # the last names are longer than any path
    (tmp_path / ".git" / "index").write_bytes(_index(4, growing))
    assert git_index.tracked_paths(tmp_path) is None
    assert walked(tmp_path) == {".gitignore", "app.py"}


def test_a_long_run_of_prefix_continuation_bytes_is_refused_without_growing_an_integer(tmp_path):
    """Each continuation byte of a version 4 prefix length shifted the value seven bits further: a run of
    200,000 took 11 s of CPU (quadratic; a 64 MiB index, days) in the walk, which runs outside any budget."""
    committed_then_ignored(tmp_path)
    entry = b"\0" * 62 + b"\x80" * 100_000 + b"\0a\0"
    (tmp_path / ".git" / "index").write_bytes(_index(4, [entry]))
    started = time.process_time()
    assert git_index.tracked_paths(tmp_path) is None
    assert time.process_time() - started < 0.5


def test_the_indexes_of_one_walk_share_one_budget_with_the_folders_they_name(tmp_path):
    """A tracked path a thousand folders deep names a thousand folders, each a string up to its length:
    the folders of a thousand such paths (a 2 MB index) held a gigabyte. Indexes and folders are charged
    to the walk's budget; a work tree that would pass it adds nothing (one warning), and its
    ``.gitignore`` hides as usual."""
    committed_then_ignored(tmp_path / "shallow")
    committed_then_ignored(tmp_path / "deep")
    depth = "/".join(["d"] * 1000)
    deep_names = [f"x{number}/{depth}/f.py".encode() for number in range(20)]
    (tmp_path / "deep" / ".git" / "index").write_bytes(_index(2, [_v2_entry(name) for name in deep_names]))
    shallow = git_index.tracked_paths(tmp_path / "shallow")
    warnings: list[tuple[str, str]] = []
    budget = git_index.IndexBudget(left=1024**2)  # the deep paths' folders: 20 x 1,000 x ~1 KB each
    tracked = walker._Tracked(lambda *warning: warnings.append(warning), budget=budget)
    tracked.add(tmp_path / "shallow", "shallow")
    tracked.add(tmp_path / "deep", "deep")
    assert tracked.files == {f"shallow/{path}" for path in shallow}
    assert tracked.folders == {"shallow", "shallow/secret_ai"}
    assert [file for file, message in warnings if "git indexes over" in message] == ["deep/.git/index"]
    tracked.add(tmp_path / "shallow", "again")  # the budget is spent: nothing more is read, no new warning
    assert len(warnings) == 1 and not any(path.startswith("again/") for path in tracked.files)


def test_version_4_names_that_decode_past_the_budget_are_refused(tmp_path):
    """Names of the longest path, each the previous one with its last byte changed: 66 bytes of index
    decode to 4 KB of names, a 64 MiB index to 4 GB. What an index decodes is charged to the budget."""
    committed_then_ignored(tmp_path)
    entries = [_v4_entry(0, b"n" * 4000)] + [_v4_entry(1, bytes([48 + number % 10])) for number in range(300)]
    (tmp_path / ".git" / "index").write_bytes(_index(4, entries))
    assert len(git_index.tracked_paths(tmp_path, git_index.IndexBudget(left=2 * 1024**2))) == 11
    assert git_index.tracked_paths(tmp_path, git_index.IndexBudget(left=1024**2)) is None

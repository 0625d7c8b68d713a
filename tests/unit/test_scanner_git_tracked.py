"""A committed file stays in the inventory when ``.gitignore`` lists it: git ignores only untracked files,
so "commit it, then ignore it" must not hide AI from a scan. The index is read without running git."""

from __future__ import annotations

import os
import shutil

import pytest

from common.scanner import git_index, scan_path
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

"""Scan targets stay within the roots: the rules ``resolve_target`` enforces on every ``POST /scans``."""

from __future__ import annotations

import os

import pytest

from common.config import reset_settings
from common.targets import TargetError, organization_roots, resolve_target


@pytest.fixture
def root(tmp_path):
    (tmp_path / "root" / "repo").mkdir(parents=True)
    (tmp_path / "root" / "repo" / "app.py").write_text("import openai\n")
    (tmp_path / "root-sibling").mkdir()
    return tmp_path / "root"


def test_a_target_inside_a_root_resolves_to_its_real_path(root):
    assert resolve_target(str(root / "repo"), [str(root)]) == str(root / "repo")
    assert resolve_target("repo/app.py", [str(root)]) == str(root / "repo" / "app.py")  # relative: first root
    assert resolve_target(str(root) + "/./repo/", [str(root) + "/"]) == str(root / "repo")
    assert resolve_target(str(root), [str(root)]) == str(root)  # the root itself


def test_a_symlink_inside_the_root_resolves_to_where_it_points(root):
    (root / "alias").symlink_to(root / "repo", target_is_directory=True)
    assert resolve_target(str(root / "alias"), [str(root)]) == str(root / "repo")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("", "empty"),
        ("repo\x00", "NUL"),
        ("repo/../../etc", "'..'"),
        ("/etc", "outside the allowed scan roots"),
        ("{sibling}", "outside the allowed scan roots"),  # shares the root's name as a prefix only
        ("{escape}", "outside the allowed scan roots"),  # a symlink out of the root
        ("repo/missing", "does not exist"),
        ("{fifo}", "neither a directory nor a regular file"),
    ],
)
def test_a_target_is_refused(root, target, message):
    (root / "escape").symlink_to(root.parent / "root-sibling", target_is_directory=True)
    os.mkfifo(root / "fifo")
    target = target.format(sibling=root.parent / "root-sibling", escape=root / "escape", fifo=root / "fifo")
    with pytest.raises(TargetError, match=message):
        resolve_target(target, [str(root)])


def test_no_root_refuses_every_target(root):
    with pytest.raises(TargetError, match="No scan roots"):
        resolve_target(str(root / "repo"), [])


def test_the_file_systems_root_admits_any_existing_path(root):
    assert resolve_target(str(root / "repo"), ["/"]) == str(root / "repo")


def test_a_narrowed_root_outside_the_operators_is_dropped(root, monkeypatch):
    monkeypatch.setenv("SCAN_ROOTS", str(root))
    reset_settings()
    try:
        narrowed = organization_roots("org", [str(root / "repo"), str(root.parent / "root-sibling")])
    finally:
        monkeypatch.undo()
        reset_settings()
    assert narrowed == [str(root / "repo")]


def test_a_root_that_is_a_symlink_confines_to_where_it_points(root, tmp_path):
    """The roots are compared as real paths too: a linked root admits its real tree and nothing beside it."""
    (tmp_path / "linked-root").symlink_to(root, target_is_directory=True)
    roots = [str(tmp_path / "linked-root")]
    assert resolve_target(str(root / "repo"), roots) == str(root / "repo")
    assert resolve_target(str(tmp_path / "linked-root" / "repo"), roots) == str(root / "repo")
    with pytest.raises(TargetError, match="outside the allowed scan roots"):
        resolve_target(str(tmp_path / "root-sibling"), roots)

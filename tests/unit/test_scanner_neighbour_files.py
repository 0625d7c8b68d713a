"""Files a detector reads beside the one it scans (a manifest above it, found by ``glob``, not by the
walker): the walker's rules hold for them too, or one hostile tree blocks or widens a scan."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest

from common.scanner.detectors.base import SourceFile
from common.scanner.detectors.languages import crate_name, project_assembly_name
from common.scanner.detectors.manifests import version_catalogs
from common.scanner.textutil import own_packages, read_neighbour

SECONDS = 5


def _source(root: Path, relpath: str, text: str = "") -> SourceFile:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return SourceFile(path=path, relpath=relpath, size=len(text))


def _run_bounded(call):
    """``call()``'s result, or a failure when it is still blocked after ``SECONDS``."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(SECONDS)
    return thread.is_alive(), result


# (file scanned, neighbour the lookup reads, the lookup)
LOOKUPS = [
    ("crate/src/main.rs", "crate/Cargo.toml", crate_name),
    ("crate/src/main.rs", "crate/Cargo.toml", lambda file: own_packages(file, "cargo")),
    ("svc/Program.cs", "svc/Svc.csproj", project_assembly_name),
    ("app/build.gradle", "gradle/libs.versions.toml", version_catalogs),
]


@pytest.mark.parametrize(("scanned", "neighbour", "lookup"), LOOKUPS)
def test_a_fifo_in_place_of_a_manifest_does_not_block_the_scan(tmp_path, scanned, neighbour, lookup):
    """A FIFO blocks ``read()`` forever and spends no CPU, so the per-file CPU budget never fires."""
    file = _source(tmp_path, scanned)
    fifo = tmp_path / neighbour
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    try:
        blocked, _ = _run_bounded(lambda: lookup(file))
    finally:  # release a reader still blocked on the FIFO (it then reads end of file)
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not blocked


def test_a_csproj_symlinked_out_of_the_scan_root_is_not_read(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Secret.csproj").write_text("<Project><AssemblyName>Leaked.Name</AssemblyName></Project>")
    root = tmp_path / "tree"
    file = _source(root, "svc/Program.cs")
    (root / "svc" / "Svc.csproj").symlink_to(outside / "Secret.csproj")
    assert project_assembly_name(file) == "Svc"


@pytest.mark.parametrize("link", [os.symlink, os.link], ids=["symlink", "hard link"])
def test_a_cargo_manifest_linked_from_outside_the_scan_root_is_not_read(tmp_path, link):
    """Round 34: a hard link has no path to confine either; a file with other names is not read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Cargo.toml").write_text('[package]\nname = "leaked-name"\n')
    root = tmp_path / "tree"
    file = _source(root, "crate/src/main.rs")
    link(outside / "Cargo.toml", root / "crate" / "Cargo.toml")
    assert crate_name(file) is None


def test_a_manifest_symlinked_inside_the_scan_root_is_read(tmp_path):
    root = tmp_path / "tree"
    (root / "shared").mkdir(parents=True)
    (root / "shared" / "Cargo.toml").write_text('[package]\nname = "notes-server"\n')
    file = _source(root, "crate/src/main.rs")
    (root / "crate" / "Cargo.toml").symlink_to(root / "shared" / "Cargo.toml")
    assert crate_name(file) == "notes-server"


def test_a_neighbour_that_is_a_device_or_too_large_is_not_read(tmp_path):
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "big").write_bytes(b"x" * 101)
    (tmp_path / "small").write_bytes(b"\xef\xbb\xbfname")
    root = os.path.realpath(tmp_path)
    assert read_neighbour(tmp_path / "zero", "/") is None
    assert read_neighbour(tmp_path / "big", root, max_bytes=100) is None
    assert read_neighbour(tmp_path / "small", root, max_bytes=100) == "name"
    assert read_neighbour(tmp_path / "missing", root) is None


def test_a_folder_swapped_for_a_link_between_the_check_and_the_read_is_not_read_through(
    tmp_path, monkeypatch
):
    """The path was resolved and confined, then opened by that real path: a folder on its way replaced by
    a link in between (an organization looping ``rename`` in its own scan root while its scan runs) led
    the open to another organization's checkout, whose manifest's names the scan then reported."""
    mine = tmp_path / "mine"
    theirs = tmp_path / "theirs" / "crate"
    theirs.mkdir(parents=True)
    (theirs / "Cargo.toml").write_text('[package]\nname = "their-private-crate"\n')
    (mine / "crate").mkdir(parents=True)
    (mine / "crate" / "Cargo.toml").write_text('[package]\nname = "mine"\n')
    root = os.path.realpath(mine)
    resolve = os.path.realpath

    def resolve_then_swap(path, *args, **kwargs):
        real = resolve(path, *args, **kwargs)
        if str(path).endswith("Cargo.toml") and not (mine / "crate").is_symlink():
            (mine / "crate").rename(mine / "was-here")
            (mine / "crate").symlink_to(theirs, target_is_directory=True)
        return real

    monkeypatch.setattr(os.path, "realpath", resolve_then_swap)
    assert read_neighbour(mine / "crate" / "Cargo.toml", root) is None

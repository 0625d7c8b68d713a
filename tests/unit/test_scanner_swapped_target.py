"""A scan reads only the tree its target resolved to when the scan began.

The attack: an organization that may write in its scan root queues a scan of a folder there, then swaps
that folder (one ``rename``) for a link to another organization's checkout while the scan runs, or while
it waits behind the clone of a repository the same scan names. Every reader resolved the target again
when it got to it (the detector workers for each chunk, the in-process scan when detection began, the
cross-file constant pass after it), followed the link and read the other checkout as if it were the target.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from common.scanner import scan_path
from common.scanner.engine import TargetMoved
from common.scanner.isolation import detect_isolated
from common.scanner.walker import iter_walk
from tests.unit.scanner_helpers import write_tree

JAVA = "src/main/java/com/example/openai/"
MINE = {
    "app.py": "import os\n" + "#" * 80 + "\n",  # longer than theirs: a file is read up to its walked size
    f"{JAVA}ChatClient.java": (
        "package com.example.openai;\n\npublic class ChatClient {\n"
        '    static final String BASE_URL = "https://api.openai.com/v1/";\n}\n'
    ),
    f"{JAVA}OpenAIModel.java": (
        'package com.example.openai;\n\npublic enum OpenAIModel {\n    GPT_4_1("gpt-4.1");\n\n'
        "    private final String id;\n\n    OpenAIModel(String id) {\n        this.id = id;\n    }\n}\n"
    ),
    f"{JAVA}Main.java": "package com.example.openai;\n\nclass Main {\n}\n",
}
THEIRS = {
    "app.py": "import anthropic\nanthropic.Anthropic()\n",
    f"{JAVA}Main.java": (
        "package com.example.openai;\n\nclass Main {\n"
        '    void run() { new ChatClient("k").send(OpenAIModel.GPT_4_1); }\n}\n'
    ),
}
THEIR_SIGHTINGS = {("app.py", "anthropic"), (f"{JAVA}Main.java", "gpt-4.1")}


def _trees(tmp_path: Path) -> tuple[Path, Path]:
    return write_tree(tmp_path / "mine" / "repo", MINE), write_tree(tmp_path / "theirs" / "repo", THEIRS)


def _swap_for_link(folder: Path, to: Path) -> None:
    folder.rename(folder.with_name("was-here"))
    folder.symlink_to(to, target_is_directory=True)


def _seen(result) -> set[tuple[str, str]]:
    return {
        (location.file, component.name) for component in result.components for location in component.locations
    }


@pytest.mark.parametrize("stage", ["detecting", "resolving"])
def test_a_target_swapped_for_a_link_during_the_scan_is_not_read_through_it(tmp_path, stage):
    mine, theirs = _trees(tmp_path)
    swapped: list[str] = []

    def swap_at_stage(current: str, done: int, total: int) -> None:
        if current == stage and not swapped:
            _swap_for_link(mine, theirs)
            swapped.append(current)

    result = scan_path(mine, jobs=1, progress=swap_at_stage)
    assert swapped
    if stage == "resolving":  # detection read the target before the swap
        assert (f"{JAVA}OpenAIModel.java", "gpt-4.1") in _seen(result)
    else:
        assert ("app.py", "unreadable: leads outside the scan target (replaced since the walk)") in {
            (warning.file, warning.message) for warning in result.warnings
        }
    assert not _seen(result) & THEIR_SIGHTINGS, _seen(result)


def test_isolated_workers_read_inside_the_real_root_worked_out_before_the_swap(tmp_path):
    mine, theirs = _trees(tmp_path)

    def chunks():
        _swap_for_link(mine, theirs)  # after detection started, before any worker got its chunk
        yield [("app.py", (theirs / "app.py").stat().st_size, "production")]

    reports, read = detect_isolated(str(mine), chunks(), 1, 1 << 20, 2.0)
    assert read == 0
    [(relpath, report)] = reports
    assert relpath == "app.py" and not report.findings
    assert any("replaced since the walk" in warning for warning in report.warnings), report.warnings


def test_a_confined_target_that_resolves_elsewhere_by_the_time_it_is_scanned_is_refused(tmp_path):
    mine, theirs = _trees(tmp_path)
    confined = str(mine.resolve())
    assert scan_path(confined, jobs=1, resolves_to=confined).files_scanned == len(MINE)
    _swap_for_link(mine, theirs)
    with pytest.raises(TargetMoved):
        scan_path(confined, jobs=1, resolves_to=confined)


def test_a_folder_swapped_for_a_link_after_the_walk_met_it_is_not_listed_through_it(tmp_path):
    """The walk pushes a folder by path and lists it later: swapped for a link meanwhile, it listed the
    other checkout's file names (entries, warnings) and read its ``.gitignore`` and ``.git/index``."""
    mine = write_tree(tmp_path / "mine" / "repo", {"a.py": "import os\n", "sub/b.py": "import os\n"})
    theirs = write_tree(
        tmp_path / "theirs" / "repo", {"their_private_name.py": "x = 1\n", ".gitignore": "*.log\n"}
    )
    warnings: list[tuple[str, str]] = []
    walk = iter_walk(mine.resolve(), lambda path, message: warnings.append((path, message)))
    assert next(walk).relpath == "a.py"  # the root is listed and ``sub`` pushed, not yet listed
    _swap_for_link(mine / "sub", theirs)
    assert [entry.relpath for entry in walk] == []
    assert warnings == [
        ("sub", "cannot read directory: leads outside the scan target (replaced since the walk)")
    ]


def test_a_target_swapped_for_a_link_before_the_walk_began_is_not_listed(tmp_path):
    """The walk resolved the target again when it began, after ``scan_path`` had resolved it: swapped in
    between (here as the walk is announced), it listed the other checkout as the target, its file names
    returned in the refused-read warnings."""
    mine, theirs = _trees(tmp_path)

    def swap_as_the_walk_begins(current: str, done: int, total: int) -> None:
        if current == "walking" and not mine.is_symlink():
            _swap_for_link(mine, theirs)

    result = scan_path(mine, jobs=1, progress=swap_as_the_walk_begins)
    assert mine.is_symlink()
    assert result.files_scanned == 0 and not result.components
    assert {(w.file, w.message) for w in result.warnings} == {
        (".", "cannot read directory: leads outside the scan target (replaced since the walk)")
    }

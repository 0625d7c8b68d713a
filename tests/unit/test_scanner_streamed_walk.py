"""A tree large enough for the isolated workers starts them while the rest of it is still walked."""

from __future__ import annotations

from common.scanner import engine, isolation, scan_path
from tests.unit.scanner_helpers import keys, write_tree

FILES = 60
FILES_PER_CHUNK = 5
ISOLATED_FROM = 10


def _tree(root):
    write_tree(
        root,
        {
            f"pkg{index // 10}/mod{index:02d}.py": "import openai\n" if index % 7 == 0 else "x = 1\n"
            for index in range(FILES)
        },
    )


def test_workers_start_before_the_walk_ends_and_find_what_an_in_process_scan_finds(tmp_path, monkeypatch):
    _tree(tmp_path)
    inline = scan_path(tmp_path, jobs=1)
    walked: list[str] = []
    walked_at_spawn: list[int] = []

    def counting_walk(root, warn, real_root=None):
        for entry in real_walk(root, warn, real_root):
            walked.append(entry.relpath)
            yield entry

    def recording_start(*args):
        walked_at_spawn.append(len(walked))
        return real_start(*args)

    real_walk, real_start = engine.iter_walk, isolation._start_worker
    monkeypatch.setattr(engine, "iter_walk", counting_walk)
    monkeypatch.setattr(isolation, "_start_worker", recording_start)
    monkeypatch.setattr(engine, "IN_PROCESS_BELOW_FILES", ISOLATED_FROM)
    monkeypatch.setattr(engine, "CHUNK_MAX_FILES", FILES_PER_CHUNK)
    progress: list[tuple[str, int, int]] = []
    isolated = scan_path(tmp_path, jobs=2, progress=lambda *event: progress.append(event))

    assert walked_at_spawn and walked_at_spawn[0] < FILES
    assert keys(isolated) == keys(inline) and keys(inline)
    assert isolated.files_scanned == inline.files_scanned == FILES
    assert [c.to_dict() for c in isolated.components] == [c.to_dict() for c in inline.components]
    detecting = [event for event in progress if event[0] == "detecting"]
    assert detecting and all(total == FILES for _, _, total in detecting)
    assert detecting[-1] == ("detecting", FILES, FILES)


def test_a_small_tree_is_walked_whole_and_scanned_in_process(tmp_path, monkeypatch):
    _tree(tmp_path)
    monkeypatch.setattr(
        isolation, "_start_worker", lambda *args: (_ for _ in ()).throw(AssertionError("a worker"))
    )
    progress: list[tuple[str, int, int]] = []
    result = scan_path(tmp_path, jobs=2, progress=lambda *event: progress.append(event))
    assert result.files_scanned == FILES and keys(result)
    detecting = [event for event in progress if event[0] == "detecting"]
    assert detecting[0] == ("detecting", 0, FILES) and detecting[-1] == ("detecting", FILES, FILES)


def test_without_linux_isolation_a_large_tree_is_scanned_in_process(tmp_path, monkeypatch):
    # the zygote's SOCK_SEQPACKET socket is Linux's: the CLI on macOS scans in-process instead of failing
    _tree(tmp_path)
    monkeypatch.setattr(engine, "IN_PROCESS_BELOW_FILES", ISOLATED_FROM)
    monkeypatch.setattr(engine, "ISOLATION_AVAILABLE", False)
    monkeypatch.setattr(
        isolation, "_start_worker", lambda *args: (_ for _ in ()).throw(AssertionError("a worker"))
    )
    result = scan_path(tmp_path, jobs=2)
    assert result.files_scanned == FILES and keys(result) == keys(scan_path(tmp_path, jobs=1))

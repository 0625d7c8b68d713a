"""Isolated workers are forks of one zygote per scan: one interpreter start and one import of the
detectors, however many workers the scan starts or replaces."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

from common.scanner import isolation
from common.scanner.isolation import detect_isolated
from common.scanner.worker import scan_chunk
from tests.unit.scanner_helpers import stuck_worker_command, write_tree

FILES = {
    "a.py": "import openai\n",
    "b.py": "import cohere\n",
    "c.py": "import anthropic\n",
    "d.js": "import Anthropic from '@anthropic-ai/sdk'\n",
}


def _entries(root: Path, names) -> list[tuple[str, int, str]]:
    return [(name, (root / name).stat().st_size, "production") for name in names]


def _parent_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))


def _started_zygotes(monkeypatch) -> list[isolation._Zygote]:
    started: list[isolation._Zygote] = []
    real_init = isolation._Zygote.__init__

    def recording_init(self) -> None:
        real_init(self)
        started.append(self)

    monkeypatch.setattr(isolation._Zygote, "__init__", recording_init)
    return started


def test_two_workers_are_forks_of_one_zygote_and_find_what_a_scan_in_process_finds(tmp_path, monkeypatch):
    write_tree(tmp_path, FILES)
    zygotes = _started_zygotes(monkeypatch)
    chunks = [
        _entries(tmp_path, ["a.py", "b.py"]),
        _entries(tmp_path, ["c.py"]),
        _entries(tmp_path, ["d.js"]),
    ]
    reports, read = detect_isolated(str(tmp_path), chunks, 2, 1 << 20, 2.0)
    inline, inline_read = scan_chunk(str(tmp_path), _entries(tmp_path, sorted(FILES)), 1 << 20, 2.0)
    assert len(zygotes) == 1 and zygotes[0].forked == 2
    assert zygotes[0].process.returncode is not None  # ended with the scan
    assert [(path, report.findings) for path, report in reports] == [
        (path, report.findings) for path, report in inline
    ]
    assert read == inline_read


def test_a_killed_zygote_is_replaced_and_the_scan_goes_on(tmp_path, monkeypatch):
    """Its workers die with it (they are killed when their parent dies): the file a worker was on becomes
    a warning, and a worker forked from a new zygote takes the rest of the chunk."""
    write_tree(tmp_path, FILES)
    marker = tmp_path / "stuck.pid"
    monkeypatch.setattr(isolation, "WORKER_COMMAND", stuck_worker_command("b.py", marker))
    zygotes = _started_zygotes(monkeypatch)
    first_zygote: list[int] = []

    def kill_the_zygote():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):  # not written yet, or half written
                zygote = _parent_of(int(marker.read_text()))
                first_zygote.append(zygote)
                os.kill(zygote, signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_zygote)
    killer.start()
    reports, _ = detect_isolated(
        str(tmp_path), [_entries(tmp_path, ["a.py", "b.py", "c.py"])], 1, 1 << 20, 2.0, wall_limit=30
    )
    killer.join()
    by_file = dict(reports)
    assert first_zygote == [zygotes[0].process.pid] and len(zygotes) == 2
    assert "crashed (SIGKILL)" in by_file["b.py"].warnings[0]
    assert by_file["a.py"].findings and by_file["c.py"].findings


def test_answers_gather_while_no_worker_is_near_the_end_of_its_chunk(tmp_path, monkeypatch):
    """The parent reads several answers per look instead of waking for each file, and pauses only when
    every busy worker still has files ahead of it; what it finds is what an in-process scan finds."""
    names = [f"m{index:03}.py" for index in range(150)]
    write_tree(
        tmp_path,
        {name: f"import openai\nMODEL = 'gpt-4o'\nx{index} = 1\n" for index, name in enumerate(names)},
    )
    pauses: list[list[int]] = []
    workers: list[isolation._Worker] = []
    real_sleep, real_start = time.sleep, isolation._start_worker

    def starting(zygote):
        workers.append(real_start(zygote))
        return workers[-1]

    def sleeping(seconds: float) -> None:
        if sys._getframe(1).f_code is detect_isolated.__code__:  # not ``subprocess``' waits
            pauses.append([len(w.chunk) - w.done for w in workers])
        real_sleep(seconds)

    monkeypatch.setattr(isolation, "_start_worker", starting)
    monkeypatch.setattr(isolation.time, "sleep", sleeping)
    reports, _ = detect_isolated(str(tmp_path), [_entries(tmp_path, names)], 1, 1 << 20, 2.0)
    monkeypatch.undo()
    inline, _ = scan_chunk(str(tmp_path), _entries(tmp_path, names), 1 << 20, 2.0)
    assert [(path, report.findings) for path, report in reports] == [
        (path, report.findings) for path, report in inline
    ]
    assert pauses and all(left > 0 for looked in pauses for left in looked)

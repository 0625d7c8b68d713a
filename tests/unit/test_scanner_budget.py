"""The per-file budget: a CPU-time limit in-process, isolated workers under a watchdog elsewhere."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from common.scanner import isolation, scan_path
from common.scanner.isolation import detect_isolated
from common.scanner.worker import MEMORY_WARNING
from tests.unit.scanner_helpers import keys, stuck_worker_command, write_tree

# 4.5 MB of empty lists: ~100 MB of list objects once a JSON parser has read them
BALLOONING_MANIFEST = '{"name": "x", "x": [' + "[]," * 1_500_000 + "[]]}"
SMALL_SCAN_MEMORY_BYTES = 32 * 1024**2
SLOW_SOURCE = "import openai\n" + "client = openai.OpenAI()\nvalue = call(1, 2, [3, 4], {'k': 'v'})\n" * 6_000


def test_a_file_over_its_cpu_budget_is_stopped_with_a_warning_and_the_scan_goes_on(tmp_path):
    write_tree(tmp_path, {"a_slow.py": SLOW_SOURCE, "b_fine.py": "import anthropic\n"})
    started = time.monotonic()
    result = scan_path(tmp_path, jobs=1, file_budget_seconds=0.05)
    assert time.monotonic() - started < 30
    warned = {w.file: w.message for w in result.warnings}
    assert "CPU budget" in warned["a_slow.py"]
    assert "llm_provider:anthropic" in keys(result)
    # within the default budget the same file is analysed completely
    assert not scan_path(tmp_path, jobs=1).warnings


# Scans the tree in a fresh interpreter: the cap is counted from the address space the process holds, and
# memory earlier tests freed stays mapped in this one, room a balloon would fill before reaching the cap.
BALLOON_SCAN = """
import json, resource, sys
from common.scanner import scan_path
before = resource.getrlimit(resource.RLIMIT_AS)
result = scan_path(sys.argv[1], jobs=1, scan_memory_bytes=int(sys.argv[2]), file_budget_seconds=600)
after = resource.getrlimit(resource.RLIMIT_AS)
room = len(bytearray(4 * int(sys.argv[2])))
print(json.dumps({"warnings": {w.file: w.message for w in result.warnings},
                  "components": sorted(f"{c.type}:{c.name}" for c in result.components),
                  "limit_restored": after == before, "room_after": room}))
"""


def test_a_small_tree_ballooning_a_parser_stops_at_the_scans_memory_cap_and_the_process_goes_on(tmp_path):
    """A tree under ``IN_PROCESS_BELOW_FILES`` is scanned in the caller's own process (a Celery prefork pool
    process), where no isolated worker's address-space limit holds: a manifest of empty lists took it
    ~20 bytes of memory per byte read, without bound. The file now stops at the scan's room, the scan
    goes on, and the process has its own limit back."""
    write_tree(tmp_path, {"package.json": BALLOONING_MANIFEST, "app.py": "import anthropic\n"})
    run = subprocess.run(
        [sys.executable, "-c", BALLOON_SCAN, str(tmp_path), str(SMALL_SCAN_MEMORY_BYTES)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert run.returncode == 0, run.stderr
    outcome = json.loads(run.stdout)
    assert outcome["warnings"] == {"package.json": MEMORY_WARNING}
    assert "llm_provider:anthropic" in outcome["components"]
    assert outcome["limit_restored"] and outcome["room_after"] == 4 * SMALL_SCAN_MEMORY_BYTES


def test_scans_off_the_main_thread_run_isolated_and_find_the_same(tmp_path):
    """Signals reach only the main thread, so a Celery thread or web request scans in workers."""
    write_tree(tmp_path, {"a.py": "import openai\n", "b.js": "import Anthropic from '@anthropic-ai/sdk'\n"})
    inline = scan_path(tmp_path, jobs=1)
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", scan_path(tmp_path, jobs=1)))
    thread.start()
    thread.join(120)
    assert keys(box["result"]) == keys(inline) and keys(inline)


def _entries(root: Path, names: list[str]) -> list[tuple[str, int, str]]:
    return [(name, (root / name).stat().st_size, "production") for name in names]


def test_the_watchdog_replaces_a_worker_stuck_where_no_signal_reaches(tmp_path, monkeypatch):
    """A worker blocked without spending CPU (a read that never returns) is seen by the wall clock only."""
    write_tree(tmp_path, {"a.py": "import openai\n", "b.py": "import cohere\n", "c.py": "import anthropic\n"})
    monkeypatch.setattr(isolation, "WORKER_COMMAND", stuck_worker_command("b.py", tmp_path / "stuck.pid"))
    started = time.monotonic()
    reports, _ = detect_isolated(
        str(tmp_path), [_entries(tmp_path, ["a.py", "b.py", "c.py"])], 1, 1 << 20, 2.0, wall_limit=5.0
    )
    assert time.monotonic() - started < 60
    by_file = dict(reports)
    assert (tmp_path / "stuck.pid").exists()  # the worker was stuck on b.py, not failing on it
    assert "per-file limit" in by_file["b.py"].warnings[0]
    assert by_file["a.py"].findings and by_file["c.py"].findings  # the rest of the chunk went on


class _SkippingClock:
    """``isolation``'s ``time``: the monotonic clock, plus the seconds ``skip`` added."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def test_a_zygote_slow_to_start_costs_no_file_its_per_file_limit(tmp_path, monkeypatch):
    """The per-file clock starts when the worker is ready: a loaded machine's imports in the zygote took
    longer than the watchdog test's limit, and the first file was stopped before the worker ever saw it.
    Here the parent's clock jumps past the limit once the first chunk is sent, as those imports take."""
    write_tree(tmp_path, {"a.py": "import openai\n", "b.py": "import cohere\n"})
    wall_limit = 5.0
    clock = _SkippingClock()
    monkeypatch.setattr(isolation, "time", clock)
    assign = isolation._Worker.assign

    def assign_then_start_slowly(worker, *args):
        assign(worker, *args)
        if not clock.skipped:
            clock.skipped = wall_limit + 1

    monkeypatch.setattr(isolation._Worker, "assign", assign_then_start_slowly)
    reports, _ = detect_isolated(
        str(tmp_path), [_entries(tmp_path, ["a.py", "b.py"])], 1, 1 << 20, 2.0, wall_limit=wall_limit
    )
    by_file = dict(reports)
    assert clock.skipped and not [report.warnings for report in by_file.values() if report.warnings], by_file
    assert by_file["a.py"].findings and by_file["b.py"].findings


def test_a_crashed_worker_costs_one_file_not_the_scan(tmp_path, monkeypatch):
    write_tree(tmp_path, {"a.py": "import openai\n", "b.py": "import cohere\n", "c.py": "import anthropic\n"})
    marker = tmp_path / "stuck.pid"
    monkeypatch.setattr(isolation, "WORKER_COMMAND", stuck_worker_command("b.py", marker))

    def crash_the_worker():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):  # not written yet, or half written
                os.kill(int(marker.read_text()), signal.SIGSEGV)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=crash_the_worker)
    killer.start()
    reports, _ = detect_isolated(
        str(tmp_path), [_entries(tmp_path, ["a.py", "b.py", "c.py"])], 1, 1 << 20, 2.0, wall_limit=30
    )
    killer.join()
    by_file = dict(reports)
    assert "crashed (SIGSEGV)" in by_file["b.py"].warnings[0]
    assert by_file["c.py"].findings


def test_the_cli_takes_the_budget_from_file_budget(tmp_path):
    from common.cli import main

    write_tree(tmp_path / "repo", {"a_slow.py": SLOW_SOURCE})
    report = tmp_path / "report.json"
    args = ["scan", str(tmp_path / "repo"), "--format", "json", "-o", str(report), "--quiet", "--jobs", "1"]
    assert main([*args, "--file-budget", "0.05"]) == 0
    warnings = json.loads(report.read_text())["warnings"]
    assert [w["file"] for w in warnings] == ["a_slow.py"] and "CPU budget" in warnings[0]["message"]
    assert main([*args, "--file-budget", "0"]) == 2


def test_a_repeat_signal_landing_in_the_handler_itself_never_raises_there():
    """CI saw the budget raised from inside a host's gc callback: the repeat signal landed in
    ``_interruptible`` (scanning code by module) while the handler ran for the callback's frame,
    and the exception was lost as unraisable. The handler's own frames are never interruptible."""
    from types import SimpleNamespace

    from common.scanner import worker

    for handler in (worker._interruptible, worker._expire):
        frame = SimpleNamespace(f_code=handler.__code__, f_globals={"__name__": worker.__name__})
        assert not worker._interruptible(frame)
    scanning = SimpleNamespace(f_code=scan_path.__code__, f_globals={"__name__": "common.scanner.engine"})
    assert worker._interruptible(scanning)

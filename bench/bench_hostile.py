"""Worst per-file cost over issue 19's hostile repository, with and without the per-file budget.

Each file of ``tests/hostile_repo.py`` is scanned on its own by every detector that applies, in
this process: once with no budget (what the parsers, patterns and limits cost by themselves)
and once under the default CPU budget (what a scan pays). Then the whole repository goes
through ``trusera scan`` as a subprocess, whose wall time and peak RSS (with its workers) are
recorded. ``--amplification N`` measures instead what one hostile manifest costs the files below
it: a scan (in-process, CPU time) of ``tests/hostile_repo.py``'s amplifying manifests above one file
each, then above N files each. Results go in bench/README.md.

    .venv/bin/python bench/bench_hostile.py            # --repeat R
    .venv/bin/python bench/bench_hostile.py --amplification 100
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.scanner import scan_path  # noqa: E402
from common.scanner.detectors.base import SourceFile  # noqa: E402
from common.scanner.registry import all_detectors  # noqa: E402
from common.scanner.textutil import one_scan  # noqa: E402
from common.scanner.walker import walk  # noqa: E402
from common.scanner.worker import DEFAULT_FILE_BUDGET_SECONDS, scan_file  # noqa: E402
from tests.hostile_repo import write_amplifying_manifests, write_hostile_repo  # noqa: E402

MAX_FILE_BYTES = 5 * 1024 * 1024


def per_file(root: Path, budget: float, repeat: int) -> list[tuple[float, str, str]]:
    detectors = all_detectors()
    rows = []
    for entry in walk(root, lambda *_: None):
        best = float("inf")
        for _ in range(repeat):
            source = SourceFile(path=root / entry.relpath, relpath=entry.relpath, size=entry.size)
            started = time.process_time()
            with one_scan():  # neighbour files answered once, as in a scan
                report, _ = scan_file(source, detectors, MAX_FILE_BYTES, budget)
            best = min(best, time.process_time() - started)
        rows.append((best, ascii(entry.relpath)[1:-1], report.warnings[0][:70] if report.warnings else ""))
    return sorted(rows, reverse=True)


def cli_run(root: Path) -> tuple[float, int]:
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "common.cli",
            "scan",
            str(root),
            "--format",
            "json",
            "-o",
            "/dev/null",
            "--quiet",
        ],
        cwd=ROOT,
        check=True,
    )
    return time.monotonic() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def amplification(files: int, repeat: int) -> None:
    """CPU time of a scan of the amplifying manifests above one file each, then ``files`` each."""
    for count in (1, files):
        with tempfile.TemporaryDirectory() as scratch:
            write_amplifying_manifests(Path(scratch), count)
            best = float("inf")
            for _ in range(repeat):
                started = time.process_time()
                scan_path(scratch, jobs=1)
                best = min(best, time.process_time() - started)
        print(f"manifests above {count:>5} files each: {best:.2f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs per file")
    parser.add_argument("--amplification", type=int, metavar="N", help="manifests above N files instead")
    args = parser.parse_args()
    if args.amplification:
        amplification(args.amplification, args.repeat)
        return
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "repo"
        write_hostile_repo(root)
        all_detectors()  # catalogs loaded outside the timings
        unbudgeted = per_file(root, 0, args.repeat)
        budgeted = dict(
            (name, seconds) for seconds, name, _ in per_file(root, DEFAULT_FILE_BUDGET_SECONDS, 1)
        )
        print(f"{'file':<28} {'no budget':>10} {'budget':>8}  warning")
        for seconds, name, warning in unbudgeted:
            print(f"{name:<28} {seconds:>9.3f}s {budgeted[name]:>7.3f}s  {warning}")
        worst = unbudgeted[0]
        print(f"\nworst file: {worst[1]} {worst[0]:.3f} s CPU (budget {DEFAULT_FILE_BUDGET_SECONDS:g} s)")
        wall, peak_mib = cli_run(root)
        print(f"trusera scan of the whole repository: {wall:.1f} s wall, peak RSS {peak_mib} MiB")


if __name__ == "__main__":
    main()

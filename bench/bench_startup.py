"""Per-tree CLI cost, engine before/after and ai-bom 3.6.0 interleaved tree by tree.

    .venv/bin/python bench/bench_startup.py --before DIR [--trees /work/corpus-trees] [--skip-aibom]
                                            [--outputs DIR] [--all-trees]

* ``--before DIR`` is another checkout of the engine (e.g. ``git worktree add /tmp/before main``); both
  engines are byte-compiled first, as ``pip install`` does, and run through ``python -m common.cli``
  with the checkout as working directory, so each imports its own ``common`` package.
* For every tree the tools run back to back in turn (before, after, ai-bom), so load swings on a
  shared machine hit them alike. CPU time is user + system of the whole process tree (the resource
  usage of reaped children, which includes a scan's worker processes).
* ``--outputs DIR`` keeps each engine's JSON report minus ``duration_ms`` as
  ``DIR/{before,after}/<tree>.json`` and reports every tree where the two differ.
* ``--all-trees`` adds one run of each tool over a directory holding every tree (without ``.git``).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_scanner import WORK, compile_engine, ensure_aibom  # noqa: E402


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, descendants included) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode not in (0, 1):
        raise RuntimeError(f"{command} failed: {completed.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def engine_run(source: Path, tree: Path, output: Path) -> tuple[float, float]:
    command = [sys.executable, "-m", "common.cli", "scan", str(tree), "--format", "json", "-o", str(output)]
    return timed([*command, "--quiet"], source)


def normalized(output: Path) -> str:
    report = json.loads(output.read_text())
    report.pop("duration_ms", None)
    return json.dumps(report, indent=1, sort_keys=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--trees", type=Path, default=Path("/work/corpus-trees"))
    parser.add_argument("--outputs", type=Path)
    parser.add_argument("--skip-aibom", action="store_true")
    parser.add_argument("--all-trees", action="store_true")
    args = parser.parse_args()
    engines = {"before": args.before.resolve(), "after": ROOT}
    for source in engines.values():
        compile_engine(source)
    binary = None if args.skip_aibom else ensure_aibom()
    trees = sorted(path for path in args.trees.iterdir() if path.is_dir())
    totals = {name: [0.0, 0.0] for name in [*engines, *([] if binary is None else ["ai-bom"])]}
    differing = []
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for tree in trees:
            row = {}
            for name, source in engines.items():
                output = scratch / f"{name}.json"
                row[name] = engine_run(source, tree, output)
                if args.outputs:
                    kept = args.outputs / name / f"{tree.name}.json"
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    kept.write_text(normalized(output))
            if binary is not None:
                command = [str(binary), "scan", str(tree), "-f", "csv", "-o", str(scratch / "a.csv"), "-q"]
                row["ai-bom"] = timed(command, scratch)
            for name, (wall, cpu) in row.items():
                totals[name][0] += wall
                totals[name][1] += cpu
            if (
                args.outputs
                and (args.outputs / "before" / f"{tree.name}.json").read_text()
                != (args.outputs / "after" / f"{tree.name}.json").read_text()
            ):
                differing.append(tree.name)
            cells = "  ".join(f"{name} {wall:6.2f}/{cpu:5.2f}" for name, (wall, cpu) in row.items())
            print(f"{tree.name[:40]:40} {cells}", flush=True)
        print(f"\none CLI run per tree, sum of {len(trees)} (wall / CPU s):")
        for name, (wall, cpu) in totals.items():
            print(f"  {name:8} {wall:7.2f} / {cpu:6.2f}   per run {cpu / len(trees):.3f} s CPU")
        if args.all_trees:
            combined = WORK / "startup-all"
            shutil.rmtree(combined, ignore_errors=True)
            for tree in trees:
                shutil.copytree(
                    tree, combined / tree.name, ignore=shutil.ignore_patterns(".git"), symlinks=True
                )
            print(f"one run over all {len(trees)} trees (wall / CPU s):")
            for name, source in engines.items():
                wall, cpu = engine_run(source, combined, scratch / f"all-{name}.json")
                print(f"  {name:8} {wall:7.2f} / {cpu:6.2f}", flush=True)
            if binary is not None:
                command = [
                    str(binary),
                    "scan",
                    str(combined),
                    "-f",
                    "csv",
                    "-o",
                    str(scratch / "a.csv"),
                    "-q",
                ]
                wall, cpu = timed(command, scratch)
                print(f"  ai-bom   {wall:7.2f} / {cpu:6.2f}")
            if args.outputs:
                same = normalized(scratch / "all-before.json") == normalized(scratch / "all-after.json")
                print(f"  all-trees reports identical: {same}")
                differing += [] if same else ["(all trees)"]
    if args.outputs:
        print("outputs differ on: " + (", ".join(differing) if differing else "none"))
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())

"""Dump every scan result of a checkout as sorted JSON, to prove an engine change moved no finding.

    .venv/bin/python bench/findings_dump.py OUT [--source CHECKOUT] [--trees /work/corpus-trees]
    diff -r OUT_BEFORE OUT_AFTER

* ``--source`` is the checkout whose ``common`` package scans (default: this one), so the same
  script dumps "before" from another checkout (e.g. ``git archive main | tar -x -C /tmp/before``).
* One JSON file per tree of ``--trees``, per project of ``tests/fixtures/corpus`` and for one scan
  over all the trees together (``--all-trees DIR``: a directory holding a copy of every tree, as
  ``bench_startup.py --all-trees`` builds; it is large enough to go through the isolated workers).
* Each file is ``ScanResult.to_dict()`` without ``duration_ms`` (the one field that varies between
  identical scans), keys sorted, so ``diff -r`` of two dumps is empty exactly when nothing changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def dump(result, output: Path) -> None:
    payload = result.to_dict()
    payload.pop("duration_ms", None)
    output.write_text(json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--trees", type=Path, default=Path("/work/corpus-trees"))
    parser.add_argument("--all-trees", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(args.source.resolve()))
    from common.scanner import scan_path

    targets = {f"tree-{path.name}": path for path in sorted(args.trees.iterdir()) if path.is_dir()}
    corpus = ROOT / "tests" / "fixtures" / "corpus"
    targets.update({f"corpus-{path.name}": path for path in sorted(corpus.iterdir()) if path.is_dir()})
    if args.all_trees:
        targets["all-trees"] = args.all_trees
    args.out.mkdir(parents=True, exist_ok=True)
    for name, path in targets.items():
        dump(scan_path(path), args.out / f"{name}.json")
    print(f"{len(targets)} results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

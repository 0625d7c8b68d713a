"""Export throughput: render a 20,000-component scan in each of the seven formats.

The bundle is the exporter tests' realistic scan (every component type, seven package
ecosystems, models with lifecycle data, flags, compliance and policy results) replicated
with distinct ids, names, files and lines, plus its relationships. Each format is timed
``--repeat`` times in this process; the best and the median are printed with the output
size. Target: under 3 s per format.

    .venv/bin/python bench/bench_exports.py            # --components N --repeat R
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.exporters import FORMATS, render
from tests.unit.test_export_bundle import make_bundle

TARGET_SECONDS = 3.0


def big_bundle(size: int) -> dict:
    """The realistic bundle scaled to ``size`` components; copy k of each becomes '<name>-k'."""
    seed = make_bundle()
    templates = seed["components"]
    components, relationships = [], []
    for index in range(size):
        copy_no, slot = divmod(index, len(templates))
        template = templates[slot]
        item = copy.deepcopy(template)
        item["id"] = f"{template['id']}-{copy_no}"
        item["name"] = f"{template['name']}-{copy_no}"
        item["locations"] = [
            {**loc, "file": f"pkg{copy_no % 400}/{loc['file']}", "line": loc["line"] + copy_no % 7}
            for loc in item["locations"]
        ]
        components.append(item)
    suffix = {c["id"]: n for n, c in enumerate(templates)}
    for copy_no in range(size // len(templates) + 1):
        for rel in seed["relationships"]:
            source, target = rel["source"], rel["target"]
            mapped_target = f"{target}-{copy_no}"
            if suffix[target] + copy_no * len(templates) >= size:
                continue
            if source.startswith("file:"):
                mapped_source = f"file:pkg{copy_no % 400}/{source.removeprefix('file:')}"
            elif suffix[source] + copy_no * len(templates) < size:
                mapped_source = f"{source}-{copy_no}"
            else:
                continue
            relationships.append(
                {"source": mapped_source, "target": mapped_target, "relation": rel["relation"]}
            )
    compliance = seed["compliance"]
    for framework in compliance["frameworks"]:
        for control in framework["controls"]:
            control["evidence"] = [c["id"] for c in components[:: max(len(templates), 1)][:500]]
    policies = seed["policies"]
    policies[0]["violations"] = [
        {
            "rule_index": 0,
            "component_id": c["id"],
            "message": f"hardcoded_api_key on {c['name']}",
            "severity": "critical",
        }
        for c in components
        if "hardcoded_api_key" in c["flags"]
    ]
    return {**seed, "components": components, "relationships": relationships}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bundle = big_bundle(args.components)
    print(f"{len(bundle['components'])} components, {len(bundle['relationships'])} relationships")
    print(f"{'format':<10} {'best s':>8} {'median s':>9} {'size MB':>8}  target")
    for name in FORMATS:
        times, size = [], 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            size = len(render(name, bundle))
            times.append(time.perf_counter() - start)
        best = min(times)
        verdict = "ok" if best < TARGET_SECONDS else "MISSED"
        print(f"{name:<10} {best:>8.2f} {statistics.median(times):>9.2f} {size / 1e6:>8.1f}  {verdict}")


if __name__ == "__main__":
    main()

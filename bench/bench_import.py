"""CI upload validation: how long ``POST /scans/import`` spends validating and converting a document.

The document is the exporters' realistic scan scaled to ``--components`` (bench_exports.big_bundle),
uploaded once as the CLI's JSON result and once as the CycloneDX 1.6 BOM the platform exports; each is
run through :func:`common.bom.importer.import_document` (schema validation plus conversion), which is
what the request does before it writes anything. Target: under 30 s for 20,000 components.

    .venv/bin/python bench/bench_import.py            # --components N --repeat R
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_exports import big_bundle
from common.bom.importer import import_document
from common.exporters import render

TARGET_SECONDS = 30.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bundle = big_bundle(args.components)
    documents = {
        "trusera json": {
            "components": bundle["components"],
            "relationships": bundle["relationships"],
            "warnings": [],
            "files_scanned": args.components,
            "tool": bundle["tool"],
        },
        "cyclonedx 1.6": json.loads(render("cyclonedx", bundle)),
    }
    failed = False
    for name, document in documents.items():
        size = len(json.dumps(document)) // 1024
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            import_document(document)
            times.append(time.perf_counter() - started)
        best, median = min(times), statistics.median(times)
        failed |= median > TARGET_SECONDS
        print(f"{name:14} {args.components} components, {size} KiB: median {median:.2f} s, best {best:.2f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Ingest of a large result: POST to the internal API until the scan is stored as completed, and the peak
memory of the API and the ingest worker.

Self-contained (``bench/_stack.py``): a scratch PostgreSQL database, the API as ``make run`` serves it and
one ``ingest`` worker (prefork, one child). A scan row is created running, then a synthetic result of
``--components`` components (the engine's own shape: locations with snippets, flags, metadata) is posted to
``/api/v1/internal/scans/:id/result`` with the internal key; the clock stops when the scan reads
``completed``. Peak memory is each process tree's high-water RSS (``VmHWM``). Run from the repository root::

    .venv/bin/python bench/bench_ingest.py [--components 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import Stack, machine
from bench.bench_footprint import tree_pids


def synthetic_result(count: int) -> dict:
    types = ("llm_provider", "model", "agent_framework", "mcp_server", "container", "vector_db")
    components = [
        {
            "id": f"{index:064x}",
            "name": f"component-{index}",
            "type": types[index % len(types)],
            "provider": ("openai", "anthropic", "google")[index % 3],
            "version": f"1.{index % 40}.0",
            "model_name": f"model-{index % 300}" if index % 6 == 1 else None,
            "locations": [
                {"file": f"src/module_{index % 500}.py", "line": index % 900 + 1, "snippet": "client.run()"}
            ],
            "flags": ["unpinned_model"] if index % 5 == 0 else [],
            "risk_score": index % 100,
            "severity": ("info", "low", "medium", "high", "critical")[index % 5],
            "risk_factors": ["benchmark"],
            "detector": "bench",
            "confidence": 0.9,
            "scope": "production",
            "metadata": {"bench": True},
        }
        for index in range(count)
    ]
    relationships = [
        {"source": components[i]["id"], "target": components[i + 1]["id"], "relation": "uses_model"}
        for i in range(0, count - 1, 3)
    ]
    return {"components": components, "relationships": relationships, "warnings": [], "files_scanned": 500}


def peak_rss_mb(root_pid: int) -> float:
    total = 0.0
    for pid in tree_pids(root_pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total = max(total, int(line.split()[1]) / 1024)
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    body = json.dumps(synthetic_result(args.components)).encode()
    timings = []
    with Stack("ingest", RATELIMIT_ENABLED="false") as stack:
        stack.start_api()
        worker = stack.start_worker("ingest", "ingest")
        session = stack.register()
        from common.config import get_settings
        from common.db import session_scope
        from common.models import Scan

        internal_key = get_settings().internal_api_key  # the same generated secrets file as the API
        headers = {"X-Internal-API-Key": internal_key, "Content-Type": "application/json"}
        for _ in range(args.rounds):
            with session_scope() as db:
                scan = Scan(
                    organization_id=session["user"]["personal_organization_id"],
                    target=str(stack.scan_root),
                    status="running",
                )
                db.add(scan)
                db.flush()
                scan_id = scan.id
            started = time.perf_counter()
            response = requests.post(
                f"{stack.api}/internal/scans/{scan_id}/result", data=body, headers=headers
            )
            response.raise_for_status()
            posted = time.perf_counter() - started
            while True:
                with session_scope() as db:
                    if db.get(Scan, scan_id).status == "completed":
                        break
                time.sleep(0.02)
            timings.append((posted, time.perf_counter() - started))
        api_peak = peak_rss_mb(stack.processes["api"].pid)
        worker_peak = peak_rss_mb(worker.pid)
    print(f"machine: {machine()}")
    print(f"{args.components} components, {len(body) / 1e6:.1f} MB of JSON, {args.rounds} rounds")
    print(f"POST answered (validated, stored): median {statistics.median(t[0] for t in timings):.2f} s")
    print(
        f"POST to completed (ingested): median {statistics.median(t[1] for t in timings):.2f} s, best "
        f"{min(t[1] for t in timings):.2f} s"
    )
    print(f"peak RSS: API {api_peak:.0f} MB, ingest worker {worker_peak:.0f} MB")


if __name__ == "__main__":
    main()

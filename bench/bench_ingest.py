"""Ingest of a large result: POST to the internal API until the scan is stored as completed, and the peak
memory of the API and the ingest worker.

Self-contained (``bench/_stack.py``): a scratch PostgreSQL database, the API as ``make run`` serves it and
one ``ingest`` worker (prefork, one child). A scan row is created running, then a synthetic result of
``--components`` components (the engine's own shape: locations with snippets, flags, metadata) is posted to
``/api/v1/internal/scans/:id/result`` with the internal key; the clock stops when the scan reads
``completed``. Peak memory is each process tree's high-water RSS (``VmHWM``). The CPU each round cost is
read from ``/proc/<pid>/stat`` (user + system): the API's process tree, the worker's, and every PostgreSQL
backend of the scratch database (``pg_stat_activity``; the benchmark polls through a connection of its
own, left out), so that a loaded machine's wall times can be read against the work done. Run from the
repository root::

    .venv/bin/python bench/bench_ingest.py [--components 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import sys
import time
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import PG_ADMIN_URL, Stack, machine
from bench.bench_footprint import tree_pids

TICKS = os.sysconf("SC_CLK_TCK")


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


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` so far (a process gone meanwhile counts nothing)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def backend_pids(monitor: psycopg.Connection, db_name: str) -> list[int]:
    """The PostgreSQL backends serving ``db_name``, but the monitor's own."""
    query = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    return [pid for (pid,) in monitor.execute(query, (db_name,))]


def cpu_by_role(monitor: psycopg.Connection, db_name: str, roots: dict[str, int]) -> dict[str, float]:
    cpu = {role: cpu_seconds(tree_pids(pid)) for role, pid in roots.items()}
    cpu["PostgreSQL"] = cpu_seconds(backend_pids(monitor, db_name))
    return cpu


def wait_until_ready(name: str, timeout: float = 120) -> None:
    """Until the worker ``name`` of ``Stack.start_worker`` answers a ping: a round started before would
    count the worker's start-up (imports, pool fork) as the CPU of its first ingest."""
    from workers.app import app

    node = f"{name}-{os.getpid()}@{socket.gethostname()}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(destination=[node], timeout=0.5):
            return
    raise RuntimeError(f"the worker {node} did not answer a ping within {timeout:.0f} s")


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
        wait_until_ready("ingest")
        from common.config import get_settings
        from common.db import session_scope
        from common.models import Scan

        internal_key = get_settings().internal_api_key  # the same generated secrets file as the API
        headers = {"X-Internal-API-Key": internal_key, "Content-Type": "application/json"}
        roots = {"API": stack.processes["api"].pid, "worker": worker.pid}
        monitor = psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{stack.db_name}", autocommit=True)
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
            before = cpu_by_role(monitor, stack.db_name, roots)
            started = time.perf_counter()
            response = requests.post(
                f"{stack.api}/internal/scans/{scan_id}/result", data=body, headers=headers
            )
            response.raise_for_status()
            posted = time.perf_counter() - started
            while (
                monitor.execute("SELECT status FROM scans WHERE id = %s", (scan_id,)).fetchone()[0]
                != "completed"
            ):
                time.sleep(0.02)
            finished = time.perf_counter() - started
            after = cpu_by_role(monitor, stack.db_name, roots)
            timings.append((posted, finished, {role: after[role] - before[role] for role in after}))
        monitor.close()
        api_peak = peak_rss_mb(stack.processes["api"].pid)
        worker_peak = peak_rss_mb(worker.pid)
    print(f"machine: {machine()}")
    print(f"{args.components} components, {len(body) / 1e6:.1f} MB of JSON, {args.rounds} rounds")
    print(f"POST answered (validated, stored): median {statistics.median(t[0] for t in timings):.2f} s")
    print(
        f"POST to completed (ingested): median {statistics.median(t[1] for t in timings):.2f} s, best "
        f"{min(t[1] for t in timings):.2f} s"
    )
    cpu = {role: statistics.median(t[2][role] for t in timings) for role in timings[0][2]}
    print(
        "CPU per round, median: "
        + ", ".join(f"{role} {seconds:.2f} s" for role, seconds in cpu.items())
        + f"; total {sum(cpu.values()):.2f} s"
    )
    for posted, finished, used in timings:
        print(
            f"  round: POST {posted:.2f} s, completed {finished:.2f} s, CPU "
            + ", ".join(f"{role} {seconds:.2f}" for role, seconds in used.items())
        )
    print(f"peak RSS: API {api_peak:.0f} MB, ingest worker {worker_peak:.0f} MB")


if __name__ == "__main__":
    main()

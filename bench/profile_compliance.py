"""Where ``compliance.evaluate_scan`` spends its time on a small scan: cProfile through the task body.

Self-contained (``bench/_stack.py``): the API, one ``scans`` and one ``ingest`` worker produce N
small completed scans (the targets of ``bench_pipeline_throughput.py``); then this process runs
``compliance.evaluate_scan`` on each of them in-process (``Task.apply``: the real task body, its
job row, its events and its follow-ups sent to the broker), first once unprofiled to warm up, then
timed (wall and CPU of this process), counted (database statements and commits, Redis round trips)
and profiled. Run from the repository root::

    .venv/bin/python bench/profile_compliance.py [--scans 20] [--top 30]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import Stack, machine
from bench.bench_pipeline_throughput import make_targets, wait_all


def completed_scans(stack: Stack, headers: dict, count: int) -> list[str]:
    targets = make_targets(stack.scan_root, count + 1)
    scan_ids = []
    for target in targets:
        response = requests.post(f"{stack.api}/scans", json={"target": target}, headers=headers, timeout=10)
        response.raise_for_status()
        scan_ids.append(response.json()["id"])
    scans = wait_all(stack.api, headers, scan_ids, timeout=600)
    if any(scan["status"] != "completed" for scan in scans):
        raise RuntimeError("a scan failed; see the worker logs")
    return scan_ids


def evaluate_all(scan_ids: list[str]) -> tuple[float, float]:
    from workers.compliance import evaluate_scan

    wall, cpu = time.perf_counter(), time.process_time()
    for scan_id in scan_ids:
        evaluate_scan.apply(args=(scan_id,), throw=True)
    return time.perf_counter() - wall, time.process_time() - cpu


def count_round_trips(scan_ids: list[str]) -> Counter:
    """Statements and commits sent to the database, and Redis round trips, over evaluating ``scan_ids``."""
    from redis.connection import Connection
    from sqlalchemy import event

    from common.db import get_engine

    counts = Counter()

    def on_statement(*_args) -> None:
        counts["statements"] += 1

    def on_commit(*_args) -> None:
        counts["commits"] += 1

    send_packed_command = Connection.send_packed_command

    def counting_send_packed_command(connection, *args, **kwargs):
        counts["redis round trips"] += 1
        return send_packed_command(connection, *args, **kwargs)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    Connection.send_packed_command = counting_send_packed_command
    try:
        evaluate_all(scan_ids)
    finally:
        Connection.send_packed_command = send_packed_command
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=20)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    with Stack("profcompliance", RATELIMIT_ENABLED="false") as stack:
        stack.start_api()
        session = stack.register()
        headers = {"Authorization": f"Bearer {session['access_token']}"}
        stack.start_worker("ingest", "ingest")
        stack.start_worker("scans", "scans")
        warm_up, *scan_ids = completed_scans(stack, headers, args.scans)
        evaluate_all([warm_up])
        wall, cpu = evaluate_all(scan_ids)
        round_trips = count_round_trips(scan_ids)
        profiler = cProfile.Profile()
        profiler.enable()
        evaluate_all(scan_ids)
        profiler.disable()
    print(f"machine: {machine()}")
    print(
        f"compliance.evaluate_scan, {len(scan_ids)} small scans, unprofiled: "
        f"{wall / len(scan_ids) * 1000:.1f} ms wall, {cpu / len(scan_ids) * 1000:.1f} ms CPU per scan"
    )
    print(", ".join(f"{n / len(scan_ids):.1f} {what}" for what, n in round_trips.items()), "per scan")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()

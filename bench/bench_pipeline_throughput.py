"""End-to-end pipeline throughput: scans per minute on 50 small targets, with 1 and with 2 ``scans`` workers.

Self-contained (``bench/_stack.py``): a scratch PostgreSQL database and Redis database (broker too),
the API as ``make run`` serves it, one ``ingest`` worker (``--concurrency 1``, as ``make run``), and
N ``scans`` worker processes (each ``celery worker -Q scans --concurrency 1``, as on N hosts). Rate
limits are off for this API (50 ``POST /scans`` in a burst; the reference allows 10 per minute).

Each round posts 50 scans at once (one per target: three source files and a requirements file with
AI components) and waits until every one is ``completed``: walked and detected on ``scans``, the
result posted to the internal API, stored on ``ingest``. Throughput is 50 over the time from the
first scan's creation to the last one's completion (the scans' own timestamps). A warm-up scan runs
before the rounds. Run from the repository root::

    .venv/bin/python bench/bench_pipeline_throughput.py [--targets 50] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import Stack, machine

FILES = {
    "app.py": "import openai\nclient = openai.OpenAI()\n"
    "reply = client.chat.completions.create(model='gpt-4o')\n",
    "agent.py": "from langchain_anthropic import ChatAnthropic\n"
    "llm = ChatAnthropic(model='claude-3-5-sonnet')\n",
    "rag.py": "import chromadb\nfrom sentence_transformers import SentenceTransformer\n",
    "requirements.txt": "openai==1.40.0\nlangchain-anthropic==0.2.1\nchromadb==0.5.5\n",
}


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def make_targets(root: Path, count: int) -> list[str]:
    targets = []
    for index in range(count):
        target = root / f"target-{index:02d}"
        target.mkdir()
        for name, text in FILES.items():
            (target / name).write_text(f"# target {index}\n{text}")
        targets.append(str(target))
    return targets


def wait_all(api: str, headers: dict, scan_ids: list[str], timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    pending, done = set(scan_ids), {}
    while pending and time.monotonic() < deadline:
        for scan_id in list(pending):
            scan = requests.get(f"{api}/scans/{scan_id}", headers=headers, timeout=10).json()
            if scan["status"] in ("completed", "failed"):
                done[scan_id] = scan
                pending.discard(scan_id)
        time.sleep(0.5)
    if pending:
        raise TimeoutError(f"{len(pending)} scans not finished within {timeout}s")
    return [done[scan_id] for scan_id in scan_ids]


def run_round(api: str, headers: dict, targets: list[str]) -> dict:
    scan_ids = []
    for target in targets:
        response = requests.post(f"{api}/scans", json={"target": target}, headers=headers, timeout=10)
        response.raise_for_status()
        scan_ids.append(response.json()["id"])
    scans = wait_all(api, headers, scan_ids, timeout=900)
    failed = [s for s in scans if s["status"] != "completed"]
    first = min(parse_ts(s["created_at"]) for s in scans)
    last = max(parse_ts(s["finished_at"]) for s in scans)
    elapsed = (last - first).total_seconds()
    durations = [(parse_ts(s["finished_at"]) - parse_ts(s["created_at"])).total_seconds() for s in scans]
    return {
        "elapsed": elapsed,
        "per_minute": len(scans) / elapsed * 60,
        "failed": len(failed),
        "components": sum((s["summary"] or {}).get("total_components", 0) for s in scans),
        "median_latency": statistics.median(durations),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--workers", default="1,2", help="comma-separated numbers of scans worker processes")
    args = parser.parse_args()
    results = {}
    # One organization submits every target at once: the per-organization bound on scans in flight
    # (``SCANS_IN_FLIGHT_PER_ORG``, 20) would refuse the rest with 429, so it is raised to the batch.
    with Stack(
        "pipeline", RATELIMIT_ENABLED="false", SCANS_IN_FLIGHT_PER_ORG=str(max(20, args.targets))
    ) as stack:
        stack.start_api()
        session = stack.register()
        headers = {"Authorization": f"Bearer {session['access_token']}"}
        stack.start_worker("ingest", "ingest")
        targets = make_targets(stack.scan_root, args.targets)
        running = 0
        for workers in [int(n) for n in args.workers.split(",")]:
            while running < workers:
                running += 1
                stack.start_worker(f"scans-{running}", "scans")
            run_round(stack.api, headers, targets[:1])  # warm-up: every process has imported the engine
            results[workers] = run_round(stack.api, headers, targets)
    print(f"machine: {machine()}")
    print(f"{args.targets} targets of {len(FILES)} files; ingest: 1 worker process")
    print(
        "| scans workers | scans/minute | first created → last completed | median per-scan time | failed "
        "| components found |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for workers, r in results.items():
        print(
            f"| {workers} | {r['per_minute']:.0f} | {r['elapsed']:.1f} s | {r['median_latency']:.1f} s "
            f"| {r['failed']} | {r['components']} |"
        )


if __name__ == "__main__":
    main()

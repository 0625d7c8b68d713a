"""Pipeline overhead: time from ``POST /scans`` to the ``scan.completed`` event on a tiny target.

Run the product first (``make run`` in another terminal, from the repository root so the
default SCAN_ROOTS covers ``var/``), then: ``.venv/bin/python bench/bench_pipeline.py [--runs 20]``.
Prints the median end-to-end time and the share of it spent queued (created → started).
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import time
from datetime import datetime
from pathlib import Path

import requests
import websocket

ROOT = Path(__file__).resolve().parent.parent


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def tiny_target() -> Path:
    target = ROOT / "var" / "bench-tiny-target"
    target.mkdir(parents=True, exist_ok=True)
    (target / "app.py").write_text("import openai\nclient = openai.OpenAI()\n")
    (target / "requirements.txt").write_text("openai==1.40.0\n")
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    api = f"{args.base_url}/api/v1"
    email = f"bench-{secrets.token_hex(4)}@example.com"
    tokens = requests.post(
        f"{api}/auth/register", json={"email": email, "password": "benchmark-password"}, timeout=10
    ).json()
    session_headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    # Scan creation is limited to 10/minute per principal: spread the runs over API keys.
    keys = [
        requests.post(
            f"{api}/auth/api-key", json={"name": f"bench-{i}"}, headers=session_headers, timeout=10
        ).json()
        for i in range((args.runs + 9) // 10)
    ]
    socket = websocket.create_connection(
        args.base_url.replace("http", "ws", 1) + f"/api/v1/ws?token={tokens['access_token']}", timeout=60
    )
    socket.recv()  # hello
    target = str(tiny_target())
    totals, queued_shares = [], []
    for run in range(args.runs):
        headers = {"Authorization": f"Bearer {keys[run // 10]['key']}"}
        started = time.perf_counter()
        scan = requests.post(f"{api}/scans", json={"target": target}, headers=headers, timeout=10).json()
        while True:
            event = json.loads(socket.recv())
            if event.get("scan_id") == scan["id"] and event["type"] in ("scan.completed", "scan.failed"):
                break
        total = time.perf_counter() - started
        detail = requests.get(f"{api}/scans/{scan['id']}", headers=headers, timeout=10).json()
        queued = (parse_ts(detail["started_at"]) - parse_ts(detail["created_at"])).total_seconds()
        totals.append(total)
        queued_shares.append(queued / total if total else 0.0)
    socket.close()
    print(f"runs: {len(totals)}")
    print(f"median POST → scan.completed: {statistics.median(totals) * 1000:.0f} ms")
    print(f"p90: {sorted(totals)[int(0.9 * (len(totals) - 1))] * 1000:.0f} ms")
    print(f"median share spent queued: {statistics.median(queued_shares) * 100:.0f} %")


if __name__ == "__main__":
    main()

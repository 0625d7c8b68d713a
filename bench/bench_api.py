"""API throughput and latency under concurrent load, measured with ``wrk`` (Debian: ``apt-get install wrk``).

Self-contained (``bench/_stack.py``): a scratch PostgreSQL database and Redis database, and the API
served exactly as ``make run`` serves it (gunicorn, one gevent worker). Rate limits are switched off
for the benchmarked API (``RATELIMIT_ENABLED=false``): ``POST /scans`` is limited to 10 per minute
per principal, and every other endpoint to 200; so is the organization's bound on scans in flight
(``SCANS_IN_FLIGHT_PER_ORG``), which the scans queued here would reach in a fraction of a second. The
framework's ceiling is measured in the same run: a bare Flask endpoint (``bench/bare_app.py``) under the
same gunicorn command, and every figure is also printed as a share of it. The workloads, authenticated
with a JWT:

- ``GET /scans/:id/components`` on a scan of 10,000 components (inserted through the models), the
  first page at the default ``per_page`` (20) and at the maximum (100);
- ``GET /scans`` (the list) and ``GET /dashboard/overview`` of the same organization;
- ``POST /scans`` on a small target: each request validates, inserts the scan, commits, sends the
  ``scans.run`` task to the broker and publishes ``scan.queued`` (no worker consumes here).

Besides requests per second, each run reads the CPU time the serving process spent (``/proc``): CPU
milliseconds per request, and the bare endpoint's share of it. One gevent process is one core, so that
share is the ratio of requests per second a quiet machine would show, and it holds on a loaded machine,
where the wall-clock figures swing with whatever else runs. The CPU time of the PostgreSQL backends of
the benchmark's database is read the same way: what each request costs the database's core, and the
bare endpoint's share of the two together (the bound on one connection's requests per second).

Run from the repository root::

    .venv/bin/python bench/bench_api.py [--duration 10] [--connections 32] [--threads 2]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import PG_ADMIN_URL, Stack, free_port, machine, make_run_commands

COMPONENTS = 10_000
POST_SCRIPT = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""


def insert_components(organization_id: str, target: str, count: int) -> str:
    from sqlalchemy import text

    from common.dashboard import refresh_summary
    from common.db import session_scope
    from common.models import Component, Scan
    from common.rollups import roll_up_organization
    from common.scanner.model import COMPONENT_TYPES, SEVERITIES

    rng = random.Random(7)
    with session_scope() as session:
        scan = Scan(
            organization_id=organization_id,
            target=target,
            status="completed",
            progress=100,
            summary={"total_components": count, "by_type": {}, "by_severity": {}},
        )
        session.add(scan)
        session.flush()
        session.add_all(
            Component(
                scan_id=scan.id,
                organization_id=organization_id,
                fingerprint=hashlib.sha256(f"{scan.id}-{i}".encode()).hexdigest(),
                name=f"component-{i}",
                type=rng.choice(COMPONENT_TYPES),
                provider=rng.choice(["openai", "anthropic", "google", "meta", None]),
                version=f"1.{i % 50}.0",
                model_name=f"model-{i % 300}",
                locations=[{"file": f"src/module_{i % 400}.py", "line": i % 900 + 1}],
                flags=rng.sample(
                    ["hardcoded_api_key", "unpinned_model", "internet_facing", "deprecated_model"], 1
                ),
                risk_score=rng.randint(0, 100),
                severity=rng.choice(SEVERITIES),
                risk_factors=["benchmark"],
                detector="bench",
            )
            for i in range(count)
        )
        scan_id = scan.id
    with session_scope() as session:
        # What the scan's completion would have been followed by (workers/dashboard.py)...
        roll_up_organization(session.connection(), organization_id)
        refresh_summary(session.connection(), organization_id)
        # ...and the statistics autovacuum would have gathered by now.
        session.execute(text("ANALYZE components"))
    return scan_id


def run_wrk(url: str, args, connections: int, script: str | None = None) -> dict:
    threads = min(args.threads, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{args.duration}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    command += ["-s", lua.name, url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    Path(lua.name).unlink()

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "p50_ms": ms("50%"),
        "p99_ms": ms("99%"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",
    }


def serving_process(master_pid: int) -> int:
    """gunicorn's worker (the process that serves) under the master ``Stack`` started."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return int(children[0])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def database_cpu_seconds(db_name: str) -> dict[int, float]:
    """The CPU time of each PostgreSQL backend connected to ``db_name`` (on this machine), by process id."""
    with psycopg.connect(PG_ADMIN_URL) as connection:
        pids = [
            row[0]
            for row in connection.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (db_name,))
        ]
    seconds = {}
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            seconds[pid] = cpu_seconds(pid)
    return seconds


def database_cpu_spent(db_name: str, before: dict[int, float]) -> float:
    """The CPU time the backends of ``db_name`` spent since ``before``: a backend that has exited since
    is left out (an undercount if the API's pool closed connections during the run)."""
    return sum(now - before.get(pid, 0.0) for pid, now in database_cpu_seconds(db_name).items())


def start_bare(stack: Stack) -> str:
    """``bench/bare_app.py`` under the API's own gunicorn command, on a port of its own."""
    port = free_port()
    command = make_run_commands(port)["api"]
    command[-1] = "bench.bare_app:app"
    stack.start("bare", command)
    url = f"http://127.0.0.1:{port}/page"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return url
        time.sleep(0.2)
    raise RuntimeError("the bare endpoint did not come up")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", default="1,32", help="comma-separated: one wrk run per level")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default="", help="only the workloads naming this (and bare)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    # No worker consumes the scans POST /scans queues, so they stay in flight: the organization's limit of
    # scans in flight is raised past what a run creates, as the rate limits are switched off. Its count
    # then reads every scan the run queued so far (up to the limit), more than the default limit's 20.
    with Stack("api", RATELIMIT_ENABLED="false", SCANS_IN_FLIGHT_PER_ORG="10000000") as stack:
        stack.start_api()
        bare_url = start_bare(stack)
        session = stack.register()
        token, org_id = session["access_token"], session["user"]["personal_organization_id"]
        target = stack.scan_root / "tiny"
        target.mkdir()
        (target / "app.py").write_text("import openai\nclient = openai.OpenAI()\n")
        scan_id = insert_components(org_id, str(target), COMPONENTS)
        auth = f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        body = json.dumps({"target": str(target)})
        workloads = {
            "bare Flask endpoint, 20-item JSON page": (bare_url, ""),
            "GET /scans/:id/components (10,000 components, page of 20)": (
                f"{stack.api}/scans/{scan_id}/components?per_page=20",
                auth,
            ),
            "GET /scans (list)": (f"{stack.api}/scans", auth),
            "GET /dashboard/overview": (f"{stack.api}/dashboard/overview", auth),
            "POST /scans": (f"{stack.api}/scans", POST_SCRIPT.format(body=body, token=token)),
        }
        workloads = {name: w for name, w in workloads.items() if w[0] == bare_url or args.only in name}
        results = {}
        servers = {"bare": serving_process(stack.processes["bare"].pid)}
        servers["api"] = serving_process(stack.processes["api"].pid)
        for connections in [int(c) for c in args.connections.split(",")]:
            for name, (url, script) in workloads.items():
                pid = servers["bare" if url == bare_url else "api"]
                before, database_before = cpu_seconds(pid), database_cpu_seconds(stack.db_name)
                results[name, connections] = run_wrk(url, args, connections, script)
                cpu = cpu_seconds(pid) - before
                database_cpu = database_cpu_spent(stack.db_name, database_before)
                requests_done = max(1, results[name, connections]["requests"])
                results[name, connections]["cpu_ms"] = cpu * 1000 / requests_done
                results[name, connections]["db_cpu_ms"] = database_cpu * 1000 / requests_done
    print(f"machine: {machine()}")
    print(f"wrk -t{args.threads} -d{args.duration}s --latency; API: make run's gunicorn (gevent, 1 process)")
    print(
        "| endpoint | connections | requests/s | of bare | p50 ms | p99 ms | requests | non-2xx "
        "| CPU ms/request | of bare (CPU) | PostgreSQL CPU ms/request | of bare (API + PostgreSQL CPU) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (name, connections), r in results.items():
        bare = results["bare Flask endpoint, 20-item JSON page", connections]
        print(
            f"| {name} | {connections} | {r['rps']:.0f} | {r['rps'] / bare['rps']:.0%} | {r['p50_ms']:.1f} "
            f"| {r['p99_ms']:.1f} | {r['requests']} | {r['non_2xx']} | {r['cpu_ms']:.2f} "
            f"| {bare['cpu_ms'] / r['cpu_ms']:.0%} | {r['db_cpu_ms']:.2f} "
            f"| {bare['cpu_ms'] / (r['cpu_ms'] + r['db_cpu_ms']):.0%} |"
        )


if __name__ == "__main__":
    main()

"""Memory footprint of ``make run``: proportional set size (PSS) of its whole process tree, idle and during
a scan, and the pipeline throughput it keeps.

It starts ``scripts/run_local.py`` exactly as ``make run`` does, on its embedded defaults (a scratch
SQLite file, a free Redis database number as broker), waits for the API, lets it settle, then samples
PSS (``/proc/<pid>/smaps_rollup``: shared pages divided among the processes that share them, so the sum
is what the tree really costs) for ``--idle-seconds``. Then it scans a tree (``--target``, default this
repository) through the API and samples until the scan completes, reporting the peak; last, it posts
``--throughput`` small targets at once (``bench_pipeline_throughput.py``'s) and reports scans/minute.
Run from the
repository root::

    .venv/bin/python bench/bench_footprint.py [--idle-seconds 20] [--target PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import PASSWORD, REDIS_BASE, ROOT, claim_redis_db, free_port, machine
from bench.bench_pipeline_throughput import make_targets, run_round


def tree_pids(root_pid: int) -> list[int]:
    """The process and all its descendants, from /proc (children of children included)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    pids, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(children.get(pid, []))
    return pids


def pss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return 0.0


def label(pid: int) -> str:
    """A short name for a process of the tree: the command, and a Celery worker's hostname or beat."""
    with contextlib.suppress(OSError):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        name = Path(argv[0]).name if argv[0] else "?"
        if name.startswith("python") and len(argv) > 1:
            name = Path(argv[1]).name
        for flag in ("--hostname", "beat"):
            if flag in argv:
                name += " " + (argv[argv.index(flag) + 1].split("@")[0] if flag == "--hostname" else "beat")
        return name
    return "?"


def per_process(root_pid: int) -> list[tuple[str, float]]:
    return sorted(((label(pid), pss_mb(pid)) for pid in tree_pids(root_pid)), key=lambda item: -item[1])


def sample(root_pid: int) -> tuple[float, int]:
    pids = tree_pids(root_pid)
    return sum(pss_mb(pid) for pid in pids), len(pids)


def wait_healthy(api: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{api}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError("make run did not become healthy")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument("--target", default=str(ROOT))
    parser.add_argument("--throughput", type=int, default=50, help="small targets scanned in one burst")
    args = parser.parse_args()
    port, redis_db = free_port(), claim_redis_db()
    workdir = Path(tempfile.mkdtemp(prefix="trusera-footprint-"))
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{workdir / 'trusera.db'}",
        "REDIS_URL": f"{REDIS_BASE}/{redis_db}",
        "BROKER_URL": f"{REDIS_BASE}/{redis_db}",
        "SCAN_ROOTS": f"{Path(args.target).resolve()}:{workdir}",
        "DATA_DIR": str(workdir),
        "RATELIMIT_ENABLED": "false",
        # the burst is one organization's: its scans in flight (20 by default) would refuse the rest with 429
        "SCANS_IN_FLIGHT_PER_ORG": str(max(20, args.throughput)),
    }
    log = (workdir / "make-run.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "run_local.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_healthy(api)
        time.sleep(5)  # workers finish importing and connecting
        idle = []
        deadline = time.monotonic() + args.idle_seconds
        while time.monotonic() < deadline:
            idle.append(sample(process.pid))
            time.sleep(1)
        idle_processes = per_process(process.pid)
        user = requests.post(
            f"{api}/auth/register",
            json={"email": f"footprint-{port}@example.com", "password": PASSWORD, "name": "Bench"},
            timeout=10,
        ).json()
        headers = {"Authorization": f"Bearer {user['access_token']}"}
        started = time.monotonic()
        scan = requests.post(f"{api}/scans", json={"target": args.target}, headers=headers, timeout=30).json()
        peak, status = (0.0, 0), "queued"
        while status not in ("completed", "failed") and time.monotonic() - started < 600:
            current = sample(process.pid)
            peak = max(peak, current)
            status = requests.get(f"{api}/scans/{scan['id']}", headers=headers, timeout=10).json()["status"]
            time.sleep(0.2)
        scan_seconds = time.monotonic() - started
        small = make_targets(workdir, args.throughput + 1)
        run_round(api, headers, small[:1])  # warm-up
        burst = run_round(api, headers, small[1:])
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        redis.Redis.from_url(f"{REDIS_BASE}/{redis_db}").flushdb()
        redis.Redis.from_url(f"{REDIS_BASE}/0").delete(f"trusera:test-db-lock:{redis_db}")
    idle_mb = sorted(total for total, _ in idle)[len(idle) // 2]
    print(f"machine: {machine()}")
    print(f"make run, idle: {idle_mb:.0f} MB PSS (median of {len(idle)} samples), {idle[-1][1]} processes")
    print("idle, per process: " + ", ".join(f"{name} {mb:.0f}" for name, mb in idle_processes))
    print(f"make run, scanning {args.target}: peak {peak[0]:.0f} MB PSS, {peak[1]} processes")
    print(f"scan {status} in {scan_seconds:.1f} s (POST to completed, polled every 0.2 s)")
    print(
        f"throughput: {args.throughput} small targets in {burst['elapsed']:.1f} s = "
        f"{burst['per_minute']:.0f} scans/min, {burst['failed']} failed"
    )
    return 0 if status == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())

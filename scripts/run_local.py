"""`make run`: the whole product on one machine, on its embedded defaults.

Starts the API + WebSocket server and two Celery workers as child processes, prefixes their output,
and stops them all when one dies or on Ctrl-C. One machine does not need a pool per queue (that is the
compose and Kubernetes layout): a prefork worker sized to the cores takes every CPU-bound queue, a small
thread pool the I/O-bound ones, so an idle laptop holds a handful of processes, not twenty. Beat runs
embedded in the prefork worker (``--beat``): there is exactly one such worker here, and beat's process,
forked from the worker's frozen imports, shares them instead of holding its own ~45 MB interpreter.
With ``FLOWER_PORT`` set, Flower joins them on that loopback port, behind basic
authentication (``FLOWER_BASIC_AUTH=user:password``, or a generated password printed once).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# name -> (queues, pool, concurrency). Scans, ingest, compliance and exports burn CPU; webhooks and alerts
# wait on the network, which threads do cheaply. Every queue of common/tasks.py appears exactly once.
WORKERS = {
    "cpu": (
        ("scans", "ingest", "compliance", "exports", "maintenance"),
        "prefork",
        max(2, os.cpu_count() or 2),
    ),
    "io": (("webhooks", "alerts"), "threads", 8),
}
# A worker listed here imports only these task modules (``WORKER_TASK_MODULES``): the I/O worker would
# otherwise carry the ingest, scanning and export code it never runs, ~10 MB that no other process shares.
WORKER_TASK_MODULES = {"io": ("workers.webhooks", "workers.alerts")}
BEAT_WORKER = "cpu"
MAX_MEMORY_PER_CHILD_KIB = "409600"  # docker-compose.yml's scans and ingest services


def commands(port: str) -> dict[str, list[str]]:
    procs = {
        "api": [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gevent",
            "--worker-connections",
            "1000",
            "--workers",
            "1",
            "--graceful-timeout",
            "10",
            "--access-logfile",
            "-",
            "web.wsgi:app",
        ],
    }
    for name, (queues, pool, concurrency) in WORKERS.items():
        procs[f"worker-{name}"] = [
            str(BIN / "celery"),
            "-A",
            "workers.app",
            "worker",
            "--queues",
            ",".join(queues),
            "--hostname",
            f"{name}@%h",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
        ]
        if pool == "prefork":
            # as the scans and ingest services in compose: a pool process still holding what a small tree's
            # scan or a large upload made it grow (each bounded while it runs) is replaced after its task
            procs[f"worker-{name}"] += ["--max-memory-per-child", MAX_MEMORY_PER_CHILD_KIB]
    procs[f"worker-{BEAT_WORKER}"] += ["--beat", "--schedule", str(ROOT / "var" / "celerybeat-schedule")]
    return procs


def child_env(name: str, env: dict) -> dict:
    """The environment of one child: a worker in ``WORKER_TASK_MODULES`` gets its module list."""
    modules = WORKER_TASK_MODULES.get(name.removeprefix("worker-"))
    child = {key: value for key, value in env.items() if key != "WORKER_TASK_MODULES"}
    return {**child, "WORKER_TASK_MODULES": ",".join(modules)} if modules else child


def flower_command(port: str) -> list[str]:
    """Flower reads ``FLOWER_BASIC_AUTH`` from the environment, as the compose service does."""
    return [str(BIN / "celery"), "-A", "workers.app", "flower", f"--port={port}", "--address=127.0.0.1"]


def pump(name: str, stream) -> None:
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>18} | {line.decode(errors='replace')}")
        sys.stdout.flush()


def migrate(env: dict) -> None:
    subprocess.run([str(BIN / "alembic"), "upgrade", "head"], cwd=ROOT, env=env, check=True)


def main() -> int:
    port = os.environ.get("PORT", "8000")
    env = {**os.environ, "PORT": port, "PYTHONUNBUFFERED": "1"}
    (ROOT / "var").mkdir(exist_ok=True)
    migrate(env)
    processes = commands(port)
    flower_port = os.environ.get("FLOWER_PORT")
    if flower_port:
        if not env.get("FLOWER_BASIC_AUTH"):
            env["FLOWER_BASIC_AUTH"] = f"operator:{secrets.token_urlsafe(12)}"
            print(f"Flower login (generated for this run): {env['FLOWER_BASIC_AUTH']}")
        processes["flower"] = flower_command(flower_port)
        print(f"Flower on http://127.0.0.1:{flower_port}")
    children: dict[str, subprocess.Popen] = {}
    for name, argv in processes.items():
        child = subprocess.Popen(
            argv, cwd=ROOT, env=child_env(name, env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        children[name] = child
        threading.Thread(target=pump, args=(name, child.stdout), daemon=True).start()
    print(
        f"Trusera is starting: API and WebSocket on http://127.0.0.1:{port}/api/v1 (Ctrl-C stops everything)"
    )
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    exit_code = 0
    while not stopping.is_set():
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} exited with {child.returncode}; stopping the rest", file=sys.stderr)
                exit_code = 1
                stopping.set()
                break
        time.sleep(0.5)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())

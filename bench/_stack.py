"""A scratch copy of the product for the API, pipeline and WebSocket benchmarks.

A private PostgreSQL database (migrated) and a free Redis database number (the same locks the test
suite uses), the API served exactly as ``make run`` serves it (``scripts/run_local.py``: gunicorn,
gevent worker, one process), and Celery workers per queue, all as subprocesses of the benchmark.
Everything is stopped and dropped on exit.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
PASSWORD = "benchmark-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def claim_redis_db() -> int:
    """A free Redis database number, locked the way the test session locks its own."""
    locks = redis.Redis.from_url(f"{REDIS_BASE}/0")
    for number in range(15, 0, -1):
        if locks.set(f"trusera:test-db-lock:{number}", os.getpid(), nx=True, ex=3600):
            redis.Redis.from_url(f"{REDIS_BASE}/{number}").flushdb()
            return number
    raise RuntimeError("no free Redis database number")


def make_run_commands(port: int) -> dict[str, list[str]]:
    """The process commands of ``make run`` (scripts/run_local.py), bound to ``port``."""
    spec = importlib.util.spec_from_file_location("run_local", ROOT / "scripts" / "run_local.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.commands(str(port))


class Stack:
    def __init__(self, name: str, **env: str) -> None:
        self.db_name = f"trusera_bench_{name}_{secrets.token_hex(3)}"
        self.redis_db = claim_redis_db()
        self.port = free_port()
        self.scan_root = Path(ROOT / "var" / f"bench-{name}-{secrets.token_hex(3)}").resolve()
        self.scan_root.mkdir(parents=True)
        self.env = {
            **os.environ,
            "ENV": "bench",
            "DATABASE_URL": PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            + f"/{self.db_name}",
            "REDIS_URL": f"{REDIS_BASE}/{self.redis_db}",
            "BROKER_URL": f"{REDIS_BASE}/{self.redis_db}",
            "PORT": str(self.port),
            "INTERNAL_API_URL": f"http://127.0.0.1:{self.port}/api/v1",
            "SCAN_ROOTS": str(self.scan_root),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        os.environ.update({k: self.env[k] for k in ("ENV", "DATABASE_URL", "REDIS_URL", "BROKER_URL")})
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs = ROOT / "var" / "bench-logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def __enter__(self) -> Stack:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        return self

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = (self.logs / f"{self.db_name}-{name}.log").open("wb")
        process = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def start_api(self) -> None:
        """The ``api`` process of ``make run``: gunicorn, gevent worker, one process."""
        self.start("api", make_run_commands(self.port)["api"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.api}/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("the API did not come up; see " + str(self.logs))

    def start_worker(self, name: str, queue: str, concurrency: int = 1) -> subprocess.Popen:
        return self.start(
            name,
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "workers.app",
                "worker",
                "--queues",
                queue,
                "--hostname",
                f"{name}-{os.getpid()}@%h",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "WARNING",
            ],
        )

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def register(self) -> dict:
        email = f"bench-{secrets.token_hex(4)}@example.com"
        response = requests.post(
            f"{self.api}/auth/register",
            json={"email": email, "password": PASSWORD, "name": "Bench"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def __exit__(self, *exc) -> None:
        for name in list(self.processes):
            self.stop(name)
        from common.db import reset_engine

        reset_engine()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        redis.Redis.from_url(f"{REDIS_BASE}/{self.redis_db}").flushdb()
        redis.Redis.from_url(f"{REDIS_BASE}/0").delete(f"trusera:test-db-lock:{self.redis_db}")
        subprocess.run(["rm", "-rf", str(self.scan_root)], check=False)


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({cpu}), load average {load}, Python {sys.version.split()[0]}"

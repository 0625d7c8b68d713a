"""Webhook fan-out: one ``scan.completed`` to 50 webhooks, delivered by the ``webhooks`` worker pool.

Self-contained: creates a scratch PostgreSQL database and takes a free Redis database number
(the same locks the test suite uses), starts ``celery worker --queues webhooks`` as ``make run``
does (prefork, ``--concurrency 4`` by default), and a loopback receiver that verifies every signature.
Each round publishes one event through ``events.publish`` (the outbox path) and times until all
deliveries arrived. Run from the repository root::

    .venv/bin/python bench/bench_webhooks.py [--webhooks 50] [--rounds 5] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


class CountingReceiver:
    """Counts deliveries whose signature verifies; wakes the waiter at each one."""

    def __init__(self, secret: str):
        from common.webhook_signing import InvalidSignature, verify

        self.secret = secret
        self.verified = 0
        self.rejected = 0
        self.condition = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    verify(receiver.secret, dict(self.headers.items()), body)
                    ok = True
                except InvalidSignature:
                    ok = False
                with receiver.condition:
                    if ok:
                        receiver.verified += 1
                    else:
                        receiver.rejected += 1
                    receiver.condition.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, total: int, timeout: float) -> None:
        with self.condition:
            if not self.condition.wait_for(lambda: self.verified >= total, timeout=timeout):
                raise TimeoutError(f"only {self.verified}/{total} deliveries arrived")


def setup_environment(db_name: str, redis_db: int) -> None:
    os.environ.update(
        {
            "ENV": "bench",
            "DATABASE_URL": PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            + f"/{db_name}",
            "REDIS_URL": f"{REDIS_BASE}/{redis_db}",
            "BROKER_URL": f"{REDIS_BASE}/{redis_db}",
            "OUTBOUND_ALLOWLIST": "127.0.0.1",
        }
    )
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    command.upgrade(config, "heads")


def create_webhooks(count: int, url: str, secret: str) -> str:
    from common.db import session_scope
    from common.models import Organization
    from common.models.webhooks import Webhook
    from common.security import encrypt_secret

    with session_scope() as session:
        org = Organization(name="Bench", slug=f"bench-{secrets.token_hex(4)}", personal=False)
        session.add(org)
        session.flush()
        encrypted = encrypt_secret(secret)
        for _ in range(count):
            session.add(
                Webhook(
                    organization_id=org.id, url=url, events=["scan.completed"], secret_encrypted=encrypted
                )
            )
        return org.id


def start_worker(concurrency: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "workers.app",
            "worker",
            "--queues",
            "webhooks",
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"bench-webhooks-{os.getpid()}@%h",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--webhooks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench._stack import claim_redis_db

    db_name = f"trusera_bench_webhooks_{secrets.token_hex(3)}"
    redis_db = claim_redis_db()
    worker = None
    try:
        setup_environment(db_name, redis_db)
        from common import events
        from common.webhook_signing import generate_secret

        secret = generate_secret()
        receiver = CountingReceiver(secret)
        org_id = create_webhooks(args.webhooks, receiver.url, secret)
        worker = start_worker(args.concurrency)
        events.publish(org_id, "scan.completed", scan_id="warm-up", summary={})
        receiver.wait_for(args.webhooks, timeout=120)  # worker started and every process warmed up
        timings = []
        for round_number in range(args.rounds):
            expected = receiver.verified + args.webhooks
            started = time.perf_counter()
            events.publish(org_id, "scan.completed", scan_id=f"round-{round_number}", summary={})
            receiver.wait_for(expected, timeout=120)
            timings.append(time.perf_counter() - started)
        rates = [args.webhooks / t for t in timings]
        print(f"webhooks: {args.webhooks}, worker pool: prefork --concurrency {args.concurrency}")
        print(f"rounds: {args.rounds}; every delivery signature-verified, rejected: {receiver.rejected}")
        print(f"publish → last delivery: median {statistics.median(timings) * 1000:.0f} ms")
        median, best, worst = statistics.median(rates), max(rates), min(rates)
        print(f"deliveries/s: median {median:.0f}, best {best:.0f}, worst {worst:.0f}")
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        from common.db import reset_engine

        reset_engine()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        redis.Redis.from_url(f"{REDIS_BASE}/{redis_db}").flushdb()
        redis.Redis.from_url(f"{REDIS_BASE}/0").delete(f"trusera:test-db-lock:{redis_db}")


if __name__ == "__main__":
    main()

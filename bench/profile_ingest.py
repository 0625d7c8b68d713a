"""Where the ingest of a large result spends its time: the result POST and ``scans.ingest`` in-process,
with the CPU of this process and of the PostgreSQL backends that served it.

Self-contained (``bench/_stack.py``): a scratch PostgreSQL database and a user registered through the
API, which is then stopped. The result of ``bench_ingest.py`` (``--components`` components) is posted
with the Flask test client to ``/api/v1/internal/scans/:id/result`` (the endpoint's real code: key
check, decode, validation, store, commit, broker message), and ``scans.ingest`` then runs in-process
through ``Task.apply`` (its job row and events included). Each phase reports its wall time, the CPU
of this process (``time.process_time``) and the CPU of every backend of the scratch database
(``pg_stat_activity`` pids, ``utime + stime`` from ``/proc/<pid>/stat``), best of ``--rounds``.
``--profile`` adds a cProfile (wall clock) of one more round of each phase.

The ingest is also split into its steps (reading the stored result, validating it, each ``COPY``, the
rest), each with its wall time, this process's CPU and its own backend's CPU, from the round that cost
the least CPU. From those an estimate of the wall time on two free cores: every step's CPU and its
backend's one after the other, except a ``COPY``, where the worker writes rows while the backend stores
them (the larger of the two). Run from the repository root::

    .venv/bin/python bench/profile_ingest.py [--components 20000] [--rounds 4] [--profile] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import PG_ADMIN_URL, Stack, machine
from bench.bench_ingest import backend_pids, cpu_seconds, synthetic_result


def backend_cpu(monitor: psycopg.Connection, db_name: str) -> float:
    """CPU seconds used so far by the database's backends (the monitor's own is left out)."""
    return cpu_seconds(backend_pids(monitor, db_name))


class Phase:
    """Wall, this process's CPU and the backends' CPU over a block (backends must outlive it: pooled)."""

    def __init__(self, monitor: psycopg.Connection, db_name: str) -> None:
        self.monitor, self.db_name = monitor, db_name

    def __enter__(self) -> Phase:
        self.backend = backend_cpu(self.monitor, self.db_name)
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        self.backend = backend_cpu(self.monitor, self.db_name) - self.backend


class Steps:
    """Wraps the ingest module's steps, recording (step, wall, process CPU, own backend CPU) per call."""

    # ``split_components`` is the worker's validation up to 0014; ``storable`` after (a no-op for a result the
    # API checked), so that the same script times both versions.
    STEPS = {
        "stored_result": "read stored result",
        "split_components": "validate",
        "storable": "validate",
        "bulk_insert": "COPY",
    }

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, float, float]] = []
        self.backend_pid: int | None = None

    def install(self, module) -> None:
        for attribute, label in self.STEPS.items():
            if hasattr(module, attribute):
                setattr(module, attribute, self._wrapped(getattr(module, attribute), label))

    def _wrapped(self, function, label: str):
        def step(*args, **kwargs):
            if args and hasattr(args[0], "connection"):
                self.backend_pid = args[0].connection().connection.driver_connection.info.backend_pid
            pids = [self.backend_pid] if self.backend_pid else []
            wall, cpu, backend = time.perf_counter(), time.process_time(), cpu_seconds(pids)
            try:
                return function(*args, **kwargs)
            finally:
                name = f"{label} {getattr(args[1], 'name', '')}".strip() if label == "COPY" else label
                self.calls.append(
                    (name, time.perf_counter() - wall, time.process_time() - cpu, cpu_seconds(pids) - backend)
                )

        return step


def new_running_scan(organization_id: str) -> str:
    from common.db import session_scope
    from common.models import Scan

    with session_scope() as db:
        scan = Scan(organization_id=organization_id, target="/srv/bench", status="running")
        db.add(scan)
        db.flush()
        return scan.id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    body = json.dumps(synthetic_result(args.components)).encode()
    with Stack("profingest", RATELIMIT_ENABLED="false") as stack:
        stack.start_api()
        organization_id = stack.register()["user"]["personal_organization_id"]
        stack.stop("api")
        import workers.ingest
        from common.config import get_settings
        from web import create_app
        from workers.ingest import ingest_scan

        steps = Steps()
        steps.install(workers.ingest)

        client = create_app().test_client()
        headers = {"X-Internal-API-Key": get_settings().internal_api_key, "Content-Type": "application/json"}
        monitor_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{stack.db_name}"

        def post(scan_id: str) -> None:
            response = client.post(f"/api/v1/internal/scans/{scan_id}/result", data=body, headers=headers)
            assert response.status_code == 202, response.json

        def ingest(scan_id: str) -> None:
            ingest_scan.apply(args=(scan_id,), throw=True)

        rounds = []
        with psycopg.connect(monitor_url, autocommit=True) as monitor:
            post(warm_up := new_running_scan(organization_id))
            ingest(warm_up)
            for _ in range(args.rounds):
                scan_id = new_running_scan(organization_id)
                with Phase(monitor, stack.db_name) as posted:
                    post(scan_id)
                steps.calls = []
                with Phase(monitor, stack.db_name) as ingested:
                    ingest(scan_id)
                rounds.append((posted, ingested, steps.calls))
            profiles = []
            if args.profile:
                scan_id = new_running_scan(organization_id)
                for phase in (post, ingest):
                    profiler = cProfile.Profile()
                    profiler.runcall(phase, scan_id)
                    profiles.append((phase.__name__, profiler))
    print(f"machine: {machine()}")
    print(f"{args.components} components, {len(body) / 1e6:.1f} MB of JSON, {args.rounds} rounds")
    for index, name in enumerate(("POST (API)", "ingest (worker)")):
        phases = [r[index] for r in rounds]
        best = min(phases, key=lambda p: p.wall)
        print(
            f"{name}: wall best {best.wall:.2f} s (all: {', '.join(f'{p.wall:.2f}' for p in phases)}); "
            f"CPU process {min(p.cpu for p in phases):.2f} s, PostgreSQL backends "
            f"{min(p.backend for p in phases):.2f} s (least of the rounds)"
        )
    total = [p.wall + i.wall for p, i, _ in rounds]
    cpu = [p.cpu + p.backend + i.cpu + i.backend for p, i, _ in rounds]
    print(f"POST + ingest: wall best {min(total):.2f} s, CPU (process + backends) least {min(cpu):.2f} s")
    posted, ingested, calls = min(rounds, key=lambda r: r[0].cpu + r[0].backend + r[1].cpu + r[1].backend)
    rest = (
        "rest of the task",
        *(
            whole - sum(c[i] for c in calls)
            for i, whole in enumerate((ingested.wall, ingested.cpu, ingested.backend), start=1)
        ),
    )
    print("POST and ingest steps (round of least CPU): wall / process CPU / its backends' CPU")
    print(
        f"  {'POST (the API, its backends)':32s} {posted.wall:6.2f} {posted.cpu:6.2f} {posted.backend:6.2f} s"
    )
    estimate = posted.cpu + posted.backend
    for name, wall, cpu_used, backend in [*calls, rest]:
        print(f"  {name:32s} {wall:6.2f} {cpu_used:6.2f} {backend:6.2f} s")
        estimate += max(cpu_used, backend) if name.startswith("COPY") else cpu_used + backend
    print(f"estimate on two free cores, POST to completed (CPU path, no waiting): {estimate:.2f} s")
    for name, profiler in profiles:
        print(f"\n--- cProfile of {name} (wall clock) ---")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()

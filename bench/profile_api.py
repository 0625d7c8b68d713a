"""Where an API request spends its time: cProfile over many in-process requests, summarised by area.

A scratch database (``bench/_stack.py``) with a 10,000-component scan; the app is called through Flask's
test client, so the numbers are the application's own cost per request, without the network or the
server. Rate limits are on, as in production (the windows are emptied between batches, outside the
profile). The profiler's clock is the process's CPU time, so a loaded machine inflates the figures less
than wall time would, and waiting on PostgreSQL or Redis is reported as round trips instead. Each
request is also counted in SQL statements and Redis commands. Run from the repository root::

    .venv/bin/python bench/profile_api.py [--requests 500] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import PASSWORD, Stack, machine
from bench.bench_api import COMPONENTS, insert_components

BATCH = 10  # requests between two resets of the rate-limit windows (POST /scans: 10 per minute)

# Files (substrings of the path) grouped into the areas the summary reports.
AREAS = (
    ("jwt decode", ("jwt/", "flask_jwt_extended")),
    ("redis", ("redis/",)),
    ("rate limiting", ("flask_limiter", "limits/")),
    ("marshmallow / webargs", ("marshmallow", "webargs", "flask_smorest", "apispec")),
    ("sqlalchemy core", ("sqlalchemy/sql", "sqlalchemy/engine", "sqlalchemy/dialects")),
    ("sqlalchemy orm", ("sqlalchemy/orm",)),
    ("psycopg", ("psycopg",)),
    ("celery / kombu", ("celery/", "kombu/")),
    ("flask / werkzeug", ("flask/", "werkzeug")),
    ("json", ("json/",)),
    ("trusera", ("/web/", "/common/")),
)


def area_of(filename: str) -> str:
    for area, needles in AREAS:
        if any(needle in filename for needle in needles):
            return area
    return "other"


def call(client, request: dict):
    return client.open(**request)


def profile(app, client, request: dict, requests: int) -> tuple[pstats.Stats, float, float]:
    """The profile, and the wall and CPU milliseconds per request."""
    from web.core.ratelimits import limiter

    with app.app_context():
        limiter.reset()
    for _ in range(BATCH):  # warm caches and connection pools
        response = call(client, request)
        assert response.status_code < 300, response.get_data(as_text=True)[:300]
    profiler = cProfile.Profile(time.process_time)
    wall = cpu = 0.0
    for done in range(0, requests, BATCH):
        with app.app_context():
            limiter.reset()
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        profiler.enable()
        for _ in range(min(BATCH, requests - done)):
            call(client, request)
        profiler.disable()
        wall += time.perf_counter() - wall_start
        cpu += time.process_time() - cpu_start
    return pstats.Stats(profiler), wall / requests * 1000, cpu / requests * 1000


def summarise(stats: pstats.Stats, wall_ms: float, cpu_ms: float, requests: int, top: int) -> None:
    by_area: Counter = Counter()
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        by_area[area_of(filename)] += tottime
    total = sum(by_area.values())
    print(f"{wall_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU per request (profiled, {requests} requests)")
    for area, seconds in by_area.most_common():
        print(f"  {area:<24} {seconds / total:6.1%}  {seconds / requests * 1000:6.3f} ms CPU")
    stats.sort_stats("cumulative").print_stats(top)


def round_trips_of(client, request: dict) -> tuple[list[tuple[float, str]], list[str]]:
    """(milliseconds, SQL) of every statement one request runs, and the Redis commands it sends."""
    import redis
    from sqlalchemy import event

    from common.db import get_engine

    timings: list[tuple[float, str]] = []
    commands: list[str] = []

    def started(_conn, _cursor, statement, *_args):
        timings.append((time.perf_counter(), statement))

    def finished(*_args):
        began, statement = timings[-1]
        timings[-1] = ((time.perf_counter() - began) * 1000, statement)

    def send_packed(connection, packed, *args, **kwargs):
        commands.append(
            bytes(packed[0] if isinstance(packed, list) else packed)[:60].decode(errors="replace")
        )
        return original_packed(connection, packed, *args, **kwargs)

    original_packed = redis.connection.AbstractConnection.send_packed_command
    event.listen(get_engine(), "before_cursor_execute", started)
    event.listen(get_engine(), "after_cursor_execute", finished)
    redis.connection.AbstractConnection.send_packed_command = send_packed
    try:
        call(client, request)
    finally:
        redis.connection.AbstractConnection.send_packed_command = original_packed
        event.remove(get_engine(), "before_cursor_execute", started)
        event.remove(get_engine(), "after_cursor_execute", finished)
    return timings, commands


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--only", default="", help="profile only the endpoints whose name contains this")
    args = parser.parse_args()
    with Stack("profile") as stack:
        import os

        os.environ["SCAN_ROOTS"] = str(stack.scan_root)
        from web import create_app

        app = create_app()
        client = app.test_client()
        email = "profile@example.com"
        session = client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "Profile"}
        ).json
        headers = {"Authorization": f"Bearer {session['access_token']}"}
        scan_id = insert_components(session["user"]["personal_organization_id"], "/srv/profile", COMPONENTS)
        target = stack.scan_root / "tiny"
        target.mkdir()
        (target / "app.py").write_text("import openai\n")
        print(f"machine: {machine()}")
        endpoints = {
            "GET /scans/:id/components": {"path": f"/api/v1/scans/{scan_id}/components"},
            "GET /scans": {"path": "/api/v1/scans"},
            "GET /dashboard/overview": {"path": "/api/v1/dashboard/overview"},
            "POST /scans": {
                "path": "/api/v1/scans",
                "method": "POST",
                "data": json.dumps({"target": str(target)}),
                "content_type": "application/json",
            },
        }
        for name, request in endpoints.items():
            if args.only not in name:
                continue
            request = {**request, "headers": headers}
            call(client, request)  # connections opened, rollups written: count the steady state
            statements, commands = round_trips_of(client, request)
            print(f"\n== {name}: {len(statements)} SQL statements, {len(commands)} Redis round trips")
            for milliseconds, sql in statements:
                print(f"  {milliseconds:7.2f} ms  {' '.join(sql.split())[:110]}")
            for command in commands:
                print(f"  redis  {' '.join(command.split())}")
            stats, wall_ms, cpu_ms = profile(app, client, request, args.requests)
            summarise(stats, wall_ms, cpu_ms, args.requests, args.top)


if __name__ == "__main__":
    main()

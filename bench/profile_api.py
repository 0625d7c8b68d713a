"""Where an API request spends its time: cProfile over many in-process requests, summarised by area.

A scratch database (``bench/_stack.py``) with a 10,000-component scan; the app is called through Flask's
test client, so the numbers are the application's own cost per request, without the network or the
server. Each request is also counted in SQL statements. Run from the repository root::

    .venv/bin/python bench/profile_api.py [--requests 500] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import PASSWORD, Stack, machine
from bench.bench_api import COMPONENTS, insert_components

# Files (substrings of the path) grouped into the areas the summary reports.
AREAS = (
    ("jwt decode", ("jwt/", "flask_jwt_extended")),
    ("redis", ("redis/",)),
    ("rate limiting", ("flask_limiter", "limits/")),
    ("marshmallow / webargs", ("marshmallow", "webargs", "flask_smorest", "apispec")),
    ("sqlalchemy core", ("sqlalchemy/sql", "sqlalchemy/engine", "sqlalchemy/dialects")),
    ("sqlalchemy orm", ("sqlalchemy/orm",)),
    ("psycopg", ("psycopg",)),
    ("flask / werkzeug", ("flask/", "werkzeug")),
    ("json", ("json/",)),
    ("trusera", ("/web/", "/common/")),
)


def area_of(filename: str) -> str:
    for area, needles in AREAS:
        if any(needle in filename for needle in needles):
            return area
    return "other"


def profile(client, url: str, headers: dict, requests: int) -> tuple[pstats.Stats, float]:
    for _ in range(20):  # warm caches and connection pools
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(requests):
        client.get(url, headers=headers)
    profiler.disable()
    return pstats.Stats(profiler), (time.perf_counter() - started) / requests


def summarise(stats: pstats.Stats, per_request: float, requests: int, top: int) -> None:
    by_area: Counter = Counter()
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        by_area[area_of(filename)] += tottime
    total = sum(by_area.values())
    print(f"{per_request * 1000:.2f} ms per request (profiled, {requests} requests)")
    for area, seconds in by_area.most_common():
        print(f"  {area:<24} {seconds / total:6.1%}  {seconds / requests * 1000:6.3f} ms")
    stats.sort_stats("cumulative").print_stats(top)


def statements_of(client, url: str, headers: dict) -> list[tuple[float, str]]:
    """(milliseconds, SQL) of every statement one request runs."""
    from sqlalchemy import event

    from common.db import get_engine

    timings: list[tuple[float, str]] = []

    def started(_conn, _cursor, statement, *_args):
        timings.append((time.perf_counter(), statement))

    def finished(*_args):
        began, statement = timings[-1]
        timings[-1] = ((time.perf_counter() - began) * 1000, statement)

    event.listen(get_engine(), "before_cursor_execute", started)
    event.listen(get_engine(), "after_cursor_execute", finished)
    try:
        client.get(url, headers=headers)
    finally:
        event.remove(get_engine(), "before_cursor_execute", started)
        event.remove(get_engine(), "after_cursor_execute", finished)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with Stack("profile", RATELIMIT_ENABLED="false"):
        from web import create_app

        app = create_app()
        client = app.test_client()
        email = "profile@example.com"
        session = client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "Profile"}
        ).json
        headers = {"Authorization": f"Bearer {session['access_token']}"}
        scan_id = insert_components(session["user"]["personal_organization_id"], "/srv/profile", COMPONENTS)
        print(f"machine: {machine()}")
        for name, url in (
            ("GET /scans/:id/components", f"/api/v1/scans/{scan_id}/components"),
            ("GET /scans", "/api/v1/scans"),
            ("GET /dashboard/overview", "/api/v1/dashboard/overview"),
        ):
            statements = statements_of(client, url, headers)
            print(f"\n== {name}: {len(statements)} SQL statements per request")
            for milliseconds, sql in statements:
                print(f"  {milliseconds:7.2f} ms  {' '.join(sql.split())[:110]}")
            stats, per_request = profile(client, url, headers, args.requests)
            summarise(stats, per_request, args.requests, args.top)


if __name__ == "__main__":
    main()

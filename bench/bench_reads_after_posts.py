"""The 32-connection reads (``GET /scans``, ``GET /dashboard/overview``) before and after a burst of
``POST /scans`` has queued a thousand or so scans in the organization: the open finding of bench/README.md's
"Quiet machine after the third round of merges". Each phase prints the API's and PostgreSQL's CPU per request
(``/proc/<pid>/stat``, every backend of the benchmark's database) and, after the burst, when autovacuum last
analyzed ``scans``.

Run from the repository root::

    .venv/bin/python bench/bench_reads_after_posts.py [--duration 8] [--posts 8]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import PG_ADMIN_URL, Stack
from bench.bench_api import (
    COMPONENTS,
    POST_SCRIPT,
    cpu_seconds,
    database_cpu_seconds,
    database_cpu_spent,
    insert_components,
    run_wrk,
    serving_process,
)


def scans_by_status(db_name: str) -> dict:
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db_name}"
    with psycopg.connect(url) as connection:
        counts = dict(connection.execute("SELECT status, count(*) FROM scans GROUP BY status").fetchall())
        analyzed = connection.execute(
            "SELECT last_autoanalyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'scans'"
        ).fetchone()[0]
    return {"scans": counts, "scans autoanalyzed": analyzed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--posts", type=int, default=8, help="seconds of one-connection POST /scans")
    args = parser.parse_args()
    with Stack("reads", RATELIMIT_ENABLED="false") as stack:
        stack.start_api()
        session = stack.register()
        token, org_id = session["access_token"], session["user"]["personal_organization_id"]
        target = stack.scan_root / "tiny"
        target.mkdir()
        (target / "app.py").write_text("import openai\nclient = openai.OpenAI()\n")
        insert_components(org_id, str(target), COMPONENTS)
        auth = f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        reads = {
            "GET /scans (list)": f"{stack.api}/scans",
            "GET /dashboard/overview": f"{stack.api}/dashboard/overview",
        }
        api = serving_process(stack.processes["api"].pid)

        def phase(label: str, url: str, connections: int, script: str, duration: int) -> None:
            before, database_before = cpu_seconds(api), database_cpu_seconds(stack.db_name)
            wrk_args = SimpleNamespace(threads=2, duration=duration)
            result = run_wrk(url, wrk_args, connections, script)
            done = max(1, result["requests"])
            api_ms = (cpu_seconds(api) - before) * 1000 / done
            database_ms = database_cpu_spent(stack.db_name, database_before) * 1000 / done
            print(
                f"| {label} | {connections} | {result['rps']:.0f} | {result['p50_ms']:.1f} "
                f"| {result['p99_ms']:.1f} | {result['non_2xx']} | {api_ms:.2f} | {database_ms:.2f} |",
                flush=True,
            )

        print(
            "| phase | connections | requests/s | p50 ms | p99 ms | non-2xx "
            "| API CPU ms/request | PostgreSQL CPU ms/request |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, url in reads.items():
            phase(f"{name}, before the burst", url, 32, auth, args.duration)
        post = POST_SCRIPT.format(body=json.dumps({"target": str(target)}), token=token)
        phase("POST /scans (the burst)", f"{stack.api}/scans", 1, post, args.posts)
        print(f"after the burst: {scans_by_status(stack.db_name)}", flush=True)
        for label in ("after the burst", "after the burst, again"):
            for name, url in reads.items():
                phase(f"{name}, {label}", url, 32, auth, args.duration)
        print(f"at the end: {scans_by_status(stack.db_name)}", flush=True)


if __name__ == "__main__":
    main()

"""PostgreSQL's cost of one ``GET /dashboard/overview``: the dashboard's statement timed by ``EXPLAIN
(ANALYZE, BUFFERS)``, median of ``--repeat`` runs, on two organizations of a scratch database:

- ``bench``: what ``bench_api.py`` builds, one completed scan of 10,000 components (823 rollup rows);
- ``big``: 500 completed scans over 50 targets (paths, repositories, uploads, n8n instances) spread over
  90 days, 200 components each, rolled up.

The server's execution time is what a view costs the database core, whatever the API process does;
the planning time is shown apart (a prepared statement's generic plan skips it). The server process's
CPU time (``/proc``, user + system) over ``--cpu-runs`` executions of the statement as the API sends it
(prepared, as psycopg prepares a statement it has run 5 times) is the figure a loaded machine does not
distort. Run from the repository root::

    .venv/bin/python bench/bench_dashboard_sql.py [--repeat 50] [--cpu-runs 500] [--plan]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import Stack

COMPONENTS_BENCH = 10_000
BIG_SCANS, BIG_TARGETS, BIG_DAYS, BIG_COMPONENTS = 500, 50, 90, 200


def _organization(session, name: str) -> str:
    from common.models.identity import Organization

    organization = Organization(name=name, slug=f"{name}-{random.randrange(10**9)}")
    session.add(organization)
    session.flush()
    return organization.id


def _components(scan_id: str, organization_id: str, count: int, models: int, rng) -> list[dict]:
    from common.models.base import new_id
    from common.scanner.model import COMPONENT_TYPES, SEVERITIES

    return [
        {
            "id": new_id(),
            "scan_id": scan_id,
            "organization_id": organization_id,
            "fingerprint": hashlib.sha256(f"{scan_id}-{i}".encode()).hexdigest(),
            "name": f"component-{i}" if i % 3 else f"model-{rng.randrange(models)}",
            "type": "model" if i % 3 == 0 else rng.choice(COMPONENT_TYPES),
            "provider": rng.choice(["openai", "anthropic", "google", "meta", None]),
            "locations": [],
            "flags": [],
            "risk_score": rng.randint(0, 100),
            "severity": rng.choice(SEVERITIES),
            "risk_factors": [],
            "detector": "bench",
            "confidence": 1.0,
            "scope": "production",
            "metadata": {},
        }
        for i in range(count)
    ]


def _target(index: int) -> dict:
    """The four kinds of target, in turn."""
    kind = index % 4
    if kind == 0:
        return {"target": f"/srv/code/project-{index}"}
    if kind == 1:
        return {"repository_url": f"https://git.example.com/team/repo-{index}", "repository_ref": "main"}
    if kind == 2:
        return {"target": "upload:json", "repository_url": f"https://git.example.com/ci/app-{index}"}
    return {"n8n_url": f"https://n8n-{index}.example.com"}


def seed(rng) -> dict[str, str]:
    """Both organizations, rolled up and analysed; their ids by name."""
    from sqlalchemy import insert, text

    from bench.bench_api import insert_components
    from common.dashboard import refresh_summary
    from common.db import bulk_insert, session_scope
    from common.models import Component, Scan
    from common.rollups import roll_up_organization

    with session_scope() as session:
        bench_org = _organization(session, "bench")
        big_org = _organization(session, "big")
    insert_components(bench_org, "/srv/code/tiny", COMPONENTS_BENCH)
    now = datetime.now(UTC)
    with session_scope() as session:
        scans = []
        for number in range(BIG_SCANS):
            finished = now - timedelta(days=BIG_DAYS * (BIG_SCANS - number) / BIG_SCANS, minutes=number)
            scans.append(
                {
                    "id": f"{number:08d}-0000-4000-8000-{rng.randrange(16**12):012x}",
                    "organization_id": big_org,
                    "status": "completed",
                    "progress": 100,
                    "created_at": finished - timedelta(minutes=3),
                    "finished_at": finished,
                    **{"target": None, "repository_url": None, "repository_ref": None, "n8n_url": None},
                    **_target(number % BIG_TARGETS),
                }
            )
        session.execute(insert(Scan), scans)
        for scan in scans:
            rows = _components(scan["id"], big_org, BIG_COMPONENTS, 60, rng)
            bulk_insert(session, Component.__table__, rows)
    with session_scope() as session:
        roll_up_organization(session.connection(), big_org)
        refresh_summary(session.connection(), big_org)
        session.execute(text("ANALYZE"))
    return {"bench": bench_org, "big": big_org}


def _backend_cpu_seconds(connection) -> float:
    pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(organization_id: str, repeat: int, cpu_runs: int, show_plan: bool) -> dict:
    from common.db import get_engine
    from common.models.base import utcnow
    from web.api import dashboard

    engine = get_engine()
    with engine.connect() as connection:
        sql = dashboard._document_sql(connection.dialect)
        parameters = dashboard._parameters(organization_id, utcnow().date())
        document = json.loads(dashboard.document_json(connection, organization_id, utcnow().date()))
        executions, plannings = [], []
        for _ in range(repeat):
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, parameters
            ).scalar()
            plan = plan if isinstance(plan, list) else json.loads(plan)
            executions.append(plan[0]["Execution Time"])
            plannings.append(plan[0]["Planning Time"])
        for _ in range(10):  # prepared from the fifth on
            dashboard.document_json(connection, organization_id, utcnow().date())
        before = _backend_cpu_seconds(connection)
        for _ in range(cpu_runs):
            dashboard.document_json(connection, organization_id, utcnow().date())
        cpu_ms = (_backend_cpu_seconds(connection) - before) * 1000 / cpu_runs
        if show_plan:
            text_plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, parameters).scalars()
            print("\n".join(text_plan))
    return {
        "execution_ms": statistics.median(executions),
        "planning_ms": statistics.median(plannings),
        "cpu_ms": cpu_ms,
        "targets": document["targets"],
        "trend_scans": sum(day["scans"] for day in document["trend"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--cpu-runs", type=int, default=500)
    parser.add_argument("--plan", action="store_true", help="print each organization's analysed plan")
    args = parser.parse_args()
    rng = random.Random(11)
    with Stack("dashboard-sql"):
        organizations = seed(rng)
        print(
            "| organization | targets | scans in trend | server CPU ms per view | "
            "execution ms (median) | planning ms (median) |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, organization_id in organizations.items():
            result = measure(organization_id, args.repeat, args.cpu_runs, args.plan)
            print(
                f"| {name} | {result['targets']} | {result['trend_scans']} | {result['cpu_ms']:.2f} | "
                f"{result['execution_ms']:.2f} | {result['planning_ms']:.2f} |"
            )


if __name__ == "__main__":
    main()

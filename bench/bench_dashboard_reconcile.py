"""What one ``dashboard.reconcile`` (beat, every five minutes) reads, on a scratch database of one large
organization (``--scans`` completed scans over ``--targets`` targets, 5 components each) among
``--organizations`` small ones (3 completed scans each), everything rolled up and counted:

- ``settled``: nothing lost since the last run (the run every five minutes nearly always is);
- ``lost in a small organization``: one small organization's newest scan without rollups (its follow-up
  lost);
- ``lost in the large organization``: the same in the large one;
- ``scans deleted``: the latest scan of one of the large organization's targets deleted.

Each run's statements are captured as sent; each ``SELECT`` among them is then run again under
``EXPLAIN (ANALYZE, BUFFERS)``, which gives the rows its scan nodes read (actual rows times loops) and the
shared buffers it touched: figures a loaded machine does not change. Run from the repository root::

    .venv/bin/python bench/bench_dashboard_reconcile.py [--scans 5000] [--organizations 300]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import Stack

COMPONENTS_PER_SCAN = 5
SMALL_SCANS = 3
SCAN_NODES = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


def _organizations(session, count: int) -> list[str]:
    from common.models.identity import Organization

    organizations = [
        Organization(name=f"org-{n}", slug=f"org-{n}-{random.randrange(10**9)}") for n in range(count)
    ]
    session.add_all(organizations)
    session.flush()
    return [organization.id for organization in organizations]


def _scan_rows(organization_id: str, scans: int, targets: int) -> list[dict]:
    from common.models.base import new_id

    now = datetime.now(UTC) - timedelta(hours=1)
    return [
        {
            "id": new_id(),
            "organization_id": organization_id,
            "target": f"/srv/code/project-{number % targets}",
            "status": "completed",
            "progress": 100,
            "created_at": now - timedelta(minutes=scans - number + 3),
            "finished_at": now - timedelta(minutes=scans - number),
        }
        for number in range(scans)
    ]


def _component_rows(scan: dict, rng) -> list[dict]:
    from common.models.base import new_id
    from common.scanner.model import SEVERITIES

    return [
        {
            "id": new_id(),
            "scan_id": scan["id"],
            "organization_id": scan["organization_id"],
            "fingerprint": f"{scan['id']}-{index}",
            "name": f"model-{rng.randrange(40)}" if index == 0 else f"component-{index}",
            "type": "model" if index == 0 else "library",
            "provider": rng.choice(["openai", "anthropic", None]),
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
        for index in range(COMPONENTS_PER_SCAN)
    ]


def seed(scans: int, targets: int, small: int, rng) -> dict:
    """The organizations, every scan rolled up and every summary counted, as the follow-ups leave them."""
    from sqlalchemy import insert, text

    from common.db import bulk_insert, session_scope
    from common.models import Component, Scan
    from workers.dashboard import _roll_up

    with session_scope() as session:
        large, *smalls = _organizations(session, 1 + small)
    rows = _scan_rows(large, scans, targets)
    for organization_id in smalls:
        rows.extend(_scan_rows(organization_id, SMALL_SCANS, SMALL_SCANS))
    with session_scope() as session:
        session.execute(insert(Scan), rows)
        components = [component for scan in rows for component in _component_rows(scan, rng)]
        bulk_insert(session, Component.__table__, components)
    for organization_id in (large, *smalls):
        _roll_up(organization_id)
    with session_scope() as session:
        session.execute(text("ANALYZE"))
    return {"large": large, "small": smalls[0], "components": len(components), "scans": len(rows)}


def _lose_newest_rollups(organization_id: str) -> None:
    """The newest scan of the organization as its completion leaves it when its follow-up is lost."""
    from sqlalchemy import delete, select

    from common.db import session_scope
    from common.models import Scan
    from common.models.base import utcnow
    from common.models.scans import ScanRollup

    with session_scope() as session:
        newest = session.scalar(
            select(Scan.id).where(Scan.organization_id == organization_id).order_by(Scan.finished_at.desc())
        )
        session.execute(delete(ScanRollup).where(ScanRollup.scan_id == newest))
        session.get(Scan, newest).finished_at = utcnow()


def _delete_a_latest_scan(organization_id: str) -> None:
    from sqlalchemy import select

    from common.db import session_scope
    from common.models import Scan

    with session_scope() as session:
        newest = session.scalar(
            select(Scan).where(Scan.organization_id == organization_id).order_by(Scan.finished_at.desc())
        )
        session.delete(newest)


def _rows_read(plan: dict) -> int:
    own = plan["Actual Rows"] * plan["Actual Loops"] if plan["Node Type"] in SCAN_NODES else 0
    return own + sum(_rows_read(child) for child in plan.get("Plans", []))


def measure() -> dict:
    """One reconcile's statements, the rows and buffers its reads cost, and the organizations it counted."""
    from sqlalchemy import event

    from common.db import get_engine
    from workers.dashboard import reconcile

    engine = get_engine()
    sent: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_args):
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        counted = reconcile()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    rows = buffers = 0
    milliseconds = 0.0
    with engine.connect() as connection:
        for statement, parameters in sent:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            explained = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
            ).scalar()
            plan = (explained if isinstance(explained, list) else json.loads(explained))[0]
            rows += _rows_read(plan["Plan"])
            buffers += plan["Plan"].get("Shared Hit Blocks", 0) + plan["Plan"].get("Shared Read Blocks", 0)
            milliseconds += plan["Execution Time"]
        connection.rollback()
    return {
        "statements": len(sent),
        "rows": rows,
        "buffers": buffers,
        "select_ms": milliseconds,
        "counted": len(counted),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=5000)
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--organizations", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(5)
    with Stack("dashboard-reconcile"):
        seeded = seed(args.scans, args.targets, args.organizations, rng)
        print(
            f"{seeded['scans']} completed scans, {seeded['components']} components, "
            f"{args.organizations + 1} organizations"
        )
        print("| state | statements | rows read by the SELECTs | shared buffers | SELECT ms | counted |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        scenarios = [
            ("settled", lambda: None),
            ("lost in a small organization", lambda: _lose_newest_rollups(seeded["small"])),
            ("lost in the large organization", lambda: _lose_newest_rollups(seeded["large"])),
            ("scans deleted", lambda: _delete_a_latest_scan(seeded["large"])),
            ("settled again", lambda: None),
        ]
        for name, prepare in scenarios:
            prepare()
            result = measure()
            print(
                f"| {name} | {result['statements']} | {result['rows']} | {result['buffers']} | "
                f"{result['select_ms']:.1f} | {result['counted']} |"
            )


if __name__ == "__main__":
    main()

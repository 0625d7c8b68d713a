"""Known data for the dashboard, shared by the PostgreSQL suite (``tests/api/test_dashboard.py``) and the
SQLite one (``tests/unit/test_dashboard_sqlite.py``): both paths must give these very numbers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from common.models.alerts import Alert
from common.models.base import new_id
from common.models.compliance import Policy, PolicyEvaluation
from tests.factories import component, make_scan

N8N_URL = "https://n8n.example.com"


def _day(days_ago: int) -> datetime:
    """Noon UTC of a past day, so the test does not depend on the hour it runs at."""
    return datetime.combine(datetime.now(UTC).date() - timedelta(days=days_ago), time(12), tzinfo=UTC)


def _dated(days_ago: int, status: str = "completed") -> dict:
    """Scan timestamps of a past day: created five minutes before it finished (if it did)."""
    finished = _day(days_ago)
    return {
        "created_at": finished - timedelta(minutes=5),
        "finished_at": finished if status in ("completed", "failed") else None,
    }


def _evaluate(session, org_id, scan_id, outcomes: dict[str, bool]) -> None:
    for policy_id, passed in outcomes.items():
        session.add(
            PolicyEvaluation(
                organization_id=org_id,
                scan_id=scan_id,
                policy_id=policy_id,
                name="p",
                action="warn",
                passed=passed,
            )
        )


def seed_known_data(session, org_id: str, other_org_id: str) -> None:
    """Three targets of ``org_id`` (one re-scanned), failed and queued scans, alerts and evaluations; and
    a scan of the other organization on one of the same targets, newer than ``org_id``'s."""
    first_a = make_scan(
        org_id,
        session=session,
        target="/repo/a",
        **_dated(3),
        components=[
            component("llm_provider", "openai", provider="openai", severity="high", risk=70),
            component("model", "gpt-4o", provider="openai", severity="medium", risk=40),
        ],
    )
    latest_a = make_scan(
        org_id,
        session=session,
        target="/repo/a",
        **_dated(1),
        components=[
            component("llm_provider", "openai", provider="openai", severity="high", risk=75),
            component("model", "gpt-4o", provider="openai", severity="medium", risk=45),
            component("model", "claude-3-5-sonnet", provider="anthropic", severity="critical", risk=90),
        ],
    )
    latest_b = make_scan(
        org_id,
        session=session,
        target="/repo/b",
        **_dated(0),
        components=[
            component("llm_provider", "anthropic", provider="anthropic", severity="low", risk=20),
            component("model", "claude-3-5-sonnet", provider="anthropic", severity="critical", risk=85),
            component("vector_db", "chromadb", provider="chromadb", severity="info", risk=0),
        ],
    )
    make_scan(
        org_id,
        session=session,
        target=None,
        n8n_url=N8N_URL,
        **_dated(40),
        components=[component("workflow", "Support bot", severity="info", risk=5)],
    )
    make_scan(org_id, session=session, target="/repo/a", status="failed", **_dated(0, "failed"))
    make_scan(org_id, session=session, target="/repo/c", status="queued", **_dated(0, "queued"))
    other = make_scan(
        other_org_id,
        session=session,
        target="/repo/a",
        **_dated(0),
        components=[component("model", "mistral-large", provider="mistral", severity="critical", risk=99)],
    )
    for status in ("open", "open", "resolved"):
        session.add(Alert(id=new_id(), organization_id=org_id, status=status, severity="high", title="t"))
    session.add(Alert(id=new_id(), organization_id=other_org_id, status="open", severity="high", title="t"))
    policies = [Policy(organization_id=org_id, name=f"p{i}", action="warn", rules=[]) for i in range(2)]
    foreign_policy = Policy(organization_id=other_org_id, name="p", action="block", rules=[])
    session.add_all([*policies, foreign_policy])
    session.flush()
    first, second = (policy.id for policy in policies)
    _evaluate(session, org_id, first_a, {first: False, second: False})  # superseded by a newer scan
    _evaluate(session, org_id, latest_a, {first: True, second: False})
    _evaluate(session, org_id, latest_b, {first: True, second: True})
    _evaluate(session, other_org_id, other, {foreign_policy.id: False})


def assert_known_numbers(body: dict, org_id: str) -> None:
    """The overview of ``org_id`` after ``seed_known_data``, every number checked exactly."""
    assert body["targets"] == 3
    assert body["severity_distribution"] == {"info": 2, "low": 1, "medium": 1, "high": 1, "critical": 2}
    assert body["scans_by_status"] == {"completed": 4, "failed": 1, "queued": 1}
    assert body["top_providers"] == [
        {"name": "anthropic", "components": 3, "targets": 2},
        {"name": "openai", "components": 2, "targets": 1},
        {"name": "chromadb", "components": 1, "targets": 1},
    ]
    assert body["top_models"] == [
        {"name": "claude-3-5-sonnet", "components": 2, "targets": 2},
        {"name": "gpt-4o", "components": 1, "targets": 1},
    ]
    assert body["open_alerts"] == 2

    trend = body["trend"]
    assert len(trend) == 30 and trend[-1]["date"] == _day(0).date().isoformat()
    assert trend[0]["date"] == _day(29).date().isoformat()
    active = {entry["date"]: entry for entry in trend if entry["scans"]}
    assert active == {
        _day(3).date().isoformat(): {
            "date": _day(3).date().isoformat(),
            "scans": 1,
            "components": 2,
            "highest_risk_score": 70,
        },
        _day(1).date().isoformat(): {
            "date": _day(1).date().isoformat(),
            "scans": 1,
            "components": 3,
            "highest_risk_score": 90,
        },
        _day(0).date().isoformat(): {
            "date": _day(0).date().isoformat(),
            "scans": 1,
            "components": 3,
            "highest_risk_score": 85,
        },
    }
    quiet = [entry for entry in trend if not entry["scans"]]
    assert len(quiet) == 27 and all(e["components"] == 0 and e["highest_risk_score"] is None for e in quiet)

    recent = body["recent_scans"]
    assert len(recent) == 6 and {s["organization_id"] for s in recent} == {org_id}
    assert [s["created_at"] for s in recent] == sorted((s["created_at"] for s in recent), reverse=True)

    assert body["policy_pass_rate"] == {"evaluations": 4, "passed": 3, "rate": 0.75}


REPOSITORY_A, REPOSITORY_B = "https://git.example.com/team/a", "https://git.example.com/team/b"

# One scan of each kind of target, and the key it gets (``Scan.target_key``).
TARGETS_OF_EVERY_KIND = [
    ({"target": "/repo/a"}, "path /repo/a"),
    ({"target": "/repo/a", "n8n_url": N8N_URL}, f"path /repo/a n8n {N8N_URL}"),
    ({"target": None, "n8n_url": N8N_URL}, f" n8n {N8N_URL}"),
    (
        {"target": None, "repository_url": REPOSITORY_A, "repository_ref": "main"},
        f"repository {REPOSITORY_A} main",
    ),
    (
        {"target": None, "repository_url": REPOSITORY_A, "repository_ref": "dev"},
        f"repository {REPOSITORY_A} dev",
    ),
    ({"target": None, "repository_url": REPOSITORY_B}, f"repository {REPOSITORY_B} HEAD"),
    (
        {"target": "upload:json", "repository_url": REPOSITORY_A, "source_branch": "main"},
        f"upload {REPOSITORY_A} main",
    ),
    (
        {"target": "upload:cyclonedx", "repository_url": REPOSITORY_A, "source_branch": "dev"},
        f"upload {REPOSITORY_A} dev",
    ),
    ({"target": "upload:json", "repository_url": REPOSITORY_A}, f"upload {REPOSITORY_A} "),
]


def seed_targets_of_every_kind(session, org_id: str) -> dict[str, str]:
    """Each of ``TARGETS_OF_EVERY_KIND`` scanned twice (the earlier scan finds ``old-model``, the latest
    ``gpt-4o``), an upload in the other format of the same source as the first upload, and two uploads
    that name no source (each a target of its own); the scans' ids by their expected key."""
    ids = {}
    for columns, key in TARGETS_OF_EVERY_KIND:
        for days_ago, model in ((5, "old-model"), (2, "gpt-4o")):
            ids[key] = make_scan(
                org_id, session=session, **columns, **_dated(days_ago), components=[component("model", model)]
            )
    same_source = {"target": "upload:cyclonedx", "repository_url": REPOSITORY_A, "source_branch": "main"}
    ids[f"upload {REPOSITORY_A} main"] = make_scan(
        org_id, session=session, **same_source, **_dated(1), components=[component("model", "gpt-4o")]
    )
    for _ in range(2):
        anonymous = make_scan(
            org_id,
            session=session,
            target="upload:json",
            **_dated(1),
            components=[component("model", "gpt-4o")],
        )
        ids[f"upload {anonymous}"] = anonymous
    return ids


def assert_targets_of_every_kind(body: dict) -> None:
    """Eleven targets, each counted once, by its latest scan only."""
    assert body["targets"] == len(TARGETS_OF_EVERY_KIND) + 2
    assert body["top_models"] == [{"name": "gpt-4o", "components": 11, "targets": 11}]

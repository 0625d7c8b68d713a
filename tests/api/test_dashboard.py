"""``/dashboard/overview`` on known data: every number checked exactly, on both paths (the one statement and
the statement-by-statement one), with and without rollups; every change shows on the very next view, and
an organization sees only its own data.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from sqlalchemy import delete, select

from common.dashboard import organizations_to_reconcile, refresh_summary
from common.dashboard_cache import entry_key
from common.db import session_scope
from common.models import Component, Scan
from common.models.alerts import Alert
from common.models.base import new_id, utcnow
from common.models.compliance import PolicyEvaluation
from common.models.scans import DashboardSummary, ScanRollup
from common.redis_client import get_redis
from common.rollups import roll_up_organization
from common.tasks import DASHBOARD_ROLL_UP, EVENT_FOLLOW_UPS
from tests.api.test_db_connections import IDLE, transaction_states
from tests.dashboard_data import (
    assert_known_numbers,
    assert_targets_of_every_kind,
    seed_known_data,
    seed_targets_of_every_kind,
)
from tests.factories import component, component_columns, make_scan
from tests.helpers import add_member, counted_statements
from web.api.dashboard import _document_sql, document, document_json
from workers.dashboard import reconcile, roll_up

OVERVIEW = "/api/v1/dashboard/overview"


def overview(client, user, org_id: str | None = None) -> dict:
    response = client.get(OVERVIEW, headers=user.headers(org_id))
    assert response.status_code == 200, response.json
    return response.json


def rollups_of(*scan_ids: str) -> dict[str, set[tuple]]:
    with session_scope() as session:
        rows = session.execute(
            select(ScanRollup.scan_id, ScanRollup.kind, ScanRollup.name, ScanRollup.components).where(
                ScanRollup.scan_id.in_(scan_ids)
            )
        )
        written: dict[str, set[tuple]] = {}
        for scan_id, *row in rows:
            written.setdefault(scan_id, set()).add(tuple(row))
        return written


def test_overview_numbers_on_known_data(client, make_user):
    user, other = make_user(), make_user()
    with session_scope() as session:
        seed_known_data(session, user.org_id, other.org_id)
    response = client.get(OVERVIEW, headers=user.headers())
    assert response.status_code == 200, response.json
    assert response.mimetype == "application/json"
    assert_known_numbers(response.json, user.org_id)
    with session_scope() as session:
        roll_up_organization(session.connection(), user.org_id)
    assert_known_numbers(overview(client, user), user.org_id)


def test_an_empty_organization_gets_zeros(client, make_user):
    user = make_user()
    body = client.get(OVERVIEW, headers=user.headers()).json
    assert body["targets"] == 0 and body["recent_scans"] == [] and body["scans_by_status"] == {}
    assert set(body["severity_distribution"].values()) == {0}
    assert body["top_providers"] == [] and body["top_models"] == [] and body["open_alerts"] == 0
    assert body["policy_pass_rate"] == {"evaluations": 0, "passed": 0, "rate": None}
    assert sum(entry["scans"] for entry in body["trend"]) == 0


def test_overview_requires_membership(client, make_user):
    user, outsider = make_user(), make_user()
    assert client.get(OVERVIEW).status_code == 401
    denied = client.get(OVERVIEW, headers=outsider.headers(user.org_id))
    assert denied.status_code == 403


def test_both_paths_agree_from_rollups_and_from_components(client, make_user):
    """The one statement (PostgreSQL) and the statement-by-statement path (SQLite, ``make run``) build the
    same document, whether the scans are rolled up yet or counted from their components."""
    user, other = make_user(), make_user()
    with session_scope() as session:
        seed_known_data(session, user.org_id, other.org_id)
    today = utcnow().date()
    documents = []
    for rolled_up in (False, True):
        with session_scope() as session:
            if rolled_up:
                assert roll_up_organization(session.connection(), user.org_id) > 0
            documents.append(json.loads(document_json(session.connection(), user.org_id, today)))
            documents.append(document(session.connection(), user.org_id, today))
        documents.append(overview(client, user))
    assert all(each == documents[0] for each in documents)
    assert_known_numbers(documents[0], user.org_id)


def test_the_pass_rate_rounds_alike_on_both_paths(make_user):
    """1/32 = 0.03125: both paths round the half up, as PostgreSQL's ``round`` does."""
    user = make_user()
    with session_scope() as session:
        scan_id = make_scan(user.org_id, session=session)
        for index in range(32):
            session.add(
                PolicyEvaluation(
                    organization_id=user.org_id, scan_id=scan_id, name="p", action="warn", passed=index == 0
                )
            )
    today = utcnow().date()
    with session_scope() as session:
        one_statement = json.loads(document_json(session.connection(), user.org_id, today))
        one_by_one = document(session.connection(), user.org_id, today)
    expected = {"evaluations": 32, "passed": 1, "rate": 0.0313}
    assert one_statement["policy_pass_rate"] == one_by_one["policy_pass_rate"] == expected


def test_a_view_writes_nothing(client, make_user):
    """A completed scan is counted from its components until its follow-up rolls it up: a view only reads."""
    user = make_user()
    scan_id = make_scan(user.org_id, components=[component("model", "gpt-4o", provider="openai")])
    with counted_statements() as statements:
        body = overview(client, user)
    assert body["targets"] == 1 and body["top_models"] == [{"name": "gpt-4o", "components": 1, "targets": 1}]
    assert [s for s in statements if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")] == []
    assert rollups_of(scan_id) == {}


def test_a_view_reads_outside_a_transaction(client, make_user):
    """The one statement is a plain read: no ``BEGIN``, and no ``ROLLBACK`` at the session's end, on which
    psycopg would forget the statements it prepared on the connection (and PostgreSQL plan it again)."""
    user = make_user()
    make_scan(user.org_id, components=[component("model", "gpt-4o")])
    overview(client, user)
    get_redis().delete(entry_key(user.org_id))  # counted again, not answered from the cache
    with transaction_states() as reading:
        body = overview(client, user)
    assert body["targets"] == 1
    assert [statement for state, statement in reading if state != IDLE] == []
    assert any(statement.startswith("WITH latest_scans") for _, statement in reading)


def test_the_follow_up_rolls_up_the_organizations_completed_scans_once(make_user):
    """``dashboard.roll_up`` follows ``scan.completed``; it rolls up every completed scan of the scan's
    organization that has no rollups (a lost follow-up is made good by the next), and only those."""
    assert DASHBOARD_ROLL_UP in {follow_up.task for follow_up in EVENT_FOLLOW_UPS["scan.completed"]}
    user, other = make_user(), make_user()
    earlier = make_scan(
        user.org_id,
        target="/repo/a",
        components=[
            component("model", "gpt-4o", provider="openai", severity="high"),
            component("llm_provider", "openai", provider="openai", severity="high"),
        ],
    )
    empty = make_scan(user.org_id, target="/repo/b")
    queued = make_scan(user.org_id, target="/repo/c", status="queued")
    foreign = make_scan(other.org_id, components=[component("model", "mistral-large")])

    assert roll_up(empty) == 5
    assert rollups_of(earlier, empty, queued, foreign) == {
        earlier: {
            ("total", "", 2),
            ("severity", "high", 2),
            ("provider", "openai", 2),
            ("model", "gpt-4o", 1),
        },
        empty: {("total", "", 0)},
    }
    assert roll_up(earlier) == 0 and roll_up("no-such-scan") == 0


def test_every_change_shows_on_the_very_next_view(client, make_user):
    user = make_user()
    org = user.org_id
    assert overview(client, user)["scans_by_status"] == {}

    scan_id = make_scan(org, target="/repo/a", status="queued")
    view = overview(client, user)
    assert view["scans_by_status"] == {"queued": 1}
    assert [(s["id"], s["status"]) for s in view["recent_scans"]] == [(scan_id, "queued")]

    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        scan.status, scan.progress, scan.stage, scan.started_at = "running", 40, "detecting", utcnow()
    view = overview(client, user)
    assert view["scans_by_status"] == {"running": 1}
    [recent] = view["recent_scans"]
    assert (recent["progress"], recent["stage"]) == (40, "detecting") and recent["started_at"] is not None

    with session_scope() as session:  # completed as ingest stores it: components and status together
        scan = session.get(Scan, scan_id)
        scan.status, scan.progress, scan.finished_at = "completed", 100, utcnow()
        make_scan(org, target="/unused", session=session)  # a second target, to see it counted too
        session.add_all(
            Component(
                scan_id=scan_id,
                organization_id=org,
                **component_columns(component("model", name, severity=severity)),
            )
            for name, severity in (("gpt-4o", "high"), ("claude-3-5-sonnet", "critical"))
        )
    completed = overview(client, user)
    assert completed["scans_by_status"] == {"completed": 2} and completed["targets"] == 2
    assert completed["severity_distribution"] == {"info": 0, "low": 0, "medium": 0, "high": 1, "critical": 1}
    assert completed["top_models"] == [
        {"name": "claude-3-5-sonnet", "components": 1, "targets": 1},
        {"name": "gpt-4o", "components": 1, "targets": 1},
    ]
    assert (completed["trend"][-1]["scans"], completed["trend"][-1]["components"]) == (2, 2)

    roll_up(scan_id)
    assert overview(client, user) == completed

    rescan = make_scan(org, target="/repo/a", components=[component("model", "gpt-4o", severity="low")])
    view = overview(client, user)
    assert view["targets"] == 2 and view["top_models"] == [{"name": "gpt-4o", "components": 1, "targets": 1}]
    assert view["severity_distribution"]["low"] == 1 and view["severity_distribution"]["critical"] == 0
    assert (view["trend"][-1]["scans"], view["trend"][-1]["components"]) == (3, 3)

    alert_id = new_id()
    with session_scope() as session:
        session.add(Alert(id=alert_id, organization_id=org, status="open", severity="high", title="t"))
    assert overview(client, user)["open_alerts"] == 1
    with session_scope() as session:
        session.get(Alert, alert_id).status = "resolved"
    assert overview(client, user)["open_alerts"] == 0

    with session_scope() as session:
        session.add(
            PolicyEvaluation(organization_id=org, scan_id=rescan, name="p", action="warn", passed=False)
        )
    assert overview(client, user)["policy_pass_rate"] == {"evaluations": 1, "passed": 0, "rate": 0.0}

    failed = make_scan(org, target="/repo/a", status="failed")
    view = overview(client, user)
    assert (
        view["scans_by_status"] == {"completed": 3, "failed": 1} and view["recent_scans"][0]["id"] == failed
    )

    with (
        session_scope() as session
    ):  # the re-scan gone (its organization deleted, say): the first counts again
        session.delete(session.get(Scan, rescan))
    view = overview(client, user)
    assert view["top_models"] == completed["top_models"]
    assert view["severity_distribution"] == completed["severity_distribution"]
    assert view["policy_pass_rate"] == {"evaluations": 0, "passed": 0, "rate": None}


def test_another_organizations_data_never_shows(client, make_user):
    """Two organizations with the very same targets and data, and a third scanning those targets later:
    each sees exactly its own numbers, rolled up or not, and a member of two sees the one it acts in."""
    first, second, third = make_user(), make_user(), make_user()
    with session_scope() as session:
        seed_known_data(session, first.org_id, third.org_id)
    alone = overview(client, first)
    with session_scope() as session:
        seed_known_data(session, second.org_id, third.org_id)
        roll_up_organization(session.connection(), second.org_id)
        roll_up_organization(session.connection(), third.org_id)
    assert overview(client, first) == alone
    assert_known_numbers(alone, first.org_id)
    assert_known_numbers(overview(client, second), second.org_id)
    foreign = overview(client, third)  # two scans of /repo/a: the latest counts, both in the trend
    assert foreign["targets"] == 1 and foreign["top_models"] == [
        {"name": "mistral-large", "components": 1, "targets": 1}
    ]
    assert foreign["trend"][-1]["scans"] == 2 and foreign["open_alerts"] == 2

    add_member(client, second, second.org_id, first, "viewer")
    assert overview(client, first) == alone
    assert_known_numbers(overview(client, first, second.org_id), second.org_id)


def summary_of(org_id: str) -> tuple[str | None, dict] | None:
    with session_scope() as session:
        row = session.get(DashboardSummary, org_id)
        return None if row is None else (row.latest_scans, json.loads(row.current))


def test_each_kind_of_target_is_its_own_target(client, make_user):
    """Paths, n8n instances, a path with an n8n instance, repositories at each ref, uploads by the
    repository and branch they name (whatever their format) and uploads that name none: each its own
    target, counted by its latest scan, live, from rollups and from the summary alike."""
    user = make_user()
    with session_scope() as session:
        ids = seed_targets_of_every_kind(session, user.org_id)
    with session_scope() as session:
        keys = dict(session.execute(select(Scan.id, Scan.target_key).where(Scan.id.in_(ids.values()))).all())
    assert {keys[scan_id]: scan_id for scan_id in ids.values()} == ids
    live = overview(client, user)
    assert_targets_of_every_kind(live)
    roll_up(next(iter(ids.values())))
    assert summary_of(user.org_id)[1]["targets"] == 11
    assert overview(client, user) == live
    with session_scope() as session:
        assert document(session.connection(), user.org_id, utcnow().date()) == live


def test_the_summary_is_read_only_while_it_was_counted_from_the_latest_scans(client, make_user):
    """``roll_up`` rewrites the summary (the same row however often it runs); a view reads it only while
    the latest scan of each target is still what it was counted from, and counts live otherwise."""
    user = make_user()
    first = make_scan(user.org_id, target="/repo/a", components=[component("model", "gpt-4o")])
    assert summary_of(user.org_id) is None
    roll_up(first)
    written = summary_of(user.org_id)
    roll_up(first)
    assert summary_of(user.org_id) == written and written[1]["targets"] == 1

    with session_scope() as session:  # proof that a view reads the row: a number no scan gives
        session.get(DashboardSummary, user.org_id).current = json.dumps({**written[1], "targets": 99})
    assert overview(client, user)["targets"] == 99

    second = make_scan(user.org_id, target="/repo/b", components=[component("model", "gpt-4o")])
    view = overview(client, user)  # a new latest scan, its follow-up not run: counted live
    assert view["targets"] == 2 and view["top_models"] == [{"name": "gpt-4o", "components": 2, "targets": 2}]
    roll_up(second)
    assert overview(client, user) == view and summary_of(user.org_id)[1]["targets"] == 2

    rescan = make_scan(user.org_id, target="/repo/b", components=[component("model", "o1")])
    roll_up(rescan)
    assert summary_of(user.org_id)[1]["top_models"] == [
        {"name": "gpt-4o", "components": 1, "targets": 1},
        {"name": "o1", "components": 1, "targets": 1},
    ]
    with session_scope() as session:  # the re-scan deleted: its summary goes with it, and counts live
        session.delete(session.get(Scan, rescan))
    assert summary_of(user.org_id) is None
    assert overview(client, user) == view
    assert user.org_id in reconcile()
    assert summary_of(user.org_id)[1] == {key: view[key] for key in summary_of(user.org_id)[1]}
    assert user.org_id not in reconcile()


def test_the_reconcile_rolls_up_what_a_lost_follow_up_left(make_user):
    user = make_user()
    lost = make_scan(user.org_id, components=[component("model", "gpt-4o", severity="high")])
    assert rollups_of(lost) == {}
    assert reconcile()[user.org_id] == 3  # total, severity, model
    assert rollups_of(lost)[lost] == {("total", "", 1), ("severity", "high", 1), ("model", "gpt-4o", 1)}
    assert summary_of(user.org_id)[1]["targets"] == 1
    assert user.org_id not in reconcile()


def test_an_organization_whose_scans_are_all_deleted_sees_none_of_them(client, make_user):
    """Deleting an organization's scans deletes its summary row in the same transaction: no view, and no
    row at rest, keeps what they found."""
    user, neighbour = make_user(), make_user()
    first = make_scan(
        user.org_id, target="/repo/a", components=[component("model", "gpt-4o", severity="high")]
    )
    make_scan(user.org_id, target="/repo/b", components=[component("model", "o1", provider="openai")])
    kept = make_scan(neighbour.org_id, target="/repo/a", components=[component("model", "gpt-4o")])
    roll_up(first)
    roll_up(kept)
    assert overview(client, user)["targets"] == 2 and summary_of(user.org_id)[1]["targets"] == 2
    with session_scope() as session:
        session.execute(delete(Scan).where(Scan.organization_id == user.org_id))
    assert summary_of(user.org_id) is None
    view = overview(client, user)
    assert view["targets"] == 0 and view["top_models"] == [] and view["top_providers"] == []
    assert set(view["severity_distribution"].values()) == {0}
    assert view["recent_scans"] == [] and view["scans_by_status"] == {}
    assert sum(day["scans"] for day in view["trend"]) == 0
    assert user.org_id not in reconcile() and summary_of(user.org_id) is None
    assert summary_of(neighbour.org_id)[1]["targets"] == 1


def test_a_roll_up_with_no_completed_scan_left_deletes_the_summary(make_user):
    """A follow-up that counts after its scan was deleted (the deletion committed between its two reads)
    writes no row of nothing."""
    user = make_user()
    scan_id = make_scan(user.org_id, components=[component("model", "gpt-4o")])
    roll_up(scan_id)
    written = summary_of(user.org_id)
    with session_scope() as session:
        session.delete(session.get(Scan, scan_id))
        session.flush()
        session.add(DashboardSummary(organization_id=user.org_id, latest_scans=written[0], current="{}"))
    with session_scope() as session:
        refresh_summary(session.connection(), user.org_id)
    assert summary_of(user.org_id) is None


def test_a_refresh_during_a_deletion_counts_without_the_deleted_scan(make_user):
    """A refresh that read the scans before a deletion committed would write the deleted scan's counts back
    once the deletion had removed the row, where no reconcile looks again (no completion since): the two
    take turns on the organization's row, and the refresh reads after the deletion."""
    user = make_user()
    deleted = make_scan(user.org_id, target="/repo/a", components=[component("model", "o1")])
    make_scan(user.org_id, target="/repo/b", components=[component("model", "gpt-4o")])
    roll_up(deleted)
    refreshed = threading.Event()

    def refresh():
        with session_scope() as session:
            refresh_summary(session.connection(), user.org_id)
        refreshed.set()

    thread = threading.Thread(target=refresh)
    with session_scope() as session:
        session.delete(session.get(Scan, deleted))
        session.flush()  # the trigger has run; the deletion commits below
        thread.start()
        assert not refreshed.wait(1)
    thread.join(30)
    assert refreshed.is_set()
    assert summary_of(user.org_id)[1]["top_models"] == [{"name": "gpt-4o", "components": 1, "targets": 1}]


def test_the_reconcile_looks_only_at_organizations_with_something_new(make_user):
    """An organization counted after its last completion (by more than the margin a commit may take) is
    not looked at; a completion since, or a deletion (which deletes its row), brings it back, and the
    reconcile counts it again only when something is stale."""
    user = make_user()
    make_scan(user.org_id, target="/repo/a", finished_at=utcnow() - timedelta(hours=2))
    older = make_scan(user.org_id, target="/repo/b", finished_at=utcnow() - timedelta(hours=1))

    def looked_at() -> bool:
        with session_scope() as session:
            return user.org_id in organizations_to_reconcile(session.connection())

    assert looked_at()  # completed scans and no row yet
    assert user.org_id in reconcile()
    assert not looked_at() and user.org_id not in reconcile()

    newer = make_scan(user.org_id, target="/repo/b")  # its follow-up lost
    assert looked_at() and reconcile()[user.org_id] == 1  # its total
    assert looked_at() and user.org_id not in reconcile()  # within the margin: looked at, nothing stale

    with session_scope() as session:
        session.delete(session.get(Scan, older))
    assert summary_of(user.org_id) is None and looked_at()
    assert user.org_id in reconcile() and user.org_id not in reconcile()
    assert rollups_of(newer)[newer] == {("total", "", 0)}


def test_a_scan_committed_after_the_count_with_an_earlier_finish_is_reconciled(make_user):
    """A completion's time is taken before its commit: a scan that finished just before its organization
    was counted, but committed after, is not in the row, and its lost follow-up is still made good."""
    user = make_user()
    counted = make_scan(user.org_id, target="/repo/a", components=[component("model", "gpt-4o")])
    roll_up(counted)
    late = make_scan(
        user.org_id,
        target="/repo/b",
        components=[component("model", "o1")],
        finished_at=summary_counted_at(user.org_id) - timedelta(minutes=2),
    )
    assert reconcile()[user.org_id] == 3  # total, severity, model
    assert rollups_of(late)[late] == {("total", "", 1), ("severity", "low", 1), ("model", "o1", 1)}
    assert summary_of(user.org_id)[1]["targets"] == 2


def summary_counted_at(org_id: str):
    with session_scope() as session:
        return session.get(DashboardSummary, org_id).counted_at


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def test_only_the_recent_scans_are_turned_into_json(client, make_user):
    """Whatever plan PostgreSQL picks for the recent scans (a sort, when ``scans`` has no statistics yet
    after a burst of queued scans), it sorts their keys: the JSON is built for the ten shown, never for
    every scan of the organization."""
    user = make_user()
    with session_scope() as session:
        session.add_all(
            Scan(organization_id=user.org_id, target=f"/srv/queued-{i}", status="queued") for i in range(40)
        )
    with session_scope() as session:
        connection = session.connection()
        sql = _document_sql(connection.dialect)
        parameters = {"organization_id": user.org_id, "first_day": utcnow().date()}
        connection.exec_driver_sql("SET LOCAL enable_indexscan = off")
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        (plan,) = connection.exec_driver_sql(f"EXPLAIN (VERBOSE, FORMAT JSON) {sql}", parameters).scalar()
    sorts = [node for node in _plan_nodes(plan["Plan"]) if node["Node Type"] == "Sort"]
    assert sorts, "a plan without the scans' index sorts them"
    assert not [node for node in sorts if "json_build_object" in " ".join(node["Output"])]
    assert len(overview(client, user)["recent_scans"]) == 10

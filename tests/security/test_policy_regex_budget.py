"""Regular expressions in policies share one time budget per evaluation, not one per leaf.

Every ``matches`` leaf had 1 s to search a scan's values (each search stopped after 50 ms), and a
policy may hold 100 rules of 256 distinct leaves: one ``POST /policies/preview`` by a viewer, over a scan
whose names make the patterns backtrack, cost up to 25,600 s of an API thread, and the same stored
policies cost as much in the compliance worker after every scan. Now all the leaves of one evaluation
share ``REGEX_TABLE_BUDGET_S``, and so do the ``new_component`` alert rules of one scan, which had a table
(so a budget) each: an admin's rules are not counted.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from common.celery_client import enqueue
from common.db import session_scope
from common.models.alerts import Alert
from common.tasks import ALERTS_EVALUATE_SCAN
from tests.factories import component, make_scan
from tests.helpers import add_member, register_user, wait_for

API = "/api/v1"
SLOW_LEAVES = 30  # each one had a second of its own: at least 30 s of one request before


def _backtracking_names() -> list[dict]:
    """Distinct names on which ``(?:a|aa)*b`` and a digit backtrack until each search times out."""
    return [component("llm_provider", "a" * 400 + "b" * index + "!") for index in range(40)]


def _slow_leaves(first: int, count: int) -> list[dict]:
    """Distinct patterns (equal ones are evaluated once per table), none refused as nested repeats."""
    return [
        {"field": "name", "operator": "matches", "value": f"(?:a|aa)*b\\d{{{number}}}"}
        for number in range(first, first + count)
    ]


def _slow_rules() -> list[dict]:
    return [{"condition": {"any": _slow_leaves(1, SLOW_LEAVES)}}]


def test_a_viewers_preview_cannot_spend_more_than_the_evaluations_regex_budget(client, monkeypatch):
    monkeypatch.setattr("common.compliance.conditions.REGEX_TABLE_BUDGET_S", 2.0, raising=False)
    admin = register_user(client)
    org_id = client.post(f"{API}/organizations", json={"name": "Regex"}, headers=admin.headers()).json["id"]
    make_scan(org_id, components=_backtracking_names())
    viewer = register_user(client)
    add_member(client, admin, org_id, viewer, "viewer")
    started, cpu_started = time.monotonic(), time.process_time()
    preview = client.post(
        f"{API}/policies/preview",
        json={"action": "block", "rules": _slow_rules()},
        headers=viewer.headers(org_id),
    )
    spent, cpu = time.monotonic() - started, time.process_time() - cpu_started
    assert preview.status_code == 200, preview.json
    evaluation = preview.json["evaluation"]
    # No pattern had time to search every name: the gate is not passed on what it could not check.
    assert evaluation["passed"] is False
    assert [v["rule_index"] for v in evaluation["violations"]] == [0]
    assert "time" in evaluation["violations"][0]["message"]
    # the budgets are wall-clock (a search's timeout is), so is the bound; the CPU time is for the record
    assert spent < 10.0, f"one preview took {spent:.1f} s ({cpu:.1f} s of CPU)"


@pytest.mark.usefixtures("celery_worker")
def test_an_admins_alert_rules_share_one_regex_budget_per_scan(client, monkeypatch):
    monkeypatch.setattr("common.compliance.conditions.REGEX_TABLE_BUDGET_S", 2.0)
    admin = register_user(client)
    org_id = admin.org_id
    rules, leaves_per_rule = 6, 4  # 6 tables of 2 s each before
    for number in range(rules):
        condition = {
            "any": [
                *_slow_leaves(number * leaves_per_rule + 1, leaves_per_rule),
                {"field": "name", "operator": "contains", "value": "!"},  # so each rule opens an alert
            ]
        }
        created = client.post(
            f"{API}/alert-rules",
            json={"name": f"new {number}", "trigger": "new_component", "params": {"condition": condition}},
            headers=admin.headers(),
        )
        assert created.status_code == 201, created.json
    make_scan(org_id, target="/srv/regex")  # the baseline: everything in the next scan is new
    scan_id = make_scan(org_id, target="/srv/regex", components=_backtracking_names())

    def alerts_opened():
        with session_scope() as session:
            count = session.scalar(select(func.count()).where(Alert.scan_id == scan_id))
        return count == rules

    started = time.monotonic()
    enqueue(ALERTS_EVALUATE_SCAN, scan_id)
    wait_for(alerts_opened, timeout=60)
    spent = time.monotonic() - started
    assert spent < 8.0, f"the alert rules of one scan took {spent:.1f} s"


def test_names_that_outlast_a_block_policys_regex_do_not_pass_it(client, monkeypatch):
    """Whoever writes a scanned repository chooses its component names: names on which the organization's
    pattern backtracks until every search timed out made the search find nothing, so a ``block`` policy
    meant to stop them passed (a broken gate must not pass silently: an invalid rule already fails it)."""
    monkeypatch.setattr("common.compliance.conditions.REGEX_TABLE_BUDGET_S", 0.5, raising=False)
    user = register_user(client)
    make_scan(user.org_id, components=_backtracking_names())
    rules = [
        {"condition": {"field": "name", "operator": "matches", "value": "(?:a|aa)*b\\d{3}"}},
        {"condition": {"field": "name", "operator": "equals", "value": "no such name"}},
    ]
    preview = client.post(
        f"{API}/policies/preview", json={"action": "block", "rules": rules}, headers=user.headers()
    )
    assert preview.status_code == 200, preview.json
    evaluation = preview.json["evaluation"]
    assert evaluation["passed"] is False
    assert [v["rule_index"] for v in evaluation["violations"]] == [0]  # the rule it could not check, only
    assert evaluation["violations"][0]["severity"] == "high"


@pytest.mark.usefixtures("celery_worker")
def test_names_that_outlast_a_custom_rules_regex_fail_it(client, monkeypatch):
    """A custom compliance rule counted a timed-out search as no match: the scanned names chosen to make
    its pattern backtrack passed the control. The rule now fails, saying it could not be checked (a
    security team reads "pass" as checked and clean; an unchecked rule must stand out, as an invalid
    one already did)."""
    monkeypatch.setattr("common.compliance.conditions.REGEX_TABLE_BUDGET_S", 0.5, raising=False)
    user = register_user(client)
    condition = {"field": "name", "operator": "matches", "value": "(?:a|aa)*b\\d{3}"}
    created = client.post(
        f"{API}/compliance/rules",
        json={"name": "No aab names", "condition": condition, "severity": "medium"},
        headers=user.headers(),
    )
    assert created.status_code == 201, created.json
    scan_id = make_scan(user.org_id, components=_backtracking_names())
    queued = client.post(f"{API}/scans/{scan_id}/evaluate", headers=user.headers())
    assert queued.status_code == 202, queued.json

    def evaluated():
        run = client.get(f"{API}/compliance/evaluations/{queued.json['id']}", headers=user.headers()).json
        return run if run["status"] in ("completed", "failed") else None

    assert wait_for(evaluated, timeout=60)["status"] == "completed"
    compliance = client.get(f"{API}/scans/{scan_id}/compliance", headers=user.headers()).json
    [rule] = compliance["custom_rules"]
    assert (rule["status"], rule["matched_count"]) == ("fail", 0)
    assert "ran out of time" in rule["errors"]["condition"][0]


@pytest.mark.usefixtures("celery_worker")
def test_names_that_outlast_a_new_component_alert_rules_regex_raise_it(client, monkeypatch):
    """A ``new_component`` alert rule stayed silent when every search timed out on the new names: the
    very names written to escape it. It now opens an alert saying the rule could not be checked."""
    monkeypatch.setattr("common.compliance.conditions.REGEX_TABLE_BUDGET_S", 0.5)
    admin = register_user(client)
    condition = {"field": "name", "operator": "matches", "value": "(?:a|aa)*b\\d{3}"}
    created = client.post(
        f"{API}/alert-rules",
        json={"name": "aab names", "trigger": "new_component", "params": {"condition": condition}},
        headers=admin.headers(),
    )
    assert created.status_code == 201, created.json
    make_scan(admin.org_id, target="/srv/regex")  # the baseline: everything in the next scan is new
    scan_id = make_scan(admin.org_id, target="/srv/regex", components=_backtracking_names())

    def opened():
        with session_scope() as session:
            return session.scalars(select(Alert).where(Alert.scan_id == scan_id)).all()

    enqueue(ALERTS_EVALUATE_SCAN, scan_id)
    [alert] = wait_for(opened, timeout=60)
    assert alert.severity == "high"
    assert "could not all be checked" in alert.title
    assert "ran out of time" in alert.details["not_evaluated"] and alert.details["count"] == 0

"""Regular expressions in policies share one time budget per evaluation, not one per leaf.

Every ``matches`` leaf had 1 s to search a scan's values (each search stopped after 50 ms), and a
policy may hold 100 rules of 256 distinct leaves: one ``POST /policies/preview`` by a viewer, over a scan
whose names make the patterns backtrack, cost up to 25,600 s of an API thread, and the same stored
policies cost as much in the compliance worker after every scan. Now all the leaves of one evaluation
share ``REGEX_TABLE_BUDGET_S``.
"""

from __future__ import annotations

import time

from tests.factories import component, make_scan
from tests.helpers import add_member, register_user

API = "/api/v1"
SLOW_LEAVES = 30  # each one had a second of its own: at least 30 s of one request before


def _backtracking_names() -> list[dict]:
    """Distinct names on which ``(?:a|aa)*b`` and a digit backtrack until each search times out."""
    return [component("llm_provider", "a" * 400 + "b" * index + "!") for index in range(40)]


def _slow_rules() -> list[dict]:
    """Distinct patterns (equal ones are evaluated once per table), none refused as nested repeats."""
    leaves = [
        {"field": "name", "operator": "matches", "value": f"(?:a|aa)*b\\d{{{count}}}"}
        for count in range(1, SLOW_LEAVES + 1)
    ]
    return [{"condition": {"any": leaves}}]


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
    assert preview.json["evaluation"]["passed"] is True  # no pattern had time to match
    # the budgets are wall-clock (a search's timeout is), so is the bound; the CPU time is for the record
    assert spent < 10.0, f"one preview took {spent:.1f} s ({cpu:.1f} s of CPU)"

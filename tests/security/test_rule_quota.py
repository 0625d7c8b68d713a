"""An organization's custom rules, policies and alert rules hold a bounded number of condition parts in all.

Every scan's evaluation runs all of them, on the compliance workers every organization shares. Each one was
bounded, their number was not: an editor saving a 256-part custom rule per request (200 a minute) added
about 0.7 s per rule to each evaluation over a scan of 50,000 components, 12 minutes per scan after five
minutes of requests. Now each kind holds at most ``PARTS_PER_ORGANIZATION`` parts (409 past it).
"""

from __future__ import annotations

import pytest

from tests.helpers import register_user

API = "/api/v1"
LIMIT = 40


def _condition(marker: int) -> dict:
    """11 parts: an ``any`` of 10 leaves."""
    return {
        "any": [{"field": "name", "operator": "contains", "value": f"m{marker}-{leaf}"} for leaf in range(10)]
    }


@pytest.fixture
def small_quota(monkeypatch):
    monkeypatch.setattr("common.rule_quota.PARTS_PER_ORGANIZATION", LIMIT, raising=False)


def _save_rule(client, headers: dict, marker: int):
    body = {"name": f"rule {marker}", "condition": _condition(marker)}
    return client.post(f"{API}/compliance/rules", json=body, headers=headers)


def _save_alert_rule(client, headers: dict, marker: int):
    body = {
        "name": f"alert {marker}",
        "trigger": "new_component",
        "params": {"condition": _condition(marker)},
    }
    return client.post(f"{API}/alert-rules", json=body, headers=headers)


def _save_policy(client, headers: dict, marker: int):
    body = {"name": f"policy {marker}", "action": "warn", "rules": [{"condition": _condition(marker)}]}
    return client.post(f"{API}/policies", json=body, headers=headers)


@pytest.mark.usefixtures("small_quota")
@pytest.mark.parametrize(
    ("save", "path", "field"),
    [
        (_save_rule, "compliance/rules", "condition"),
        (_save_policy, "policies", "rules"),
        (_save_alert_rule, "alert-rules", "params"),
    ],
)
def test_an_editor_cannot_pile_up_rules_every_evaluation_runs(client, save, path, field):
    editor = register_user(client)
    saved = [
        save(client, editor.headers(), marker) for marker in range(3)
    ]  # 33 parts, or 36 with the wrapper
    assert [response.status_code for response in saved] == [201, 201, 201]
    refused = save(client, editor.headers(), 3)
    assert refused.status_code == 409, refused.json
    assert f"limit of {LIMIT}" in refused.json["message"]
    assert client.get(f"{API}/{path}", headers=editor.headers()).json["total"] == 3
    first = saved[0].json["id"]
    same_size = saved[1].json[field]  # replacing a rule counts it once, not twice
    assert (
        client.put(f"{API}/{path}/{first}", json={field: same_size}, headers=editor.headers()).status_code
        == 200
    )
    other = register_user(client)  # another organization is not held up
    assert save(client, other.headers(), 0).status_code == 201
    assert client.delete(f"{API}/{path}/{first}", headers=editor.headers()).status_code == 204
    assert save(client, editor.headers(), 3).status_code == 201  # room again once one is deleted

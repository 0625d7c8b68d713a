"""``/policies``: CRUD with the reference's roles, rule validation by path, and tenancy."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.compliance import validate_policy_rules
from tests.helpers import add_member, register_user

POLICIES = "/api/v1/policies"
NO_DEEPSEEK = {
    "name": "No DeepSeek models",
    "description": "Data residency: DeepSeek is not an approved provider",
    "enabled": True,
    "action": "block",
    "rules": [
        {"metric": "count(type=model, provider=deepseek)", "operator": "gt", "value": 0},
        {"condition": {"field": "provider", "operator": "equals", "value": "deepseek"}, "severity": "high"},
    ],
}


def test_policy_crud_with_the_reference_roles(client):
    owner = register_user(client)
    org_id = client.post("/api/v1/organizations", json={"name": "Gatekeepers"}, headers=owner.headers()).json[
        "id"
    ]
    members = {}
    for role in ("viewer", "analyst", "editor"):
        members[role] = register_user(client)
        add_member(client, owner, org_id, members[role], role)
    editor, viewer = members["editor"], members["viewer"]

    assert (
        client.post(POLICIES, json=NO_DEEPSEEK, headers=members["analyst"].headers(org_id)).status_code == 403
    )
    created = client.post(POLICIES, json=NO_DEEPSEEK, headers=editor.headers(org_id))
    assert created.status_code == 201, created.json
    policy = created.json
    assert created.headers["Location"].endswith(f"{POLICIES}/{policy['id']}")
    assert {k: policy[k] for k in NO_DEEPSEEK} == NO_DEEPSEEK
    assert policy["organization_id"] == org_id and policy["created_by"] == editor.id

    warn = client.post(
        POLICIES,
        json={
            "name": "Critical findings",
            "action": "warn",
            "rules": [{"metric": "by_severity.critical", "operator": "gt", "value": 0}],
        },
        headers=editor.headers(org_id),
    ).json
    assert warn["enabled"] is True and warn["description"] == ""

    listed = client.get(POLICIES, headers=viewer.headers(org_id)).json
    assert listed["total"] == 2 and [p["id"] for p in listed["items"]] == [warn["id"], policy["id"]]
    blocking = client.get(f"{POLICIES}?action=block", headers=viewer.headers(org_id)).json
    assert [p["id"] for p in blocking["items"]] == [policy["id"]]
    assert client.get(f"{POLICIES}/{policy['id']}", headers=viewer.headers(org_id)).json == policy

    assert (
        client.put(
            f"{POLICIES}/{policy['id']}", json={"enabled": False}, headers=viewer.headers(org_id)
        ).status_code
        == 403
    )
    updated = client.put(
        f"{POLICIES}/{policy['id']}",
        json={"enabled": False, "action": "warn"},
        headers=editor.headers(org_id),
    )
    assert updated.status_code == 200
    assert (updated.json["enabled"], updated.json["action"], updated.json["rules"]) == (
        False,
        "warn",
        NO_DEEPSEEK["rules"],
    )
    disabled = client.get(f"{POLICIES}?enabled=false", headers=viewer.headers(org_id)).json
    assert [p["id"] for p in disabled["items"]] == [policy["id"]]
    history = client.get(f"{POLICIES}/{policy['id']}/evaluations", headers=viewer.headers(org_id)).json
    assert history == {"items": [], "page": 1, "per_page": 20, "total": 0}

    assert client.delete(f"{POLICIES}/{policy['id']}", headers=editor.headers(org_id)).status_code == 403
    assert client.delete(f"{POLICIES}/{policy['id']}", headers=owner.headers(org_id)).status_code == 204
    assert client.get(f"{POLICIES}/{policy['id']}", headers=owner.headers(org_id)).status_code == 404


def test_another_organizations_policy_is_404(client, make_user):
    alice, bob = make_user(), make_user()
    policy = client.post(POLICIES, json=NO_DEEPSEEK, headers=alice.headers()).json
    for method, suffix in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("GET", "/evaluations")):
        response = client.open(
            f"{POLICIES}/{policy['id']}{suffix}", method=method, json={}, headers=bob.headers()
        )
        assert response.status_code == 404, (method, suffix)
    assert client.get(POLICIES, headers=bob.headers()).json["total"] == 0


@pytest.mark.parametrize(
    ("rules", "error_key"),
    [
        ([], "rules"),
        ({"condition": {}}, "rules"),
        (["provider == openai"], "rules.0"),
        (
            [
                {
                    "condition": {"field": "provider", "operator": "equals", "value": "x"},
                    "metric": "total_components",
                }
            ],
            "rules.0",
        ),
        (
            [
                {
                    "condition": {
                        "all": [
                            {"field": "type", "operator": "equals", "value": "model"},
                            {"field": "type", "operator": "like", "value": "x"},
                        ]
                    }
                }
            ],
            "rules.0.condition.all.1.operator",
        ),
        ([{"condition": {"field": "owner", "operator": "exists"}}], "rules.0.condition.field"),
        (
            [{"condition": {"field": "name", "operator": "matches", "value": "(\\w+\\s?)*$"}}],
            "rules.0.condition.value",
        ),
        ([{"condition": {"field": "type", "operator": "exists"}, "severity": "dire"}], "rules.0.severity"),
        (
            [
                {"condition": {"field": "type", "operator": "exists"}},
                {"metric": "by_colour.red", "operator": "gt", "value": 0},
            ],
            "rules.1.metric",
        ),
        ([{"metric": "highest_risk_score", "operator": "above", "value": 70}], "rules.0.operator"),
        ([{"metric": "highest_risk_score", "operator": "gte", "value": "70"}], "rules.0.value"),
        ([{"metric": "count(type=model, colour=red)", "operator": "gt", "value": 0}], "rules.0.metric"),
    ],
)
def test_invalid_rules_are_422_naming_the_path(client, make_user, rules, error_key):
    response = client.post(POLICIES, json={**NO_DEEPSEEK, "rules": rules}, headers=make_user().headers())
    assert response.status_code == 422, response.json
    assert error_key in response.json["errors"], response.json["errors"]


def test_invalid_policy_fields(client, make_user):
    user = make_user()
    for body, key in (
        ({**NO_DEEPSEEK, "action": "deny"}, "action"),
        ({**NO_DEEPSEEK, "enabled": "perhaps"}, "enabled"),
        ({**NO_DEEPSEEK, "owner": "me"}, "owner"),
        ({k: v for k, v in NO_DEEPSEEK.items() if k != "rules"}, "rules"),
        ({k: v for k, v in NO_DEEPSEEK.items() if k != "action"}, "action"),
    ):
        response = client.post(POLICIES, json=body, headers=user.headers())
        assert response.status_code == 422 and key in response.json["errors"], (body, response.json)
    policy = client.post(POLICIES, json=NO_DEEPSEEK, headers=user.headers()).json
    bad = client.put(
        f"{POLICIES}/{policy['id']}",
        json={"rules": [{"metric": "nope", "operator": "gt", "value": 1}]},
        headers=user.headers(),
    )
    assert bad.status_code == 422 and "rules.0.metric" in bad.json["errors"]
    assert (
        client.get(f"{POLICIES}/{policy['id']}", headers=user.headers()).json["rules"] == NO_DEEPSEEK["rules"]
    )


def test_preview_needs_a_completed_scan_and_a_valid_policy(client, make_user):
    user = make_user()
    nothing_yet = client.post(f"{POLICIES}/preview", json=NO_DEEPSEEK, headers=user.headers())
    assert nothing_yet.status_code == 409 and "no completed scan" in nothing_yet.json["message"]
    invalid = client.post(
        f"{POLICIES}/preview", json={**NO_DEEPSEEK, "rules": [{"metric": "x"}]}, headers=user.headers()
    )
    assert invalid.status_code == 422 and "rules.0.metric" in invalid.json["errors"]


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
metric_rules = st.fixed_dictionaries(
    {
        "metric": st.sampled_from(
            [
                "total_components",
                "by_severity.critical",
                "by_type.model",
                "by_type.robot",
                "count(type=model)",
                "count(x)",
                "",
            ]
        )
        | json_values,
        "operator": st.sampled_from(["gt", "gte", "equals", "above"]) | json_scalars,
        "value": st.integers(-5, 100) | json_scalars,
    },
    optional={"severity": st.sampled_from(["high", "dire"]), "description": json_scalars},
)
component_rules = st.fixed_dictionaries(
    {
        "condition": st.fixed_dictionaries(
            {
                "field": st.sampled_from(["type", "provider", "flags", "risk_score", "colour"]),
                "operator": st.sampled_from(["equals", "contains", "gt", "exists", "matches", "like"]),
            },
            optional={"value": st.sampled_from(["model", "(a+)+", 50, "x", True]) | json_values},
        )
        | json_values
    },
    optional={"severity": st.sampled_from(["low", "critical", "dire"]), "metric": json_scalars},
)
rule_lists = st.lists(metric_rules | component_rules | json_values, max_size=4) | json_values


@pytest.fixture(scope="module")
def fuzz_user(app):
    return register_user(app.test_client())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rules=rule_lists)
def test_any_rules_are_saved_or_422_by_path_never_500(app, client, fuzz_user, rules):
    from web.core.ratelimits import limiter

    with app.app_context():
        limiter.reset()
    response = client.post(POLICIES, json={**NO_DEEPSEEK, "rules": rules}, headers=fuzz_user.headers())
    expected = validate_policy_rules(rules)
    if expected:
        assert response.status_code == 422, (rules, response.json)
        assert set(response.json["errors"]) == set(expected)
    else:
        assert response.status_code == 201, (rules, response.json)
        assert response.json["rules"] == rules

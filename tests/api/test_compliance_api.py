"""``/compliance``: frameworks and their per-organization switch, custom rules, and the promise that a
malformed condition is always a 422 naming the bad part, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.compliance import load_frameworks, validate_condition
from common.compliance.conditions import FIELD_KINDS, MAX_DEPTH, OPERATORS
from common.db import session_scope
from common.models import Scan
from tests.helpers import add_member, register_user

FRAMEWORKS = "/api/v1/compliance/frameworks"
RULES = "/api/v1/compliance/rules"
NO_KEYS = {
    "name": "No hardcoded keys",
    "description": "Block scans with hardcoded API keys",
    "framework": "custom",
    "condition": {"field": "flags", "operator": "contains", "value": "hardcoded_api_key"},
    "severity": "critical",
}


def team(client, roles=("viewer", "analyst", "editor")):
    """An organization with its admin and one member per role."""
    admin = register_user(client)
    org = client.post("/api/v1/organizations", json={"name": "Compliance team"}, headers=admin.headers()).json
    members = {"admin": admin}
    for role in roles:
        members[role] = register_user(client)
        add_member(client, admin, org["id"], members[role], role)
    return org["id"], members


def test_frameworks_are_listed_with_controls_and_all_active_by_default(client, make_user):
    user = make_user()
    response = client.get(f"{FRAMEWORKS}?per_page=100", headers=user.headers())
    assert response.status_code == 200
    body = response.json
    expected = {framework.id: framework for framework in load_frameworks()}
    assert body["total"] == len(expected) == 4
    assert {f["id"] for f in body["items"]} == {
        "eu-ai-act",
        "owasp-llm-top10",
        "nist-ai-rmf",
        "iso-iec-42001",
    }
    for item in body["items"]:
        assert item["active"] is True
        assert [c["id"] for c in item["controls"]] == [c.id for c in expected[item["id"]].controls]
        assert all(c["title"] and c["reference"] and c["remediation"] for c in item["controls"])
    owasp = next(f for f in body["items"] if f["id"] == "owasp-llm-top10")
    assert owasp["version"] == "2025"
    assert [c["id"] for c in owasp["controls"]] == [f"LLM{n:02d}" for n in range(1, 11)]
    assert client.get(f"{FRAMEWORKS}/nope", headers=user.headers()).status_code == 404


def test_framework_switch_is_per_organization_and_editor_only(client, make_user):
    org_id, members = team(client)
    outsider = make_user()
    for role in ("viewer", "analyst"):
        denied = client.put(
            f"{FRAMEWORKS}/eu-ai-act", json={"active": False}, headers=members[role].headers(org_id)
        )
        assert denied.status_code == 403, role
    switched = client.put(
        f"{FRAMEWORKS}/eu-ai-act", json={"active": False}, headers=members["editor"].headers(org_id)
    )
    assert switched.status_code == 200 and switched.json["active"] is False
    again = client.put(
        f"{FRAMEWORKS}/eu-ai-act", json={"active": False}, headers=members["admin"].headers(org_id)
    )
    assert again.status_code == 200 and again.json["active"] is False
    inactive = client.get(f"{FRAMEWORKS}?active=false", headers=members["viewer"].headers(org_id)).json
    assert [f["id"] for f in inactive["items"]] == ["eu-ai-act"]
    active = client.get(f"{FRAMEWORKS}?active=true", headers=members["viewer"].headers(org_id)).json
    assert active["total"] == 3 and "eu-ai-act" not in {f["id"] for f in active["items"]}
    assert client.get(f"{FRAMEWORKS}/eu-ai-act", headers=outsider.headers()).json["active"] is True
    back = client.put(
        f"{FRAMEWORKS}/eu-ai-act", json={"active": True}, headers=members["editor"].headers(org_id)
    )
    assert back.json["active"] is True
    for body in ({}, {"active": "maybe"}, {"active": True, "extra": 1}):
        bad = client.put(f"{FRAMEWORKS}/eu-ai-act", json=body, headers=members["editor"].headers(org_id))
        assert bad.status_code == 422, body
    missing = client.put(
        f"{FRAMEWORKS}/iso-9001", json={"active": False}, headers=members["editor"].headers(org_id)
    )
    assert missing.status_code == 404


def test_custom_rule_crud_roles_and_tenancy(client, make_user):
    org_id, members = team(client)
    editor, viewer, analyst = members["editor"], members["viewer"], members["analyst"]
    assert client.post(RULES, json=NO_KEYS, headers=analyst.headers(org_id)).status_code == 403
    created = client.post(RULES, json=NO_KEYS, headers=editor.headers(org_id))
    assert created.status_code == 201, created.json
    rule = created.json
    assert created.headers["Location"].endswith(f"{RULES}/{rule['id']}")
    assert {k: rule[k] for k in NO_KEYS} == NO_KEYS
    assert rule["enabled"] is True and rule["organization_id"] == org_id and rule["created_at"].endswith("Z")
    minimal = client.post(
        RULES,
        json={
            "name": "Any vector DB",
            "condition": {"field": "type", "operator": "equals", "value": "vector_db"},
        },
        headers=editor.headers(org_id),
    ).json
    assert (minimal["framework"], minimal["severity"], minimal["description"]) == ("custom", "medium", "")
    attached = client.post(
        RULES,
        json={**NO_KEYS, "name": "OWASP extra", "framework": "owasp-llm-top10"},
        headers=editor.headers(org_id),
    )
    assert attached.status_code == 201
    listed = client.get(RULES, headers=viewer.headers(org_id)).json
    assert listed["total"] == 3
    critical = client.get(f"{RULES}?severity=critical&framework=custom", headers=viewer.headers(org_id)).json
    assert [r["id"] for r in critical["items"]] == [rule["id"]]
    assert client.get(f"{RULES}/{rule['id']}", headers=viewer.headers(org_id)).json == rule

    updated = client.put(
        f"{RULES}/{rule['id']}",
        json={"enabled": False, "condition": {"not": {"field": "provider", "operator": "exists"}}},
        headers=editor.headers(org_id),
    )
    assert updated.status_code == 200
    assert updated.json["enabled"] is False and updated.json["condition"]["not"]["operator"] == "exists"
    assert updated.json["name"] == NO_KEYS["name"]
    disabled = client.get(f"{RULES}?enabled=false", headers=viewer.headers(org_id)).json
    assert [r["id"] for r in disabled["items"]] == [rule["id"]]

    outsider = make_user()
    for method in ("GET", "PUT", "DELETE"):
        response = client.open(f"{RULES}/{rule['id']}", method=method, json={}, headers=outsider.headers())
        assert response.status_code == 404, method
    assert client.get(RULES, headers=outsider.headers()).json["total"] == 0
    assert client.delete(f"{RULES}/{rule['id']}", headers=viewer.headers(org_id)).status_code == 403
    assert client.delete(f"{RULES}/{rule['id']}", headers=editor.headers(org_id)).status_code == 204
    assert client.get(f"{RULES}/{rule['id']}", headers=editor.headers(org_id)).status_code == 404


def _nested_not(depth: int) -> dict:
    condition: dict = {"field": "name", "operator": "equals", "value": "x"}
    for _ in range(depth):
        condition = {"not": condition}
    return condition


@pytest.mark.parametrize(
    ("condition", "error_key"),
    [
        ({"field": "colour", "operator": "equals", "value": "red"}, "condition.field"),
        ({"field": "name", "operator": "resembles", "value": "x"}, "condition.operator"),
        (
            {
                "all": [
                    {"field": "name", "operator": "equals", "value": "x"},
                    {"field": "name", "operator": "like"},
                ]
            },
            "condition.all.1.operator",
        ),
        (
            {"any": [{"not": {"field": "risk_score", "operator": "gt", "value": "high"}}]},
            "condition.any.0.not.value",
        ),
        ({"field": "risk_score", "operator": "contains", "value": "9"}, "condition.operator"),
        ({"field": "type", "operator": "equals", "value": "modle"}, "condition.value"),
        ({"field": "type", "operator": "in", "value": []}, "condition.value"),
        ({"field": "name", "operator": "equals"}, "condition.value"),
        ({"field": "name", "operator": "matches", "value": "(a+)+$"}, "condition.value"),
        ({"field": "name", "operator": "matches", "value": "([a-z]*)*x"}, "condition.value"),
        ({"field": "name", "operator": "matches", "value": "(unclosed"}, "condition.value"),
        ({"all": {"field": "name"}}, "condition.all"),
        ({"all": [], "any": []}, "condition"),
        ({"field": "name", "operator": "equals", "value": "x", "weight": 2}, "condition"),
        ([{"field": "name"}], "condition"),
        ("name == x", "condition"),
        (None, "condition"),
        (_nested_not(MAX_DEPTH + 5), "condition" + ".not" * MAX_DEPTH),
    ],
)
def test_malformed_conditions_are_422_naming_the_path(client, make_user, condition, error_key):
    response = client.post(RULES, json={**NO_KEYS, "condition": condition}, headers=make_user().headers())
    assert response.status_code == 422, response.json
    assert error_key in response.json["errors"], response.json["errors"]
    assert response.json["code"] == 422 and response.json["message"]


def test_other_invalid_rule_bodies(client, make_user):
    user = make_user()
    cases = [
        ({**NO_KEYS, "framework": "sox"}, "framework"),
        ({**NO_KEYS, "severity": "dire"}, "severity"),
        ({**NO_KEYS, "colour": "red"}, "colour"),
        ({k: v for k, v in NO_KEYS.items() if k != "name"}, "name"),
        ({k: v for k, v in NO_KEYS.items() if k != "condition"}, "condition"),
    ]
    for body, key in cases:
        response = client.post(RULES, json=body, headers=user.headers())
        assert response.status_code == 422 and key in response.json["errors"], (body, response.json)
    rule = client.post(RULES, json=NO_KEYS, headers=user.headers()).json
    bad_update = client.put(
        f"{RULES}/{rule['id']}",
        json={"condition": {"field": "flags", "operator": "gt", "value": 1}},
        headers=user.headers(),
    )
    assert bad_update.status_code == 422 and "condition.operator" in bad_update.json["errors"]
    assert (
        client.get(f"{RULES}/{rule['id']}", headers=user.headers()).json["condition"] == NO_KEYS["condition"]
    )


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
leaves = st.fixed_dictionaries(
    {
        "field": st.sampled_from([*FIELD_KINDS, "colour", ""]) | json_scalars,
        "operator": st.sampled_from([*OPERATORS, "like", "EQUALS"]) | json_scalars,
    },
    optional={
        "value": json_values
        | st.sampled_from(["(a+)+", "(x*)*y", "[", "gpt-4", "high", "model"])
        | st.lists(st.text(max_size=6), max_size=3),
        "extra": json_scalars,
    },
)
conditions = st.recursive(
    leaves | json_values,
    lambda inner: (
        st.fixed_dictionaries({"all": st.lists(inner, max_size=3)})
        | st.fixed_dictionaries({"any": st.lists(inner, max_size=3) | inner})
        | st.fixed_dictionaries({"not": inner})
        | st.fixed_dictionaries({"not": inner, "all": st.lists(inner, max_size=2)})
    ),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def fuzz_user(app):
    """One account for every example: registering per example would only exercise registration."""
    return register_user(app.test_client())


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(condition=conditions)
def test_any_condition_is_saved_or_422_by_path_never_500(app, client, fuzz_user, condition):
    from web.core.ratelimits import limiter

    with app.app_context():
        limiter.reset()
    response = client.post(RULES, json={**NO_KEYS, "condition": condition}, headers=fuzz_user.headers())
    expected = validate_condition(condition)
    if expected:
        assert response.status_code == 422, (condition, response.json)
        assert set(response.json["errors"]) == set(expected)
        assert all(key.startswith("condition") for key in response.json["errors"])
    else:
        assert response.status_code == 201, (condition, response.json)
        assert response.json["condition"] == condition


def test_deeply_nested_json_is_refused_without_a_server_error(client, make_user):
    user = make_user()
    response = client.post(RULES, json={**NO_KEYS, "condition": _nested_not(400)}, headers=user.headers())
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["condition" + ".not" * MAX_DEPTH]
    depth = 50_000
    body = '{"name": "deep", "condition": ' + '{"not": ' * depth + "{}" + "}" * depth + "}"
    for path in (RULES, "/api/v1/policies"):
        response = client.post(path, data=body, content_type="application/json", headers=user.headers())
        assert response.status_code == 422, (path, response.json)
        assert response.json["code"] == 422 and "nested too deeply" in response.json["message"]


def test_evaluating_an_unfinished_scan_is_409_and_another_orgs_scan_404(client, make_user):
    alice, bob = make_user(), make_user()
    with session_scope() as session:
        scan = Scan(organization_id=alice.org_id, target="/tmp/x", status="running")
        session.add(scan)
        session.flush()
        scan_id = scan.id
    unfinished = client.post(f"/api/v1/scans/{scan_id}/evaluate", headers=alice.headers())
    assert unfinished.status_code == 409
    assert client.post(f"/api/v1/scans/{scan_id}/evaluate", headers=bob.headers()).status_code == 404
    not_yet = client.get(f"/api/v1/scans/{scan_id}/compliance", headers=alice.headers())
    assert not_yet.status_code == 409, not_yet.json
    assert set(not_yet.json) == {"code", "status", "message"} and not_yet.json["code"] == 409
    assert "running" in not_yet.json["message"]
    for path in ("compliance", "violations", "evaluations"):
        assert client.get(f"/api/v1/scans/{scan_id}/{path}", headers=bob.headers()).status_code == 404
    assert client.get(f"/api/v1/scans/{scan_id}/violations", headers=alice.headers()).json["total"] == 0


@pytest.mark.parametrize("status", ["queued", "running", "failed", "completed"])
def test_compliance_of_a_scan_not_evaluated_yet_is_409_naming_its_status(client, make_user, status):
    user = make_user()
    with session_scope() as session:
        scan = Scan(organization_id=user.org_id, target="/tmp/x", status=status)
        session.add(scan)
        session.flush()
        scan_id = scan.id
    response = client.get(f"/api/v1/scans/{scan_id}/compliance", headers=user.headers())
    assert response.status_code == 409
    assert response.json["code"] == 409 and response.json["status"] == "Conflict"
    assert f"is {status}" in response.json["message"]


def test_compliance_of_an_unknown_scan_is_404(client, make_user):
    user = make_user()
    response = client.get(
        "/api/v1/scans/00000000-0000-0000-0000-000000000000/compliance", headers=user.headers()
    )
    assert response.status_code == 404
    assert response.json["code"] == 404 and "scan" in response.json["message"].lower()

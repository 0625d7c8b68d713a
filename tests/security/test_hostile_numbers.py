"""JSON numbers Python reads but cannot use, in request bodies.

Python's JSON decoder refuses an integer of more than 4300 digits with a ``ValueError`` that is not a
``JSONDecodeError``: webargs let it through, so any body parsed by a view's schema (a policy, a rule, a
webhook) answered 500 with a logged traceback, to anyone signed in. An integer of a few hundred digits
is read, and checking it as a threshold (``math.isfinite``) raised ``OverflowError``: another 500. Each
is the client's error now: a 400 like any invalid JSON body, and a 422 naming the value.
"""

from __future__ import annotations

import pytest

POLICY = (
    '{"name": "p", "action": "block",'
    ' "rules": [{"metric": "count(type=llm_provider)", "operator": "gt", "value": %s}]}'
)
RULE = '{"name": "r", "condition": {"field": "risk_score", "operator": "gt", "value": %s}}'
UNREADABLE = "9" * 5000  # past Python's 4300 digits
PAST_FLOAT = "1" + "0" * 400  # read, but past a float's range


def _post(client, user, path: str, body: str):
    return client.post(path, data=body, headers={**user.headers(), "Content-Type": "application/json"})


@pytest.mark.parametrize(
    "path, template",
    [("/api/v1/policies", POLICY), ("/api/v1/compliance/rules", RULE)],
    ids=["policy", "rule"],
)
def test_an_integer_python_will_not_read_is_an_invalid_json_body(client, make_user, path, template):
    response = _post(client, make_user(), path, template % UNREADABLE)
    assert response.status_code == 400, response.json
    assert response.json["message"] == "The request body is not valid JSON."


@pytest.mark.parametrize(
    "path, template, field",
    [("/api/v1/policies", POLICY, "rules.0.value"), ("/api/v1/compliance/rules", RULE, "condition.value")],
    ids=["policy", "rule"],
)
def test_a_number_past_a_floats_range_is_refused_as_not_a_number(client, make_user, path, template, field):
    response = _post(client, make_user(), path, template % PAST_FLOAT)
    assert response.status_code == 422, response.json
    assert response.json["errors"][field] == ["must be a number"]

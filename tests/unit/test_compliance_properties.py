"""Property tests of the condition language: total on any component, and the boolean identities."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.compliance.conditions import (
    BOOLEAN,
    FIELD_KINDS,
    FLAGS,
    NUMBER,
    OPERATORS_BY_KIND,
    PATHS,
    SEVERITY,
    ComponentTable,
    compile_condition,
    evaluate,
    validate_condition,
)
from common.compliance.policies import evaluate_policy, validate_policy_rules
from common.scanner.model import COMPONENT_TYPES, SCOPES, SEVERITIES

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = st.sampled_from(["gpt-4o", "openai", "model", "tests/", "src/app.py", "shadow_ai", "x", "", "ÄÖ"])
TEXT = st.one_of(WORDS, st.text(alphabet=string.printable, max_size=12))
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(TEXT, children, max_size=3)),
    max_leaves=8,
)
LOCATIONS = st.one_of(
    JSON_VALUES,
    st.lists(
        st.one_of(st.fixed_dictionaries({"file": TEXT, "line": st.integers(0, 99)}), JSON_VALUES), max_size=3
    ),
)
WELL_FORMED = st.fixed_dictionaries(
    {},
    optional={
        "id": TEXT,
        "name": TEXT,
        "type": st.sampled_from(COMPONENT_TYPES),
        "provider": st.one_of(st.none(), TEXT),
        "version": st.one_of(st.none(), TEXT),
        "model_name": st.one_of(st.none(), TEXT),
        "flags": st.lists(st.sampled_from(["shadow_ai", "hardcoded_api_key", "unpinned_model"]), max_size=3),
        "risk_score": st.integers(0, 100),
        "severity": st.sampled_from(SEVERITIES),
        "confidence": st.floats(0, 1),
        "scope": st.sampled_from(SCOPES),
        "detector": TEXT,
        "locations": LOCATIONS,
        "new_since_baseline": st.booleans(),
    },
)
ODD = st.dictionaries(st.sampled_from([*FIELD_KINDS, "id", "locations", "other"]), JSON_VALUES, max_size=8)
COMPONENTS = st.one_of(WELL_FORMED, ODD, JSON_VALUES)


def _value_for(field: str, kind: str, operator: str):
    if operator == "exists":
        return st.booleans()
    if kind == NUMBER:
        scalar = st.one_of(st.integers(-5, 105), st.floats(0, 1))
    elif kind == BOOLEAN:
        scalar = st.booleans()
    elif field == "severity" or kind == SEVERITY:
        scalar = st.sampled_from(SEVERITIES)
    elif field == "type" and operator in ("equals", "not_equals", "in", "not_in"):
        scalar = st.sampled_from(COMPONENT_TYPES)
    elif field == "scope" and operator in ("equals", "not_equals", "in", "not_in"):
        scalar = st.sampled_from(SCOPES)
    elif operator == "matches":
        scalar = st.sampled_from([r"^gpt", r"\.py$", r"(?i)OPEN", r"a|b", r"[0-9]{2}"])
    else:
        scalar = WORDS
    if operator in ("in", "not_in"):
        return st.lists(scalar, min_size=1, max_size=3)
    return scalar


@st.composite
def leaves(draw):
    field = draw(st.sampled_from(list(FIELD_KINDS)))
    kind = FIELD_KINDS[field]
    operator = draw(st.sampled_from(OPERATORS_BY_KIND[kind]))
    return {"field": field, "operator": operator, "value": draw(_value_for(field, kind, operator))}


CONDITIONS = st.recursive(
    leaves(),
    lambda children: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(children, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(children, max_size=3)),
        st.builds(lambda child: {"not": child}, children),
    ),
    max_leaves=6,
)


@SETTINGS
@given(CONDITIONS)
def test_generated_conditions_are_valid(condition):
    assert validate_condition(condition) == {}


@SETTINGS
@given(CONDITIONS, COMPONENTS)
def test_evaluation_never_raises_and_returns_a_bool(condition, component):
    assert isinstance(evaluate(condition, component), bool)


@SETTINGS
@given(CONDITIONS, COMPONENTS)
def test_not_inverts(condition, component):
    assert evaluate({"not": condition}, component) is (not evaluate(condition, component))


@SETTINGS
@given(st.lists(CONDITIONS, max_size=4), COMPONENTS)
def test_all_and_any_identities(conditions, component):
    results = [evaluate(c, component) for c in conditions]
    assert evaluate({"all": conditions}, component) is all(results)
    assert evaluate({"any": conditions}, component) is any(results)
    assert evaluate({"all": []}, component) is True
    assert evaluate({"any": []}, component) is False
    if conditions:
        single = conditions[0]
        assert evaluate({"all": [single]}, component) is results[0]
        assert evaluate({"any": [single]}, component) is results[0]
        # De Morgan
        negated = [{"not": c} for c in conditions]
        assert evaluate({"not": {"all": conditions}}, component) is evaluate({"any": negated}, component)


@SETTINGS
@given(CONDITIONS, st.lists(COMPONENTS, max_size=6))
def test_bulk_selection_equals_per_component_evaluation(condition, components):
    compiled = compile_condition(condition)
    expected = {row for row, component in enumerate(components) if evaluate(condition, component)}
    assert compiled.select(ComponentTable(components)) == expected


MALFORMED_LEAVES = st.one_of(
    JSON_VALUES.filter(lambda value: not isinstance(value, dict)),
    st.fixed_dictionaries(
        {"field": TEXT.filter(lambda f: f not in FIELD_KINDS), "operator": st.just("equals")}
    ),
    st.fixed_dictionaries({"field": st.sampled_from(list(FIELD_KINDS)), "operator": TEXT}),
    st.fixed_dictionaries(
        {
            "field": st.sampled_from([f for f, k in FIELD_KINDS.items() if k == NUMBER]),
            "operator": st.sampled_from(["gt", "equals"]),
            "value": st.one_of(TEXT, st.booleans(), st.none()),
        }
    ),
    st.fixed_dictionaries(
        {
            "field": st.sampled_from([f for f, k in FIELD_KINDS.items() if k in (FLAGS, PATHS)]),
            "operator": st.sampled_from(["in", "not_in"]),
            "value": st.one_of(TEXT, st.just([]), st.lists(st.integers(), min_size=1, max_size=2)),
        }
    ),
)


@st.composite
def malformed_conditions(draw):
    """A valid tree with one part replaced by something malformed."""
    bad = draw(MALFORMED_LEAVES)
    wrappers = draw(st.lists(st.sampled_from(["all", "any", "not"]), max_size=4))
    for wrapper in wrappers:
        if wrapper == "not":
            bad = {"not": bad}
        else:
            siblings = draw(st.lists(leaves(), max_size=2))
            position = draw(st.integers(0, len(siblings)))
            bad = {wrapper: [*siblings[:position], bad, *siblings[position:]]}
    return bad


@SETTINGS
@given(malformed_conditions())
def test_malformed_conditions_always_produce_errors(condition):
    errors = validate_condition(condition)
    assert errors
    assert all(path.startswith("condition") and messages for path, messages in errors.items())


@SETTINGS
@given(JSON_VALUES)
def test_validation_never_raises_on_any_json(value):
    assert isinstance(validate_condition(value), dict)
    assert isinstance(validate_policy_rules(value), dict)
    assert isinstance(validate_policy_rules([value]), dict)


@SETTINGS
@given(st.lists(JSON_VALUES, max_size=3), st.lists(COMPONENTS, max_size=4), JSON_VALUES)
def test_policy_evaluation_never_raises(rules, components, summary):
    evaluation = evaluate_policy({"name": "p", "action": "block", "rules": rules}, components, summary)
    assert isinstance(evaluation["passed"], bool)
    if validate_policy_rules(rules):
        assert evaluation["passed"] is False  # an invalid rule fails closed

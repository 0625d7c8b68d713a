"""The condition language: every operator on every kind of field, combinators, validation paths."""

from __future__ import annotations

import pytest

from common.compliance.conditions import (
    MAX_DEPTH,
    MAX_PATTERN_LENGTH,
    ComponentTable,
    InvalidCondition,
    compile_condition,
    describe,
    evaluate,
    has_nested_quantifier,
    validate_condition,
)

MODEL = {
    "id": "m1",
    "name": "gpt-4o",
    "type": "model",
    "provider": "OpenAI",
    "version": None,
    "model_name": "gpt-4o",
    "locations": [{"file": "src/app/chat.py", "line": 3}, {"file": "tests/test_chat.py", "line": 9}],
    "flags": ["unpinned_model", "hardcoded_api_key"],
    "risk_score": 55,
    "severity": "high",
    "detector": "python",
    "confidence": 0.9,
    "scope": "production",
}


def leaf(field, operator, value=None, **extra):
    node = {"field": field, "operator": operator, **extra}
    if value is not None:
        node["value"] = value
    return node


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (leaf("name", "equals", "GPT-4o"), True),
        (leaf("name", "equals", "gpt-4"), False),
        (leaf("name", "not_equals", "gpt-4"), True),
        (leaf("name", "contains", "4O"), True),
        (leaf("name", "not_contains", "claude"), True),
        (leaf("name", "not_contains", "gpt"), False),
        (leaf("name", "in", ["claude", "gpt-4o"]), True),
        (leaf("name", "not_in", ["claude", "gpt-4o"]), False),
        (leaf("name", "starts_with", "GPT-"), True),
        (leaf("name", "starts_with", "4o"), False),
        (leaf("name", "matches", r"^gpt-\d"), True),
        (leaf("name", "matches", r"^GPT"), False),
        (leaf("name", "matches", r"(?i)^GPT"), True),
        (leaf("provider", "equals", "openai"), True),
        (leaf("type", "in", ["model", "endpoint"]), True),
        (leaf("scope", "equals", "test"), False),
        (leaf("detector", "exists", True), True),
        (leaf("model_name", "starts_with", "gpt"), True),
    ],
)
def test_text_operators(condition, expected):
    assert evaluate(condition, MODEL) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (leaf("flags", "contains", "hardcoded_api_key"), True),
        (leaf("flags", "contains", "hardcoded"), False),  # membership, not substring
        (leaf("flags", "equals", "UNPINNED_MODEL"), True),
        (leaf("flags", "not_contains", "shadow_ai"), True),
        (leaf("flags", "not_equals", "unpinned_model"), False),
        (leaf("flags", "in", ["shadow_ai", "hardcoded_api_key"]), True),
        (leaf("flags", "not_in", ["shadow_ai", "retired_model"]), True),
        (leaf("flags", "starts_with", "hardcoded"), True),
        (leaf("flags", "matches", r"_api_"), True),
        (leaf("flags", "exists", True), True),
        (leaf("flags", "exists", False), False),
    ],
)
def test_flag_operators_hold_for_any_flag(condition, expected):
    assert evaluate(condition, MODEL) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (leaf("file_path", "equals", "tests/test_chat.py"), True),  # second location counts too
        (leaf("file_path", "contains", "app/"), True),
        (leaf("file_path", "not_contains", "tests/"), False),
        (leaf("file_path", "starts_with", "src/"), True),
        (leaf("file_path", "in", ["a.py", "src/app/chat.py"]), True),
        (leaf("file_path", "not_in", ["a.py"]), True),
        (leaf("file_path", "matches", r"\.py$"), True),
        (leaf("file_path", "matches", r"\.js$"), False),
        (leaf("file_path", "exists"), True),
    ],
)
def test_file_path_matches_any_location(condition, expected):
    assert evaluate(condition, MODEL) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (leaf("risk_score", "equals", 55), True),
        (leaf("risk_score", "equals", 55.0), True),
        (leaf("risk_score", "not_equals", 55), False),
        (leaf("risk_score", "gt", 54), True),
        (leaf("risk_score", "gt", 55), False),
        (leaf("risk_score", "gte", 55), True),
        (leaf("risk_score", "lt", 55), False),
        (leaf("risk_score", "lte", 55), True),
        (leaf("risk_score", "in", [10, 55]), True),
        (leaf("risk_score", "not_in", [10, 55]), False),
        (leaf("confidence", "gte", 0.9), True),
        (leaf("confidence", "lt", 0.5), False),
    ],
)
def test_number_operators(condition, expected):
    assert evaluate(condition, MODEL) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (leaf("severity", "gt", "medium"), True),
        (leaf("severity", "gt", "high"), False),
        (leaf("severity", "gte", "high"), True),
        (leaf("severity", "lt", "critical"), True),
        (leaf("severity", "lte", "medium"), False),
        (leaf("severity", "equals", "HIGH"), True),
        (leaf("severity", "not_equals", "high"), False),
        (leaf("severity", "in", ["critical", "high"]), True),
        (leaf("severity", "not_in", ["info", "low"]), True),
    ],
)
def test_severity_compares_by_order_not_alphabet(condition, expected):
    assert evaluate(condition, MODEL) is expected


def test_severity_order_is_info_low_medium_high_critical():
    ordered = ["info", "low", "medium", "high", "critical"]
    for position, severity in enumerate(ordered):
        component = {"severity": severity}
        below = [s for s in ordered if evaluate(leaf("severity", "gt", s), component)]
        assert below == ordered[:position]


@pytest.mark.parametrize(
    "component",
    [{}, {"provider": None}, {"provider": ""}, {"provider": ["openai"]}, {"provider": {"x": 1}}],
)
def test_missing_or_odd_values_are_absent(component):
    assert evaluate(leaf("provider", "exists"), component) is False
    assert evaluate(leaf("provider", "exists", False), component) is True
    assert evaluate(leaf("provider", "equals", "openai"), component) is False
    assert evaluate(leaf("provider", "not_equals", "openai"), component) is True
    assert evaluate(leaf("provider", "contains", "o"), component) is False


def test_numbers_in_text_fields_are_compared_as_text():
    assert evaluate(leaf("version", "equals", "1.5"), {"version": 1.5})
    assert evaluate(leaf("version", "starts_with", "2"), {"version": 2})


@pytest.mark.parametrize(
    "component",
    [
        {"risk_score": "90"},
        {"risk_score": True},
        {"risk_score": float("nan")},
        {"flags": "hardcoded_api_key"},
        {"flags": [None, 3, {"a": 1}]},
        {"locations": "src/app.py"},
        {"locations": [None, {"file": 3}, {"line": 1}]},
        {"severity": "severe"},
        {"id": ["not", "a", "string"]},
    ],
)
def test_oddly_typed_values_never_match_and_never_raise(component):
    for condition in (
        leaf("risk_score", "gt", 50),
        leaf("flags", "contains", "hardcoded_api_key"),
        leaf("file_path", "contains", "src"),
        leaf("severity", "gte", "info"),
    ):
        assert evaluate(condition, component) is False


def test_non_dict_components_are_empty_components():
    for component in (None, 3, "model", ["model"]):
        assert evaluate(leaf("type", "exists", False), component) is True


def test_combinators_and_identities():
    yes, no = leaf("type", "equals", "model"), leaf("type", "equals", "tool")
    assert evaluate({"all": [yes, yes]}, MODEL)
    assert not evaluate({"all": [yes, no]}, MODEL)
    assert evaluate({"any": [no, yes]}, MODEL)
    assert not evaluate({"any": [no, no]}, MODEL)
    assert evaluate({"not": no}, MODEL)
    assert not evaluate({"not": {"not": no}}, MODEL)
    assert evaluate({"all": []}, MODEL)
    assert not evaluate({"any": []}, MODEL)


def test_bulk_selection_matches_single_evaluation():
    components = [
        MODEL,
        {**MODEL, "id": "m2", "flags": [], "severity": "low", "provider": None},
        {"id": "t1", "type": "tool", "name": "shell", "flags": ["dangerous_code"], "risk_score": 80},
        {},
    ]
    conditions = [
        {"any": [leaf("flags", "contains", "dangerous_code"), leaf("severity", "gte", "high")]},
        {"all": [leaf("type", "equals", "model"), {"not": leaf("provider", "exists")}]},
        leaf("risk_score", "gte", 55),
        leaf("name", "not_in", ["shell"]),
    ]
    table = ComponentTable(components)
    for condition in conditions:
        compiled = compile_condition(condition)
        expected = {row for row, component in enumerate(components) if evaluate(condition, component)}
        assert compiled.select(table) == expected


def test_ids_fall_back_to_row_index():
    table = ComponentTable([{"id": "a"}, {"id": 7}])
    assert table.ids({1, 0}) == ["a", "index:1"]


# ---------------------------------------------------------------- validation


def test_valid_conditions_have_no_errors():
    assert (
        validate_condition({"all": [leaf("flags", "contains", "x"), {"not": leaf("risk_score", "gt", 3)}]})
        == {}
    )
    assert validate_condition(leaf("version", "exists")) == {}


@pytest.mark.parametrize(
    ("condition", "path", "fragment"),
    [
        ({"field": "colour", "operator": "equals", "value": "x"}, "condition.field", "unknown field"),
        ({"field": "name", "operator": "like", "value": "x"}, "condition.operator", "unknown operator"),
        ({"field": "name", "operator": "gt", "value": "x"}, "condition.operator", "does not apply"),
        ({"field": "risk_score", "operator": "contains", "value": 3}, "condition.operator", "does not apply"),
        ({"field": "risk_score", "operator": "gt", "value": "70"}, "condition.value", "number"),
        ({"field": "risk_score", "operator": "gt", "value": True}, "condition.value", "number"),
        ({"field": "name", "operator": "equals", "value": 3}, "condition.value", "string"),
        ({"field": "name", "operator": "equals"}, "condition.value", "required"),
        ({"field": "name", "operator": "in", "value": "x"}, "condition.value", "non-empty list"),
        ({"field": "name", "operator": "in", "value": []}, "condition.value", "non-empty list"),
        ({"field": "name", "operator": "in", "value": ["a", 2]}, "condition.value", "item 1"),
        ({"field": "severity", "operator": "gte", "value": "severe"}, "condition.value", "one of"),
        ({"field": "type", "operator": "equals", "value": "modle"}, "condition.value", "one of"),
        ({"field": "name", "operator": "exists", "value": "yes"}, "condition.value", "true or false"),
        ({"field": "name", "operator": "matches", "value": "("}, "condition.value", "invalid regular"),
        ({"field": "name", "operator": "matches", "value": "(a+)+$"}, "condition.value", "unbounded"),
        (
            {"field": "name", "operator": "matches", "value": "a" * (MAX_PATTERN_LENGTH + 1)},
            "condition.value",
            "at most",
        ),
        ({"field": "name", "operator": "equals", "value": "x", "extra": 1}, "condition", "unknown keys"),
        ({"all": {"field": "name"}}, "condition.all", "list"),
        ({"all": [], "any": []}, "condition", "exactly one key"),
        ([], "condition", "must be an object"),
        (None, "condition", "must be an object"),
    ],
)
def test_validation_names_the_bad_part(condition, path, fragment):
    errors = validate_condition(condition)
    assert path in errors, errors
    assert any(fragment in message for message in errors[path]), errors


def test_nested_paths():
    condition = {
        "all": [leaf("name", "equals", "x"), {"any": [leaf("name", "equals", "y"), leaf("nme", "eq", 1)]}]
    }
    errors = validate_condition(condition)
    assert set(errors) == {"condition.all.1.any.1.field", "condition.all.1.any.1.operator"}
    assert set(validate_condition({"not": {"not": []}})) == {"condition.not.not"}


def test_depth_and_size_limits():
    deep = leaf("name", "equals", "x")
    for _ in range(MAX_DEPTH):
        deep = {"not": deep}
    errors = validate_condition(deep)
    assert any("deeper" in message for messages in errors.values() for message in messages)
    wide = {"any": [leaf("name", "equals", str(n)) for n in range(300)]}
    assert "condition.any" in validate_condition(wide) or "condition" in validate_condition(wide)


def test_compile_rejects_invalid_conditions_with_their_errors():
    with pytest.raises(InvalidCondition) as raised:
        compile_condition({"field": "nope", "operator": "equals", "value": 1})
    assert "condition.field" in raised.value.errors


@pytest.mark.parametrize(
    ("pattern", "nested"),
    [
        ("(a+)+", True),
        ("(a*)*b", True),
        (r"(\w+\s?)+$", True),
        ("(x{2,}){3}", True),
        ("((ab)*c)+", True),
        ("(?:a+)+", True),
        ("(a+){1}", False),
        ("(a?)+", False),
        ("(ab|cd)+", False),
        (r"[(]+\)", False),
        (r"\(a+\)+", False),
        ("^gpt-[0-9]+(-mini)?$", False),
        ("a{2,5}b+", False),
    ],
)
def test_nested_quantifier_detection(pattern, nested):
    assert has_nested_quantifier(pattern) is nested


def test_regex_search_on_hostile_input_finishes():
    component = {"name": "a" * 5000 + "!"}
    assert evaluate(leaf("name", "matches", r"^(a|aa)*$"), component) is False


def test_describe_reads_like_the_rule():
    condition = {"all": [leaf("flags", "contains", "shadow_ai"), {"not": leaf("provider", "exists")}]}
    assert describe(condition) == "(flags contains 'shadow_ai' and not provider exists)"
    assert describe(leaf("version", "exists", False)) == "version is absent"

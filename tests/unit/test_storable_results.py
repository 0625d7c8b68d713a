"""What the platform can store of a result, checked without services: text PostgreSQL refuses, edge shapes
and depth (``common.scanner.model``)."""

from __future__ import annotations

import json

from common.scanner.model import (
    MAX_VALUE_NESTING,
    edge_problem,
    keep_storable_components,
    may_hold_unstorable_text,
    nested_deeper_than,
    storable_text,
)


def test_nul_and_lone_surrogates_become_visible_escapes():
    assert storable_text({"k\x00": ["a\x00b", "x\ud800", "name-\udcff"]}) == {
        "k\\x00": ["a\\x00b", "x\\xed\\xa0\\x80", "name-\\xff"]
    }


def test_only_a_body_that_escapes_nul_or_a_surrogate_is_decoded_again():
    assert may_hold_unstorable_text(json.dumps({"a": "\x00"}).encode())
    assert may_hold_unstorable_text(b'{"a": "\\uD83D\\uDE00"}')
    assert not may_hold_unstorable_text(json.dumps({"a": "caf\u00e9 \u4e2d"}).encode())


def test_an_edge_problem_names_its_field():
    assert edge_problem({"source": "a", "target": "b", "relation": "uses"}) is None
    assert edge_problem("edge") == ("", "Expected an object.")
    assert edge_problem({"source": "a", "relation": "uses"})[0] == "target"
    assert edge_problem({"source": "a", "target": ["b"], "relation": "uses"})[0] == "target"
    assert edge_problem({"source": "a", "target": "b", "relation": "r" * 51})[0] == "relation"


def test_depth_is_measured_without_recursion():
    value: object = "x"
    for _ in range(5000):
        value = [value]
    assert nested_deeper_than(value, MAX_VALUE_NESTING)
    assert not nested_deeper_than({"a": [{"b": 1}]}, 3) and nested_deeper_than({"a": [{"b": [1]}]}, 3)


def test_a_result_with_nothing_to_set_aside_is_returned_as_it_is():
    component = {"id": "a" * 64, "name": "m", "type": "model", "metadata": {"size": 2**70}}
    edges = [{"source": "file:app.py", "target": "a" * 64, "relation": "contains"}]
    payload = {"components": [component], "relationships": edges, "warnings": []}
    assert keep_storable_components(payload) is payload

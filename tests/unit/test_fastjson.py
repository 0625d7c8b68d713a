"""The CLI's JSON report through orjson: the bytes ``json.dumps(indent=2)`` writes."""

from __future__ import annotations

import json

import pytest

from common import fastjson

VALUES = [
    {
        "name": "café",
        "snippet": "模型 = 'gpt-4o' # 🤖",
        "empty": {},
        "none": [],
        "nested": [{"a": [1, 2.5, None]}],
    },
    {"controls": "tab\there\nnew\x00nul\x1f\x7f del \u2028 sep", "quote": 'say "hi" \\ back/slash'},
    {"numbers": [0, -1, 2**63 - 1, 1.5, 0.1, 123456789.125, 1e15, True, False]},
    {"small": 1e-7, "id": "5e57e-1e5"},  # exponents: json writes 1e-07, orjson 1e-7
    [2.5e16],
    3e-9,
    {"big": 2**64},  # beyond orjson's integers
    {"lone": "\ud800 surrogate"},  # orjson refuses lone surrogates
    {1: "non-string key"},
    [],
    "just a string é",
]


@pytest.mark.parametrize("value", VALUES)
def test_dumps_indented_writes_what_the_standard_library_writes(value):
    assert fastjson.dumps_indented(value) == json.dumps(value, indent=2).encode("ascii")


def test_a_scan_report_round_trips(tmp_path):
    report = {"components": [{"name": "ünïcode", "locations": [{"file": "a.py", "line": 3}]}], "summary": {}}
    assert json.loads(fastjson.dumps_indented(report)) == report

"""SARIF 2.1.0: valid against the vendored OASIS schema; rules are checks, results are findings."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from common.exporters import render
from tests.unit.test_export_bundle import make_bundle

SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures/schemas/sarif-schema-2.1.0.json").read_text())


def validate(document: dict) -> list[str]:
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    return [error.message for error in validator.iter_errors(document)]


def sarif_run(bundle: dict) -> dict:
    return json.loads(render("sarif", bundle))["runs"][0]


@pytest.mark.parametrize("variant", ["full", "no_results", "empty"])
def test_output_passes_the_official_schema(variant):
    bundle = {"full": make_bundle(), "no_results": make_bundle(with_results=False), "empty": make_bundle([])}[
        variant
    ]
    assert validate(json.loads(render("sarif", bundle))) == []


def test_the_schema_catches_a_broken_document():
    document = json.loads(render("sarif", make_bundle()))
    document["runs"][0]["results"][0]["level"] = "fatal"
    assert validate(document)


def test_one_rule_per_check_with_help_and_security_severity():
    run = sarif_run(make_bundle())
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    assert "hardcoded_api_key" in ids
    assert {"policy/p-keys", "policy/p-retired", "compliance/owasp-llm-top10/LLM02"} <= set(ids)
    assert "policy/p-gpu" not in ids
    for rule in rules:
        assert rule["help"]["text"]
        assert float(rule["properties"]["security-severity"]) > 0


def test_one_result_per_component_flag_location_with_region_and_fingerprint():
    bundle = make_bundle()
    run = sarif_run(bundle)
    flag_results = [r for r in run["results"] if "/" not in r["ruleId"]]
    expected = sum(len(c["flags"]) * max(len(c["locations"]), 1) for c in bundle["components"])
    assert len(flag_results) == expected
    fingerprints = [r["partialFingerprints"]["truseraFinding/v1"] for r in run["results"]]
    assert len(fingerprints) == len(set(fingerprints))
    leaked = [r for r in flag_results if r["ruleId"] == "hardcoded_api_key"]
    assert {r["level"] for r in leaked} == {"error"}
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in leaked] == [3, 12]
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_levels_follow_the_check_severity():
    levels = {r["ruleId"]: r["level"] for r in sarif_run(make_bundle())["results"]}
    assert levels["retired_model"] == "error"
    assert levels["mcp_remote_server"] == "warning"
    assert levels["unpinned_model"] == "note"


def test_whole_file_findings_have_no_region():
    pickle = next(r for r in sarif_run(make_bundle())["results"] if r["ruleId"] == "unsafe_model_format")
    assert pickle["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "models/classifier.pkl", "uriBaseId": "%SRCROOT%"}
    }

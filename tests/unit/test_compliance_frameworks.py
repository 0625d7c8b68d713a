"""Framework data files and the evaluator: exact control statuses and evidence on small scans."""

from __future__ import annotations

import pytest
import yaml

from common.compliance.evaluator import (
    compliance_score,
    evaluate_frameworks,
    framework_catalog,
    load_frameworks,
)
from common.compliance.framework import FrameworkDataError, parse_framework


def component(id_, type_, name, *, provider=None, version=None, flags=(), severity="info", located=True):
    return {
        "id": id_,
        "name": name,
        "type": type_,
        "provider": provider,
        "version": version,
        "model_name": name if type_ == "model" else None,
        "locations": [{"file": name if type_ == "model_file" else f"src/{id_}.py", "line": 1}]
        if located
        else [],
        "flags": list(flags),
        "risk_score": {"info": 0, "low": 20, "medium": 45, "high": 70, "critical": 90}[severity],
        "severity": severity,
        "detector": "test",
        "confidence": 1.0,
        "scope": "production",
    }


CLEAN = [
    component("m1", "model", "gpt-4o-2024-08-06", provider="openai"),
    component("p1", "llm_provider", "openai", provider="openai", version="1.40.0"),
    component("a1", "agent_framework", "langchain", provider="langchain", version="0.2.1"),
    component("v1", "vector_db", "chromadb", provider="chroma", version="0.5.0"),
    component("c1", "container", "ollama/ollama", provider="ollama", version="0.3.0"),
]

RISKY = [
    component("m1", "model", "gpt-4-0314", provider="openai", flags=["retired_model"]),
    component("m2", "model", "some-model", flags=["unpinned_model"]),
    component(
        "k1",
        "llm_provider",
        "openai",
        provider="openai",
        flags=["hardcoded_api_key", "shadow_ai"],
        severity="critical",
    ),
    component("w1", "workflow", "support-bot", flags=["webhook_no_auth", "internet_facing"], severity="high"),
    component("t1", "tool", "code", flags=["dangerous_code"]),
    component("a1", "agent_framework", "crewai", version="0.1", flags=["multi_agent_no_trust"]),
    component(
        "s1", "mcp_server", "weird-server", flags=["mcp_unknown_server", "mcp_remote_server"], located=False
    ),
    component("f1", "model_file", "models/emotion_recognition.pkl", flags=["unsafe_model_format"]),
]
RISKY_SUMMARY = {
    "total_components": 8,
    "by_type": {},
    "by_severity": {"critical": 1, "high": 1, "info": 6},
    "highest_risk_score": 90,
    "files_scanned": 9,
}
RISKY_EDGES = [
    {"source": "a1", "target": "t1", "relation": "uses_tool"},
    {"source": "file:x.py", "target": "a1"},
]


def results(components, summary=None, relationships=(), **kwargs):
    result = evaluate_frameworks(components, summary or {}, list(relationships), **kwargs)
    return {framework["id"]: framework for framework in result["frameworks"]}


def statuses(framework):
    return {control["id"]: control["status"] for control in framework["controls"]}


def evidence(framework):
    return {control["id"]: control["evidence"] for control in framework["controls"]}


def test_builtin_frameworks_load_with_versions():
    frameworks = {f.id: f for f in load_frameworks()}
    assert set(frameworks) == {"eu-ai-act", "owasp-llm-top10", "nist-ai-rmf", "iso-iec-42001"}
    assert frameworks["eu-ai-act"].version == "Regulation (EU) 2024/1689"
    assert frameworks["owasp-llm-top10"].version == "2025"
    assert frameworks["nist-ai-rmf"].version == "1.0"
    assert frameworks["iso-iec-42001"].version == "2023"
    assert [c.id for c in frameworks["owasp-llm-top10"].controls] == [f"LLM{n:02d}" for n in range(1, 11)]
    assert [c.title for c in frameworks["owasp-llm-top10"].controls] == [
        "Prompt Injection",
        "Sensitive Information Disclosure",
        "Supply Chain",
        "Data and Model Poisoning",
        "Improper Output Handling",
        "Excessive Agency",
        "System Prompt Leakage",
        "Vector and Embedding Weaknesses",
        "Misinformation",
        "Unbounded Consumption",
    ]
    assert [c.id for c in frameworks["eu-ai-act"].controls] == [
        "ART5",
        "ART6",
        "ART11",
        "ART12",
        "ART15",
        "ART50",
        "ART53",
    ]
    for framework in frameworks.values():
        for control in framework.controls:
            assert control.limitations and control.remediation and control.reference


def test_clean_inventory_passes_everything_it_can():
    by_id = results(CLEAN)
    assert statuses(by_id["eu-ai-act"]) == {
        "ART5": "pass",
        "ART6": "pass",
        "ART11": "pass",
        "ART12": "pass",
        "ART15": "pass",
        "ART50": "not_applicable",
        "ART53": "pass",
    }
    assert set(statuses(by_id["owasp-llm-top10"]).values()) == {"pass"}
    assert set(statuses(by_id["nist-ai-rmf"]).values()) == {"pass"}
    assert set(statuses(by_id["iso-iec-42001"]).values()) == {"pass"}
    for framework in by_id.values():
        assert framework["score"] == 100
    assert evidence(by_id["eu-ai-act"])["ART53"] == ["m1", "p1"]


def test_eu_ai_act_on_risky_inventory():
    eu = results(RISKY, RISKY_SUMMARY, RISKY_EDGES)["eu-ai-act"]
    assert statuses(eu) == {
        "ART5": "warning",
        "ART6": "pass",
        "ART11": "fail",
        "ART12": "fail",
        "ART15": "fail",
        "ART50": "warning",
        "ART53": "fail",
    }
    assert evidence(eu) | {"ART6": None} == {
        "ART5": ["f1"],
        "ART6": None,
        "ART11": ["m2"],
        "ART12": ["s1"],
        "ART15": ["k1", "w1", "t1"],
        "ART50": ["w1"],
        "ART53": ["m2"],
    }
    assert eu["counts"] == {"pass": 1, "fail": 4, "warning": 2, "not_applicable": 0}
    assert eu["score"] == 29


def test_owasp_on_risky_inventory():
    owasp = results(RISKY, RISKY_SUMMARY, RISKY_EDGES)["owasp-llm-top10"]
    assert statuses(owasp) == {
        "LLM01": "fail",
        "LLM02": "fail",
        "LLM03": "fail",
        "LLM04": "fail",
        "LLM05": "fail",
        "LLM06": "fail",
        "LLM07": "warning",
        "LLM08": "not_applicable",
        "LLM09": "warning",
        "LLM10": "fail",
    }
    assert evidence(owasp) == {
        "LLM01": ["w1"],
        "LLM02": ["k1"],
        "LLM03": ["m1", "s1", "f1"],
        "LLM04": ["f1"],
        "LLM05": ["t1"],
        "LLM06": ["a1"],
        "LLM07": ["k1"],
        "LLM08": [],
        "LLM09": ["m1"],
        "LLM10": ["w1"],
    }
    assert owasp["score"] == 11


def test_nist_on_risky_inventory():
    nist = results(RISKY, RISKY_SUMMARY, RISKY_EDGES)["nist-ai-rmf"]
    assert statuses(nist) == {
        "GV-1.6": "warning",
        "GV-6.1": "warning",
        "MP-4.1": "fail",
        "MS-2.7": "fail",
        "MG-3.1": "fail",
        "MG-3.2": "fail",
    }
    assert evidence(nist) == {
        "GV-1.6": ["s1"],
        "GV-6.1": ["k1", "s1"],
        "MP-4.1": ["m2"],
        "MS-2.7": ["k1", "w1", "t1", "f1"],
        "MG-3.1": ["m1"],
        "MG-3.2": ["m1"],
    }
    ms = next(c for c in nist["controls"] if c["id"] == "MS-2.7")
    assert "rates 1 components critical" in ms["message"]


def test_iso_42001_on_risky_inventory():
    iso = results(RISKY, RISKY_SUMMARY, RISKY_EDGES)["iso-iec-42001"]
    assert statuses(iso) == {
        "A.4.2": "fail",
        "A.4.3": "not_applicable",
        "A.4.4": "warning",
        "A.4.5": "not_applicable",
        "A.6.2.6": "fail",
        "A.6.2.7": "fail",
        "A.10.2": "warning",
        "A.10.3": "fail",
    }
    assert evidence(iso)["A.10.2"] == ["m2", "f1"]
    assert evidence(iso)["A.10.3"] == ["s1", "f1"]
    assert iso["counts"] == {"pass": 0, "fail": 4, "warning": 2, "not_applicable": 2}


def test_nist_severity_thresholds_read_the_summary():
    harmless = [component("m1", "model", "gpt-4o-2024-08-06", provider="openai")]
    warn = results(harmless, {"by_severity": {"high": 2}})["nist-ai-rmf"]
    assert statuses(warn)["MS-2.7"] == "warning"
    failing = results(harmless, {"by_severity": {"critical": 1}})["nist-ai-rmf"]
    assert statuses(failing)["MS-2.7"] == "fail"
    assert statuses(results(harmless, {"by_severity": {"info": 1}})["nist-ai-rmf"])["MS-2.7"] == "pass"


def test_excessive_agency_follows_the_graph():
    agent = component("a1", "agent_framework", "langchain", version="1")
    tool = component("t1", "tool", "http", flags=["code_http_tools"])
    plain_tool = component("t2", "tool", "search")

    def llm06(components, edges):
        return statuses(results(components, relationships=edges)["owasp-llm-top10"])["LLM06"]

    assert llm06([agent, tool], [{"source": "a1", "target": "t1", "relation": "uses_tool"}]) == "fail"
    assert llm06([agent, tool], [{"source": "t1", "target": "a1", "relation": "uses_tool"}]) == "fail"
    assert llm06([agent, tool], [{"source": "a1", "target": "t1", "relation": "declares"}]) == "pass"
    assert llm06([agent, tool], []) == "pass"
    assert llm06([agent, plain_tool], [{"source": "a1", "target": "t2", "relation": "uses_tool"}]) == "pass"
    assert llm06([tool], [{"source": "a1", "target": "t1", "relation": "uses_tool"}]) == "not_applicable"


def test_empty_scan_is_not_applicable_everywhere():
    for framework in results([], {"total_components": 0}).values():
        assert set(statuses(framework).values()) == {"not_applicable"}, framework["id"]
        assert framework["score"] == 100
        assert all(control["evidence"] == [] for control in framework["controls"])


def test_custom_rules_pass_or_fail_with_matched_ids():
    rules = [
        {
            "id": "r1",
            "name": "No hardcoded keys",
            "severity": "critical",
            "condition": {"field": "flags", "operator": "contains", "value": "hardcoded_api_key"},
        },
        {
            "id": "r2",
            "name": "No DeepSeek",
            "severity": "high",
            "condition": {"field": "provider", "operator": "equals", "value": "deepseek"},
        },
        {
            "id": "r3",
            "name": "broken",
            "severity": "low",
            "condition": {"field": "colour", "operator": "equals", "value": 1},
        },
    ]
    result = evaluate_frameworks(RISKY, RISKY_SUMMARY, RISKY_EDGES, frameworks=[], custom_rules=rules)
    assert result["frameworks"] == []
    r1, r2, r3 = result["custom_rules"]
    assert (r1["status"], r1["matched"], r1["severity"]) == ("fail", ["k1"], "critical")
    assert (r2["status"], r2["matched"]) == ("pass", [])
    assert r3["status"] == "fail"
    assert "condition.field" in r3["errors"]


def test_evidence_is_capped_but_counted():
    many = [component(f"x{n}", "tool", f"tool-{n}", flags=["dangerous_code"]) for n in range(30)]
    framework = results(many, evidence_limit=5)["owasp-llm-top10"]
    llm05 = next(c for c in framework["controls"] if c["id"] == "LLM05")
    assert llm05["evidence"] == ["x0", "x1", "x2", "x3", "x4"]
    assert llm05["evidence_count"] == 30


def test_only_the_requested_frameworks_are_evaluated():
    owasp = [f for f in load_frameworks() if f.id == "owasp-llm-top10"]
    result = evaluate_frameworks(CLEAN, {}, [], frameworks=owasp)
    assert [f["id"] for f in result["frameworks"]] == ["owasp-llm-top10"]


def test_score():
    assert compliance_score({"pass": 3, "fail": 1, "warning": 0, "not_applicable": 5}) == 75
    assert compliance_score({"pass": 1, "fail": 0, "warning": 1, "not_applicable": 0}) == 75
    assert compliance_score({"pass": 0, "fail": 0, "warning": 0, "not_applicable": 2}) == 100


def test_catalog_lists_controls_with_their_checks():
    catalog = {entry["id"]: entry for entry in framework_catalog()}
    llm06 = next(c for c in catalog["owasp-llm-top10"]["controls"] if c["id"] == "LLM06")
    assert llm06["checks"][0]["linked"]["relations"] == ["uses_tool", "has_node", "calls"]
    assert set(catalog["nist-ai-rmf"]) >= {"id", "name", "version", "revision", "source", "controls"}
    for entry in catalog.values():
        for control in entry["controls"]:
            assert set(control) == {
                "id",
                "title",
                "reference",
                "description",
                "checks",
                "remediation",
                "limitations",
            }


MINIMAL_FRAMEWORK = """
id: acme
name: ACME rules
version: "1"
revision: 1
source: https://example.invalid/acme
description: A framework added as data only.
controls:
  - id: ACME-1
    title: No shadow AI
    reference: ACME 1
    checks:
      - hit: {field: flags, operator: contains, value: shadow_ai}
        on_hit: fail
        message: "{hits} undeclared SDKs."
    remediation: Declare them.
    limitations: Code only.
"""


def test_a_new_framework_is_a_data_file(tmp_path):
    (tmp_path / "acme.yaml").write_text(MINIMAL_FRAMEWORK)
    frameworks = load_frameworks(tmp_path)
    framework = results(RISKY, frameworks=frameworks)["acme"]
    assert statuses(framework) == {"ACME-1": "fail"}
    assert framework["controls"][0]["message"] == "1 undeclared SDKs."


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (
            lambda d: d["controls"][0]["checks"][0]["hit"].update(field="colour"),
            "controls.0.checks.0.hit.field",
        ),
        (lambda d: d["controls"][0]["checks"][0].update(on_hit="red"), "controls.0.checks.0.on_hit"),
        (lambda d: d["controls"][0]["checks"][0].update(message="{count} x"), "controls.0.checks.0.message"),
        (
            lambda d: d["controls"][0]["checks"][0].update(metric="by_colour.red"),
            "controls.0.checks.0.metric",
        ),
        (lambda d: d["controls"][0].pop("limitations"), "controls.0.limitations"),
        (lambda d: d["controls"].append(dict(d["controls"][0])), "controls.1.id"),
        (lambda d: d.update(revision="one"), "revision"),
        (
            lambda d: d["controls"][0]["checks"][0].update(linked={"to": {}, "direction": "up"}),
            "controls.0.checks.0.linked.direction",
        ),
    ],
)
def test_bad_framework_data_is_rejected_with_its_path(mutate, path):
    data = yaml.safe_load(MINIMAL_FRAMEWORK)
    mutate(data)
    with pytest.raises(FrameworkDataError) as raised:
        parse_framework(data, "acme.yaml")
    assert path in raised.value.errors, raised.value.errors

"""Framework data files and the evaluator: exact control statuses and evidence on small scans."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from common.compliance.evaluator import (
    compliance_score,
    evaluate_frameworks,
    framework_catalog,
    load_frameworks,
)
from common.compliance.framework import FrameworkDataError, parse_framework
from tests.factories import component

CLEAN = [
    component(
        "model",
        "gpt-4o-2024-08-06",
        id="m1",
        provider="openai",
        model_name="gpt-4o-2024-08-06",
        severity="info",
        locations=[("src/m1.py", 1)],
    ),
    component(
        "llm_provider",
        "openai",
        id="p1",
        provider="openai",
        version="1.40.0",
        severity="info",
        locations=[("src/p1.py", 1)],
    ),
    component(
        "agent_framework",
        "langchain",
        id="a1",
        provider="langchain",
        version="0.2.1",
        severity="info",
        locations=[("src/a1.py", 1)],
    ),
    component(
        "vector_db",
        "chromadb",
        id="v1",
        provider="chroma",
        version="0.5.0",
        severity="info",
        locations=[("src/v1.py", 1)],
    ),
    component(
        "container",
        "ollama/ollama",
        id="c1",
        provider="ollama",
        version="0.3.0",
        severity="info",
        locations=[("src/c1.py", 1)],
    ),
]

RISKY = [
    component(
        "model",
        "gpt-4-0314",
        id="m1",
        provider="openai",
        model_name="gpt-4-0314",
        flags=["retired_model"],
        severity="info",
        locations=[("src/m1.py", 1)],
    ),
    component(
        "model",
        "some-model",
        id="m2",
        model_name="some-model",
        flags=["unpinned_model"],
        severity="info",
        locations=[("src/m2.py", 1)],
    ),
    component(
        "llm_provider",
        "openai",
        id="k1",
        provider="openai",
        flags=["hardcoded_api_key", "shadow_ai"],
        severity="critical",
        locations=[("src/k1.py", 1)],
    ),
    component(
        "workflow",
        "support-bot",
        id="w1",
        flags=["webhook_no_auth", "internet_facing"],
        severity="high",
        locations=[("src/w1.py", 1)],
    ),
    component(
        "tool", "code", id="t1", flags=["dangerous_code"], severity="info", locations=[("src/t1.py", 1)]
    ),
    component(
        "agent_framework",
        "crewai",
        id="a1",
        version="0.1",
        flags=["multi_agent_no_trust"],
        severity="info",
        locations=[("src/a1.py", 1)],
    ),
    component(
        "mcp_server",
        "weird-server",
        id="s1",
        flags=["mcp_unknown_server", "mcp_remote_server"],
        severity="info",
    ),
    component(
        "model_file",
        "models/emotion_recognition.pkl",
        id="f1",
        flags=["unsafe_model_format"],
        severity="info",
        locations=[("models/emotion_recognition.pkl", 1)],
    ),
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


ON = date(2026, 9, 1)  # after the EU AI Act's general application date, so results do not follow the calendar

MANUAL = {
    "eu-ai-act": {"ART12"},
    "iso-iec-42001": {"A.4.3", "A.6.2.6", "A.6.2.7", "A.10.2"},
    "nist-ai-rmf": {"GV-6.1"},
    "owasp-llm-top10": set(),
}
WEAK_PROXIES = {"eu-ai-act": {"ART5", "ART6"}, "owasp-llm-top10": {"LLM01", "LLM07", "LLM09"}}


def results(components, summary=None, relationships=(), **kwargs):
    kwargs.setdefault("on", ON)
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


def test_framework_texts_follow_the_official_documents():
    frameworks = {f.id: f for f in load_frameworks()}
    nist = {c.id: c.title for c in frameworks["nist-ai-rmf"].controls}
    assert nist["GV-1.6"] == (
        "Mechanisms are in place to inventory AI systems and are resourced according to organizational risk "
        "priorities."
    )
    assert nist["GV-6.1"].startswith(
        "Policies and procedures are in place that address AI risks associated with"
    )
    assert nist["MP-4.1"].startswith("Approaches for mapping AI technology and legal risks of its components")
    assert nist["MG-3.1"].startswith(
        "AI risks and benefits from third-party resources are regularly monitored"
    )
    assert nist["MG-3.2"].startswith("Pre-trained models which are used for development are monitored")
    assert frameworks["owasp-llm-top10"].source.endswith("/owasp-top-10-for-llm-applications-2025/")
    eu = {c.id: c for c in frameworks["eu-ai-act"].controls}
    assert (
        eu["ART15"].reference.endswith("Article 15(5)")
        and "exploiting system vulnerabilities" in eu["ART15"].description
    )
    assert "democratic processes" in eu["ART6"].description
    assert "does not make an organization a" in eu["ART53"].description
    assert "Plain face or emotion" in eu["ART5"].description


def test_clean_inventory_passes_only_what_the_scan_can_show():
    by_id = results(CLEAN)
    assert statuses(by_id["eu-ai-act"]) == {
        "ART5": "no_indicator",
        "ART6": "no_indicator",
        "ART11": "pass",
        "ART12": "manual",
        "ART15": "pass",
        "ART50": "not_applicable",
        "ART53": "pass",
    }
    for framework_id, framework in by_id.items():
        by_status = statuses(framework)
        assert {c for c, s in by_status.items() if s == "manual"} == MANUAL[framework_id]
        assert {c for c, s in by_status.items() if s == "no_indicator"} == WEAK_PROXIES.get(
            framework_id, set()
        )
        assert set(by_status.values()) <= {"pass", "manual", "no_indicator", "not_applicable"}
        assert framework["score"] == 100
        evaluated = sum(s == "pass" for s in by_status.values())
        assert framework["coverage"] == {"evaluated": evaluated, "total": len(by_status)}
    assert evidence(by_id["eu-ai-act"])["ART53"] == ["m1", "p1"]
    assert evidence(by_id["eu-ai-act"])["ART12"] == []


def test_one_pinned_model_gets_no_pass_on_a_process_control():
    one_call = [
        component(
            "model",
            "gpt-4o-2024-08-06",
            id="m1",
            provider="openai",
            model_name="gpt-4o-2024-08-06",
            severity="info",
            locations=[("src/m1.py", 1)],
        )
    ]
    for framework in results(one_call).values():
        for control in framework["controls"]:
            if control["id"] in MANUAL[framework["id"]] | WEAK_PROXIES.get(framework["id"], set()):
                assert control["status"] in ("manual", "no_indicator"), (framework["id"], control["id"])
        assert framework["coverage"]["evaluated"] < framework["coverage"]["total"]
    eu = statuses(results(one_call)["eu-ai-act"])
    assert (eu["ART12"], eu["ART5"]) == ("manual", "no_indicator")


def test_eu_ai_act_on_risky_inventory_without_a_profile_warns_what_applies_if():
    eu = results(RISKY, RISKY_SUMMARY, RISKY_EDGES)["eu-ai-act"]
    assert statuses(eu) == {
        "ART5": "no_indicator",
        "ART6": "warning",
        "ART11": "warning",
        "ART12": "warning",
        "ART15": "warning",
        "ART50": "warning",
        "ART53": "warning",
    }
    assert evidence(eu) == {
        "ART5": [],
        "ART6": ["f1"],
        "ART11": ["m2"],
        "ART12": ["s1"],
        "ART15": ["k1", "w1", "t1"],
        "ART50": ["w1"],
        "ART53": ["m2"],
    }
    by_control = {c["id"]: c for c in eu["controls"]}
    assert by_control["ART11"]["message"].startswith(
        "Applies if the organization is the provider of a high-risk"
    )
    assert by_control["ART11"]["applicability"] == "unknown"
    assert by_control["ART12"]["message"].startswith("Applies if the AI system is high-risk")
    assert "Needs evidence" in by_control["ART12"]["message"]
    assert (by_control["ART11"]["applies_from"], by_control["ART5"]["applies_from"]) == (
        "2026-08-02",
        "2025-02-02",
    )
    assert "Article 113" in by_control["ART11"]["date_source"]
    assert by_control["ART11"]["amendments"][0]["date"] == "2025-11-19"
    assert "proposed" in by_control["ART11"]["amendments"][0]["status"]
    assert eu["counts"]["warning"] == 6 and eu["counts"]["no_indicator"] == 1
    assert eu["score"] == 50


def test_the_profile_decides_which_obligations_bind():
    high_risk_provider = {"role": "provider", "risk_class": "high_risk", "places_gpai_model": False}
    eu = statuses(results(RISKY, RISKY_SUMMARY, RISKY_EDGES, profile=high_risk_provider)["eu-ai-act"])
    assert (eu["ART11"], eu["ART15"], eu["ART12"], eu["ART53"]) == (
        "fail",
        "fail",
        "warning",
        "not_applicable",
    )
    gpai_provider = {"role": "provider", "risk_class": "minimal", "places_gpai_model": True}
    eu = statuses(results(RISKY, RISKY_SUMMARY, RISKY_EDGES, profile=gpai_provider)["eu-ai-act"])
    assert (eu["ART11"], eu["ART12"], eu["ART53"]) == ("not_applicable", "not_applicable", "fail")
    deployer = {"role": "deployer", "risk_class": None, "places_gpai_model": None}
    eu = statuses(results(RISKY, RISKY_SUMMARY, RISKY_EDGES, profile=deployer)["eu-ai-act"])
    assert (eu["ART11"], eu["ART15"], eu["ART53"]) == ("not_applicable", "not_applicable", "not_applicable")


def test_an_obligation_not_yet_applicable_is_a_dated_warning():
    profile = {"role": "provider", "risk_class": "high_risk", "places_gpai_model": False}
    eu = results(RISKY, RISKY_SUMMARY, RISKY_EDGES, profile=profile, on=date(2026, 1, 1))["eu-ai-act"]
    art11 = next(c for c in eu["controls"] if c["id"] == "ART11")
    assert art11["status"] == "warning"
    assert art11["message"].startswith("Applies from 2026-08-02.")


def test_plain_emotion_recognition_is_an_annex_iii_indicator_not_a_prohibited_practice():
    plain = [
        component(
            "model_file",
            "models/emotion_recognition.onnx",
            id="f1",
            severity="info",
            locations=[("models/emotion_recognition.onnx", 1)],
        )
    ]
    at_work = [
        component(
            "model_file",
            "models/employee_emotion_recognition.onnx",
            id="f1",
            severity="info",
            locations=[("models/employee_emotion_recognition.onnx", 1)],
        )
    ]
    assert [statuses(results(c)["eu-ai-act"])[i] for c in (plain, at_work) for i in ("ART5", "ART6")] == [
        "no_indicator",
        "warning",
        "warning",
        "warning",
    ]
    voting = [
        component(
            "llm_provider",
            "openai",
            id="x1",
            provider="openai",
            version="1",
            severity="info",
            locations=[("src/x1.py", 1)],
        )
    ]
    voting[0]["locations"] = [{"file": "src/election_assistant.py", "line": 1}]
    assert statuses(results(voting)["eu-ai-act"])["ART6"] == "warning"


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
        "GV-6.1": "warning",  # manual; its indicators only warn
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
        "A.4.3": "manual",
        "A.4.4": "warning",
        "A.4.5": "not_applicable",
        "A.6.2.6": "warning",
        "A.6.2.7": "warning",
        "A.10.2": "warning",
        "A.10.3": "fail",
    }
    assert evidence(iso)["A.6.2.6"] == ["m1"]
    assert evidence(iso)["A.10.2"] == ["m2", "f1"]
    assert evidence(iso)["A.10.3"] == ["s1", "f1"]
    assert iso["counts"] == {
        "pass": 0,
        "fail": 2,
        "warning": 4,
        "not_applicable": 1,
        "no_indicator": 0,
        "manual": 1,
    }
    assert iso["coverage"] == {"evaluated": 6, "total": 8}


def test_nist_severity_thresholds_read_the_summary():
    harmless = [
        component(
            "model",
            "gpt-4o-2024-08-06",
            id="m1",
            provider="openai",
            model_name="gpt-4o-2024-08-06",
            severity="info",
            locations=[("src/m1.py", 1)],
        )
    ]
    warn = results(harmless, {"by_severity": {"high": 2}})["nist-ai-rmf"]
    assert statuses(warn)["MS-2.7"] == "warning"
    failing = results(harmless, {"by_severity": {"critical": 1}})["nist-ai-rmf"]
    assert statuses(failing)["MS-2.7"] == "fail"
    assert statuses(results(harmless, {"by_severity": {"info": 1}})["nist-ai-rmf"])["MS-2.7"] == "pass"


def test_excessive_agency_follows_the_graph():
    agent = component(
        "agent_framework", "langchain", id="a1", version="1", severity="info", locations=[("src/a1.py", 1)]
    )
    tool = component(
        "tool", "http", id="t1", flags=["code_http_tools"], severity="info", locations=[("src/t1.py", 1)]
    )
    plain_tool = component("tool", "search", id="t2", severity="info", locations=[("src/t2.py", 1)])

    def llm06(components, edges):
        return statuses(results(components, relationships=edges)["owasp-llm-top10"])["LLM06"]

    assert llm06([agent, tool], [{"source": "a1", "target": "t1", "relation": "uses_tool"}]) == "fail"
    assert llm06([agent, tool], [{"source": "t1", "target": "a1", "relation": "uses_tool"}]) == "fail"
    assert llm06([agent, tool], [{"source": "a1", "target": "t1", "relation": "declares"}]) == "pass"
    assert llm06([agent, tool], []) == "pass"
    assert llm06([agent, plain_tool], [{"source": "a1", "target": "t2", "relation": "uses_tool"}]) == "pass"
    assert llm06([tool], [{"source": "a1", "target": "t1", "relation": "uses_tool"}]) == "not_applicable"


def test_empty_scan_gets_no_score():
    for framework in results([], {"total_components": 0}).values():
        by_status = statuses(framework)
        assert {c for c, s in by_status.items() if s == "manual"} == MANUAL[framework["id"]]
        assert set(by_status.values()) <= {"not_applicable", "manual"}, framework["id"]
        assert framework["score"] is None
        assert "No AI component" in framework["score_reason"]
        assert framework["coverage"] == {"evaluated": 0, "total": len(by_status)}
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
    many = [
        component(
            "tool",
            f"tool-{n}",
            id=f"x{n}",
            flags=["dangerous_code"],
            severity="info",
            locations=[(f"src/x{n}.py", 1)],
        )
        for n in range(30)
    ]
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
    assert compliance_score({"pass": 0, "fail": 0, "warning": 0, "not_applicable": 2}) is None
    assert compliance_score({"pass": 1, "fail": 1, "no_indicator": 4, "manual": 3}) == 50


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
                "assessment",
                "evidence_required",
                "applicability",
                "obligation",
            }
            assert (control["assessment"] == "manual") == bool(control["evidence_required"])


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
        (lambda d: d["controls"][0].update(assessment="manual"), "controls.0.evidence_required"),
        (
            lambda d: d["controls"][0].update(applicability={"roles": ["vendor"], "condition": "x"}),
            "controls.0.applicability.roles",
        ),
        (
            lambda d: d["controls"][0].update(obligation={"applies_from": "2026-13-01", "source": "x"}),
            "controls.0.obligation.applies_from",
        ),
        (
            lambda d: d["controls"][0].update(
                obligation={
                    "applies_from": "2026-08-02",
                    "source": "x",
                    "amendments": [{"date": "2025-11-19"}],
                }
            ),
            "controls.0.obligation.amendments.0.note",
        ),
    ],
)
def test_bad_framework_data_is_rejected_with_its_path(mutate, path):
    data = yaml.safe_load(MINIMAL_FRAMEWORK)
    mutate(data)
    with pytest.raises(FrameworkDataError) as raised:
        parse_framework(data, "acme.yaml")
    assert path in raised.value.errors, raised.value.errors

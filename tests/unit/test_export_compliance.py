"""Exports carry what an auditor needs: each control's status, the evidence behind manual controls
and the coverage of each score; CycloneDX as 1.6 ``definitions`` and ``declarations``, valid against
the official 1.6 schema."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from common.compliance import evaluate_frameworks
from common.compliance.evidence import apply_evidence
from common.exporters import render
from tests.factories import component
from tests.unit.test_export_bundle import make_bundle

NOW = datetime(2026, 9, 1, tzinfo=UTC)
ONE_CALL = [
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
LOGGING = {
    "id": "ev-logging",
    "framework_id": "eu-ai-act",
    "control_id": "ART12",
    "note": "Logging design v2; logs kept 12 months",
    "filename": "logging.pdf",
    "content_type": "application/pdf",
    "size_bytes": 10,
    "sha256": "a" * 64,
    "attested_by": "dpo@example.com",
    "attested_at": "2026-08-01T09:00:00+00:00",
    "expires_at": "2027-08-01T00:00:00+00:00",
}
LAPSED = {
    **LOGGING,
    "id": "ev-docs",
    "framework_id": "iso-iec-42001",
    "control_id": "A.6.2.7",
    "note": "Technical documentation v1",
    "filename": None,
    "sha256": None,
    "expires_at": "2026-06-30T00:00:00+00:00",
}


def bundle_with(components, attestations=()):
    result = evaluate_frameworks(components, {}, [], on=date(2026, 9, 1))
    bundle = make_bundle(components)
    bundle["compliance"] = apply_evidence(result, list(attestations), NOW)
    return bundle


def control(bundle, framework_id, control_id):
    framework = next(f for f in bundle["compliance"]["frameworks"] if f["id"] == framework_id)
    return next(c for c in framework["controls"] if c["id"] == control_id)


def test_evidence_satisfies_a_manual_control_until_it_expires():
    bundle = bundle_with(ONE_CALL, [LOGGING, LAPSED])
    art12, docs = control(bundle, "eu-ai-act", "ART12"), control(bundle, "iso-iec-42001", "A.6.2.7")
    assert (art12["status"], art12["attestation"]["expired"]) == ("pass", False)
    assert "dpo@example.com" in art12["message"]
    assert (docs["status"], docs["attestation"]["expired"]) == ("manual", True)
    assert "Evidence expired on 2026-06-30" in docs["message"]
    eu = next(f for f in bundle["compliance"]["frameworks"] if f["id"] == "eu-ai-act")
    without = next(f for f in bundle_with(ONE_CALL)["compliance"]["frameworks"] if f["id"] == "eu-ai-act")
    assert eu["coverage"]["evaluated"] == without["coverage"]["evaluated"] + 1
    later = apply_evidence(
        evaluate_frameworks(ONE_CALL, {}, [], on=date(2026, 9, 1)),
        [LOGGING],
        datetime(2027, 8, 2, tzinfo=UTC),
    )
    art12_later = next(c for c in later["frameworks"][0]["controls"] if c["id"] == "ART12")
    assert (art12_later["status"], art12_later["attestation"]["expired"]) == ("manual", True)


def test_cyclonedx_declares_the_attestations_and_validates_against_1_6():
    data = render("cyclonedx", bundle_with(ONE_CALL, [LOGGING, LAPSED]))
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(data.decode()) is None
    document = json.loads(data)
    requirements = {r["bom-ref"] for s in document["definitions"]["standards"] for r in s["requirements"]}
    declared = document["declarations"]
    claims = {c["bom-ref"]: c for c in declared["claims"]}
    evidence = {e["bom-ref"]: e for e in declared["evidence"]}
    assessors = {a["bom-ref"] for a in declared["assessors"]}
    for attestation in declared["attestations"]:
        assert attestation["assessor"] in assessors
        for entry in attestation["map"]:
            assert entry["requirement"] in requirements
            assert set(entry["claims"]) <= set(claims)
    by_person = {
        a["summary"].split(" attested")[0]: a
        for a in declared["attestations"]
        if "attested by" in a["summary"]
    }
    assert by_person["eu-ai-act ART12"]["map"][0]["conformance"]["score"] == 1.0
    assert by_person["iso-iec-42001 A.6.2.7"]["map"][0]["conformance"]["score"] == 0.0
    assert claims["claim:eu-ai-act:ART12"]["evidence"] == ["evidence:ev-logging"]
    logging = evidence["evidence:ev-logging"]
    assert (logging["expires"], logging["author"]["name"]) == ("2027-08-01T00:00:00+00:00", "dpo@example.com")
    assert "a" * 64 in logging["data"][0]["name"]
    scan_view = next(a for a in declared["attestations"] if a["assessor"] == "assessor:trusera-scan")
    assert "controls evaluated" in scan_view["summary"]
    unscored = [e for e in scan_view["map"] if "score" not in e["conformance"]]
    assert unscored and all("not evaluated" in e["conformance"]["rationale"] for e in unscored)


def test_markdown_and_html_show_statuses_evidence_and_coverage():
    bundle = bundle_with(ONE_CALL, [LOGGING])
    eu = next(f for f in bundle["compliance"]["frameworks"] if f["id"] == "eu-ai-act")
    coverage = f"{eu['coverage']['evaluated']}/{eu['coverage']['total']}"
    markdown = render("markdown", bundle).decode()
    assert "| Evaluated |" in markdown and coverage in markdown
    assert "no\\_indicator" in markdown and "| manual |" in markdown  # Markdown-escaped: renders no_indicator
    assert "attestation ev-logging by dpo@example.com" in markdown
    html = render("html", bundle).decode()
    assert f"{coverage} controls evaluated" in html
    assert "status-no_indicator" in html and "attestation ev-logging" in html


def test_an_empty_scan_exports_no_score():
    bundle = bundle_with([])
    markdown = render("markdown", bundle).decode()
    assert "no score: No AI component was inventoried" in markdown
    data = render("cyclonedx", bundle)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(data.decode()) is None
    summaries = [a["summary"] for a in json.loads(data)["declarations"]["attestations"]]
    assert all("no score" in summary for summary in summaries)


def test_junit_never_passes_a_control_that_was_not_evaluated():
    from lxml import etree

    root = etree.fromstring(render("junit", bundle_with(ONE_CALL)))
    cases = {case.get("name"): case for case in root.iter("testcase")}
    art12 = next(case for name, case in cases.items() if name.startswith("ART12 "))
    llm01 = next(case for name, case in cases.items() if name.startswith("LLM01 "))
    assert art12.find("skipped").get("message").startswith("manual:")
    assert llm01.find("skipped").get("message").startswith("no_indicator:")

"""Compliance results an auditor can defend, on the real path: scans of fixture trees by a real worker
→ ``compliance`` queue → stored results → ``GET /scans/:id/compliance`` with today's evidence applied →
``exports`` queue → downloaded files; the AI system profile deciding obligations on re-evaluation; and
the ``evidence_expiring`` alert rule evaluated by the ``alerts`` worker."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.export_validators import check_export
from tests.helpers import register_user, wait_for
from tests.pipeline.test_compliance_pipeline import (
    completed_runs,
    get,
    post,
    wait_for_completed_scan,
    write_project,
)
from tests.pipeline.test_exports_pipeline import download, finished_export, request_export

pytestmark = pytest.mark.usefixtures("celery_worker")

API = "/api/v1"
PROCESS_CONTROLS = {
    ("eu-ai-act", "ART12"),
    ("iso-iec-42001", "A.4.3"),
    ("iso-iec-42001", "A.6.2.6"),
    ("iso-iec-42001", "A.6.2.7"),
    ("iso-iec-42001", "A.10.2"),
    ("nist-ai-rmf", "GV-6.1"),
}
WEAK_PROXIES = {
    ("eu-ai-act", "ART5"),
    ("eu-ai-act", "ART6"),
    ("owasp-llm-top10", "LLM01"),
    ("owasp-llm-top10", "LLM07"),
    ("owasp-llm-top10", "LLM09"),
}


def in_seconds(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def evaluated_scan(client, user, root) -> str:
    scan_id = post(client, user, None, "/scans", {"target": str(root)}, status=202)["id"]
    wait_for_completed_scan(client, user, None, scan_id)
    completed_runs(client, user, None, scan_id, 1)
    return scan_id


def controls_of(compliance: dict) -> dict[tuple[str, str], dict]:
    return {(f["id"], c["id"]): c for f in compliance["frameworks"] for c in f["controls"]}


def reevaluate(client, user, scan_id: str) -> dict:
    run = post(client, user, None, f"/scans/{scan_id}/evaluate", {}, status=202)

    def finished():
        body = get(client, user, None, f"/compliance/evaluations/{run['id']}")
        return body if body["status"] in ("completed", "failed") else None

    assert wait_for(finished, timeout=60)["status"] == "completed"
    return get(client, user, None, f"/scans/{scan_id}/compliance")


def test_an_empty_scan_gets_no_score(client, scan_root):
    user = register_user(client)
    (scan_root / "README.md").write_text("No AI here.\n")
    scan_id = evaluated_scan(client, user, scan_root)
    compliance = get(client, user, None, f"/scans/{scan_id}/compliance")
    assert len(compliance["frameworks"]) == 4
    for framework in compliance["frameworks"]:
        assert framework["score"] is None, framework["id"]
        assert "No AI component" in framework["score_reason"]
        assert framework["coverage"] == {"evaluated": 0, "total": len(framework["controls"])}
        assert {c["status"] for c in framework["controls"]} <= {"not_applicable", "manual"}
    markdown = download(
        client, user, finished_export(client, user, request_export(client, user, scan_id, "markdown")["id"])
    )
    assert "no score: No AI component was inventoried" in markdown.decode()


def test_one_pinned_call_gets_no_pass_on_a_process_control_until_evidence_then_it_expires(client, scan_root):
    user = register_user(client)
    (scan_root / "requirements.txt").write_text("openai==1.40.0\n")  # declared: no shadow-AI indicator
    (scan_root / "app.py").write_text(
        "import openai\n\n"
        "client = openai.OpenAI()\n"
        'reply = client.chat.completions.create(model="gpt-4o-2024-08-06", messages=[])\n'
    )
    scan_id = evaluated_scan(client, user, scan_root)
    before = get(client, user, None, f"/scans/{scan_id}/compliance")
    controls = controls_of(before)
    assert any(c["status"] == "pass" for c in controls.values())  # the scan does show some things
    for key in PROCESS_CONTROLS:
        assert controls[key]["status"] == "manual", (key, controls[key])
        assert controls[key]["message"].startswith(("Needs evidence", "Applies if"))
    for key in WEAK_PROXIES:
        assert controls[key]["status"] == "no_indicator", (key, controls[key])
    eu = next(f for f in before["frameworks"] if f["id"] == "eu-ai-act")
    assert eu["coverage"]["evaluated"] < eu["coverage"]["total"]

    # evidence satisfies the manual control at once, without re-evaluating the scan
    evidence = client.post(
        f"{API}/compliance/evidence",
        data={
            "framework_id": "eu-ai-act",
            "control_id": "ART12",
            "note": "Request logs kept 12 months in the SIEM",
            "expires_at": in_seconds(6),
            "file": (io.BytesIO(b"retention: 365d\n"), "logging.yaml", "text/plain"),
        },
        content_type="multipart/form-data",
        headers=user.headers(),
    )
    assert evidence.status_code == 201, evidence.json
    attested = get(client, user, None, f"/scans/{scan_id}/compliance")
    art12 = controls_of(attested)[("eu-ai-act", "ART12")]
    assert art12["status"] == "pass"
    assert art12["attestation"]["id"] == evidence.json["id"] and art12["attestation"]["expired"] is False
    assert art12["attestation"]["attested_by"] == user.email
    eu_attested = next(f for f in attested["frameworks"] if f["id"] == "eu-ai-act")
    assert eu_attested["coverage"]["evaluated"] == eu["coverage"]["evaluated"] + 1

    # the exports rendered by the worker carry the status, the evidence reference and the coverage
    exports = {
        name: request_export(client, user, scan_id, name) for name in ("cyclonedx", "markdown", "html")
    }
    files = {
        name: download(client, user, finished_export(client, user, e["id"])) for name, e in exports.items()
    }
    total = get(client, user, None, f"/scans/{scan_id}/components")["total"]
    cyclonedx = check_export("cyclonedx", files["cyclonedx"], components=total)
    declared = cyclonedx["declarations"]
    [person] = [a for a in declared["attestations"] if a["assessor"] != "assessor:trusera-scan"]
    assert person["map"] == [
        {
            "requirement": "requirement:eu-ai-act:ART12",
            "claims": ["claim:eu-ai-act:ART12"],
            "conformance": {"score": 1.0, "rationale": "Request logs kept 12 months in the SIEM"},
        }
    ]
    [proof] = declared["evidence"]
    assert (
        proof["bom-ref"] == f"evidence:{evidence.json['id']}"
        and proof["expires"] == evidence.json["expires_at"]
    )
    coverage = f"{eu_attested['coverage']['evaluated']}/{eu_attested['coverage']['total']}"
    markdown, html = files["markdown"].decode(), files["html"].decode()
    assert f"attestation {evidence.json['id']} by {user.email}" in markdown and coverage in markdown
    assert "no_indicator" in markdown and "| manual |" in markdown
    assert f"attestation {evidence.json['id']}" in html and f"{coverage} controls evaluated" in html

    # once it expires the control is manual again, and the expiry is shown
    time.sleep(
        max(0.0, (datetime.fromisoformat(evidence.json["expires_at"]) - datetime.now(UTC)).total_seconds())
    )
    expired = controls_of(get(client, user, None, f"/scans/{scan_id}/compliance"))[("eu-ai-act", "ART12")]
    assert expired["status"] == "manual" and expired["attestation"]["expired"] is True
    assert "Evidence expired on" in expired["message"]


def test_the_profile_switches_article_11_from_warning_to_fail(client, scan_root):
    user = register_user(client)
    write_project(scan_root)  # an unpinned deepseek-chat call: incomplete Annex IV inventory
    scan_id = evaluated_scan(client, user, scan_root)
    art11 = controls_of(get(client, user, None, f"/scans/{scan_id}/compliance"))[("eu-ai-act", "ART11")]
    assert art11["status"] == "warning" and art11["applicability"] == "unknown"
    assert art11["message"].startswith("Applies if the organization is the provider of a high-risk AI system")
    assert (art11["applies_from"], art11["amendments"][0]["date"]) == ("2026-08-02", "2025-11-19")

    body = {
        "role": "provider",
        "risk_class": "high_risk",
        "annex_iii_area": "employment",
        "places_gpai_model": False,
    }
    organization_wide = post(client, user, None, "/compliance/profiles", body)
    after = reevaluate(client, user, scan_id)
    controls = controls_of(after)
    assert (
        controls[("eu-ai-act", "ART11")]["status"],
        controls[("eu-ai-act", "ART11")]["applicability"],
    ) == (
        "fail",
        "applies",
    )
    assert controls[("eu-ai-act", "ART15")]["status"] == "fail"
    assert controls[("eu-ai-act", "ART53")]["status"] == "not_applicable"
    assert after["profile"]["id"] == organization_wide["id"]

    # a profile of this target overrides the organization-wide one
    post(client, user, None, "/compliance/profiles", {"target": str(scan_root), "role": "deployer"})
    deployer = reevaluate(client, user, scan_id)
    assert controls_of(deployer)[("eu-ai-act", "ART11")]["status"] == "not_applicable"
    assert deployer["profile"]["role"] == "deployer"


def test_an_evidence_expiring_rule_fires_through_the_alerts_worker(client, scan_root):
    user = register_user(client)
    rule = post(
        client,
        user,
        None,
        "/alert-rules",
        {
            "name": "Evidence to renew",
            "trigger": "evidence_expiring",
            "params": {"days": 30},
            "webhook_ids": [],
        },
    )
    renewed_later = {"framework_id": "iso-iec-42001", "control_id": "A.10.2", "note": "Supplier agreements"}
    post(client, user, None, "/compliance/evidence", {**renewed_later, "expires_at": in_seconds(90 * 86400)})
    soon = post(
        client,
        user,
        None,
        "/compliance/evidence",
        {
            "framework_id": "nist-ai-rmf",
            "control_id": "GV-6.1",
            "note": "TPRM policy",
            "expires_at": in_seconds(10 * 86400),
        },
    )
    write_project(scan_root)
    scan_id = evaluated_scan(client, user, scan_root)
    [alert] = wait_for(lambda: get(client, user, None, f"/alerts?rule_id={rule['id']}")["items"], timeout=60)
    assert alert["scan_id"] == scan_id and alert["severity"] == "medium"
    assert "1 compliance attestation expired or expiring within 30 days" in alert["title"]
    assert [a["id"] for a in alert["details"]["attestations"]] == [soon["id"]]

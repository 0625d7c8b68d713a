"""CycloneDX 1.6 ``definitions`` and ``declarations``: compliance results as attestations.

Each framework is a standard whose controls are its requirements. Two assessors speak: the
scan itself (a self-assessment of the controls it evaluated, conformance 1 for pass, 0.5 for a
warning, 0 for a failure) and each person who attested a manual control (conformance 1 while
the attestation is valid, 0 once it expired, its note and file digest as the evidence).
Controls that were not evaluated (``no_indicator``, ``manual`` without evidence,
``not_applicable``) are claims without a conformance score, their status as the rationale, so an
auditor's tool sees what is not known rather than a pass. Each framework's score and coverage
are in its attestation's summary.
"""

from __future__ import annotations

from common.exporters.bundle import coverage_text, score_text

SCAN_ASSESSOR = "assessor:trusera-scan"
CONFORMANCE = {"pass": 1.0, "warning": 0.5, "fail": 0.0}


def _requirement_ref(framework: dict, control: dict) -> str:
    return f"requirement:{framework['id']}:{control['id']}"


def _standard(framework: dict) -> dict:
    standard = {
        "bom-ref": f"standard:{framework['id']}",
        "name": framework["name"],
        "version": str(framework.get("version") or ""),
        "requirements": [
            {
                "bom-ref": _requirement_ref(framework, control),
                "identifier": control["id"],
                "title": control["title"],
                "text": control.get("reference") or control["title"],
            }
            for control in framework.get("controls") or []
        ],
    }
    if framework.get("source"):
        standard["externalReferences"] = [{"type": "documentation", "url": framework["source"]}]
    return standard


def _claim(framework: dict, control: dict, target: str) -> dict:
    claim = {
        "bom-ref": f"claim:{framework['id']}:{control['id']}",
        "target": target,
        "predicate": f"{control['id']} {control['title']}: {control['status']}",
        "reasoning": control.get("message") or control["status"],
    }
    attestation = control.get("attestation")
    if attestation:
        claim["evidence"] = [f"evidence:{attestation['id']}"]
    return claim


def _evidence(attestation: dict) -> dict:
    evidence = {
        "bom-ref": f"evidence:{attestation['id']}",
        "propertyName": f"trusera:attestation:{attestation['framework_id']}:{attestation['control_id']}",
        "description": attestation.get("note") or "",
        "created": attestation["attested_at"],
        "expires": attestation["expires_at"],
        "author": {"name": attestation["attested_by"]},
    }
    if attestation.get("filename"):
        evidence["data"] = [{"name": f"{attestation['filename']} (sha256 {attestation['sha256']})"}]
    return evidence


def _scan_map_entry(framework: dict, control: dict) -> dict:
    entry = {
        "requirement": _requirement_ref(framework, control),
        "claims": [f"claim:{framework['id']}:{control['id']}"],
    }
    if control["status"] in CONFORMANCE and not control.get("attestation"):
        entry["conformance"] = {
            "score": CONFORMANCE[control["status"]],
            "rationale": control.get("message") or "",
        }
    else:
        entry["conformance"] = {"rationale": f"{control['status']}: not evaluated by the scan"}
    return entry


def declarations(bundle: dict, target: str) -> tuple[dict, dict] | None:
    """(``definitions``, ``declarations``) for the bundle's compliance result; None without one."""
    frameworks = (bundle.get("compliance") or {}).get("frameworks") or []
    if not frameworks:
        return None
    assessors = {
        SCAN_ASSESSOR: {
            "bom-ref": SCAN_ASSESSOR,
            "thirdParty": False,
            "organization": {"name": "Trusera scan"},
        }
    }
    claims, evidence, attestations = [], [], []
    for framework in frameworks:
        controls = framework.get("controls") or []
        claims += [_claim(framework, control, target) for control in controls]
        coverage = coverage_text(framework)
        summary = f"{framework['name']} {framework.get('version') or ''}: score {score_text(framework)}"
        attestations.append(
            {
                "summary": summary + (f"; {coverage} controls evaluated" if coverage else ""),
                "assessor": SCAN_ASSESSOR,
                "map": [_scan_map_entry(framework, control) for control in controls],
            }
        )
        for control in controls:
            attestation = control.get("attestation")
            if not attestation:
                continue
            assessor = f"assessor:{attestation['attested_by']}"
            assessors.setdefault(
                assessor,
                {
                    "bom-ref": assessor,
                    "thirdParty": False,
                    "organization": {
                        "name": "Attesting organization",
                        "contact": [{"name": attestation["attested_by"]}],
                    },
                },
            )
            evidence.append(_evidence(attestation))
            expired = attestation.get("expired")
            attestations.append(
                {
                    "summary": f"{framework['id']} {control['id']} attested by {attestation['attested_by']}"
                    + (
                        f", expired {attestation['expires_at']}"
                        if expired
                        else f", valid until {attestation['expires_at']}"
                    ),
                    "assessor": assessor,
                    "map": [
                        {
                            "requirement": _requirement_ref(framework, control),
                            "claims": [f"claim:{framework['id']}:{control['id']}"],
                            "conformance": {
                                "score": 0.0 if expired else 1.0,
                                "rationale": attestation.get("note") or "",
                            },
                        }
                    ],
                }
            )
    definitions = {"standards": [_standard(framework) for framework in frameworks]}
    declared = {"assessors": list(assessors.values()), "attestations": attestations, "claims": claims}
    if evidence:
        declared["evidence"] = evidence
    return definitions, declared

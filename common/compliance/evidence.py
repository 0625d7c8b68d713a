"""Attested evidence over a stored evaluation: manual controls are met by people, until a date.

An evaluation is stored once per scan, but an attestation can be added or expire at any time,
so evidence is applied when the result is read (the API and the exports), never baked into it.
A manual control with a current attestation is ``pass``; one whose attestations all expired
stays ``manual`` and shows the expired one. A manual control the scan raised indicators on
stays a ``warning`` with its attestation attached: the evidence does not make the indicators
go away. Scores and coverage are then recounted.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from common.compliance.evaluator import score_summary


def current_attestation(attestations: list[dict], now: datetime) -> dict | None:
    """The attestation that speaks for a control: the valid one expiring last, else the latest to expire.

    ``expired`` says which it is.
    """
    if not attestations:
        return None
    latest = max(attestations, key=lambda a: (expires_at(a), a["attested_at"] or ""))
    return {**latest, "expired": expires_at(latest) <= now}


def apply_evidence(result: dict, attestations: list[dict], now: datetime | None = None) -> dict:
    """A copy of the compliance ``result`` with attestations applied to its manual controls."""
    now = now or datetime.now(UTC)
    by_control: dict[tuple[str, str], list[dict]] = {}
    for attestation in attestations:
        by_control.setdefault((attestation["framework_id"], attestation["control_id"]), []).append(
            attestation
        )
    applied = copy.deepcopy(result)
    for framework in applied.get("frameworks", []):
        for control in framework.get("controls", []):
            if control.get("assessment") != "manual":
                continue
            attestation = current_attestation(by_control.get((framework["id"], control["id"]), []), now)
            control["attestation"] = attestation
            if attestation is None or control["status"] == "not_applicable":
                continue
            if attestation["expired"]:
                control["message"] = f"{control['message']} Evidence expired on {attestation['expires_at']}."
            elif control["status"] == "manual":
                control["status"] = "pass"
                control["message"] = (
                    f"Attested by {attestation['attested_by']} on {attestation['attested_at']}, "
                    f"valid until {attestation['expires_at']}: {attestation['note']}"
                )
            else:
                control["message"] = (
                    f"{control['message']} Evidence attested by {attestation['attested_by']}, "
                    f"valid until {attestation['expires_at']}."
                )
        framework.update(
            score_summary(
                framework.get("controls", []), inventory_empty=framework.get("inventory_empty", False)
            )
        )
    return applied


def expires_at(attestation: dict) -> datetime:
    moment = datetime.fromisoformat(attestation["expires_at"])
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

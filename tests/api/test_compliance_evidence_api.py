"""``/compliance/profiles`` and ``/compliance/evidence``: the AI system profile (editors change it, any
member reads it, every change audited) and attestations for manual controls (a note, an optional
size-limited file, the attester, an expiry date)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import time
from datetime import UTC, datetime, timedelta

from common.config import get_settings
from tests.api.test_compliance_api import team
from tests.helpers import register_user

PROFILES = "/api/v1/compliance/profiles"
EVIDENCE = "/api/v1/compliance/evidence"


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def test_profile_is_changed_by_editors_read_by_members_and_audited(client):
    org_id, users = team(client)
    editor, analyst, viewer = users["editor"], users["analyst"], users["viewer"]
    body = {"role": "provider", "risk_class": "high_risk", "annex_iii_area": "employment"}
    assert client.post(PROFILES, json=body, headers=analyst.headers(org_id)).status_code == 403
    created = client.post(PROFILES, json=body, headers=editor.headers(org_id))
    assert created.status_code == 201, created.json
    profile = created.json
    assert created.headers["Location"].endswith(profile["id"])
    assert (profile["target"], profile["role"], profile["places_gpai_model"]) == ("", "provider", None)
    assert client.post(PROFILES, json={"role": "deployer"}, headers=editor.headers(org_id)).status_code == 409
    listed = client.get(PROFILES, headers=viewer.headers(org_id)).json
    assert [item["id"] for item in listed["items"]] == [profile["id"]]

    change = {"places_gpai_model": True}
    assert (
        client.put(f"{PROFILES}/{profile['id']}", json=change, headers=viewer.headers(org_id)).status_code
        == 403
    )
    updated = client.put(f"{PROFILES}/{profile['id']}", json=change, headers=editor.headers(org_id))
    assert updated.status_code == 200 and updated.json["places_gpai_model"] is True

    trail = client.get("/api/v1/audit-log?per_page=100", headers=users["admin"].headers(org_id)).json["items"]
    entry = next(e for e in trail if e["action"] == "compliance.profile.update")
    assert entry["target_id"] == profile["id"]
    assert entry["details"]["before"]["places_gpai_model"] is None
    assert entry["details"]["after"]["places_gpai_model"] is True


def test_profile_values_are_validated(client):
    org_id, users = team(client, roles=("editor",))
    headers = users["editor"].headers(org_id)
    for body, field in (
        ({"role": "vendor"}, "role"),
        ({"risk_class": "high_risk"}, "annex_iii_area"),
        ({"risk_class": "minimal", "annex_iii_area": "education"}, "annex_iii_area"),
        ({"annex_iii_area": "astrology", "risk_class": "high_risk"}, "annex_iii_area"),
        ({"places_gpai_model": "maybe"}, "places_gpai_model"),
    ):
        response = client.post(PROFILES, json=body, headers=headers)
        assert response.status_code == 422, body
        assert field in str(response.json["errors"]), (body, response.json)
    target = client.post(PROFILES, json={"target": "/srv/hr-bot", "role": "deployer"}, headers=headers)
    assert target.status_code == 201
    organization_wide = client.post(PROFILES, json={"role": "provider"}, headers=headers).json
    path = f"{PROFILES}/{organization_wide['id']}"
    assert client.put(path, json={"risk_class": "high_risk"}, headers=headers).status_code == 422
    assert client.get(path, headers=headers).json["risk_class"] is None
    high_risk = {"risk_class": "high_risk", "annex_iii_area": "justice_democratic_processes"}
    assert client.put(path, json=high_risk, headers=headers).status_code == 200
    assert client.put(path, json={"risk_class": "limited"}, headers=headers).status_code == 422
    limited = client.put(path, json={"risk_class": "limited", "annex_iii_area": None}, headers=headers)
    assert (limited.status_code, limited.json["annex_iii_area"]) == (200, None)


def test_profiles_and_evidence_of_another_organization_are_not_found(client):
    org_id, users = team(client, roles=("editor",))
    other = register_user(client)
    profile = client.post(PROFILES, json={"role": "provider"}, headers=users["editor"].headers(org_id)).json
    evidence = client.post(
        EVIDENCE,
        json={
            "framework_id": "eu-ai-act",
            "control_id": "ART12",
            "note": "Logs kept",
            "expires_at": in_days(30),
        },
        headers=users["editor"].headers(org_id),
    ).json
    for path in (f"{PROFILES}/{profile['id']}", f"{EVIDENCE}/{evidence['id']}"):
        assert client.get(path, headers=other.headers()).status_code == 404
        assert client.delete(path, headers=other.headers()).status_code == 404
    assert client.get(PROFILES, headers=other.headers()).json["items"] == []
    assert client.get(EVIDENCE, headers=other.headers()).json["items"] == []


def test_evidence_with_a_file_is_attested_by_the_caller_and_downloadable(client):
    org_id, users = team(client, roles=("editor", "viewer"))
    editor = users["editor"]
    document = b"%PDF-1.7 logging design and retention: 12 months\n"
    response = client.post(
        EVIDENCE,
        data={
            "framework_id": "iso-iec-42001",
            "control_id": "A.6.2.7",
            "note": "Technical documentation v3, approved by the AI board",
            "expires_at": in_days(180),
            "file": (io.BytesIO(document), "../reports/tech doc.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
        headers=editor.headers(org_id),
    )
    assert response.status_code == 201, response.json
    evidence = response.json
    assert evidence["attested_by"] == editor.email
    assert evidence["sha256"] == hashlib.sha256(document).hexdigest()
    assert (evidence["size_bytes"], evidence["filename"], evidence["expired"]) == (
        len(document),
        "tech doc.pdf",
        False,
    )
    download = client.get(evidence["file_url"], headers=users["viewer"].headers(org_id))
    assert download.status_code == 200 and download.data == document
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment;")

    html = client.post(
        EVIDENCE,
        data={
            "framework_id": "iso-iec-42001",
            "control_id": "A.10.2",
            "note": "Supplier agreements",
            "expires_at": in_days(10),
            "file": (io.BytesIO(b"<script>alert(1)</script>"), "x.html", "text/html"),
        },
        content_type="multipart/form-data",
        headers=editor.headers(org_id),
    ).json
    served = client.get(html["file_url"], headers=editor.headers(org_id))
    assert served.headers["Content-Type"] == "application/octet-stream"

    no_file = client.post(
        EVIDENCE,
        json={
            "framework_id": "nist-ai-rmf",
            "control_id": "GV-6.1",
            "note": "TPRM policy",
            "expires_at": in_days(5),
        },
        headers=editor.headers(org_id),
    ).json
    assert no_file["file_url"] is None
    assert client.get(f"{EVIDENCE}/{no_file['id']}/file", headers=editor.headers(org_id)).status_code == 404


def test_evidence_is_refused_for_automated_or_unknown_controls_and_past_dates(client):
    org_id, users = team(client, roles=("analyst", "editor"))
    headers = users["editor"].headers(org_id)
    good = {"framework_id": "eu-ai-act", "control_id": "ART12", "note": "Logs", "expires_at": in_days(30)}
    assert client.post(EVIDENCE, json=good, headers=users["analyst"].headers(org_id)).status_code == 403
    for change, field in (
        ({"control_id": "ART11"}, "control_id"),  # automated: the scan decides it
        ({"framework_id": "sox"}, "framework_id"),
        ({"expires_at": in_days(-1)}, "expires_at"),
        ({"expires_at": "next year"}, "expires_at"),
        ({"note": ""}, "note"),
    ):
        response = client.post(EVIDENCE, json={**good, **change}, headers=headers)
        assert response.status_code == 422, change
        assert field in response.json["errors"], (change, response.json)
    assert (
        client.post(EVIDENCE, data="[]", content_type="application/json", headers=headers).status_code == 422
    )


def test_an_evidence_file_over_the_limit_is_refused(client, monkeypatch):
    org_id, users = team(client, roles=("editor",))
    small = dataclasses.replace(get_settings(), evidence_max_bytes=1024)
    monkeypatch.setattr("web.api.control_evidence.get_settings", lambda: small)
    response = client.post(
        EVIDENCE,
        data={
            "framework_id": "eu-ai-act",
            "control_id": "ART12",
            "note": "Logs",
            "expires_at": in_days(30),
            "file": (io.BytesIO(b"x" * 1025), "logs.txt", "text/plain"),
        },
        content_type="multipart/form-data",
        headers=users["editor"].headers(org_id),
    )
    assert response.status_code == 413
    assert "EVIDENCE_MAX_BYTES" in response.json["message"]
    assert client.get(EVIDENCE, headers=users["editor"].headers(org_id)).json["total"] == 0


def test_expired_evidence_is_listed_as_expired(client):
    org_id, users = team(client, roles=("editor",))
    headers = users["editor"].headers(org_id)
    body = {
        "framework_id": "eu-ai-act",
        "control_id": "ART12",
        "note": "Logs",
        "expires_at": in_days(0.00002),
    }
    evidence = client.post(EVIDENCE, json=body, headers=headers).json
    assert evidence["expired"] is False
    later = datetime.fromisoformat(evidence["expires_at"]) + timedelta(seconds=1)
    time.sleep(max(0.0, (later - datetime.now(UTC)).total_seconds()))
    assert client.get(f"{EVIDENCE}/{evidence['id']}", headers=headers).json["expired"] is True
    assert [e["id"] for e in client.get(f"{EVIDENCE}?expired=true", headers=headers).json["items"]] == [
        evidence["id"]
    ]
    assert client.get(f"{EVIDENCE}?expired=false", headers=headers).json["items"] == []
    assert client.delete(f"{EVIDENCE}/{evidence['id']}", headers=headers).status_code == 204

"""Evaluations an organization asks for: each is a job on the ``compliance`` queue every organization shares.

Before, any analyst could queue ``POST /scans/:id/evaluate`` at the request rate limit, which counts per
principal: each API key of theirs had its own 200 a minute, and keys are created five a minute with no
total. Every other organization's evaluation after a scan (and the alerts and exports waiting on it) queued
behind them. Now an organization has at most ``EVALUATIONS_IN_FLIGHT_PER_ORG`` of them queued or running.
"""

from __future__ import annotations

import dataclasses

import pytest

from common.config import get_settings
from common.db import session_scope
from common.models.compliance import EvaluationRun
from tests.factories import component, make_scan
from tests.helpers import flooding_organization, register_user, wait_for

API = "/api/v1"


def _limit(monkeypatch, in_flight: int) -> None:
    small = dataclasses.replace(get_settings(), evaluations_in_flight_per_org=in_flight)
    monkeypatch.setattr("web.api.scan_compliance.get_settings", lambda: small)


def _evaluate(client, headers: dict, scan_id: str):
    return client.post(f"{API}/scans/{scan_id}/evaluate", headers=headers)


def test_api_keys_and_members_cannot_queue_evaluations_past_the_organizations_limit(client, monkeypatch):
    _limit(monkeypatch, 3)
    monkeypatch.setattr("web.core.enqueueing.enqueue", lambda *_a, **_k: "task-id")  # no worker drains
    admin, org_id, analyst, keys = flooding_organization(client, 4)
    scan_id = make_scan(org_id, components=[component("llm_provider", "openai")])
    with session_scope() as session:  # the run after a scan is the scans' to bound, not counted here
        session.add(EvaluationRun(organization_id=org_id, scan_id=scan_id, trigger="scan"))
    admitted = [_evaluate(client, key, scan_id) for key in keys[:3]]
    assert [r.status_code for r in admitted] == [202, 202, 202]
    for headers in (keys[3], analyst.headers(org_id), admin.headers(org_id)):  # each its own rate window
        refused = _evaluate(client, headers, scan_id)
        assert refused.status_code == 429, refused.json
        assert int(refused.headers["Retry-After"]) >= 9
        assert "EVALUATIONS_IN_FLIGHT_PER_ORG" in refused.json["message"]
    with session_scope() as session:
        assert session.query(EvaluationRun).filter_by(organization_id=org_id, trigger="manual").count() == 3
    other = register_user(client)  # another organization is not held up
    assert _evaluate(client, other.headers(), make_scan(other.org_id)).status_code == 202


@pytest.mark.usefixtures("celery_worker")
def test_a_slot_is_free_again_once_the_worker_has_evaluated(client, monkeypatch):
    _limit(monkeypatch, 1)
    user = register_user(client)
    scan_id = make_scan(user.org_id, components=[component("llm_provider", "openai")])
    first = _evaluate(client, user.headers(), scan_id)
    assert first.status_code == 202
    location = first.headers["Location"]

    def settled():
        return client.get(location, headers=user.headers()).json["status"] in ("completed", "failed")

    if not settled():  # a quick worker may have finished already
        assert _evaluate(client, user.headers(), scan_id).status_code == 429
    wait_for(settled, timeout=60)
    assert client.get(location, headers=user.headers()).json["status"] == "completed"
    assert _evaluate(client, user.headers(), scan_id).status_code == 202

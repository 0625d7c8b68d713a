"""Each repository is its own baseline and its own alert target, on the real path: ``POST /scans/import``
(what CI uploads) → ``ingest`` → ``compliance`` and ``alerts`` workers.

An upload's ``target`` is ``upload:<format>`` and a repository scan has none, so comparing by
``target`` (else ``n8n_url``) took every repository's uploads for scans of one target: a member who
uploaded a decoy holding a new provider made it "not new" in the next scan of another repository, and
one repository's open alert swallowed the other repositories' findings of the same rule (counted as
occurrences, no ``alert.triggered``).
"""

from __future__ import annotations

import secrets

import pytest

from tests.factories import component
from tests.helpers import register_user, wait_for
from tests.pipeline.test_alerts_pipeline import alerts_of, rule, seen_by
from tests.pipeline.test_baseline_pipeline import NO_NEW_PROVIDERS
from tests.pipeline.test_compliance_pipeline import completed_runs, get, post, wait_for_completed_scan

pytestmark = pytest.mark.usefixtures("celery_worker")

OPENAI = component("llm_provider", "openai", severity="medium", risk=40)
ANTHROPIC = component("llm_provider", "anthropic", severity="high", risk=65)
LEAKED_KEY = component("endpoint", "api.example.com", severity="critical", risk=92)


def repository() -> str:
    return f"https://git.example.com/acme/{secrets.token_hex(4)}.git"


def upload(client, user, org_id, repository_url: str, components: list[dict]) -> str:
    """A CI upload of ``repository_url``'s result, completed by the workers; its scan id."""
    response = client.post(
        "/api/v1/scans/import",
        json={"components": components, "relationships": [], "warnings": [], "files_scanned": 1},
        query_string={"repository_url": repository_url, "branch": "main"},
        headers=user.headers(org_id),
    )
    assert response.status_code == 202, response.json
    wait_for_completed_scan(client, user, org_id, response.json["id"])
    return response.json["id"]


def test_an_upload_of_another_repository_is_not_the_baseline(client):
    user = register_user(client)
    org_id = post(client, user, None, "/organizations", {"name": "Gated"})["id"]
    post(client, user, org_id, "/policies", NO_NEW_PROVIDERS)
    guarded, decoy = repository(), repository()

    first = upload(client, user, org_id, guarded, [OPENAI])
    completed_runs(client, user, org_id, first, 1)
    decoyed = upload(client, user, org_id, decoy, [OPENAI, ANTHROPIC])
    completed_runs(client, user, org_id, decoyed, 1)
    later = upload(client, user, org_id, guarded, [OPENAI, ANTHROPIC])
    completed_runs(client, user, org_id, later, 1)

    [evaluation] = get(client, user, org_id, f"/scans/{later}/evaluations")["items"]
    violations = get(client, user, org_id, f"/scans/{later}/violations")["items"]
    assert evaluation["passed"] is False, evaluation
    assert len(violations) == 1 and "anthropic" in violations[0]["message"], violations
    [decoy_evaluation] = get(client, user, org_id, f"/scans/{decoyed}/evaluations")["items"]
    assert decoy_evaluation["passed"] is True  # a repository's first upload is its own baseline


def test_each_repository_opens_its_own_alert(client):
    user = register_user(client)
    org_id = user.org_id
    rule_id = rule(client, user, "severity_at_least", {"severity": "high"})
    first_repository, second_repository = repository(), repository()

    first = upload(client, user, org_id, first_repository, [LEAKED_KEY])
    wait_for(lambda: seen_by(rule_id, first), timeout=30)
    second = upload(client, user, org_id, second_repository, [LEAKED_KEY])
    wait_for(lambda: seen_by(rule_id, second), timeout=30)

    alerts = alerts_of(rule_id)
    assert [(a.scan_id, a.occurrences) for a in alerts] == [(first, 1), (second, 1)]
    assert [a.target for a in alerts] == [first_repository, second_repository]

"""Each repository is its own baseline and its own alert target, on the real path: ``POST /scans/import``
(what CI uploads) → ``ingest`` → ``compliance`` and ``alerts`` workers.

An upload's ``target`` is ``upload:<format>`` and a repository scan has none, so comparing by
``target`` (else ``n8n_url``) took every repository's uploads for scans of one target: a member who
uploaded a decoy holding a new provider made it "not new" in the next scan of another repository, and
one repository's open alert swallowed the other repositories' findings of the same rule (counted as
occurrences, no ``alert.triggered``).

An upload's repository is its sender's word: another member's upload naming a guarded repository is no
baseline for the guarded repository's CI key, nor a session upload for a platform-run scan.
"""

from __future__ import annotations

import secrets

import pytest

from common.db import session_scope
from common.models import Scan
from tests.factories import component
from tests.helpers import add_member, post_result, register_user, wait_for
from tests.pipeline.test_alerts_pipeline import alerts_of, rule, seen_by
from tests.pipeline.test_baseline_pipeline import NO_NEW_PROVIDERS
from tests.pipeline.test_compliance_pipeline import completed_runs, get, post, wait_for_completed_scan

pytestmark = pytest.mark.usefixtures("celery_worker")

OPENAI = component("llm_provider", "openai", severity="medium", risk=40)
ANTHROPIC = component("llm_provider", "anthropic", severity="high", risk=65)
LEAKED_KEY = component("endpoint", "api.example.com", severity="critical", risk=92)


def repository() -> str:
    return f"https://git.example.com/acme/{secrets.token_hex(4)}.git"


def result(components: list[dict]) -> dict:
    return {"components": components, "relationships": [], "warnings": [], "files_scanned": 1}


def upload(client, user, org_id, repository_url: str, components: list[dict], headers=None) -> str:
    """An upload of ``repository_url``'s result (with ``headers``, else from ``user``'s session), completed
    by the workers and judged by the compliance worker; its scan id."""
    response = client.post(
        "/api/v1/scans/import",
        json=result(components),
        query_string={"repository_url": repository_url, "branch": "main"},
        headers=headers or user.headers(org_id),
    )
    assert response.status_code == 202, response.json
    wait_for_completed_scan(client, user, org_id, response.json["id"])
    completed_runs(client, user, org_id, response.json["id"], 1)
    return response.json["id"]


def judged(client, user, org_id, scan_id: str) -> tuple[bool, list[str]]:
    """Whether the scan passed the organization's policy (a provider new since its baseline), and the
    components it blocked on."""
    [evaluation] = get(client, user, org_id, f"/scans/{scan_id}/evaluations")["items"]
    violations = get(client, user, org_id, f"/scans/{scan_id}/violations")["items"]
    components = get(client, user, org_id, f"/scans/{scan_id}/components?per_page=100")["items"]
    names = {c["id"]: c["name"] for c in components}
    return evaluation["passed"], sorted(names[v["component_id"]] for v in violations)


def platform_scan(client, user, org_id, repository_url: str, components: list[dict]) -> str:
    """A clone of ``repository_url`` the platform scanned itself (its scanner posting the result)."""
    with session_scope() as session:
        scan = Scan(organization_id=org_id, repository_url=repository_url, status="running", stage="scanning")
        session.add(scan)
        session.flush()
        scan_id = scan.id
    assert post_result(client, scan_id, result(components)).status_code == 202
    wait_for_completed_scan(client, user, org_id, scan_id)
    completed_runs(client, user, org_id, scan_id, 1)
    return scan_id


def test_an_upload_of_another_repository_is_not_the_baseline(client):
    user = register_user(client)
    org_id = post(client, user, None, "/organizations", {"name": "Gated"})["id"]
    post(client, user, org_id, "/policies", NO_NEW_PROVIDERS)
    guarded, decoy = repository(), repository()

    upload(client, user, org_id, guarded, [OPENAI])
    decoyed = upload(client, user, org_id, decoy, [OPENAI, ANTHROPIC])
    later = upload(client, user, org_id, guarded, [OPENAI, ANTHROPIC])

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


def test_another_members_upload_is_no_baseline_for_the_repositorys_ci_key(client):
    admin, analyst = register_user(client), register_user(client)
    org_id = post(client, admin, None, "/organizations", {"name": "Guarded"})["id"]
    add_member(client, admin, org_id, analyst, "analyst")
    post(client, admin, org_id, "/policies", NO_NEW_PROVIDERS)
    new_provider = {"field": "type", "operator": "equals", "value": "llm_provider"}
    rule_id = post(
        client,
        admin,
        org_id,
        "/alert-rules",
        {"name": "new provider", "trigger": "new_component", "params": {"condition": new_provider}},
    )["id"]
    ci_key = post(client, admin, org_id, "/auth/api-key", {"name": "guarded CI"})["key"]
    ci = {"Authorization": f"Bearer {ci_key}"}
    guarded = repository()

    first = upload(client, admin, org_id, guarded, [OPENAI], headers=ci)
    decoy = upload(client, analyst, org_id, guarded, [OPENAI, ANTHROPIC])
    later = upload(client, admin, org_id, guarded, [OPENAI, ANTHROPIC], headers=ci)

    assert judged(client, admin, org_id, later) == (False, ["anthropic"])
    [alert] = wait_for(lambda: seen_by(rule_id, later), timeout=30)
    assert alert.details["previous_scan_id"] == first
    # The decoy's sender still has it as the baseline of their own next upload.
    again = upload(client, analyst, org_id, guarded, [OPENAI, ANTHROPIC])
    assert judged(client, analyst, org_id, again) == (True, [])
    assert decoy != again


def test_a_platform_run_scan_is_the_baseline_of_an_upload_and_no_upload_is_one_of_it(client):
    user = register_user(client)
    org_id = post(client, user, None, "/organizations", {"name": "Cloned"})["id"]
    post(client, user, org_id, "/policies", NO_NEW_PROVIDERS)
    guarded = repository()

    platform_scan(client, user, org_id, guarded, [OPENAI])
    uploaded = upload(client, user, org_id, guarded, [OPENAI])
    assert judged(client, user, org_id, uploaded) == (True, [])
    upload(client, user, org_id, guarded, [OPENAI, ANTHROPIC])
    cloned = platform_scan(client, user, org_id, guarded, [OPENAI, ANTHROPIC])
    assert judged(client, user, org_id, cloned) == (False, ["anthropic"])

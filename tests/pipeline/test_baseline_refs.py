"""A clone of a ref a member named is no baseline for the repository's default branch, on the real path:
HTTP -> ``scans`` worker cloning from a real git server -> ``ingest`` -> ``compliance`` worker.

A scan the platform ran was trusted as every later scan's baseline, whatever ref it cloned. An analyst
scanned a pull request's ref (``refs/pull/7/head``: anyone may open a pull request) holding a new
provider; once the pull request was merged, the default branch's scan was judged against the analyst's,
the provider was not new there, and the editor's block policy on ``new_since_baseline`` passed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.git_server import GitServer, git, make_repository
from tests.helpers import add_member, register_user
from tests.pipeline.test_baseline_pipeline import NO_NEW_PROVIDERS
from tests.pipeline.test_compliance_pipeline import completed_runs, get, post, wait_for_completed_scan

pytestmark = pytest.mark.usefixtures("celery_worker")

OPENAI = {"app.py": "import openai\n\nclient = openai.OpenAI()\n"}
ANTHROPIC = {"agent.py": "from anthropic import Anthropic\n\nclient = Anthropic()\n"}
PULL_REQUEST = "refs/pull/7/head"


@pytest.fixture
def repository():
    """``guarded.git``: ``main`` uses OpenAI; the pull request adds Anthropic. Yields (server, bare
    repository, the pull request's commit)."""
    root = Path(tempfile.mkdtemp(prefix="trusera-git-server-"))
    main, pull = make_repository(root, "guarded.git", [OPENAI, ANTHROPIC])
    bare = root / "guarded.git"
    git("update-ref", PULL_REQUEST, pull, cwd=bare)
    git("update-ref", "refs/heads/main", main, cwd=bare)
    server = GitServer(root, tokens={}).start()
    yield server, bare, pull
    server.stop()


def _judged_scan(client, user, org_id, body) -> list[str]:
    """Scan with ``body`` and wait for its evaluation; the names of the components the policy blocked on."""
    scan_id = post(client, user, org_id, "/scans", body, status=202)["id"]
    wait_for_completed_scan(client, user, org_id, scan_id)
    completed_runs(client, user, org_id, scan_id, 1)
    components = get(client, user, org_id, f"/scans/{scan_id}/components?per_page=100")["items"]
    names = {c["id"]: c["name"] for c in components}
    violations = get(client, user, org_id, f"/scans/{scan_id}/violations")["items"]
    return sorted(names[v["component_id"]] for v in violations)


def test_an_analysts_scan_of_a_pull_request_is_no_baseline_for_the_default_branch(client, repository):
    server, bare, pull = repository
    admin, analyst = register_user(client), register_user(client)
    org_id = admin.org_id
    add_member(client, admin, org_id, analyst, "analyst")
    post(client, admin, org_id, "/policies", NO_NEW_PROVIDERS)
    url = server.url("guarded.git")

    assert _judged_scan(client, admin, org_id, {"repository_url": url}) == []
    laundering = {"repository_url": url, "ref": PULL_REQUEST}
    assert _judged_scan(client, analyst, org_id, laundering) == ["anthropic"]
    # the same ref again is judged against its own earlier clone
    assert _judged_scan(client, analyst, org_id, laundering) == []

    git("update-ref", "refs/heads/main", pull, cwd=bare)  # the pull request is merged
    assert _judged_scan(client, admin, org_id, {"repository_url": url}) == ["anthropic"]

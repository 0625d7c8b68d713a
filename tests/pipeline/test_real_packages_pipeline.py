"""One bad component never fails a scan: real pip-installed AI packages and a hand-made bad result,
both through HTTP → Redis → real worker → internal API → ingest → DB."""

from __future__ import annotations

import subprocess
import sys

import pytest

from common.db import session_scope
from common.models import Component, Scan
from tests.helpers import post_result, running_scan, wait_for, wait_for_scan

pytestmark = pytest.mark.usefixtures("celery_worker")

# langchain-community's tools directory holds BaseTool subclasses whose name is computed at run time
# (``name: str = ""``): the engine used to emit them as nameless tools and the platform rejected the
# whole result with 422.
LANGCHAIN_COMMUNITY = "langchain-community==0.3.27"


def pip_install(package: str, target) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-compile",
            "-q",
            "--target",
            str(target),
            package,
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )


def test_scan_of_pip_installed_langchain_community_completes(client, make_user, scan_root):
    user = make_user()
    pip_install(LANGCHAIN_COMMUNITY, scan_root / "site-packages")
    tools_dir = scan_root / "site-packages" / "langchain_community" / "tools"
    response = client.post("/api/v1/scans", json={"target": str(tools_dir)}, headers=user.headers())
    assert response.status_code == 202, response.json
    scan = wait_for_scan(client, user, response.json["id"], timeout=120)
    assert scan["status"] == "completed", scan
    assert scan["summary"]["total_components"] > 50
    with session_scope() as session:
        stored = session.query(Component).filter(Component.scan_id == scan["id"]).all()
        names = {(c.type, c.name) for c in stored}
    assert all(name.strip() for _, name in names)
    # the computed-name tools are listed under their class names
    assert {("tool", "jiraaction"), ("tool", "gitlabaction"), ("tool", "zapiernlarunaction")} <= names


def test_ingest_keeps_valid_components_and_warns_about_rejected_ones(client, make_user):
    user = make_user()
    scan_id = running_scan(user.org_id, "/srv/repos/mixed")
    good = {"id": "f" * 64, "name": "openai", "type": "llm_provider", "provider": "OpenAI", "locations": []}
    nameless = {"id": "a" * 64, "name": "", "type": "tool", "locations": [{"file": "tools/x.py", "line": 3}]}
    unknown_type = {"id": "b" * 64, "name": "thing", "type": "gadget"}
    too_long_provider = {"id": "c" * 64, "name": "big", "type": "llm_provider", "provider": "p" * 500}
    response = post_result(
        client,
        scan_id,
        {
            "components": [good, nameless, unknown_type, too_long_provider],
            "relationships": [{"source": good["id"], "target": nameless["id"], "relation": "uses_tool"}],
            "warnings": [{"file": "big.bin", "message": "skipped: too large"}],
            "files_scanned": 3,
        },
    )
    assert response.status_code == 202, response.json

    def completed():
        with session_scope() as session:
            return session.get(Scan, scan_id).status == "completed"

    wait_for(completed, timeout=30)
    scan = client.get(f"/api/v1/scans/{scan_id}", headers=user.headers()).json
    components = client.get(f"/api/v1/scans/{scan_id}/components", headers=user.headers()).json["items"]
    assert [(c["type"], c["name"]) for c in components] == [("llm_provider", "openai")]
    messages = [w["message"] for w in scan["warnings"]]
    assert "skipped: too large" in messages
    rejected = [m for m in messages if "rejected" in m]
    assert len(rejected) == 3
    assert any("'name' must be a non-empty string" in m for m in rejected)
    assert any("unknown type 'gadget'" in m for m in rejected)
    assert any("'provider' must be a string of at most 100 characters" in m for m in rejected)
    assert {"file": "tools/x.py", "message": next(m for m in rejected if "'name'" in m)} in scan["warnings"]

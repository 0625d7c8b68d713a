"""A scan through the real path: HTTP → Redis → real worker → internal API → ingest → DB → events."""

from __future__ import annotations

import json

import pytest
import websocket

from common.db import session_scope
from common.models import Component
from tests.helpers import scan_event_reader, wait_for_scan
from tests.unit.scanner_helpers import committed_then_ignored

pytestmark = pytest.mark.usefixtures("celery_worker")

PYTHON_APP = """\
import openai
from anthropic import Anthropic

client = openai.OpenAI()
reply = client.chat.completions.create(
    model="gpt-4o",
    messages=[],
)
claude = Anthropic()
"""

PACKAGE_JSON = '{"name": "web", "dependencies": {"openai": "^4.52.0", "express": "^4.19.0"}}'


def write_project(root):
    (root / "app.py").write_text(PYTHON_APP)
    (root / "requirements.txt").write_text("openai==1.40.0\nrequests==2.32.0\n")
    (root / "web").mkdir()
    (root / "web" / "package.json").write_text(PACKAGE_JSON)
    (root / "web" / "index.js").write_text("import OpenAI from 'openai';\nconst c = new OpenAI();\n")
    return root


def test_scan_flows_end_to_end(client, make_user, scan_root):
    user = make_user()
    write_project(scan_root)
    response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
    assert response.status_code == 202
    assert response.json["status"] == "queued"
    assert response.headers["Location"].endswith(f"/api/v1/scans/{response.json['id']}")
    scan = wait_for_scan(client, user, response.json["id"])
    assert scan["status"] == "completed", scan
    assert scan["progress"] == 100 and scan["started_at"] and scan["finished_at"]
    summary = scan["summary"]
    assert summary["total_components"] >= 2 and summary["files_scanned"] >= 4
    assert set(summary) >= {
        "total_components",
        "by_type",
        "by_severity",
        "highest_risk_score",
        "files_scanned",
    }
    components = client.get(
        f"/api/v1/scans/{scan['id']}/components?per_page=100", headers=user.headers()
    ).json
    names = {(c["type"], c["name"]) for c in components["items"]}
    assert ("llm_provider", "openai") in names and ("llm_provider", "anthropic") in names
    assert components["total"] == summary["total_components"]
    openai = next(c for c in components["items"] if c["name"] == "openai")
    assert {loc["file"] for loc in openai["locations"]} >= {"app.py", "requirements.txt"}
    filtered = client.get(
        f"/api/v1/scans/{scan['id']}/components?type=llm_provider", headers=user.headers()
    ).json
    assert filtered["items"] and all(c["type"] == "llm_provider" for c in filtered["items"])
    listed = client.get("/api/v1/scans?status=completed", headers=user.headers()).json
    assert scan["id"] in [s["id"] for s in listed["items"]]


def test_a_committed_file_the_gitignore_lists_is_in_the_platforms_inventory(client, make_user, scan_root):
    """Committed, then listed in ``.gitignore``: the file is in every clone, so the scan through the API and
    the scans worker lists its SDK (an untracked ignored file stays out, as git leaves it out)."""
    user = make_user()
    committed_then_ignored(scan_root)
    response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
    assert response.status_code == 202, response.json
    scan = wait_for_scan(client, user, response.json["id"])
    assert scan["status"] == "completed", scan
    items = client.get(f"/api/v1/scans/{scan['id']}/components?per_page=100", headers=user.headers()).json
    located = {c["name"]: {loc["file"] for loc in c["locations"]} for c in items["items"]}
    assert located.get("anthropic") == {"secret_ai/client.py"}
    assert "openai" not in located and "cohere" not in located


def test_idempotency_key_returns_the_first_scan(client, make_user, scan_root):
    user = make_user()
    write_project(scan_root)
    headers = {**user.headers(), "Idempotency-Key": "build-42"}
    first = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=headers)
    second = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json["id"] == second.json["id"]
    wait_for_scan(client, user, first.json["id"])
    assert client.get("/api/v1/scans", headers=user.headers()).json["total"] == 1


def test_internal_result_requires_the_internal_key(client, make_user, live_server):
    import requests

    user = make_user()
    scan_id = client.get("/api/v1/scans", headers=user.headers()).json["items"]
    url = f"{live_server}/api/v1/internal/scans/00000000-0000-0000-0000-000000000000/result"
    assert requests.post(url, json={"components": []}, timeout=5).status_code == 401
    bad_key = requests.post(url, json={"components": []}, headers={"X-Internal-API-Key": "nope"}, timeout=5)
    assert bad_key.status_code == 401 and scan_id == []


def test_websocket_streams_started_progress_completed(client, make_user, scan_root, live_server):
    user = make_user()
    write_project(scan_root)
    for index in range(200):
        (scan_root / f"module_{index}.py").write_text(f"import os\nVALUE = {index}\n")
    socket, hello, received, done = scan_event_reader(live_server, user, timeout=30)
    assert hello == {"type": "hello", "organization_id": user.org_id}
    scan_id = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers()).json["id"]
    assert done.wait(60), received
    socket.close()
    mine = [e for e in received if e.get("scan_id") == scan_id]
    types = [e["type"] for e in mine]
    assert types[0] == "scan.queued" and types[-1] == "scan.completed"
    assert types.index("scan.started") < types.index("scan.progress") < types.index("scan.completed")
    assert all(e["organization_id"] == user.org_id and e["ts"].endswith("Z") for e in mine)
    seqs = [e["seq"] for e in mine]
    assert seqs == sorted(seqs)
    progress = [e for e in mine if e["type"] == "scan.progress"]
    assert all({"progress", "stage", "files_scanned"} <= set(e) for e in progress)
    assert mine[-1]["summary"]["total_components"] >= 2


def test_websocket_rejects_bad_tokens_with_1008(live_server):
    ws_url = live_server.replace("http://", "ws://") + "/api/v1/ws?token=not-a-token"
    socket = websocket.create_connection(ws_url, timeout=10)
    frame = socket.recv_data_frame(control_frame=True)[1]
    assert frame.opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(frame.data[:2], "big") == 1008


def test_websocket_isolates_organizations(client, make_user, scan_root, live_server):
    alice, bob = make_user(), make_user()
    write_project(scan_root)
    bob_socket = websocket.create_connection(
        live_server.replace("http://", "ws://") + f"/api/v1/ws?token={bob.token}", timeout=2
    )
    assert json.loads(bob_socket.recv())["organization_id"] == bob.org_id
    scan_id = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=alice.headers()).json[
        "id"
    ]
    wait_for_scan(client, alice, scan_id)
    leaked = []
    try:
        while True:
            leaked.append(json.loads(bob_socket.recv()))
    except websocket.WebSocketTimeoutException:
        pass
    bob_socket.close()
    assert not [e for e in leaked if e.get("scan_id") == scan_id]


def test_components_are_stored_once_per_fingerprint(client, make_user, scan_root):
    user = make_user()
    write_project(scan_root)
    scan_id = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers()).json["id"]
    wait_for_scan(client, user, scan_id)
    from workers.ingest import ingest_scan

    ingest_scan.apply(args=[scan_id])  # a redelivered ingestion changes nothing
    with session_scope() as session:
        rows = session.query(Component.fingerprint).filter_by(scan_id=scan_id).all()
    assert len(rows) == len({r[0] for r in rows})

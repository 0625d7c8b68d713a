"""Exports, graph and compare on the real path: HTTP scan → real worker → completed scan → HTTP export
→ ``exports`` queue → stored file → download, validated with each format's official validator;
``export.completed`` on the WebSocket and to webhooks; compare of a fixture tree before and after an edit.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import websocket
from sqlalchemy import func, select

from common.celery_client import enqueue
from common.db import session_scope
from common.exporters import FORMATS
from common.jobs import MAX_ATTEMPTS
from common.models import Scan
from common.models.base import utcnow
from common.models.exports import Export
from common.tasks import RECONCILE_JOBS
from tests.export_validators import CHROMIUM, check_export, rendered_dom, screenshot_colours
from tests.helpers import wait_for, wait_for_scan
from tests.webhook_receiver import Receiver
from workers.maintenance import VANISHED_WORKER_ERROR

pytestmark = pytest.mark.usefixtures("celery_worker")

API = "/api/v1"
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
FAKE_KEY = "sk-proj-Q7vR2mX9kL4pT8wZ3nB6cY1hJ5dF0gA2sE4uI7oP9qW3eR6tY8uI0oP2aS4dF6gH"

APP_BEFORE = """\
import openai

client = openai.OpenAI()
reply = client.chat.completions.create(model="gpt-4o", messages=[])
"""

# The edit: the model swapped (gpt-4o → gpt-4o-mini) and a key committed.
APP_AFTER = f"""\
import openai

client = openai.OpenAI(api_key="{FAKE_KEY}")
reply = client.chat.completions.create(model="gpt-4o-mini", messages=[])
"""

NO_KEYS_POLICY = {
    "name": "No hardcoded keys",
    "action": "block",
    "rules": [{"condition": {"field": "flags", "operator": "contains", "value": "hardcoded_api_key"}}],
}

BOT = "from anthropic import Anthropic\n\nclaude = Anthropic()\n"


def write_before(root: Path) -> None:
    (root / "app.py").write_text(APP_BEFORE)
    (root / "bot.py").write_text(BOT)
    (root / "requirements.txt").write_text("openai==1.40.0\nanthropic==0.30.1\nlangchain==0.2.0\n")


def edit(root: Path) -> None:
    """Swap the model, add a key, remove the langchain dependency."""
    (root / "app.py").write_text(APP_AFTER)
    (root / "requirements.txt").write_text("openai==1.40.0\nanthropic==0.30.1\n")


def completed_scan(client, user, root: Path) -> dict:
    response = client.post(f"{API}/scans", json={"target": str(root)}, headers=user.headers())
    assert response.status_code == 202, response.json
    scan = wait_for_scan(client, user, response.json["id"], timeout=90)
    assert scan["status"] == "completed", scan
    return scan


def components_of(client, user, scan_id: str) -> dict[tuple[str, str], dict]:
    body = client.get(f"{API}/scans/{scan_id}/components?per_page=100", headers=user.headers()).json
    return {(c["type"], c["name"]): c for c in body["items"]}


def request_export(client, user, scan_id: str, format_name: str) -> dict:
    response = client.post(
        f"{API}/scans/{scan_id}/export", json={"format": format_name}, headers=user.headers()
    )
    assert response.status_code == 202, response.json
    assert response.json["status"] == "queued" and response.json["format"] == format_name
    assert response.headers["Location"].endswith(f"{API}/exports/{response.json['id']}")
    return response.json


def finished_export(client, user, export_id: str) -> dict:
    def settled():
        body = client.get(f"{API}/exports/{export_id}", headers=user.headers()).json
        return body if body["status"] in ("completed", "failed") else None

    return wait_for(settled, timeout=90, interval=0.2)


def download(client, user, export: dict) -> bytes:
    assert export["status"] == "completed", export
    response = client.get(export["download_url"], headers=user.headers())
    assert response.status_code == 200
    meta = FORMATS[export["format"]]
    assert response.headers["Content-Type"] == meta["content_type"]
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="trusera-scan-{export["scan_id"]}.{meta["extension"]}"'
    )
    assert len(response.data) == export["size_bytes"]
    assert hashlib.sha256(response.data).hexdigest() == export["sha256"]
    return response.data


class EventCollector:
    """The organization's WebSocket events, read on a thread until ``count`` of ``wanted`` arrived."""

    def __init__(self, live_server: str, user, wanted: str, count: int):
        url = live_server.replace("http://", "ws://") + f"{API}/ws?token={user.token}"
        self.socket = websocket.create_connection(url, timeout=120)
        assert json.loads(self.socket.recv())["type"] == "hello"
        self.events: list[dict] = []
        self.done = threading.Event()
        self.wanted, self.count = wanted, count
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while not self.done.is_set():
            try:
                event = json.loads(self.socket.recv())
            except Exception:
                return
            self.events.append(event)
            if sum(e["type"] == self.wanted for e in self.events) >= self.count:
                self.done.set()

    def of_type(self, wanted: str) -> list[dict]:
        return [e for e in self.events if e["type"] == wanted]

    def close(self) -> None:
        self.socket.close()


def test_every_format_is_rendered_by_the_worker_and_downloads_valid(
    client, make_user, scan_root, live_server
):
    user = make_user()
    assert client.post(f"{API}/policies", json=NO_KEYS_POLICY, headers=user.headers()).status_code == 201
    write_before(scan_root)
    edit(scan_root)
    with Receiver() as receiver:
        hook = client.post(
            f"{API}/webhooks",
            json={"url": receiver.url, "events": ["export.completed"]},
            headers=user.headers(),
        )
        assert hook.status_code == 201, hook.json
        receiver.secret = hook.json["secret"]
        scan = completed_scan(client, user, scan_root)
        total = scan["summary"]["total_components"]
        collector = EventCollector(live_server, user, "export.completed", len(FORMATS))
        # Asked for at once: the worker waits for the compliance results the scan is still getting.
        requested = {name: request_export(client, user, scan["id"], name) for name in FORMATS}
        exports = {name: finished_export(client, user, export["id"]) for name, export in requested.items()}
        documents = {
            name: check_export(name, download(client, user, export), components=total)
            for name, export in exports.items()
        }
        assert collector.done.wait(60), collector.events
        collector.close()
        wait_for(lambda: len(receiver.requests) >= len(FORMATS), timeout=60)
    for export in exports.values():
        assert export["download_url"] == f"{API}/exports/{export['id']}/download"
        assert export["finished_at"].endswith("Z") and export["progress"] == 100
    completed = {e["export_id"]: e for e in collector.of_type("export.completed")}
    assert set(completed) == {export["id"] for export in exports.values()}
    for name, export in exports.items():
        event = completed[export["id"]]
        assert (event["scan_id"], event["format"], event["organization_id"]) == (
            scan["id"],
            name,
            user.org_id,
        )
        assert event["download_url"] == export["download_url"] and event["sha256"] == export["sha256"]
    deliveries = [r.json for r in receiver.requests]
    assert all(r.verified for r in receiver.requests)
    assert {d["type"] for d in deliveries} == {"export.completed"}
    assert {d["data"]["export_id"] for d in deliveries} == {export["id"] for export in exports.values()}
    # The compliance results were waited for: the policy and every framework control are JUnit test cases.
    junit = documents["junit"]
    failed = {case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None}
    assert "No hardcoded keys (block)" in failed
    assert len(list(junit.iter("testcase"))) > 10
    sarif_rules = {rule["id"] for rule in documents["sarif"]["runs"][0]["tool"]["driver"]["rules"]}
    assert "hardcoded_api_key" in sarif_rules
    assert FAKE_KEY not in b"".join(download(client, user, export) for export in exports.values()).decode()


def test_the_scan_of_every_corpus_case_exports_valid_in_every_format(client, make_user, scan_root):
    """The odd components real code yields (URL templates, Unicode, keys, MCP servers, IaC names) each
    reach every format: one the format cannot hold must not fail the export (an endpoint URL template
    with ``%s`` failed the whole CycloneDX export)."""
    user = make_user()
    shutil.copytree(CORPUS, scan_root / "corpus", symlinks=True)
    scan = completed_scan(client, user, scan_root)
    total = scan["summary"]["total_components"]
    assert total > 500
    requested = {name: request_export(client, user, scan["id"], name) for name in FORMATS}
    for name, export in requested.items():
        check_export(
            name, download(client, user, finished_export(client, user, export["id"])), components=total
        )


def test_an_export_waits_for_the_compliance_results_of_its_scan(client, make_user):
    """A scan whose evaluation has not run yet: the export stays queued until the results exist."""
    import time

    from common.models import Component

    user = make_user()
    assert client.post(f"{API}/policies", json=NO_KEYS_POLICY, headers=user.headers()).status_code == 201
    with session_scope() as session:
        scan = Scan(organization_id=user.org_id, target="/srv/app", status="completed", progress=100)
        session.add(scan)
        session.flush()
        session.add(
            Component(
                scan_id=scan.id,
                organization_id=user.org_id,
                fingerprint="f" * 24,
                name="openai",
                type="llm_provider",
                locations=[{"file": "app.py", "line": 3, "snippet": ""}],
                flags=["hardcoded_api_key"],
                risk_score=65,
                severity="high",
            )
        )
        scan_id = scan.id
    export = request_export(client, user, scan_id, "junit")
    time.sleep(3)
    assert client.get(f"{API}/exports/{export['id']}", headers=user.headers()).json["status"] == "queued"
    assert client.post(f"{API}/scans/{scan_id}/evaluate", headers=user.headers()).status_code == 202
    junit = check_export(
        "junit", download(client, user, finished_export(client, user, export["id"])), components=1
    )
    failed = {case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None}
    assert "No hardcoded keys (block)" in failed


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_downloaded_html_renders_its_chart_and_table_in_chromium(client, make_user, scan_root, tmp_path):
    from common.exporters.html_report import SEVERITY_COLOURS

    user = make_user()
    write_before(scan_root)
    edit(scan_root)
    scan = completed_scan(client, user, scan_root)
    export = finished_export(client, user, request_export(client, user, scan["id"], "html")["id"])
    report = tmp_path / "report.html"
    report.write_bytes(download(client, user, export))
    colours = screenshot_colours(report)
    assert len(colours) > 50, "screenshot is blank"
    severities = {c["severity"] for c in components_of(client, user, scan["id"]).values()}
    assert {bytes.fromhex(SEVERITY_COLOURS[s][1:]) for s in severities} <= colours, "no severity bars"
    assert bytes.fromhex("f0f2f5") in colours, "no table header"
    dom = rendered_dom(report)
    total = scan["summary"]["total_components"]
    assert f"{total} of {total} components" in dom, "the component table's script did not run"
    assert dom.count('<tr data-severity="') == total


def test_the_task_is_idempotent_and_records_failures(client, make_user, scan_root):
    from workers.exports import render_export

    user = make_user()
    write_before(scan_root)
    scan = completed_scan(client, user, scan_root)
    export = finished_export(client, user, request_export(client, user, scan["id"], "cyclonedx")["id"])
    content = download(client, user, export)
    render_export.apply(args=[export["id"]]).get()  # already completed: returns quietly
    assert client.get(f"{API}/exports/{export['id']}", headers=user.headers()).json == export
    with session_scope() as session:  # a worker that died mid-render: the message is redelivered
        session.get(Export, export["id"]).status = "running"
    render_export.apply(args=[export["id"]]).get()
    again = client.get(f"{API}/exports/{export['id']}", headers=user.headers()).json
    assert again["status"] == "completed" and again["sha256"] == export["sha256"]
    assert download(client, user, again) == content
    with session_scope() as session:
        count = session.scalar(select(func.count()).select_from(Export).where(Export.scan_id == scan["id"]))
        assert count == 1
        broken = Export(organization_id=user.org_id, scan_id=scan["id"], format="pdf", status="queued")
        unfinished = Scan(organization_id=user.org_id, target=str(scan_root), status="running")
        session.add_all([broken, unfinished])
        session.flush()
        early = Export(organization_id=user.org_id, scan_id=unfinished.id, format="csv", status="queued")
        session.add(early)
        session.flush()
        broken_id, early_id, unfinished_id = broken.id, early.id, unfinished.id
    render_export.apply(args=[broken_id]).get()
    render_export.apply(args=[early_id]).get()
    failed = client.get(f"{API}/exports/{broken_id}", headers=user.headers()).json
    assert failed["status"] == "failed" and failed["finished_at"]
    assert failed["error"].startswith("unknown export format 'pdf'")
    assert "download_url" not in failed
    refused = client.get(f"{API}/exports/{broken_id}/download", headers=user.headers())
    assert refused.status_code == 409 and "unknown export format 'pdf'" in refused.json["message"]
    early_failed = client.get(f"{API}/exports/{early_id}", headers=user.headers()).json
    assert early_failed["status"] == "failed"
    assert early_failed["error"] == f"scan {unfinished_id} is running; only a completed scan is exported"


def test_compare_of_a_tree_before_and_after_an_edit(client, make_user, scan_root):
    user = make_user()
    write_before(scan_root)
    before = completed_scan(client, user, scan_root)
    edit(scan_root)
    after = completed_scan(client, user, scan_root)
    old, new = components_of(client, user, before["id"]), components_of(client, user, after["id"])
    response = client.get(f"{API}/scans/{before['id']}/compare/{after['id']}", headers=user.headers())
    assert response.status_code == 200
    diff = response.json
    assert (diff["before_scan_id"], diff["after_scan_id"]) == (before["id"], after["id"])
    assert [(c["type"], c["name"]) for c in diff["added"]] == [("model", "gpt-4o-mini")]
    assert [(c["type"], c["name"]) for c in diff["removed"]] == [
        ("agent_framework", "langchain"),
        ("model", "gpt-4o"),
    ]
    was, now = old[("llm_provider", "openai")], new[("llm_provider", "openai")]
    assert was["id"] == now["id"]
    assert diff["changed"] == [
        {
            "id": now["id"],
            "name": "openai",
            "type": "llm_provider",
            "changes": {
                "flags": {"before": [], "after": ["hardcoded_api_key"]},
                "risk_score": {"before": was["risk_score"], "after": now["risk_score"]},
                "severity": {"before": was["severity"], "after": now["severity"]},
            },
        }
    ]
    assert now["risk_score"] > was["risk_score"]
    risk_before = sum(c["risk_score"] for c in old.values())
    risk_after = sum(c["risk_score"] for c in new.values())
    assert diff["summary"] == {
        "added": 1,
        "removed": 2,
        "changed": 1,
        "unchanged": 1,  # anthropic
        "risk_before": risk_before,
        "risk_after": risk_after,
        "risk_delta": risk_after - risk_before,
    }
    assert diff["summary"]["risk_delta"] > 0
    outsider = client.get(f"{API}/scans/{before['id']}/compare/{after['id']}", headers=make_user().headers())
    assert outsider.status_code == 404


def test_graph_of_a_scanned_tree(client, make_user, scan_root):
    user = make_user()
    write_before(scan_root)
    scan = completed_scan(client, user, scan_root)
    found = components_of(client, user, scan["id"])
    ids = {name: c["id"] for (_, name), c in found.items()}
    graph = client.get(f"{API}/scans/{scan['id']}/graph", headers=user.headers()).json
    nodes = {n["id"]: (n["type"], n["label"]) for n in graph["nodes"]}
    assert nodes == {
        **{c["id"]: (kind, name) for (kind, name), c in found.items()},
        "file:app.py": ("file", "app.py"),
        "file:bot.py": ("file", "bot.py"),
        "file:requirements.txt": ("manifest", "requirements.txt"),
    }
    edges = {(e["source"], e["target"], e["relation"]) for e in graph["edges"]}
    assert {
        ("file:requirements.txt", ids["langchain"], "declares"),
        ("file:requirements.txt", ids["openai"], "declares"),
        ("file:app.py", ids["gpt-4o"], "contains"),
        (ids["openai"], ids["gpt-4o"], "uses_model"),
    } <= edges
    assert graph["truncated"] is False and graph["total_nodes"] == len(nodes)
    capped = client.get(f"{API}/scans/{scan['id']}/graph?limit=2", headers=user.headers()).json
    assert capped["truncated"] is True and len(capped["nodes"]) == 2
    assert capped["total_nodes"] == len(nodes)


def test_the_reconciler_recovers_lost_and_abandoned_exports(client, make_user, scan_root):
    """A queued export whose message was lost is re-sent once; one whose worker vanished on its last
    allowed attempt is failed (tests/pipeline/test_job_lifecycle.py covers the retried attempts)."""
    user = make_user()
    write_before(scan_root)
    scan = completed_scan(client, user, scan_root)
    long_ago = utcnow() - timedelta(hours=2)
    with session_scope() as session:
        lost = Export(
            organization_id=scan["organization_id"], scan_id=scan["id"], format="csv", created_at=long_ago
        )
        abandoned = Export(
            organization_id=scan["organization_id"],
            scan_id=scan["id"],
            format="sarif",
            status="running",
            attempts=MAX_ATTEMPTS,
            created_at=long_ago,
            started_at=long_ago,
            heartbeat_at=long_ago,
        )
        session.add_all([lost, abandoned])
        session.flush()
        lost_id, abandoned_id = lost.id, abandoned.id

    enqueue(RECONCILE_JOBS)
    recovered = finished_export(client, user, lost_id)
    assert recovered["status"] == "completed", recovered
    assert b",gpt-4o,model," in download(client, user, recovered)
    failed = finished_export(client, user, abandoned_id)
    assert failed["status"] == "failed" and failed["error"] == VANISHED_WORKER_ERROR

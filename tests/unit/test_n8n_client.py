"""The live n8n scan against a fake n8n API on 127.0.0.1: pagination, auth, errors."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from common.scanner.n8n_client import (
    MAX_CURSOR_CHARS,
    N8nError,
    N8nUnauthorized,
    N8nUnreachable,
    check_n8n_connection,
    scan_n8n_instance,
)

API_KEY = "n8n-test-key"


def workflow(number: int, *, with_nodes: bool = True) -> dict:
    body = {"id": f"wf{number}", "name": f"Flow {number}", "active": number % 2 == 0}
    if with_nodes:
        body["nodes"] = [
            {"name": "Hook", "type": "n8n-nodes-base.webhook", "parameters": {"path": f"p{number}"}},
            {"name": "Agent", "type": "@n8n/n8n-nodes-langchain.agent", "parameters": {}},
            {
                "name": "Model",
                "type": "@n8n/n8n-nodes-langchain.lmChatOpenAi",
                "parameters": {"model": {"__rl": True, "value": "gpt-4o-mini", "mode": "list"}},
            },
        ]
        body["connections"] = {
            "Hook": {"main": [[{"node": "Agent", "type": "main", "index": 0}]]},
            "Model": {"ai_languageModel": [[{"node": "Agent", "type": "ai_languageModel", "index": 0}]]},
        }
    return body


class FakeN8n(BaseHTTPRequestHandler):
    """Pages of two workflows; workflow 3 is listed without nodes and must be fetched by id."""

    pages = {
        None: ([workflow(1), workflow(2)], "cursor-2"),
        "cursor-2": ([workflow(3, with_nodes=False), workflow(4)], "cursor-3"),
        "cursor-3": ([workflow(5)], None),
    }
    requests: list[dict] = []
    mode = "normal"

    def log_message(self, *args):
        pass

    def send_json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        type(self).requests.append(
            {"path": url.path, "query": query, "key": self.headers.get("X-N8N-API-KEY")}
        )
        if self.headers.get("X-N8N-API-KEY") != API_KEY:
            return self.send_json(401, {"message": "unauthorized"})
        if self.mode == "error":
            return self.send_json(500, {"message": "boom"})
        if self.mode == "loop":
            return self.send_json(200, {"data": [workflow(9)], "nextCursor": "same"})
        if self.mode == "bomb":  # 40 KiB on the wire, 40 MiB once inflated
            data = gzip.compress(b'{"data": [' + b" " * (40 * 1024 * 1024) + b"]}", compresslevel=9)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        if self.mode == "garbage":
            return self.send_json(200, ["not", "an", "object"])
        if self.mode == "deep":  # 200 KB, past any parser's recursion
            data = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        if url.path == "/api/v1/workflows":
            data, cursor = self.pages[query.get("cursor")]
            return self.send_json(200, {"data": data, "nextCursor": cursor})
        if url.path == "/api/v1/workflows/wf3":
            return self.send_json(200, workflow(3))
        return self.send_json(404, {"message": "not found"})


@pytest.fixture
def n8n_server():
    FakeN8n.requests = []
    FakeN8n.mode = "normal"
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeN8n)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_scan_follows_cursor_and_analyses_every_workflow(n8n_server):
    events = []
    result = scan_n8n_instance(n8n_server + "/", API_KEY, progress=lambda *e: events.append(e))
    assert result.files_scanned == 5
    workflows = sorted(c.name for c in result.components if c.type == "workflow")
    assert workflows == [f"Flow {n}" for n in range(1, 6)]
    assert all("webhook_no_auth" in c.flags for c in result.components if c.type == "workflow")
    model = next(c for c in result.components if c.type == "model")
    assert model.name == "gpt-4o-mini" and len(model.locations) == 5
    assert model.locations[0].file.startswith("n8n://127.0.0.1:")
    assert all(c.risk_score > 0 and c.id for c in result.components)
    agent = next(c for c in result.components if c.name == "Flow 1/Agent")
    assert any(
        r.source == agent.id and r.target == model.id and r.relation == "uses_model"
        for r in result.relationships
    )

    listed = [r for r in FakeN8n.requests if r["path"] == "/api/v1/workflows"]
    assert [r["query"].get("cursor") for r in listed] == [None, "cursor-2", "cursor-3"]
    assert {r["key"] for r in FakeN8n.requests} == {API_KEY}
    assert any(r["path"] == "/api/v1/workflows/wf3" for r in FakeN8n.requests)
    assert events[-1] == ("analysing n8n workflows", 5, 5)
    assert result.bytes_scanned > 0
    assert API_KEY not in json.dumps(result.to_dict())


def plain_workflow(number: int) -> dict:
    return {
        "id": f"plain{number}",
        "name": f"Plain {number}",
        "active": True,
        "nodes": [
            {"name": "Cron", "type": "n8n-nodes-base.scheduleTrigger", "parameters": {}},
            {
                "name": "Copy",
                "type": "n8n-nodes-base.httpRequest",
                "parameters": {"url": "https://example.com"},
            },
        ],
        "connections": {"Cron": {"main": [[{"node": "Copy", "type": "main", "index": 0}]]}},
    }


def test_workflows_without_ai_nodes_are_scanned_not_listed(n8n_server, monkeypatch):
    """A real instance with many plain workflows and a few AI ones lists only the AI ones."""
    pages = {
        None: ([plain_workflow(n) for n in range(1, 41)] + [workflow(1)], "cursor-2"),
        "cursor-2": ([plain_workflow(41), workflow(2)], None),
    }
    monkeypatch.setattr(FakeN8n, "pages", pages)
    result = scan_n8n_instance(n8n_server, API_KEY)
    assert result.files_scanned == 43
    assert sorted(c.name for c in result.components if c.type == "workflow") == ["Flow 1", "Flow 2"]
    assert not any(c.name.startswith("Plain") for c in result.components)


def test_same_instance_gives_same_component_ids(n8n_server):
    first = scan_n8n_instance(n8n_server, API_KEY)
    second = scan_n8n_instance(n8n_server, API_KEY)
    assert sorted(c.id for c in first.components) == sorted(c.id for c in second.components)


def test_wrong_key_is_unauthorized(n8n_server):
    with pytest.raises(N8nUnauthorized):
        scan_n8n_instance(n8n_server, "wrong")
    assert check_n8n_connection(n8n_server, "wrong")[0] == "unauthorized"
    assert check_n8n_connection(n8n_server, API_KEY)[0] == "reachable"


def test_closed_port_is_unreachable():
    with pytest.raises(N8nUnreachable):
        scan_n8n_instance("http://127.0.0.1:9", API_KEY, timeout=2)
    status, detail = check_n8n_connection("http://127.0.0.1:9", API_KEY, timeout=2)
    assert status == "unreachable" and API_KEY not in detail


@pytest.mark.parametrize("mode", ["error", "garbage", "deep"])
def test_server_errors_are_clear(n8n_server, mode):
    FakeN8n.mode = mode
    with pytest.raises(N8nError) as caught:
        scan_n8n_instance(n8n_server, API_KEY)
    assert not isinstance(caught.value, N8nUnauthorized | N8nUnreachable)
    assert check_n8n_connection(n8n_server, API_KEY)[0] == "unreachable"


def test_a_repeating_cursor_stops_the_scan(n8n_server):
    FakeN8n.mode = "loop"
    result = scan_n8n_instance(n8n_server, API_KEY)
    assert len(FakeN8n.requests) == 2
    assert result.files_scanned == 2


def test_a_megabyte_cursor_is_refused_not_kept(n8n_server, monkeypatch):
    """A hostile instance answers every page with a new, huge cursor: the scan must not keep them all."""
    huge = "c" * (MAX_CURSOR_CHARS + 1)
    monkeypatch.setattr(FakeN8n, "pages", {None: ([workflow(1)], huge)})
    with pytest.raises(N8nError, match="implausible page cursor"):
        scan_n8n_instance(n8n_server, API_KEY)
    assert len(FakeN8n.requests) == 1


class EndlessPages(dict):
    """Every cursor leads to one more page with a fresh cursor: an instance that never ends."""

    def __getitem__(self, cursor):
        number = int(cursor or "0")
        return [workflow(number)], str(number + 1)


def test_an_endless_instance_stops_at_the_scan_budget(n8n_server, monkeypatch):
    monkeypatch.setattr(FakeN8n, "pages", EndlessPages())
    result = scan_n8n_instance(n8n_server, API_KEY, scan_budget_seconds=0.5)
    assert 0 < result.files_scanned < 10_000
    stopped = [w.message for w in result.warnings if w.message.startswith("stopped:")]
    assert stopped and "0.5 s time budget" in stopped[0]
    assert any(c.type == "model" for c in result.components)  # what was found before the stop is kept


class EmptyEndlessPages(dict):
    """Every page is empty and names a fresh cursor: no workflow is ever yielded to check the budget by."""

    def __getitem__(self, cursor):
        return [], str(int(cursor or "0") + 1)


def test_endless_empty_pages_stop_at_the_scan_budget(n8n_server, monkeypatch):
    monkeypatch.setattr(FakeN8n, "pages", EmptyEndlessPages())
    result = scan_n8n_instance(n8n_server, API_KEY, scan_budget_seconds=0.3)
    # before, every one of MAX_PAGES (10,000) pages was fetched, each up to the exchange deadline
    assert len(FakeN8n.requests) < 1_000
    stopped = [w.message for w in result.warnings if w.message.startswith("stopped:")]
    assert stopped and "0.3 s time budget" in stopped[0] and result.files_scanned == 0


def test_a_workflow_that_exhausts_its_cpu_budget_is_skipped_not_fatal(n8n_server, monkeypatch):
    import common.scanner.n8n_client as client_module

    # an analysis that never ends, running as scanning code (the budget interrupts only scanning code)
    namespace = {"__name__": "common.scanner.detectors.n8n"}
    exec("def endless(workflow, location):\n    while True:\n        pass\n", namespace)
    monkeypatch.setattr(client_module, "analyze_workflow", namespace["endless"])
    result = scan_n8n_instance(n8n_server, API_KEY, file_budget_seconds=0.2)
    assert result.files_scanned == 5 and result.components == []
    assert sum("CPU budget for one workflow" in w.message for w in result.warnings) == 5


class _Recorder(BaseHTTPRequestHandler):
    """Another origin: what it is sent is written down."""

    received: list[dict] = []

    def do_GET(self):
        _Recorder.received.append(dict(self.headers))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"data": []}')

    def log_message(self, *_args):
        pass


def test_a_redirect_is_not_followed_with_the_api_key(monkeypatch):
    """Before, the CLI's n8n scan followed redirects and ``requests`` keeps a custom header across hosts:
    an n8n behind a sign-in proxy (answering 302 to the identity provider) or a man in the middle of an
    http:// URL received ``X-N8N-API-KEY``."""
    other = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    elsewhere = f"http://127.0.0.1:{other.server_port}/collect"

    class Redirecting(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", elsewhere)
            self.end_headers()

        def log_message(self, *_args):
            pass

    n8n = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    for server in (other, n8n):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.received = []
    try:
        url = f"http://127.0.0.1:{n8n.server_port}"
        with pytest.raises(N8nError, match="302"):
            scan_n8n_instance(url, API_KEY, timeout=5)
        assert check_n8n_connection(url, API_KEY, timeout=5)[0] == "unreachable"
    finally:
        for server in (other, n8n):
            server.shutdown()
            server.server_close()
    assert _Recorder.received == []


def test_an_answer_inflating_past_the_size_limit_is_refused_while_read(n8n_server):
    """The CLI's plain session: a small gzip that inflates to 40 MiB is cut at MAX_RESPONSE_BYTES."""
    FakeN8n.mode = "bomb"
    with pytest.raises(N8nError, match="more than the limit of 33554432 bytes"):
        scan_n8n_instance(n8n_server, API_KEY)
    assert check_n8n_connection(n8n_server, API_KEY)[0] == "unreachable"

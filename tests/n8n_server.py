"""A fake n8n instance on 127.0.0.1 speaking the public API's shapes (``data`` + ``nextCursor``).

Only ``GET /api/v1/workflows`` (cursor-paginated, ``limit``) and ``GET /api/v1/workflows/<id>``
are served, and only with the right ``X-N8N-API-KEY``; every request is recorded. With ``hold`` it is a
tarpit: until the event is set, every page of the list is empty, answered after ``page_delay`` seconds
(inside the client's timeout), with a fresh ``nextCursor``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DEFAULT_PAGE_SIZE = 100


@dataclass
class FakeN8n:
    api_key: str
    workflows: list[dict]
    max_page_size: int = 250  # n8n caps ``limit``; a small cap makes clients follow ``nextCursor``
    requests: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    hold: threading.Event | None = None
    page_delay: float = 0.0

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeN8n:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        threading.Thread(target=self.server.serve_forever, name="fake-n8n", daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def page(self, query: dict) -> dict:
        if self.hold is not None and not self.hold.is_set():
            time.sleep(self.page_delay)
            return {"data": [], "nextCursor": f"held-{len(self.requests)}"}
        limit = min(int(query.get("limit", [DEFAULT_PAGE_SIZE])[0]), self.max_page_size)
        cursor = query.get("cursor", ["0"])[0]
        start = int(cursor) if cursor.isdigit() else 0  # a tarpit's cursor: from the start
        end = start + limit
        return {
            "data": self.workflows[start:end],
            "nextCursor": str(end) if end < len(self.workflows) else None,
        }


def _handler_for(fake: FakeN8n) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            fake.requests.append(
                {"path": parts.path, "query": parts.query, "key": self.headers.get("X-N8N-API-KEY")}
            )
            if self.headers.get("X-N8N-API-KEY") != fake.api_key:
                return self._send(401, {"message": "unauthorized"})
            if parts.path == "/api/v1/workflows":
                return self._send(200, fake.page(parse_qs(parts.query)))
            if parts.path.startswith("/api/v1/workflows/"):
                wanted = parts.path.rsplit("/", 1)[-1]
                found = next((w for w in fake.workflows if w["id"] == wanted), None)
                return self._send(200, found) if found else self._send(404, {"message": "Not Found"})
            return self._send(404, {"message": "Not Found"})

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args):
            pass

    return Handler


def agent_workflow(workflow_id: str, name: str) -> dict:
    """A workflow with an AI agent node on an OpenAI chat model, as n8n exports it."""
    return {
        "id": workflow_id,
        "name": name,
        "active": True,
        "createdAt": "2026-01-10T09:00:00.000Z",
        "updatedAt": "2026-01-11T09:00:00.000Z",
        "tags": [],
        "nodes": [
            {
                "id": f"{workflow_id}-trigger",
                "name": "Webhook",
                "type": "n8n-nodes-base.webhook",
                "typeVersion": 2,
                "position": [0, 0],
                "parameters": {"path": f"hook-{workflow_id}", "httpMethod": "POST"},
            },
            {
                "id": f"{workflow_id}-agent",
                "name": "AI Agent",
                "type": "@n8n/n8n-nodes-langchain.agent",
                "typeVersion": 1.7,
                "position": [200, 0],
                "parameters": {"promptType": "define", "text": "={{ $json.body.question }}"},
            },
            {
                "id": f"{workflow_id}-model",
                "name": "OpenAI Chat Model",
                "type": "@n8n/n8n-nodes-langchain.lmChatOpenAi",
                "typeVersion": 1.2,
                "position": [200, 200],
                "parameters": {"model": {"__rl": True, "value": "gpt-4o-mini", "mode": "list"}},
                "credentials": {"openAiApi": {"id": "cred-1", "name": "OpenAI account"}},
            },
        ],
        "connections": {
            "Webhook": {"main": [[{"node": "AI Agent", "type": "main", "index": 0}]]},
            "OpenAI Chat Model": {
                "ai_languageModel": [[{"node": "AI Agent", "type": "ai_languageModel", "index": 0}]]
            },
        },
        "settings": {"executionOrder": "v1"},
    }

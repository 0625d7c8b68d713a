"""A webhook receiver on loopback for tests: scripted answers, and every request's signature checked."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common.webhook_signing import InvalidSignature, verify


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """Answers with ``statuses`` in order (the last one repeats); ``secret`` may be set after creation.
    With ``answer_when``, each request is recorded at once and answered only once that event is set (a
    slow receiver, for as long as a test needs; at most ``SLOW_ANSWER_LIMIT_SECONDS``)."""

    SLOW_ANSWER_LIMIT_SECONDS = 60

    def __init__(
        self,
        statuses=(200,),
        *,
        secret: str | None = None,
        extra_headers: dict | None = None,
        answer_when: threading.Event | None = None,
    ):
        self.statuses = list(statuses)
        self.secret = secret
        self.extra_headers = extra_headers or {}
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._record(dict(self.headers.items()), body)
                if answer_when is not None:
                    answer_when.wait(timeout=receiver.SLOW_ANSWER_LIMIT_SECONDS)
                reply = json.dumps({"received": True, "status": status}).encode()
                self.send_response(status)
                for name, value in receiver.extra_headers.get(status, {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _record(self, headers: dict, body: bytes) -> int:
        with self._lock:
            verified = False
            if self.secret is not None:
                try:
                    verify(self.secret, headers, body)
                    verified = True
                except InvalidSignature:
                    verified = False
            self.requests.append(Received(time.monotonic(), headers, body, verified))
            index = len(self.requests) - 1
            return self.statuses[min(index, len(self.statuses) - 1)]

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()

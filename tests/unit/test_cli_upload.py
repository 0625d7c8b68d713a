"""``trusera scan --upload``: argument checks and the source metadata read from CI environments."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from common import cli
from common.cli_upload import ci_metadata, source_metadata


def test_gitlab_and_github_variables_become_source_metadata():
    gitlab = {
        "GITLAB_CI": "true",
        "CI_PROJECT_URL": "https://gitlab.example.com/acme/agents",
        "CI_COMMIT_SHA": "f" * 40,
        "CI_COMMIT_REF_NAME": "main",
        "CI_JOB_URL": "https://gitlab.example.com/acme/agents/-/jobs/7",
    }
    assert ci_metadata(gitlab) == {
        "repository_url": "https://gitlab.example.com/acme/agents",
        "commit": "f" * 40,
        "branch": "main",
        "ci_run_url": "https://gitlab.example.com/acme/agents/-/jobs/7",
    }
    github = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/agents", "GITHUB_HEAD_REF": "feature/x"}
    assert ci_metadata(github) == {"repository_url": "https://github.com/acme/agents", "branch": "feature/x"}
    assert ci_metadata({}) == {}


def test_flags_win_over_the_environment():
    args = SimpleNamespace(repository_url=None, commit="abc1234", branch=None, ci_run_url=None)
    environ = {"GITLAB_CI": "true", "CI_COMMIT_SHA": "f" * 40, "CI_COMMIT_REF_NAME": "main"}
    assert source_metadata(args, environ) == {"commit": "abc1234", "branch": "main"}


def test_upload_needs_a_key_and_an_http_url(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TRUSERA_API_KEY", raising=False)
    (tmp_path / "app.py").write_text("import openai\n")
    assert cli.main(["scan", str(tmp_path), "--quiet", "--upload", "https://trusera.example.com"]) == 2
    assert "--upload needs --api-key or TRUSERA_API_KEY" in capsys.readouterr().err
    argv = ["scan", str(tmp_path), "--quiet", "--upload", "file:///tmp/x", "--api-key", "tsk_x"]
    assert cli.main(argv) == 2
    assert "http(s) base URL" in capsys.readouterr().err


ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\\u202e"


class HostilePlatform(BaseHTTPRequestHandler):
    """A platform (or whatever answers at the URL given) whose text holds terminal escapes."""

    reject_upload = False

    def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.reject_upload:
            self._json(422, {"message": f"bad {ESCAPES}", "errors": {"x": [ESCAPES]}})
        else:
            self._json(202, {"id": "s1", "status": "queued"}, {"Location": "/api/v1/scans/s1?\x1b[2J"})

    def do_GET(self):
        if self.path.startswith("/api/v1/scans/s1/evaluations"):
            items = [{"name": f"policy {ESCAPES}", "violation_count": ESCAPES}]
            self._json(200, {"items": items, "total": 1})
        elif self.path.startswith("/api/v1/scans/s1"):
            self._json(200, {"id": "s1", "status": "completed"})
        else:
            self._json(200, {"items": [{"status": "completed"}]})

    def log_message(self, *_args):
        pass


@pytest.fixture
def hostile_platform():
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostilePlatform)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()
    HostilePlatform.reject_upload = False


@pytest.mark.parametrize("reject", [False, True])
def test_what_the_platform_answers_reaches_the_terminal_without_escapes(
    reject, hostile_platform, tmp_path, monkeypatch, capsys
):
    """Before, the scan URL, a platform policy's name and the platform's error message were printed as
    sent: an answer could clear the terminal, retitle it or plant a hidden hyperlink in a CI log."""
    HostilePlatform.reject_upload = reject
    (tmp_path / "app.py").write_text("import openai\n")
    base = f"http://127.0.0.1:{hostile_platform.server_port}"
    argv = ["scan", str(tmp_path), "--quiet", "--jobs", "1", "-o", str(tmp_path / "out.txt")]
    status = cli.main([*argv, "--upload", base, "--api-key", "tsk_x", "--wait", "--wait-timeout", "30"])
    err = capsys.readouterr().err
    assert status == (2 if reject else 1)
    assert ("upload failed: HTTP 422" if reject else "FAILED") in err
    assert "\\x1b]0;owned\\x07" in err
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", err)

"""A Python file that posts an LLM API request itself (a raw HTTP client and a vendor's inference route, no
SDK) uses AI: the model ids of that file count without other evidence in the project, a test that sends
such a request unstubbed really calls a model, and the OpenAI-format tools of its request body are tools.
That use is the file's own: it lends no support to the project's other catalog literals."""

from tests.unit.scanner_helpers import scan_tree

BRIDGE = """import os

import requests
from flask import Flask, jsonify, request

app = Flask(__name__)
UPSTREAM = f"http://localhost:{os.environ.get('PROXY_PORT', '2048')}/v1/chat/completions"
ENABLED_MODELS = {
    "gemini-2.0-flash",
    "gemini-1.5-pro",
}


@app.route("/api/chat", methods=["POST"])
def chat():
    data = request.get_json()
    model = data.get("model", "llama3.2")
    reply = requests.post(UPSTREAM, json={"model": model, "messages": data["messages"]}, timeout=60)
    return jsonify(reply.json())
"""

E2E = """import requests

BASE_URL = "http://127.0.0.1:2048"


def check_tool_calls():
    payload = {
        "model": "gemini-2.5-flash",
        "messages": [{"role": "user", "content": "Weather in Oslo?"}],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "lookup_weather",
                    "description": "Current weather for a city",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            }
        ],
    }
    reply = requests.post(f"{BASE_URL}/v1/chat/completions", json=payload, timeout=60)
    assert reply.json()["choices"][0]["message"]["tool_calls"]
"""

MOCKED = """from unittest.mock import MagicMock

import requests


BASE_URL = "http://127.0.0.1:2048"


def test_forwarding(monkeypatch):
    sent = MagicMock()
    monkeypatch.setattr(requests, "post", sent)
    payload = {"model": "gemini-1.5-flash", "messages": [], "tools": [{"type": "function",
        "function": {"name": "stub_tool", "description": "never sent"}}]}
    requests.post(f"{BASE_URL}/v1/chat/completions", json=payload)
    assert sent.called
"""

# a literal in a module that reaches no model, in a project whose only AI use is the files above
NORMALISER = """def cooldown_key(model_id):
    if "pro" in model_id:
        return "gemini-2.5-pro"
    return model_id
"""


def located(result, kind):
    return {(c.name, loc.file) for c in result.components if c.type == kind for loc in c.locations}


def test_a_file_posting_its_own_llm_request_reports_its_models(tmp_path):
    result = scan_tree(tmp_path, {"scripts/bridge.py": BRIDGE, "app/keys.py": NORMALISER})
    assert located(result, "model") == {
        ("gemini-2.0-flash", "scripts/bridge.py"),
        ("gemini-1.5-pro", "scripts/bridge.py"),
        ("llama3.2", "scripts/bridge.py"),
    }


def test_an_unstubbed_test_request_reports_its_model_and_tools_but_vouches_for_no_other_file(tmp_path):
    result = scan_tree(
        tmp_path,
        {"tests/verify_e2e.py": E2E, "tests/test_forwarding.py": MOCKED, "app/keys.py": NORMALISER},
    )
    assert located(result, "model") == {("gemini-2.5-flash", "tests/verify_e2e.py")}
    assert located(result, "tool") == {("lookup_weather", "tests/verify_e2e.py")}

"""Engineer AB's sample: model ids a mocked Python test hands the project's own code are input data;
a plain-text list of model ids configures the models an application offers; npm names declared for
Anthropic's and Vercel's SDKs."""

from common.scanner.test_data import mocked_python_test
from tests.unit.scanner_helpers import keys, scan_tree

MOCKED_TEST = """from unittest.mock import MagicMock, patch

from app.requests import ChatRequest, handle


def test_handle_switches_model():
    state = MagicMock(current_model_id="gemini-1.5-pro")
    request = ChatRequest(messages=[], model="gpt-4")
    with patch("app.browser.page", MagicMock()):
        assert handle(request, state).ok
"""

LIVE_TEST = """import os
from unittest.mock import patch

from app.chat import ask

API_KEY = os.environ["OPENAI_API_KEY"]


def test_ask_really_calls():
    with patch("app.chat.log"):
        assert ask("hi", model="gpt-4o-mini")
"""

POSTING_TEST = """import requests
from unittest.mock import patch


def test_proxy_end_to_end():
    with patch("time.sleep"):
        payload = {"model": "gpt-4o-mini", "messages": []}
        model_name = "gpt-4o-mini"
        requests.post("http://127.0.0.1:2048/v1/chat/completions", json=payload)
"""


def test_a_mocked_test_hands_its_model_ids_to_the_code_under_test(tmp_path):
    result = scan_tree(tmp_path, {"tests/test_handle.py": MOCKED_TEST})
    assert not [c for c in result.components if c.type == "model"]


def test_a_test_reading_a_provider_key_or_posting_for_real_keeps_its_models(tmp_path):
    result = scan_tree(tmp_path, {"tests/test_live.py": LIVE_TEST, "tests/test_post.py": POSTING_TEST})
    models = {(c.name, loc.file) for c in result.components if c.type == "model" for loc in c.locations}
    assert ("gpt-4o-mini", "tests/test_live.py") in models
    assert ("gpt-4o-mini", "tests/test_post.py") in models


def test_mocked_python_test_needs_a_mock_and_no_unstubbed_request():
    assert mocked_python_test(MOCKED_TEST)
    assert mocked_python_test("def test_x(monkeypatch):\n    monkeypatch.setenv('A', 'b')\n")
    assert not mocked_python_test("def test_x():\n    assert f(model='gpt-4') == 1\n")
    assert not mocked_python_test(POSTING_TEST)
    assert mocked_python_test(POSTING_TEST + "\n@responses.activate\ndef test_y():\n    pass\n")


MODEL_LIST = """# models hidden from the /v1/models listing
gemini-1.5-flash-001
gemini-2.0-flash-exp
imagen-3.0-generate-002

veo-2.0-generate-001
"""


def test_a_plain_text_model_list_names_each_model_once(tmp_path):
    result = scan_tree(tmp_path, {"excluded_models.txt": MODEL_LIST + "gemini-2.0-flash-exp\n"})
    found = {
        c.name: [(loc.file, loc.line) for loc in c.locations] for c in result.components if c.type == "model"
    }
    assert found == {
        "gemini-1.5-flash-001": [("excluded_models.txt", 2)],
        "gemini-2.0-flash-exp": [("excluded_models.txt", 3)],
        "imagen-3.0-generate-002": [("excluded_models.txt", 4)],
        "veo-2.0-generate-001": [("excluded_models.txt", 6)],
    }


def test_a_text_file_with_any_other_line_is_no_model_list(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "model_notes.txt": MODEL_LIST + "we tried these and kept gpt-4o\n",
            "models.txt": "torch==2.3.0\ngpt-4o\n",
            "notes.txt": "gpt-4o\n",
        },
    )
    assert not [c for c in result.components if c.type == "model"]


def test_npm_names_declared_for_anthropic_and_the_vercel_ai_sdk(tmp_path):
    manifest = '{"name": "chat", "dependencies": {"anthropic": "^0.9.0", "@vercel/ai": "^2.2.0"}}'
    result = scan_tree(tmp_path, {"package.json": manifest})
    assert {"llm_provider:anthropic", "agent_framework:vercel-ai"} <= keys(result)


REGISTRY = """import time


def tool_get_current_time(params):
    return {"current_time": time.time()}


def tool_echo(params):
    return {"echo": params}


FUNCTION_REGISTRY = {
    "get_current_time": tool_get_current_time,
    "echo": tool_echo,
}


def execute_tool_call(name, params):
    return FUNCTION_REGISTRY[name](params)
"""


def test_a_function_registry_a_model_s_tool_calls_run_through_holds_tools(tmp_path):
    result = scan_tree(tmp_path, {"api/tools_registry.py": REGISTRY})
    tools = {c.name: (c.provider, [(loc.file, loc.line) for loc in c.locations]) for c in result.components}
    assert tools == {
        "get_current_time": (None, [("api/tools_registry.py", 13)]),
        "echo": (None, [("api/tools_registry.py", 14)]),
    }


def test_a_registry_of_anything_but_functions_or_without_tool_calls_holds_none(tmp_path):
    settings = REGISTRY.replace('"echo": tool_echo', '"echo": {"enabled": True}')
    commands = REGISTRY.replace("def execute_tool_call", "def run_command")
    result = scan_tree(tmp_path, {"a/settings.py": settings, "b/commands.py": commands})
    assert not [c for c in result.components if c.type == "tool"]


def test_registry_tools_lend_no_support_to_catalog_literals_elsewhere(tmp_path):
    result = scan_tree(
        tmp_path, {"api/tools_registry.py": REGISTRY, "api/names.py": 'DEFAULT_ROUTE = ["gpt-4o", "other"]\n'}
    )
    assert not [c for c in result.components if c.type == "model"]


PURE_FUNCTION_TEST = """from app.sse import stream_chunk


def test_stream_chunk_carries_the_model():
    chunk = stream_chunk(delta="Hi", request_id="r1", model="gemini-1.5-pro")
    assert chunk.startswith("data: ")
"""


def test_a_test_that_mocks_nothing_hands_input_data_where_the_project_uses_no_ai(tmp_path):
    """A pure-function test (no mock, no SDK, no key, no request of its own) reaches a model only through
    the project's code: in a project that shows no AI use its model ids are input data; where the code
    under test uses an SDK, the same test may really call a model and keeps them."""
    sse = (
        "import json\n\n\ndef stream_chunk(delta, request_id, model):\n    return 'data: ' + json.dumps({})\n"
    )
    plain = scan_tree(tmp_path / "plain", {"app/sse.py": sse, "tests/test_sse.py": PURE_FUNCTION_TEST})
    assert "model:gemini-1.5-pro" not in keys(plain)
    llm = "from openai import OpenAI\n\nclient = OpenAI()\n"
    using_ai = scan_tree(
        tmp_path / "ai",
        {"app/sse.py": sse, "app/llm.py": llm, "tests/test_sse.py": PURE_FUNCTION_TEST},
    )
    assert "model:gemini-1.5-pro" in keys(using_ai)

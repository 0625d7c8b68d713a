"""Microsoft prompt flow projects, and the labelling-policy decisions taken with them
(bench/realworld/README.md, "Decisions, engineer O"): deployments named by model ids are models,
env-read defaults are models whatever an ``.env`` template says, disabled MCP servers stay in the
inventory, marked."""

from __future__ import annotations

from tests.unit.scanner_helpers import component, keys, scan_tree

AZURE_KEY = "9f3c2a7be41d58c06e7fa2b3c9d4e815"

PROMPTY = """---
name: basic evaluate
model:
  api: chat
  configuration:
    type: azure_openai
    azure_deployment: gpt-4o
    api_key: ${env:AZURE_OPENAI_API_KEY}
---
system:
You are an evaluator. Compare the answer with what gpt-4o-mini: would say.
model: claude-3-5-sonnet-20241022
"""


def test_prompt_flow_package_is_a_framework_and_its_tool_decorator_a_dag_node(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "requirements.txt": "promptflow[azure]\npromptflow-tools\n",
            "qna_tool.py": "from promptflow.core import tool\n\n@tool\ndef qna_tool(question: str) -> str:\n"
            "    return question\n",
        },
    )
    framework = component(result, "agent_framework:promptflow")
    assert {(loc.file, loc.line) for loc in framework.locations} >= {
        ("requirements.txt", 1),
        ("qna_tool.py", 1),
    }
    assert not {k for k in keys(result) if k.startswith("tool:")}


def test_prompty_front_matter_names_the_model_and_its_prompt_body_is_prose(tmp_path):
    result = scan_tree(tmp_path, {"flows/eval.prompty": PROMPTY})
    assert {k for k in keys(result) if k.startswith("model:")} == {"model:gpt-4o"}
    assert component(result, "model:gpt-4o").locations[0].line == 7


def test_prompt_flow_azure_connection_key_is_hardcoded_but_placeholders_are_not(tmp_path):
    connection = 'name: open_ai_connection\ntype: azure_open_ai\napi_key: "{key}"\napi_base: "https://x.openai.azure.com/"\n'
    result = scan_tree(
        tmp_path,
        {
            "connections/azure_openai.yaml": connection.format(key=AZURE_KEY),
            "connections/template.yaml": connection.format(key="<user-input>"),
            "settings/other.yaml": f'type: storage\napi_key: "{AZURE_KEY}"\n',
        },
    )
    azure = component(result, "llm_provider:azure-openai")
    assert "hardcoded_api_key" in azure.flags
    keyed = {
        loc.file
        for loc in azure.locations
        if "****" in (loc.snippet or "") or AZURE_KEY[:3] in (loc.snippet or "")
    }
    assert keyed == {"connections/azure_openai.yaml"}
    assert AZURE_KEY not in str(result)


def test_a_deployment_named_by_its_model_id_is_that_model(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "config/default.yaml": 'openai:\n  deployment_name: "gpt-4"\n  chat_deployment: my-chat-prod\n',
            ".env.example": "AZURE_OPENAI_DEPLOYMENT=gpt-4o\nAZURE_OPENAI_EMBEDDING_DEPLOYMENT=embed-01\n",
            "run.py": "from promptflow.client import PFClient\n\nconfig = {\n"
            '    "CHAT_MODEL_DEPLOYMENT_NAME": "gpt-35-turbo",\n'
            '    "EMBEDDING_DEPLOYMENT": "team-embedder",\n}\n',
        },
    )
    assert {k for k in keys(result) if k.startswith("model:")} == {
        "model:gpt-4",
        "model:gpt-4o",
        "model:gpt-35-turbo",
    }


def test_an_env_read_model_default_is_reported_beside_the_env_template_value(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "backend/.env.example": "LLM_MODEL_NAME=qwen-plus\n",
            "backend/config.py": (
                'import os\n\nLLM_MODEL_NAME = os.environ.get("LLM_MODEL_NAME", "claude-sonnet-4-5")\n'
            ),
        },
    )
    default = component(result, "model:claude-sonnet-4-5")
    assert [(loc.file, loc.line) for loc in default.locations] == [("backend/config.py", 3)]


def test_a_disabled_mcp_server_is_inventoried_and_marked(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            ".cursor/mcp.json": '{"mcpServers": {"github": {"command": "npx", "args": ["-y", '
            '"@modelcontextprotocol/server-github"], "disabled": true}, "fetch": {"command": "uvx", '
            '"args": ["mcp-server-fetch"]}}}\n',
        },
    )
    assert component(result, "mcp_server:github").metadata.get("disabled") is True
    assert "disabled" not in component(result, "mcp_server:fetch").metadata

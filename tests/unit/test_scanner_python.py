from common.scanner.model import Location
from tests.unit.scanner_helpers import component, keys, scan_tree, tool_sites


def test_asyncio_task_is_not_crewai_but_crewai_task_is(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "jobs.py": "import asyncio\n\nasync def main():\n    asyncio.Task(asyncio.sleep(1))\n",
            "crew.py": "from crewai import Task\n\nTask(description='x', expected_output='y')\n",
        },
    )
    crewai = component(result, "agent_framework:crewai")
    assert {loc.file for loc in crewai.locations} == {"crew.py"}
    assert {loc.line for loc in crewai.locations} == {1, 3}


def test_model_on_another_line_through_a_module_constant(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "app.py": (
                "from openai import OpenAI\n"
                "MODEL = 'gpt-4o-2024-08-06'\n"
                "client = OpenAI()\n"
                "client.chat.completions.create(\n"
                "    messages=[],\n"
                "    temperature=0,\n"
                "    model=MODEL,\n"
                ")\n"
            )
        },
    )
    model = component(result, "model:gpt-4o-2024-08-06")
    assert model.locations == [Location("app.py", 4, "client.chat.completions.create(")]
    assert model.provider == "OpenAI"
    assert "unpinned_model" not in model.flags


def test_model_kwarg_without_an_ai_import_is_not_a_model(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "train.py": (
                "from sklearn.linear_model import LogisticRegression\n"
                "def fit(model='gpt-4o'):\n"
                "    model = LogisticRegression()\n"
                "    return dict(model='resnet-50')\n"
            )
        },
    )
    assert not any(c.type == "model" for c in result.components)


def test_unknown_model_name_needs_an_sdk_call(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "chat.py": (
                "import ollama\n"
                "ollama.chat(model='my-finetune-7b', messages=[])\n"
                "settings = dict(model='user-profile-v2')\n"
            )
        },
    )
    assert "model:my-finetune-7b" in keys(result)
    assert "model:user-profile-v2" not in keys(result)


def test_hugging_face_ids_and_revision_pinning(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "hf.py": (
                "from transformers import AutoModel, pipeline\n"
                "AutoModel.from_pretrained('meta-llama/Llama-3.2-1B', revision='abc123')\n"
                "pipeline('text-generation', model='acme/private-model')\n"
                "pipeline('sentiment-analysis')\n"
            )
        },
    )
    assert "unpinned_model" not in component(result, "model:meta-llama/llama-3.2-1b").flags
    assert "unpinned_model" in component(result, "model:acme/private-model").flags
    assert "model:sentiment-analysis" not in keys(result)


def test_tools_mcp_servers_and_dangerous_code(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "server.py": (
                "import subprocess\n"
                "from mcp.server.fastmcp import FastMCP\n"
                "mcp = FastMCP('files')\n"
                "@mcp.tool()\n"
                "def run(cmd: str) -> str:\n"
                "    return subprocess.check_output(cmd, shell=True).decode()\n"
                "@mcp.tool()\n"
                "def read(path: str) -> str:\n"
                "    return open(path).read()\n"
            )
        },
    )
    server = component(result, "mcp_server:files")
    run = component(result, "tool:run")
    assert "dangerous_code" in run.flags
    assert "dangerous_code" not in component(result, "tool:read").flags
    edges = {(r.source, r.relation, r.target) for r in result.relationships}
    assert (server.id, "provides_tool", run.id) in edges


def test_agent_tool_and_model_wiring_in_one_file(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "agent.py": (
                "from langchain_core.tools import tool\n"
                "from langchain_openai import ChatOpenAI\n"
                "from langchain.agents import AgentExecutor\n"
                "@tool\n"
                "def search(q: str) -> str:\n"
                "    '''Search.'''\n"
                "    return q\n"
                "llm = ChatOpenAI(model='gpt-4o-mini')\n"
                "executor = AgentExecutor(agent=None, tools=[search], llm=llm)\n"
            )
        },
    )
    langchain = component(result, "agent_framework:langchain")
    edges = {(r.source, r.relation, r.target) for r in result.relationships}
    assert (langchain.id, "uses_tool", component(result, "tool:search").id) in edges
    assert (langchain.id, "uses_model", component(result, "model:gpt-4o-mini").id) in edges


def test_bedrock_through_boto3_and_self_hosted_base_url(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "svc.py": (
                "import boto3\n"
                "from openai import OpenAI\n"
                "runtime = boto3.client('bedrock-runtime')\n"
                "s3 = boto3.client('s3')\n"
                "local = OpenAI(base_url='http://localhost:11434/v1', api_key='ollama')\n"
            )
        },
    )
    assert "llm_provider:aws-bedrock" in keys(result)
    endpoint = component(result, "endpoint:localhost:11434")
    assert endpoint.provider == "Ollama"
    openai = component(result, "llm_provider:openai")
    assert any(
        r.source == openai.id and r.target == endpoint.id and r.relation == "calls"
        for r in result.relationships
    )


def test_docstring_urls_are_not_endpoints_but_string_literals_are(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "raw.py": (
                '"""Talks to https://api.anthropic.com without the SDK."""\n'
                "import requests\n"
                "URL = 'https://api.mistral.ai/v1/chat/completions'\n"
                "requests.post(URL, json={'model': 'mistral-large-latest'})\n"
            )
        },
    )
    assert keys(result) == {"endpoint:api.mistral.ai", "model:mistral-large-latest"}


def test_unparseable_python_with_an_ai_import_is_a_warning(tmp_path):
    result = scan_tree(tmp_path, {"broken.py": "import openai\ndef (:\n", "ok.py": "import anthropic\n"})
    assert "llm_provider:anthropic" in keys(result)
    assert [w.file for w in result.warnings] == ["broken.py"]


def test_notebook_cells_share_constants_and_report_cell_and_line(tmp_path):
    import json

    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["openai gpt-4o notes"]},
            {"cell_type": "code", "source": ["%pip install openai\n", "import openai\n", "M = 'o1-preview'"]},
            {
                "cell_type": "code",
                "source": ["c = openai.OpenAI()\n", "c.chat.completions.create(\n", "  model=M)"],
            },
        ],
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
    }
    result = scan_tree(tmp_path, {"nb.ipynb": json.dumps(notebook)})
    model = component(result, "model:o1-preview")
    assert model.locations[0].line == 2
    assert model.locations[0].snippet.startswith("[cell 3, line 2]")
    assert "retired_model" in model.flags
    assert "model:gpt-4o" not in keys(result)


def test_bedrock_client_of_a_session_held_in_a_variable(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "stream.py": (
                "import aioboto3\n"
                "\n"
                "async def ask():\n"
                "    session = aioboto3.Session()\n"
                "    async with session.client('bedrock-runtime') as client:\n"
                "        return await client.converse(modelId='amazon.nova-lite-v1:0', messages=[])\n"
            ),
            "queue.py": "import boto3\n\nsession = boto3.Session()\nqueue = session.client('sqs')\n",
        },
    )
    bedrock = component(result, "llm_provider:aws-bedrock")
    assert {(loc.file, loc.line) for loc in bedrock.locations} == {("stream.py", 5)}


def test_catalog_literal_counts_in_a_project_that_loads_models_with_transformers(tmp_path):
    train = (
        "import argparse\n"
        "import torch\n"
        "{runtime}"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--encoder', help='pretrained encoder', default='xlm-roberta-base')\n"
        "parser.add_argument('--opt-level', default='O1')\n"
    )
    with_runtime = scan_tree(tmp_path / "hub", {"train.py": train.format(runtime="import transformers\n")})
    assert "model:xlm-roberta-base" in keys(with_runtime)
    assert not {key for key in keys(with_runtime) if key.lower() == "model:o1"}
    torch_only = scan_tree(tmp_path / "own", {"train.py": train.format(runtime="")})
    assert "model:xlm-roberta-base" not in keys(torch_only)


def test_file_in_newer_python_syntax_is_still_read(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "situate.py": (
                "import chromadb\n"
                "from anthropic import Anthropic\n"
                "\n"
                "def prompt(chunks):\n"
                '    return f"""Context:\n'
                '    {"\\n".join(chunks)}\n'
                '    """\n'
                "\n"
                "type Chunks = list[str]\n"
                "client = Anthropic()\n"
                "client.messages.create(model='claude-3-5-haiku-20241022', max_tokens=64, messages=[])\n"
            ),
            "broken.py": "import openai\ndef (:\n    pass\n)]\n" * 20,
        },
    )
    assert {"vector_db:chromadb", "llm_provider:anthropic", "model:claude-3-5-haiku-20241022"} <= keys(result)
    model = component(result, "model:claude-3-5-haiku-20241022")
    assert [(loc.file, loc.line) for loc in model.locations] == [("situate.py", 11)]
    assert "llm_provider:openai" not in keys(result)


def test_notebook_calling_the_projects_own_helper_names_its_model(tmp_path):
    import json

    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["Streaming with claude-3-opus is slower."]},
            {
                "cell_type": "code",
                "source": [
                    "from helpers import client\n",
                    "def stream(messages, model='claude-3-haiku-20240307'):\n",
                    "    return client.messages.stream(model=model, messages=messages, max_tokens=256)\n",
                ],
            },
        ],
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
    }
    helpers = "from anthropic import Anthropic\n\nclient = Anthropic()\n"
    result = scan_tree(tmp_path, {"lesson.ipynb": json.dumps(notebook), "helpers.py": helpers})
    model = component(result, "model:claude-3-haiku-20240307")
    assert [(loc.file, loc.line) for loc in model.locations] == [("lesson.ipynb", 2)]
    assert model.locations[0].snippet.startswith("[cell 2, line 2]")
    assert "model:claude-3-opus" not in keys(result)


def test_openai_agents_function_tool_constructor_and_agent_handed_as_a_tool(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "agents_app.py": (
                "from agents import Agent, FunctionTool, Runner\n"
                "\n"
                "refund_tool = FunctionTool(\n"
                '    name="issue_refund",\n'
                '    description="Refund an order",\n'
                "    params_json_schema=REFUND_SCHEMA,\n"
                "    on_invoke_tool=issue_refund,\n"
                ")\n"
                'french = Agent(name="French", instructions="Translate into French")\n'
                "triage = Agent(\n"
                '    name="triage",\n'
                '    tools=[french.as_tool(tool_name="to_french", tool_description="Translate")],\n'
                ")\n"
            )
        },
    )
    assert tool_sites(result) == {
        ("issue_refund", "OpenAI", "agents_app.py", 3),
        ("to_french", "OpenAI", "agents_app.py", 12),
    }


def test_an_as_tool_call_outside_the_openai_agents_sdk_is_no_tool(tmp_path):
    result = scan_tree(
        tmp_path,
        {"report.py": ('from langchain_core.tools import tool\n\nframe.as_tool(tool_name="export")\n')},
    )
    assert tool_sites(result) == set()


def test_microsoft_agent_framework_ai_function_decorator(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "weather.py": (
                "from agent_framework import ai_function\n"
                "\n"
                '@ai_function(name="city_weather", description="Weather in a city")\n'
                "def weather(city: str) -> str:\n"
                '    return "rain"\n'
            )
        },
    )
    assert tool_sites(result) == {("city_weather", "Microsoft", "weather.py", 3)}


def test_functions_handed_to_letta_adk_long_running_and_azure_function_sets(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "letta_tools.py": (
                "from letta_client import Letta\n"
                "\n"
                'client = Letta(base_url="http://localhost:8283")\n'
                "\n"
                "def flip_coin() -> str:\n"
                '    """Flip a coin."""\n'
                '    return "heads"\n'
                "\n"
                "def draw_card() -> str:\n"
                '    """Draw a card."""\n'
                '    return "ace"\n'
                "\n"
                "client.tools.upsert_from_function(func=flip_coin)\n"
                "client.tools.create_from_function(func=draw_card)\n"
            ),
            "adk_tools.py": (
                "from google.adk.tools import LongRunningFunctionTool\n"
                "\n"
                "def request_leave(days: int) -> dict:\n"
                '    """Ask a manager for leave."""\n'
                "    return {}\n"
                "\n"
                "leave_tool = LongRunningFunctionTool(func=request_leave)\n"
            ),
            "azure_tools.py": (
                "from typing import Any, Callable, Set\n"
                "\n"
                "from azure.ai.agents.models import FunctionTool\n"
                "\n"
                "def current_time() -> str:\n"
                '    """The time now."""\n'
                '    return "noon"\n'
                "\n"
                "user_functions: Set[Callable[..., Any]] = {current_time}\n"
                "functions = FunctionTool(functions=user_functions)\n"
            ),
        },
    )
    assert tool_sites(result) == {
        ("flip_coin", "Letta", "letta_tools.py", 5),
        ("draw_card", "Letta", "letta_tools.py", 9),
        ("request_leave", "Google", "adk_tools.py", 3),
        ("current_time", "Microsoft Azure", "azure_tools.py", 5),
    }


def test_schema_class_bound_as_a_tool_is_named_after_the_class(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "bound.py": (
                "from langchain_openai import ChatOpenAI\n"
                "from pydantic import BaseModel, Field\n"
                "\n"
                "class lookup_flight(BaseModel):\n"
                '    """Find a flight by number."""\n'
                "\n"
                '    number: str = Field(..., description="Flight number")\n'
                "\n"
                "class Answer(BaseModel):\n"
                "    text: str\n"
                "\n"
                'llm = ChatOpenAI(model="gpt-4o-mini")\n'
                "with_tools = llm.bind_tools([lookup_flight])\n"
                "structured = llm.with_structured_output(Answer)\n"
            )
        },
    )
    assert tool_sites(result) == {("lookup_flight", "LangChain", "bound.py", 4)}


def test_adk_agent_tool_is_named_as_the_agent_it_wraps(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "root.py": (
                "from google.adk.agents import Agent\n"
                "from google.adk.tools.agent_tool import AgentTool\n"
                "\n"
                'critic = Agent(model="gemini-2.0-flash", name="critic", instruction="Review")\n'
                'root_agent = Agent(model="gemini-2.0-flash", name="root", tools=[AgentTool(agent=critic)])\n'
            )
        },
    )
    assert ("critic", "Google", "root.py", 5) in tool_sites(result)


def test_strands_module_tool_is_named_by_its_tool_spec(tmp_path):
    spec = (
        "TOOL_SPEC = {\n"
        '    "name": "currency_rate",\n'
        '    "description": "Exchange rate of a currency",\n'
        '    "inputSchema": {"json": {"type": "object", "properties": {}}},\n'
        "}\n"
    )
    result = scan_tree(
        tmp_path,
        {
            "tools/currency_rate.py": "from strands.types.tools import ToolResult, ToolUse\n\n" + spec,
            "settings/layout.py": "import json\n\n" + spec,
        },
    )
    assert tool_sites(result) == {("currency_rate", "Amazon Web Services", "tools/currency_rate.py", 3)}


def test_phidata_toolkit_registering_its_methods(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "paper_tools.py": (
                "from phi.tools import Toolkit\n"
                "\n"
                "class PaperTools(Toolkit):\n"
                "    def __init__(self):\n"
                '        super().__init__(name="paper_tools")\n'
                "        self.register(self.find_papers)\n"
                "\n"
                "    def find_papers(self, query: str) -> str:\n"
                "        return query\n"
            )
        },
    )
    assert tool_sites(result) == {("find_papers", "Agno", "paper_tools.py", 8)}

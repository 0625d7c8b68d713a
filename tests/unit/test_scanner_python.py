from common.scanner.model import Location
from tests.unit.scanner_helpers import component, keys, scan_tree


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

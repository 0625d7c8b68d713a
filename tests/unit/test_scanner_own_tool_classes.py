"""Tools a project writes for its own agent loop, and framework tools registered on a server or agent that
another module builds or that a function is handed: classes with a name the model calls, a description and
a method the loop runs (Python) or fields (TypeScript) are tools with no provider in a project using an LLM
SDK; ``@mcp.tool()`` inside ``def register(mcp: FastMCP)`` and ``@support_agent.tool`` on an imported
Pydantic AI agent are their framework's tools."""

from tests.unit.scanner_helpers import scan_tree

REQUIREMENTS = "openai>=1.40\n"

PY_TOOLS = """\
from .base import Tool


class ReadFile(Tool):
    name = "read_file"
    description = "Read a file."
    parameters = {"type": "object"}

    def execute(self, path: str) -> str:
        return open(path).read()


class ShellTool:
    def __init__(self):
        self.name = "run_shell"
        self.description = "Run a command."

    def __call__(self, command: str) -> str:
        return command


class NotesTool:
    def __init__(self, index):
        super().__init__(name="search_notes", description="Search notes.")

    async def arun(self, query: str) -> list:
        return []
"""


def tools_of(result) -> dict[str, set[tuple[str, str | None, int]]]:
    return {
        c.name: {(loc.file, c.provider, loc.line) for loc in c.locations}
        for c in result.components
        if c.type == "tool"
    }


def test_own_python_tool_classes_in_a_project_declaring_an_llm_sdk(tmp_path):
    result = scan_tree(tmp_path, {"requirements.txt": REQUIREMENTS, "agent/tools.py": PY_TOOLS})
    assert tools_of(result) == {
        "read_file": {("agent/tools.py", None, 4)},
        "run_shell": {("agent/tools.py", None, 13)},
        "search_notes": {("agent/tools.py", None, 22)},
    }


def test_own_python_tool_classes_need_llm_use(tmp_path):
    manifest = "rich==13.7.1\nclick>=8\n"
    result = scan_tree(tmp_path, {"requirements.txt": manifest, "agent/tools.py": PY_TOOLS})
    assert tools_of(result) == {}


def test_an_llm_import_in_the_module_is_enough(tmp_path):
    code = PY_TOOLS.replace("from .base import Tool\n", "import anthropic\n\n\nclass Tool:\n    name: str\n")
    result = scan_tree(tmp_path, {"tools.py": code})
    assert set(tools_of(result)) == {"read_file", "run_shell", "search_notes"}


def test_tool_named_classes_without_the_shape_of_one_are_not_tools(tmp_path):
    code = """\
class ExportTool:
    name = "export"

    def run(self, path):
        return path


class FormatTool:
    name = "format"
    description = "Format the tree."


class LintTool:
    name = "lint"
    description = "Lint the tree."

    def configure(self):
        return None


class Base(Tool):
    name = dynamic_name()
    description = "computed"

    def run(self):
        return None
"""
    result = scan_tree(
        tmp_path,
        {"requirements.txt": REQUIREMENTS, "cli/tools.py": code, "tests/test_tools.py": PY_TOOLS},
    )
    assert tools_of(result) == {}


def test_a_framework_tool_class_keeps_its_framework(tmp_path):
    code = """\
from crewai.tools import BaseTool


class Lookup(BaseTool):
    name: str = "lookup"
    description: str = "Look up a record."

    def _run(self, key: str) -> str:
        return key
"""
    result = scan_tree(tmp_path, {"requirements.txt": REQUIREMENTS, "tools.py": code})
    assert tools_of(result) == {"lookup": {("tools.py", "CrewAI", 4)}}


TS_TOOLS = """\
import { AgentTool } from "./base.js";
import { StructuredTool } from "@langchain/core/tools";
import { z } from "zod";

export class ShellTool extends AgentTool {
  name = "bash";
  description = "Run a command {cwd}.";
  input_schema = { type: "object", properties: { command: { type: "string" } } };
  async run() { return ""; }
}

export class ListFiles implements AgentTool {
  readonly name: string = "list_files";
  readonly description = "List files.";
  parameters = { type: "object", properties: {} };
  async run() { return ""; }
}

export class Banner extends AgentTool {
  name = "banner";
  description = "No schema: the model never calls it.";
}

export class Docs extends StructuredTool {
  name = "docs_search";
  description = "Search docs.";
  schema = z.object({ q: z.string() });
  async _call() { return ""; }
}
"""


def test_own_typescript_tool_classes(tmp_path):
    package = '{"name": "agent", "dependencies": {"@anthropic-ai/sdk": "0.39.0", "@langchain/core": "0.3.0"}}'
    result = scan_tree(tmp_path, {"package.json": package, "src/tools.ts": TS_TOOLS})
    assert tools_of(result) == {
        "bash": {("src/tools.ts", None, 6)},
        "list_files": {("src/tools.ts", None, 13)},
        "docs_search": {("src/tools.ts", "LangChain", 24)},
    }


def test_own_typescript_tool_classes_need_an_llm_sdk_in_the_manifest(tmp_path):
    package = '{"name": "cli", "dependencies": {"commander": "12.0.0"}}'
    result = scan_tree(
        tmp_path, {"package.json": package, "src/tools.ts": TS_TOOLS.replace("@langchain", "@x")}
    )
    assert tools_of(result) == {}


def test_mcp_tools_registered_on_a_handed_server(tmp_path):
    typed = """\
from mcp.server.fastmcp import FastMCP


def register(mcp: FastMCP) -> None:
    @mcp.tool()
    def get_issue(issue_id: str) -> dict:
        return {}

    @mcp.tool(name="close_issue")
    def close(issue_id: str) -> str:
        return issue_id
"""
    untyped = """\
from mcp.server.fastmcp import Context


def register(server, app) -> None:
    @server.tool()
    def list_projects(ctx: Context) -> list:
        return []

    @app.tool()
    def not_a_server(ctx: Context) -> list:
        return []
"""
    result = scan_tree(tmp_path, {"tools/issues.py": typed, "tools/projects.py": untyped})
    mcp = "Model Context Protocol"
    assert tools_of(result) == {
        "get_issue": {("tools/issues.py", mcp, 5)},
        "close_issue": {("tools/issues.py", mcp, 9)},
        "list_projects": {("tools/projects.py", mcp, 5)},
    }


def test_tools_of_an_imported_pydantic_ai_agent_and_a_llamaindex_async_function(tmp_path):
    code = """\
from llama_index.core.tools import FunctionTool
from pydantic_ai import RunContext

from .agent import support_agent


@support_agent.tool
async def balance(ctx: RunContext[str]) -> float:
    return 0.0


@support_agent.tool_plain
def opening_hours() -> str:
    return "9-17"


async def fetch_statement(month: str) -> str:
    return month


statement = FunctionTool.from_defaults(async_fn=fetch_statement)
"""
    result = scan_tree(tmp_path, {"support/tools.py": code})
    assert tools_of(result) == {
        "balance": {("support/tools.py", "Pydantic", 7)},
        "opening_hours": {("support/tools.py", "Pydantic", 12)},
        "fetch_statement": {("support/tools.py", "LlamaIndex", 17)},
    }


def test_function_tools_handed_to_other_llm_clients(tmp_path):
    spec = """\
TOOLS = [
    {
        "type": "function",
        "function": {"name": "lookup_invoice", "description": "Find an invoice.", "parameters": {}},
    }
]
"""
    result = scan_tree(
        tmp_path,
        {
            "litellm_router.py": "from litellm import completion\n\n" + spec,
            "by_hand.py": 'import httpx\n\nURL = "https://api.openai.com/v1/chat/completions"\n'
            + spec.replace("lookup_invoice", "issue_refund"),
            "plain.py": "import json\n\n" + spec.replace("lookup_invoice", "total_price"),
        },
    )
    assert tools_of(result) == {
        "lookup_invoice": {("litellm_router.py", "OpenAI", 6)},
        "issue_refund": {("by_hand.py", "OpenAI", 7)},
    }


def test_functions_under_the_projects_own_tool_registry(tmp_path):
    code = """\
import atexit

from langchain_core.tools import tool as lc_tool

from .registry import register_tool, tool
from . import tool_registry


@tool(name="read_file", description="Read a file")
def read(path: str) -> str:
    return path


@register_tool
def write_file(path: str) -> None:
    pass


@tool_registry.register("grep")
def search(pattern: str) -> list:
    return []


@lc_tool
def summarize(text: str) -> str:
    return text


@atexit.register
def cleanup() -> None:
    pass
"""
    result = scan_tree(tmp_path, {"requirements.txt": REQUIREMENTS, "agent/tools.py": code})
    assert tools_of(result) == {
        "read_file": {("agent/tools.py", None, 10)},
        "write_file": {("agent/tools.py", None, 15)},
        "grep": {("agent/tools.py", None, 20)},
        "summarize": {("agent/tools.py", "LangChain", 24)},
    }
    without_llm = scan_tree(
        tmp_path / "cli",
        {
            "requirements.txt": "click\n",
            "tools.py": code.replace("from langchain_core.tools import tool as lc_tool\n", ""),
        },
    )
    assert tools_of(without_llm) == {}


def test_tools_built_from_the_projects_own_tool_type(tmp_path):
    code = """\
import requests

API = "https://api.openai.com/v1/chat/completions"

scraper = CustomTool(
    name="web_scraper",
    description="Extract a page's text.",
    parameters=[{"name": "url", "type": "string"}],
)
final = ToolSpec(name="finish", description="Return the answer.", handler=print)
spinner = ProgressTool(name="spinner", description="A progress widget.")
"""
    result = scan_tree(tmp_path, {"agent.py": code})
    assert tools_of(result) == {"web_scraper": {("agent.py", None, 5)}, "finish": {("agent.py", None, 10)}}
    no_llm = scan_tree(tmp_path / "cli", {"tools.py": code.replace("api.openai.com", "example.com")})
    assert tools_of(no_llm) == {}

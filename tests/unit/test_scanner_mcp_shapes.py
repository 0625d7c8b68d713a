"""MCP clients, servers and tools in the shapes SDKs and agent frameworks write them (fresh-sample hunt)."""

from common.scanner import scan_path
from tests.unit.scanner_helpers import component, count_opens, keys, scan_tree, write_tree

AGENT = """from google.adk.agents import LlmAgent

from app.tools.bank import get_balance, post_note, summarize

root_agent = LlmAgent(name="bank", model="gemini-2.0-flash", tools=[get_balance, post_note])
print(summarize)
"""
BANK = """from crewai.tools import tool


def get_balance(account_id: str) -> str:
    return account_id


@tool("Note poster")
def post_note(text: str) -> str:
    return text


def summarize(text: str) -> str:
    return text
"""


def test_function_another_module_defines_is_a_tool_where_it_is_defined(tmp_path):
    result = scan_tree(tmp_path, {"app/agent.py": AGENT, "app/tools/bank.py": BANK, "app/__init__.py": ""})
    balance = component(result, "tool:get_balance")
    assert [(loc.file, loc.line) for loc in balance.locations] == [("app/tools/bank.py", 4)]
    assert balance.provider == "Google"
    # decorated, it is the decorator's tool already; not handed to the agent, it is no tool at all
    assert "tool:post_note" not in keys(result) and "tool:note poster" in keys(result)
    assert "tool:summarize" not in keys(result)


def test_imported_function_outside_the_scan_or_unknown_names_nothing(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "agent.py": "from google.adk.agents import Agent\nfrom helpers.web import search\n"
            "Agent(tools=[search])\n"
        },
    )
    assert not {k for k in keys(result) if k.startswith("tool:")}


def test_mcp_decorator_applied_by_hand(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "server.py": "from mcp.server.fastmcp import FastMCP\nfrom handlers import fetch\n"
            'mcp = FastMCP("notes")\n\n\ndef add(a: int) -> int:\n    return a\n\n\n'
            'mcp.tool()(add)\nmcp.tool(name="fetch_page")(fetch)\n',
            "handlers.py": "def fetch(url: str) -> str:\n    return url\n",
        },
    )
    assert component(result, "tool:add").locations[0].file == "server.py"
    assert component(result, "tool:fetch_page").locations[0].file == "handlers.py"


def test_tool_record_names_the_tool_beside_its_schema_config(tmp_path):
    record = (
        'export const listTool = {\n  name: "list_accounts",\n  definition: {\n'
        '    description: "List",\n    inputSchema: {},\n  },\n  handler: async () => ({}),\n};\n'
    )
    result = scan_tree(
        tmp_path,
        {
            "srv/package.json": '{"dependencies": {"@modelcontextprotocol/sdk": "^1.12.0"}}',
            "srv/src/tools/list.ts": record,
            "plain/package.json": '{"dependencies": {"zod": "^3.0.0"}}',
            "plain/src/form.ts": record.replace("list_accounts", "form_field"),
        },
    )
    assert component(result, "tool:list_accounts").locations[0].line == 2
    assert "tool:form_field" not in keys(result)  # no MCP SDK in the package: a form, not a tool


def test_aliased_vercel_client_and_mastra_configuration(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "route.ts": 'import { experimental_createMCPClient as createMcpClient } from "ai";\n'
            "const c = await createMcpClient({\n"
            '  transport: { type: "sse", url: "http://localhost:8081/sse" },\n});\n',
            "mcp.ts": 'import { MCPConfiguration } from "@mastra/mcp";\n'
            "export const mcp = new MCPConfiguration({\n  servers: {\n"
            '    weather: { url: new URL("http://localhost:8080/sse") },\n'
            '    git: { command: "uvx", args: ["mcp-server-git"] },\n  },\n});\n',
        },
    )
    assert component(result, "mcp_client:ai").locations[0].file == "route.ts"
    assert {"mcp_client:@mastra/mcp", "mcp_server:weather", "mcp_server:git"} <= keys(result)
    assert "mcp_server:localhost:8081" not in keys(result)


def test_nameless_csharp_and_java_clients_are_named_after_the_sdk(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Client/Program.cs": "using ModelContextProtocol.Client;\n"
            "var t = new StdioClientTransport(new StdioClientTransportOptions\n{\n"
            '    Command = "npx",\n    Arguments = ["-y", "@modelcontextprotocol/server-memory"],\n});\n'
            'var local = new StdioClientTransport(new() { Command = "dotnet", Arguments = ["run"] });\n'
            "var client = await McpClientFactory.CreateAsync(t);\n",
            "Server/Program.cs": "using ModelContextProtocol.Server;\n"
            'var echo = McpServerTool.Create((string m) => m, new() { Name = "echo" });\n'
            "builder.Services.AddMcpServer().WithStdioServerTransport().WithTools([echo]);\n",
            "java/Probe.java": "import io.modelcontextprotocol.client.McpClient;\n"
            "class Probe { void run() { var c = McpClient.sync(transport).build(); } }\n",
        },
    )
    found = keys(result)
    assert {"mcp_client:modelcontextprotocol", "mcp_client:io.modelcontextprotocol.sdk:mcp"} <= found
    assert "mcp_server:@modelcontextprotocol/server-memory" in found and "tool:echo" in found
    assert "mcp_client:client" not in found and "mcp_client:java" not in found
    assert not {k for k in found if k.startswith("mcp_server:") and "dotnet" in k}


def test_agent_framework_mcp_adapters_are_clients(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "agno_agent.py": "from agno.tools.mcp import MCPTools\n"
            'tools = MCPTools(command="uvx mcp-server-git")\n',
            "crew.py": "from crewai_tools import MCPServerAdapter\n"
            'with MCPServerAdapter({"url": "http://localhost:8000/sse"}) as tools:\n    pass\n',
            "plain.py": "from agno.tools.duckduckgo import DuckDuckGoTools\ntools = DuckDuckGoTools()\n",
        },
    )
    assert {"mcp_client:agno", "mcp_server:mcp-server-git", "mcp_client:crewai"} <= keys(result)
    assert [loc.file for loc in component(result, "mcp_client:agno").locations] == ["agno_agent.py"]


def test_a_tools_module_many_agents_import_is_read_once_for_them(tmp_path, monkeypatch):
    """Each agent handing in a function of ``tools.py`` asks for its definitions: the module is read (and
    parsed) once for all of them, besides the walk's own read of it."""
    files = {"tools.py": "def lookup(q: str) -> str:\n    return q\n"}
    for index in range(12):
        files[f"agents/a{index}.py"] = (
            "from google.adk.agents import Agent\nfrom tools import lookup\nAgent(tools=[lookup])\n"
        )
    write_tree(tmp_path, files)
    opened = count_opens(monkeypatch, tmp_path / "tools.py")
    result = scan_path(tmp_path, jobs=1)
    assert [loc.file for loc in component(result, "tool:lookup").locations] == ["tools.py"]
    assert len(opened) <= 2, len(opened)


def test_dotnet_settings_list_the_servers_an_app_starts(tmp_path):
    settings = (
        '{"McpServers": {"local": {"Command": "dotnet", "Arguments": ["run", "--project", "../Srv"]},\n'
        '  "github": {"Command": "npx", "Arguments": ["-y", "@modelcontextprotocol/server-github"]},\n'
        '  "Defaults": {"TimeoutSeconds": 30}}}\n'
    )
    result = scan_tree(
        tmp_path, {"Client/appsettings.Development.json": settings, "Other/servers.json": settings}
    )
    found = keys(result)
    assert {"mcp_server:local", "mcp_server:github"} <= found and "mcp_server:Defaults" not in found
    assert not component(result, "mcp_server:local").flags  # the app's own project, not a package
    assert {loc.file for loc in component(result, "mcp_server:github").locations} == {
        "Client/appsettings.Development.json"
    }


def test_quarkus_names_its_mcp_server_and_the_servers_its_client_reaches(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "a/src/main/resources/application.properties": "quarkus.mcp.server.server-info.name=kickstart\n"
            "quarkus.langchain4j.mcp.github.command=npm,exec,@modelcontextprotocol/server-github\n"
            "quarkus.langchain4j.mcp.weather.url=http://localhost:8081/mcp/sse\n",
            "b/pom.xml": "<project><dependencies><dependency>"
            "<artifactId>quarkus-mcp-server-stdio</artifactId></dependency></dependencies></project>\n",
            "b/src/main/resources/application.yaml": "quarkus:\n  application:\n    name: calendar\n",
            "c/src/main/resources/application.properties": "quarkus.application.name=plain-web-app\n",
        },
    )
    found = keys(result)
    assert {"mcp_server:kickstart", "mcp_server:github", "mcp_server:weather", "mcp_server:calendar"} <= found
    assert not component(result, "mcp_server:github").flags  # ``npm exec`` runs a known package
    assert component(result, "mcp_server:calendar").metadata["config"] == "quarkus"
    assert "mcp_server:plain-web-app" not in found  # no MCP server extension: a Quarkus app, not a server


def test_claude_code_action_servers_handed_on_its_command_line(tmp_path):
    workflow = (
        "on: [pull_request]\njobs:\n  review:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: anthropics/claude-code-action@v1\n        with:\n"
        "          claude_args: |\n"
        '            --max-turns 5 --mcp-config \'{"mcpServers":{"context7":{"type":"http",'
        '"url":"https://mcp.context7.com/mcp"}}}\'\n'
        "      - uses: actions/checkout@v4\n        with:\n"
        '          args: --mcp-config \'{"mcpServers":{"ignored":{"command":"npx"}}}\'\n'
    )
    result = scan_tree(tmp_path, {".github/workflows/claude.yml": workflow})
    assert {"mcp_server:context7", "mcp_client:claude-code"} <= keys(result)
    assert "mcp_server:ignored" not in keys(result)  # a step that runs no agent


def test_go_slice_of_tool_structs_names_each_element(tmp_path):
    code = (
        'package main\n\nimport "github.com/anthropics/anthropic-sdk-go"\n\n'
        "var toolParams = []anthropic.ToolParam{\n"
        '\t{\n\t\tName:        "get_coordinates",\n\t\tDescription: anthropic.String("Where {a} is"),\n'
        '\t\tInputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"Name": "x"}},\n\t},\n'
        '\t{Name: "get_weather"},\n}\n\nvar other = []Person{{Name: "not_a_tool"}}\n'
    )
    result = scan_tree(tmp_path, {"main.go": code})
    assert {"tool:get_coordinates", "tool:get_weather"} <= keys(result)
    assert "tool:not_a_tool" not in keys(result) and "tool:x" not in keys(result)
    assert component(result, "tool:get_weather").provider == "Anthropic"


def test_ruby_mcp_client_gems(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "llm.rb": 'require "ruby_llm/mcp"\n\nclient = RubyLLM::MCP.client(\n  name: "filesystem",\n'
            "  transport_type: :stdio,\n"
            '  config: { command: "npx", args: ["@modelcontextprotocol/server-filesystem"] }\n)\n',
            "plain.rb": 'require "mcp_client"\n\nmcp = MCPClient.create_client(\n  mcp_server_configs: [\n'
            "    MCPClient.stdio_config(\n"
            '      command: "npx -y @modelcontextprotocol/server-memory", name: "memory"),\n'
            '    MCPClient.sse_config(base_url: "https://api.example.com/sse")\n  ]\n)\n',
        },
    )
    found = keys(result)
    assert {"mcp_client:ruby_llm-mcp", "mcp_server:filesystem", "mcp_client:ruby-mcp-client"} <= found
    assert "mcp_server:memory" in found
    assert [loc.file for loc in component(result, "mcp_server:memory").locations] == ["plain.rb"]


XMCP_TOOL = """import { z } from "zod";
import { type ToolMetadata } from "xmcp";

export const schema = { q: z.string() };

export const metadata: ToolMetadata = {
  name: "search_docs",
  description: "Search the docs",
};

export default async function search({ q }) {
  return q;
}
"""


def test_xmcp_project_names_its_server_after_the_package_and_its_tools_from_their_metadata(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "package.json": '{"name": "docs-mcp", "dependencies": {"xmcp": "^0.3.0"}}',
            "xmcp.config.ts": 'import type { XmcpConfig } from "xmcp";\n\n'
            "const config: XmcpConfig = { http: true };\nexport default config;\n",
            "src/tools/search.ts": XMCP_TOOL,
            # metadata of another type, in a module importing no MCP SDK, declares no tool
            "src/pages/meta.ts": 'export const metadata: PageMetadata = { name: "home" };\n',
        },
    )
    server = component(result, "mcp_server:docs-mcp")
    assert [(loc.file, loc.line) for loc in server.locations] == [("xmcp.config.ts", 3)]
    tool = component(result, "tool:search_docs")
    assert [(loc.file, loc.line) for loc in tool.locations] == [("src/tools/search.ts", 6)]
    assert tool.provider == "Model Context Protocol"
    assert "tool:home" not in keys(result)


def test_mcp_agent_app_is_a_client_of_the_servers_its_config_lists(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "main.py": 'from mcp_agent.app import MCPApp\n\napp = MCPApp(name="finder")\n',
            "mcp_agent.config.yaml": "mcp:\n  servers:\n    fetch:\n      command: uvx\n"
            "      args: [mcp-server-fetch]\n",
        },
    )
    client = component(result, "mcp_client:mcp-agent")
    assert {(loc.file, loc.line) for loc in client.locations} == {
        ("main.py", 3),
        ("mcp_agent.config.yaml", 0),
    }
    assert "agent_framework:mcp-agent" in keys(result) and "mcp_server:fetch" in keys(result)


def test_fast_mcp_mounted_in_rails_is_a_server_named_by_its_options(tmp_path):
    initializer = (
        "# frozen_string_literal: true\n\nrequire 'fast_mcp'\n\n"
        "FastMcp.mount_in_rails(\n  Rails.application,\n  name: 'bookshop',\n  version: '1.0.0'\n)\n"
        "FastMcp.rack_middleware(app, name: 'rack-shop', version: '1.0.0')\n"
    )
    result = scan_tree(tmp_path, {"config/initializers/fast_mcp.rb": initializer})
    server = component(result, "mcp_server:bookshop")
    assert [(loc.file, loc.line) for loc in server.locations] == [("config/initializers/fast_mcp.rb", 5)]
    assert "mcp_server:rack-shop" in keys(result)
    # the require is where it is written, not on the blank line before it
    sdk = component(result, "agent_framework:mcp")
    assert ("config/initializers/fast_mcp.rb", 3) in [(loc.file, loc.line) for loc in sdk.locations]
    assert ("config/initializers/fast_mcp.rb", 2) not in [(loc.file, loc.line) for loc in sdk.locations]


RUN_SERVER = """import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";

export const serve = (options: { name: string }, setup: (server: McpServer) => void) => {
  const server = new McpServer({ name: options.name, version: "1.0.0" });
  setup(server);
};
"""


def test_server_a_project_builder_makes_is_named_where_each_call_writes_its_name(tmp_path):
    """``serve({ name: "x" }, setup)`` around ``new McpServer({ name: options.name })``: the server is
    the call's, located at the written name, and the builder's module reports no server of its own."""
    caller = 'import { serve } from "./run.js";\n\nserve(\n  {\n    name: "desk",\n  },\n  () => {},\n);\n'
    files = {
        "package.json": '{"dependencies": {"@modelcontextprotocol/sdk": "^1.17.0"}}',
        "src/run.ts": RUN_SERVER,
        "src/main.ts": caller,
    }
    result = scan_tree(tmp_path, files)
    servers = [c for c in result.components if c.type == "mcp_server"]
    assert [(c.name, [(loc.file, loc.line) for loc in c.locations]) for c in servers] == [
        ("desk", [("src/main.ts", 5)])
    ]
    # with no call writing a name, the builder's server is still listed, named after its module
    alone = scan_tree(tmp_path / "alone", {**files, "src/main.ts": "import { serve } from './run.js';\n"})
    assert {c.name for c in alone.components if c.type == "mcp_server"} == {"run"}


GRADIO_APP = """import gradio as gr


def shout(text: str) -> str:
    \"\"\"Upper-case a text.\"\"\"
    return text.upper()


demo = gr.Interface(fn=shout, inputs="text", outputs="text", title="Shouter")
demo.launch(mcp_server=True)
"""


def test_gradio_app_launched_as_mcp_server_is_a_server_named_by_its_title(tmp_path):
    """Gradio names its MCP server by the app's title (``Gradio`` without one); an app launched without
    ``mcp_server=True``, another object's ``launch`` and a comment are no server."""
    untitled = "import gradio as gr\n\ngr.ChatInterface(fn=print).launch(mcp_server=True)\n"
    plain = (
        "import gradio as gr\nfrom ops import Job\n\ndemo = gr.Blocks()\n"
        "# demo.launch(mcp_server=True)\ndemo.launch()\nJob().launch(mcp_server=True)\n"
    )
    result = scan_tree(tmp_path, {"a/app.py": GRADIO_APP, "b/app.py": untitled, "c/app.py": plain})
    servers = [c for c in result.components if c.type == "mcp_server"]
    located = sorted((c.name, c.provider, loc.file, loc.line) for c in servers for loc in c.locations)
    assert located == [
        ("gradio", "Model Context Protocol", "b/app.py", 3),
        ("shouter", "Model Context Protocol", "a/app.py", 10),
    ]


def test_gradio_apps_launched_where_the_mcp_env_switch_is_on_are_servers(tmp_path):
    """``GRADIO_MCP_SERVER=True`` makes a plain ``launch()`` serve MCP: set in the module, in a ``.env``,
    an image's ``ENV`` or a compose service's environment of its folder or one above. Off, commented,
    or overridden by ``mcp_server=False``, it makes no server; nor does it make one of another object."""
    app = 'import gradio as gr\n\ndemo = gr.Interface(fn=str.upper, inputs="text", title="{}")\n'
    result = scan_tree(
        tmp_path,
        {
            "inline/app.py": 'import os\nos.environ["GRADIO_MCP_SERVER"] = "True"\n'
            + app.format("Inline")
            + "demo.launch()\n",
            "spaces/.env": "GRADIO_MCP_SERVER=True\n",
            "spaces/upper/app.py": app.format("Upper") + "demo.launch(server_name='0.0.0.0')\n",
            "spaces/lower/app.py": app.format("Lower") + "demo.launch(mcp_server=False)\n",
            "image/Dockerfile": "FROM python:3.12\nENV GRADIO_MCP_SERVER=true\nCMD python app.py\n",
            "image/app.py": app.format("Imaged") + "demo.launch()\n",
            "stack/compose.yaml": "services:\n  ui:\n    environment:\n      - GRADIO_MCP_SERVER=1\n",
            "stack/ui/app.py": app.format("Composed")
            + "from ops import Job\nJob().launch()\ndemo.launch()\n",
            "off/.env": "GRADIO_MCP_SERVER=False\n# GRADIO_MCP_SERVER=True\n",
            "off/app.py": app.format("Off") + "demo.launch()\n",
        },
    )
    servers = [c for c in result.components if c.type == "mcp_server"]
    located = sorted((c.name, loc.file, loc.line) for c in servers for loc in c.locations)
    assert located == [
        ("composed", "stack/ui/app.py", 6),
        ("imaged", "image/app.py", 4),
        ("inline", "inline/app.py", 6),
        ("upper", "spaces/upper/app.py", 4),
    ]


def test_python_transport_reaches_the_urls_a_constant_or_a_walked_list_holds(tmp_path):
    """``sse_client(url=url)`` inside ``for url in SERVER_URLS:`` reaches every URL of the list (written in
    the module or in the loop); ``streamablehttp_client(DOCS_URL)`` the URL the constant holds. A list with
    a non-URL entry, or a name bound from the environment, names no server."""
    result = scan_tree(
        tmp_path,
        {
            "hub.py": "from mcp import ClientSession\n"
            "from mcp.client.sse import sse_client\n"
            "from mcp.client.streamable_http import streamablehttp_client\n"
            'SERVER_URLS = ["https://tools.example.org/sse", "http://10.0.0.7:7001/sse"]\n'
            'DOCS_URL = "https://docs-mcp.example.net/mcp"\n'
            "async def connect(stack):\n"
            "    for url in SERVER_URLS:\n"
            "        streams = await stack.enter_async_context(sse_client(url=url))\n"
            "    for url in ('https://extra.example.com/sse',):\n"
            "        await stack.enter_async_context(sse_client(url))\n"
            "    await stack.enter_async_context(streamablehttp_client(DOCS_URL))\n",
            "mixed.py": "import os\n"
            "from mcp.client.sse import sse_client\n"
            'ENTRIES = ["https://a.example.com/sse", "not a url"]\n'
            'LIVE = os.environ["MCP_URL"]\n'
            "async def go(stack):\n"
            "    for url in ENTRIES:\n"
            "        await stack.enter_async_context(sse_client(url))\n"
            "    await stack.enter_async_context(sse_client(LIVE))\n",
        },
    )
    servers = {c.name for c in result.components if c.type == "mcp_server"}
    assert servers == {
        "tools.example.org",
        "10.0.0.7:7001",
        "extra.example.com",
        "docs-mcp.example.net",
    }

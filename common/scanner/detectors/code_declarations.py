"""MCP servers and agent tools that code declares as data rather than through an SDK call.

The language detectors find what an SDK call names (``server.tool("add", …)``, ``new McpServer({name})``).
Three shapes hold the same components as plain object literals, in any language with JSON-like
literals (TypeScript/JavaScript, Python):

* **tool definitions**: an object with a string ``name`` and an ``inputSchema`` (the tool list a
  low-level MCP ``Server`` returns from its ``ListToolsRequestSchema`` handler) or ``input_schema`` (the
  ``tools=[…]`` of the Anthropic Messages API), and the object handed to ``addTool({…})`` (FastMCP),
  wherever its ``name`` sits among nested bodies. Each becomes a ``tool`` whose provider is the
  framework the file uses (MCP, else Anthropic); a file using neither is not read.
* **servers an MCP client connects to**: in a file that builds an MCP client (LangChain's
  ``MultiServerMCPClient``, mcp-use's ``MCPClient``, Mastra, ``mcpServers`` maps in a file importing
  something MCP or an agent runtime; elsewhere such a map is text shown to a user), every entry whose
  value has a ``command`` or ``url`` is an ``mcp_server`` named by its key, classified like the same
  entry in a client config file (package, remote, unknown server).
* **OpenAI function tools**: in a file importing the OpenAI SDK, ``{"type": "function", "function":
  {"name", "parameters"}}`` (Chat Completions) or ``{"type": "function", "name", "parameters"}``
  (Responses API) is a ``tool`` of OpenAI, named as the model calls it; a function without arguments
  may give a ``description`` instead of ``parameters``.
* **Vercel AI SDK tool maps**: the ``tools: { name: { description, inputSchema, execute } }`` object
  handed to ``generateText``/``streamText`` in a file importing ``ai``. ``tool({...})`` is only a typing
  helper, so an entry written as a plain object is a tool too, named by its key as the model sees it.
* **tool configurations**: in a project whose ``package.json`` declares an agent framework that takes
  tools (LangChain, the Vercel AI SDK, Mastra, the OpenAI Agents SDK, LlamaIndex), an object literal with a
  string ``name``, a ``description``, a Zod object schema under any key and an ``execute``/``func``
  handler is a tool's definition, named as the model sees it, whichever helper turns it into the
  framework's tool (``createAction({name, description, inputParams: z.object(…), execute})``).
* **MCP servers a model API reaches for the caller**: OpenAI's remote MCP tool (``{"type": "mcp",
  "server_label": "x", "server_url": …}`` in a file importing the OpenAI SDK) and Anthropic's MCP connector
  (``mcp_servers=[{"type": "url", "url": …, "name": "x"}]`` in a file importing the Anthropic SDK), each an
  ``mcp_server`` named by its label or name.
* **C# MCP client transports**: ``McpClientFactory.CreateAsync(new() { Name = "…", … })``,
  ``new StdioClientTransport(new() { Name = "…", Command = "…" })`` and ``new McpServerConfig { Id = "…" }``
  (the first previews, mcpdotnet) name the server the client starts; a config's ``Id`` before its ``Name``.
* **Go function tools sent by hand**: a struct literal in the OpenAI function-calling shape (``Type:
  "function", Function: Function{Name: "get_weather", Description: .., Parameters: ..}``, the types a
  program declares for the Chat Completions or Ollama chat API) is a ``tool`` named as the model calls it.
* **Rust rmcp child processes**: ``TokioChildProcess::new(Command::new("npx").arg("-y").arg("pkg"))``
  starts the server package it runs; a package runner with a package names it (a local script, a
  ``cargo run`` or a command held in a variable does not).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from pathlib import Path

from common.scanner.catalog import lookup_package, lookup_prefixed
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.lazy import lazy_re
from common.scanner.limits import line_at, line_start, linear
from common.scanner.model_constants import RAW_LLM_REQUEST, rust_test_module_lines
from common.scanner.test_data import posts_to_a_model
from common.scanner.textutil import (
    calls_llm_api_route,
    mentions_ai_endpoint,
    nearest_answer,
    per_scan,
    read_neighbour,
)

MCP_PROVIDER = "Model Context Protocol"
LLM_PACKAGE_TYPES = ("llm_provider", "agent_framework")
SCRIPT_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".py")
# Go: ``Type: "function",`` then, in the same literal, the ``Function: <type>{`` body that describes it
GO_FUNCTION_TYPE = linear(r'\bType:\s*"function"\s*,\s*(?://[^\n]{0,200}\s*)*Function:\s*&?[\w.]{0,80}\s*\{')
# inside that body: braces, strings (skipped: a description may hold braces) and the fields a tool needs
GO_BODY_TOKEN = linear(
    r'[{}]|"(?:[^"\\\n]|\\.)*"|`[^`]*`|\b(Name|Description|Parameters):\s*(?:"([^"\n]{1,100})")?'
)
GO_MAX_BODY = 20_000
GO_MAX_TOKENS = 500  # braces, strings and fields read in one body: a tool's spec has a few dozen
MAX_BYTES = 2 * 1024 * 1024

MCP_SDK_MARKERS = linear(
    r"""@modelcontextprotocol/|["']fastmcp["']|^\s*(?:from|import)\s+(?:mcp|fastmcp)\b""", re.MULTILINE
)
ANTHROPIC_MARKERS = linear(r"""@anthropic-ai/sdk|^\s*(?:from|import)\s+anthropic\b""", re.MULTILINE)
OPENAI_MARKERS = linear(
    r"""^\s*(?:from|import)\s+openai\b|from\s+["']openai(?:/[\w./-]*)?["']|require\(\s*["']openai["']\s*\)""",
    re.MULTILINE,
)
# a module of a project that depends on one of those SDKs may hold its function tools without importing it
# (``tool_schemas.py`` imported by the module that calls the API): the manifests that say so, nearest first
MANIFESTS = ("requirements.txt", "pyproject.toml", "package.json")
MANIFEST_MCP = linear(
    r"""(?im)^\s*["']?(?:mcp|fastmcp)\b|"(?:@modelcontextprotocol/(?:sdk|server)|fastmcp)"\s*:"""
)
MANIFEST_ANTHROPIC = linear(r"""(?im)^\s*["']?anthropic\b|"@anthropic-ai/sdk"\s*:""")
MANIFEST_FUNCTION_SDKS = (
    (linear(r"""(?im)^\s*["']?openai\b|"openai"\s*:"""), "OpenAI", "openai"),
    (linear(r"""(?im)^\s*["']?mistralai\b|"@mistralai/mistralai"\s*:"""), "Mistral AI", "mistralai"),
    (linear(r"""(?im)^\s*["']?ollama\b|"ollama"\s*:"""), "Ollama", "ollama"),
    (linear(r"""(?im)^\s*["']?groq\b|"groq-sdk"\s*:"""), "Groq", "groq"),
)
# Cohere's SDK: its v2 chat takes OpenAI's function-tool shape, its v1 chat ``{"name", "description",
# "parameter_definitions"}`` specs
COHERE_MARKERS = linear(r"""^\s*(?:from|import)\s+cohere\b|["']cohere-ai["']""", re.MULTILINE)
# SDKs that take OpenAI's function-tool shape (``{"type": "function", "function": {...}}``) as their own,
# checked in this order; the first one the file imports is the tool's provider
FUNCTION_TOOL_SDKS = (
    (OPENAI_MARKERS, "OpenAI", "openai"),
    (
        linear(r"""^\s*(?:from|import)\s+mistralai\b|["']@mistralai/mistralai["']""", re.MULTILINE),
        "Mistral AI",
        "mistralai",
    ),
    (
        linear(r"""^\s*(?:from|import)\s+ollama\b|["']ollama(?:/browser)?["']""", re.MULTILINE),
        "Ollama",
        "ollama",
    ),
    (linear(r"""^\s*(?:from|import)\s+groq\b|["']groq-sdk["']""", re.MULTILINE), "Groq", "groq"),
    (COHERE_MARKERS, "Cohere", "cohere"),
)
# Bedrock's Converse API: ``toolConfig: {tools: [{toolSpec: {name, inputSchema: {json: ...}}}]}``
BEDROCK_MARKERS = linear(
    r"""@aws-sdk/client-bedrock-runtime|^\s*(?:from|import)\s+boto3\b|^\s*(?:from|import)\s+aioboto3\b""",
    re.MULTILINE,
)
# Gemini: ``FunctionDeclaration(name="x", ...)`` (Python) and the entries of ``functionDeclarations`` /
# ``function_declarations`` lists, each ``{name, description, parameters}``
GEMINI_MARKERS = linear(
    r"""^\s*(?:from|import)\s+(?:google\.genai|google\.generativeai|vertexai)\b|["']@google/(?:genai|generative-ai)["']""",
    re.MULTILINE,
)
GEMINI_DECLARATION_CALL = linear(r"""\bFunctionDeclaration\(\s*name\s*=\s*["']([\w.-]{1,100})["']""")
# a declaration a list names by its variable (``[schedule_meeting_function, other]``), in a list of at most
# this many characters
DECLARATION_REFERENCE = linear(r"[A-Za-z_$][\w$]{0,80}")
MAX_DECLARATION_LIST = 2000
ASSIGNED_OBJECT = linear(
    r"(?:^|[^\w$.])([A-Za-z_$][\w$]{0,80})\s*(?::\s*[\w$.\[\]]{1,80}\s*)?=\s*\{", re.MULTILINE
)
GEMINI_DECLARATIONS_KEY = re.compile(
    r"""(?<![\w$])["']?(?:functionDeclarations|function_declarations)["']?\s*[:=]"""
)
# an OpenAI function tool: ``{"type": "function", "function": {"name": ...}}`` (Chat Completions) or
# ``{"type": "function", "name": ...}`` (Responses API)
FUNCTION_TYPE = re.compile(r"""(?<![\w$])["']?type["']?\s*:\s*["']function["']""")
# every ``FUNCTION_TYPE`` match holds one of this, which starts with a literal that ``re`` finds by a
# substring search instead of trying the look-behind at every offset of the text
FUNCTION_TYPE_GATE = re.compile(r"""type["']?\s*:\s*["']function["']""")
FUNCTION_KEY = re.compile(r"""(?<![\w$])["']?function["']?\s*:\s*\{""")
# a schema's own words standing in for a name (``name: "name"``, ``name: "string"``), and the request-syntax
# placeholder of the AWS SDK for JavaScript's reference (``name: "STRING_VALUE"``), pasted from its docs
PLACEHOLDER_NAMES = frozenset(
    {"name", "string", "function", "tool", "function_name", "tool_name", "string_value"}
)
PARAMETERS_KEY = re.compile(r"""(?<![\w$])["']?parameters["']?\s*:""")
SPEC_PARAMETERS_KEY = linear(
    r"""(?:^|[^\w$])["']?(?:parameters|input_schema|inputSchema|parameter_definitions)["']?\s*:"""
)
# an object literal typed as the project's own tool type: ``const t: ToolDefinition = {``, a factory
# ``function createGrepTool(): ToolDefinition {`` (its ``return {…}``) or ``(): ToolSpec => ({``; group 1
# the brace after ``=``/``=> (``, group 2 a function body's
TYPED_TOOL_OBJECT = linear(
    r"""(?::\s*(?:[A-Za-z_$][\w$]{0,60}\.)?[\w$]{0,80}(?:Tool|ToolDefinition|ToolSpec|ToolDef|FunctionDefinition)"""
    r"""\s*(?:(?:=|=>\s*\()\s*(\{)|(\{)))"""
)
# a class the project writes as its own tool: ``class ListDirTool implements Tool {``, ``class Grep extends
# BaseTool<Input> {``; group 1 the base, group 2 the body's brace
TYPED_TOOL_CLASS = linear(
    r"""\bclass\s+[A-Za-z_$][\w$]{0,80}\s+(?:extends|implements)\s+((?:[A-Za-z_$][\w$]{0,60}\.)?[\w$]{0,80}Tool)"""
    r"""\b[^{};]{0,200}(\{)"""
)
# the class fields such a tool declares: its name as written, a description, an input schema
CLASS_NAME_FIELD = re.compile(r"""(?<![\w$.])name\s*(?::\s*string\s*)?=\s*(["'`])([^"'`\n$]{1,100})\1""")
CLASS_DESCRIPTION_FIELD = re.compile(r"""(?<![\w$.])description\s*[:=]""")
CLASS_SCHEMA_FIELD = re.compile(r"""(?<![\w$.])(?:parameters|schema|inputSchema|input_schema)\s*[:=]""")
# a named import (``import { AgentTool, type Schema } from "./base.js"``): group 1 the names, 2 the module; a
# class's base imported from a package makes the package's tool (read by its language detector), one from
# the project's own path (relative or aliased) the project's
NAMED_IMPORT = linear(r"""\bimport\s+(?:type\s+)?\{([^{}]{0,1000})\}\s*from\s*["']([^"'\n]{1,200})["']""")
PROJECT_PATH_PREFIXES = (".", "@/", "~/", "#")
RETURNED_OBJECT = re.compile(r"(?<![\w$])return\s*(\{)")
SCHEMA_KEY = re.compile(r"""(?<![\w$])["']?(?:parameters|input_schema|inputSchema|schema)["']?\s*:""")
# a test's expected value (``expect(x).toStrictEqual([{ name, description, input_schema }])``) checks what
# the code under test builds: the objects inside the matcher's argument are not definitions
EXPECTATION_CALL = linear(
    r"\.(?:toStrictEqual|toEqual|toMatchObject|toHaveBeenCalledWith|toHaveBeenLastCalledWith|toContainEqual"
    r"|toMatchInlineSnapshot)\(|\bassert\.(?:deepStrictEqual|deepEqual|partialDeepStrictEqual)\("
)
MAX_EXPECTATIONS = 500  # matcher calls read per test file
EXPECTATION_PAREN = re.compile(r"[()]")
# a tool name as a model calls it (``quick_search``, ``getWeather``), not words of a record's title
FUNCTION_LIKE_NAME = linear(r"[A-Za-z_][A-Za-z0-9_]*[_a-z][A-Za-z0-9_]*")
# a function without arguments declares no ``parameters`` (optional in the API) but still says what it
# does; a ``tool_choice`` naming a function carries neither
DESCRIPTION_KEY = re.compile(r"""(?<![\w$])["']?description["']?\s*:""")
# a remote MCP server handed to a model API: OpenAI's ``{"type": "mcp", "server_label": ...}`` and the
# ``{"type": "url", "url": ..., "name": ...}`` entries of Anthropic's ``mcp_servers``
HOSTED_MCP_TYPE = re.compile(r"""(?<![\w$])["']?type["']?\s*:\s*["'](?:mcp|url)["']""")
MCP_CLIENT_MARKERS = linear(r"MultiServerMCPClient|\bMCPClient\b|\bMCPConfiguration\b|createMCPClient")
SERVER_MAP_MARKERS = linear(r"\bmcpServers\b|\bmcp_servers\b")
# a bare ``mcpServers`` map counts where the file imports something MCP or an agent runtime that
# takes the map (an MCP SDK or adapter, mcp-use, Mastra, the Anthropic/Claude or OpenAI agent SDKs);
# without one it is text the program shows or writes, such as setup instructions rendered in a UI
AGENT_RUNTIME_WORDS = r"mcp|anthropic|claude|openai|agent|langchain|llama|mastra|\bai\b"
AGENT_RUNTIME_IMPORT = linear(
    rf"""^\s*(?:import|from)\b[^\n]*(?:{AGENT_RUNTIME_WORDS})|\brequire\(\s*["'][^"'\n]*(?:{AGENT_RUNTIME_WORDS})""",
    re.MULTILINE | re.IGNORECASE,
)
# look-behinds (not in RE2); each pattern is a bounded literal alternation, linear in Python's engine too
# the end of ``key:`` right before an object: that object is the value of the key
OBJECT_KEY_BEFORE = linear(r"""["']?[A-Za-z_$][\w$]{0,60}["']?\s*:\s*$""")
TOOL_SCHEMA_KEY = re.compile(r"""(?<![\w$])["']?(?:inputSchema|input_schema)["']?\s*:""")
ADD_TOOL_CALL = linear(r"\.addTool\(\s*\{")
SERVER_SPEC_KEY = re.compile(r"""(?<![\w$])["']?(?:command|url|serverUrl)["']?\s*:""")
ENTRY_KEY_BEFORE = linear(
    r"""(?:^|[{,\s])(?:"([\w@.-]{1,100})"|'([\w@.-]{1,100})'|([\w@.-]{1,100}))\s*:\s*$"""
)
URL_OBJECT = re.compile(r"""(?<![\w$])["']?url["']?\s*:\s*new\s+URL\(\s*(?:(["'`])([^"'`\n$]{1,300})\1)?""")
# or an address built in place: a Python f-string (``"url": f"ws://127.0.0.1:{port}/ws"``) or a JavaScript
# template with a substitution (``url: `${base}/mcp```)
BUILT_URL = re.compile(r"""(?<![\w$])["']?url["']?\s*:\s*(?:[fF]["']|`[^`\n]{0,300}\$\{)""")
SERVER_MAP_KEYS = "mcpServers|mcp_servers|servers|connections"
CLIENT_CALLS = "MultiServerMCPClient|MCPClient|MCPConfiguration|createMCPClient|from_dict|from_config"
SERVER_MAP_KEY = linear(rf"""(?:{SERVER_MAP_KEYS})["']?\s*[:=]\s*$""")
CLIENT_ARGUMENT = linear(rf"(?:{CLIENT_CALLS})\s*\(\s*$")
HANDED_VARIABLE = linear(
    rf"""(?:(?:{CLIENT_CALLS})\s*\(|(?:{SERVER_MAP_KEYS})["']?\s*[:=])\s*([A-Za-z_$][\w$]{{0,60}})"""
)
ASSIGNED_VARIABLE = linear(r"([A-Za-z_$][\w$]{0,60})\s*(?::\s*[\w<>\[\], .|]{1,80})?\s*=\s*$")
# keys of a client config that hold settings, never a server's name
NOT_SERVER_NAMES = frozenset(
    {"mcpservers", "servers", "mcp_servers", "env", "headers", "transport", "options", "config", "args"}
)
RUST_CHILD_PROCESS = linear(r"\bTokioChildProcess::new\s*\(")
RUST_COMMAND = linear(r'\bCommand::new\(\s*"([^"\n]{1,200})"\s*\)')
# the literal arguments after it: ``.arg("x")``, ``.args(["x", "y"])`` / ``.args(&["x"])``
RUST_ARGUMENT = linear(r'\.arg\(\s*"([^"\n]{1,300})"\s*\)|\.args\(\s*&?(?:vec!)?\[([^\]]{0,600})\]')
RUST_STRING = linear(r'"([^"\n]{1,300})"')
# the command handed over in a variable (``let mut cmd = Command::new("uvx"); cmd.arg(..);
# TokioChildProcess::new(cmd)``), and the statements before the call that build it
RUST_COMMAND_VARIABLE = linear(r"\s*&?\s*(?:mut\s+)?([a-z_]\w{0,40})\s*\)")
RUST_COMMAND_LET = linear(
    r"\blet\s+(?:mut\s+)?([a-z_]\w{0,40})\s*(?::\s*[\w:]{1,60}\s*)?=\s*(?:[\w:]{0,40}::)?Command::new\("
)
# rust-mcp-sdk: ``StdioTransport::create_with_server_launch("npx", vec!["-y".into(), "pkg".into()], ..)``
RUST_SERVER_LAUNCH = linear(
    r'\bStdioTransport::create_with_server_launch\(\s*"([^"\n]{1,200})"\s*,\s*&?(?:vec!)?\[([^\]]{0,600})\]'
)
# a map of MCP servers by name filled in code: ``config.mcp_servers.insert("fs".to_string(),
# ServerConfig::Stdio { command: "npx".to_string(), args: vec!["-y".to_string(), ..] })`` (or ``url: ..``)
RUST_SERVER_INSERT = linear(
    r'\bmcp_servers\s*\.\s*insert\(\s*(?:String::from\(\s*)?"([^"\n]{1,100})"'
    r"\s*(?:\)|\.to_string\(\)|\.to_owned\(\)|\.into\(\))?\s*,"
)
# entries read per file (a client fills in a few): each reads its value's call to its end, 1,500 characters in
# Python, so a line of nothing but ``mcp_servers.insert("a",`` cost 3.7 s per 200 KB
MAX_SERVER_INSERTS = 200
RUST_SPEC_FIELD = linear(r'\b(command|url)\s*:\s*(?:String::from\(\s*)?"([^"\n]{1,300})"')
RUST_ARGS_FIELD = linear(r"\bargs\s*:\s*(?:vec!)?\[([^\]]{0,600})\]")
# a char literal ('{', '\n', '\u{7f}'); any other quote starts a lifetime ('a, &'static)
RUST_CHAR = linear(r"'(?:[^\\'\n]|\\(?:u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|.))'")
# the function of a Chat Completions tool, also a struct literal of a type of the crate's own
# (``r#type: "function", function: ToolFunc { name: "Read", .. }``)
RUST_FUNCTION_KEY = re.compile(r"""(?<![\w$])"?function"?\s*:\s*(?:[A-Z]\w{0,60}\s*)?\{""")
# (the SDK's first previews and mcpdotnet describe the server in ``new McpServerConfig { Id = "x", … }``)
CSHARP_TRANSPORT = linear(
    r"\b(?:McpClientFactory\.CreateAsync|McpClient\.CreateAsync"
    r"|new\s+(?:(?:Stdio|Sse|Http)ClientTransport(?:Options)?|McpServerConfig))"
    r"\s*\(?\s*(?:new\s*\w*\s*(?:\(\s*\))?\s*)?\{"
)
# a tool configuration object: its handler key, and a key holding a Zod object schema
TOOL_HANDLER_KEY = re.compile(r"""(?<![\w$])(?:execute|func)\s*:""")
ZOD_SCHEMA_VALUE = re.compile(r"""(?<![\w$])[A-Za-z_$][\w$]{0,60}\s*:\s*z\s*\.\s*object\(""")
# the JavaScript agent frameworks that take tools, as a package.json declares them
MANIFEST_TOOL_FRAMEWORK = linear(
    r'"(?:langchain|@langchain/core|ai|@mastra/core|@openai/agents|llamaindex)"\s*:'
)
VERCEL_AI_IMPORT = linear(
    r"""^\s*import\b[^;]{0,400}?\bfrom\s*["']ai["']|\brequire\(\s*["']ai["']\s*\)""", re.MULTILINE
)
TOOLS_MAP = lazy_re(r"(?<![\w$.])tools\s*:\s*\{")
# a key starts where a run of key characters starts: from each '-' of 'a-a-a-…' it ran to the run's end
MAP_ENTRY = lazy_re(r"""(?<![\w$-])["']?([A-Za-z_$][\w$-]*)["']?\s*:\s*\{""")
TOOL_SPEC_KEY = lazy_re(r"(?<![\w$])(?:inputSchema|parameters|execute)\s*[:(,}]")
# ``Arguments = ["-y", "pkg"]`` (collection expression), ``new[] { … }`` or ``new List<string> { … }``
CSHARP_COMMAND = linear(r'\bCommand\s*=\s*"([^"\n]+)"|\["command"\]\s*=\s*"([^"\n]+)"')
CSHARP_ENDPOINT = linear(r'\b(?:Endpoint|Url)\s*=\s*new\s+Uri\(\s*"([^"\n]+)"')
# transports read per file (a client has a few): each options object is searched to its end, and in a
# file of unclosed ``{`` each runs to the end of the file (40 KB of ``new SseClientTransport(new() {``
# cost 0.9 s, growing with the square of the size)
MAX_CSHARP_TRANSPORTS = 200
CSHARP_ARGUMENTS = linear(r"\bArguments\s*=\s*(?:new\b[^\[{\n]{0,40})?[\[{]([^\]}]{0,600})[\]}]")
CSHARP_STRING = linear(r'"([^"\n]{1,300})"')
CSHARP_NAME = linear(r'\b(Name|Id)\s*=\s*"([^"\n]{1,100})"')


# a Ruby file using an LLM gem: its require, or the client a Rails app (Bundler.require) builds without one
RUBY_OPENAI = linear(r"""^[ \t]*require\s*\(?\s*["']openai["']|\bOpenAI::Client\.new\b""", re.MULTILINE)
RUBY_ANTHROPIC = linear(
    r"""^[ \t]*require\s*\(?\s*["']anthropic["']|\bAnthropic::Client\.new\b""", re.MULTILINE
)


# Chat Completions' older ``functions`` parameter (before ``tools``): a list of ``{"name", "description",
# "parameters"}`` specs assigned or passed as ``functions`` (``functions = [``, ``self.functions: list = [``,
# ``functions=[``, ``"functions": [``)
LEGACY_FUNCTIONS = linear(r"""\bfunctions["']?\s*(?::\s*[\w\[\], ]{1,60}\s*=|[:=])\s*\[""")


def has_function_type(text: str) -> bool:
    """Whether ``FUNCTION_TYPE`` matches in ``text``; the gate answers the files without one."""
    return (
        "function" in text
        and FUNCTION_TYPE_GATE.search(text) is not None
        and FUNCTION_TYPE.search(text) is not None
    )


# the modules a file imports: Python's top-level package, JavaScript's package (scope included)
PYTHON_IMPORT_ROOT = linear(r"^[ \t]*(?:from|import)[ \t]+([A-Za-z_]\w{0,80})", re.MULTILINE)
SCRIPT_IMPORT_SOURCE = linear(
    r"""(?:\bfrom|\brequire\(|\bimport\()\s*["']((?:@[\w.-]{1,80}/)?[\w.-]{1,80})"""
)


def imports_llm_client(file: SourceFile, text: str) -> bool:
    """Whether the file imports any catalog LLM SDK or agent framework: LiteLLM, Hugging Face's
    ``InferenceClient``, Together and the many clients that take OpenAI's function-tool shape as theirs,
    beyond the few whose own markers name the tool's provider."""
    if file.suffix == ".py":
        found = (lookup_prefixed("python", name) for name in PYTHON_IMPORT_ROOT.findall(text))
    else:
        found = (lookup_package("npm", name) for name in SCRIPT_IMPORT_SOURCE.findall(text))
    return any(package is not None and package.type in LLM_PACKAGE_TYPES for package in found)


def _nearest_manifest_sdks(file: SourceFile) -> tuple[tuple[str, str] | None, str | None]:
    """What the manifest nearest above the file says (``_manifest_sdks_in``), else nothing."""
    return nearest_answer(file, _manifest_sdks_in, (None, None))


@per_scan(stopped=(None, None))
def _manifest_sdks_in(folder: Path, root: str) -> tuple[tuple[str, str] | None, str | None] | None:
    """(function-tool SDK, tool-schema SDK) the first manifest in ``folder`` declares (read like every
    neighbour file, once per scan however many files below ask), None where the folder has none."""
    for manifest in MANIFESTS:
        text = read_neighbour(folder / manifest, root)
        if text is None:
            continue
        function_sdk = next(
            (
                (provider, framework)
                for pattern, provider, framework in MANIFEST_FUNCTION_SDKS
                if pattern.search(text)
            ),
            None,
        )
        if MANIFEST_MCP.search(text):
            return function_sdk, MCP_PROVIDER
        return function_sdk, "Anthropic" if MANIFEST_ANTHROPIC.search(text) else None
    return None


@per_scan(stopped=False)
def _package_declares_tool_framework(folder: Path, root: str) -> bool | None:
    """Whether ``folder``'s package.json declares a JavaScript agent framework that takes tools, None where
    it has none."""
    manifest = read_neighbour(folder / "package.json", root)
    return None if manifest is None else bool(MANIFEST_TOOL_FRAMEWORK.search(manifest))


def manifest_function_sdk(file: SourceFile) -> tuple[str, str] | None:
    """(provider, framework) of the function-tool SDK the nearest manifest declares, when the file itself
    imports none."""
    return _nearest_manifest_sdks(file)[0]


def manifest_tool_schema_sdk(file: SourceFile) -> str | None:
    """The provider whose ``inputSchema``/``input_schema`` tool shape the nearest manifest declares an SDK
    of (MCP first, then Anthropic), when the file itself imports none."""
    return _nearest_manifest_sdks(file)[1]


# how far past the end of a stretch a match that starts in it may run (the longest pattern searched by
# ``Literals.top_level``: a key and a list of up to 1000 characters)
MATCH_SLACK = 1200


def expectation_lines(text: str) -> frozenset[int]:
    """Lines inside the argument of a test's equality matcher (``EXPECTATION_CALL``), strings and comments
    skipped while its parentheses are counted."""
    literals = Literals(text, hash_comments=False)
    lines: set[int] = set()
    resume = 0
    for count, call in enumerate(EXPECTATION_CALL.finditer(text)):
        if count >= MAX_EXPECTATIONS:
            break
        if call.start() < resume or literals.in_string(call.start()):
            continue
        depth, index = 1, call.end()
        for paren in EXPECTATION_PAREN.finditer(text, call.end()):
            if literals.in_string(paren.start()):
                continue
            depth += 1 if paren.group(0) == "(" else -1
            index = paren.end()
            if depth == 0:
                break
        resume = index
        lines.update(range(line_at(text, call.start()), line_at(text, index) + 1))
    return frozenset(lines)


class Literals:
    """Brace structure of a source text: where every ``{…}`` opens and closes, strings and comments
    skipped (quotes of all three script languages, ``//``/``/* */`` and ``#`` comments)."""

    def __init__(self, text: str, hash_comments: bool, rust: bool = False):
        self.text = text
        self.rust = rust  # Rust: '"' quotes strings; a quote otherwise opens a char literal or a lifetime
        self.starts: list[int] = []  # every "{" in text order
        self.ends: list[int] = []  # its matching "}" (the text's end when unclosed)
        self.parents: list[int] = []  # index of the enclosing "{", -1 at the top
        self.strings: list[tuple[int, int]] = []
        self._children: dict[int, list[int]] | None = None
        self._scan(hash_comments)
        self.string_starts = [start for start, _ in self.strings]

    def _scan(self, hash_comments: bool) -> None:
        text, length = self.text, len(self.text)
        interesting = re.compile(r"[\"'`/{}#]" if hash_comments else r"[\"'`/{}]")
        stack: list[int] = []
        index = 0
        while (found := interesting.search(text, index)) is not None:
            index = found.start()
            char = text[index]
            if self.rust and char != '"' and char in "'`":
                literal = RUST_CHAR.match(text, index) if char == "'" else None
                end = literal.end() if literal else index + 1
                if literal:
                    self.strings.append((index, end))
                index = end
                continue
            if char in "\"'`":
                quote = text[index : index + 3] if text[index : index + 3] in ('"""', "'''") else char
                end = (
                    text.find(quote, index + len(quote)) if len(quote) == 3 else self._string_end(index, char)
                )
                end = length if end < 0 else end + len(quote)
                self.strings.append((index, end))
                index = end
                continue
            if char == "#" or text.startswith("//", index):
                newline = text.find("\n", index)
                end = length if newline < 0 else newline
                self.strings.append((index, end))  # comments are skipped like strings
                index = end
                continue
            if text.startswith("/*", index):
                close = text.find("*/", index + 2)
                end = length if close < 0 else close + 2
                self.strings.append((index, end))
                index = end
                continue
            if char == "{":
                self.parents.append(stack[-1] if stack else -1)
                stack.append(len(self.starts))
                self.starts.append(index)
                self.ends.append(length)
            elif char == "}" and stack:
                self.ends[stack.pop()] = index
            index += 1

    def _string_end(self, start: int, quote: str) -> int:
        index = start + 1
        text = self.text
        while index < len(text):
            char = text[index]
            if char == "\\":
                index += 2
                continue
            if char == quote:
                return index
            if char == "\n" and quote != "`":
                return index - 1  # an unterminated one-line string ends at the line end
            index += 1
        return -1

    def in_string(self, offset: int) -> bool:
        """Whether ``offset`` is inside a string literal or a comment (a string's opening quote is not:
        a quoted key)."""
        at = bisect.bisect_right(self.string_starts, offset) - 1
        return at >= 0 and self.strings[at][0] < offset < self.strings[at][1]

    def innermost(self, offset: int) -> tuple[int, int] | None:
        """The innermost ``{…}`` holding ``offset``: the last one opened before it, or the nearest
        enclosing one of that which is still open at ``offset``."""
        at = bisect.bisect_left(self.starts, offset) - 1
        while at >= 0:
            if offset < self.ends[at]:
                return self.starts[at], self.ends[at]
            at = self.parents[at]
        return None

    def top_level(self, pair: tuple[int, int], pattern: re.Pattern) -> Iterator[re.Match]:
        """Matches of ``pattern`` directly inside ``pair`` (not in a nested object or a string).

        Only the stretches of ``pair`` between its children are searched (a match may run on into a
        child by ``MATCH_SLACK``): each character is then searched for the one object it is directly in,
        where searching all of ``pair`` made a file of unclosed ``{`` quadratic (each spans to the end)."""
        index = bisect.bisect_left(self.starts, pair[0])
        cursor = pair[0] + 1
        for child in [*self.children().get(index, ()), None]:
            stop = pair[1] if child is None else self.starts[child]
            if cursor < stop:
                for match in pattern.finditer(self.text, cursor, min(pair[1], stop + MATCH_SLACK)):
                    if match.start() >= stop:
                        break
                    if not self.in_string(match.start()) and self.innermost(match.start() + 1) == pair:
                        yield match
            if child is not None:
                cursor = max(cursor, self.ends[child] + 1)

    def keyed_parent(self, pair: tuple[int, int]) -> tuple[int, int] | None:
        """The object ``pair`` is the value of a key in (``{ name: "x", definition: { … } }``), if any."""
        index = bisect.bisect_left(self.starts, pair[0])
        parent = self.parents[index] if index < len(self.starts) and self.starts[index] == pair[0] else -1
        if parent < 0 or not OBJECT_KEY_BEFORE.search(self.text[max(0, pair[0] - 80) : pair[0]]):
            return None
        return self.starts[parent], self.ends[parent]

    def children(self) -> dict[int, list[int]]:
        """The indexes of the objects directly inside each one, in text order."""
        if self._children is None:
            self._children = {}
            for child, parent in enumerate(self.parents):
                self._children.setdefault(parent, []).append(child)
        return self._children

    def string_value(self, pair: tuple[int, int], key: str) -> tuple[str, int] | None:
        """The literal string under ``key`` directly inside ``pair``, with its offset."""
        pattern = re.compile(rf"""(?<![\w$])["']?{key}["']?\s*:\s*(["'`])([^"'`\n$]{{1,100}})\1""")
        match = next(self.top_level(pair, pattern), None)
        return (match.group(2), match.start()) if match else None

    def string_list(self, pair: tuple[int, int], key: str) -> list[str]:
        pattern = re.compile(rf"""(?<![\w$])["']?{key}["']?\s*:\s*\[([^\]]{{0,1000}})\]""")
        match = next(self.top_level(pair, pattern), None)
        return [m.group(2) for m in re.finditer(r"""(["'`])([^"'`\n]*)\1""", match.group(1))] if match else []


LEADING_BLANKS = re.compile(r"[^\S\n]*")


def opens_with_comment(text: str, offset: int, markers: tuple[str, ...], firsts: dict[int, int]) -> bool:
    """Whether the line holding ``offset`` starts (blanks aside) with one of the comment ``markers`` before
    ``offset``. ``firsts`` keeps each line's first non-blank offset by the line's start: copying the line
    back to its start for every match cost time quadratic in the matches of one long line."""
    start = line_start(text, offset)
    if start not in firsts:
        firsts[start] = LEADING_BLANKS.match(text, start).end()
    return text.startswith(markers, firsts[start], offset)


def _call_end(window: str) -> int:
    """Where the call whose arguments ``window`` starts with closes (strings skipped), else its end."""
    depth = 0
    index = 0
    while index < len(window):
        char = window[index]
        if char == '"':
            close = window.find('"', index + 1)
            index = len(window) if close < 0 else close + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return len(window)


def _rust_arguments(chunks: list[str]) -> list[str]:
    """The literal ``.arg("x")`` / ``.args(["x", ..])`` arguments in the chunks, in order."""
    args = []
    for chunk in chunks:
        for argument in RUST_ARGUMENT.finditer(chunk):
            if argument.group(1) is not None:
                args.append(argument.group(1))
            else:
                args.extend(RUST_STRING.findall(argument.group(2)))
    return args


def _held_command(
    text: str, call: int, variable: str, bindings: list[tuple[int, str, int]]
) -> list[tuple[int, str, list[str]]]:
    """The program and arguments of the ``Command`` a variable holds: its last ``let`` among the file's
    ``bindings`` (start, variable, end) in the 2,000 characters before the call, and the ``variable.arg(..)``
    statements between the two."""
    at = bisect.bisect_left(bindings, (call,)) - 1
    while at >= 0 and bindings[at][0] >= call - 2000 and bindings[at][1] != variable:
        at -= 1
    if at < 0 or bindings[at][0] < call - 2000:
        return []
    command = RUST_COMMAND.match(text, bindings[at][2] - len("Command::new("))
    if command is None:
        return []
    statements = text[command.end() : call].split(";")
    chunks = [statements[0]] + [
        statement for statement in statements[1:] if statement.lstrip().startswith(f"{variable}.")
    ]
    return [(call, command.group(1), _rust_arguments(chunks))]


# Azure Functions' MCP extension serves functions as the tools of the app's MCP server, through a tool trigger
# binding named as the model calls it: Python ``@app.generic_trigger(type="mcpToolTrigger", toolName="x")`` /
# ``@app.mcp_tool_trigger(tool_name="x")``, JavaScript ``app.mcpTool("fn", { toolName: "x" })``, Java
# ``@McpToolTrigger(name = "fn", toolName = "x")`` (C#'s ``[McpToolTrigger]`` is the C# detector's)
AZURE_FUNCTIONS_IMPORT = linear(
    r"""^\s*(?:import\s+azure\.functions\b|from\s+azure\s+import\s+functions\b|from\s+azure\.functions\b)"""
    r"""|["']@azure/functions["']|^\s*import\s+com\.microsoft\.azure\.functions\.""",
    re.MULTILINE,
)
AZURE_TOOL_TRIGGER = linear(
    r"@\w+\.(?:generic_trigger|mcp_tool_trigger)\(|\bapp\.mcpTool\(|@McpToolTrigger\("
)
AZURE_TOOL_NAME = linear(r"""\b(?:toolName|tool_name)\s*[=:]\s*["']([^"'\n]{1,100})["']""")
AZURE_TRIGGER_WINDOW = 1200  # characters of a trigger's arguments read for its tool name
MAX_AZURE_TRIGGERS = 200  # triggers read per file (a function app has a few dozen): keeps the read linear


class CodeDeclarationsDetector(Detector):
    name = "code_declarations"

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix in SCRIPT_SUFFIXES or file.suffix in (".cs", ".rs", ".go", ".java", ".kt", ".rb")

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        found = self.declarations(file)
        if (
            file.scope != "test"
            or file.suffix not in SCRIPT_SUFFIXES
            or EXPECTATION_CALL.search(file.text) is None
        ):
            yield from found
            return
        expected = expectation_lines(file.text)
        yield from (f for f in found if f.type != "tool" or f.location.line not in expected)

    def declarations(self, file: SourceFile) -> Iterator[Finding]:
        if file.size > MAX_BYTES:
            return
        text = file.text
        if "ool" in text and "zure" in text and AZURE_FUNCTIONS_IMPORT.search(text):
            yield from self.azure_function_tools(file, text)
        if file.suffix in (".java", ".kt"):
            return
        if file.suffix == ".rs":
            if "TokioChildProcess" in text or "create_with_server_launch" in text:
                yield from self.rust_child_servers(file, text)
            if "mcp_servers" in text:
                yield from self.rust_server_map_entries(file, text)
            if file.scope != "test" and (
                has_function_type(text)
                or (("nputSchema" in text or "nput_schema" in text) and TOOL_SCHEMA_KEY.search(text))
            ):
                # a unit test's definition checks how the client serializes one: test input
                tests = rust_test_module_lines(text) if "cfg(test)" in text else set()
                for found in self.rust_tool_definitions(file, text):
                    if found.location.line not in tests:
                        yield found
            return
        if file.suffix == ".cs":
            # a project's global usings leave the SDK's namespace out of the file that builds the client
            if "ModelContextProtocol" in text or "McpServerConfig" in text or "McpClientFactory" in text:
                yield from self.csharp_servers(file, text)
            return
        if file.suffix == ".go":
            if file.scope != "test" and '"function"' in text:
                yield from self.go_tool_definitions(file, text)
            return
        if file.suffix == ".rb":
            if file.scope != "test":
                yield from self.ruby_tool_definitions(file, text)
            return
        uses_mcp = bool(MCP_SDK_MARKERS.search(text))
        uses_anthropic = bool(ANTHROPIC_MARKERS.search(text))
        client = bool(MCP_CLIENT_MARKERS.search(text)) or bool(
            SERVER_MAP_MARKERS.search(text) and AGENT_RUNTIME_IMPORT.search(text)
        )
        # one search of the text per shape (look-behind: Python's engine), none without the word
        function_typed = has_function_type(text)
        function_sdk = (
            next(
                (
                    (provider, framework)
                    for marker, provider, framework in FUNCTION_TOOL_SDKS
                    if marker.search(text)
                ),
                None,
            )
            if function_typed
            else None
        )
        function_evidence: dict[str, str] = {}
        # a test's tools count where it really sends them to a model (a request nothing stubs)
        if function_sdk is None and function_typed and (file.scope != "test" or posts_to_a_model(text)):
            function_sdk = manifest_function_sdk(file)
            if function_sdk is None and (imports_llm_client(file, text) or mentions_ai_endpoint(text)):
                function_sdk = ("OpenAI", "openai")
            elif function_sdk is None and calls_llm_api_route(text):
                # a request body posted to an LLM API's route by raw HTTP: AI use of this file only
                function_sdk = ("OpenAI", "openai")
                function_evidence = {"evidence": RAW_LLM_REQUEST}
        schema_provider = (
            manifest_tool_schema_sdk(file)
            if not (uses_mcp or uses_anthropic)
            and file.scope != "test"
            and "jsonrpc" not in text  # a hand-written JSON-RPC server imitating MCP without its SDK
            and ("nputSchema" in text or "nput_schema" in text)
            and TOOL_SCHEMA_KEY.search(text)
            else None
        )
        bedrock = "toolSpec" in text and bool(BEDROCK_MARKERS.search(text))
        gemini = (
            "FunctionDeclaration" in text or "unction_declarations" in text or "unctionDeclarations" in text
        ) and bool(GEMINI_MARKERS.search(text))
        vercel = (
            file.suffix != ".py"
            and ('"ai"' in text or "'ai'" in text)
            and bool(VERCEL_AI_IMPORT.search(text))
        )
        tool_objects = (
            file.suffix != ".py"
            and "object(" in text
            and ZOD_SCHEMA_VALUE.search(text) is not None
            and TOOL_HANDLER_KEY.search(text) is not None
            and nearest_answer(file, _package_declares_tool_framework, False)
        )
        # a plain collection of tool specs (name, description, parameters) the project hands its LLM SDK
        # through its own client: no shape above reads it, the manifest says which SDK takes it
        spec_provider = (
            manifest_function_sdk(file) or ((p, None) if (p := manifest_tool_schema_sdk(file)) else None)
            if not (uses_mcp or uses_anthropic or function_typed or schema_provider or gemini)
            and file.scope != "test"
            and ("parameters" in text or "nput_schema" in text or "nputSchema" in text)
            and ('"description"' in text or "'description'" in text)
            else None
        )
        # the older ``functions=[...]`` specs, in a file importing an SDK that takes them: read as a
        # collection even where the file also uses the newer shapes (a client for several providers)
        legacy_functions = (
            next((provider for marker, provider, _ in FUNCTION_TOOL_SDKS if marker.search(text)), None)
            if file.scope != "test" and "functions" in text and LEGACY_FUNCTIONS.search(text)
            else None
        )
        cohere_specs = (
            spec_provider is None
            and file.scope != "test"
            and "parameter_definitions" in text
            and COHERE_MARKERS.search(text) is not None
        )
        typed_tools = (
            file.suffix != ".py"
            and file.scope != "test"
            and not (uses_mcp or uses_anthropic or function_sdk or schema_provider or spec_provider)
            and "Tool" in text
            and TYPED_TOOL_OBJECT.search(text) is not None
            and bool(manifest_function_sdk(file) or manifest_tool_schema_sdk(file))
        )
        # the project's own tool classes, whatever other shapes the file holds (a class's fields are none)
        typed_classes = (
            file.suffix != ".py"
            and file.scope != "test"
            and "class" in text
            and TYPED_TOOL_CLASS.search(text) is not None
            and bool(manifest_function_sdk(file) or manifest_tool_schema_sdk(file))
        )
        hosted_mcp = (
            # the OpenAI SDK's tool, or the Agents SDK's ``HostedMCPTool(tool_config={...})`` handing it on
            ("server_label" in text and ("HostedMCPTool" in text or bool(OPENAI_MARKERS.search(text))))
            or ("mcp_servers" in text and uses_anthropic)
        ) and HOSTED_MCP_TYPE.search(text) is not None
        if not (
            uses_mcp
            or uses_anthropic
            or client
            or function_sdk
            or vercel
            or bedrock
            or gemini
            or schema_provider
            or hosted_mcp
            or tool_objects
            or spec_provider
            or legacy_functions
            or cohere_specs
            or typed_tools
            or typed_classes
        ):
            return
        literals = Literals(text, hash_comments=file.suffix == ".py")
        if function_sdk:
            yield from self.openai_functions(file, literals, *function_sdk, **function_evidence)
        if vercel:
            yield from self.vercel_tool_map(file, literals)
        if schema_provider and not bedrock:
            yield from self.tools(file, literals, schema_provider)
        elif uses_mcp or uses_anthropic or bedrock:
            provider = MCP_PROVIDER if uses_mcp else "Anthropic" if uses_anthropic else "Amazon Web Services"
            yield from self.tools(file, literals, provider)
        if gemini:
            yield from self.gemini_declarations(file, literals)
        if client:
            yield from self.client_servers(file, literals)
        if hosted_mcp:
            yield from self.hosted_servers(file, literals)
        if tool_objects:
            yield from self.tool_configurations(file, literals)
        if typed_tools:
            yield from self.typed_tool_objects(file, literals)
        if typed_classes:
            yield from self.typed_tool_classes(file, literals)
        if legacy_functions or cohere_specs:
            # the SDK the file imports takes these specs: one is a tool as much as several are
            yield from self.tool_spec_collection(file, literals, legacy_functions or "Cohere", minimum=1)
        elif spec_provider:
            yield from self.tool_spec_collection(file, literals, spec_provider[0])

    def ruby_tool_definitions(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """Ruby hashes in the two APIs' tool shapes, in a file using the gem that sends them:
        ``{type: "function", function: {name: "x", parameters: {...}}}`` (ruby-openai, the official
        openai gem) and ``{name: "x", input_schema: {...}}`` (the Anthropic gems)."""
        openai = has_function_type(text) and RUBY_OPENAI.search(text) is not None
        anthropic = "input_schema" in text and RUBY_ANTHROPIC.search(text) is not None
        if not (openai or anthropic):
            return
        literals = Literals(text, hash_comments=True)
        if openai:
            yield from self.openai_functions(file, literals)
        if anthropic:
            yield from self.tools(file, literals, "Anthropic")

    def tool_configurations(self, file: SourceFile, literals: Literals) -> Iterator[Finding]:
        """Objects holding a tool's whole definition (a name, a description, a Zod object schema, a
        handler), whatever helper wraps them: named as the model sees the tool."""
        seen: set[str] = set()
        objects = [
            pair
            for match in TOOL_HANDLER_KEY.finditer(literals.text)
            if not literals.in_string(match.start()) and (pair := literals.innermost(match.start()))
        ]
        for pair in dict.fromkeys(objects):  # each object once: its keys are searched once
            named = literals.string_value(pair, "name")
            if (
                not named
                or next(literals.top_level(pair, DESCRIPTION_KEY), None) is None
                or next(literals.top_level(pair, ZOD_SCHEMA_VALUE), None) is None
            ):
                continue
            metadata = {"declared_as": "tool configuration"}
            if tool := self.first_tool(file, literals.text, named, seen, None, metadata):
                yield tool

    def typed_tool_objects(self, file: SourceFile, literals: Literals) -> Iterator[Finding]:
        """Objects the project types as its own tool (``ToolDefinition``), in a project whose manifest
        declares an LLM SDK: a literal ``name``, a ``description`` and an input schema make the tool its
        agent loop hands the model. The type is the project's, so no provider is implied."""
        seen: set[str] = set()
        metadata = {"declared_as": "tool definition"}
        for match in TYPED_TOOL_OBJECT.finditer(literals.text):
            if literals.in_string(match.start()):
                continue
            if match.group(1) is not None:
                pair = literals.innermost(match.start(1) + 1)
            else:
                body = literals.innermost(match.start(2) + 1)
                returned = next(literals.top_level(body, RETURNED_OBJECT), None) if body else None
                pair = literals.innermost(returned.start(1) + 1) if returned else None
            named = literals.string_value(pair, "name") if pair else None
            if (
                named
                and next(literals.top_level(pair, DESCRIPTION_KEY), None) is not None
                and next(literals.top_level(pair, SCHEMA_KEY), None) is not None
                and (tool := self.first_tool(file, literals.text, named, seen, None, metadata))
            ):
                yield tool

    def typed_tool_classes(self, file: SourceFile, literals: Literals) -> Iterator[Finding]:
        """Classes the project writes as its own tools (``class ListDirTool implements Tool { name =
        "list_dir"; description = ...; parameters = ... }``) on a base of its own, not one a package
        exports (LangChain's ``StructuredTool`` is LangChain's tool)."""
        seen: set[str] = set()
        metadata = {"declared_as": "tool class"}
        from_packages = self.package_imports(literals.text)
        for match in TYPED_TOOL_CLASS.finditer(literals.text):
            if literals.in_string(match.start()) or match.group(1).split(".")[0] in from_packages:
                continue
            pair = literals.innermost(match.start(2) + 1)
            named = next(literals.top_level(pair, CLASS_NAME_FIELD), None) if pair else None
            if (
                named
                and next(literals.top_level(pair, CLASS_DESCRIPTION_FIELD), None) is not None
                and next(literals.top_level(pair, CLASS_SCHEMA_FIELD), None) is not None
                and (
                    tool := self.first_tool(
                        file, literals.text, (named.group(2), named.start()), seen, None, metadata
                    )
                )
            ):
                yield tool

    @staticmethod
    def package_imports(text: str) -> frozenset[str]:
        """The names the file imports by name from a package rather than from its own project."""
        return frozenset(
            name.split(" as ")[-1].replace("type ", "").strip()
            for match in NAMED_IMPORT.finditer(text)
            if not match.group(2).startswith(PROJECT_PATH_PREFIXES)
            for name in match.group(1).split(",")
        )

    def tool_spec_collection(
        self, file: SourceFile, literals: Literals, provider: str, minimum: int = 2
    ) -> Iterator[Finding]:
        """Tool specs written as plain objects (``{"name": "quick_search", "description": ..., "parameters":
        {...}}``), counted only as a collection (two or more in the file, unless the file imports the SDK
        taking them) of objects named like functions: one such object alone, in a file that only depends
        on an SDK, is as likely any other record with a description and parameters."""
        specs = []
        for match in SPEC_PARAMETERS_KEY.finditer(literals.text):
            pair = None if literals.in_string(match.start()) else literals.innermost(match.start() + 1)
            named = literals.string_value(pair, "name") if pair else None
            if (
                named
                and FUNCTION_LIKE_NAME.fullmatch(named[0])
                and next(literals.top_level(pair, DESCRIPTION_KEY), None) is not None
            ):
                specs.append(named)
        if len({name.lower() for name, _ in specs}) < minimum:
            return
        seen: set[str] = set()
        metadata = {"declared_as": "tool specification"}
        for named in specs:
            if tool := self.first_tool(file, literals.text, named, seen, provider, metadata):
                yield tool

    def first_tool(
        self, file: SourceFile, text: str, named: tuple[str, int], seen: set[str], provider, metadata: dict
    ) -> Finding | None:
        """The tool ``named`` (its name and offset in ``text``) declares: once per file (``seen``), and
        never for a placeholder name (an API demo's ``name: "name"`` names no tool)."""
        name = named[0].lower()
        if name in seen or name in PLACEHOLDER_NAMES:
            return None
        seen.add(name)
        return self.located(file, line_at(text, named[1]), "tool", name, provider, metadata=dict(metadata))

    def hosted_servers(self, file: SourceFile, literals: Literals) -> Iterator[Finding]:
        """Remote MCP servers a model API connects to on the caller's behalf, named by the label (OpenAI)
        or name (Anthropic) the request gives them."""
        for match in HOSTED_MCP_TYPE.finditer(literals.text):
            pair = None if literals.in_string(match.start()) else literals.innermost(match.start() + 1)
            if pair is None:
                continue
            url = literals.string_value(pair, "server_url") or literals.string_value(pair, "url")
            named = literals.string_value(pair, "server_label") or literals.string_value(pair, "name")
            if named and url:
                yield self.server(file, named[0], line_at(literals.text, named[1]), {"url": url[0]})

    def tools(self, file: SourceFile, literals: Literals, provider: str) -> Iterator[Finding]:
        objects = [
            pair
            for match in TOOL_SCHEMA_KEY.finditer(literals.text)
            if not literals.in_string(match.start()) and (pair := literals.innermost(match.start() + 1))
        ]
        objects += [
            pair
            for match in ADD_TOOL_CALL.finditer(literals.text)
            if (pair := literals.innermost(match.end()))
        ]
        seen: set[str] = set()
        parent_names: dict[tuple[int, int], tuple[str, int] | None] = {}  # each parent searched once
        for pair in dict.fromkeys(objects):  # each object once, in text order
            named = literals.string_value(pair, "name")
            parent = None if named else literals.keyed_parent(pair)
            if parent is not None:
                # a tool record may hold its name beside the configuration that holds the schema
                # (``{ name: "x", definition: { description, inputSchema } }``, registered by reference)
                if parent not in parent_names:
                    parent_names[parent] = literals.string_value(parent, "name")
                named = parent_names[parent]
            if not named:
                continue
            framework = {MCP_PROVIDER: "mcp", "Anthropic": "anthropic"}.get(provider, "aws-bedrock")
            metadata = {"framework": framework, "declared_as": "tool definition"}
            if tool := self.first_tool(file, literals.text, named, seen, provider, metadata):
                yield tool

    def openai_functions(
        self,
        file: SourceFile,
        literals: Literals,
        provider: str = "OpenAI",
        framework: str = "openai",
        **evidence: str,
    ) -> Iterator[Finding]:
        """Function tools handed to the OpenAI API (or an SDK taking its shape: Mistral, Ollama, Groq),
        named as the model calls them; an object that declares neither ``parameters`` nor a
        ``description`` (a ``tool_choice`` naming one) defines none."""
        seen: set[str] = set()
        for match in FUNCTION_TYPE.finditer(literals.text):
            pair = None if literals.in_string(match.start()) else literals.innermost(match.start() + 1)
            if pair is None:
                continue
            inner = next(literals.top_level(pair, FUNCTION_KEY), None)
            holder = literals.innermost(inner.end()) if inner else pair
            named = literals.string_value(holder, "name") if holder else None
            if not named or not (
                next(literals.top_level(holder, PARAMETERS_KEY), None)
                or next(literals.top_level(holder, DESCRIPTION_KEY), None)
            ):
                continue
            metadata = {"framework": framework, "declared_as": "function definition", **evidence}
            if tool := self.first_tool(file, literals.text, named, seen, provider, metadata):
                yield tool

    def gemini_declarations(self, file: SourceFile, literals: Literals) -> Iterator[Finding]:
        """Gemini function declarations: ``FunctionDeclaration(name=...)`` calls, and the objects of a
        ``functionDeclarations`` list that carry ``parameters``."""
        text = literals.text
        found: list[tuple[int, str]] = [
            (match.start(1), match.group(1))
            for match in GEMINI_DECLARATION_CALL.finditer(text)
            if not literals.in_string(match.start())
        ]
        for match in GEMINI_DECLARATIONS_KEY.finditer(text):
            if literals.in_string(match.start()):
                continue
            holder = literals.innermost(match.start())
            close = match.end()  # the list ends at the first "]" at the key's own nesting level
            while (close := text.find("]", close + 1)) >= 0:
                if not literals.in_string(close) and literals.innermost(close) == holder:
                    break
            found += self.referenced_declarations(literals, match.end(), close)
            first = bisect.bisect_right(literals.starts, match.end())
            for index in range(first, len(literals.starts)):
                start = literals.starts[index]
                if close >= 0 and start > close:
                    break
                pair = (start, literals.ends[index])
                if literals.innermost(start) != holder:
                    continue  # nested inside a declaration (its parameters)
                named = literals.string_value(pair, "name")
                if named and next(literals.top_level(pair, PARAMETERS_KEY), None):
                    found.append((named[1], named[0]))
        seen: set[str] = set()
        metadata = {"framework": "google-genai", "declared_as": "function declaration"}
        for offset, name in sorted(found):
            if tool := self.first_tool(file, text, (name, offset), seen, "Google", metadata):
                yield tool

    @staticmethod
    def referenced_declarations(literals: Literals, start: int, close: int) -> list[tuple[int, str]]:
        """(offset, name) of the declarations a ``functionDeclarations`` list names by variable, as Gemini's
        documentation writes them: ``meeting = {"name": ..., "parameters": ...}`` (or ``const meeting:
        FunctionDeclaration = {...}``), then ``function_declarations=[meeting]``."""
        text = literals.text
        opened = text.find("[", start, start + 10)
        if opened < 0 or close < 0 or close - opened > MAX_DECLARATION_LIST:
            return []
        listed = {part.strip() for part in text[opened + 1 : close].split(",")}
        references = {name for name in listed if DECLARATION_REFERENCE.fullmatch(name)}
        if not references:
            return []
        assigned: dict[str, int] = {}  # each name's first ``name = {``, the whole text searched once
        for match in ASSIGNED_OBJECT.finditer(text):
            if match.group(1) in references:
                assigned.setdefault(match.group(1), match.end())
        found = []
        for end in assigned.values():
            pair = literals.innermost(end)
            named = literals.string_value(pair, "name") if pair else None
            if named and (
                next(literals.top_level(pair, PARAMETERS_KEY), None)
                or next(literals.top_level(pair, DESCRIPTION_KEY), None)
            ):
                found.append((named[1], named[0]))
        return found

    def vercel_tool_map(self, file: SourceFile, literals: Literals) -> Iterator[Finding]:
        """Entries of a ``tools`` map whose value is an object literal with a schema or an ``execute``
        (``tool(...)`` entries are the JS detector's)."""
        text = literals.text
        seen: set[str] = set()
        for match in TOOLS_MAP.finditer(text):
            if literals.in_string(match.start()):
                continue
            tools = literals.innermost(match.end())
            if tools is None or tools[0] != match.end() - 1:
                continue
            for entry in literals.top_level(tools, MAP_ENTRY):
                spec = literals.innermost(entry.end())
                name = entry.group(1)
                if spec is None or name.lower() in seen or not any(literals.top_level(spec, TOOL_SPEC_KEY)):
                    continue
                seen.add(name.lower())
                yield self.located(
                    file,
                    line_at(text, entry.start(1)),
                    "tool",
                    name.lower(),
                    "Vercel",
                    metadata={"framework": "vercel-ai", "declared_as": "tool definition"},
                )

    def client_servers(self, file: SourceFile, literals: Literals) -> Iterator[Finding]:
        text = literals.text
        handed = {match.group(1) for match in HANDED_VARIABLE.finditer(text)}
        seen: set[int] = set()
        for match in SERVER_SPEC_KEY.finditer(text):
            if literals.in_string(match.start()):
                continue
            pair = literals.innermost(match.start() + 1)
            if pair is None or pair[0] in seen:
                continue
            seen.add(pair[0])
            window = max(0, pair[0] - 120)
            entry = ENTRY_KEY_BEFORE.search(text[window : pair[0]])
            name = entry and next(g for g in entry.groups() if g)
            if not name or name.lower() in NOT_SERVER_NAMES:
                continue
            parent = literals.innermost(pair[0])
            if parent is None or not self.is_server_map(text, parent[0], handed):
                continue
            spec: dict = {}
            for key in ("command", "url", "serverUrl", "type", "transport"):
                value = literals.string_value(pair, key)
                if value:
                    spec[key] = value[0]
            if "url" not in spec:
                # Mastra's ``url: new URL("https://…")``; its address may be built from the environment
                wrapped = next(literals.top_level(pair, URL_OBJECT), None)
                if wrapped:
                    spec["url"] = wrapped.group(2) or ""
                elif next(literals.top_level(pair, BUILT_URL), None):
                    spec["url"] = ""
            if "command" not in spec and "url" not in spec and "serverUrl" not in spec:
                continue
            spec["args"] = literals.string_list(pair, "args")
            yield self.server(file, name, line_at(text, window + entry.end() - 1), spec)

    @staticmethod
    def is_server_map(text: str, start: int, handed: set[str]) -> bool:
        """Whether the object opening at ``start`` maps server names to servers: the value of an
        ``mcpServers``-like key, the argument of an MCP client constructor, or a variable (one of
        ``handed``) passed to one of those."""
        before = text[max(0, start - 200) : start]
        if SERVER_MAP_KEY.search(before) or CLIENT_ARGUMENT.search(before):
            return True
        variable = ASSIGNED_VARIABLE.search(before)
        return bool(variable) and variable.group(1) in handed

    def server(self, file: SourceFile, name: str, line: int, spec: dict) -> Finding:
        # the config detector's rules (and their data and YAML imports) load only once a server is found
        from common.scanner.detectors.mcp_config import classify, configured_server, describe_server

        info = describe_server(spec)
        classify(info)
        metadata = {**info.described(), "declared_in": "code"}
        flags = set(info.flags) - {"hardcoded_api_key"}
        return configured_server(self, file, line, name, metadata, version=info.version, flags=flags)

    def rust_child_servers(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """Servers an rmcp client starts as a child process, named by the package the runner starts."""
        from common.scanner.detectors.mcp_config import describe_server

        launches = [
            (match.start(), match.group(1), RUST_STRING.findall(match.group(2)))
            for match in RUST_SERVER_LAUNCH.finditer(text)
        ]
        bindings = None
        for match in RUST_CHILD_PROCESS.finditer(text):
            window = text[match.end() : match.end() + 800]
            window = window[: _call_end(window)]  # a configure closure's statements are inside the call
            command = RUST_COMMAND.search(window)
            if command:
                launches.append((match.start(), command.group(1), _rust_arguments([window[command.end() :]])))
            elif held := RUST_COMMAND_VARIABLE.match(text, match.end()):
                if bindings is None:  # each file's bindings found once, however many calls
                    bindings = [(m.start(), m.group(1), m.end()) for m in RUST_COMMAND_LET.finditer(text)]
                launches.extend(_held_command(text, match.start(), held.group(1), bindings))
        firsts: dict[int, int] = {}
        for start, program, args in sorted(launches):
            if opens_with_comment(text, start, ("//",), firsts):
                continue
            spec = {"command": program, "args": args}
            info = describe_server(spec)
            if info.package and info.registry not in (None, "command"):
                yield self.server(file, info.package, line_at(text, start), spec)

    def azure_function_tools(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """The MCP tools an Azure Functions app serves through tool triggers (``AZURE_TOOL_TRIGGER``),
        each named by its ``toolName`` (a generic trigger only when its type is ``mcpToolTrigger``)."""
        seen: set[str] = set()
        firsts: dict[int, int] = {}
        for count, match in enumerate(AZURE_TOOL_TRIGGER.finditer(text)):
            if count == MAX_AZURE_TRIGGERS:
                return
            window = text[match.end() : match.end() + AZURE_TRIGGER_WINDOW]
            window = window[: _call_end(window)]
            if "generic_trigger" in match.group() and "mcpToolTrigger" not in window:
                continue
            named = AZURE_TOOL_NAME.search(window)
            line = line_at(text, match.start())
            if (
                named is None
                or named.group(1).lower() in seen
                or opens_with_comment(text, match.start(), ("#", "//"), firsts)
            ):
                continue
            seen.add(named.group(1).lower())
            yield self.located(
                file,
                line,
                "tool",
                named.group(1).lower(),
                MCP_PROVIDER,
                metadata={"framework": "azure-functions-mcp"},
            )

    def rust_server_map_entries(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """The entries a Rust program puts in its map of MCP servers (``mcp_servers.insert("name", ..)``),
        each named by its key when its value gives a command or a URL, as the same entry of a client
        config file is; a unit test's entries are input for the code under test."""
        tests: set[int] | None = None
        firsts: dict[int, int] = {}
        for count, match in enumerate(RUST_SERVER_INSERT.finditer(text)):
            if count == MAX_SERVER_INSERTS:
                return
            if opens_with_comment(text, match.start(), ("//",), firsts):
                continue
            if tests is None:
                tests = rust_test_module_lines(text) if "cfg(test)" in text else set()
            if line_at(text, match.start()) in tests:
                continue
            window = text[match.end() : match.end() + 1500]
            value = window[: _call_end(window)]
            spec: dict = {m.group(1): m.group(2) for m in RUST_SPEC_FIELD.finditer(value)}
            if not spec:
                continue
            listed = RUST_ARGS_FIELD.search(value)
            spec["args"] = RUST_STRING.findall(listed.group(1)) if listed else []
            yield self.server(file, match.group(1), line_at(text, match.start(1)), spec)

    def rust_tool_definitions(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """Tools a Rust program sends a model API by hand (``json!`` or its own serde structs): an OpenAI
        function tool, and an object with a ``name`` and an ``input_schema`` (Anthropic) or
        ``inputSchema`` (an MCP server's tool list). The Responses API's flat function shape, which an
        AST dump shares, counts only in a crate that depends on an AI crate."""
        from common.scanner.detectors.languages import crate_uses_llm

        literals = Literals(text, hash_comments=False, rust=True)
        seen: set[str] = set()
        for match in FUNCTION_TYPE.finditer(text):
            pair = None if literals.in_string(match.start()) else literals.innermost(match.start() + 1)
            if pair is None:
                continue
            inner = next(literals.top_level(pair, RUST_FUNCTION_KEY), None)
            if inner is None and not crate_uses_llm(file):
                continue
            holder = literals.innermost(inner.end()) if inner else pair
            named = literals.string_value(holder, "name") if holder else None
            if not named or not (
                next(literals.top_level(holder, PARAMETERS_KEY), None)
                or next(literals.top_level(holder, DESCRIPTION_KEY), None)
            ):
                continue
            metadata = {"framework": "openai", "declared_as": "function definition"}
            if tool := self.first_tool(file, text, named, seen, "OpenAI", metadata):
                yield tool
        provider = MCP_PROVIDER if "nput_schema" not in text else "Anthropic"
        for found in self.tools(file, literals, provider):
            if found.name not in seen:
                yield found

    def go_tool_definitions(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """OpenAI-shaped function tools a Go program builds from its own structs: the ``Name`` of the
        ``Function`` body, when the body also describes the tool (``Description`` or ``Parameters``)."""
        seen: set[str] = set()
        metadata = {"framework": "openai", "declared_as": "function definition"}
        for match in GO_FUNCTION_TYPE.finditer(text):
            depth, named, described = 1, None, False
            body = text[match.end() : match.end() + GO_MAX_BODY]
            for count, token in enumerate(GO_BODY_TOKEN.finditer(body)):
                if count == GO_MAX_TOKENS:
                    break
                if token.group(0) == "{":
                    depth += 1
                elif token.group(0) == "}":
                    depth -= 1
                    if depth == 0:
                        break
                elif token.group(1) and depth == 1:
                    if token.group(1) == "Name" and token.group(2) and named is None:
                        named = (token.group(2), match.end() + token.start(2))
                    elif token.group(1) != "Name":
                        described = True
            if named and described and (tool := self.first_tool(file, text, named, seen, "OpenAI", metadata)):
                yield tool

    def csharp_servers(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """The server a C# client transport names (``Name = "x"``); nameless, the package its command
        starts or the host of the ``Endpoint`` it reaches."""
        from common.scanner.detectors.mcp_config import reached_server, started_server

        literals = Literals(text, hash_comments=False)
        for count, match in enumerate(CSHARP_TRANSPORT.finditer(text)):
            if count == MAX_CSHARP_TRANSPORTS:
                return
            pair = literals.innermost(match.end())
            if pair is None or literals.in_string(match.start()):
                continue
            names = dict((m.group(1), m) for m in literals.top_level(pair, CSHARP_NAME))
            # an ``McpServerConfig``'s ``Id`` is its key, the ``Name`` beside it a display name
            named = names.get("Id") or names.get("Name")
            command = CSHARP_COMMAND.search(text, *pair)
            url = CSHARP_ENDPOINT.search(text, *pair)
            if not named:
                # nameless, the server is the package a runner starts (``Command = "npx", Arguments =
                # ["-y", "pkg"]``), or the host an ``Endpoint`` reaches; a local program names none
                arguments = CSHARP_ARGUMENTS.search(text, *pair) if command else None
                line = line_at(text, match.start())
                found = None
                if command and command.group(1) and arguments:
                    args = [m.group(1) for m in CSHARP_STRING.finditer(arguments.group(1))]
                    found = started_server(self, file, line, command.group(1), args)
                elif url and not command:
                    found = reached_server(self, file, line, url.group(1))
                if found:
                    yield found
                continue
            spec = {"command": (command.group(1) or command.group(2))} if command else {}
            if url:
                spec = {"url": url.group(1)}
            yield self.server(file, named.group(2), line_at(text, named.start()), spec)

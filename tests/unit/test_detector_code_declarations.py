"""MCP servers and tools that code declares as object literals (detectors/code_declarations.py)."""

from pathlib import Path

from common.scanner.detectors.base import FileReport, SourceFile
from common.scanner.detectors.code_declarations import CodeDeclarationsDetector


def declared(tmp_path: Path, relpath: str, text: str) -> list[tuple[str, str, int]]:
    path = tmp_path / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    source = SourceFile(path=path, relpath=relpath, size=path.stat().st_size)
    return [
        (f.type, f.name, f.location.line) for f in CodeDeclarationsDetector().detect(source, FileReport())
    ]


def test_langchain_multi_server_client_entries_are_servers(tmp_path):
    typescript = """import { MultiServerMCPClient } from "@langchain/mcp-adapters";

const client = new MultiServerMCPClient({
  mcpServers: {
    context7: { command: "npx", args: ["-y", "@upstash/context7-mcp@latest"] },
    "personal-mcp-server": {
      url: "http://localhost:8080/mcp",
      headers: { "x-api-key": "Bearer 1234567890" },
    },
  },
});
const fallback = { url: "https://example.com" };
"""
    python = """from langchain_mcp_adapters.client import MultiServerMCPClient

connections = {
    "math": {"command": "python", "args": ["math_server.py"], "transport": "stdio"},
    "weather": {"url": "http://localhost:8000/mcp", "transport": "streamable_http"},
}
client = MultiServerMCPClient(connections)
"""
    assert declared(tmp_path, "host.ts", typescript) == [
        ("mcp_server", "context7", 5),
        ("mcp_server", "personal-mcp-server", 6),
    ]
    assert declared(tmp_path, "host.py", python) == [("mcp_server", "math", 4), ("mcp_server", "weather", 5)]


def test_server_shaped_objects_outside_a_client_are_not_servers(tmp_path):
    text = """import { MultiServerMCPClient } from "@langchain/mcp-adapters";

const services = { billing: { url: "https://billing.example.com" } };
const settings = { proxy: { command: "socat" } };
"""
    assert declared(tmp_path, "config.ts", text) == []


def test_tool_definitions_need_a_schema_and_an_ai_framework(tmp_path):
    low_level = """import { ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [{ name: "read_file", description: "Read", inputSchema: zodToJsonSchema(Args) }],
}));
const user = { name: "root", schema: {} };
const later = {
  // name: "commented", inputSchema: {},
  size: 3,
};
"""
    plain = """const form = { name: "signup", inputSchema: { type: "object" } };\n"""
    assert declared(tmp_path, "server.ts", low_level) == [("tool", "read_file", 3)]
    assert declared(tmp_path, "form.ts", plain) == []


def test_fastmcp_add_tool_is_named_by_its_top_level_name(tmp_path):
    text = """import { FastMCP } from "fastmcp";
server.addTool({
  execute: async () => {
    return { content: [{ type: "text", name: "inner" }] };
  },
  name: "get_app_config",
  parameters: z.object({}),
});
"""
    assert declared(tmp_path, "tools.ts", text) == [("tool", "get_app_config", 6)]


def test_csharp_client_transport_names_its_server(tmp_path):
    text = """using ModelContextProtocol.Client;

var client = await McpClientFactory.CreateAsync(
    new()
    {
        Id = "everything",
        Name = "Everything",
        TransportType = TransportTypes.StdIo,
        TransportOptions = new() { ["command"] = "npx", ["arguments"] = "-y @acme/server-everything" }
    }, options);
var info = new { Name = "not-a-server" };
"""
    # the config's ``Id`` is its key (the ``Name`` beside it a display name), as a client config's key names
    assert declared(tmp_path, "Program.cs", text) == [("mcp_server", "everything", 6)]


def test_a_typed_out_demo_token_is_a_placeholder_but_a_shaped_key_is_not():
    from common.scanner.detectors.mcp_config import secret_rules

    rules = secret_rules()
    assert not rules.is_secret("x-api-key", "Bearer 1234567890")
    assert not rules.is_secret("token", "abcdefgh12")
    assert rules.is_secret("GITHUB_TOKEN", "ghp_abcdefghijklmnopqrstuvwxyz0123456789")
    assert rules.is_secret("x-api-key", "Bearer 8f3kq0Zp2xLw7Rt9Vb4Nc6Md")


def test_gemini_declarations_are_the_list_entries_only(tmp_path):
    """Objects nested in a declaration (its parameters) and objects after the list name no tool."""
    source = """import { GoogleGenAI } from "@google/genai";
const config = {
  tools: [{
    functionDeclarations: [
      { name: "turn_on", parameters: { type: "object", properties: { r: { name: "x", parameters: {} } } } },
      { name: "no_schema", description: "no parameters" },
    ],
  }],
  extra: { name: "after_list", parameters: {} },
};
"""
    assert declared(tmp_path, "lights.ts", source) == [("tool", "turn_on", 5)]
    assert declared(tmp_path, "plain.ts", source.replace("@google/genai", "./local")) == []


def test_bedrock_tool_specs_need_a_bedrock_client(tmp_path):
    spec = """{"toolSpec": {"name": "lookup", "inputSchema": {"json": {"type": "object"}}}}"""
    assert declared(tmp_path, "agent.py", f"import boto3\n\nTOOLS = [{spec}]\n") == [("tool", "lookup", 3)]
    assert declared(tmp_path, "data.py", f"import json\n\nTOOLS = [{spec}]\n") == []


def test_function_shape_takes_the_provider_of_the_sdk_the_file_uses(tmp_path):
    tool = """TOOLS = [{"type": "function", "function": {"name": "get_time", "parameters": {}}}]\n"""
    for module, provider in (("mistralai", "Mistral AI"), ("ollama", "Ollama"), ("groq", "Groq")):
        path = tmp_path / f"{module}_app.py"
        path.write_text(f"import {module}\n\n{tool}")
        source = SourceFile(path=path, relpath=path.name, size=path.stat().st_size)
        found = [(f.name, f.provider) for f in CodeDeclarationsDetector().detect(source, FileReport())]
        assert found == [("get_time", provider)]
    assert declared(tmp_path, "plain.py", f"import json\n\n{tool}") == []


def test_rust_char_literals_and_lifetimes_keep_the_brace_structure():
    """A '{' char literal opens no object and a lifetime ('a, &'static) quotes nothing to the line end."""
    from common.scanner.detectors.code_declarations import Literals

    text = "fn f<'a>(s: &'a str) { let c = '{'; let e = '\\u{7b}'; g(json!({\"k\": 1})) }"
    literals = Literals(text, hash_comments=False, rust=True)
    opened = [text[start : end + 1] for start, end in zip(literals.starts, literals.ends, strict=True)]
    assert opened == [text[text.index("{ let") :], '{"k": 1}']


def test_rust_hand_rolled_tool_definitions(tmp_path):
    """Function tools in json! or the crate's own structs, and input_schema tools, need no AI crate; a
    call replayed into the history, a forced tool choice and the flat shape outside an AI crate are none."""
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "bot"\n\n[dependencies]\nreqwest = "0.12"\n')
    text = """fn tools<'a>() -> Value {
    let _ = '{';
    json!([{"type": "function", "function": {"name": "grep", "parameters": {"type": "object"}}},
           {"name": "edit", "description": "Edit a file", "input_schema": {"type": "object"}}])
}
fn spec() -> Spec {
    Spec { r#type: "function", function: FnSpec { name: "ls", description: "List a folder" } }
}
fn call() -> Call {
    Call { r#type: "function", function: FnCall { name: "cat", arguments: String::new() } }
}
fn choice() -> Value { json!({"type": "function", "function": {"name": "grep"}, "x": 1}) }
fn outline() -> Value { json!({"type": "function", "name": "main", "parameters": []}) }
#[cfg(test)]
mod tests {
    fn serializes() { json!({"name": "probe", "description": "A test tool", "input_schema": {}}); }
}
"""
    assert declared(tmp_path, "src/agent.rs", text) == [
        ("tool", "grep", 3),
        ("tool", "ls", 7),
        ("tool", "edit", 4),
    ]
    crate = tmp_path / "responses"
    crate.mkdir()
    (crate / "Cargo.toml").write_text('[package]\nname = "r"\n\n[dependencies]\nasync-openai = "0.28"\n')
    assert declared(tmp_path, "responses/src/tools.rs", text.split("fn outline", 1)[1]) == [
        ("tool", "main", 1)
    ]


def test_ruby_hashes_in_the_openai_and_anthropic_tool_shapes(tmp_path):
    openai = """require "openai"

client = OpenAI::Client.new
client.chat(
  parameters: {
    model: "gpt-4o",
    tools: [
      {
        type: "function",
        function: {
          name: "find_flight",
          description: "Find a flight",
          parameters: { type: :object, properties: {} },
        },
      },
    ],
  }
)
"""
    anthropic = """require "anthropic"

TOOLS = [
  # { name: "old_tool", input_schema: {} },
  { name: "seat_map", description: "Seats of a flight", input_schema: { type: "object" } }
]
"""
    plain = """class Form
  FIELDS = [{ type: "function", function: { name: "submit_form", parameters: {} } }]
end
"""
    assert declared(tmp_path, "chat.rb", openai) == [("tool", "find_flight", 11)]
    assert declared(tmp_path, "seats.rb", anthropic) == [("tool", "seat_map", 5)]
    assert declared(tmp_path, "form.rb", plain) == []


def test_gemini_declarations_listed_by_their_variable(tmp_path):
    python = """from google import genai
from google.genai import types

book_room = {
    "name": "book_room",
    "description": "Books a meeting room",
    "parameters": {"type": "object", "properties": {}},
}
settings = {"name": "theme", "value": "dark"}
tools = types.Tool(function_declarations=[book_room, settings])
"""
    typescript = """import { GoogleGenAI, Type } from "@google/genai";

const dimLights: FunctionDeclaration = {
  name: "dimLights",
  parameters: { type: Type.OBJECT, properties: {} },
};
const config = { tools: [{ functionDeclarations: [dimLights] }] };
"""
    assert declared(tmp_path, "rooms.py", python) == [("tool", "book_room", 5)]
    assert declared(tmp_path, "lights.ts", typescript) == [("tool", "dimlights", 4)]


def test_one_legacy_function_spec_and_cohere_v1_specs_in_a_file_importing_the_sdk(tmp_path):
    legacy = """import openai

functions = [
    {
        "name": "get_rates",
        "description": "Exchange rates",
        "parameters": {"type": "object", "properties": {}},
    }
]
openai.ChatCompletion.create(model="gpt-3.5-turbo-0613", messages=[], functions=functions)
"""
    cohere = """import cohere

tools = [
    {
        "name": "daily_sales",
        "description": "Sales of one day",
        "parameter_definitions": {"day": {"type": "str", "required": True}},
    }
]
"""
    assert declared(tmp_path, "rates.py", legacy) == [("tool", "get_rates", 5)]
    assert declared(tmp_path, "sales.py", cohere) == [("tool", "daily_sales", 5)]

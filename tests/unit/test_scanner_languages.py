from tests.unit.scanner_helpers import component, keys, scan_tree


def test_javascript_model_value_on_its_own_line_and_through_a_constant(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "chat.ts": (
                'import Anthropic from "@anthropic-ai/sdk";\n'
                'const MODEL = "claude-opus-4-1-20250805";\n'
                "const client = new Anthropic();\n"
                "await client.messages.create({\n"
                "  max_tokens: 10,\n"
                "  model: MODEL,\n"
                "});\n"
                "// we used claude-2.1 before\n"
            )
        },
    )
    assert keys(result) == {"llm_provider:anthropic", "model:claude-opus-4-1-20250805"}
    assert {loc.line for loc in component(result, "model:claude-opus-4-1-20250805").locations} == {2, 6}
    assert {loc.line for loc in component(result, "llm_provider:anthropic").locations} == {1, 3}


def test_require_and_multiline_imports(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "a.js": 'const { ChatOpenAI } = require("@langchain/openai");\n'
            'new ChatOpenAI({ modelName: "gpt-4o" });\n',
            "b.mjs": 'import {\n  Pinecone,\n} from "@pinecone-database/pinecone";\n'
            "const pc = new Pinecone();\n",
        },
    )
    assert {"agent_framework:langchain-openai", "model:gpt-4o", "vector_db:pinecone"} <= keys(result)


def test_js_without_an_ai_import_reports_nothing_but_raw_endpoints(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "user.js": 'const config = { model: "user-v2", provider: "openai" };\nexport default config;\n',
            "call.js": 'await fetch("https://api.groq.com/openai/v1/chat/completions", {'
            'body: JSON.stringify({model: "llama-3.3-70b-versatile"})});\n',
        },
    )
    assert keys(result) == {"endpoint:api.groq.com", "model:llama-3.3-70b-versatile"}


def test_go_imports_client_and_model(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "main.go": (
                'package main\n\nimport (\n\t"fmt"\n'
                '\tanthropic "github.com/anthropics/anthropic-sdk-go"\n)\n\n'
                "func main() {\n\tc := anthropic.NewClient()\n\tfmt.Println(c, anthropic.MessageNewParams{\n"
                '\t\tModel: "claude-3-7-sonnet-20250219",\n\t})\n}\n'
            )
        },
    )
    provider = component(result, "llm_provider:anthropic")
    assert {loc.line for loc in provider.locations} == {5, 9, 10}
    assert "retired_model" in component(result, "model:claude-3-7-sonnet-20250219").flags


def test_java_ruby_csharp_rust(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "App.java": "import com.openai.client.OpenAIClient;\n"
            "import com.openai.client.okhttp.OpenAIOkHttpClient;\n"
            'class App { OpenAIClient c = OpenAIOkHttpClient.fromEnv(); String m = "gpt-5-mini"; }\n',
            "bot.rb": "require 'anthropic'\nclient = Anthropic::Client.new\n"
            "client.messages(model: 'claude-3-haiku-20240307')\n",
            "P.cs": "using Microsoft.SemanticKernel;\nvar b = Kernel.CreateBuilder();\n"
            'b.AddOpenAIChatCompletion(modelId: "gpt-4.1", apiKey: key);\n',
            "main.rs": "use ollama_rs::{Ollama, generation::completion::request::GenerationRequest};\n"
            'let o = Ollama::default();\nlet r = GenerationRequest::new("llama3.2".into(), p);\n',
        },
    )
    assert {
        "llm_provider:openai",
        "model:gpt-5-mini",
        "llm_provider:anthropic",
        "model:claude-3-haiku-20240307",
        "agent_framework:semantic-kernel",
        "model:gpt-4.1",
        "llm_provider:ollama",
        "model:llama3.2",
    } == keys(result)


def test_comment_mentions_are_not_findings(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "x.ts": (
                'import OpenAI from "openai";\n'
                "/* we tried gpt-4-32k\n   and https://api.anthropic.com */\n"
                "// model: 'gpt-3.5-turbo'\n"
            )
        },
    )
    assert keys(result) == {"llm_provider:openai"}


def test_mcp_servers_and_clients_in_typescript_and_go(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "src/server.ts": 'import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";\n'
            'const server = new McpServer({\n  name: "Tickets",\n  version: "1.0.0",\n});\n',
            "src/client.ts": 'import { Client } from "@modelcontextprotocol/sdk/client/index.js";\n'
            'const client = new Client({ name: "ide", version: "1.0.0" });\n',
            "cmd/main.go": 'package main\n\nimport "github.com/mark3labs/mcp-go/server"\n\n'
            'func main() {\n\ts := server.NewMCPServer("inventory", "0.1.0")\n\t_ = s\n}\n',
        },
    )
    assert keys(result) == {
        "agent_framework:mcp",
        "mcp_server:tickets",
        "mcp_client:ide",  # the client's declared name, never a module path
        "mcp_server:inventory",
    }


def test_ruby_gem_constant_places_the_sdk_in_a_file_without_require_but_not_a_comment(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "app/services/extractor.rb": (
                'require "json"\n\nclass Extractor\n  def initialize\n    @llm = RubyLLM.chat\n  end\nend\n'
            ),
            "app/jobs/notes.rb": "class Notes\n  # calls RubyLLM.chat later\n  def run; end\nend\n",
        },
    )
    locations = {(loc.file, loc.line) for loc in component(result, "llm_provider:ruby-llm").locations}
    assert locations == {("app/services/extractor.rb", 5)}


def test_urls_in_messages_help_text_and_trailing_comments_are_not_endpoints(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "main.go": (
                "package main\n\n"
                'import openai "github.com/sashabaranov/go-openai"\n\n'
                "func main() {\n"
                '\tbase := flag.String("base-url", "", "API base, e.g. https://api.groq.com/openai/v1")\n'
                '\tcfg := openai.DefaultConfig("")\n'
                '\tcfg.BaseURL = "https://api.deepseek.com" // or https://api.x.ai\n'
                "}\n"
            )
        },
    )
    assert {k for k in keys(result) if k.startswith("endpoint:")} == {"endpoint:api.deepseek.com"}

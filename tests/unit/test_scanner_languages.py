from tests.unit.scanner_helpers import component, keys, scan_tree, tool_sites


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


def test_jvm_tools_built_in_code_as_their_documentation_writes_them(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "src/main/java/shop/Tools.java": (
                "package shop;\n"
                "\n"
                "import org.springframework.ai.tool.ToolCallback;\n"
                "import org.springframework.ai.tool.function.FunctionToolCallback;\n"
                "\n"
                "class Tools {\n"
                "    ToolCallback stock = FunctionToolCallback\n"
                '        .builder("stockLevel", new StockService())\n'
                '        .description("Units left of a product")\n'
                "        .build();\n"
                "}\n"
            ),
            "src/main/java/shop/TimeAgent.java": (
                "package shop;\n"
                "\n"
                "import com.google.adk.agents.LlmAgent;\n"
                "import com.google.adk.tools.FunctionTool;\n"
                "\n"
                "class TimeAgent {\n"
                "    static LlmAgent agent = LlmAgent.builder()\n"
                '        .tools(FunctionTool.create(TimeAgent.class, "currentTime"))\n'
                "        .build();\n"
                "}\n"
            ),
            "src/main/kotlin/shop/Convert.kt": (
                "package shop\n"
                "\n"
                "import ai.koog.agents.core.tools.SimpleTool\n"
                "import ai.koog.agents.core.tools.ToolDescriptor\n"
                "\n"
                "object ConvertTool : SimpleTool<ConvertTool.Args>() {\n"
                "    override val descriptor = ToolDescriptor(\n"
                '        name = "convert_units",\n'
                '        description = "Converts between units",\n'
                "    )\n"
                "}\n"
                "\n"
                "object GreetTool : SimpleTool<GreetTool.Args>(\n"
                "    argsSerializer = Args.serializer(),\n"
                '    name = "greet",\n'
                '    description = "Greets someone",\n'
                ")\n"
            ),
        },
    )
    assert tool_sites(result) == {
        ("stocklevel", "Spring", "src/main/java/shop/Tools.java", 7),
        ("currenttime", "Google", "src/main/java/shop/TimeAgent.java", 8),
        ("convert_units", "JetBrains", "src/main/kotlin/shop/Convert.kt", 7),
        ("greet", "JetBrains", "src/main/kotlin/shop/Convert.kt", 13),
    }


def test_csharp_kernel_functions_from_methods_and_azure_agent_function_tools(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Kernel/Program.cs": (
                "using Microsoft.SemanticKernel;\n"
                "\n"
                "var kernel = Kernel.CreateBuilder().Build();\n"
                'kernel.Plugins.AddFromFunctions("clock", [\n'
                "    KernelFunctionFactory.CreateFromMethod(() => DateTime.UtcNow, functionName: "
                '"utc_now", description: "Now"),\n'
                "    KernelFunctionFactory.CreateFromMethod(GetZone),\n"
                "]);\n"
            ),
            "Agents/Program.cs": (
                "using Azure.AI.Agents.Persistent;\n"
                "\n"
                'FunctionToolDefinition cityTool = new("favouriteCity", "The user\'s favourite city");\n'
                'var unitTool = new FunctionToolDefinition(name: "preferredUnit", description: "Units");\n'
            ),
        },
    )
    assert tool_sites(result) == {
        ("utc_now", "Microsoft", "Kernel/Program.cs", 5),
        # unnamed, Semantic Kernel names the function after the method it is handed
        ("getzone", "Microsoft", "Kernel/Program.cs", 6),
        ("favouritecity", "Microsoft Azure", "Agents/Program.cs", 3),
        ("preferredunit", "Microsoft Azure", "Agents/Program.cs", 4),
    }


def test_go_openai_responses_function_tool(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "go.mod": "module example.com/shop\n\ngo 1.22\n\nrequire github.com/openai/openai-go v1.0.0\n",
            "tools.go": (
                "package main\n"
                "\n"
                'import "github.com/openai/openai-go/responses"\n'
                "\n"
                'var orderTool = responses.ToolParamOfFunction("find_order", orderSchema, false)\n'
            ),
        },
    )
    assert tool_sites(result) == {("find_order", "OpenAI", "tools.go", 5)}


def test_typescript_dynamic_tools_agents_as_tools_and_voltagent_tools(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "vercel.ts": (
                'import { dynamicTool, streamText } from "ai";\n'
                'import { z } from "zod";\n'
                "\n"
                "streamText({\n"
                "  model,\n"
                "  tools: {\n"
                "    runQuery: dynamicTool({\n"
                '      description: "Run a saved query",\n'
                "      inputSchema: z.object({}),\n"
                "      execute: async (input) => input,\n"
                "    }),\n"
                "  },\n"
                "});\n"
            ),
            "agents.ts": (
                'import { Agent } from "@openai/agents";\n'
                "\n"
                'const summariser = new Agent({ name: "Summariser", instructions: "Summarise" });\n'
                "const lead = new Agent({\n"
                '  name: "lead",\n'
                '  tools: [summariser.asTool({ toolName: "summarise_text", toolDescription: "Sum" })],\n'
                "});\n"
            ),
            "volt.ts": (
                'import { createTool } from "@voltagent/core";\n'
                'import { z } from "zod";\n'
                "\n"
                "export const lookupTool = createTool({\n"
                '  name: "lookup_customer",\n'
                '  description: "Find a customer",\n'
                "  parameters: z.object({ id: z.string() }),\n"
                "  execute: async ({ id }) => id,\n"
                "});\n"
            ),
        },
    )
    assert tool_sites(result) == {
        ("runquery", "Vercel", "vercel.ts", 7),
        ("summarise_text", "OpenAI", "agents.ts", 6),
        ("lookup_customer", "VoltAgent", "volt.ts", 4),
    }


def test_ruby_tools_are_located_at_their_class_and_function_lines(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Gemfile": 'source "https://rubygems.org"\ngem "ruby_llm"\ngem "langchainrb"\n',
            "forecast.rb": (
                'require "ruby_llm"\n'
                "\n"
                "class Forecast < RubyLLM::Tool\n"
                '  description "Forecast for a place"\n'
                "end\n"
            ),
            "library_tool.rb": (
                'require "langchain"\n'
                "\n"
                "class LibraryTool\n"
                "  extend Langchain::ToolDefinition\n"
                "\n"
                '  define_function :find_book, description: "Find a book" do\n'
                "  end\n"
                "end\n"
            ),
        },
    )
    assert tool_sites(result) == {
        ("forecast", "RubyLLM", "forecast.rb", 3),
        ("library_tool__find_book", "LangChain", "library_tool.rb", 6),
    }


def test_bare_host_compared_with_a_configured_url_is_no_endpoint(tmp_path):
    go = """\
package llm

import "strings"

func official(base string) bool {
\treturn strings.Contains(base, "api.openai.com")
}

func isAnthropic(host string) bool { return host == "api.anthropic.com" }

var defaultHost = "api.mistral.ai"
"""
    ts = "export const isGroq = (url: string) => url.includes('api.groq.com')\n"
    result = scan_tree(tmp_path, {"llm/hosts.go": go, "web/hosts.ts": ts})
    endpoints = {c.name for c in result.components if c.type == "endpoint"}
    assert endpoints == {"api.mistral.ai"}


def test_rust_model_enums_and_presets_that_do_not_spell_the_id(tmp_path):
    """fastembed's ``EmbeddingModel::AllMiniLML6V2`` and kalosm's ``LlamaSource::qwen_2_5_7b_instruct()`` /
    ``Llama::new_chat()`` load a model their name only abbreviates: the crates' own tables give the id."""
    result = scan_tree(
        tmp_path,
        {
            "Cargo.toml": '[package]\nname = "notes"\n\n[dependencies]\nfastembed = "4"\nkalosm = "0.4"\n',
            "src/main.rs": (
                "use fastembed::{EmbeddingModel, InitOptions, RerankerModel, TextEmbedding};\n"
                "use kalosm::language::*;\n"
                "fn embed() { TextEmbedding::try_new(InitOptions::new(EmbeddingModel::BGESmallENV15Q)); }\n"
                "fn rerank() { RerankInitOptions::new(RerankerModel::BGERerankerBase); }\n"
                "async fn chat() { let model = Llama::new_chat().await; }\n"
                "async fn code() { Llama::builder().with_source(LlamaSource::qwen_2_5_7b_instruct()); }\n"
                "fn plain() { let v = semver::Version::new(); let base = Config::base(); }\n"
            ),
        },
    )
    models = {c.name: {loc.line for loc in c.locations} for c in result.components if c.type == "model"}
    assert models == {
        "baai/bge-small-en-v1.5": {3},
        "baai/bge-reranker-base": {4},
        "lmstudio-community/meta-llama-3.1-8b-instruct-gguf": {5},
        "bartowski/qwen2.5-7b-instruct-gguf": {6},
    }


def test_lua_plugin_setup_tables_and_gateway_calls(tmp_path):
    """Lua has no catalog SDK: an avante.nvim provider table's ``endpoint``/``model`` and an OpenResty call
    to an AI API are read as any SDK-less file's literals are; ``--`` and ``--[[ ]]`` comments are prose."""
    result = scan_tree(
        tmp_path,
        {
            "lua/plugins/ai.lua": (
                "-- tried gpt-4o-mini first\n"
                'return { "yetone/avante.nvim", opts = {\n'
                '  provider = "claude",\n'
                "  providers = { claude = {\n"
                '    endpoint = "https://api.anthropic.com",\n'
                '    model = "claude-sonnet-4-20250514",\n'
                "  } },\n"
                "} }\n"
                '--[==[\n  model = "claude-3-opus-20240229"\n]==]\n'
            ),
            "gateway/chat.lua": (
                'local http = require("resty.http")\n'
                'local res = http.new():request_uri("https://api.openai.com/v1/chat/completions", {\n'
                '  body = cjson.encode({ model = "gpt-4.1", messages = msgs }),\n'
                "})\n"
            ),
            "lua/plain.lua": 'local model = opts.model or "default"\nvim.opt.number = true\n',
        },
    )
    assert keys(result) == {
        "endpoint:api.anthropic.com",
        "model:claude-sonnet-4-20250514",
        "endpoint:api.openai.com",
        "model:gpt-4.1",
    }
    assert {loc.line for loc in component(result, "model:claude-sonnet-4-20250514").locations} == {6}

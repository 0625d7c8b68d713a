"""Model identifiers outside call arguments (issue 13): catalogs in code, constants referenced from
other files, SDK model constants, config lists, and the prose and no-AI guards that keep precision."""

from common.scanner.detectors.config_env import is_api_description, is_json_lines
from common.scanner.textutil import (
    code_model_literals,
    model_constant_definitions,
    model_id_from_constant_name,
)
from tests.unit.scanner_helpers import component, keys, scan_tree


def models(result) -> set[str]:
    return {k.removeprefix("model:") for k in keys(result) if k.startswith("model:")}


def lines_of(result, key: str) -> dict[str, int]:
    """The first line of ``key`` in each file it was located in."""
    first: dict[str, int] = {}
    for loc in component(result, key).locations:
        first[loc.file] = min(loc.line, first.get(loc.file, loc.line))
    return first


def test_constant_referenced_from_another_file_is_located_at_its_first_naming_line(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "src/providers/openai.rs": 'pub const GPT_4O: &str = "gpt-4o";\npub const O3: &str = "o3";\n',
            "examples/agent.rs": (
                "// GPT_4O is the default\nuse mylib::providers::openai::{self, GPT_4O};\n\n"
                "fn main() { run(GPT_4O); run(openai::O3); }\n"
            ),
            "examples/other.rs": "fn main() { let GPT_40 = 1; }\n",
            "Cargo.toml": '[package]\nname = "mylib"\n\n[dependencies]\nasync-openai = "0.28"\n',
        },
    )
    assert lines_of(result, "model:gpt-4o") == {"src/providers/openai.rs": 1, "examples/agent.rs": 2}
    assert lines_of(result, "model:o3") == {"src/providers/openai.rs": 2, "examples/agent.rs": 4}


def test_a_constant_defined_twice_resolves_through_the_qualifier_path(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "providers/openai.rs": 'pub const FLAGSHIP_MODEL: &str = "gpt-4.1";\n',
            "providers/anthropic.rs": 'pub const FLAGSHIP_MODEL: &str = "claude-opus-4-20250514";\n',
            "main.rs": "fn main() { pick(anthropic::FLAGSHIP_MODEL); }\n",
            "requirements.txt": "anthropic==0.40.0\n",
        },
    )
    assert "main.rs" in lines_of(result, "model:claude-opus-4-20250514")
    assert "main.rs" not in lines_of(result, "model:gpt-4.1")


def test_constants_resolve_only_within_their_language_family(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "catalog/Models.kt": 'object Models { const val GPT_4O_MINI = "gpt-4o-mini" }\n',
            "web/app.ts": "export const picked = GPT_4O_MINI;\n",
            "jvm/App.java": "class App { String m = Models.GPT_4O_MINI; }\n",
            "requirements.txt": "openai==1.40.0\n",
        },
    )
    assert set(lines_of(result, "model:gpt-4o-mini")) == {"catalog/Models.kt", "jvm/App.java"}


def test_sdk_model_constant_names_its_id():
    assert model_id_from_constant_name("O3_MINI", named_as_model=True) == "o3-mini"
    assert model_id_from_constant_name("GPT_3_5_TURBO", named_as_model=False) == "gpt-3.5-turbo"
    assert model_id_from_constant_name("GPT_4O_2099_01_01", named_as_model=False) is None
    assert model_id_from_constant_name("GPT_4O_2099_01_01", named_as_model=True) == "gpt-4o-2099-01-01"
    assert model_id_from_constant_name("MAX_RETRIES", named_as_model=True) is None
    assert model_id_from_constant_name("Model", named_as_model=True) is None


def test_constant_definitions_of_every_language_shape():
    text = (
        'pub const GPT_4O: &str = "gpt-4o";\n'
        'const val O4_MINI = "o4-mini"\n'
        '\tGPT41Mini string = "gpt-4.1-mini"\n'
        '    CLAUDE_HAIKU("claude-3-5-haiku-20241022", 200000),\n'
        'public static final String EMBEDDER = "text-embedding-3-small";\n'
        'Model = "gpt-4o"\n'
        'BANNER = "welcome"\n'
    )
    assert model_constant_definitions(text) == {
        "GPT_4O": "gpt-4o",
        "O4_MINI": "o4-mini",
        "GPT41Mini": "gpt-4.1-mini",
        "CLAUDE_HAIKU": "claude-3-5-haiku-20241022",
    }


def test_code_literals_skip_comments_prose_sinks_and_untiered_names():
    text = (
        '// "gpt-4o" was the default\n'
        'routes = {"fast": "gpt-4o-mini", "tool": "claude-code"}\n'
        'logger.warning("falling back to %s", "gpt-4.1")\n'
        'throw new IllegalArgumentException("o3-mini")\n'
        'picker = { label: "Gemini", models: ["gemini-2.5-pro"] }\n'
        'fallback = os.getenv("FALLBACK", "gpt-4o")\n'
    )
    assert list(code_model_literals(text, {1})) == [(2, "gpt-4o-mini"), (5, "gemini-2.5-pro")]


def test_code_literals_keep_the_literal_default_of_a_model_setting_read_from_the_environment():
    """The code runs its default whenever the variable is unset: the policy labels it, in every language."""
    text = (
        'model: process.env.OPENAI_MODEL ?? "gpt-4-turbo",\n'
        'EMBED = ENV.fetch("EMBED_MODEL", "text-embedding-3-small")\n'
        'static String m = System.getenv().getOrDefault("LLM", "gpt-4o");\n'
        'public static string Name => Environment.GetEnvironmentVariable("X") ?? "o3-mini";\n'
    )
    assert list(code_model_literals(text, set())) == [
        (1, "gpt-4-turbo"),
        (2, "text-embedding-3-small"),
        (3, "gpt-4o"),
    ]


def test_catalog_literals_need_a_project_that_uses_ai(tmp_path):
    plain = scan_tree(
        tmp_path / "plain",
        {
            "words.go": 'var Words = []string{"gpt-4o-mini"}\n',
            "catalog.rs": 'pub const GPT_4O: &str = "gpt-4o";\n',
            "use.rs": "fn main() { run(GPT_4O); }\n",
            "requirements.txt": "scikit-learn==1.5.0\n",
        },
    )
    assert models(plain) == set()
    with_ai = scan_tree(
        tmp_path / "ai",
        {
            "words.go": 'var Words = []string{"gpt-4o-mini"}\n',
            "requirements.txt": "openai==1.40.0\n",
        },
    )
    assert models(with_ai) == {"gpt-4o-mini"}


def test_config_lists_and_tables_under_model_keys(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "config/llm.yaml": (
                "# phi3:mini is too small\nllm:\n  pool: [llama3.3:70b, qwen2.5:14b]\n"
                "  served_model_name: kimi-k2\nbanner: gpt-4o\n"
            ),
            "config/models.toml": '[models."gpt-4.1-mini"]\nmax_tokens = 4096\n',
            ".env.example": "MODEL_FAST=gemini-2.5-flash\nTITLE=gpt-4o\n",
        },
    )
    assert models(result) == {"llama3.3:70b", "qwen2.5:14b", "gpt-4.1-mini", "gemini-2.5-flash"}
    assert lines_of(result, "model:qwen2.5:14b") == {"config/llm.yaml": 3}


def test_terraform_lists_count_but_resource_names_and_comment_blocks_do_not(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "main.tf": (
                'variable "models" {\n'
                '  default = ["amazon.nova-lite-v1:0", "mistral.mistral-large-2407-v1:0"]\n}\n'
                '/* old\n  default = ["anthropic.claude-v2"]\n*/\n'
                'resource "azurerm_cognitive_deployment" "d" {\n  name = "gpt-4o-mini"\n'
                '  model {\n    format = "OpenAI"\n    name = "gpt-4o"\n  }\n}\n'
            ),
        },
    )
    assert "amazon.nova-lite-v1:0" in models(result)
    assert "mistral.mistral-large-2407-v1:0" in models(result)
    assert "anthropic.claude-v2" not in models(result)
    assert "gpt-4o-mini" not in models(result)


def test_untiered_catalog_id_as_the_model_argument_of_an_sdk_call(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "main.go": (
                'package main\n\nimport "github.com/ollama/ollama/api"\n\n'
                'func main() {\n\tapi.GenerateStream(ctx, "llava", "describe")\n'
                '\tapi.Pull(ctx, "mistral")\n\tapi.Format("command")\n}\n'
            )
        },
    )
    assert models(result) == {"llava", "mistral"}


def test_sdk_constants_through_a_module_path_or_imported_bare(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "src/main.rs": (
                "use rig::providers::openai::{self, GPT_4O_MINI};\n\n"
                "fn main() {\n    let a = client.agent(openai::O3_MINI);\n"
                "    let b = client.agent(GPT_4O_MINI);\n"
                "    let retries = openai::MAX_RETRIES;\n}\n"
            ),
            "src/own.rs": (
                'use rig::providers::openai;\npub const GPT_4O: &str = "gpt-4o-2024-08-06";\n'
                "fn f() { openai::client().agent(GPT_4O); }\n"
            ),
        },
    )
    assert lines_of(result, "model:gpt-4o-mini") == {"src/main.rs": 1}
    assert lines_of(result, "model:o3-mini") == {"src/main.rs": 4}
    assert "gpt-4o" not in models(result)
    assert "gpt-4o-2024-08-06" in models(result)


def test_a_literal_id_in_a_test_is_input_data(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "tests/test_router.py": 'CASES = [("fast", "gpt-4.1-mini")]\n',
            "src/router_test.go": 'package router\n\nvar cases = map[string]string{"fast": "o4-mini"}\n',
            "requirements.txt": "openai==1.40.0\n",
        },
    )
    assert models(result) == set()


def test_a_catalog_id_needs_a_version_or_tier_word_outside_calls():
    text = 'IDS = ["command-r", "grok-beta", "mistral-embed", "claude-code", "command"]\n'
    assert [value for _, value in code_model_literals(text, set())] == [
        "command-r",
        "grok-beta",
        "mistral-embed",
    ]


def test_rust_enum_variants_that_stand_for_model_ids_resolve_where_used(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "src/models.rs": (
                "#[derive(Display, EnumString)]\npub enum ChatModel {\n"
                '    #[strum(serialize = "gemini-2.0-flash-001")]\n    Gemini20Flash,\n'
                '    #[serde(rename = "gemini-1.5-pro")]\n    #[default]\n    Gemini15Pro,\n}\n'
                "impl Tier {\n    fn id(&self) -> &str {\n        match self {\n"
                '            Self::Haiku35 => "claude-3-5-haiku-20241022",\n        }\n    }\n}\n'
            ),
            "src/main.rs": (
                "fn main() {\n    let a = request(ChatModel::Gemini20Flash);\n"
                "    let b = request(Tier::Haiku35);\n}\n\n"
                "#[cfg(test)]\nmod tests {\n    #[test]\n    fn builds() {\n"
                "        request(ChatModel::Gemini15Pro);\n    }\n}\n"
            ),
            "src/request.rs": 'const BASE: &str = "https://generativelanguage.googleapis.com";\n',
        },
    )
    assert lines_of(result, "model:gemini-2.0-flash-001") == {"src/models.rs": 3, "src/main.rs": 2}
    assert lines_of(result, "model:claude-3-5-haiku-20241022") == {"src/models.rs": 12, "src/main.rs": 3}
    assert "src/main.rs" not in lines_of(result, "model:gemini-1.5-pro")


def test_a_private_constant_is_not_resolved_from_other_files(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "src/VertexExample.java": (
                "class VertexExample {\n"
                '    private static final String MODEL_NAME = "gemini-1.5-pro";\n'
                "    Object m = VertexAiGeminiChatModel.builder().modelName(MODEL_NAME).build();\n}\n"
            ),
            "src/ChatApp.java": (
                "class ChatApp {\n"
                "    Object m = OpenAiChatModel.builder().modelName(ApiKeys.MODEL_NAME).build();\n}\n"
            ),
            "src/ApiKeys.java": (
                "class ApiKeys {\n"
                '    static final String MODEL_NAME = getOrDefault(System.getenv("MODEL_NAME"),'
                ' "qwen-max");\n}\n'
            ),
            "pom.xml": "<project><dependencies><dependency><groupId>dev.langchain4j</groupId>"
            "<artifactId>langchain4j-open-ai</artifactId></dependency></dependencies></project>\n",
        },
    )
    assert set(lines_of(result, "model:gemini-1.5-pro")) == {"src/VertexExample.java"}
    assert model_constant_definitions('private val MODEL_NAME = "gemini-1.5-pro"', shared_only=True) == {}
    assert model_constant_definitions('private val MODEL_NAME = "gemini-1.5-pro"') == {
        "MODEL_NAME": "gemini-1.5-pro"
    }


def test_commented_alternatives_after_code_are_not_used(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "src/Chat.java": (
                "import dev.langchain4j.model.openai.OpenAiChatModel;\n"
                "import static dev.langchain4j.model.openai.OpenAiChatModelName.GPT_4_O_MINI;\n"
                "import static dev.langchain4j.model.openai.OpenAiChatModelName.GPT_4_O;\n\n"
                "class Chat {\n"
                '    static final String BASE = "https://dashscope.aliyuncs.com/compatible-mode/v1"; '
                '// "https://api.openai.com/v1"\n'
                '    Object a = OpenAiChatModel.builder().baseUrl(BASE).modelName("qwen-max")'
                " //GPT_4_O_MINI)\n"
                "        .build();\n"
                '    Object b = OpenAiChatModel.builder().modelName(GPT_4_O).build(); // "gpt-4.1-nano"\n'
                "}\n"
            ),
        },
    )
    found = models(result)
    assert {"qwen-max", "gpt-4o"} <= found
    assert not {"gpt-4o-mini", "gpt-4.1-nano"} & found
    assert "endpoint:dashscope.aliyuncs.com" in keys(result)
    assert "endpoint:api.openai.com" not in keys(result)


def test_json_lines_records_are_not_configuration():
    assert is_json_lines('{"msg": "Post https://api.openai.com/v1"}\n\n{"msg": "ok"}\n')
    assert not is_json_lines('{"mcpServers": {"x": {"url": "http://localhost:8000"}}}\n')
    assert not is_json_lines('{\n  "base_url": "https://api.openai.com/v1"\n}\n')


def test_api_descriptions_are_not_configuration():
    assert is_api_description("openapi: 3.1.0\ninfo:\n  title: x\n")
    assert is_api_description('{\n  "swagger": "2.0",\n  "info": {}\n}\n')
    assert not is_api_description("model: gpt-4o\nbase_url: https://api.openai.com/v1\n")


def test_a_model_entry_name_and_a_served_alias_argument_are_labels_not_models(tmp_path):
    """vLLM production-stack values: a ``modelSpec`` entry's ``name`` labels the deployment whose model is
    ``modelURL``; ``--served-model-name``'s value is an alias. An entry naming no model of its own keeps its
    ``name`` (``models: [{name: gpt-4o, model_type: chat}]``)."""
    result = scan_tree(
        tmp_path,
        {
            "helm/values.yaml": (
                "servingEngineSpec:\n  modelSpec:\n"
                '  - name: "llama3"\n    repository: "vllm/vllm-openai"\n    tag: "v0.6.3"\n'
                '    modelURL: "meta-llama/Llama-3.1-8B-Instruct"\n    requestGPU: 1\n'
                "    vllmConfig:\n"
                '      extraArgs: ["--served-model-name", "mistral-small", "--max-model-len", "4096"]\n'
            ),
            "config.yaml": "models:\n  - name: gpt-4o\n    model_type: chat\n",
        },
    )
    assert models(result) == {"meta-llama/llama-3.1-8b-instruct", "gpt-4o"}


def test_a_model_named_field_set_in_a_test_without_a_live_call_is_input_data(tmp_path):
    fixture = (
        'package agent\n\nimport "testing"\n\nfunc TestFallback(t *testing.T) {\n'
        '\torch := newOrchestrator(fakeProvider{})\n\torch.model = "gemini-flash-latest"\n}\n'
    )
    live = fixture.replace(
        "\torch := ", '\tif os.Getenv("GEMINI_API_KEY") == "" {\n\t\tt.Skip()\n\t}\n\torch := '
    )
    result = scan_tree(
        tmp_path,
        {
            "go.mod": "module example.com/lab\n",
            "pkg/agent/fallback_test.go": fixture,
            "pkg/live/gemini_test.go": live,
            "config.example.json": '{"llm": {"model": "gpt-4o"}}\n',
        },
    )
    assert lines_of(result, "model:gemini-flash-latest") == {"pkg/live/gemini_test.go": 10}


def test_an_api_route_named_after_a_model_it_does_not_call_names_itself_not_a_model(tmp_path):
    route = (
        'import Replicate from "replicate";\nconst replicate = new Replicate();\n'
        "export async function POST(req: Request) {\n"
        '  const key = { companionName: "Alex", modelName: "llama2-13b" };\n'
        '  return replicate.run("meta/llama-2-13b-chat", { input: {} });\n}\n'
    )
    only = 'import ollama from "ollama";\nexport const reply = () => ollama.chat({ model: "llama3.2" });\n'
    result = scan_tree(
        tmp_path,
        {
            "package.json": '{"dependencies": {"replicate": "^0.30.0", "ollama": "^0.5.0"}}\n',
            "src/app/api/llama2-13b/route.ts": route,
            "pages/api/llama3.2.ts": only,
        },
    )
    assert "model:llama2-13b" not in keys(result)
    assert lines_of(result, "model:meta/llama-2-13b-chat") == {"src/app/api/llama2-13b/route.ts": 5}
    assert lines_of(result, "model:llama3.2") == {"pages/api/llama3.2.ts": 2}

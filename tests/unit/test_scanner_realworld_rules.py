"""Rules added for the blind spots the hand-labelled real-world corpus exposed (issue 13), each as a
general rule: provider naming grammars, catalog entries, manifest parsing, language SDK idioms."""

from common.scanner.catalog import go_provider_client, integration_package, match_model
from tests.unit.scanner_helpers import component, keys, scan_tree


def test_framework_integration_grammar_keeps_helpers_out():
    assert integration_package("llama-index-llms-anthropic").id == "llama-index-llms-anthropic"
    assert integration_package("llama_index_vector_stores_chroma").type == "vector_db"
    assert integration_package("llama-index-tools-tavily-research").provider == "LlamaIndex"
    assert integration_package("langchain-qdrant").type == "vector_db"
    assert integration_package("langchain-faiss").id == "langchain-faiss"
    for helper in (
        "llama-index-utils-workflow",
        "llama-index-readers-file",
        "langchain-text-splitters",
        "langchain-",
    ):
        assert integration_package(helper) is None, helper


def test_go_client_grammar_reads_the_repository_not_a_sub_package():
    assert go_provider_client("github.com/acme/openai-cli/services/openai") is None
    assert go_provider_client("github.com/acme/ollama-go/api").id == "github.com/acme/ollama-go"


def test_model_families_for_open_weights_and_document_intelligence():
    assert match_model("llava:13b").family == "open-weights"
    assert match_model("prebuilt-layout").provider == "Microsoft Azure"
    assert match_model("prebuilt-anything") is None
    assert match_model("lavalamp") is None


def test_openai_agents_needs_a_name_only_the_sdk_exports(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "sdk/run.py": "from agents import Agent, Runner\nAgent(name='a', model='gpt-4o-mini')\n",
            "local/team.py": "from agents import Agent\nfrom agents.planner import plan\nAgent('x')\n",
        },
    )
    agents = component(result, "agent_framework:openai-agents")
    assert {loc.file for loc in agents.locations} == {"sdk/run.py"}
    model = component(result, "model:gpt-4o-mini")
    assert {loc.file for loc in model.locations} == {"sdk/run.py"}


def test_model_constant_of_a_settings_module_without_imports(tmp_path):
    result = scan_tree(
        tmp_path,
        {"settings.py": 'MODEL_NAME = "gpt-4o-mini"\nBANNER = "gpt-4o"\nEMBED_MODEL = "house-model"\n'},
    )
    assert {k for k in keys(result) if k.startswith("model:")} == {"model:gpt-4o-mini"}


def test_maven_bom_import_is_not_a_dependency(tmp_path):
    pom = (
        "<project><dependencyManagement><dependencies><dependency>\n"
        "<groupId>dev.langchain4j</groupId><artifactId>langchain4j-bom</artifactId>\n"
        "<version>1.1.0</version><type>pom</type><scope>import</scope>\n"
        "</dependency></dependencies></dependencyManagement></project>\n"
    )
    result = scan_tree(tmp_path, {"pom.xml": pom})
    assert not result.components


def test_csharp_idioms_without_usings_drive_models_and_tools_but_place_no_import(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Bot/Bot.csproj": '<Project><ItemGroup><PackageReference Include="Microsoft.SemanticKernel" '
            'Version="1.30.0" /></ItemGroup></Project>\n',
            "Bot/Program.cs": (
                'var k = Kernel.CreateBuilder()\n    .AddOpenAIChatCompletion("gpt-4o", key).Build();\n'
            ),
            "Bot/Plain.cs": 'class Plain { public string Hello() => "Hello from gpt-4o"; }\n',
        },
    )
    kernel = component(result, "agent_framework:semantic-kernel")
    assert {loc.file for loc in kernel.locations} == {"Bot/Bot.csproj"}
    model = component(result, "model:gpt-4o")
    assert {loc.file for loc in model.locations} == {"Bot/Program.cs"}


def test_pgvector_cast_in_code_but_not_a_cpp_style_vector(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "search.py": 'Q = "SELECT id FROM docs ORDER BY embedding <=> %s::vector LIMIT 5"\n',
            "other.py": 'NOTE = "std::vector<int> is a C++ type"\n',
        },
    )
    store = component(result, "vector_db:pgvector")
    assert {loc.file for loc in store.locations} == {"search.py"}


def test_shell_script_names_an_ai_image_but_not_in_a_url(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "run.sh": 'IMAGE="${IMAGE:-ollama/ollama:0.5.7}"\ndocker run -d "$IMAGE"\n',
            "docs.sh": "# see https://hub.docker.com/r/ollama/ollama\ncurl -s https://example.com/ollama/ollama:1\n",
        },
    )
    image = component(result, "container:ollama/ollama")
    assert {loc.file for loc in image.locations} == {"run.sh"}
    assert image.version == "0.5.7"


def test_model_catalogs_in_files_without_sdk_imports(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "billing/pricing.py": (
                '# OLD_MODEL = "gpt-3.5-turbo"\n'
                'MODEL_PRICES = {\n    "gpt-4o": 2.5,\n    "claude-3-5-haiku-20241022": 0.8,\n}\n'
                'FALLBACK_MODEL = os.getenv("FALLBACK_MODEL", "o3-mini")\n'
                'SUPPORTED_LLMS = frozenset(["mistral-large-latest", "in-house-7b"])\n'
            ),
            "web/models.ts": (
                'export const MODEL_IDS: string[] = ["gemini-2.0-flash"];\nconst title = "gpt-4.1";\n'
            ),
        },
    )
    models = {k for k in keys(result) if k.startswith("model:")}
    assert models == {
        "model:gpt-4o",
        "model:claude-3-5-haiku-20241022",
        "model:mistral-large-latest",
        "model:gemini-2.0-flash",
        "model:o3-mini",  # the environment read's literal default: no .env of the tree sets another
    }


def test_credentials_handed_to_ci_steps_or_referenced_in_templates_name_no_sdk(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            ".github/workflows/review.yml": (
                "on: pull_request\njobs:\n  review:\n    runs-on: ubuntu-latest\n    steps:\n"
                "      - uses: anthropics/claude-code-action@v1\n        env:\n"
                "          ANTHROPIC_API_KEY: ${{ secrets.ANTHROPIC_API_KEY }}\n"
            ),
            "action.yml": (
                "name: review\nruns:\n  using: composite\n  steps:\n"
                "    - run: ./review.sh\n      shell: bash\n"
                "      env:\n        OPENAI_API_KEY: ${{ inputs.openai_api_key }}\n"
            ),
            "deploy/.env.example": "GROQ_API_KEY=${GROQ_API_KEY}\n",
        },
    )
    assert keys(result) == {"workflow:anthropics/claude-code-action"}


def test_aws_ai_clients_through_the_generic_sdks(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "invoke.py": (
                "import boto3\n\nruntime = boto3.client('sagemaker-runtime')\nagents = boto3.client("
                "service_name='bedrock-agent-runtime')\ns3 = boto3.client('s3')\n"
            ),
            "agent.go": 'package main\n\nimport "github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime"\n',
        },
    )
    assert {k for k in keys(result) if k.startswith("llm_provider")} == {
        "llm_provider:aws-sagemaker-runtime",
        "llm_provider:aws-bedrock",
    }
    bedrock = component(result, "llm_provider:aws-bedrock")
    assert {loc.file for loc in bedrock.locations} == {"invoke.py", "agent.go"}


def test_azure_deployment_keys_hold_aliases_unless_named_by_a_model_id(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "config/default.yaml": 'openai:\n  deployment_name: "chat-prod-01"\n  model: "gpt-4o-mini"\n',
            ".env.example": "AZURE_OPENAI_DEPLOYMENT=gpt-4o\nAZURE_OPENAI_DEPLOYMENT_MODEL=gpt-4.1\n",
        },
    )
    assert {k for k in keys(result) if k.startswith("model:")} == {
        "model:gpt-4o-mini",
        "model:gpt-4.1",
        "model:gpt-4o",
    }


def test_models_and_urls_a_test_only_asserts_are_not_components(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "tests/test_client.py": (
                "import openai\n\n"
                "def test_default():\n"
                '    assert client.base_url == "http://localhost:11434"\n'
                '    openai.OpenAI().chat.completions.create(model="not-a-real-model", messages=[])\n'
                '    openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=[])\n'
            ),
        },
    )
    assert {k for k in keys(result) if k.startswith(("model:", "endpoint:"))} == {"model:gpt-4o-mini"}


def test_own_rust_tool_trait_counts_only_in_a_crate_using_an_llm(tmp_path):
    """A rig-shaped tool of a crate's own trait is a tool where the crate depends on an LLM crate; the
    same trait shape in a crate without one is a plug-in system, not function calling."""
    tool = """use serde_json::json;
impl Tool for Lookup {
    const NAME: &'static str = "lookup";
    fn definition(&self) -> ToolDefinition {
        ToolDefinition { name: Self::NAME.into(), description: "Find".into(), parameters: json!({
            "type": "object", "properties": {}}) }
    }
}
"""
    manifest = '[package]\nname = "forge"\n\n[dependencies]\n'
    with_llm = scan_tree(tmp_path / "a", {"Cargo.toml": manifest + 'ollama-rs = "0.2"\n', "src/lib.rs": tool})
    assert component(with_llm, "tool:lookup").provider == "forge"
    without = scan_tree(tmp_path / "b", {"Cargo.toml": manifest + 'serde_json = "1"\n', "src/lib.rs": tool})
    assert "tool:lookup" not in keys(without)


def test_fetch_mocked_in_a_setup_file_or_a_made_up_key_makes_test_models_input(tmp_path):
    call = (
        "    const client = createClient({{\n"
        '      apiKey: "{key}",\n'
        '      model: "{model}",\n'
        '      baseUrl: "https://{host}/v1",\n'
        "    }});\n"
    )
    result = scan_tree(
        tmp_path,
        {
            "src/test/setup.ts": 'import { vi } from "vitest";\nglobal.fetch = vi.fn();\n',
            "src/mocked.test.ts": (
                "vi.mocked(fetch).mockResolvedValueOnce({ json: async () => ({}) } as Response);\n"
                + call.format(key="local-dev", model="gpt-4.1-mini", host="api.groq.com")
            ),
            "src/cast.test.ts": (
                "(fetch as jest.Mock).mockResolvedValueOnce({ json: async () => ({}) });\n"
                + call.format(key="local-dev", model="mistral-large-latest", host="api.mistral.ai")
            ),
            "src/key.test.ts": call.format(key="sk-test", model="gpt-4.1-nano", host="api.openai.com"),
            "tests/test_chat.py": (
                "import openai\n\n"
                "def test_reply():\n"
                '    client = openai.Client(api_key="sk-fake123")\n'
                '    client.chat.completions.create(model="gpt-4o-2024-08-06", messages=[])\n'
            ),
            "src/live.test.ts": (
                call.format(key="local-dev", model="gpt-4o-mini", host="api.together.xyz")
                + '    expect(await client.complete("hi")).toBeTruthy();\n'
            ),
        },
    )
    assert {k for k in keys(result) if k.startswith(("model:", "endpoint:"))} == {
        "model:gpt-4o-mini",
        "endpoint:api.together.xyz",
    }


def test_a_mocked_sdk_module_or_a_hyphenated_test_key_makes_test_models_input(tmp_path):
    provider_test = """\
import { vi, it, expect } from 'vitest'
import { createProvider } from '../src/providers/claude.js'

vi.mock('@anthropic-ai/sdk', () => {
  return {
    default: class MockAnthropic {
      messages = { create: vi.fn() }
    },
  }
})

function reply(text: string) {
  return { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-20250514', content: text }
}

it('returns the reply text', async () => {
  delete process.env['ANTHROPIC_API_KEY']
  const provider = createProvider({ apiKey: 'key' }, 'claude-sonnet-4-20250514')
  expect((await provider.complete('hi')).text).toBe(reply('ok').content)
})
"""
    config_test = (
        "const config = {\n"
        "  model: 'claude-3-7-sonnet-20250219',\n"
        "  claude: { apiKey: 'sk-test-key', baseUrl: 'https://api.anthropic.com' },\n"
        "}\n"
    )
    result = scan_tree(
        tmp_path,
        {
            "package.json": '{"name": "agent", "dependencies": {"@anthropic-ai/sdk": "0.30.0"}}',
            "tests/claude.test.ts": provider_test,
            "tests/runner.test.ts": config_test,
        },
    )
    assert not {k for k in keys(result) if k.startswith(("model:", "endpoint:"))}


def test_rust_unit_test_inputs_are_not_components_but_a_real_call_and_integration_tests_are(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "src/provider.rs": (
                "pub fn defaults() -> (String, String) {\n"
                '    ("https://api.deepseek.com".to_string(), "deepseek-chat".to_string())\n'
                "}\n\n"
                "#[cfg(test)]\n"
                "mod tests {\n"
                "    #[test]\n"
                "    fn overrides() {\n"
                '        let config = Config::new("https://api.together.xyz/v1", "test-key");\n'
                "    }\n\n"
                "    #[test]\n"
                "    fn parses() {\n"
                '        let reply = r#"{"id": "r-1", "model": "deepseek-reasoner", "choices": []}"#;\n'
                "    }\n\n"
                "    #[test]\n"
                "    fn asserts() {\n"
                '        assert_eq!(pick(), "gpt-4.1-nano");\n'
                "    }\n\n"
                "    #[test]\n"
                "    #[ignore]\n"
                "    fn calls() {\n"
                '        let reply = Client::from_env().chat("deepseek-coder", "hi");\n'
                "    }\n"
                "}\n"
            ),
            "tests/live.rs": (
                "#[test]\n"
                "fn answers() {\n"
                '    let config = Config::new("https://api.mistral.ai/v1", "mistral-large-latest");\n'
                "}\n"
            ),
        },
    )
    assert {k for k in keys(result) if k.startswith(("model:", "endpoint:"))} == {
        "model:deepseek-chat",
        "endpoint:api.deepseek.com",
        "model:deepseek-coder",
        "model:mistral-large-latest",
        "endpoint:api.mistral.ai",
    }


def test_orm_column_types_declare_pgvector_but_a_toy_dimension_in_a_test_does_not(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "src/Doc.java": '@Column(columnDefinition = "vector(1536)")\nprivate float[] embedding;\n',
            "db/types.test.ts": 'expect(isVectorType("vector(3)")).toBe(true);\n',
        },
    )
    assert [(c.name, [loc.file for loc in c.locations]) for c in result.components] == [
        ("pgvector", ["src/Doc.java"])
    ]

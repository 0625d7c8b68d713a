"""Model ids where the engine read none: SQL seed data of a table of models, an action.yml whose YAML the
parser refuses (its input defaults still name the model the action runs), a Hugging Face Inference API
address, a test gated as needing an API key, and Spring AI's ``OllamaModel`` members."""

from tests.unit.scanner_helpers import keys, scan_tree

SEED = """-- models the app can switch between
CREATE TABLE embedding_models (name text, provider text, model_identifier text, dimensions int);
INSERT INTO embedding_models (name, provider, model_identifier, dimensions) VALUES
('openai-small', 'openai', 'text-embedding-3-small', 1536),
('ollama-nomic', 'ollama', 'nomic-embed-text', 768);
INSERT INTO orders (code, item) VALUES ('o1', 'gpt-4o sticker'), ('o3', 'claude-3-opus');
-- INSERT INTO llm_models (id) VALUES ('gpt-4o-mini');
"""

# ``\\'`` is no escape of a double-quoted YAML string: the whole file fails to parse
ACTION = """name: "Completion"
inputs:
  model:
    description: "The model\\'s name."
    default: "gpt-3.5-turbo"
  temperature:
    default: "0.7"
runs:
  using: "node20"
  main: "dist/index.js"
"""


def test_seed_rows_of_a_table_of_models_are_models(tmp_path):
    found = keys(scan_tree(tmp_path, {"db/seed.sql": SEED}))
    assert {"model:text-embedding-3-small", "model:nomic-embed-text"} <= found
    assert "model:claude-3-opus" not in found  # a table of orders holds no model choice
    assert "model:gpt-4o-mini" not in found  # a commented-out insert


def test_seed_model_is_located_at_its_row(tmp_path):
    result = scan_tree(tmp_path, {"seed.sql": SEED})
    lines = {c.name: {loc.line for loc in c.locations} for c in result.components}
    assert lines["text-embedding-3-small"] == {4}
    assert lines["nomic-embed-text"] == {5}


def test_an_unparsable_action_still_names_its_default_model(tmp_path):
    result = scan_tree(tmp_path, {"action.yml": ACTION})
    assert "model:gpt-3.5-turbo" in keys(result)
    model = next(c for c in result.components if c.name == "gpt-3.5-turbo")
    assert {loc.line for loc in model.locations} == {5}


def test_values_under_other_keys_of_an_unparsable_yaml_are_not_models(tmp_path):
    text = ACTION.replace("  model:\n", "  style:\n").replace("gpt-3.5-turbo", "gpt-4o")
    assert not any(key.startswith("model:") for key in keys(scan_tree(tmp_path, {"action.yml": text})))


def test_a_hugging_face_inference_api_address_names_its_model(tmp_path):
    workflow = (
        '{"nodes": [{"parameters": {"method": "POST", "url": '
        '"https://api-inference.huggingface.co/models/black-forest-labs/FLUX.1-schnell"},\n'
        '"type": "n8n-nodes-base.httpRequest", "name": "Image"}], "connections": {}}\n'
    )
    result = scan_tree(
        tmp_path,
        {
            "workflows/image.json": workflow,
            "summarise.ts": 'const url = "https://router.huggingface.co/hf-inference/models/facebook/bart-large-cnn";\n'
            "await fetch(url, { method: 'POST' });\n",
            "docs_link.py": 'HELP = "https://huggingface.co/docs/api-inference/index"\n',
        },
    )
    models = {c.name: {loc.file for loc in c.locations} for c in result.components if c.type == "model"}
    assert models == {
        "black-forest-labs/flux.1-schnell": {"workflows/image.json"},
        "facebook/bart-large-cnn": {"summarise.ts"},
    }


LIVE_RUST_TEST = """mod common;

use common::get_client;

#[tokio::test]
#[ignore = "Requires API key"]
async fn answers_a_question() {
    let client = get_client();
    let reply = client.interaction().with_model("gemini-2.0-flash-001").with_text("Hi").create().await;
    assert!(reply.is_ok());
}
"""


def test_a_rust_test_gated_on_an_api_key_calls_the_model_it_names(tmp_path):
    ungated = LIVE_RUST_TEST.replace('#[ignore = "Requires API key"]\n', "")
    result = scan_tree(
        tmp_path,
        {
            "Cargo.toml": '[package]\nname = "chat"\n[dependencies]\nasync-openai = "0.20"\n',
            "tests/live_tests.rs": LIVE_RUST_TEST,
            "tests/builder_tests.rs": ungated,
        },
    )
    models = {c.name: {loc.file for loc in c.locations} for c in result.components if c.type == "model"}
    assert models == {"gemini-2.0-flash-001": {"tests/live_tests.rs"}}


def test_spring_ai_ollama_model_members_name_their_tags(tmp_path):
    java = """import org.springframework.ai.ollama.api.OllamaModel;

class Vision {
    // OllamaModel.MISTRAL was too slow
    Object chat() { return ChatOptions.builder().model(OllamaModel.LLAVA.getName()).build(); }
    Object embed() { return OllamaModel.NOMIC_EMBED_TEXT.id(); }
    Object fallback() { return OllamaModel.DEFAULT.id(); }
}
"""
    result = scan_tree(tmp_path, {"src/main/java/demo/Vision.java": java})
    models = {c.name: {loc.line for loc in c.locations} for c in result.components if c.type == "model"}
    assert models == {"llava": {5}, "nomic-embed-text": {6}}


def test_make_variables_set_with_makes_own_operators_name_models(tmp_path):
    result = scan_tree(
        tmp_path,
        {
            "Makefile": (
                "MODEL ?= llama3.1:8b\nJUDGE_MODEL := claude-3-5-haiku-20241022\nEVAL_MODELS += o3-mini\n"
                "\nrun:\n\tollama run $(MODEL)\n"
            )
        },
    )
    assert {"model:llama3.1:8b", "model:claude-3-5-haiku-20241022", "model:o3-mini"} <= keys(result)


def test_cdk_foundation_model_constants_name_the_bedrock_model_they_wrap(tmp_path):
    """A CDK stack names its Bedrock model through ``FoundationModelIdentifier``'s constants, whose names
    do not spell the id (``…_V1_0`` is ``-v1:0``), in every CDK language; another class's constant of the
    same name, an undefined constant and a commented one name nothing."""
    result = scan_tree(
        tmp_path,
        {
            "infra/lib/agent-stack.ts": (
                "import * as bedrock from 'aws-cdk-lib/aws-bedrock';\n"
                "// FoundationModelIdentifier.ANTHROPIC_CLAUDE_3_OPUS_20240229_V1_0 was too slow\n"
                "const model = bedrock.FoundationModel.fromFoundationModelId(\n"
                "  this, 'Model',\n"
                "  bedrock.FoundationModelIdentifier.ANTHROPIC_CLAUDE_3_5_SONNET_20240620_V1_0);\n"
                "const other = Presets.META_LLAMA_3_70_INSTRUCT_V1;\n"
                "const missing = bedrock.FoundationModelIdentifier.NOT_A_MODEL;\n"
            ),
            "infra_py/stack.py": (
                "from aws_cdk import aws_bedrock as bedrock\n\n"
                "embed = bedrock.FoundationModel.from_foundation_model_id(\n"
                "    self, 'Embed', bedrock.FoundationModelIdentifier.AMAZON_TITAN_EMBED_TEXT_V2_0\n)\n"
            ),
            "infra_java/src/main/java/app/AgentStack.java": (
                "import software.amazon.awscdk.services.bedrock.FoundationModelIdentifier;\n"
                "class AgentStack {\n"
                '  FoundationModel m = FoundationModel.fromFoundationModelId(this, "M",\n'
                "      FoundationModelIdentifier.META_LLAMA_3_1_70_INSTRUCT_V1);\n}\n"
            ),
        },
    )
    models = {c.name: {(loc.file, loc.line) for loc in c.locations} for c in result.components}
    assert models == {
        "anthropic.claude-3-5-sonnet-20240620-v1:0": {("infra/lib/agent-stack.ts", 5)},
        "amazon.titan-embed-text-v2:0": {("infra_py/stack.py", 4)},
        "meta.llama3-1-70b-instruct-v1:0": {("infra_java/src/main/java/app/AgentStack.java", 4)},
    }


def test_bedrock_foundation_model_members_name_the_bedrock_model_they_wrap(tmp_path):
    """generative-ai-cdk-constructs' ``BedrockFoundationModel`` (also aws-bedrock-alpha's) wraps a Bedrock
    id its member names do not spell (``ANTHROPIC_CLAUDE_SONNET_V1_0`` is Claude 3 Sonnet), in a stack with
    no AI SDK; a member the library does not define and a commented one name nothing."""
    result = scan_tree(
        tmp_path,
        {
            "infra/lib/agent-stack.ts": (
                "import { bedrock } from '@cdklabs/generative-ai-cdk-constructs';\n"
                "// foundationModel: bedrock.BedrockFoundationModel.ANTHROPIC_CLAUDE_V2,\n"
                "const agent = new bedrock.Agent(this, 'Agent', {\n"
                "  foundationModel: bedrock.BedrockFoundationModel.ANTHROPIC_CLAUDE_SONNET_V1_0,\n"
                "  instruction: 'You answer questions about orders.',\n"
                "});\n"
                "const other = bedrock.BedrockFoundationModel.NOT_A_MODEL;\n"
            ),
            "infra_py/kb_stack.py": (
                "from cdklabs.generative_ai_cdk_constructs import bedrock\n\n"
                "kb = bedrock.VectorKnowledgeBase(\n"
                "    self, 'Kb',\n"
                "    embeddings_model=bedrock.BedrockFoundationModel.TITAN_EMBED_TEXT_V2_1024,\n)\n"
            ),
        },
    )
    models = {
        c.name: {(loc.file, loc.line) for loc in c.locations} for c in result.components if c.type == "model"
    }
    assert models == {
        "anthropic.claude-3-sonnet-20240229-v1:0": {("infra/lib/agent-stack.ts", 4)},
        "amazon.titan-embed-text-v2:0": {("infra_py/kb_stack.py", 5)},
    }


def test_the_pipeline_spacy_loads_is_a_model_and_other_loads_name_none(tmp_path):
    """``spacy.load("it_core_news_sm")`` runs a trained pipeline named by spaCy's grammar; a path spaCy
    loads, and ``torch.load``/``joblib.load`` of a file, name no model."""
    result = scan_tree(
        tmp_path,
        {
            "ner.py": "import spacy\n"
            'nlp = spacy.load("it_core_news_sm")\n'
            'custom = spacy.load("./training/model-best")\n',
            "weights.py": "import torch\nimport joblib\n"
            'state = torch.load("checkpoint_v2.pt")\n'
            'clf = joblib.load("clf_v1.joblib")\n',
        },
    )
    models = {key for key in keys(result) if key.startswith("model:")}
    assert models == {"model:it_core_news_sm"}

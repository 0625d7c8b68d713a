"""The data files the detectors read are consistent: every date has a source, every regex compiles,
every flag the issue names has a risk rule, every package type is a component type."""

import json
import re
import time
from datetime import date

from common.scanner.catalog import DATA_DIR, load_json, match_model, strip_route
from common.scanner.model import COMPONENT_TYPES, SEVERITIES

REQUIRED_FLAGS = {
    "hardcoded_api_key",
    "shadow_ai",
    "deprecated_model",
    "retired_model",
    "unpinned_model",
    "mcp_unknown_server",
    "mcp_remote_server",
    "internet_facing",
    "webhook_no_auth",
    "code_http_tools",
    "multi_agent_no_trust",
    "agent_chain_no_validation",
    "dangerous_code",
    "unsafe_model_format",
    "large_model_file",
    "gpu_instance",
}
PROVIDERS = {
    "OpenAI",
    "Anthropic",
    "Google",
    "Meta",
    "Mistral AI",
    "Cohere",
    "DeepSeek",
    "xAI",
    "Alibaba",
    "Microsoft",
}


def test_every_data_file_is_valid_json():
    for path in DATA_DIR.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))


def test_every_model_date_has_a_source_and_dates_are_ordered():
    data = load_json("models.json")
    for entry in data["models"]:
        for field in ("released", "deprecated", "retired"):
            if entry.get(field):
                date.fromisoformat(entry[field])
                assert entry["sources"][field] in data["sources"], (entry["id"], field)
        if entry.get("deprecated") and entry.get("retired"):
            assert entry["deprecated"] <= entry["retired"], entry["id"]
        assert match_model(entry["id"]) is not None, entry["id"]
    assert {entry["provider"] for entry in data["models"]} >= PROVIDERS
    assert all(url.startswith("https://") for url in data["sources"].values())


def test_patterns_compile_and_packages_have_known_types():
    for family in load_json("models.json")["families"]:
        re.compile(family["pattern"])
    for rule in load_json("secrets.json")["prefixed"]:
        re.compile(rule["pattern"])
    for entry in load_json("packages.json")["packages"]:
        assert entry["type"] in COMPONENT_TYPES and entry["id"] == entry["id"].lower()


def test_risk_table_covers_every_flag_and_type():
    table = load_json("risk.json")
    assert set(table["flags"]) >= REQUIRED_FLAGS
    assert set(table["base"]) == set(COMPONENT_TYPES)
    assert [band[0] for band in table["severity_bands"]] == list(reversed(SEVERITIES))


def test_rerank_models_belong_to_the_provider_that_names_them_so():
    """Voyage AI numbers its rerankers (``rerank-2.5-lite``); Cohere spells a version or language
    (``rerank-v3.5``, ``rerank-english-v3.0``): the same ``rerank-`` prefix, two providers."""
    for voyage in ("rerank-1", "rerank-lite-1", "rerank-2", "rerank-2-lite", "rerank-2.5", "rerank-2.5-lite"):
        assert match_model(voyage).provider == "Voyage AI", voyage
    for cohere in ("rerank-v3.5", "rerank-english-v3.0", "rerank-multilingual-v2.0", "rerank-3-nimble"):
        assert match_model(cohere).provider == "Cohere", cohere


# Ids as the providers publish them (bench/model_ids.json has them all), one or two per grammar rule.
PUBLISHED_IDS = {
    "accounts/fireworks/models/yi-large": "01.AI",  # Fireworks serving a family the grammar knows
    "accounts/fireworks/models/support-model-x": "Fireworks AI",
    "gpt-3": "OpenAI",
    "yi-lightning": "01.AI",
    "yi-34b-chat": "01.AI",
    "ernie-4.0-8k": "Baidu",
    "ernie-speed-128k": "Baidu",
    "hunyuan-lite": "Tencent",
    "doubao-pro-32k": "ByteDance",
    "baichuan2-turbo": "Baichuan",
    "nemotron-mini": "NVIDIA",
    "bge-small-en-v1.5": "Open source",
    "bge-m3": "Open source",
    "multilingual-e5-large": "Open source",
    "gte-base-en-v1.5": "Open source",
    "fireworks_ai/accounts/fireworks/models/firefunction-v2": "Fireworks AI",
    "accounts/my-team/models/support-bot-ft": "Fireworks AI",
    "accounts/fireworks/models/qwen3-8b": "Alibaba",
    "mistral-large@2407": "Mistral AI",
    "jamba-1.5-mini@001": "AI21 Labs",
    "mistral-large@2411-001": "Mistral AI",
    "MiniMax-M2.5": "MiniMax",
    "MiniMax-Text-01": "MiniMax",
    "minimax-m2p1": "MiniMax",  # Fireworks writes the point as "p"
    "abab6.5s-chat": "MiniMax",
    "speech-02-hd": "MiniMax",
    "nomic-embed-text-v1.5": "Open source",
    "nomic-embed-vision-v1.5": "Open source",
    "sd3.5-large": "Stability AI",
    "stable-image-ultra": "Stability AI",
    "stable-diffusion-xl-1024-v1-0": "Stability AI",
    "pplx-70b-online": "Perplexity",
    "sonar-small-chat": "Perplexity",
    "o4-mini-deep-research-2025-06-26": "OpenAI",
    "ft:o4-mini-2025-04-16": "OpenAI",
    "gpt-realtime-1.5": "OpenAI",
    "gpt-image-1.5-2025-12-16": "OpenAI",
    "tts-1-hd-1106": "OpenAI",
    "codex-mini": "OpenAI",
    "deepseek.v3.2": "Amazon Web Services",
    "us.deepseek.r1-v1:0": "Amazon Web Services",
    "minimax.minimax-m2.1": "Amazon Web Services",
    "zai.glm-4.7": "Amazon Web Services",
    "glm-z1-air": "Zhipu AI",
    "cogview-4": "Zhipu AI",
    "Cohere-embed-v3-english": "Cohere",
    "command-r:35b": "Cohere",
    "embed-v-4-0": "Cohere",
    "text-embedding-preview-0409": "Google",
    "imagegeneration@006": "Google",
    "medlm-large": "Google",
    "learnlm-1.5-pro-experimental": "Google",
    "scribe_v1": "ElevenLabs",
    "voyage-lite-01": "Voyage AI",
    "distil-large-v3": "OpenAI",
    "gpt-oss:120b-cloud": "OpenAI",
    "granite-code:8b": "Open source",
    "shieldgemma:9b": "Open source",
    "codegeex4": "Open source",
    "bge-large": "Open source",
    "jais-30b-chat": "Open source",
    "FLUX.1-Kontext-pro": "Open source",
    "text-embedding-v3": "Alibaba",
}


def test_published_model_ids_of_every_provider_are_known():
    """The providers' own spellings (Fireworks resource names, Vertex ``@`` versions, Bedrock ids
    without a version suffix, tagged Ollama library names) are model ids the catalog knows."""
    for identifier, provider in PUBLISHED_IDS.items():
        info = match_model(identifier)
        assert info is not None, identifier
        assert info.provider == provider, (identifier, info.provider)


def test_words_near_the_new_grammars_are_no_model_ids():
    for value in (
        "accounts/fireworks/datasets/train",  # a dataset, not a model
        "accounts/fireworks/models/",
        "release@2407",  # a version of something that is no model family
        "mistral-large@v2",  # not a Vertex version
        "speech-hd",
        "sd3",
        "stable-image",
        "cogito",  # an Ollama name is an id with its tag only; the bare word is a word
        "aya",
        "shieldgemma",
        "dolphin2",
        "flux-capacitor",
        "style",
        "inpaint",
        "embed-v-4",
        "minimax",
        "jais-chat",
        "yi",
        "hunyuan",
        "ernie",
        "e5",
        "gte",
        "bge",
    ):
        assert match_model(value) is None, value


def test_gpt_3_is_one_id_not_a_prefix_of_every_name():
    """``gpt-3`` names the model family itself; an Azure deployment named after GPT-3.5 (``gpt-35-turbo-dev``)
    and the npm tokenizer ``gpt-3-encoder`` only start with it. Azure's own model ids stay known."""
    assert match_model("gpt-3").provider == "OpenAI"
    for known in ("gpt-35-turbo", "gpt-35-turbo-16k-0613", "gpt-35-turbo-instruct", "gpt-3.5-turbo"):
        assert match_model(known) is not None, known
    for name in ("gpt-35-turbo-dev", "gpt-35-chat", "gpt-35-turbo-16k-prod", "gpt-3-encoder", "gpt-3x"):
        assert match_model(name) is None, name


def test_a_hostile_near_miss_of_the_new_grammars_costs_linear_time():
    started = time.process_time()
    for value in (
        "accounts/" + "a" * 1_000_000 + "/model",
        "accounts/x/models/" + "a-" * 500_000 + "!",
        "mistral-large" + "@" * 1_000_000,
        "minimax-m" + "2." * 500_000 + "@",
    ):
        match_model(value)
    assert time.process_time() - started < 2


def test_a_vllm_route_names_the_model_it_serves():
    """opencode and LiteLLM write a local vLLM server's model as ``vllm/<id>``: the same model its provider
    table lists by the bare id, so one component, not two."""
    assert strip_route("vllm/nemotron-3-nano") == "nemotron-3-nano"
    assert strip_route("hosted_vllm/Qwen/Qwen2.5-7B-Instruct") == "Qwen/Qwen2.5-7B-Instruct"


def test_azure_ai_language_text_analytics_sdk_is_an_azure_ai_provider():
    """Azure AI Language's Text Analytics SDK (sentiment, entities, PII, summaries), as written in each
    ecosystem, is one Azure AI service SDK, like Form Recognizer and Speech."""
    from common.scanner.catalog import lookup_package

    for ecosystem, name in (
        ("pypi", "azure-ai-textanalytics"),
        ("python", "azure.ai.textanalytics"),
        ("npm", "@azure/ai-text-analytics"),
        ("nuget", "Azure.AI.TextAnalytics"),
        ("maven", "com.azure:azure-ai-textanalytics"),
    ):
        package = lookup_package(ecosystem, name)
        assert package is not None and package.id == "azure-ai-textanalytics", (ecosystem, name)
        assert package.provider == "Microsoft Azure"

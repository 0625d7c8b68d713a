"""The data files the detectors read are consistent: every date has a source, every regex compiles,
every flag the issue names has a risk rule, every package type is a component type."""

import json
import re
from datetime import date

from common.scanner.catalog import DATA_DIR, load_json, match_model
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

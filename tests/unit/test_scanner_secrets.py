import hashlib
import json
import random
import string

import pytest

from common.scanner.redaction import mask_value
from common.scanner.textutil import secret_hash
from tests.unit.scanner_helpers import component, keys, scan_tree

RNG = random.Random(7)


def token(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(length))


LIVE_KEYS = {
    "llm_provider:openai": "sk-proj-" + token(60),
    "llm_provider:anthropic": "sk-ant-api03-" + token(93),
    "llm_provider:google-generativeai": "AIza" + token(35),
    "llm_provider:huggingface-hub": "hf_" + token(34),
    "llm_provider:groq": "gsk_" + token(52),
    "llm_provider:replicate": "r8_" + token(37),
    "llm_provider:xai-sdk": "xai-" + token(80),
    "llm_provider:perplexity": "pplx-" + token(48),
    "llm_provider:fireworks-ai": "fw_" + token(24),
    "llm_provider:together": "tgp_v1_" + token(43),
    "llm_provider:aws-bedrock": "ABSK" + token(100),
}
CONTEXT_KEYS = {
    "llm_provider:mistralai": ("MISTRAL_API_KEY", token(32)),
    "llm_provider:cohere": ("COHERE_API_KEY", token(40)),
    "llm_provider:azure-openai": ("AZURE_OPENAI_API_KEY", token(32, "0123456789abcdef")),
}


@pytest.mark.parametrize("key", sorted(LIVE_KEYS))
def test_prefixed_keys_are_found_masked_and_at_least_high(tmp_path, key):
    secret = LIVE_KEYS[key]
    result = scan_tree(tmp_path, {"config.py": f'API_KEY = "{secret}"\n'})
    found = component(result, key)
    assert "hardcoded_api_key" in found.flags
    assert found.severity in ("high", "critical")
    assert found.metadata["secrets"][0]["sha256"] == secret_hash(secret)
    assert secret not in json.dumps(result.to_dict())


@pytest.mark.parametrize("key", sorted(CONTEXT_KEYS))
def test_contextual_keys_need_their_variable(tmp_path, key):
    variable, secret = CONTEXT_KEYS[key]
    result = scan_tree(tmp_path, {".env": f"{variable}={secret}\n", "other.txt": f"value={secret}\n"})
    found = component(result, key)
    assert "hardcoded_api_key" in found.flags
    assert [loc.file for loc in found.locations] == [".env"]
    assert secret not in json.dumps(result.to_dict())


@pytest.mark.parametrize(
    "placeholder",
    [
        "sk-...",
        "sk-your-key-here",
        "sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "${OPENAI_API_KEY}",
        "sk-proj-REPLACE_WITH_YOUR_KEY_0000000000000000000000000000000",
        "hf_" + "a" * 34,
        "sk-ant-api03-" + "x" * 93,
        "AIzaSy" + "X" * 33,
        "gsk_" + "0123456789" * 5 + "ab",
    ],
)
def test_placeholders_are_not_findings(tmp_path, placeholder):
    result = scan_tree(tmp_path, {"settings.yaml": f"openai:\n  token: {placeholder}\n"})
    assert not any("hardcoded_api_key" in c.flags for c in result.components)


@pytest.mark.parametrize(
    "secret",
    [  # random keys that hold a placeholder word's letters in another case, or inside the random run
        "sk-proj-PA7QROxGKAGFYa0OeAUmC4MF0v8xXxiwpmrG5jmfHbXhtbYJ",
        "sk-proj-2JqXXXZDmtIuDLIZ80OrvqsftVGaOUUG0t1Qc0Wts3FUh39h",
        "sk-proj-7sxaHDPh0VNKFaxjb2jVfZ2tPoFMplUJZTfaKEoyOqHw5g2E",
        "sk-proj-ZL7Y5SkspzGUvsby3CKEXf7Qx91c54LfAKErJ4ChQhhnWtln",
    ],
)
def test_a_random_key_holding_a_placeholder_words_letters_is_still_a_key(tmp_path, secret):
    """Placeholder words counted in any case anywhere: one random 48-character key in 650 holds ``xXx``
    (or ``FaKE``) and was dropped from the inventory as a placeholder (found as a 1-in-600 flaky pipeline
    test whose fixture key is random)."""
    result = scan_tree(tmp_path, {"app.py": f'import openai\nclient = openai.OpenAI(api_key="{secret}")\n'})
    assert any("hardcoded_api_key" in c.flags for c in result.components)


def test_same_key_in_two_files_is_one_credential_with_two_locations(tmp_path):
    secret = LIVE_KEYS["llm_provider:openai"]
    result = scan_tree(
        tmp_path,
        {
            "a.py": f"KEY = '{secret}'\n",
            "notebook.ipynb": json.dumps(
                {
                    "cells": [{"cell_type": "code", "source": [f"key = '{secret}'"]}],
                    "nbformat": 4,
                    "metadata": {},
                }
            ),
        },
    )
    openai = component(result, "llm_provider:openai")
    assert {loc.file for loc in openai.locations} == {"a.py", "notebook.ipynb"}
    assert len(openai.metadata["secrets"]) == 1
    assert keys(result) == {"llm_provider:openai"}


def test_the_component_says_which_of_its_locations_hold_the_key(tmp_path):
    secret = LIVE_KEYS["llm_provider:openai"]
    result = scan_tree(
        tmp_path,
        {
            ".env": f"APP_ENV=dev\nOPENAI_API_KEY={secret}\n",
            "requirements.txt": "openai==1.51.0\n",
            "app.py": "import openai\n\nclient = openai.OpenAI()\n",
        },
    )
    openai = component(result, "llm_provider:openai")
    assert {loc.file for loc in openai.locations} == {".env", "requirements.txt", "app.py"}
    assert openai.metadata["credential_locations"] == [{"file": ".env", "line": 2}]
    plain = scan_tree(tmp_path / "plain", {"app.py": "import openai\n"})
    assert "credential_locations" not in component(plain, "llm_provider:openai").metadata


def test_a_key_of_the_shared_sk_shape_belongs_to_the_vendor_its_configuration_names(tmp_path):
    """Moonshot, DeepSeek and others issue ``sk-`` + 48 characters, the legacy OpenAI shape: the key
    path (``spring.ai.moonshot.api-key``, ``MOONSHOT_API_KEY``, a YAML ``dashscope:`` block) says whose
    it is; a project key (``sk-proj-…``) is OpenAI's wherever it sits."""
    shared = "sk-" + token(48)
    result = scan_tree(
        tmp_path,
        {
            "application.properties": f"spring.ai.moonshot.api-key={shared}\n",
            "config/llm.yaml": f"llm:\n  dashscope:\n    api-key: {'sk-' + token(48)}\n",
            ".env": f"ZHIPUAI_API_KEY={'sk-' + token(48)}\n",
            "settings.yaml": f"moonshot:\n  api_key: {LIVE_KEYS['llm_provider:openai']}\n",
            "other.yaml": f"openai:\n  key: {'sk-' + token(48)}\n",
        },
    )
    assert {loc.file for loc in component(result, "llm_provider:moonshot").locations} == {
        "application.properties"
    }
    assert component(result, "llm_provider:moonshot").provider == "Moonshot AI"
    assert {loc.file for loc in component(result, "llm_provider:dashscope").locations} == {"config/llm.yaml"}
    assert {loc.file for loc in component(result, "llm_provider:zhipuai").locations} == {".env"}
    assert {loc.file for loc in component(result, "llm_provider:openai").locations} == {
        "settings.yaml",
        "other.yaml",
    }


def test_snippets_of_other_detectors_are_masked_too(tmp_path):
    secret = LIVE_KEYS["llm_provider:anthropic"]
    result = scan_tree(
        tmp_path, {"app.py": f"import anthropic\nc = anthropic.Anthropic(api_key='{secret}')\n"}
    )
    snippets = [loc.snippet for c in result.components for loc in c.locations]
    assert any("anthropic.Anthropic(api_key='sk-ant-a" in s for s in snippets)
    assert all(secret not in s for s in snippets)


def test_a_secret_the_mask_hides_whole_has_no_digest_to_reverse(tmp_path):
    """``******`` hid ``hunter22``, but its unsalted SHA-256 beside the mask is in every lookup table."""
    short, long = "hunter22", token(40)
    config = {"mcpServers": {"db": {"command": "npx", "args": ["-y", "@x/db-mcp"], "env": {}}}}
    config["mcpServers"]["db"]["env"] = {"DB_PASSWORD": short, "DB_TOKEN": long}
    result = scan_tree(tmp_path, {".mcp.json": json.dumps(config)})

    shown = json.dumps(result.to_dict())
    records = {record["field"]: record for c in result.components for record in c.metadata.get("secrets", [])}
    assert records["env.DB_PASSWORD"] == {"field": "env.DB_PASSWORD", "masked": "******"}
    assert records["env.DB_TOKEN"]["hash"] == secret_hash(long)
    assert hashlib.sha256(short.encode()).hexdigest() not in shown
    assert secret_hash(short) is None


def test_a_posted_record_with_a_digest_beside_a_whole_mask_loses_the_digest():
    """Ingest and the engine's merge pass metadata through ``mask_value``: a result from an earlier CLI
    (or made up) keeps no digest of a secret its mask hides whole; a partial mask keeps its digest."""
    digest = hashlib.sha256(b"hunter22").hexdigest()
    metadata = {
        "secrets": [
            {"field": "env.DB_PASSWORD", "masked": "******", "hash": digest},
            {"masked": "******", "sha256": digest, "provider": "OpenAI"},
            {"masked": "sk-proj-******abcd", "sha256": digest, "provider": "OpenAI"},
        ]
    }

    assert mask_value("", metadata) == {
        "secrets": [
            {"field": "env.DB_PASSWORD", "masked": "******"},
            {"masked": "******", "provider": "OpenAI"},
            {"masked": "sk-proj-******abcd", "sha256": digest, "provider": "OpenAI"},
        ]
    }


def test_a_google_key_in_a_firebase_config_is_no_ai_key_but_one_beside_gemini_code_is(tmp_path):
    """Every Google API key starts ``AIza``: the one among a Firebase config's fields (``authDomain``,
    ``messagingSenderId``, an Android ``google-services.json``'s ``current_key``) is the app's Firebase
    key, however generic its name (``apiKey``); the same shape handed to the Gemini client is an AI key."""
    firebase, gemini = "AIza" + token(35), "AIza" + token(35)
    result = scan_tree(
        tmp_path,
        {
            "src/firebase.js": (
                f'const firebaseConfig = {{\n  apiKey: "{firebase}",\n'
                '  authDomain: "notes.firebaseapp.com",\n  messagingSenderId: "4182736450",\n};\n'
            ),
            "app/google-services.json": f'{{"api_key": [{{"current_key": "{firebase}"}}]}}\n',
            "ios/GoogleService-Info.plist": (
                f"<dict>\n\t<key>API_KEY</key>\n\t<string>{firebase}</string>\n"
                "\t<key>GCM_SENDER_ID</key>\n\t<string>4182736450</string>\n</dict>\n"
            ),
            "src/assistant.js": (
                'import { GoogleGenerativeAI } from "@google/generative-ai";\n'
                f'const apiKey = "{gemini}";\nconst genAI = new GoogleGenerativeAI(apiKey);\n'
            ),
        },
    )
    found = component(result, "llm_provider:google-generativeai")
    assert [held["file"] for held in found.metadata["credential_locations"]] == ["src/assistant.js"]
    assert [record["sha256"] for record in found.metadata["secrets"]] == [secret_hash(gemini)]

"""``catalog_literal_possible``: a code text it turns away holds no literal that ``code_model_literals``
would give, and such a text is not cut into literals."""

from __future__ import annotations

import json
import re
from pathlib import Path

from common.scanner import catalog, textutil
from common.scanner.catalog import catalog_literal_possible

ROOT = Path(__file__).resolve().parents[2]
TIER_WORDS = re.findall(r"[a-z]+", textutil._VERSIONED_OR_TIERED.pattern.split("(?:pro|", 1)[1])
BARE_WORDS = (
    "command",
    "qwen",
    "qwq",
    "gemma",
    "llama",
    "codellama",
    "mistral",
    "sonar",
    "moondream",
    "smollm",
)


def _published_ids() -> list[str]:
    providers = json.loads((ROOT / "bench" / "model_ids.json").read_text())["providers"]
    return sorted({model for ids in providers.values() for model in ids})


def _route_prefixes() -> list[str]:
    names = re.search(r"\(\?:\(\?:([\w|-]+)\)", catalog._ROUTE_PREFIX._source).group(1).split("|")
    fixed = [
        "",
        "models/",
        "us.anthropic.",
        "accounts/x1/models/",
        "publishers/google/models/",
        "@cf/",
        "@hf/",
    ]
    return fixed + [f"{name}{separator}" for name in names for separator in (":", "/", "::")]


def _literal_found(value: str) -> bool:
    text = f'x = "{value}"\n'
    return bool(list(textutil._code_model_literals(text, set(), None)))


def test_every_published_id_opens_the_gate():
    for model in _published_ids():
        for value in (model, model.upper(), f"ollama_chat/{model}"):
            if _literal_found(value):
                assert catalog_literal_possible(f'x = "{value}"\n'), value


def test_every_route_before_a_bare_word_or_an_id_opens_the_gate():
    words = [*BARE_WORDS, *TIER_WORDS, *(key for key in catalog._model_tables()[0] if key.isalpha())]
    words += _published_ids()[::25]
    for prefix in _route_prefixes():
        for second in ("", "openai/", "ollama_chat/"):
            for word in words:
                value = f"{second}{prefix}{word}"
                if _literal_found(value):
                    assert catalog_literal_possible(f'x = "{value}"\n'), value


def test_the_gate_never_hides_a_literal_of_the_fixture_corpus():
    checked = 0
    for path in sorted((ROOT / "tests" / "fixtures" / "corpus").rglob("*")):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        if not catalog_literal_possible(text):
            assert not list(textutil._code_model_literals(text, set(), None)), path
            checked += 1
    assert checked > 100


def test_a_key_of_letters_alone_opens_only_behind_a_tiered_route():
    assert not catalog_literal_possible('run("command", shell=True)  # command-line\n'.replace("-", " "))
    assert catalog_literal_possible('model = "command-r"\n')
    assert catalog_literal_possible('model = "ollama_chat/command"\n')
    assert catalog_literal_possible('model = "accounts/pro/models/command"\n')
    assert catalog_literal_possible('m = "café"  # any non-ASCII text is searched the old way\n')


def test_a_module_without_a_catalog_id_is_not_cut_into_literals(monkeypatch):
    def refused(text):
        raise AssertionError("literals read from a text that holds no catalog id")

    monkeypatch.setattr(textutil._CodeTexts, "seen", textutil.GATED_AFTER_TEXTS)
    monkeypatch.setattr(textutil, "string_literals", refused)
    module = 'import os\nNAME = "service-2"\nPATH = "/var/lib/x-1"\nrun("command", "v2")\n'
    assert list(textutil.code_model_literals(module, set())) == []


def test_a_process_first_code_texts_skip_the_gate(monkeypatch):
    def refused(text):
        raise AssertionError("the gate built for one of a process's first code texts")

    monkeypatch.setattr(textutil._CodeTexts, "seen", 0)
    monkeypatch.setattr(textutil, "catalog_literal_possible", refused)
    module = 'MODEL = "gpt-4o"\nNAME = "service-2"\n'
    assert list(textutil.code_model_literals(module, set())) == [(1, "gpt-4o")]

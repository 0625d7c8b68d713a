"""Work one file's text or one literal used to cost again on every ask is done once, and the answers
stay those of the work done afresh."""

from __future__ import annotations

import random

import re2

from common.scanner import textutil
from common.scanner.detectors import config_env, languages
from common.scanner.detectors.base import FileReport
from common.scanner.limits import linear
from common.scanner.textutil import model_constant_definitions, plausible_model_name


class CountingText(str):
    """A text that counts its UTF-8 encodings (the RE2 binding and the wrapper both encode through it)."""

    encodings = 0

    def encode(self, *args, **kwargs):
        CountingText.encodings += 1
        return super().encode(*args, **kwargs)


def test_patterns_searched_on_one_text_encode_it_once():
    text = CountingText("import openai\nclient = OpenAI()\n# é\n")
    patterns = [linear(source) for source in (r"openai", r"OpenAI\(\)", r"absent", r"#\s*\S", r"é")]
    CountingText.encodings = 0
    answers = [pattern.search(text) for pattern in patterns]
    assert CountingText.encodings == 1
    expected = [re2.compile(source).search(str(text)) for source in (r"openai", r"OpenAI\(\)", r"absent")]
    assert [m and m.span() for m in answers[:3]] == [m and m.span() for m in expected]


def test_cached_bytes_follow_the_text_searched():
    pattern = linear(r"b+")
    for text in ("abbb", "ébb", "abbb", "ébbé b", "x" * 300 + "é" + "b" * 3):
        assert [m.span() for m in pattern.finditer(text, 1)] == [
            m.span() for m in re2.compile(r"b+").finditer(text, 1)
        ]
        found = pattern.search(text)
        assert found.span() == re2.compile(r"b+").search(text).span()


def test_plausible_model_names_are_answered_once_per_value():
    values = ["gpt-4o", "hello world", "./models/x", "E:/cache/e5", "claude-3-5-haiku", "README.md", "v"]
    fresh = [plausible_model_name.__wrapped__(value) for value in values]
    assert fresh == [True, False, False, False, True, False, False]
    plausible_model_name.cache_clear()
    assert [plausible_model_name(value) for value in values * 3] == fresh * 3
    assert plausible_model_name.cache_info().hits == 2 * len(values)


def test_mapping_keys_are_read_once_per_distinct_key():
    document = {
        "models": [{"name": "gpt-4o"}, {"name": "gpt-4o-mini"}],
        "served_model_name": {"x": "gpt-4o"},
        "packages": {f"p{i}": {"version": "1", "resolved": "r"} for i in range(50)},
        "model_list": [{"model_name": "gpt-4o", "litellm_params": {"model": "claude-3-5-haiku-20241022"}}],
    }
    config_env._key_names.cache_clear()
    found = config_env.catalog_models_under_model_keys(document)
    assert sorted(found) == ["claude-3-5-haiku-20241022", "gpt-4o", "gpt-4o-mini"]
    distinct = {"models", "name", "served_model_name", "x", "packages", "version", "resolved", "model_list"}
    distinct |= {"model_name", "litellm_params", "model"} | {f"p{i}" for i in range(50)}
    assert config_env._key_names.cache_info().misses == len(distinct)


CONSTANTS = """
private val MODEL_NAME = "gemini-1.5-pro"
val MODEL_NAME = "gemini-1.5-flash"
const DEFAULT_MODEL = "gpt-4o"
private const HIDDEN_MODEL = "gpt-4o-mini"
"""


def test_model_constants_of_both_kinds_come_from_one_pass(monkeypatch):
    reads = []
    original = textutil._constant_definitions
    monkeypatch.setattr(textutil, "_constant_definitions", lambda text: reads.append(text) or original(text))
    text = CONSTANTS + " "  # a text no earlier test left behind
    every = model_constant_definitions(text)
    shared = model_constant_definitions(text, shared_only=True)
    assert every == {"MODEL_NAME": "gemini-1.5-pro", "DEFAULT_MODEL": "gpt-4o", "HIDDEN_MODEL": "gpt-4o-mini"}
    assert shared == {"MODEL_NAME": "gemini-1.5-flash", "DEFAULT_MODEL": "gpt-4o"}
    assert len(reads) == 1
    every["EXTRA"] = "x"
    assert "EXTRA" not in model_constant_definitions(text)
    assert model_constant_definitions(CONSTANTS, shared_only=True) == shared
    assert len(reads) == 2


def test_bare_host_pattern_runs_only_on_known_hosts(monkeypatch):
    asked = []

    class CountingPattern:
        def fullmatch(self, value):
            asked.append(value)
            return languages.linear(r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,6}").fullmatch(value)

    monkeypatch.setattr(languages, "BARE_HOST", CountingPattern())
    text = 'host = "api.openai.com"\nother = "example.org"\nname = "a.b.c"\nfile = "x.py"\n'
    hosts = languages._LanguageDetector.bare_hosts(text)
    assert [value for _, value in hosts] == ["api.openai.com"]
    assert asked == ["api.openai.com"]


class ReadLines(list):
    """A file's lines that record which were read, and whether anything walked them all."""

    def __init__(self, lines):
        super().__init__(lines)
        self.read: list[int] = []
        self.walked = False

    def __getitem__(self, index):
        self.read.append(index)
        return super().__getitem__(index)

    def __iter__(self):
        self.walked = True
        return super().__iter__()


def test_vector_stores_read_only_the_lines_that_spell_vec(tmp_path):
    from common.scanner.detectors.vector_stores import VectorStoreDetector
    from tests.unit.detector_helpers import write

    content = (
        "CREATE TABLE docs (id int);\r\n"
        "-- a VECTOR(3) in a comment\x0c"
        "CREATE EXTENSION IF NOT EXISTS VECTOR;\u2028"
        "SELECT 1;\n"
        "create extension if not exists vector;\n"
    )
    source = write(tmp_path, "schema.sql", content)
    source.__dict__["lines"] = lines = ReadLines(content.splitlines())
    findings = list(VectorStoreDetector().detect(source, FileReport()))
    assert [(f.name, f.location.line) for f in findings] == [("pgvector", 3), ("pgvector", 5)]
    assert not lines.walked
    assert sorted(set(lines.read)) == [1, 2, 4]  # the marked lines, and the snippets of two of them


WHITESPACE = ["", " ", "\t", "\n", "\v", "\f", "\r", "\x1c", "\x1d", "\x1e", "\x1f", "  "]


def rust_fragment(generator: random.Random) -> str:
    """A variant attribute or a match arm, whole or broken, with any ASCII whitespace between its tokens."""

    def ws() -> str:
        return generator.choice(WHITESPACE)

    value = generator.choice(['"gemini-2.0-flash"', '"o3"', '"a\\"b"', '""', '"x\ny"', "'gpt-4o'"])
    name = generator.choice(["Gemini20Flash", "O3", "_x", "x9", "Self", "Selfish", "M"])
    attribute = generator.choice(["strum", "serde", "other"])
    key = generator.choice(["serialize", "rename", "to_string", "alias"])
    extra = generator.choice(["", "#[default]", f"#[doc]{ws()}", "#[x\n]"])
    return generator.choice(
        [
            f"#[{attribute}({ws()}{key}{ws()}={ws()}{value}{ws()})]{ws()}{extra}{name}",
            f"{generator.choice(['Self', 'Model', 'self', 'a'])}::{name}{ws()}=>{ws()}{value}",
            generator.choice(["fn f() {", "}", "::", "=>", ";", ws()]),
        ]
    )


def variant_matches(pattern, text: str) -> list:
    return [(match.span(), match.groups()) for match in pattern.finditer(text)]


def test_rust_variant_values_of_ascii_texts_are_those_of_re():
    texts = [
        '#[strum(serialize = "gemini-2.0-flash-001")]\n#[default]\nGemini20Flash,\n',
        '#[serde(rename\v=\x1c"gpt-4o")]\x1fGpt4o',
        'Self::Gpt4o\v=>\x1d"gpt-4o",\nModel::O3 => "o3-mini"',
    ]
    generator = random.Random(13)
    texts += ["".join(rust_fragment(generator) for _ in range(12)) for _ in range(400)]
    for text in texts:
        assert variant_matches(textutil._RUST_VARIANT_VALUE_ASCII, text) == variant_matches(
            textutil._RUST_VARIANT_VALUE, text
        )
    assert sum(len(variant_matches(textutil._RUST_VARIANT_VALUE, text)) for text in texts[3:]) > 300


def test_model_constants_of_a_non_ascii_rust_text_come_from_re():
    text = 'impl Modèle {}\nSelf::Gemini15Pro => "gemini-1.5-pro",\n'
    assert model_constant_definitions(text) == {"Gemini15Pro": "gemini-1.5-pro"}
    assert model_constant_definitions(text.replace("è", "e")) == {"Gemini15Pro": "gemini-1.5-pro"}


class NotLowered(str):
    """A text that must not be lowered whole."""

    def lower(self):
        raise AssertionError("lowered")


def test_vector_stores_lower_only_a_text_that_spells_vec(tmp_path):
    from common.scanner.detectors.vector_stores import VEC_ANY_CASE, VectorStoreDetector
    from tests.unit.detector_helpers import write

    source = write(tmp_path, "app.py", "import os\nprint('\u017f \u0130 \u212a vex ec')\n")
    source.__dict__["text"] = NotLowered(source.text)
    assert list(VectorStoreDetector().detect(source, FileReport())) == []
    generator = random.Random(13)
    alphabet = ["v", "V", "e", "E", "c", "C", "\u0130", "\u017f", "\u212a", "x", "\n", "\u03a3\u03a3 "]
    for _ in range(2000):
        text = "".join(generator.choices(alphabet, k=generator.randint(0, 12)))
        assert (VEC_ANY_CASE.search(text) is not None) == ("vec" in text.lower()), text

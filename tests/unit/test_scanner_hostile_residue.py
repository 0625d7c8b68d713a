"""Hostile shapes left near the per-file budget: the work they cost, counted, grows with the file once.

Each test counts what a shape makes the engine do (characters a pattern is given, contexts judged)
instead of timing it, so it holds on a loaded machine and fails on the quadratic code it replaced."""

from __future__ import annotations

import json
import re
import tokenize

import pytest

from common.scanner import redaction, textutil
from common.scanner.detectors import mcp_config, python_code, secrets
from common.scanner.detectors.base import FileReport
from common.scanner.detectors.secrets import SecretsDetector
from common.scanner.limits import line_at
from common.scanner.textutil import code_model_literals, model_constant_definitions
from tests.unit.detector_helpers import write


class MeteredPattern:
    """A pattern that adds up the characters each call is given to search."""

    def __init__(self, source: str) -> None:
        self.pattern = re.compile(source)
        self.characters = 0

    def search(self, text: str, pos: int = 0, endpos: int | None = None):
        end = len(text) if endpos is None else endpos
        self.characters += end - pos
        return self.pattern.search(text, pos, end)

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None):
        end = len(text) if endpos is None else endpos
        self.characters += end - pos
        return self.pattern.finditer(text, pos, end)


def test_private_constants_of_one_long_line_are_told_in_one_pass(monkeypatch):
    metered = MeteredPattern(r"\bprivate\b")
    monkeypatch.setattr(textutil, "_PRIVATE_DECLARATION", metered)
    line = "".join(f'val M{i} = "gpt-4o"; ' for i in range(2000))
    text = f'private val HIDDEN_MODEL = "gpt-4o-mini"\n{line}\nval OPEN_MODEL = "o3-mini" // private\n'
    shared = model_constant_definitions(text, shared_only=True)
    assert metered.characters <= 2 * len(text)  # was the line's prefix per definition: ~1,000 times it
    assert "HIDDEN_MODEL" not in shared and shared["OPEN_MODEL"] == "o3-mini"
    assert len(shared) == 2001 and shared["M1999"] == "gpt-4o"
    every = model_constant_definitions(text)
    assert len(every) == 2002 and every["HIDDEN_MODEL"] == "gpt-4o-mini"


def test_a_private_word_earlier_on_the_line_keeps_a_constant_to_its_file():
    text = 'private val A = 1; val GPT_4O = "gpt-4o"\nval PRIVATE_ONE = "x"; val O3_MINI = "o3-mini"\n'
    assert model_constant_definitions(text, shared_only=True) == {"O3_MINI": "o3-mini"}
    assert model_constant_definitions(text) == {"GPT_4O": "gpt-4o", "O3_MINI": "o3-mini"}


def test_a_line_of_one_model_id_repeated_judges_its_context_once(monkeypatch):
    judged = []
    original = textutil._handed_to_prose
    monkeypatch.setattr(
        textutil, "_handed_to_prose", lambda before: judged.append(before) or original(before)
    )
    text = (
        "".join(f'val M{i} = "gpt-4o"; ' for i in range(3000)) + '\nlog("gpt-4o"); x("gpt-4o"); y("gpt-4o")\n'
    )
    assert list(code_model_literals(text, set())) == [(1, "gpt-4o"), (2, "gpt-4o")]
    assert len(judged) == 3  # line 1's first copy, line 2's copy handed to a log, then its next one


class SearchedText(str):
    """A lowered text that counts the substring tests made on it."""

    tests = 0

    def __contains__(self, part: object) -> bool:
        SearchedText.tests += 1
        return super().__contains__(part)


class LoweredCounted(str):
    def lower(self) -> str:
        return SearchedText(super().lower())


def test_the_rules_a_text_allows_are_asked_once_not_per_marked_line(tmp_path):
    lines = "".join(
        f"ENV OPENAI_KEY{i}=sk-proj-Q7fZ2kLm9XwR4tVb8NcJ1pHs6YdG3eAu5iKo{i:04d}\n" for i in range(400)
    )
    source = write(tmp_path, "Dockerfile", "FROM python:3.11\n" + lines)
    source.__dict__["text"] = LoweredCounted(source.text)
    SearchedText.tests = 0
    findings = list(SecretsDetector().detect(source, FileReport()))
    assert len({f.location.line for f in findings}) == 400  # every key kept
    assert SearchedText.tests <= len(secrets._rules()[1])  # was two whole-text reads per marked line


class CompileCounter:
    """``re`` for one module, counting the patterns it compiles."""

    compiled = 0

    def __getattr__(self, name: str):
        return getattr(re, name)

    def compile(self, *args):
        CompileCounter.compiled += 1
        return re.compile(*args)


def one_line_config(servers: int) -> str:
    """A one-line ``mcp.json`` of ``servers`` servers, each with its own key (as json.dumps writes it)."""
    entries = {
        f"s{i}": {
            "command": "npx",
            "args": ["-y", f"@modelcontextprotocol/server-{i}"],
            "env": {"OPENAI_API_KEY": f"sk-{i:04d}Zq8LmN3xV7bR2tY9wK4p"},
        }
        for i in range(servers)
    }
    return json.dumps({"mcpServers": entries})


def test_a_one_line_config_of_many_servers_masks_its_line_once_and_compiles_no_key_pattern(
    tmp_path, monkeypatch
):
    masked = []
    original_mask = redaction.mask_text
    monkeypatch.setattr(
        redaction, "mask_text", lambda text, known=(): masked.append(text) or original_mask(text, known)
    )
    monkeypatch.setattr(mcp_config, "re", CompileCounter())
    source = write(tmp_path, "mcp.json", one_line_config(300))
    findings = list(mcp_config.McpConfigDetector().detect(source, FileReport()))
    assert len([f for f in findings if f.type == "mcp_server"]) == 300
    assert all(f.location.line == 1 and "Zq8LmN3xV7bR2tY9wK4p" not in f.location.snippet for f in findings)
    # twice (the line's window, then the snippet) for the ~21 servers whose secret the 4 KiB window holds,
    # then once for all the others; was once per server and more
    assert len(masked) < 60
    assert CompileCounter.compiled == 0  # was a pattern per server, each searched from the container's start


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b" : {"a":2}, "x\\\\": 3, "é": 4, "\\u00e9": 5}',
        '["a", "b": "c", "d"  :\n 1, "a"\t: 2, "unclosed',
        '{"k\\"q": 1, "q": 2}',
    ],
)
def test_key_offsets_are_the_first_match_of_the_key_pattern(text):
    for key in ("a", "b", "c", "d", "x\\", "é", 'k"q', "q", "absent", ", "):
        for start in range(len(text) + 1):
            match = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(text, start)
            expected = (line_at(text, match.start()), match.start()) if match else (0, start)
            assert mcp_config.line_of_key(text, key, start) == expected, (key, start)


class CountedTokens:
    """``tokenize.generate_tokens`` for one module, counting the calls and the tokens taken."""

    def __init__(self) -> None:
        self.calls = self.tokens = 0

    def generate_tokens(self, readline):
        self.calls += 1
        for token in tokenize.generate_tokens(readline):
            self.tokens += 1
            yield token

    def __getattr__(self, name: str):
        return getattr(tokenize, name)


def test_a_line_of_quotes_that_open_no_string_is_not_tokenized_to_its_end(monkeypatch):
    counted = CountedTokens()
    monkeypatch.setattr(python_code, "tokenize", counted)
    text = 'import openai\ny = f"a{1}"\nx = \'' + "\\'" * 2000 + "\n"
    assert python_code.without_f_strings(text) is None
    assert counted.tokens < 100  # was all 4,000 error tokens, each read to the line's end
    analysis = python_code.analyse_without_unparsable_lines(
        text, "app.py", "python", SyntaxError("x", ("", 3, 1, ""))
    )
    assert [f.name for f in analysis.findings] == ["openai"]


def test_a_text_without_an_f_string_is_not_tokenized(monkeypatch):
    counted = CountedTokens()
    monkeypatch.setattr(python_code, "tokenize", counted)
    assert python_code.without_f_strings("import openai\nx = 'a' if b else \"c\"\nmatch = 1\n") is None
    assert counted.calls == 0


def test_f_strings_of_a_file_with_a_few_stray_quotes_are_still_emptied():
    text = "import openai\nx = f\"{a!r:>{w}}\" + 'it's\"\ny = f'{b}'\n"
    assert python_code.without_f_strings(text) == 'import openai\nx = "" + \'it\'s"\ny = ""\n'


class StripCounted(str):
    """A line that counts how often it is stripped (each strip copies it)."""

    strips = 0

    def strip(self, *args) -> str:
        StripCounted.strips += 1
        return super().strip(*args)


def test_the_findings_of_one_long_line_strip_it_once(tmp_path):
    source = write(
        tmp_path, "__main__.py", "import pulumi_aws as aws\n" + 'aws.s3.Bucket("b"); ' * 500 + "\n"
    )
    source.__dict__["lines"] = [StripCounted(line) for line in source.text.splitlines()]
    StripCounted.strips = 0
    snippets = {source.location(2).snippet for _ in range(1000)}
    assert len(snippets) == 1 and snippets.pop().startswith('aws.s3.Bucket("b"); aws.s3')
    assert StripCounted.strips == 1  # was once per finding, a copy of the whole line each time

"""Answers kept for the last text, and the one-pass forms that replaced per-token or per-marker loops, must
answer exactly what the loops they replaced answered."""

from __future__ import annotations

import pytest

from common.scanner.detectors import languages
from common.scanner.detectors.languages import (
    _JS_CODE_TOKEN,
    _JS_TEMPLATE_TOKEN,
    JavaScriptDetector,
    RustDetector,
    template_literal_spans,
)
from common.scanner.detectors.secrets import _any_marker, _rules
from tests.unit.scanner_helpers import scan_tree


def searched_template_spans(text: str) -> list[tuple[int, int]]:
    """The tokenizer as it was: one search from each token's end."""
    spans: list[tuple[int, int]] = []
    frames: list[list] = []
    position = 0
    while True:
        in_text = bool(frames) and frames[-1][1] is None
        match = (_JS_TEMPLATE_TOKEN if in_text else _JS_CODE_TOKEN).search(text, position)
        if match is None:
            return sorted(spans)
        token, position = match.group(0), match.end()
        if in_text and token == "`":
            spans.append((frames.pop()[0], match.end()))
        elif in_text:
            if token == "${":
                frames[-1][1] = 0
        elif token == "`":
            frames.append([match.start(), None])
        elif frames and token == "{":
            frames[-1][1] += 1
        elif frames and token == "}":
            frames[-1][1] = None if frames[-1][1] == 0 else frames[-1][1] - 1


JAVASCRIPT = [
    "",
    "const a = `x`;",
    "const a = `one\ntwo ${b} three`;\nconst c = `d`;",
    "f(`outer ${g(`inner ${h({a: {b: 1}})} end`)} done`)",
    "const s = '`not a template`'; const t = \"`nor`\"; // `comment`\n/* `block` */ `real`",
    "`escaped \\` still open ${ '}' } \\${not} end`",
    "`unclosed ${ { ` nested",
    "} } { `a` } `b ${ } ` c",
    "é `ü ${'ö'} ✓` /* ` */ `\u2028 ${x} 😀`",
    "`a`" * 50 + "`${" * 20 + "}`" * 20,
    "/* unclosed comment ` `",
    "'unterminated ` string\n`next line`",
]


@pytest.mark.parametrize("text", JAVASCRIPT)
def test_template_spans_are_those_of_a_search_from_each_token(text):
    assert template_literal_spans(text) == searched_template_spans(text)


def test_template_spans_of_random_token_soup_are_those_of_a_search_from_each_token():
    import random

    rng = random.Random(13)
    for _ in range(400):
        text = "".join(rng.choice("`${}\"'/\\*\n aé") for _ in range(rng.randrange(0, 120)))
        assert template_literal_spans(text) == searched_template_spans(text), text


def test_template_spans_are_kept_for_the_last_text_only():
    text = "const a = `x ${y}`;"
    first = template_literal_spans(text)
    first.append((99, 100))  # a caller's list is its own
    assert template_literal_spans(text) == [(10, 18)]
    assert template_literal_spans("`z`") == [(0, 3)]


MARKED = [
    "",
    "nothing here",
    "x = 1\r\nOPENAI_API_KEY=1",
    "é sk-ü",
    "ABS K aws-secret",
    "\u2028AIza",
    "almost: sk_ hf- gsk r8 xai pplx fw tgp_v1 _API_KEx",
    *_rules()[2],
]


@pytest.mark.parametrize("text", MARKED)
def test_the_marker_gate_is_any_marker_as_a_substring(text):
    assert bool(_any_marker().search(text)) == any(marker in text for marker in _rules()[2])


def test_sdk_imports_are_read_again_under_other_crate_renames():
    detector = RustDetector()
    text = "use agentkit::completion::Prompt;\n"
    assert detector.sdk_imports(text) == []
    detector.renamed = {"agentkit": "rig"}
    try:
        assert [package.id for _, package in detector.sdk_imports(text)] == ["rig"]
    finally:
        detector.renamed = {}
    assert detector.sdk_imports(text) == []


def test_sdk_imports_are_kept_for_the_last_text(monkeypatch):
    detector = JavaScriptDetector()
    text = 'import OpenAI from "openai";\n'
    calls = []
    original = languages._LanguageDetector._sdk_imports

    def counted(self, given):
        calls.append(given)
        return original(self, given)

    monkeypatch.setattr(languages._LanguageDetector, "_sdk_imports", counted)
    first = detector.sdk_imports(text)
    first.clear()  # a caller's list is its own
    assert [package.id for _, package in detector.sdk_imports(text)] == ["openai"]
    assert len(calls) == 1
    other = 'import Anthropic from "@anthropic-ai/sdk";\n'
    assert [package.id for _, package in detector.sdk_imports(other)] == ["anthropic"]
    assert len(calls) == 2


def _counted_comment_numbering(monkeypatch) -> list:
    """The lines of every ``languages.comment_line_numbers`` call from now on."""
    calls = []
    original = languages.comment_line_numbers

    def counted(lines, prefixes):
        calls.append(lines)
        return original(lines, prefixes)

    monkeypatch.setattr(languages, "comment_line_numbers", counted)
    return calls


def test_comment_lines_are_numbered_once_for_equal_lines(monkeypatch):
    detector = JavaScriptDetector()
    text = "// a\nconst b = 1;\n/* c\nd */\n"
    calls = _counted_comment_numbering(monkeypatch)
    first = detector.comment_lines(text.splitlines())
    assert first == {1, 3, 4}
    first.add(2)  # a caller's set is its own
    assert detector.comment_lines(text.splitlines()) == {1, 3, 4}
    assert len(calls) == 1
    lines = "x\n// y\n".splitlines()
    assert detector.comment_lines(lines) == {2}
    lines[0] = "// x"  # the memo keeps its own copy of the lines, not the caller's list
    assert detector.comment_lines(lines) == {1, 2}
    assert len(calls) == 3


def test_json_depth_is_the_deepest_bracket_outside_strings():
    import random
    from itertools import accumulate

    from common.scanner.limits import MAX_NESTING, json_too_deep

    def deepest(text: str) -> int:
        brackets = [
            c for c in "".join(text.replace("\\\\", "").replace('\\"', "").split('"')[::2]) if c in "[]{}"
        ]
        return max(accumulate(1 if c in "[{" else -1 for c in brackets), default=0)

    rng = random.Random(7)
    texts = ["[" * MAX_NESTING + "]" * MAX_NESTING, "[" * (MAX_NESTING + 1), '{"a": "' + "[" * 300 + '"}']
    texts += ["]" * 300 + "[" * MAX_NESTING, "[{" * 100 + "]" + "[" * 2, '["\\\\"' + "[" * 201 + "]"]
    for _ in range(200):
        texts.append("".join(rng.choice('[]{}"\\ a') for _ in range(rng.randrange(150, 600))))
    for text in texts:
        assert json_too_deep(text) == (deepest(text) > MAX_NESTING), text[:40]


def test_comment_lines_are_numbered_only_for_a_model_literal(tmp_path, monkeypatch):
    calls = _counted_comment_numbering(monkeypatch)
    files = {
        "plain.ts": "// settings\nexport const port = 8080;\n",
        "models.ts": '// const MODEL = "gpt-4o";\nexport const MODEL = "gpt-4o-mini";\n',
    }
    result = scan_tree(tmp_path / "proj", files, jobs=1)
    assert len(calls) == 1  # models.ts only: plain.ts holds no model literal to place
    models = {c.name: [loc.line for loc in c.locations] for c in result.components if c.type == "model"}
    assert models == {"gpt-4o-mini": [2]}  # the commented-out one is still prose


def test_lines_on_demand_answer_as_the_set_they_make():
    made = []
    lines = languages.LinesOnDemand(lambda: made.append(1) or {2, 5})
    assert not made
    assert [n in lines for n in range(7)] == [n in {2, 5} for n in range(7)]
    assert made == [1]

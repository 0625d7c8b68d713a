"""Deferred imports and compilations behave like the eager ones they replace."""

from __future__ import annotations

import re
import sys

import pytest
import re2

from common.scanner.lazy import lazy_module, lazy_re
from common.scanner.limits import linear

TEXTS = ["", "model", "the MODEL here", "modelx", "x model", "é model ü", "no match at all", "llm\nmodel"]


def _spans(match):
    return None if match is None else (match.span(), match.groups())


def test_lazy_re_compiles_on_first_use_and_matches_like_re():
    pattern = lazy_re(r"(?i)\b(model|llm)\b")
    assert "search" not in vars(pattern)
    for text in TEXTS:
        assert _spans(pattern.search(text)) == _spans(re.search(r"(?i)\b(model|llm)\b", text))
    assert pattern.pattern == r"(?i)\b(model|llm)\b"
    assert [m.group(1) for m in pattern.finditer("llm and model")] == ["llm", "model"]


def test_lazy_module_imports_on_first_attribute():
    stand_in = lazy_module("json")
    assert stand_in.loads("[1]") == [1]
    assert stand_in.JSONDecodeError is sys.modules["json"].JSONDecodeError


@pytest.mark.parametrize("method", ["search", "match", "fullmatch"])
@pytest.mark.parametrize("source", [r"(?i)model|llm", r"(m)(o)del", r"é\s+model", r"^$"])
def test_linear_miss_check_answers_like_re2(method, source):
    ours, theirs = linear(source), re2.compile(source)
    for text in TEXTS:
        assert _spans(getattr(ours, method)(text)) == _spans(getattr(theirs, method)(text)), text
        assert _spans(getattr(ours, method)(text, 1)) == _spans(getattr(theirs, method)(text, 1)), text


def test_linear_miss_check_is_in_use():
    """The check reaches into the RE2 binding's compiled object; an upgrade that renames it would
    silently bring back the slower path, so this test notices."""
    pattern = linear(r"model")
    assert pattern.search.__name__ == "first_checked"


ITER_TEXTS = [*TEXTS, "model model llm", "aaa", "a\u00e9model\u00fcllm", "m\nm\n\nmodel"]
ITER_SOURCES = [r"(?i)model|llm", r"(m)(o)?del", r"(?i)(m)(x)?", r"", r"a*", r"(?m)^", r"\b", r"é|m"]


def _all(matches):
    return [(m.span(), m.groups(), m.pos, m.endpos, m.group(0)) for m in matches]


@pytest.mark.parametrize("source", ITER_SOURCES)
def test_linear_finditer_and_findall_answer_like_re2(source):
    """Empty matches, unmatched groups and non-ASCII texts included: the ASCII shortcut yields RE2's
    own matches, and every other text goes through RE2's wrapper."""
    ours, theirs = linear(source), re2.compile(source)
    for text in ITER_TEXTS:
        assert _all(ours.finditer(text)) == _all(theirs.finditer(text)), text
        assert ours.findall(text) == theirs.findall(text), text
        assert _all(ours.finditer(text, 1)) == _all(theirs.finditer(text, 1)), text
        assert ours.findall(text, 1, 3) == theirs.findall(text, 1, 3), text


@pytest.mark.parametrize("method", ["search", "match", "fullmatch"])
def test_linear_ascii_match_is_re2s_match(method):
    """A match on ASCII text comes from the miss check's own RE2 call; it must be the match RE2's
    wrapper returns, groups, positions and string included."""
    ours, theirs = linear(r"(m)(x)?(o)del"), re2.compile(r"(m)(x)?(o)del")
    for text in ["model", "model here", "a model"]:
        mine, expected = getattr(ours, method)(text), getattr(theirs, method)(text)
        assert _all([mine] if mine else []) == _all([expected] if expected else []), text
        if mine:
            assert (mine.string, mine.re, mine.lastindex) == (
                expected.string,
                expected.re,
                expected.lastindex,
            )


def test_linear_ascii_paths_are_in_use():
    pattern = linear(r"model")
    assert pattern.finditer.__qualname__ == "_ascii_finditer.<locals>.finditer"
    assert pattern.findall.__qualname__ == "_ascii_findall.<locals>.findall"

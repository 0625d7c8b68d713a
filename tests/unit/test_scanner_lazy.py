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

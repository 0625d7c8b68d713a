"""The combined gate in front of ``mask_text`` (one search for every rule's substring gate) never skips a
text that one of the rules would change: gated and ungated masking agree on keys in every context and on
random code-like text, and the keys are masked."""

from __future__ import annotations

import random

import pytest

from common.scanner import redaction
from common.scanner.redaction import _known_formats, _marker_gates, mask_text
from tests.hostile_content import leaked, random_text
from tests.unit.test_scanner_secrets import CONTEXT_KEYS, LIVE_KEYS

RNG = random.Random(14)
CONTEXTS = (
    "{k}",
    'API_KEY = "{k}"',
    "client = OpenAI(api_key='{k}')",
    "headers = {{'Authorization': 'Bearer {k}'}}",
    "url = 'postgres://app:{k}@db/app'",
    "export SECRET={k}",
    "x = ['{k}']",
    "value: {k}  # from the vault",
)
WORDS = (
    "client",
    "model",
    "openai",
    "run",
    "import",
    "from",
    "def",
    "return",
    "self",
    "config",
    "os.environ",
    "=",
    "(",
    ")",
    ":",
    ",",
    "'",
    '"',
    "@",
    "/",
    "Bearer",
    "token",
    "max_tokens",
    "KEY",
    "Api",
    "pass",
    "https://",
    "user",
    "sk",
    "AK",
    "gh",
    "xo",
    "hf",
    "ntn",
    "lin",
    "PASSWORD",
    "Basic",
    "\\u0070",
)


def ungated(text: str, monkeypatch) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(redaction, "_marker_gates", lambda: None)
        return mask_text(text)


def test_the_gate_covers_every_rule():
    cased, lowered = _marker_gates()
    for markers, lower, _pattern in _known_formats():
        gate = lowered if lower else cased
        assert all(gate.fullmatch(marker) for marker in markers), markers
    assert all(lowered.fullmatch(m) for m in (*redaction._NAME_MARKERS, *redaction._SCHEME_MARKERS, "://"))


@pytest.mark.parametrize("context", CONTEXTS)
def test_keys_are_masked_the_same_with_and_without_the_gate(context, monkeypatch):
    keys = [*LIVE_KEYS.values(), *(f"{name}={value}" for name, value in CONTEXT_KEYS.values())]
    keys += [random_text(40)]  # a key of no known format: only a name, scheme or URL masks it
    for key in keys:
        text = context.format(k=key)
        masked = mask_text(text)
        assert masked == ungated(text, monkeypatch), text
    for key in LIVE_KEYS.values():
        assert not leaked(mask_text(context.format(k=key)), key), context


def test_random_code_like_text_is_masked_the_same_with_and_without_the_gate(monkeypatch):
    skipped = 0
    for _ in range(3000):
        text = " ".join(
            RNG.choice(WORDS) if RNG.random() < 0.7 else random_text(RNG.randint(4, 50)) for _ in range(8)
        )
        cased, lowered = _marker_gates()
        skipped += cased.search(text) is None and lowered.search(text.lower()) is None
        assert mask_text(text) == ungated(text, monkeypatch), text
    assert skipped > 100  # the fast path was taken, and agreed

"""The one masking function for every snippet and value a scan keeps.

Scanned files belong to whoever controls the repository, and what a scan keeps goes into exports, the
database and PR comments. So a snippet or value is masked *first* and cut *after* (``clip``): a key
that crosses the cut is still whole when it is matched. ``mask_text`` masks

* keys in a known provider format (``data/secrets.json``, the MCP value formats) wherever they appear;
* any value assigned to a credential-like name (``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``,
  ``password`` …) or paired with one (``{"name": "x-api-key", "value": …}``), whether or not its
  format is known;
* ``Bearer``/``Basic``/``Token`` credentials and passwords in URLs;
* the same after JSON ``\\uXXXX`` escapes are decoded (``"sk-\\u0070roj-…"`` is ``sk-proj-…``).

A masked value keeps at most its first 8 and last 4 characters (``textutil.mask_secret``). Masking is
idempotent: a masked value is never masked again. Every pattern here is linear-time (no nested
repetition), and masking reads at most ``MASK_WINDOW`` characters of a snippet.
"""

from __future__ import annotations

import re
import string
from functools import cache
from pathlib import Path

from common.scanner.catalog import load_json, load_yaml
from common.scanner.lazy import lazy_re
from common.scanner.textutil import mask_secret

SNIPPET_CHARS = 200
# A snippet is masked in a window this wide before it is cut to SNIPPET_CHARS; the token the window
# splits is dropped, so no partial key survives the window's edge either.
MASK_WINDOW = 4096
MASK_MARK = "******"
# what the detectors name a found secret's SHA-256 in its record (``secrets``: ``sha256``, MCP: ``hash``)
SECRET_DIGEST_KEYS = ("hash", "sha256")
MIN_NAMED_VALUE = 6
UNDIGITED_MIN_VALUE = 20

_MCP_DATA = Path(__file__).resolve().parent / "data" / "mcp_servers.yaml"
_BOUNDARY_BEFORE = r"(?<![A-Za-z0-9_-])"
_BOUNDARY_AFTER = r"(?![A-Za-z0-9_-])"
_TOKEN_CHARS = string.ascii_letters + string.digits + "_-+/=.~"
_JSON_ESCAPE = lazy_re(r"\\u([0-9a-fA-F]{4})")
_CREDENTIAL_NAME = (
    r"(?:api[_.-]?key|apikey|access[_.-]?key|secret(?:[_.-]?(?:access[_.-]?)?key)?|token|"
    r"passw(?:or)?d|private[_.-]?key|auth[_.-]?key|credentials?)"
)
# The generic rules are case-insensitive; they run, lower-case only, over an ASCII-lower-cased copy
# of the text (same length, so spans carry over): several times faster than ``(?i)``.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_NAMED_VALUE = lazy_re(
    _CREDENTIAL_NAME + r"(?![a-z0-9_])[\"']?\s{0,16}(?:=|:|=>)\s{0,16}[\"']?"
    r"(?P<secret>[^\s\"'`,;<>(){}\[\]|\\]+)"
)
# {"name": "x-api-key", "value": "…"}: HTTP headers and query parameters in n8n and MCP configs
_NAME_VALUE_PAIR = lazy_re(
    r"\"name\"\s{0,16}:\s{0,16}\"[\w.-]{0,64}" + _CREDENTIAL_NAME + r"\"\s{0,16},\s{0,16}"
    r"\"value\"\s{0,16}:\s{0,16}\"(?P<secret>[^\"\s]+)\""
)
_AUTH_SCHEME = lazy_re(r"(?<![a-z0-9])(?:bearer|basic|token)\s{1,16}(?P<secret>[a-z0-9._~+/=-]+)")
_URL_PASSWORD = lazy_re(r"://[^\s/@:]{1,256}:(?P<secret>[^\s/@]{1,256})@")
_REFERENCE_PREFIXES = ("$", "%", "os.", "process.", "env.", "import.", "self.", "config.", "settings.")
_CREDENTIAL_NAME_RE = lazy_re(r"(?i)" + _CREDENTIAL_NAME + r"$")


# The literal start of a key format: "sk-ant-" of "sk-ant-(?:api03|admin01)-…", the alternatives of
# "(ghp|gho|ghu)_…"; a format is only tried on text that contains one.
_LITERAL_PREFIX = lazy_re(r"[A-Za-z0-9_-]+|\(((?:[A-Za-z0-9_-]+\|)+[A-Za-z0-9_-]+)\)")
# Cheap substring gates (on the lower-cased text) in front of the generic rules.
_NAME_MARKERS = ("key", "token", "secret", "passw", "credential")
_SCHEME_MARKERS = ("bearer", "basic", "token")


@cache
def _known_formats() -> tuple[tuple[tuple[str, ...], bool, str], ...]:
    """Provider key formats, specific enough to mask wherever they appear, each with the substrings one
    of which the text must contain for it to match (``("",)``: always tried) and whether that gate is
    checked on the lower-cased text. Each is compiled the first time its gate lets a text through
    (``_compiled``): most scans meet a handful of them, and compiling them all costs a small scan's
    whole detection time."""
    secrets = load_json("secrets.json")
    mcp = load_yaml(_MCP_DATA)["secrets"]["value_patterns"]
    anywhere = [rule["pattern"] for rule in secrets["prefixed"]]
    anywhere += [pattern.strip("^$") for pattern in mcp if not pattern.startswith("^Bearer")]
    found = [
        (_literal_starts(pattern), False, f"{_BOUNDARY_BEFORE}(?P<secret>{pattern}){_BOUNDARY_AFTER}")
        for pattern in anywhere
    ]
    found += [
        (
            ("key",),
            True,
            f"(?:{rule['name']})[\"']?\\s*(?:=|:|=>)\\s*[\"']?(?P<secret>{rule['value']})(?![A-Za-z0-9])",
        )
        for rule in secrets["contextual"]
    ]
    return tuple(found)


@cache
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


@cache
def _marker_gates() -> tuple[re.Pattern, re.Pattern] | None:
    """Every substring gate of ``mask_text`` as two alternations, one searched in the text as it is and one
    in its lower-cased copy: a text that holds none of them (most snippets) costs two searches instead of
    one substring test per rule. ``None`` when a format has no gate, so every text must be tried."""
    cased, lowered = set(), {*_NAME_MARKERS, *_SCHEME_MARKERS, "://"}
    for markers, lower, _pattern in _known_formats():
        if "" in markers:
            return None
        (lowered if lower else cased).update(markers)
    return _alternation(cased), _alternation(lowered)


def _alternation(words: set[str]) -> re.Pattern:
    """A pattern matching any of ``words`` (none when empty); longest first, like the rules it stands for."""
    if not words:
        return re.compile(r"(?!)")
    return re.compile("|".join(re.escape(word) for word in sorted(words, key=lambda w: (-len(w), w))))


def _literal_starts(pattern: str) -> tuple[str, ...]:
    """What every match of ``pattern`` starts with; ``("",)`` when that is not plain to see."""
    match = _LITERAL_PREFIX.match(pattern)
    if match is None or _has_top_level_alternation(pattern):
        return ("",)
    optional = pattern[match.end() : match.end() + 1] in ("?", "*") or pattern[match.end() :].startswith("{0")
    if match.group(1):
        return ("",) if optional else tuple(match.group(1).split("|"))
    return (match.group(0)[:-1] if optional else match.group(0),)


def _has_top_level_alternation(pattern: str) -> bool:
    depth, escaped, in_class = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            return True
    return False


def looks_random(value: str) -> bool:
    """A credential rather than a word or an identifier: it has a digit, or it is long."""
    return any(ch.isdigit() for ch in value) or len(value) >= UNDIGITED_MIN_VALUE


def _masked_once(value: str) -> str:
    return value if MASK_MARK in value else mask_secret(value)


def decode_json_escapes(text: str) -> str:
    """``\\u0070`` -> ``p`` for printable characters, so an escaped key is matched like a plain one."""
    if "\\u" not in text:
        return text

    def decode(match: re.Match) -> str:
        char = chr(int(match.group(1), 16))
        return char if char.isprintable() else match.group(0)

    return _JSON_ESCAPE.sub(decode, text)


def _mask_group(pattern: re.Pattern, text: str, accept, *, lower: bool = False) -> str:
    """``text`` with the ``secret`` group of every accepted match of ``pattern`` masked; ``lower``
    patterns are matched against the ASCII-lower-cased text."""
    pieces, last = [], 0
    for match in pattern.finditer(text.translate(_ASCII_LOWER) if lower else text):
        start, end = match.span("secret")
        value, following = text[start:end], text[end : end + 1]
        if MASK_MARK in value or following == "*" or not accept(value, following):
            continue
        pieces += [text[last:start], mask_secret(value)]
        last = end
    return "".join([*pieces, text[last:]]) if pieces else text


def _named_value_is_secret(value: str, following: str) -> bool:
    if len(value) < MIN_NAMED_VALUE or following in ("(", "[") or value.startswith(_REFERENCE_PREFIXES):
        return False
    return looks_random(value)


def mask_text(text: str, known: tuple[str, ...] | list[str] | set[str] = ()) -> str:
    """``text`` with every credential masked; ``known`` are values a detector already judged secret."""
    if not text:
        return text
    text = decode_json_escapes(text)
    if known:
        for secret in sorted({k for k in known if k}, key=len, reverse=True):
            text = text.replace(secret, _masked_once(secret))
    lowered = text.lower()
    gates = _marker_gates()
    if gates is not None and gates[0].search(text) is None and gates[1].search(lowered) is None:
        return text  # no rule below could match: each one is gated by one of these substrings
    for markers, lower, pattern in _known_formats():
        if any(marker in (lowered if lower else text) for marker in markers):
            text = _mask_group(_compiled(pattern), text, lambda value, following: True)
    if any(marker in lowered for marker in _SCHEME_MARKERS):
        text = _mask_group(
            _AUTH_SCHEME, text, lambda value, following: len(value) >= 8 and looks_random(value), lower=True
        )
    if any(marker in lowered for marker in _NAME_MARKERS):
        text = _mask_group(_NAMED_VALUE, text, _named_value_is_secret, lower=True)
        if '"value"' in lowered:
            text = _mask_group(_NAME_VALUE_PAIR, text, _named_value_is_secret, lower=True)
    if "://" in text and "@" in text:
        text = _mask_group(_URL_PASSWORD, text, lambda value, following: not value.startswith(("$", "{")))
    return text


# A text that reaches every generic rule of ``mask_text`` (JSON escapes, scheme, named value, name/value
# pair, URL password), each compiled when a text first reaches it.
_EVERY_GENERIC_RULE = (
    'api_key = "x1y2z3w4v5u6" Authorization: Bearer x1y2z3w4v5u6 '
    '{"name": "token", "value": "x1y2z3w4v5u6"} https://user:x1y2z3w4v5u6@example.com \\u0041'
)


def compile_rules() -> None:
    """Compile every masking rule now instead of when a text first needs it: a process that masks whole
    results (ingest) would otherwise pay for them in the first result it stores."""
    for _markers, _lower, pattern in _known_formats():
        _compiled(pattern)
    mask_text(_EVERY_GENERIC_RULE)


# The last few texts ``clip`` masked (with the known secrets each holds) and their masks: the findings of
# one long line all clip that line, then their snippet, and masking the line's 4 KiB window again for each
# cost 0.3-1 ms a finding (3 s for a file's 10,000).
_RECENT_CLIPS: dict[tuple[str, tuple[str, ...]], str] = {}
MAX_RECENT_CLIPS = 4


def clip(text: str, limit: int = SNIPPET_CHARS, known: tuple[str, ...] | list[str] | set[str] = ()) -> str:
    """Mask, then cut to ``limit`` characters: the only way a snippet or stored value is shortened."""
    if len(text) > MASK_WINDOW:
        text = text[:MASK_WINDOW].rstrip(_TOKEN_CHARS)
    # a known secret the window does not hold changes nothing, so the findings of one long line (a
    # one-line config of thousands of servers, each with its own secret) share one mask
    held = tuple(known) if any(secret and secret in decode_json_escapes(text) for secret in known) else ()
    masked = _RECENT_CLIPS.get((text, held))
    if masked is None:
        if len(_RECENT_CLIPS) >= MAX_RECENT_CLIPS:
            _RECENT_CLIPS.clear()
        masked = _RECENT_CLIPS[text, held] = mask_text(text, held)
    return masked[:limit]


def mask_value(name: str, value: object) -> object:
    """A metadata value with credentials masked; a value stored under a credential-like key is masked
    whole when it looks random."""
    if isinstance(value, str):
        if _CREDENTIAL_NAME_RE.search(name) and _named_value_is_secret(value.strip(), ""):
            return _masked_once(value)
        return mask_text(value)
    if isinstance(value, dict):
        if value.get("masked") == MASK_MARK:  # a digest beside a whole mask would undo it (``secret_hash``)
            value = {key: item for key, item in value.items() if key not in SECRET_DIGEST_KEYS}
        return {key: mask_value(str(key), item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(name, item) for item in value]
    return value

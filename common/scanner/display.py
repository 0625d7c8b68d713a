"""Repository-controlled strings (file names, component names, snippets) made safe to emit.

A file name is data, not text: on POSIX it is bytes, and a name that is not valid UTF-8 reaches Python
as a ``str`` with surrogate escapes (``\\udcff``), which no UTF-8 encoder, JSON column or XML writer
accepts. ``utf8_clean`` turns those bytes into the visible escape ``\\xff`` everywhere a scan result
leaves the engine (the wire form, every export). ``terminal_text`` also escapes control characters
(ESC, BEL, CR, newlines, C1 controls, bidirectional overrides) so a name cannot recolour a terminal,
retitle it, or fake a line; ``document_text`` does so for CSV and HTML reports but keeps line feeds
and tabs. ``uri_path`` percent-encodes a relative path as RFC 3986 requires.
"""

from __future__ import annotations

from urllib.parse import quote

from common.scanner.lazy import lazy_re

# C0 and C1 controls, DEL, line/paragraph separators, the bidirectional controls ("Trojan Source") that
# reorder what a terminal shows, and the zero-width characters and byte order mark that hide inside a name
# (``open\u200bai`` reads as ``openai``).
_INVISIBLE = "\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_UNSAFE_FOR_TERMINAL = lazy_re(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}]")
# A report keeps line feeds and tabs (a cell or paragraph may hold them); every other control would act on
# the terminal that ``cat`` or a CI log shows the report in.
_UNSAFE_IN_DOCUMENT = lazy_re(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}]")


def hidden_character(value: str) -> str | None:
    """Why ``value`` cannot be a name people are shown (a control or invisible character in it), or None.

    A name typed into the platform (an organization's, a user's, a schedule's) is shown to other members,
    in the dashboard, chat messages and reports: a bidirectional override there makes it read as another,
    and a zero-width character makes two different names look the same."""
    match = _UNSAFE_FOR_TERMINAL.search(value)
    if match is None:
        return None
    return (
        f"Contains the invisible or control character U+{ord(match.group(0)):04X} "
        f"(at position {match.start()}); names must be plain visible text."
    )


def visible_only(value: str) -> str:
    """``value`` without the characters :func:`hidden_character` refuses, for a name the platform did not
    let its author retype (an identity provider's): refusing it would lock the person out."""
    return _UNSAFE_FOR_TERMINAL.sub("", value).strip()


def display_text(value: str) -> str:
    """``value`` as valid UTF-8 text: surrogate-escaped bytes become ``\\xNN``, other lone surrogates
    ``\\udNNN``."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        errors = "surrogateescape" if _only_escaped_bytes(value) else "backslashreplace"
        return value.encode("utf-8", errors).decode("utf-8", "backslashreplace")


def _only_escaped_bytes(value: str) -> bool:
    return all(not 0xD800 <= ord(ch) <= 0xDFFF or 0xDC80 <= ord(ch) <= 0xDCFF for ch in value)


def utf8_clean(value: object) -> object:
    """A JSON-like structure with every string (and dict key) passed through ``display_text``."""
    kind = type(value)
    # exact types first: a report passes a few hundred thousand values through here
    if kind is str:
        return value if value.isascii() else display_text(value)
    if kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        return {utf8_clean(key): utf8_clean(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [utf8_clean(item) for item in value]
    if isinstance(value, str):
        return display_text(value)
    if isinstance(value, dict):
        return {utf8_clean(key): utf8_clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [utf8_clean(item) for item in value]
    return value


def terminal_text(value: object) -> str:
    """One line of plain text: no escape sequences, no line breaks, every control shown as ``\\xNN``."""
    text = display_text("" if value is None else str(value))
    return _UNSAFE_FOR_TERMINAL.sub(lambda m: _escape(m.group(0)), text)


def document_text(value: object) -> str:
    """Text for a CSV cell or an HTML page: controls other than line feed and tab shown as ``\\xNN``, so a
    report printed to a terminal cannot act on it, nor can bidirectional overrides reorder a name."""
    text = "" if value is None else str(value)
    return _UNSAFE_IN_DOCUMENT.sub(lambda m: _escape(m.group(0)), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def uri_path(path: str) -> str:
    """A relative path as an RFC 3986 URI reference: every byte outside the unreserved set and ``/`` is
    percent-encoded, so ``%2e%2e%2f`` stays a literal name, ``javascript:x`` cannot read as a scheme and
    a non-UTF-8 byte is ``%FF``."""
    if not _only_escaped_bytes(path):
        path = display_text(path)
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")

"""JSON encoding and decoding for the large documents: scan results and the rows stored from them.

orjson is several times faster than the standard library on a 10 MB result. It is stricter in a few
corners, and there the standard library takes over, so what is accepted and written stays the same:
``dumps`` falls back for what orjson refuses (integers beyond 64 bits, non-string keys) and ``loads`` for
what it rejects (``NaN``, lone surrogates). One difference remains: orjson reads an integer beyond 64 bits
as a float.
"""

from __future__ import annotations

import codecs
import json
import re

import orjson

JSON_ESCAPE_ERRORS = "json-escape"
# a number written with an exponent (``1e-7``; json writes ``1e-07``): in an indented document a number
# ends its line, which a string (written with its quotes on one line) never does with a digit
EXPONENT_NUMBER = re.compile(rb"[0-9]e[-+]?[0-9]+,?(?:\n|\Z)")


def _json_escape(error: UnicodeEncodeError) -> tuple[str, int]:
    """Non-ASCII text as ``json.dumps`` writes it: ``\\u`` escapes, surrogate pairs above U+FFFF."""
    return json.dumps(error.object[error.start : error.end])[1:-1], error.end


codecs.register_error(JSON_ESCAPE_ERRORS, _json_escape)


def dumps(value: object) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def dumps_indented(value: object) -> bytes:
    """``json.dumps(value, indent=2)``'s bytes (the CLI's JSON report), in a third of its time on a scan
    result: the standard library runs its pure-Python encoder whenever ``indent`` is set. orjson writes
    the same layout; non-ASCII text and DEL are escaped afterwards as json does, and what orjson refuses
    (integers beyond 64 bits, non-string keys, lone surrogates) or writes otherwise (a float with an
    exponent) takes the standard library's path. One difference remains: a float NaN or infinity is
    ``null`` (as stored results have it), not ``NaN``."""
    try:
        encoded = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except TypeError:
        encoded = None
    if encoded is None or EXPONENT_NUMBER.search(encoded):
        return json.dumps(value, indent=2).encode("ascii")
    if not encoded.isascii():
        encoded = encoded.decode().encode("ascii", JSON_ESCAPE_ERRORS)
    return encoded.replace(b"\x7f", b"\\u007f")  # DEL is ASCII, which json escapes too


def loads(data: bytes | bytearray | memoryview | str) -> object:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(bytes(data) if isinstance(data, memoryview) else data)

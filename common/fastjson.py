"""JSON encoding and decoding for the large documents: scan results and the rows stored from them.

orjson is several times faster than the standard library on a 10 MB result. It is stricter in a few
corners, and there the standard library takes over, so what is accepted and written stays the same:
``dumps`` falls back for what orjson refuses (integers beyond 64 bits, non-string keys) and ``loads`` for
what it rejects (``NaN``, lone surrogates). One difference remains: orjson reads an integer beyond 64 bits
as a float.
"""

from __future__ import annotations

import json

import orjson


def dumps(value: object) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def loads(data: bytes | bytearray | memoryview | str) -> object:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(bytes(data) if isinstance(data, memoryview) else data)

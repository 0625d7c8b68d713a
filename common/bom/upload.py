"""What the API checks of an uploaded result before it stores it: that the body is JSON, and what its top
level says, so that the API's share of an upload is one pass over the body whatever the document holds. The
schema and the conversion (``common.bom.importer``, with its schemas and validators, ~25 MB that only the
ingest worker loads) run in the ingest worker."""

from __future__ import annotations

import codecs
import re

import msgspec

# An upload's scan target: the prefix and the format (``upload:cyclonedx``).
UPLOAD_TARGET_PREFIX = "upload:"
# The text of a refused upload's errors as the scan's error: below ``jobs.ERROR_MAX_CHARS``.
MAX_ERROR_TEXT = 1500
# What an error quotes of a value or a JSON path at most (a path's keys are the uploader's).
MAX_QUOTED = 80


class UploadInvalid(ValueError):
    """The upload is not an accepted document; ``errors`` names each bad part by its JSON path."""

    def __init__(self, message: str, errors: dict[str, list[str]]):
        super().__init__(message)
        self.errors = errors

    def as_scan_error(self) -> str:
        """The message and each bad part, cut to ``MAX_ERROR_TEXT``: a scan's error is one text."""
        parts = "; ".join(f"{path}: {' '.join(messages)}" for path, messages in self.errors.items())
        text = f"{self} {parts}" if parts else str(self)
        return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 1] + "…"


def upload_format(document) -> str:
    """``trusera`` or ``cyclonedx``, from the document's top level only: the API's checks, constant in the
    document's size once it is parsed. ``UploadInvalid`` for what is neither, or a CycloneDX BOM of another
    version."""
    if not isinstance(document, dict):
        raise UploadInvalid("The upload must be a JSON object.", {"_body": ["Expected an object."]})
    if document.get("bomFormat") == "CycloneDX":
        if document.get("specVersion") != "1.6":
            got = document.get("specVersion")
            shown = quoted(repr(got[:MAX_QUOTED])) if isinstance(got, str) else _kind(got)
            raise UploadInvalid(
                "Only CycloneDX 1.6 BOMs are accepted.", {"specVersion": [f"Expected '1.6', got {shown}."]}
            )
        return "cyclonedx"
    if "components" in document and ("tool" in document or "files_scanned" in document):
        return "trusera"
    raise UploadInvalid(
        "Upload a CycloneDX 1.6 JSON BOM or the JSON result of `trusera scan --format json`.",
        {"_body": ["Neither a CycloneDX BOM ('bomFormat') nor a trusera result ('components', 'tool')."]},
    )


class NestedObject:
    """What ``top_level`` keeps of a value it does not read: nothing but that it is there."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "object"


NESTED_OBJECT = NestedObject()
# The size past which a value ``upload_format`` reads (``bomFormat``, ``specVersion``) is not one it accepts
# (a short string) and stays unread.
MAX_READ_VALUE_BYTES = 1000


class _TopLevel(msgspec.Struct):
    """The top-level keys ``upload_format`` looks at, each value left as its bytes (``msgspec.Raw``, a view
    of the body); every other key is skipped. The decoder checks the whole body's syntax as it skips,
    building nothing."""

    # named as the document names them
    bomFormat: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    specVersion: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    components: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    tool: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    files_scanned: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


READ_KEYS = ("bomFormat", "specVersion")
# A surrogate escape (``\\uD800`` to ``\\uDFFF``): JSON's grammar takes a lone one (the standard
# library and the worker do), msgspec refuses it, so the pass reads each as ``\\uFFFD`` (an escape of the
# same length: what is JSON stays JSON, what is not stays not).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_TOP_LEVEL = msgspec.json.Decoder(_TopLevel)
_ANY_VALUE = msgspec.json.Decoder(msgspec.Raw)
# What ``top_level`` returns for a JSON value that is no object, which ``upload_format`` refuses.
NOT_AN_OBJECT: list = []


def top_level(body: bytes):
    """The body's top-level object as far as ``upload_format`` reads it: its format's keys, each value but
    ``READ_KEYS``' replaced by ``NESTED_OBJECT``, the rest of the document checked as JSON and never built.
    The standard library's decoder, which has no hook for arrays, held the largest array whole (a 25 MiB
    body of ``[[],[],…]`` took 0.6 GB), and every top-level key (2.7 million of them: 120 MB, 3.6 s); this
    pass holds nothing beyond the body. ``ValueError`` (``RecursionError`` nested too deep) when it is not
    JSON; ``NOT_AN_OBJECT`` for JSON that is no object.
    """
    if body.startswith(codecs.BOM_UTF8):  # as Windows tools write UTF-8; the worker's decoder skips it too
        body = memoryview(body)[len(codecs.BOM_UTF8) :]
    if _SURROGATE_ESCAPE.search(body):  # rare: a copy of the body, once
        body = _SURROGATE_ESCAPE.sub(rb"\\ufffd", body)
    try:
        try:
            found = _TOP_LEVEL.decode(body)
        except msgspec.ValidationError:  # no object at the top: whether it is JSON decides 400 or 422
            _ANY_VALUE.decode(body)
            return NOT_AN_OBJECT
    except msgspec.DecodeError as malformed:
        raise ValueError(str(malformed)) from malformed
    present = {key: getattr(found, key) for key in found.__struct_fields__}
    return {
        key: _read(raw) if key in READ_KEYS else NESTED_OBJECT
        for key, raw in present.items()
        if raw is not msgspec.UNSET
    }


def _read(raw: msgspec.Raw):
    return msgspec.json.decode(raw) if len(raw) <= MAX_READ_VALUE_BYTES else NESTED_OBJECT


def json_values_at_most(body: bytes) -> int:
    """An upper bound of the JSON values in ``body``, from its bytes alone: every value but the first
    follows a comma or opens an array or object (one inside a string counts too, which only over-counts).
    The ingest worker decodes the whole body, up to ~200 bytes of memory per value whatever the body's
    size (25 MiB of ``[[],[],…]`` took 1.2 GB); this is what the API bounds, in a few milliseconds and
    nothing held."""
    return body.count(b",") + body.count(b"[") + body.count(b"{") + 1


def quoted(text: str) -> str:
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…"


def _kind(value) -> str:
    return "object" if isinstance(value, dict | NestedObject) else type(value).__name__

"""What the API checks of an uploaded result before it stores it: that the body is JSON, and what its top
level says, so that the API's share of an upload is one pass over the body whatever the document holds. The
schema and the conversion (``common.bom.importer``, with its schemas and validators, ~25 MB that only the
ingest worker loads) run in the ingest worker."""

from __future__ import annotations

import json

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
    """What ``top_level`` keeps of an object inside the document: nothing but that it was one."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "object"


NESTED_OBJECT = NestedObject()


def top_level(body: bytes):
    """The body decoded by the standard library (which reads whatever the worker's decoder reads), with
    every object below the top level replaced by ``NESTED_OBJECT`` as soon as it is read: the upload's
    values are never all held at once. Decoded whole, 47 MB of plain values took 570 MB for 0.6 s of CPU;
    read this way, 55 MB for 0.8 s. ``ValueError`` (``RecursionError`` nested too deep) when it is not JSON.
    """
    latest: list = [None]

    def keep_only_the_last(pairs: list) -> NestedObject:
        latest[0] = pairs  # the top-level object closes last, so its pairs are the ones left here
        return NESTED_OBJECT

    document = json.loads(body, object_pairs_hook=keep_only_the_last)
    return dict(latest[0]) if document is NESTED_OBJECT else document


def quoted(text: str) -> str:
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…"


def _kind(value) -> str:
    return "object" if isinstance(value, dict | NestedObject) else type(value).__name__

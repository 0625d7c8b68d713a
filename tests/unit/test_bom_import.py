"""The upload importer: its CycloneDX validator agrees with cyclonedx-python-lib's official one, its errors
quote no uploaded value, and the API's share of the checks reads the top level only."""

from __future__ import annotations

import copy
import json
import tracemalloc

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from common import jobs
from common.bom import importer
from common.bom.importer import UploadInvalid, import_document
from common.bom.upload import MAX_ERROR_TEXT, NESTED_OBJECT, json_values_at_most, top_level, upload_format
from common.exporters import cyclonedx


def _bom(count: int) -> dict:
    components = [
        {
            "id": f"{i:08x}-0000-0000-0000-000000000000",
            "name": f"gpt-{i}",
            "type": "model",
            "provider": "OpenAI",
            "locations": [{"file": "app.py", "line": i + 1, "snippet": ""}],
            "risk_score": 40,
            "severity": "medium",
            "detector": "python",
        }
        for i in range(count)
    ]
    tool = {"name": "trusera", "version": "0.1.0"}
    bundle = {"scan": {"id": "s", "target": "t"}, "components": components, "relationships": [], "tool": tool}
    return json.loads(cyclonedx.render(bundle))


def _variants() -> list[dict]:
    valid = _bom(3)
    duplicate = copy.deepcopy(valid)
    duplicate["components"].append(copy.deepcopy(duplicate["components"][0]))
    bad_type = copy.deepcopy(valid)
    bad_type["components"][1]["type"] = "gadget"
    extra = copy.deepcopy(valid)
    extra["components"][2]["colour"] = "blue"
    bad_uuid = copy.deepcopy(valid)
    bad_uuid["serialNumber"] = "not-a-urn"
    bad_iri, good_iri = copy.deepcopy(valid), copy.deepcopy(valid)
    bad_iri["components"][0]["externalReferences"] = [{"type": "website", "url": "not an iri"}]
    good_iri["components"][0]["externalReferences"] = [
        {"type": "website", "url": "https://x.example/a?b=c#d"}
    ]
    return [valid, duplicate, bad_type, extra, bad_uuid, bad_iri, good_iri]


@pytest.mark.parametrize("document", _variants())
def test_the_importer_accepts_exactly_what_the_official_validator_accepts(document):
    official = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document)) is None
    try:
        import_document(document)
        ours = True
    except UploadInvalid:
        ours = False
    assert ours == official


def test_a_bom_exported_here_keeps_its_components_exactly():
    document = _bom(5)
    source_format, result = import_document(document)
    assert source_format == "cyclonedx"
    assert [c["id"] for c in result["components"]] == [c["bom-ref"] for c in document["components"]]
    assert {c["severity"] for c in result["components"]} == {"medium"}
    assert {c["risk_score"] for c in result["components"]} == {40}


def _models_depending_on_each_other(refs: int, entries: int) -> dict:
    """``refs`` bom-refs naming two models by turns, and ``entries`` dependency entries each listing
    every other ref: as many pairs of refs as the body holds, all one pair of components."""
    components = [
        {"type": "machine-learning-model", "name": f"model-{i % 2}", "bom-ref": f"r{i}"} for i in range(refs)
    ]
    dependencies = [
        {"ref": f"r{j}", "dependsOn": [f"r{i}" for i in range(refs) if i != j]} for j in range(entries)
    ]
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components} | {
        "dependencies": dependencies
    }


def test_refs_naming_the_same_components_make_one_edge_per_pair():
    _, result = import_document(_models_depending_on_each_other(refs=40, entries=10))

    pairs = [(edge["source"], edge["target"]) for edge in result["relationships"]]
    assert len(result["components"]) == 2
    assert len(pairs) == len(set(pairs)) == 2


def test_a_bom_of_more_dependency_references_than_allowed_is_refused_before_its_schema(monkeypatch):
    monkeypatch.setattr(importer, "MAX_DEPENDENCY_REFS", 100)
    checked = []
    monkeypatch.setattr(importer, "_cyclonedx_validator", lambda: checked.append(1))

    with pytest.raises(UploadInvalid) as refused:
        import_document(_models_depending_on_each_other(refs=11, entries=10))  # 10 + 10 x 10 references

    assert refused.value.errors == {"dependencies": ["At most 100 in all."]}
    assert checked == []


SECRET = "sk-proj-" + "Q7fZ2kLm9XwR4tVb8NcJ1pHs6YdG3eAu5iKo0rTy"


def test_schema_errors_name_the_bad_parts_and_quote_no_uploaded_value():
    """They become the scan's error, which every member and webhook of the organization reads: jsonschema's
    own messages quoted the value (an enum, a pattern, a type, an unexpected property's name)."""
    document = _bom(2)
    document["serialNumber"] = SECRET
    document["version"] = SECRET
    document["components"][0]["type"] = SECRET
    document["components"][1][SECRET] = "x"

    with pytest.raises(UploadInvalid) as refused:
        import_document(document)

    errors = refused.value.errors
    assert {"serialNumber", "version", "components.0.type", "components.1"} <= set(errors), errors
    assert SECRET not in refused.value.as_scan_error()
    assert errors["version"] == ["must be of type 'integer'"]


def test_a_refused_uploads_error_text_is_bounded():
    document = _bom(2)
    document["components"] = [{"type": "gadget", "name": "x" * 500}] * 50

    with pytest.raises(UploadInvalid) as refused:
        import_document(document)

    text = refused.value.as_scan_error()
    assert len(refused.value.errors) == importer.MAX_ERRORS
    assert len(text) <= MAX_ERROR_TEXT < jobs.ERROR_MAX_CHARS
    assert text.startswith("The CycloneDX BOM does not match its schema. components.0.type: must be one of")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": "the worker's to check"},
            "cyclonedx",
        ),
        ({"components": [], "tool": {}}, "trusera"),
        ({"components": "the worker's to check", "files_scanned": -1}, "trusera"),
    ],
)
def test_the_apis_check_reads_the_top_level_only(document, expected):
    """``upload_format`` is all the API decides: the rest of the document is the worker's to validate."""
    assert upload_format(document) == expected


@pytest.mark.parametrize(
    ("document", "errors"),
    [
        ({"bomFormat": "CycloneDX", "specVersion": "1.5"}, {"specVersion": ["Expected '1.6', got '1.5'."]}),
        ({"bomFormat": "CycloneDX", "specVersion": ["1.6"]}, {"specVersion": ["Expected '1.6', got list."]}),
        ("a string", {"_body": ["Expected an object."]}),
    ],
)
def test_the_apis_check_refuses_another_format_or_version(document, errors):
    with pytest.raises(UploadInvalid) as refused:
        upload_format(document)
    assert refused.value.errors == errors


def top_level_and_peak_memory(body: bytes) -> tuple[dict, int]:
    """The API's pass over ``body`` and the most memory it held meanwhile."""
    tracemalloc.start()
    try:
        document = top_level(body)
        return document, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_apis_pass_over_the_body_holds_no_nested_value():
    """Decoded whole, an upload of plain values takes ten times its size in memory; the API keeps only the
    top level, so the pass costs the body's text and little else."""
    components = [{"name": f"c{i}", "properties": [{"name": "p", "value": "v"}]} for i in range(20_000)]
    body = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components}).encode()
    document, peak = top_level_and_peak_memory(body)
    assert document == {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": NESTED_OBJECT,
    }
    assert peak < 1.5 * len(body)


@pytest.mark.parametrize(
    "body", [b'{"components": [', b"", b'{"a": 1} {"b": 2}', b"\xff\xfe{", b"[" * 100_000]
)
def test_a_body_that_is_not_json_is_refused_by_the_apis_pass(body):
    with pytest.raises((ValueError, RecursionError)):
        top_level(body)


@pytest.mark.parametrize(
    "rest",
    [
        b'"x": [' + b"[]," * 500_000 + b"[]]",
        b",".join(b'"%x": 0' % key for key in range(200_000)),
    ],
    ids=["one-array", "many-keys"],
)
def test_the_apis_pass_holds_no_array_or_key_of_the_body(rest):
    """The standard library's decoder has no hook for arrays: a body whose one key held ``[[],[],…]`` was
    held whole, 0.6 GB of the API process for 25 MiB (21 times the body); its top level's keys were all
    kept too (2.7 million: 120 MB)."""
    body = b'{"bomFormat": "CycloneDX", "specVersion": "1.6", ' + rest + b"}"
    document, peak = top_level_and_peak_memory(body)
    assert upload_format(document) == "cyclonedx"
    assert peak < 0.5 * len(body)


def test_the_apis_pass_reads_a_body_after_its_utf8_byte_order_mark():
    """Windows tools write one; the worker's decoder reads past it, so the API's pass does too."""
    body = b'\xef\xbb\xbf{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}'
    assert upload_format(top_level(body)) == "cyclonedx"


def _values_in(value) -> int:
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return 1 + sum(_values_in(child) for child in children)


@pytest.mark.parametrize(
    "document",
    [0, "a,[{", [], {}, [[], {}], {"a": [1, "x,y"], "b": {"c": None}}, _bom(3)],
    ids=["number", "string", "empty-array", "empty-object", "nested-empties", "mixed", "export"],
)
def test_the_value_count_from_bytes_is_never_below_the_documents_values(document):
    """``IMPORT_MAX_VALUES`` bounds the worker's decode only if the count from bytes never falls short."""
    for body in (json.dumps(document).encode(), json.dumps(document, separators=(",", ":")).encode()):
        assert json_values_at_most(body) >= _values_in(document)


@pytest.mark.parametrize("text", ["\ud800", "x\ud800", "\udfff", "\ud83d\ude00", "\\ud800"])
def test_the_apis_pass_takes_surrogate_escapes_as_the_worker_does(text):
    """msgspec refuses a lone surrogate escape that JSON's grammar (and the worker's decoder) take: an
    upload of a scanned line holding one was a 400."""
    body = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": text}]})
    assert upload_format(top_level(body.encode())) == "cyclonedx"

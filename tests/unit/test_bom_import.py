"""The upload importer: its CycloneDX validator agrees with cyclonedx-python-lib's official one."""

from __future__ import annotations

import copy
import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from common.bom import importer
from common.bom.importer import UploadInvalid, import_document
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

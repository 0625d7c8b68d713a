"""The upload importer: its CycloneDX validator agrees with cyclonedx-python-lib's official one."""

from __future__ import annotations

import copy
import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

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

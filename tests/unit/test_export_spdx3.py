"""SPDX 3.0.1: read back with spdx-python-model's strict deserializer and re-encoded.

The deserializer rejects unknown classes, properties and enum values; re-encoding enforces
every property's required cardinality. Both run offline.
"""

from __future__ import annotations

import io
import json

import pytest
from spdx_python_model import v3_0_1 as spdx

from common.exporters import render
from tests.unit.test_export_bundle import make_bundle


def read_back(data: bytes) -> spdx.SHACLObjectSet:
    objects = spdx.SHACLObjectSet()
    spdx.JSONLDDeserializer().read(io.BytesIO(data), objects)
    spdx.JSONLDSerializer().write(objects, io.BytesIO())
    return objects


def of_type(objects: spdx.SHACLObjectSet, cls) -> list:
    return [o for o in objects.foreach() if type(o) is cls]


@pytest.mark.parametrize("variant", ["full", "empty"])
def test_output_reads_back_strictly(variant):
    bundle = make_bundle() if variant == "full" else make_bundle([])
    read_back(render("spdx3", bundle))


@pytest.mark.parametrize(
    ("mutation", "error"),
    [
        (lambda pkg: pkg.__setitem__("ai_safetyRiskAssessment", "extreme"), ValueError),
        (lambda pkg: pkg.__setitem__("ai_bogus", "x"), KeyError),
        (lambda pkg: pkg.pop("creationInfo"), ValueError),
    ],
)
def test_the_reader_rejects_invalid_documents(mutation, error):
    document = json.loads(render("spdx3", make_bundle()))
    mutation(next(e for e in document["@graph"] if e["type"] == "ai_AIPackage"))
    with pytest.raises(error):
        read_back(json.dumps(document).encode())


def test_ai_and_software_profiles_are_used():
    bundle = make_bundle()
    objects = read_back(render("spdx3", bundle))
    ai = {p.name: p for p in of_type(objects, spdx.ai_AIPackage)}
    assert set(ai) == {c["name"] for c in bundle["components"] if c["type"] in ("model", "model_file")}
    retired = ai["gpt-3.5-turbo-0301"]
    assert retired.ai_safetyRiskAssessment == spdx.ai_SafetyRiskAssessmentType.medium
    assert "Retired by the vendor on 2024-06-13" in retired.ai_limitation
    packages = {p.name: p for p in of_type(objects, spdx.software_Package)}
    assert packages["openai"].software_packageUrl == "pkg:pypi/openai@1.52.0"
    assert packages["openai"].software_primaryPurpose == spdx.software_SoftwarePurpose.library
    document = of_type(objects, spdx.SpdxDocument)[0]
    assert {str(p).rsplit("/", 1)[-1] for p in document.profileConformance} == {"core", "software", "ai"}
    assert of_type(objects, spdx.CreationInfo)[0].specVersion == "3.0.1"


def test_relationships_link_components_and_their_evidence_files():
    bundle = make_bundle()
    objects = read_back(render("spdx3", bundle))
    names = {o._id: o.name for o in objects.foreach() if isinstance(o, spdx.Element) and o._id}
    edges = {
        (
            names[r.from_._id if hasattr(r.from_, "_id") else r.from_],
            str(r.relationshipType).rsplit("/", 1)[-1],
            names[t._id if hasattr(t, "_id") else t],
        )
        for r in of_type(objects, spdx.Relationship)
        for t in r.to
    }
    assert ("langchain", "dependsOn", "gpt-4o") in edges
    assert ("openai", "hasEvidence", "requirements.txt") in edges
    assert ("github.com/acme/support-bot", "dependsOn", "langchain") in edges

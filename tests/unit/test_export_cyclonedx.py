"""CycloneDX 1.6: valid per cyclonedx-python-lib's strict JSON validator, and the AI-BOM parts."""

from __future__ import annotations

import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.schema.schema import SchemaVersion1Dot6
from cyclonedx.validation.json import JsonStrictValidator

from common.exporters import render
from common.exporters.cyclonedx import (
    SERVICE_TYPES,
    component_json,
    library_component,
    library_service,
    service_json,
)
from tests.unit.test_export_bundle import by_name, make_bundle


def cdx(bundle: dict) -> dict:
    return json.loads(render("cyclonedx", bundle))


@pytest.mark.parametrize("variant", ["full", "no_results", "empty"])
def test_output_passes_the_official_1_6_schema(variant):
    bundle = {"full": make_bundle(), "no_results": make_bundle(with_results=False), "empty": make_bundle([])}[
        variant
    ]
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(render("cyclonedx", bundle).decode())
    assert error is None, error


def _library_json(component: dict) -> dict:
    model = library_service(component) if component["type"] in SERVICE_TYPES else library_component(component)
    written = json.loads(model.as_json(view_=SchemaVersion1Dot6))
    evidence = written.get("evidence")
    if evidence:
        # The library keeps duplicate occurrences (they compare by an unset bom-ref); ours are unique.
        unique = {json.dumps(o, sort_keys=True): o for o in evidence["occurrences"]}.values()
        evidence["occurrences"] = sorted(
            unique, key=lambda o: (o["location"], o.get("line", 0), o.get("additionalContext", ""))
        )
    return written


def _edge_cases() -> list[dict]:
    """Components that stress the direct writer: duplicate and empty locations, no provider, odd URLs."""
    base = make_bundle()["components"]
    model = next(c for c in base if c["type"] == "model")
    endpoint = next(c for c in base if c["type"] == "endpoint")
    return [
        {**model, "id": "dup", "locations": model["locations"] * 2 + [{"file": "a.py", "line": None}]},
        {**model, "id": "bare", "provider": None, "version": "", "locations": [], "flags": [], "scope": None},
        {**endpoint, "id": "odd-url", "metadata": {"url": "https://h.example/p?q=a b&x=<y>"}},
        {**endpoint, "id": "template-url", "metadata": {"url": "https://h.example/v1/models/%s:run#a#b"}},
        {**endpoint, "id": "no-url", "metadata": {}},
    ]


@pytest.mark.parametrize("component", make_bundle()["components"] + _edge_cases(), ids=lambda c: c["id"])
def test_direct_writer_equals_the_library_serializer(component):
    written = service_json(component) if component["type"] in SERVICE_TYPES else component_json(component)
    written.pop("modelCard", None)
    assert written == _library_json(component)


def test_a_url_template_in_the_code_is_an_endpoint_of_a_valid_document():
    # ``f"https://generativelanguage.googleapis.com/v1beta/models/%s:generateContent"`` failed the whole
    # export: anyURI has no stray ``%``
    bundle = make_bundle()
    endpoint = next(c for c in bundle["components"] if c["type"] == "endpoint")
    endpoint["metadata"] = {**(endpoint.get("metadata") or {}), "url": "https://h.example/models/%s:run"}
    rendered = render("cyclonedx", bundle).decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(rendered) is None
    assert by_name(json.loads(rendered)["services"], endpoint["name"])["endpoints"] == [
        "https://h.example/models/%25s:run"
    ]


def test_the_validator_catches_a_broken_document():
    document = cdx(make_bundle())
    document["components"][0]["type"] = "ai-model"
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document)) is not None


def test_models_are_machine_learning_models_with_a_model_card_when_the_catalog_knows_them():
    document = cdx(make_bundle())
    components = {c["name"]: c for c in document["components"]}
    assert components["gpt-4o"]["type"] == "machine-learning-model"
    assert components["gpt-4o"]["modelCard"]["modelParameters"] == {"architectureFamily": "gpt-4o"}
    retired = components["gpt-3.5-turbo-0301"]["modelCard"]
    assert retired["considerations"]["technicalLimitations"] == [
        "Deprecated by the vendor on 2023-06-13.",
        "Retired by the vendor on 2024-06-13; requests fail after that date.",
    ]
    assert "modelCard" not in components["claude-3-5-sonnet-20241022"]
    assert components["models/classifier.pkl"]["hashes"] == [{"alg": "SHA-256", "content": "ab" * 32}]


def test_endpoints_are_services_and_nothing_else_is():
    bundle = make_bundle()
    document = cdx(bundle)
    assert sorted(s["name"] for s in document["services"]) == ["api.openai.com", "localhost:11434"]
    assert by_name(document["services"], "api.openai.com")["endpoints"] == [
        "https://api.openai.com/v1/chat/completions"
    ]
    assert len(document["components"]) + len(document["services"]) == len(bundle["components"])


def test_evidence_risk_and_flags_are_carried():
    openai = by_name(cdx(make_bundle())["components"], "openai")
    assert openai["purl"] == "pkg:pypi/openai@1.52.0"
    assert [(o["location"], o["line"]) for o in openai["evidence"]["occurrences"]] == [
        ("requirements.txt", 3),
        ("src/app.py", 12),
    ]
    properties = {(p["name"], p["value"]) for p in openai["properties"]}
    assert {
        ("trusera:risk_score", "75"),
        ("trusera:severity", "high"),
        ("trusera:flag", "hardcoded_api_key"),
    } <= properties


def test_dependencies_follow_relationships_and_hang_off_the_scan_target():
    bundle = make_bundle()
    ids = {c["name"]: c["id"] for c in bundle["components"]}
    dependencies = {d["ref"]: d.get("dependsOn", []) for d in cdx(bundle)["dependencies"]}
    assert dependencies[ids["langchain"]] == [ids["gpt-4o"]]
    assert ids["gpt-4o"] not in dependencies["scan-target"]
    assert ids["langchain"] in dependencies["scan-target"]
    assert set(dependencies) == {*ids.values(), "scan-target"}


def test_metadata_records_tool_and_scan_provenance():
    metadata = cdx(make_bundle())["metadata"]
    assert metadata["tools"]["components"][0]["name"] == "trusera"
    assert metadata["timestamp"].startswith("2025-03-01T10:00:09")
    properties = {p["name"]: p["value"] for p in metadata["properties"]}
    assert properties["trusera:scan_id"] == "5f0c1a9e-2b7d-4c1e-9f3a-8d2e6b1c4a70"
    assert properties["trusera:scan_deep"] == "true"

"""CycloneDX 1.6 JSON, built with cyclonedx-python-lib's object model and serializers.

Every component, service and the metadata are the library's own model objects serialized by
the library for schema 1.6. The document is assembled here rather than through
``JsonV1Dot6(Bom)`` because ``Bom.validate()`` registers each component's dependency entry
with a linear search (quadratic: minutes at 20,000 components) and ``Bom.components`` re-sorts
every component by a deep comparison key. Our bom-refs are already unique component ids, so
the library's ref de-duplication has nothing to do, and the dependency graph is written once.

The library has no model card class; model cards are added to the serialized
``machine-learning-model`` components as the 1.6 schema defines them.
"""

from __future__ import annotations

import json
import uuid

from cyclonedx.model import HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentScope, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.service import Service
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema.schema import SchemaVersion1Dot6

from common.exporters.bundle import generated_at
from common.exporters.purl import purl_for

PROPERTY_PREFIX = "trusera:"
ROOT_REF = "scan-target"
# The id namespace for serial numbers: the same scan always gets the same urn:uuid.
SERIAL_NAMESPACE = uuid.UUID("6f1c3c2e-0f4b-5d8e-9a57-3b2a8d1e4c60")

COMPONENT_TYPES = {
    "model": ComponentType.MACHINE_LEARNING_MODEL,
    "model_file": ComponentType.MACHINE_LEARNING_MODEL,
    "llm_provider": ComponentType.LIBRARY,
    "vector_db": ComponentType.LIBRARY,
    "agent_framework": ComponentType.FRAMEWORK,
    "ml_framework": ComponentType.FRAMEWORK,
    "container": ComponentType.CONTAINER,
    "cloud_resource": ComponentType.PLATFORM,
    "mcp_server": ComponentType.APPLICATION,
    "mcp_client": ComponentType.APPLICATION,
    "workflow": ComponentType.APPLICATION,
    "tool": ComponentType.APPLICATION,
}
SERVICE_TYPES = {"endpoint"}


def _properties(component: dict) -> list[Property]:
    props = [
        Property(name=f"{PROPERTY_PREFIX}type", value=component["type"]),
        Property(name=f"{PROPERTY_PREFIX}risk_score", value=str(component.get("risk_score", 0))),
        Property(name=f"{PROPERTY_PREFIX}severity", value=component.get("severity") or "info"),
        Property(name=f"{PROPERTY_PREFIX}scope", value=component.get("scope") or "production"),
        Property(name=f"{PROPERTY_PREFIX}confidence", value=str(component.get("confidence", 1.0))),
    ]
    props += [Property(name=f"{PROPERTY_PREFIX}flag", value=flag) for flag in component.get("flags") or []]
    props += [
        Property(name=f"{PROPERTY_PREFIX}risk_factor", value=f"{rf['factor']}:{rf['points']}: {rf['reason']}")
        for rf in component.get("risk_factors") or []
    ]
    for key in ("detector", "provider", "model_name"):
        if component.get(key):
            props.append(Property(name=f"{PROPERTY_PREFIX}{key}", value=str(component[key])))
    return props


def _evidence(component: dict) -> ComponentEvidence | None:
    occurrences = [
        Occurrence(
            location=loc["file"],
            line=loc["line"] if loc.get("line") else None,
            additional_context=loc.get("snippet") or None,
        )
        for loc in component.get("locations") or []
    ]
    return ComponentEvidence(occurrences=occurrences) if occurrences else None


def _hashes(component: dict) -> list[HashType]:
    sha256 = (component.get("metadata") or {}).get("sha256")
    return [HashType(alg=HashAlgorithm.SHA_256, content=sha256)] if sha256 else []


def _supplier(component: dict) -> OrganizationalEntity | None:
    return OrganizationalEntity(name=component["provider"]) if component.get("provider") else None


def _library_component(component: dict) -> Component:
    return Component(
        bom_ref=component["id"],
        name=component["name"],
        type=COMPONENT_TYPES.get(component["type"], ComponentType.APPLICATION),
        version=component.get("version") or None,
        supplier=_supplier(component),
        scope=ComponentScope.EXCLUDED if component.get("scope") == "test" else None,
        purl=purl_for(component),
        hashes=_hashes(component),
        properties=_properties(component),
        evidence=_evidence(component),
    )


def _library_service(component: dict) -> Service:
    url = (component.get("metadata") or {}).get("url")
    return Service(
        bom_ref=component["id"],
        name=component["name"],
        version=component.get("version") or None,
        provider=_supplier(component),
        endpoints=[XsUri(url)] if url else None,
        properties=_properties(component),
    )


def model_card(component: dict) -> dict | None:
    """A CycloneDX model card from what the model catalog recorded, or None when it knows nothing."""
    metadata = component.get("metadata") or {}
    lifecycle = metadata.get("lifecycle") or {}
    parameters = {}
    if metadata.get("task"):
        parameters["task"] = str(metadata["task"])
    if lifecycle.get("family"):
        parameters["architectureFamily"] = str(lifecycle["family"])
    limitations = []
    if lifecycle.get("deprecated"):
        limitations.append(f"Deprecated by the vendor on {lifecycle['deprecated']}.")
    if lifecycle.get("retired"):
        limitations.append(f"Retired by the vendor on {lifecycle['retired']}; requests fail after that date.")
    properties = [
        {"name": f"{PROPERTY_PREFIX}lifecycle_{key}", "value": str(lifecycle[key])}
        for key in ("catalog_id", "released", "deprecated", "retired", "deprecated_source", "retired_source")
        if lifecycle.get(key)
    ]
    card: dict = {}
    if parameters:
        card["modelParameters"] = parameters
    if limitations:
        card["considerations"] = {"technicalLimitations": limitations}
    if properties:
        card["properties"] = properties
    return card or None


def _sort_occurrences(serialized: dict) -> None:
    """The library orders occurrences by their (unset, identity-compared) bom-ref first, which
    differs from run to run; file and line order keeps exports of one scan byte-identical."""
    occurrences = (serialized.get("evidence") or {}).get("occurrences")
    if occurrences:
        occurrences.sort(key=lambda o: (o["location"], o.get("line", 0), o.get("additionalContext", "")))


def _serialize(model_object) -> dict:
    return json.loads(model_object.as_json(view_=SchemaVersion1Dot6))


def _dependencies(bundle: dict, refs: list[str]) -> list[dict]:
    """Every element gets an entry (as the library would); the scan target depends on top-level ones."""
    known = set(refs)
    depends_on: dict[str, set[str]] = {ref: set() for ref in refs}
    has_parent: set[str] = set()
    for rel in bundle.get("relationships") or []:
        if rel["source"] in known and rel["target"] in known and rel["source"] != rel["target"]:
            depends_on[rel["source"]].add(rel["target"])
            has_parent.add(rel["target"])
    depends_on[ROOT_REF] = {ref for ref in refs if ref not in has_parent}
    entries = []
    for ref in sorted(depends_on):
        entry = {"ref": ref}
        if depends_on[ref]:
            entry["dependsOn"] = sorted(depends_on[ref])
        entries.append(entry)
    return entries


def _metadata_bom(bundle: dict) -> Bom:
    scan = bundle.get("scan") or {}
    tool = bundle.get("tool") or {"name": "trusera", "version": "0.0.0"}
    provenance = {
        "scan_id": scan.get("id"),
        "organization_id": scan.get("organization_id"),
        "scan_status": scan.get("status"),
        "scan_deep": scan.get("deep"),
        "scan_created_at": scan.get("created_at"),
        "scan_started_at": scan.get("started_at"),
        "scan_finished_at": scan.get("finished_at"),
    }
    metadata = BomMetaData(
        timestamp=generated_at(bundle),
        tools=ToolRepository(
            components=[Component(type=ComponentType.APPLICATION, name=tool["name"], version=tool["version"])]
        ),
        component=Component(
            bom_ref=ROOT_REF, type=ComponentType.APPLICATION, name=str(scan.get("target") or "scan target")
        ),
        properties=[
            Property(
                name=f"{PROPERTY_PREFIX}{key}",
                value=str(value).lower() if isinstance(value, bool) else str(value),
            )
            for key, value in provenance.items()
            if value is not None
        ],
    )
    serial = uuid.uuid5(SERIAL_NAMESPACE, str(scan.get("id") or scan.get("target") or ""))
    return Bom(serial_number=serial, metadata=metadata)


def render(bundle: dict) -> bytes:
    components, services, refs = [], [], []
    for component in bundle.get("components") or []:
        refs.append(component["id"])
        if component["type"] in SERVICE_TYPES:
            services.append(_serialize(_library_service(component)))
            continue
        serialized = _serialize(_library_component(component))
        _sort_occurrences(serialized)
        if component["type"] == "model":
            card = model_card(component)
            if card:
                serialized["modelCard"] = card
        components.append(serialized)
    document = json.loads(JsonV1Dot6(_metadata_bom(bundle)).output_as_string())
    document["components"] = components
    if services:
        document["services"] = services
    document["dependencies"] = _dependencies(bundle, refs)
    return json.dumps(document, ensure_ascii=False).encode("utf-8")

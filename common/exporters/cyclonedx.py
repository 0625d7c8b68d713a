"""CycloneDX 1.6 JSON, defined by cyclonedx-python-lib's object model.

:func:`library_component` and :func:`library_service` map a component onto the library's
model objects; that mapping is the definition. Rendering 20,000 of them through the
library's serializer takes ~10 s (py-serializable inspects every property of every object), so
:func:`component_json` and :func:`service_json` write the same JSON directly, and a test holds
the two equal for every component type. The metadata is still serialized by the library. The
document is assembled here rather than through ``JsonV1Dot6(Bom)`` because ``Bom.validate()``
registers each dependency entry with a linear search (quadratic at 20,000 components); our
bom-refs are already unique component ids, so the dependency graph is written once.

The library has no model card class; model cards are added to ``machine-learning-model``
components as the 1.6 schema defines them. Compliance results and attestations are the 1.6
``definitions`` and ``declarations`` (see :mod:`common.exporters.cyclonedx_declarations`).
"""

from __future__ import annotations

import json
import re
import uuid

from cyclonedx.exception.model import InvalidUriException
from cyclonedx.model import HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentScope, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.service import Service
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6

from common.exporters.bundle import generated_at
from common.exporters.cyclonedx_declarations import declarations
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


def library_component(component: dict) -> Component:
    """The component as the library's model object: the reference that :func:`component_json` matches."""
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


# what anyURI forbids in a URL the scanner read from code: a ``%`` that escapes nothing (a template's
# ``/models/%s:generateContent``) and a second ``#``
STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def endpoint_uri(url: str | None) -> XsUri | None:
    """A service endpoint as CycloneDX's anyURI: a URL template's stray ``%`` and extra ``#`` percent-
    encoded, so one odd URL in the code does not fail the whole export; None where there is none."""
    if not url:
        return None
    head, mark, fragment = STRAY_PERCENT.sub("%25", url).partition("#")
    try:
        return XsUri(head + mark + fragment.replace("#", "%23"))
    except InvalidUriException:
        return None


def library_service(component: dict) -> Service:
    """The endpoint as the library's model object: the reference that :func:`service_json` matches."""
    url = (component.get("metadata") or {}).get("url")
    return Service(
        bom_ref=component["id"],
        name=component["name"],
        version=component.get("version") or None,
        provider=_supplier(component),
        endpoints=[uri] if (uri := endpoint_uri(url)) else None,
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
        **{f"source_{key}": value for key, value in (scan.get("source") or {}).items()},
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


def _property_json(properties: list[Property]) -> list[dict]:
    """Sorted by name then value, as the library's sorted set orders them."""
    return [
        {"name": p.name, "value": p.value} for p in sorted(properties, key=lambda p: (p.name, p.value or ""))
    ]


def _occurrences_json(component: dict) -> list[dict]:
    """De-duplicated like the library's set, in file and line order so one scan always exports
    the same bytes (the library orders by an unset bom-ref, which differs from run to run)."""
    unique = set()
    for loc in component.get("locations") or []:
        unique.add((loc["file"], loc.get("line") or 0, loc.get("snippet") or ""))
    occurrences = []
    for location, line, context in sorted(unique):
        entry: dict = {"location": location}
        if line:
            entry["line"] = line
        if context:
            entry["additionalContext"] = context
        occurrences.append(entry)
    return occurrences


def component_json(component: dict) -> dict:
    """The JSON the library writes for :func:`library_component` (tests hold the two equal),
    written directly: the library's serializer costs ~0.5 ms a component, too slow for 20,000."""
    document: dict = {"bom-ref": component["id"]}
    occurrences = _occurrences_json(component)
    if occurrences:
        document["evidence"] = {"occurrences": occurrences}
    sha256 = (component.get("metadata") or {}).get("sha256")
    if sha256:
        document["hashes"] = [{"alg": HashAlgorithm.SHA_256.value, "content": sha256}]
    if component["type"] == "model":
        card = model_card(component)
        if card:
            document["modelCard"] = card
    document["name"] = component["name"]
    document["properties"] = _property_json(_properties(component))
    purl = purl_for(component)
    if purl is not None:
        document["purl"] = purl.to_string()
    if component.get("scope") == "test":
        document["scope"] = ComponentScope.EXCLUDED.value
    if component.get("provider"):
        document["supplier"] = {"name": component["provider"]}
    document["type"] = COMPONENT_TYPES.get(component["type"], ComponentType.APPLICATION).value
    if component.get("version"):
        document["version"] = component["version"]
    return document


def service_json(component: dict) -> dict:
    """The JSON the library writes for :func:`library_service`, written directly (see above)."""
    document: dict = {"bom-ref": component["id"]}
    url = (component.get("metadata") or {}).get("url")
    if uri := endpoint_uri(url):
        document["endpoints"] = [str(uri)]
    document["name"] = component["name"]
    document["properties"] = _property_json(_properties(component))
    if component.get("provider"):
        document["provider"] = {"name": component["provider"]}
    if component.get("version"):
        document["version"] = component["version"]
    return document


def render(bundle: dict) -> bytes:
    components, services, refs = [], [], []
    for component in bundle.get("components") or []:
        refs.append(component["id"])
        if component["type"] in SERVICE_TYPES:
            services.append(service_json(component))
        else:
            components.append(component_json(component))
    document = json.loads(JsonV1Dot6(_metadata_bom(bundle)).output_as_string())
    document["components"] = components
    if services:
        document["services"] = services
    document["dependencies"] = _dependencies(bundle, refs)
    compliance = declarations(bundle, ROOT_REF)
    if compliance is not None:
        document["definitions"], document["declarations"] = compliance
    return json.dumps(document, ensure_ascii=False).encode("utf-8")

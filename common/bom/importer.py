"""Results uploaded from CI, turned into the engine's wire form so ingestion treats them like a scan.

Two documents are accepted:

- the CLI's own result (``trusera scan --format json``), validated against
  ``data/trusera-result.schema.json``;
- a CycloneDX 1.6 JSON BOM, validated against the official schema (cyclonedx-python-lib's strict
  validator). A BOM this platform exported keeps its components exactly (their ``trusera:``
  properties carry type, scores and flags); a BOM made by another tool is read for AI components:
  packages the scanner's catalog knows (by purl), machine-learning models, containers and services,
  scored by the same risk table as a native scan. Everything else in it is counted, not imported.

Checking an upload is split by cost (docs/security.md, "Uploaded BOMs"): the API decides only what
``common.bom.upload.upload_format`` reads off the document's top level; ``import_document`` runs the
schema and the conversion, which cost microseconds per JSON value, in the ingest worker. Its errors never
quote the uploaded values: they become the scan's error, which every member and webhook of the
organization reads.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from common.bom import iri_grammar
from common.bom.upload import UploadInvalid, quoted, upload_format

iri_grammar.defer()  # before jsonschema imports rfc3987_syntax, whose grammar no check here uses

import jsonschema  # noqa: E402
from cyclonedx.schema import SchemaVersion  # noqa: E402
from cyclonedx.schema._res import BOM_JSON_STRICT, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON  # noqa: E402
from referencing import Registry  # noqa: E402
from referencing.jsonschema import DRAFT7  # noqa: E402

from common.scanner.catalog import lookup_package, match_model, normalize_pypi  # noqa: E402
from common.scanner.engine import fingerprint  # noqa: E402
from common.scanner.model import COMPONENT_TYPES, SCOPES, SEVERITIES, Component, Location  # noqa: E402
from common.scanner.risk import score_component  # noqa: E402

RESULT_SCHEMA = Path(__file__).parent / "data" / "trusera-result.schema.json"
PROPERTY_PREFIX = "trusera:"
MAX_ERRORS = 20
MAX_COMPONENTS = 50_000
# dependency references (each entry's ``ref`` and its ``dependsOn``) in one BOM: four per component at the
# limit. Counted before the schema runs, which costs ~50 us per reference (a 50 MB upload of them, 150 s).
MAX_DEPENDENCY_REFS = 4 * MAX_COMPONENTS
# Validators and the component walk recurse; real BOMs nest a few levels, so this bounds them cheaply.
MAX_NESTING = 64
# purl type -> the catalog's ecosystem name
PURL_ECOSYSTEMS = {
    "pypi": "pypi",
    "npm": "npm",
    "maven": "maven",
    "golang": "go",
    "cargo": "cargo",
    "gem": "gem",
    "nuget": "nuget",
}
FIELD_SIZES = {"provider": 100, "version": 200, "model_name": 300, "detector": 100}
CYCLONEDX_TYPES = {"machine-learning-model": "model", "container": "container"}


def import_document(document) -> tuple[str, dict]:
    """``(format, result)``: the format detected (``trusera`` or ``cyclonedx``) and the wire-form result."""
    source_format = upload_format(document)
    if _nesting(document) > MAX_NESTING:
        raise UploadInvalid("The upload is nested too deeply.", {"_body": [f"At most {MAX_NESTING} levels."]})
    if source_format == "cyclonedx":
        return source_format, _from_cyclonedx(document)
    return source_format, _from_cli_result(document)


def _nesting(document) -> int:
    """The deepest level of lists and objects, measured without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_NESTING:
                break
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _path(error: jsonschema.ValidationError) -> str:
    return quoted(".".join(str(part) for part in error.absolute_path)) or "_body"


# Rules whose expectation (from the schema, never the upload) reads as "must be <rule> <expected>".
EXPECTATIONS = {
    "type": "of type",
    "enum": "one of",
    "const": "exactly",
    "pattern": "matching",
    "format": "a valid",
    "minLength": "at least this long:",
    "maxLength": "at most this long:",
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "more than",
    "exclusiveMaximum": "less than",
    "minItems": "a list of at least",
    "maxItems": "a list of at most",
}


def _rule_broken(error: jsonschema.ValidationError) -> str:
    """What the schema asks there, in its own words. jsonschema's messages quote the uploaded value, which
    may be a secret, and this text is stored and shown as the scan's error."""
    rule, expected = error.validator, error.validator_value
    if rule == "required":
        missing = [
            name for name in expected if isinstance(error.instance, dict) and name not in error.instance
        ]
        return quoted(f"requires {', '.join(map(repr, missing or expected))}")
    if rule in EXPECTATIONS:
        return quoted(f"must be {EXPECTATIONS[rule]} {expected!r}")
    if rule == "additionalProperties":
        return "has a property its schema does not allow"
    if rule == "uniqueItems":
        return error.message  # ``_unique_items``'s own: it names the item's index, not its value
    return f"does not match its schema ({rule!r})"


def _raise_schema_errors(errors, what: str) -> None:
    collected: dict[str, list[str]] = {}
    for error in errors:
        collected.setdefault(_path(error), []).append(_rule_broken(error))
        if len(collected) >= MAX_ERRORS:
            break
    if collected:
        raise UploadInvalid(f"The {what} does not match its schema.", collected)


@cache
def _result_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(RESULT_SCHEMA.read_text(encoding="utf-8")))


def _unique_items(validator, unique: bool, instance, _schema):
    """``uniqueItems`` in linear time: jsonschema compares every pair of objects, which took five minutes
    for a 5,000-component BOM. Items are compared by their canonical JSON."""
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[str] = set()
    for index, item in enumerate(instance):
        key = json.dumps(item, sort_keys=True, separators=(",", ":"))
        if key in seen:
            yield jsonschema.ValidationError(f"Item {index} repeats an earlier item; items must be unique.")
            return
        seen.add(key)


@cache
def _cyclonedx_validator() -> jsonschema.Draft7Validator:
    """The official CycloneDX 1.6 strict schema and its referenced schemas, as cyclonedx-python-lib's
    validator loads them, with a linear ``uniqueItems``."""
    prefix = "http://cyclonedx.org/schema/"
    registry = Registry().with_resources(
        (prefix + Path(path).name, DRAFT7.create_resource(json.loads(Path(path).read_text(encoding="utf-8"))))
        for path in (SPDX_JSON, CRYPTOGRAPHY_DEFS, JSF)
    )
    validator_class = jsonschema.validators.extend(jsonschema.Draft7Validator, {"uniqueItems": _unique_items})
    schema = json.loads(Path(BOM_JSON_STRICT[SchemaVersion.V1_6]).read_text(encoding="utf-8"))
    return validator_class(schema, registry=registry, format_checker=_format_checker())


IRI_REFERENCE = re.compile(r"^[^\x00-\x20\x7f<>\"{}|\\^`]*$")


def _format_checker() -> jsonschema.FormatChecker:
    """Draft 7's format checks, with ``iri-reference`` as one linear pattern (no whitespace, controls or
    the characters RFC 3987 excludes): the full RFC 3987 grammar costs ~3 ms a value through an Earley
    parser, and a BOM has an IRI reference for every dependency edge."""
    formats = [name for name in jsonschema.Draft7Validator.FORMAT_CHECKER.checkers if name != "iri-reference"]
    checker = jsonschema.FormatChecker(formats)
    checker.checks("iri-reference")(
        lambda value: not isinstance(value, str) or bool(IRI_REFERENCE.match(value))
    )
    return checker


def _from_cli_result(document: dict) -> dict:
    _raise_schema_errors(_result_validator().iter_errors(document), "trusera result")
    components = document["components"]
    if len(components) > MAX_COMPONENTS:
        raise UploadInvalid("Too many components.", {"components": [f"At most {MAX_COMPONENTS}."]})
    return {
        "components": components,
        "relationships": document.get("relationships", []),
        "warnings": document.get("warnings", []),
        "files_scanned": document.get("files_scanned", 0),
    }


def _from_cyclonedx(document: dict) -> dict:
    if _dependency_refs(document) > MAX_DEPENDENCY_REFS:
        raise UploadInvalid(
            "Too many dependency references.", {"dependencies": [f"At most {MAX_DEPENDENCY_REFS} in all."]}
        )
    _raise_schema_errors(_cyclonedx_validator().iter_errors(document), "CycloneDX BOM")
    elements = list(_walk(document.get("components") or [])) + [
        (service, True) for service in document.get("services") or []
    ]
    if len(elements) > MAX_COMPONENTS:
        raise UploadInvalid("Too many components.", {"components": [f"At most {MAX_COMPONENTS}."]})
    components: dict[str, dict] = {}
    ref_to_id: dict[str, str] = {}
    skipped = 0
    for element, is_service in elements:
        component = _component_of(element, is_service)
        if component is None:
            skipped += 1
            continue
        component = _fitted(component)
        components.setdefault(component["id"], component)
        if element.get("bom-ref"):
            ref_to_id[element["bom-ref"]] = component["id"]
    # once per pair: many bom-refs may name one component (and one ref many entries), so the pairs of
    # refs repeated a pair of components; 8 MB of them were 450,000 edges held and stored as the payload
    pairs = {
        (ref_to_id[entry["ref"]], ref_to_id[target]): None
        for entry in document.get("dependencies") or []
        if entry.get("ref") in ref_to_id
        for target in entry.get("dependsOn") or []
        if target in ref_to_id and ref_to_id[target] != ref_to_id[entry["ref"]]
    }
    relationships = [
        {"source": source, "target": target, "relation": "depends_on"} for source, target in pairs
    ]
    warnings = []
    if skipped:
        warnings.append(
            {"file": "bom.json", "message": f"{skipped} BOM components are not AI components: not imported."}
        )
    return {
        "components": list(components.values()),
        "relationships": relationships,
        "warnings": warnings,
        "files_scanned": 0,
    }


def _dependency_refs(document: dict) -> int:
    """The references of the BOM's dependency graph, whatever their types (the schema has not run yet)."""
    entries = document.get("dependencies")
    if not isinstance(entries, list):
        return 0
    depends_on = (entry.get("dependsOn") for entry in entries if isinstance(entry, dict))
    return len(entries) + sum(len(targets) for targets in depends_on if isinstance(targets, list))


def _fitted(component: dict) -> dict:
    """Another tool's strings cut to our column sizes; an over-long bom-ref becomes a fingerprint."""
    if len(component["id"]) > 64:
        component["id"] = fingerprint(f"import-ref:{component['id']}")
    for key, size in FIELD_SIZES.items():
        if isinstance(component.get(key), str):
            component[key] = component[key][:size]
    return component


def _walk(components: list[dict]):
    for component in components:
        yield component, False
        yield from _walk(component.get("components") or [])


def _properties(element: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for prop in element.get("properties") or []:
        name = prop.get("name") or ""
        if name.startswith(PROPERTY_PREFIX):
            found.setdefault(name[len(PROPERTY_PREFIX) :], []).append(prop.get("value") or "")
    return found


def _locations(element: dict) -> list[dict]:
    occurrences = (element.get("evidence") or {}).get("occurrences") or []
    return [
        {"file": o["location"], "line": int(o.get("line") or 0), "snippet": o.get("additionalContext") or ""}
        for o in occurrences
    ]


def _component_of(element: dict, is_service: bool) -> dict | None:
    props = _properties(element)
    if props.get("type"):
        return _trusera_component(element, props)
    return _foreign_component(element, is_service)


def _trusera_component(element: dict, props: dict[str, list[str]]) -> dict | None:
    """A component this platform exported: its properties say everything the engine knew."""
    kind = props["type"][0]
    if kind not in COMPONENT_TYPES:
        return None
    first = {key: values[0] for key, values in props.items()}
    risk_factors = []
    for value in props.get("risk_factor", []):
        factor, _, rest = value.partition(":")
        points, _, reason = rest.partition(": ")
        risk_factors.append({"factor": factor, "points": _exported_integer(points), "reason": reason})
    metadata = {}
    for digest in element.get("hashes") or []:
        if digest.get("alg") == "SHA-256":
            metadata["sha256"] = digest["content"]
    if element.get("endpoints"):
        metadata["url"] = element["endpoints"][0]
    score = first.get("risk_score", "0")
    return {
        "id": element.get("bom-ref")
        or fingerprint(f"import:{kind}:{element['name']}:{element.get('version') or ''}"),
        "name": element["name"],
        "type": kind,
        "provider": first.get("provider"),
        "version": element.get("version"),
        "model_name": first.get("model_name"),
        "locations": _locations(element),
        "flags": sorted(set(props.get("flag", []))),
        "risk_score": max(0, min(100, _exported_integer(score))),
        "severity": first.get("severity") if first.get("severity") in SEVERITIES else "info",
        "risk_factors": risk_factors,
        "detector": first.get("detector") or "cyclonedx-import",
        "confidence": _confidence(first.get("confidence")),
        "scope": first.get("scope") if first.get("scope") in SCOPES else "production",
        "metadata": metadata,
    }


EXPORTED_INTEGER = re.compile(r"-?[0-9]{1,9}")


def _exported_integer(text: str) -> int:
    """An integer property as this platform exports it, else 0. ``str.isdigit`` says yes to what ``int``
    refuses (a superscript digit; a doubled minus once stripped), and its ``ValueError`` quoted the value
    and left the upload's scan running."""
    return int(text) if EXPORTED_INTEGER.fullmatch(text) else 0


def _confidence(value: str | None) -> float:
    try:
        return max(0.0, min(1.0, float(value))) if value is not None else 1.0
    except ValueError:
        return 1.0


def _foreign_component(element: dict, is_service: bool) -> dict | None:
    """An AI component of a BOM made by another tool, found the way the scanner finds packages."""
    name, version = element["name"], element.get("version")
    provider, model_name, kind = None, None, None
    if is_service:
        kind = "endpoint"
        provider = (element.get("provider") or {}).get("name")
    elif element.get("type") in CYCLONEDX_TYPES:
        kind = CYCLONEDX_TYPES[element["type"]]
        if kind == "model":
            info = match_model(name)
            model_name, provider = name, info.provider if info else None
    else:
        package = _catalog_package(element.get("purl") or "")
        if package is None:
            return None
        kind, provider, name = package.type, package.provider, package.id
    component = Component(
        id=fingerprint(f"import:{kind}:{name}:{version or ''}"),
        name=name,
        type=kind,
        provider=provider,
        version=version,
        model_name=model_name,
        locations=[Location(o["file"], o["line"], o["snippet"]) for o in _locations(element)],
        detector="cyclonedx-import",
        scope="test" if element.get("scope") == "excluded" else "production",
        metadata={"purl": element["purl"]} if element.get("purl") else {},
    )
    score_component(component)
    return component.to_dict()


def _catalog_package(purl: str):
    if not purl.startswith("pkg:"):
        return None
    kind, _, rest = purl[4:].partition("/")
    path = rest.split("@", 1)[0].split("?", 1)[0]
    ecosystem = PURL_ECOSYSTEMS.get(kind.lower())
    if ecosystem is None or not path:
        return None
    path = unquote(path)
    if ecosystem == "pypi":
        return lookup_package("pypi", normalize_pypi(path))
    if ecosystem == "maven":
        return lookup_package("maven", path.replace("/", ":"))
    return lookup_package(ecosystem, path)

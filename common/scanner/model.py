"""The one component model every detector, the API, the exporters and the compliance engine share.

The wire form (``to_dict``) is what the ``scans`` worker posts to
``/internal/scans/:id/result`` and what the ``ingest`` task stores, so changing a
field here is a contract change for the whole platform.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields

import orjson

from common.scanner.display import utf8_clean
from common.scanner.redaction import clip, mask_text

COMPONENT_TYPES = (
    "llm_provider",
    "agent_framework",
    "model",
    "endpoint",
    "container",
    "tool",
    "mcp_server",
    "mcp_client",
    "workflow",
    "vector_db",
    "ml_framework",
    "model_file",
    "cloud_resource",
)

SEVERITIES = ("info", "low", "medium", "high", "critical")

SCOPES = ("production", "test")


@dataclass(frozen=True)
class Location:
    file: str  # path relative to the scan root, POSIX separators
    line: int  # 1-based; 0 when the finding is about the whole file
    snippet: str = ""  # masked, then cut to SNIPPET_CHARS, on construction

    def __post_init__(self) -> None:
        object.__setattr__(self, "snippet", clip(self.snippet))

    def to_dict(self) -> dict:
        # by hand: ``asdict`` walks and deep-copies generically, and a report renders every location
        # several times
        return {
            "file": utf8_clean(self.file),
            "line": utf8_clean(self.line),
            "snippet": utf8_clean(self.snippet),
        }


@dataclass
class RiskFactor:
    factor: str  # the flag or condition that contributed
    points: int
    reason: str

    def to_dict(self) -> dict:
        return {"factor": self.factor, "points": self.points, "reason": self.reason}


@dataclass
class Component:
    id: str  # stable fingerprint: same component in two scans of the same tree -> same id
    name: str
    type: str  # one of COMPONENT_TYPES
    provider: str | None = None
    version: str | None = None
    model_name: str | None = None
    locations: list[Location] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    risk_score: int = 0  # 0-100
    severity: str = "info"  # one of SEVERITIES
    risk_factors: list[RiskFactor] = field(default_factory=list)
    detector: str = ""
    confidence: float = 1.0  # 0.0-1.0
    scope: str = "production"  # one of SCOPES
    metadata: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        # field by field, each value cleaned once: ``asdict`` deep-copies every location and string
        # through its generic path, and a report renders each component several times (``utf8_clean``
        # copies the containers it walks, as ``asdict`` did)
        data = dict.fromkeys(_COMPONENT_FIELDS)  # the fields' order
        for name in _PLAIN_COMPONENT_FIELDS:
            data[name] = utf8_clean(getattr(self, name))
        data["locations"] = [loc.to_dict() for loc in self.locations]
        data["flags"] = utf8_clean(list(self.flags))
        data["risk_factors"] = [utf8_clean(rf.to_dict()) for rf in self.risk_factors]
        return data


_COMPONENT_FIELDS = tuple(f.name for f in fields(Component))
_PLAIN_COMPONENT_FIELDS = tuple(
    name for name in _COMPONENT_FIELDS if name not in ("locations", "flags", "risk_factors")
)


@dataclass(frozen=True)
class Relationship:
    """An edge of the dependency graph.

    ``source``/``target`` are component ids, or ``file:<relative path>`` for the
    file and manifest nodes that are not components themselves.
    """

    source: str
    target: str
    relation: str  # declares, contains, uses_model, uses_tool, calls, has_node, ...

    def to_dict(self) -> dict:
        return {
            "source": utf8_clean(self.source),
            "target": utf8_clean(self.target),
            "relation": utf8_clean(self.relation),
        }


@dataclass
class ScanWarning:
    file: str
    message: str

    def __post_init__(self) -> None:
        self.message = mask_text(self.message)

    def to_dict(self) -> dict:
        return utf8_clean(asdict(self))


@dataclass
class ScanResult:
    components: list[Component] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    warnings: list[ScanWarning] = field(default_factory=list)
    files_scanned: int = 0
    bytes_scanned: int = 0
    duration_ms: int = 0

    def to_dict(self) -> dict:
        return {
            "components": [c.to_dict() for c in self.components],
            "relationships": [r.to_dict() for r in self.relationships],
            "warnings": [w.to_dict() for w in self.warnings],
            "files_scanned": self.files_scanned,
            "bytes_scanned": self.bytes_scanned,
            "duration_ms": self.duration_ms,
        }


def storable_text(value):
    """``value`` (a ``to_dict()`` tree) with every string valid Unicode text that PostgreSQL stores.

    File names that are not UTF-8 travel through the engine as surrogate escapes (``os.fsdecode``),
    which JSON columns and most encoders refuse; here each undecodable byte becomes a visible
    ``\\xNN`` escape, so the name is stored and shown instead of failing the whole result. So does a
    lone surrogate a posted JSON text wrote as an escape, and NUL, which no PostgreSQL text or ``jsonb``
    value can hold (a line of a scanned file, a name in an uploaded result)."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\\x00")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            try:
                return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            except UnicodeEncodeError:
                return value.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")
        return value
    if isinstance(value, dict):
        return {storable_text(key): storable_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable_text(item) for item in value]
    return value


# The escapes of NUL and of surrogates, the only ways a UTF-8 JSON text can write either.
UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD])")


def may_hold_unstorable_text(body: bytes) -> bool:
    """Whether a UTF-8 JSON text can decode to a string ``storable_text`` would change (a paired surrogate
    escape answers True too, harmlessly). One regular-expression pass: ~2 ms for a 7 MB result."""
    return UNSTORABLE_ESCAPE.search(body) is not None


# Column limits of the stored component (common/models/scans.py): longer values fail the insert.
COMPONENT_TEXT_LIMITS = {
    "id": 64,
    "type": 40,
    "provider": 100,
    "version": 200,
    "model_name": 300,
    "detector": 100,
}


def component_problem(component) -> str | None:
    """Why the platform cannot store one wire-form component, or None when it can."""
    if not isinstance(component, dict):
        return "not an object"
    for key in ("id", "name", "type"):
        value = component.get(key)
        if not isinstance(value, str) or not value.strip():
            return f"'{key}' must be a non-empty string"
    if component["type"] not in COMPONENT_TYPES:
        return f"unknown type '{component['type']}'"
    for key, limit in COMPONENT_TEXT_LIMITS.items():
        value = component.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            return f"'{key}' must be a string of at most {limit} characters"
    for key in ("locations", "flags", "risk_factors"):
        if not isinstance(component.get(key) or [], list):
            return f"'{key}' must be a list"
    if not isinstance(component.get("metadata") or {}, dict):
        return "'metadata' must be an object"
    if component.get("severity", "info") not in SEVERITIES:
        return f"unknown severity '{component.get('severity')}'"
    if component.get("scope", "production") not in SCOPES:
        return f"unknown scope '{component.get('scope')}'"
    score, confidence = component.get("risk_score", 0), component.get("confidence", 1.0)
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        return "'risk_score' must be an integer from 0 to 100"
    if not is_finite_number(confidence):
        return "'confidence' must be a finite number"
    return None


def is_finite_number(value: object) -> bool:
    """A number a float column and every JSON client can hold: not a boolean, NaN or an infinity (which
    are not JSON), nor an integer past a float's range (``math.isfinite`` raises on one, and a JSON body
    may carry one of up to 4300 digits)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def split_components(components: list, *, check_nesting: bool = False) -> tuple[list[dict], list[dict]]:
    """(the components the platform can store, one scan warning per rejected component with the
    reason), so one bad component never fails a whole scan. ``check_nesting``: also set aside those
    nested deeper than ``MAX_VALUE_NESTING`` (a walk of each: only when something may be)."""
    valid, rejected = [], []
    for index, component in enumerate(components):
        problem = component_problem(component)
        if problem is None and check_nesting and nested_deeper_than(component, MAX_VALUE_NESTING):
            problem = f"nested deeper than {MAX_VALUE_NESTING} levels"
        if problem is None:
            valid.append(component)
            continue
        label = component.get("name") if isinstance(component, dict) else None
        locations = component.get("locations") if isinstance(component, dict) else None
        first = (
            locations[0]
            if isinstance(locations, list) and locations and isinstance(locations[0], dict)
            else {}
        )
        file = first.get("file") if isinstance(first.get("file"), str) else ""
        rejected.append(
            {"file": file, "message": f"component {index} ({label or 'unnamed'!s:.80}) rejected: {problem}"}
        )
    return valid, rejected


FILE_NODE_PREFIX = "file:"
# The columns of ``scan_relationships``: an edge's ends and its relation.
MAX_EDGE_END, MAX_RELATION = 600, 50


def edge_problem(edge) -> tuple[str, str] | None:
    """``(field, reason)`` when the platform cannot store ``edge`` as it is, whatever it names (field ``""``:
    the edge itself); None when it can."""
    if type(edge) is dict:
        source, target, relation = edge.get("source"), edge.get("target"), edge.get("relation")
        if (
            type(source) is str
            and type(target) is str
            and type(relation) is str
            and 0 < len(source) <= MAX_EDGE_END
            and 0 < len(target) <= MAX_EDGE_END
            and 0 < len(relation) <= MAX_RELATION
        ):
            return None
    elif not isinstance(edge, dict):
        return "", "Expected an object."
    for name, length in (("source", MAX_EDGE_END), ("target", MAX_EDGE_END), ("relation", MAX_RELATION)):
        value = edge.get(name)
        if not isinstance(value, str) or not value:
            return name, "Must be a non-empty string."
        if len(value) > length:
            return name, f"At most {length} characters."
    return None


def _all_storable(edges: list, kept_ids: set) -> bool:
    """Whether every edge can be stored as it is: well formed (``edge_problem``), each end a kept component
    or a file. One loop: a large result has tens of thousands of edges."""
    for edge in edges:
        if edge_problem(edge) is not None:
            return False
        source, target = edge["source"], edge["target"]
        if not (source in kept_ids or source.startswith(FILE_NODE_PREFIX)):
            return False
        if not (target in kept_ids or target.startswith(FILE_NODE_PREFIX)):
            return False
    return True


# orjson encodes 254 levels of containers; a component or a warning sits two below a result's root. Ingest
# masks every value recursively, and a value nested much deeper exhausts Python's recursion limit there.
MAX_VALUE_NESTING = 252


def nested_deeper_than(value, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels in ``value`` (itself one): no recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        for child in item.values() if type(item) is dict else item if type(item) is list else ():
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False


def _nested_too_deep(components: list, warnings: list) -> bool:
    """Whether any component or warning may nest deeper than ``MAX_VALUE_NESTING``. orjson answers first,
    in C (~10 ms for 20,000 components); only what it refuses (too deep, or an integer past 64 bits,
    stored all the same) is walked."""
    try:
        orjson.dumps([components, warnings])
    except orjson.JSONEncodeError:
        return any(nested_deeper_than(item, MAX_VALUE_NESTING) for item in (*components, *warnings))
    return False


def _shallow_warning(warning):
    if nested_deeper_than(warning, MAX_VALUE_NESTING):
        return {"file": "", "message": f"a warning nested deeper than {MAX_VALUE_NESTING} levels was dropped"}
    return warning


def keep_storable_components(payload: dict) -> dict:
    """``payload`` with only the components the platform can store. One bad component never fails a scan:
    each rejected one becomes a scan warning with the reason, and the edges that name a rejected
    component, or no component of the result at all, are dropped with one warning for each reason that
    counts them (an edge to nothing would show in the graph). An edge's end may be a file (``file:<path>``),
    as the scanner writes them. Malformed edges are refused by the API (422); one in a result stored before
    it did is dropped here too, so ingest never meets one. A component or warning nested deeper than
    ``MAX_VALUE_NESTING`` is set aside or dropped too: ingest could not mask it."""
    components = payload.get("components") or []
    warnings = payload.get("warnings") or []
    too_deep = _nested_too_deep(components, warnings)
    if too_deep:
        warnings = [_shallow_warning(warning) for warning in warnings]
    valid, rejected = split_components(components, check_nesting=too_deep)
    kept_ids = {c["id"] for c in valid}
    edges = payload.get("relationships") or []
    if not too_deep and not rejected and _all_storable(edges, kept_ids):
        return payload
    dropped_ids = {c.get("id") for c in components if isinstance(c, dict) and c.get("id") not in kept_ids}
    relationships, malformed, to_rejected, to_unknown = [], 0, 0, 0
    for edge in edges:
        if _all_storable((edge,), kept_ids):
            relationships.append(edge)
        elif edge_problem(edge) is not None:
            malformed += 1
        elif edge["source"] in dropped_ids or edge["target"] in dropped_ids:
            to_rejected += 1
        else:
            to_unknown += 1
    warnings = [*warnings, *rejected]
    for count, reason in (
        (malformed, "are malformed"),
        (to_rejected, "name a component set aside"),
        (to_unknown, "name no component of the result"),
    ):
        if count:
            warnings.append({"file": "", "message": f"{count} relationship(s) dropped: they {reason}"})
    return {**payload, "components": valid, "relationships": relationships, "warnings": warnings}

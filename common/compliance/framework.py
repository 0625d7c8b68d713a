"""Framework data model: controls and the declarative checks that decide them.

A framework is a YAML file under ``frameworks/``; this module turns one into
:class:`Framework` objects (validating every condition and status on load, so a
bad data file fails at start-up, not during an audit) and runs its checks on a
:class:`ScanContext`.

A check is one of:
- a **component check**: ``applies_to`` (which components are in scope; all by
  default) and ``hit`` (a condition) and/or ``linked`` (a graph predicate: the
  component has a relationship to a component matching ``to``). Hits are the
  in-scope components that satisfy both.
- a **threshold check**: ``metric``, ``operator``, ``value`` over the scan
  summary (see :mod:`common.compliance.metrics`); a hit is the threshold holding.
  A scan without components counts as empty for it too: judging the security
  of nothing is not a pass.

``on_hit`` / ``on_clean`` / ``when_empty`` map the outcome to a status. A
control's status is the worst of its checks' (fail > warning > pass >
no_indicator > not_applicable). ``no_indicator`` is what a weak proxy answers
when clean: the scan saw nothing, which is not evidence of compliance.

A control may be ``assessment: manual`` (a process or documentation control):
only human evidence satisfies it, so it is ``manual`` and its checks are
indicators that can raise at most a warning. ``applicability`` names the AI
system profile it binds (role, risk class, general-purpose model provider):
until the profile says so, a failure is only a warning that "applies if …".
``obligation`` gives the date it applies from, its source and any pending
amendment (a note with its date, never applied as law).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from common.compliance.conditions import ComponentTable, Condition, compile_condition, validate_condition
from common.compliance.metrics import COMPARISONS, Metric, metric_errors, parse_metric, threshold_errors

STATUSES = ("pass", "fail", "warning", "no_indicator", "not_applicable")
CONTROL_STATUSES = ("pass", "fail", "warning", "no_indicator", "manual", "not_applicable")
EVALUATED_STATUSES = ("pass", "fail", "warning")
STATUS_RANK = {"not_applicable": 0, "no_indicator": 1, "pass": 2, "warning": 3, "fail": 4}
ASSESSMENTS = ("automated", "manual")
ROLES = ("provider", "deployer", "importer", "distributor")
RISK_CLASSES = ("prohibited_screening", "high_risk", "limited", "minimal")
APPLICABILITY_KEYS = {"roles", "risk_classes", "places_gpai_model", "condition"}
OBLIGATION_KEYS = {"applies_from", "source", "amendments"}
AMENDMENT_KEYS = {"date", "status", "note", "source"}
DIRECTIONS = ("out", "in", "any")
TEMPLATE_FIELDS = ("hits", "in_scope", "value", "threshold")
CHECK_KEYS = {
    "description",
    "applies_to",
    "hit",
    "linked",
    "metric",
    "operator",
    "value",
    "on_hit",
    "on_clean",
    "when_empty",
    "message",
    "clean_message",
    "empty_message",
}
CONTROL_KEYS = {
    "id",
    "title",
    "reference",
    "description",
    "checks",
    "remediation",
    "limitations",
    "assessment",
    "evidence_required",
    "applicability",
    "obligation",
}
FRAMEWORK_KEYS = {"id", "name", "version", "revision", "source", "description", "definitions", "controls"}


class FrameworkDataError(ValueError):
    """A framework data file that does not describe a valid framework; names every bad path."""

    def __init__(self, origin: str, errors: dict[str, list[str]]):
        self.errors = errors
        details = "; ".join(f"{path}: {', '.join(messages)}" for path, messages in errors.items())
        super().__init__(f"{origin}: {details}")


class ScanContext:
    """One scan as the checks see it: component table, summary and relationship graph."""

    def __init__(
        self,
        components: list,
        summary: object,
        relationships: list | None,
        table: ComponentTable | None = None,
    ):
        self.table = table if table is not None else ComponentTable(components)
        self.summary = summary if isinstance(summary, dict) else {}
        self.relationships = relationships if isinstance(relationships, list) else []

    @cached_property
    def edges(self) -> list[tuple[int, int, str]]:
        """Relationships between two components of the scan, as (source row, target row, relation)."""
        row_of = {self.table.component_id(row): row for row in range(len(self.table))}
        edges = []
        for edge in self.relationships:
            if not isinstance(edge, dict):
                continue
            source, target = row_of.get(edge.get("source")), row_of.get(edge.get("target"))
            if source is not None and target is not None:
                edges.append((source, target, str(edge.get("relation", ""))))
        return edges


@dataclass(frozen=True)
class Linked:
    """Graph predicate: a component related (by one of ``relations``, any if empty) to one matching ``to``."""

    to: Condition
    relations: frozenset[str]
    direction: str

    def select(self, context: ScanContext) -> frozenset[int]:
        targets = self.to.select(context.table)
        found = set()
        for source, target, relation in context.edges:
            if self.relations and relation not in self.relations:
                continue
            if self.direction in ("out", "any") and target in targets:
                found.add(source)
            if self.direction in ("in", "any") and source in targets:
                found.add(target)
        return frozenset(found)


@dataclass(frozen=True)
class CheckOutcome:
    status: str
    message: str
    hits: frozenset[int]
    in_scope: frozenset[int]


@dataclass(frozen=True)
class Check:
    definition: dict  # the data as written, shown in the catalog
    on_hit: str
    on_clean: str
    when_empty: str
    message: str
    clean_message: str
    empty_message: str
    applies_to: Condition | None = None
    hit: Condition | None = None
    linked: Linked | None = None
    metric: Metric | None = None

    def run(self, context: ScanContext) -> CheckOutcome:
        if self.metric is not None:
            return self._run_threshold(context)
        table = context.table
        in_scope = self.applies_to.select(table) if self.applies_to else table.all_rows
        if not in_scope:
            return CheckOutcome(self.when_empty, self.empty_message, frozenset(), in_scope)
        hits = in_scope
        if self.hit is not None:
            hits = hits & self.hit.select(table)
        if self.linked is not None and hits:
            hits = hits & self.linked.select(context)
        numbers = {"hits": len(hits), "in_scope": len(in_scope)}
        if hits:
            return CheckOutcome(self.on_hit, self.message.format(**numbers), hits, in_scope)
        return CheckOutcome(self.on_clean, self.clean_message.format(**numbers), hits, in_scope)

    def _run_threshold(self, context: ScanContext) -> CheckOutcome:
        if not len(context.table):
            return CheckOutcome(self.when_empty, self.empty_message, frozenset(), frozenset())
        value = self.metric.value(context.summary, context.table)
        threshold = self.definition["value"]
        evidence = self.metric.evidence(context.table)
        numbers = {
            "value": _plain_number(value),
            "threshold": threshold,
            "hits": len(evidence),
            "in_scope": len(evidence),
        }
        if COMPARISONS[self.definition["operator"]](value, threshold):
            return CheckOutcome(self.on_hit, self.message.format(**numbers), evidence, evidence)
        return CheckOutcome(self.on_clean, self.clean_message.format(**numbers), frozenset(), evidence)


def _plain_number(value: float) -> int | float:
    return int(value) if value == int(value) else value


@dataclass(frozen=True)
class Applicability:
    """Which AI system profile a control binds; an empty field binds every value of it."""

    roles: frozenset[str]
    risk_classes: frozenset[str]
    places_gpai_model: bool | None
    condition: str  # "the organization is the provider of a high-risk AI system"

    def decide(self, profile: dict | None) -> str:
        """``applies``, ``does_not_apply`` or ``unknown`` (the profile leaves a deciding field open)."""
        profile = profile or {}
        answers = []
        if self.roles:
            answers.append(None if profile.get("role") is None else profile["role"] in self.roles)
        if self.risk_classes:
            risk = profile.get("risk_class")
            answers.append(None if risk is None else risk in self.risk_classes)
        if self.places_gpai_model is not None:
            gpai = profile.get("places_gpai_model")
            answers.append(None if gpai is None else gpai == self.places_gpai_model)
        if False in answers:
            return "does_not_apply"
        return "unknown" if None in answers else "applies"


@dataclass(frozen=True)
class ControlOutcome:
    status: str
    message: str
    rows: frozenset[int]
    applicability: str | None = None  # applies / does_not_apply / unknown, for controls bound to a profile


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    reference: str
    description: str
    checks: tuple[Check, ...]
    remediation: str
    limitations: str
    assessment: str = "automated"
    evidence_required: str = ""
    applicability: Applicability | None = None
    obligation: dict | None = None

    @property
    def applies_from(self) -> date | None:
        return date.fromisoformat(self.obligation["applies_from"]) if self.obligation else None

    def _not_yet_applicable(self, on: date | None) -> bool:
        return self.applies_from is not None and on is not None and on < self.applies_from

    def evaluate(
        self, context: ScanContext, profile: dict | None = None, on: date | None = None
    ) -> ControlOutcome:
        """The worst check decides, then the profile, the application date and the assessment temper it."""
        applicability = self.applicability.decide(profile) if self.applicability else None
        if applicability == "does_not_apply":
            return ControlOutcome(
                "not_applicable",
                f"Does not apply: the AI system profile rules out that {self.applicability.condition}.",
                frozenset(),
                applicability,
            )
        outcomes = [check.run(context) for check in self.checks]
        status = max((o.status for o in outcomes), key=STATUS_RANK.__getitem__)
        deciding = [o for o in outcomes if o.status == status]
        message = " ".join(dict.fromkeys(o.message for o in deciding))
        if status in ("fail", "warning"):
            rows = frozenset().union(*(o.hits for o in deciding))
        elif status == "pass":
            rows = frozenset().union(*(o.in_scope for o in deciding))
        else:
            rows = frozenset()
        if self.assessment == "manual":
            indicated = status in ("fail", "warning")
            message = f"Needs evidence: {self.evidence_required}" + (
                f" Indicator: {message}" if indicated else ""
            )
            status = "warning" if indicated else "manual"
            rows = rows if indicated else frozenset()
        elif status == "fail" and (applicability == "unknown" or self._not_yet_applicable(on)):
            status = "warning"
        if self._not_yet_applicable(on):
            message = f"Applies from {self.applies_from.isoformat()}. {message}"
        if applicability == "unknown":
            message = f"Applies if {self.applicability.condition}. {message}"
        return ControlOutcome(status, message, rows, applicability)

    def to_catalog(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "reference": self.reference,
            "description": self.description,
            "assessment": self.assessment,
            "evidence_required": self.evidence_required or None,
            "applicability": _applicability_json(self.applicability),
            "obligation": self.obligation,
            "checks": [check.definition for check in self.checks],
            "remediation": self.remediation,
            "limitations": self.limitations,
        }


def _applicability_json(applicability: Applicability | None) -> dict | None:
    if applicability is None:
        return None
    return {
        "roles": sorted(applicability.roles),
        "risk_classes": sorted(applicability.risk_classes),
        "places_gpai_model": applicability.places_gpai_model,
        "condition": applicability.condition,
    }


@dataclass(frozen=True)
class Framework:
    id: str
    name: str
    version: str
    revision: int
    source: str
    description: str
    controls: tuple[Control, ...] = field(default_factory=tuple)

    def to_catalog(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "revision": self.revision,
            "source": self.source,
            "description": self.description,
            "controls": [control.to_catalog() for control in self.controls],
        }


# ---------------------------------------------------------------- parsing


def parse_framework(data: object, origin: str = "<framework>") -> Framework:
    """Build a :class:`Framework` from its data; raises :class:`FrameworkDataError` naming every bad path."""
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        raise FrameworkDataError(origin, {"": ["must be a mapping"]})
    _unknown_keys(data, FRAMEWORK_KEYS, "", errors)
    for key in ("id", "name", "version", "source", "description"):
        _require_text(data, key, key, errors)
    if not isinstance(data.get("revision"), int) or isinstance(data.get("revision"), bool):
        errors.setdefault("revision", []).append("must be an integer, bumped on every change of the controls")
    raw_controls = data.get("controls")
    if not isinstance(raw_controls, list) or not raw_controls:
        errors.setdefault("controls", []).append("must be a non-empty list")
        raw_controls = []
    controls, seen = [], set()
    for position, raw in enumerate(raw_controls):
        control = _parse_control(raw, f"controls.{position}", errors)
        if control is None:
            continue
        if control.id in seen:
            errors.setdefault(f"controls.{position}.id", []).append(f"duplicate control id {control.id}")
        seen.add(control.id)
        controls.append(control)
    if errors:
        raise FrameworkDataError(origin, errors)
    return Framework(
        id=data["id"],
        name=data["name"],
        version=str(data["version"]),
        revision=data["revision"],
        source=data["source"],
        description=data["description"].strip(),
        controls=tuple(controls),
    )


def _unknown_keys(data: dict, allowed: set[str], path: str, errors: dict) -> None:
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        errors.setdefault(path, []).append(f"unknown keys: {', '.join(unknown)}")


def _require_text(data: dict, key: str, path: str, errors: dict) -> None:
    value = data.get(key)
    if not isinstance(value, str | int | float) or not str(value).strip():
        errors.setdefault(path, []).append("is required")


def _parse_control(raw: object, path: str, errors: dict) -> Control | None:
    if not isinstance(raw, dict):
        errors.setdefault(path, []).append("must be a mapping")
        return None
    before = len(errors)
    _unknown_keys(raw, CONTROL_KEYS, path, errors)
    for key in ("id", "title", "reference", "remediation", "limitations"):
        _require_text(raw, key, f"{path}.{key}", errors)
    raw_checks = raw.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks:
        errors.setdefault(f"{path}.checks", []).append("must be a non-empty list")
        raw_checks = []
    checks = [_parse_check(check, f"{path}.checks.{i}", errors) for i, check in enumerate(raw_checks)]
    assessment = raw.get("assessment", "automated")
    if assessment not in ASSESSMENTS:
        errors.setdefault(f"{path}.assessment", []).append(f"must be one of: {', '.join(ASSESSMENTS)}")
    if assessment == "manual":
        _require_text(raw, "evidence_required", f"{path}.evidence_required", errors)
    applicability = _parse_applicability(raw.get("applicability"), f"{path}.applicability", errors)
    _validate_obligation(raw.get("obligation"), f"{path}.obligation", errors)
    if len(errors) > before:
        return None
    return Control(
        id=str(raw["id"]),
        title=raw["title"],
        reference=raw["reference"],
        description=str(raw.get("description", "")).strip(),
        checks=tuple(checks),
        remediation=raw["remediation"].strip(),
        limitations=raw["limitations"].strip(),
        assessment=assessment,
        evidence_required=str(raw.get("evidence_required", "")).strip(),
        applicability=applicability,
        obligation=raw.get("obligation"),
    )


def _parse_applicability(raw: object, path: str, errors: dict) -> Applicability | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors.setdefault(path, []).append(
            "must be a mapping {roles?, risk_classes?, places_gpai_model?, condition}"
        )
        return None
    _unknown_keys(raw, APPLICABILITY_KEYS, path, errors)
    _require_text(raw, "condition", f"{path}.condition", errors)
    for key, allowed in (("roles", ROLES), ("risk_classes", RISK_CLASSES)):
        values = raw.get(key, [])
        if not isinstance(values, list) or not set(values) <= set(allowed):
            errors.setdefault(f"{path}.{key}", []).append(f"must be a list of: {', '.join(allowed)}")
    gpai = raw.get("places_gpai_model")
    if gpai is not None and not isinstance(gpai, bool):
        errors.setdefault(f"{path}.places_gpai_model", []).append("must be true or false")
    if not ({"roles", "risk_classes", "places_gpai_model"} & set(raw)):
        errors.setdefault(path, []).append("needs roles, risk_classes or places_gpai_model")
    try:
        return Applicability(
            roles=frozenset(raw.get("roles") or ()),
            risk_classes=frozenset(raw.get("risk_classes") or ()),
            places_gpai_model=gpai if isinstance(gpai, bool) else None,
            condition=str(raw.get("condition", "")).strip(),
        )
    except TypeError:
        return None


def _validate_obligation(raw: object, path: str, errors: dict) -> None:
    """``{applies_from: ISO date, source, amendments?: [{date, status, note, source}]}``."""
    if raw is None:
        return
    if not isinstance(raw, dict):
        errors.setdefault(path, []).append("must be a mapping {applies_from, source, amendments?}")
        return
    _unknown_keys(raw, OBLIGATION_KEYS, path, errors)
    _require_text(raw, "source", f"{path}.source", errors)
    if not _is_iso_date(raw.get("applies_from")):
        errors.setdefault(f"{path}.applies_from", []).append("must be a date written YYYY-MM-DD (quoted)")
    amendments = raw.get("amendments", [])
    if not isinstance(amendments, list):
        errors.setdefault(f"{path}.amendments", []).append("must be a list")
        return
    for position, amendment in enumerate(amendments):
        sub = f"{path}.amendments.{position}"
        if not isinstance(amendment, dict):
            errors.setdefault(sub, []).append("must be a mapping {date, status, note, source}")
            continue
        _unknown_keys(amendment, AMENDMENT_KEYS, sub, errors)
        for key in ("status", "note", "source"):
            _require_text(amendment, key, f"{sub}.{key}", errors)
        if not _is_iso_date(amendment.get("date")):
            errors.setdefault(f"{sub}.date", []).append("must be a date written YYYY-MM-DD (quoted)")


def _is_iso_date(value: object) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _parse_check(raw: object, path: str, errors: dict) -> Check | None:
    if not isinstance(raw, dict):
        errors.setdefault(path, []).append("must be a mapping")
        return None
    before = len(errors)
    _unknown_keys(raw, CHECK_KEYS, path, errors)
    for key, default in (("on_hit", None), ("on_clean", "pass"), ("when_empty", "not_applicable")):
        if raw.get(key, default) not in STATUSES:
            errors.setdefault(f"{path}.{key}", []).append(f"must be one of: {', '.join(STATUSES)}")
    if not isinstance(raw.get("message"), str):
        errors.setdefault(f"{path}.message", []).append("is required: the sentence shown when the check hits")
    for key in ("message", "clean_message", "empty_message"):
        if isinstance(raw.get(key), str) and not _is_template(raw[key]):
            errors.setdefault(f"{path}.{key}", []).append(f"may only use {{{'}, {'.join(TEMPLATE_FIELDS)}}}")
    is_threshold = "metric" in raw
    if is_threshold:
        for message in metric_errors(raw["metric"]):
            errors.setdefault(f"{path}.metric", []).append(message)
        for key, messages in threshold_errors(raw.get("operator"), raw.get("value")).items():
            errors.setdefault(f"{path}.{key}", []).extend(messages)
        if {"applies_to", "hit", "linked"} & set(raw):
            errors.setdefault(path, []).append("a threshold check takes no applies_to, hit or linked")
    elif "hit" not in raw and "linked" not in raw:
        errors.setdefault(path, []).append("needs hit, linked or metric")
    for key in ("applies_to", "hit"):
        if key in raw:
            for sub_path, messages in validate_condition(raw[key], f"{path}.{key}").items():
                errors.setdefault(sub_path, []).extend(messages)
    if "linked" in raw:
        _validate_linked(raw["linked"], f"{path}.linked", errors)
    if len(errors) > before:
        return None
    linked = raw.get("linked")
    return Check(
        definition=raw,
        on_hit=raw["on_hit"],
        on_clean=raw.get("on_clean", "pass"),
        when_empty=raw.get("when_empty", "not_applicable"),
        message=raw["message"],
        clean_message=raw.get("clean_message", "No finding among {in_scope} components in scope."),
        empty_message=raw.get("empty_message", "No component in scope."),
        applies_to=compile_condition(raw["applies_to"]) if "applies_to" in raw else None,
        hit=compile_condition(raw["hit"]) if "hit" in raw else None,
        linked=Linked(
            to=compile_condition(linked["to"]),
            relations=frozenset(linked.get("relations", ())),
            direction=linked.get("direction", "any"),
        )
        if linked
        else None,
        metric=parse_metric(raw["metric"]) if is_threshold else None,
    )


def _is_template(text: str) -> bool:
    try:
        text.format(**dict.fromkeys(TEMPLATE_FIELDS, 0))
    except (KeyError, IndexError, ValueError):
        return False
    return True


def _validate_linked(raw: object, path: str, errors: dict) -> None:
    if not isinstance(raw, dict):
        errors.setdefault(path, []).append("must be a mapping {to, relations?, direction?}")
        return
    _unknown_keys(raw, {"to", "relations", "direction"}, path, errors)
    for sub_path, messages in validate_condition(raw.get("to"), f"{path}.to").items():
        errors.setdefault(sub_path, []).extend(messages)
    relations = raw.get("relations", [])
    if not isinstance(relations, list) or not all(isinstance(r, str) for r in relations):
        errors.setdefault(f"{path}.relations", []).append("must be a list of relation names")
    if raw.get("direction", "any") not in DIRECTIONS:
        errors.setdefault(f"{path}.direction", []).append(f"must be one of: {', '.join(DIRECTIONS)}")

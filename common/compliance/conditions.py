"""The condition language shared by custom rules, policies and framework checks.

A condition is a leaf ``{"field", "operator", "value"}`` or a combination
``{"all": [...]}``, ``{"any": [...]}``, ``{"not": <condition>}``.

Conditions are evaluated column-wise over a :class:`ComponentTable`: every leaf
selects a set of row numbers and the combinators are set operations. A scan is
normalised once, leaf results are cached per table, and equality tests are
dictionary look-ups, which is what keeps hundreds of rules over tens of
thousands of components well under a second. Evaluating one component is the
same code over a one-row table, so the single and bulk answers cannot differ.

Semantics worth knowing:
- Text comparisons (``equals``, ``contains``, ``in``, ``starts_with``) ignore
  case; ``matches`` is a regular-expression search on the original text (use
  ``(?i)`` for case-insensitive patterns).
- ``flags`` and ``file_path`` hold several values: a positive operator holds
  when *any* value satisfies it. For ``flags``, ``equals`` and ``contains`` both
  mean "has this flag".
- Every negative operator (``not_equals``, ``not_contains``, ``not_in``) is
  exactly the negation of its positive one, so a component without the field
  satisfies ``provider not_equals "openai"``.
- Missing, empty, ``None`` or oddly typed values count as absent: positive
  operators are false on them and ``exists`` is false.
- ``new_since_baseline`` (true or false) is set by whoever knows the baseline
  (``common.baseline``): the platform against the previous completed scan of
  the same target, the CLI against ``--baseline FILE``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

import regex

from common.scanner.model import COMPONENT_TYPES, SCOPES, SEVERITIES, is_finite_number

SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

TEXT, SEVERITY, NUMBER, FLAGS, PATHS = "text", "severity", "number", "flags", "paths"
BOOLEAN = "boolean"

FIELD_KINDS = {
    "name": TEXT,
    "type": TEXT,
    "provider": TEXT,
    "model_name": TEXT,
    "version": TEXT,
    "detector": TEXT,
    "scope": TEXT,
    "severity": SEVERITY,
    "risk_score": NUMBER,
    "confidence": NUMBER,
    "flags": FLAGS,
    "file_path": PATHS,
    "new_since_baseline": BOOLEAN,
}

# Fields whose values come from a closed vocabulary: a typo there would silently never match.
FIELD_VOCABULARIES = {"type": COMPONENT_TYPES, "scope": SCOPES, "severity": SEVERITIES}

NEGATIONS = {"not_equals": "equals", "not_contains": "contains", "not_in": "in"}
ORDERINGS = ("gt", "gte", "lt", "lte")
STRING_OPERATORS = (
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "in",
    "not_in",
    "starts_with",
    "matches",
)

OPERATORS_BY_KIND = {
    TEXT: (*STRING_OPERATORS, "exists"),
    FLAGS: (*STRING_OPERATORS, "exists"),
    PATHS: (*STRING_OPERATORS, "exists"),
    SEVERITY: ("equals", "not_equals", "in", "not_in", *ORDERINGS, "exists"),
    NUMBER: ("equals", "not_equals", "in", "not_in", *ORDERINGS, "exists"),
    BOOLEAN: ("equals", "not_equals", "exists"),
}
OPERATORS = tuple(dict.fromkeys(op for ops in OPERATORS_BY_KIND.values() for op in ops))
COMBINATORS = ("all", "any", "not")

MAX_DEPTH = 12
MAX_NODES = 256
MAX_LIST_ITEMS = 500
MAX_TEXT_LENGTH = 1000
MAX_PATTERN_LENGTH = 512
REGEX_CALL_TIMEOUT_S = 0.05
REGEX_LEAF_BUDGET_S = 1.0
# All the regex leaves evaluated on one table (one preview, one scan's evaluation) share this much time:
# with a budget per leaf only, 100 rules of 256 distinct slow patterns cost 25,600 s of one request.
REGEX_TABLE_BUDGET_S = 10.0


class InvalidCondition(ValueError):
    """Raised when compiling a condition that does not validate; carries the path-keyed errors."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        first_path = next(iter(errors))
        super().__init__(f"{first_path}: {errors[first_path][0]}")


# ---------------------------------------------------------------- validation


def validate_condition(condition: object, path: str = "condition") -> dict[str, list[str]]:
    """Errors keyed by the path of the bad part (e.g. ``condition.all.1.operator``); empty when valid.

    Never raises, whatever it is given, so an API can turn any body into a 422.
    """
    errors: dict[str, list[str]] = {}
    node_count = [0]
    _validate_node(condition, path, 1, errors, node_count)
    if node_count[0] > MAX_NODES:
        errors.setdefault(path, []).append(f"condition has more than {MAX_NODES} parts")
    return errors


def condition_parts(value: object) -> int:
    """How many parts (objects) a condition, or anything holding conditions, has; what evaluating it costs
    is about proportional: each leaf looks at every distinct value of its field once."""
    parts, pending = 0, [value]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            parts += 1
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return parts


UNSEARCHED_REASON = (
    "a regular expression ran out of time on the scan's values "
    "(a pattern that backtracks on them; simplify it)"
)


def searched_in_time(condition: object, table: ComponentTable) -> bool:
    """Did every ``matches`` leaf of ``condition`` (already selected on ``table``) search all its values
    in time? A value whose search timed out counted as no match, which decides nothing."""
    pending = [condition]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if (
                node.get("operator") == "matches"
                and (node.get("field"), node.get("value")) in table.unsearched_patterns
            ):
                return False
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return True


def _add(errors: dict[str, list[str]], path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def _validate_node(node: object, path: str, depth: int, errors: dict, node_count: list[int]) -> None:
    node_count[0] += 1
    if node_count[0] > MAX_NODES:
        return
    if depth > MAX_DEPTH:
        _add(errors, path, f"condition is nested deeper than {MAX_DEPTH} levels")
        return
    if not isinstance(node, dict):
        _add(errors, path, "must be an object: {field, operator, value} or {all|any|not: ...}")
        return
    combinators = [key for key in COMBINATORS if key in node]
    if combinators:
        if len(node) != 1:
            _add(errors, path, f"a combination has exactly one key ({', '.join(COMBINATORS)})")
            return
        key = combinators[0]
        child = node[key]
        if key == "not":
            _validate_node(child, f"{path}.not", depth + 1, errors, node_count)
            return
        if not isinstance(child, list):
            _add(errors, f"{path}.{key}", "must be a list of conditions")
            return
        if len(child) > MAX_NODES:
            _add(errors, f"{path}.{key}", f"must have at most {MAX_NODES} conditions")
            return
        for position, item in enumerate(child):
            _validate_node(item, f"{path}.{key}.{position}", depth + 1, errors, node_count)
        return
    _validate_leaf(node, path, errors)


def _validate_leaf(node: dict, path: str, errors: dict) -> None:
    unknown = sorted(str(key) for key in node if key not in ("field", "operator", "value"))
    if unknown:
        _add(errors, path, f"unknown keys: {', '.join(unknown)}")
    field, operator = node.get("field"), node.get("operator")
    kind = FIELD_KINDS.get(field) if isinstance(field, str) else None
    if kind is None:
        _add(errors, f"{path}.field", f"unknown field; expected one of: {', '.join(FIELD_KINDS)}")
    if not isinstance(operator, str) or operator not in OPERATORS:
        _add(errors, f"{path}.operator", f"unknown operator; expected one of: {', '.join(OPERATORS)}")
        return
    if kind is None:
        return
    if operator not in OPERATORS_BY_KIND[kind]:
        allowed = ", ".join(OPERATORS_BY_KIND[kind])
        _add(
            errors, f"{path}.operator", f"operator {operator} does not apply to field {field}; use {allowed}"
        )
        return
    if operator == "exists":
        if "value" in node and not isinstance(node["value"], bool):
            _add(errors, f"{path}.value", "must be true or false for exists")
        return
    if "value" not in node:
        _add(errors, f"{path}.value", "is required")
        return
    for message in _value_errors(field, kind, operator, node["value"]):
        _add(errors, f"{path}.value", message)


def _value_errors(field: str, kind: str, operator: str, value: object) -> list[str]:
    if operator in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            return ["must be a non-empty list"]
        if len(value) > MAX_LIST_ITEMS:
            return [f"must have at most {MAX_LIST_ITEMS} items"]
        return [
            f"item {position}: {message}"
            for position, item in enumerate(value)
            for message in _scalar_errors(field, kind, operator, item)
        ]
    return _scalar_errors(field, kind, operator, value)


def _scalar_errors(field: str, kind: str, operator: str, value: object) -> list[str]:
    if kind == NUMBER:
        if not is_finite_number(value):
            return ["must be a number"]
        return []
    if kind == BOOLEAN:
        return [] if isinstance(value, bool) else ["must be true or false"]
    if not isinstance(value, str):
        return ["must be a string"]
    if len(value) > MAX_TEXT_LENGTH:
        return [f"must be at most {MAX_TEXT_LENGTH} characters"]
    if operator == "matches":
        return pattern_errors(value)
    vocabulary = FIELD_VOCABULARIES.get(field)
    exact = operator in ("equals", "not_equals", "in", "not_in", *ORDERINGS)
    if vocabulary and exact and value.casefold() not in vocabulary:
        return [f"must be one of: {', '.join(vocabulary)}"]
    return []


def pattern_errors(pattern: str) -> list[str]:
    """Why a ``matches`` pattern is refused: too long, not a regex, or prone to catastrophic backtracking."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return [f"pattern must be at most {MAX_PATTERN_LENGTH} characters"]
    try:
        regex.compile(pattern)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        return [f"invalid regular expression: {exc}"]
    if has_nested_quantifier(pattern):
        return ["pattern repeats a group that itself contains an unbounded repeat (e.g. (a+)+)"]
    return []


def has_nested_quantifier(pattern: str) -> bool:
    """True for a repeated group containing an unbounded repeat, the shape behind exponential backtracking.

    A small scanner rather than a full parser: it knows escapes, character classes,
    groups and quantifiers, which is all the shape needs.
    """
    frames = [False]  # per open group: does it contain an unbounded repeat?
    position, length = 0, len(pattern)
    while position < length:
        char = pattern[position]
        if char == "\\":
            position += 2
            repeat, position = _read_quantifier(pattern, position)
            if repeat == "unbounded":
                frames[-1] = True
            continue
        if char == "[":
            position = _skip_class(pattern, position)
            repeat, position = _read_quantifier(pattern, position)
            if repeat == "unbounded":
                frames[-1] = True
            continue
        if char == "(":
            frames.append(False)
            position += 1
            continue
        if char == ")" and len(frames) > 1:
            inner_unbounded = frames.pop()
            repeat, position = _read_quantifier(pattern, position + 1)
            if inner_unbounded and repeat in ("unbounded", "repeated"):
                return True
            if inner_unbounded or repeat == "unbounded":
                frames[-1] = True
            continue
        repeat, position = _read_quantifier(pattern, position + 1)
        if repeat == "unbounded":
            frames[-1] = True
    return False


def _skip_class(pattern: str, position: int) -> int:
    position += 1
    if position < len(pattern) and pattern[position] == "^":
        position += 1
    if position < len(pattern) and pattern[position] == "]":
        position += 1
    while position < len(pattern) and pattern[position] != "]":
        position += 2 if pattern[position] == "\\" else 1
    return position + 1


def _read_quantifier(pattern: str, position: int) -> tuple[str | None, int]:
    """Classify the quantifier at ``position``: "unbounded", "repeated" (bounded, > 1) or "optional"."""
    if position >= len(pattern):
        return None, position
    char = pattern[position]
    if char in "*+":
        kind, position = "unbounded", position + 1
    elif char == "?":
        kind, position = "optional", position + 1
    elif char == "{":
        closing = pattern.find("}", position)
        body = pattern[position + 1 : closing] if closing > 0 else ""
        low, comma, high = body.partition(",")
        if closing < 0 or not low.strip().isdigit() or (high.strip() and not high.strip().isdigit()):
            return None, position
        position = closing + 1
        if comma and not high.strip():
            kind = "unbounded"
        else:
            kind = "repeated" if int(high or low) > 1 else "optional"
    else:
        return None, position
    if position < len(pattern) and pattern[position] in "?+":
        position += 1  # lazy or possessive modifier
    return kind, position


# ---------------------------------------------------------------- component table


class ComponentTable:
    """A scan's components viewed as columns, built once and shared by every condition evaluated on it."""

    def __init__(self, components: Iterable[object]):
        self.rows: list[dict] = [c if isinstance(c, dict) else {} for c in components]
        self.all_rows = frozenset(range(len(self.rows)))
        self._columns: dict[tuple[str, bool], list] = {}
        self._indexes: dict[tuple[str, bool], dict] = {}
        self._ordered: dict[str, tuple[list, list[int]]] = {}
        self._ids: list[str] | None = None
        self.leaf_cache: dict[tuple, frozenset[int]] = {}
        self.regex_seconds_left = REGEX_TABLE_BUDGET_S
        # (field, pattern) of the ``matches`` leaves that ran out of time before searching every value:
        # their rows are what was found in time, and a gate must not pass on what it could not check.
        self.unsearched_patterns: set[tuple[str, str]] = set()

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, field: str, folded: bool = True) -> list:
        """Normalised field values: str, float or severity rank (None if absent); tuples for flags/paths."""
        key = (field, folded)
        if key not in self._columns:
            self._columns[key] = _COLUMN_BUILDERS[FIELD_KINDS[field]](self.rows, field, folded)
        return self._columns[key]

    def index(self, field: str, folded: bool = True) -> dict:
        """Value -> rows holding it (any element for multi-valued fields).

        Equality becomes a look-up, and text tests run once per distinct value.
        """
        key = (field, folded)
        if key not in self._indexes:
            index: dict[object, set[int]] = {}
            multi = FIELD_KINDS[field] in (FLAGS, PATHS)
            for row, value in enumerate(self.column(field, folded)):
                for item in value if multi else (value,):
                    if item is not None:
                        index.setdefault(item, set()).add(row)
            self._indexes[key] = index
        return self._indexes[key]

    def ordered(self, field: str) -> tuple[list, list[int]]:
        """Present values of a numeric or severity field in ascending order, with their rows (bisection)."""
        if field not in self._ordered:
            pairs = sorted((value, row) for row, value in enumerate(self.column(field)) if value is not None)
            self._ordered[field] = ([value for value, _ in pairs], [row for _, row in pairs])
        return self._ordered[field]

    @property
    def id_column(self) -> list[str]:
        """Each row's component id (``index:<row>`` for a component without a string id)."""
        if self._ids is None:
            self._ids = [
                value if isinstance(value := row.get("id"), str) else f"index:{position}"
                for position, row in enumerate(self.rows)
            ]
        return self._ids

    def component_id(self, row: int) -> str:
        return self.id_column[row]

    def ids(self, rows: Iterable[int]) -> list[str]:
        """Component ids of ``rows`` in scan order."""
        id_column = self.id_column
        return [id_column[row] for row in sorted(rows)]


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value or None
    if is_finite_number(value):
        return str(value)
    return None


def _text_column(rows: list[dict], field: str, folded: bool) -> list:
    values = [_text(row.get(field)) for row in rows]
    return [v.casefold() if v is not None else None for v in values] if folded else values


def _severity_column(rows: list[dict], field: str, folded: bool) -> list:
    values = _text_column(rows, field, True)
    return [SEVERITY_RANK.get(v) for v in values] if folded else _text_column(rows, field, False)


def _number_column(rows: list[dict], field: str, folded: bool) -> list:
    return [float(v) if is_finite_number(v := row.get(field)) else None for row in rows]


def _boolean_column(rows: list[dict], field: str, folded: bool) -> list:
    return [value if isinstance(value := row.get(field), bool) else None for row in rows]


def _strings(values: object, folded: bool) -> tuple[str, ...]:
    if not isinstance(values, list | tuple):
        return ()
    return tuple(dict.fromkeys(v.casefold() if folded else v for v in values if isinstance(v, str) and v))


def _flags_column(rows: list[dict], field: str, folded: bool) -> list:
    return [_strings(row.get(field), folded) for row in rows]


def _paths_column(rows: list[dict], field: str, folded: bool) -> list:
    column = []
    for row in rows:
        locations = row.get("locations")
        if isinstance(locations, list):
            files = [loc.get("file") for loc in locations if isinstance(loc, dict)]
            column.append(_strings(files, folded))
        else:
            column.append(())
    return column


_COLUMN_BUILDERS = {
    TEXT: _text_column,
    SEVERITY: _severity_column,
    NUMBER: _number_column,
    FLAGS: _flags_column,
    PATHS: _paths_column,
    BOOLEAN: _boolean_column,
}


# ---------------------------------------------------------------- compiled conditions


class Condition(ABC):
    """A validated, compiled condition."""

    @abstractmethod
    def select(self, table: ComponentTable) -> frozenset[int]:
        """Rows of ``table`` that satisfy the condition."""

    def matches(self, component: object) -> bool:
        return bool(self.select(ComponentTable([component])))


class _All(Condition):
    def __init__(self, children: list[Condition]):
        self.children = children

    def select(self, table: ComponentTable) -> frozenset[int]:
        rows = table.all_rows
        for child in self.children:
            if not rows:
                break
            rows = rows & child.select(table)
        return rows


class _Any(Condition):
    def __init__(self, children: list[Condition]):
        self.children = children

    def select(self, table: ComponentTable) -> frozenset[int]:
        rows: frozenset[int] = frozenset()
        for child in self.children:
            rows = rows | child.select(table)
        return rows


class _Not(Condition):
    def __init__(self, child: Condition):
        self.child = child

    def select(self, table: ComponentTable) -> frozenset[int]:
        return table.all_rows - self.child.select(table)


@dataclass(frozen=True)
class _Leaf(Condition):
    field: str
    operator: str
    value: object  # hashable: tuples stand in for lists

    def select(self, table: ComponentTable) -> frozenset[int]:
        key = (self.field, self.operator, self.value)
        cached = table.leaf_cache.get(key)
        if cached is None:
            positive = NEGATIONS.get(self.operator)
            if positive:
                cached = table.all_rows - _Leaf(self.field, positive, self.value).select(table)
            else:
                cached = frozenset(_select_positive(table, self.field, self.operator, self.value))
            table.leaf_cache[key] = cached
        return cached


def _select_positive(table: ComponentTable, field: str, operator: str, value) -> Iterable[int]:
    kind = FIELD_KINDS[field]
    if operator == "exists":
        column = table.column(field)
        present = {row for row, item in enumerate(column) if item is not None and item != ()}
        return present if value else table.all_rows - present
    if operator == "matches":
        return _select_regex(table, field, value)
    if kind == SEVERITY and operator in ("equals", "in"):
        wanted = [SEVERITY_RANK[v.casefold()] for v in (value if operator == "in" else (value,))]
        return _union(table.index(field).get(rank, ()) for rank in wanted)
    if operator in ("equals", "in") or (operator == "contains" and kind == FLAGS):
        wanted = value if operator == "in" else (value,)
        if kind not in (NUMBER, BOOLEAN):
            wanted = tuple(item.casefold() for item in wanted)
        return _union(table.index(field).get(item, ()) for item in wanted)
    if operator in ORDERINGS:
        threshold = SEVERITY_RANK[value.casefold()] if kind == SEVERITY else value
        values, rows = table.ordered(field)
        if operator in ("gt", "gte"):
            cut = (bisect_right if operator == "gt" else bisect_left)(values, threshold)
            return rows[cut:]
        cut = (bisect_left if operator == "lt" else bisect_right)(values, threshold)
        return rows[:cut]
    needle = value.casefold()
    if operator == "contains":
        return _union(rows for text, rows in table.index(field).items() if needle in text)
    return _union(rows for text, rows in table.index(field).items() if text.startswith(needle))


def _union(groups: Iterable[Iterable[int]]) -> set[int]:
    rows: set[int] = set()
    for group in groups:
        rows.update(group)
    return rows


def _select_regex(table: ComponentTable, field: str, pattern: str) -> set[int]:
    """Regex search under a per-call timeout, a per-leaf budget and the table's shared budget; a value
    not searched in time counts as no match."""
    compiled = regex.compile(pattern)
    started = time.monotonic()
    deadline = started + min(REGEX_LEAF_BUDGET_S, table.regex_seconds_left)
    found: set[int] = set()
    try:
        for text, rows in table.index(field, folded=False).items():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                table.unsearched_patterns.add((field, pattern))
                break
            try:
                if compiled.search(text, timeout=min(REGEX_CALL_TIMEOUT_S, remaining)) is not None:
                    found.update(rows)
            except TimeoutError:
                table.unsearched_patterns.add((field, pattern))
                continue
    finally:
        table.regex_seconds_left -= time.monotonic() - started
    return found


def compile_condition(condition: object) -> Condition:
    """Validate and compile; raises :class:`InvalidCondition` with path-keyed errors when invalid."""
    errors = validate_condition(condition)
    if errors:
        raise InvalidCondition(errors)
    return _build(condition)


def _build(node: dict) -> Condition:
    if "all" in node:
        return _All([_build(child) for child in node["all"]])
    if "any" in node:
        return _Any([_build(child) for child in node["any"]])
    if "not" in node:
        return _Not(_build(node["not"]))
    operator = node["operator"]
    value = node.get("value", True) if operator == "exists" else node["value"]
    if isinstance(value, list):
        value = tuple(value)
    return _Leaf(node["field"], operator, value)


def evaluate(condition: object, component: object) -> bool:
    """Does ``component`` satisfy ``condition``? Never raises on the component; raises on a bad condition."""
    return compile_condition(condition).matches(component)


def describe(condition: dict) -> str:
    """A one-line human reading of a valid condition, for violation messages."""
    if "all" in condition:
        parts = [describe(child) for child in condition["all"]]
        return "(" + " and ".join(parts) + ")" if parts else "always"
    if "any" in condition:
        parts = [describe(child) for child in condition["any"]]
        return "(" + " or ".join(parts) + ")" if parts else "never"
    if "not" in condition:
        return f"not {describe(condition['not'])}"
    operator = condition["operator"].replace("_", " ")
    if condition["operator"] == "exists" and condition.get("value", True) is False:
        return f"{condition['field']} is absent"
    if condition["operator"] == "exists":
        return f"{condition['field']} exists"
    return f"{condition['field']} {operator} {condition['value']!r}"

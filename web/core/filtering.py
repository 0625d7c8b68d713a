"""The filters of the list endpoints: each list declares its query arguments once, one function applies them.

A declaration maps a query argument to a ``Filter``: how it narrows the list (``equals``, ``is_``,
``starts_with``, ``contains_text``, ``at_least``, ``at_most``) and on which column of the model (the
argument's own name unless told otherwise). An argument the request leaves out narrows nothing.
Text patterns are escaped: a ``%`` or ``_`` in a filter is matched literally, never as a wildcard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select

Operator = Callable[[Any, Any], ColumnElement[bool]]
LIKE_ESCAPE = "\\"


def _unchanged(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Filter:
    """``operator(column, value)`` on the model's ``column`` (default: the argument's name)."""

    operator: Operator
    column: str | None = None
    convert: Callable[[Any], Any] = _unchanged

    def condition(self, model: Any, argument: str, value: Any) -> ColumnElement[bool]:
        return self.operator(getattr(model, self.column or argument), self.convert(value))


def _escape_like(text: str) -> str:
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", r"\%").replace("_", r"\_")


def equals(column: str | None = None, convert: Callable[[Any], Any] = _unchanged) -> Filter:
    return Filter(lambda field, value: field == value, column, convert)


def is_(column: str | None = None) -> Filter:
    """A boolean column: ``IS true`` / ``IS false``."""
    return Filter(lambda field, value: field.is_(value), column)


def starts_with(column: str | None = None, convert: Callable[[Any], Any] = _unchanged) -> Filter:
    return Filter(lambda field, value: field.startswith(value, autoescape=True), column, convert)


def contains_text(column: str | None = None) -> Filter:
    """A case-insensitive search for the value anywhere in the column."""
    return Filter(lambda field, value: field.ilike(f"%{_escape_like(value)}%", escape=LIKE_ESCAPE), column)


def at_least(column: str | None = None) -> Filter:
    return Filter(lambda field, value: field >= value, column)


def at_most(column: str | None = None) -> Filter:
    return Filter(lambda field, value: field <= value, column)


def equal_columns(*names: str) -> dict[str, Filter]:
    """The common case: each argument must equal the column of the same name."""
    return {name: equals() for name in names}


def apply_filters(query: Select, model: Any, args: Mapping[str, Any], spec: Mapping[str, Filter]) -> Select:
    """``query`` narrowed by every declared filter the request gave (``args`` as the schema loaded them);
    the very same ``query`` when none was given, so a caller may recognise a prebuilt statement."""
    for argument, rule in spec.items():
        if argument in args:
            query = query.where(rule.condition(model, argument, args[argument]))
    return query


def matching(items: Iterable[dict], args: Mapping[str, Any], fields: Iterable[str]) -> list[dict]:
    """The same rule for a list computed in memory: each given argument must equal the item's field."""
    wanted = {field: args[field] for field in fields if field in args}
    return [item for item in items if all(item.get(field) == value for field, value in wanted.items())]

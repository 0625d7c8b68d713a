"""CSV (RFC 4180): one row per component, for spreadsheets and ad-hoc analysis.

Cells that a spreadsheet would evaluate as a formula (leading ``=``, ``+``, ``-``, ``@``, tab or
carriage return) are prefixed with ``'``: component names, snippets and paths come from the
scanned repository, which an attacker may control.
"""

from __future__ import annotations

import csv
import io

from common.exporters.bundle import location_text

COLUMNS = (
    "id",
    "name",
    "type",
    "provider",
    "version",
    "model_name",
    "severity",
    "risk_score",
    "flags",
    "scope",
    "confidence",
    "detector",
    "locations",
)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def row(component: dict) -> list[str]:
    values = {
        **component,
        "flags": ";".join(component.get("flags") or []),
        "locations": location_text(component),
    }
    return [neutralise(values.get(column)) for column in COLUMNS]


def render(bundle: dict) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(row(component) for component in bundle.get("components") or [])
    return buffer.getvalue().encode("utf-8")

"""CSV (RFC 4180): one row per component, for spreadsheets and ad-hoc analysis.

Cells that a spreadsheet would evaluate as a formula (leading ``=``, ``+``, ``-``, ``@`` or tab) are
prefixed with ``'``: component names, snippets and paths come from the
scanned repository, which an attacker may control. So is such a character after a ``;`` or a tab
(spaces between allowed): a spreadsheet whose list separator is ``;`` (Excel in much of Europe) or tab
starts a cell there, quoted or not. Controls other than line feed and tab are shown as ``\\xNN``
(``display.document_text``): a CSV is also read with ``cat`` or in a CI log, where ESC sequences act.
"""

from __future__ import annotations

import csv
import io
import re

from common.exporters.bundle import location_text
from common.scanner.display import document_text

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
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t")  # a carriage return is shown as \x0d (document_text)
# A ``;`` or tab (list separators other than the file's comma) before a trigger, spaces allowed between.
_INNER_CELL_START = re.compile(r"([;\t])(?= *[-=+@\t])")


def neutralise(value: object) -> str:
    text = _INNER_CELL_START.sub(r"\1'", document_text(value))
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

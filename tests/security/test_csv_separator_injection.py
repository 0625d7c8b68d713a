"""A CSV export opened where the list separator is ``;`` (Excel in most of Europe) must not run a formula.

The scanned repository is the attacker's: it names a file ``x;=1+2.py``. Each cell was prefixed with ``'``
when it started with a formula trigger, but a cell was quoted only when it held a comma, a quote or a line
break, so a spreadsheet splitting the row at ``;`` found a cell starting with ``=`` in the middle of the
``locations`` column (``x;=1+2.py:1``), or one holding only a space before it (``a.py:1; =5+5.py:1``).
"""

from __future__ import annotations

import csv
import io

import pytest

from common import cli
from common.exporters.csv_table import FORMULA_TRIGGERS

HOSTILE_FILES = ("x;=1+2.py", "y;+cmd|'calc'!A0.py", "z;@SUM(9).py", "w;-2+3.py", "v\t=4+5.py", "=5+5.py")


def _spreadsheet_cells(data: bytes, separator: str) -> list[str]:
    """The cells a spreadsheet reading ``data`` with ``separator`` as its list separator sees."""
    return [
        cell
        for row in csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=separator)
        for cell in row
    ]


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_no_cell_of_a_scanned_repositorys_csv_starts_a_formula(tmp_path, separator):
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in HOSTILE_FILES:
        (repo / name).write_text("import openai\nclient = openai.OpenAI()\n", encoding="utf-8")
    report = tmp_path / "report.csv"
    assert cli.main(["scan", str(repo), "--format", "csv", "-o", str(report), "--quiet", "--jobs", "1"]) == 0
    data = report.read_bytes()
    shown = data.decode("utf-8").replace("'", "")
    assert all(name.replace("'", "") in shown for name in HOSTILE_FILES)  # every path is listed, as text

    cells = _spreadsheet_cells(data, separator)

    assert [cell for cell in cells if cell.lstrip(" ").startswith(FORMULA_TRIGGERS)] == []

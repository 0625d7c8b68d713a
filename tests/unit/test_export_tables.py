"""CSV, Markdown and JUnit: the table-shaped exports."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from lxml import etree

from common.exporters import render
from common.exporters.csv_table import COLUMNS, neutralise
from tests.factories import component
from tests.unit.test_export_bundle import HOSTILE_TOOL, HOSTILE_WORKFLOW, by_name, make_bundle

JUNIT_XSD = etree.XMLSchema(etree.parse(str(Path(__file__).parents[1] / "fixtures/schemas/junit-10.xsd")))


def csv_rows(bundle: dict) -> list[list[str]]:
    return list(csv.reader(io.StringIO(render("csv", bundle).decode("utf-8"), newline="")))


def test_csv_round_trips_through_the_csv_module():
    bundle = make_bundle()
    rows = csv_rows(bundle)
    assert rows[0] == list(COLUMNS)
    assert len(rows) == len(bundle["components"]) + 1
    openai = dict(zip(COLUMNS, rows[1], strict=True))
    assert openai == {
        "id": by_name(bundle["components"], "openai")["id"],
        "name": "openai",
        "type": "llm_provider",
        "provider": "openai",
        "version": "1.52.0",
        "model_name": "",
        "severity": "high",
        "risk_score": "75",
        "flags": "hardcoded_api_key",
        "scope": "production",
        "confidence": "0.9",
        "detector": "test",
        "locations": "requirements.txt:3; src/app.py:12",
    }


def test_csv_uses_crlf_and_quotes_embedded_separators():
    tricky = component("tool", 'say "hi",\nthen leave', locations=[("a b.py", 1, "")])
    data = render("csv", make_bundle([tricky]))
    assert data.endswith(b"\r\n")
    assert b'"say ""hi"",\nthen leave"' in data
    assert csv_rows(make_bundle([tricky]))[1][1] == 'say "hi",\nthen leave'


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t"])
def test_formula_triggers_are_neutralised(prefix):
    assert neutralise(f"{prefix}SUM(A1)") == f"'{prefix}SUM(A1)"
    assert neutralise(f"a{prefix}b") == f"a{prefix}b"


def test_controls_are_shown_not_kept():
    """A carriage return (a formula trigger too) and ESC would act on a terminal showing the file."""
    assert neutralise("\rSUM(A1)") == "\\x0dSUM(A1)"
    assert neutralise("a\x1b]0;title\x07\u202eb\nc") == "a\\x1b]0;title\\x07\\u202eb\nc"


def test_hostile_names_cannot_become_formulas_in_the_file():
    names = [row[1] for row in csv_rows(make_bundle())[1:]]
    assert f"'{HOSTILE_TOOL}" in names
    assert not any(name.startswith(("=", "+", "-", "@", "\t", "\r")) for name in names)


def _markdown_rows(text: str) -> list[list[str]]:
    return [re.split(r"(?<!\\)\|", line)[1:-1] for line in text.splitlines() if line.startswith("|")]


def test_markdown_tables_keep_their_shape_and_escape_pipes_and_html():
    text = render("markdown", make_bundle()).decode()
    assert "## Components" in text and "## Compliance" in text and "## Policies" in text
    tables = text.split("\n\n")
    for block in tables:
        rows = _markdown_rows(block)
        if rows:
            assert len({len(row) for row in rows}) == 1, block
    assert "Support &lt;img src=x onerror=alert\\(1\\)&gt; \\| triage" in text
    assert HOSTILE_WORKFLOW not in text


def test_markdown_without_results_says_so():
    text = render("markdown", make_bundle(with_results=False)).decode()
    assert "Compliance was not evaluated for this scan." in text
    assert "Policies were not evaluated for this scan." in text


def test_junit_is_valid_and_fails_the_failing_checks():
    bundle = make_bundle()
    root = etree.fromstring(render("junit", bundle))
    assert JUNIT_XSD.validate(root), JUNIT_XSD.error_log
    cases = root.findall(".//testcase")
    controls = bundle["compliance"]["frameworks"][0]["controls"]
    assert len(cases) == len(bundle["policies"]) + len(controls) + len(bundle["compliance"]["custom_rules"])
    failed = sorted(c.get("name") for c in cases if c.find("failure") is not None)
    assert failed == [
        "Block leaked keys (block)",
        "LLM02 Sensitive Information Disclosure",
        "No hardcoded keys",
        "Warn on retired models (warn)",
    ]
    assert root.get("failures") == "4"
    assert [c.get("name") for c in cases if c.find("skipped") is not None] == [
        "LLM08 Vector and Embedding Weaknesses"
    ]


def test_junit_strips_characters_xml_cannot_hold():
    bundle = make_bundle()
    bundle["policies"][0]["violations"][0]["message"] = "bad\x00byte\x1b"
    root = etree.fromstring(render("junit", bundle))
    assert JUNIT_XSD.validate(root)
    assert "bad\ufffdbyte\ufffd" in root.find(".//failure").text


def test_junit_without_results_is_an_empty_valid_report():
    root = etree.fromstring(render("junit", make_bundle(with_results=False)))
    assert JUNIT_XSD.validate(root)
    assert root.get("tests") == "0"

"""HTML report: self-contained, escaped, and actually renders (headless Chromium screenshot)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from common.exporters import render
from common.exporters.html_report import SEVERITY_COLOURS
from tests.export_validators import CHROMIUM, screenshot_colours
from tests.factories import component
from tests.unit.test_export_bundle import HOSTILE_TOOL, HOSTILE_WORKFLOW, make_bundle


def html(bundle: dict) -> str:
    return render("html", bundle).decode("utf-8")


def test_report_has_every_section():
    page = html(make_bundle())
    for heading in ("Summary", "By severity", "Components", "Compliance", "Policies", "Dependency graph"):
        assert f">{heading}</h" in page
    assert 'id="components"' in page and 'id="filter-text"' in page
    assert page.count("<svg") == 2


def test_report_makes_no_external_requests():
    page = html(make_bundle())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.IGNORECASE)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page


def test_every_scan_value_is_escaped():
    page = html(make_bundle())
    assert HOSTILE_WORKFLOW not in page
    assert "Support &lt;img src=x onerror=alert(1)&gt; | triage" in page
    assert "=HYPERLINK(&quot;https://evil.example&quot;,&quot;open&quot;)" in page
    assert HOSTILE_TOOL not in page
    script = component("tool", "</script><script>alert(1)</script>")
    assert "<script>alert(1)" not in html(make_bundle([script]))


def test_large_graphs_are_drawn_capped_with_a_note():
    components = [component("model", f"model-{n}", locations=[(f"src/m{n}.py", 1, "")]) for n in range(200)]
    bundle = make_bundle(components)
    bundle["relationships"] = [
        {"source": f"file:src/m{n}.py", "target": c["id"], "relation": "contains"}
        for n, c in enumerate(components)
    ]
    assert "Showing the 80 highest-risk of 400 nodes" in html(bundle)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_headless_chromium_renders_the_chart_and_table(tmp_path):
    report = tmp_path / "report.html"
    report.write_bytes(render("html", make_bundle()))
    pixels = screenshot_colours(report)
    assert len(pixels) > 50, "screenshot is blank"
    chart_colours = {bytes.fromhex(SEVERITY_COLOURS[name][1:]) for name in ("high", "medium", "low", "info")}
    assert chart_colours <= pixels, "severity bars are not on the screenshot"
    header = bytes.fromhex("17202a")
    assert header in pixels

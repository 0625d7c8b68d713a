"""HTML report: self-contained, escaped, and actually renders (headless Chromium screenshot)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from common.exporters import render
from common.exporters.html_report import SEVERITY_COLOURS
from tests.unit.test_export_bundle import HOSTILE_TOOL, HOSTILE_WORKFLOW, component, make_bundle

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


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


def _png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) into pixel rows."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        chunk = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0
    step = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * step, [], bytearray(width * step)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, step, rows


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_headless_chromium_renders_the_chart_and_table(tmp_path):
    report = tmp_path / "report.html"
    report.write_bytes(render("html", make_bundle()))
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
            "--window-size=1280,1600",
            f"--screenshot={shot}",
            report.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.exists()
    width, step, rows = _png_pixels(shot)
    pixels = {row[i : i + 3] for row in rows for i in range(0, width * step, step)}
    assert len(pixels) > 50, "screenshot is blank"
    chart_colours = {bytes.fromhex(SEVERITY_COLOURS[name][1:]) for name in ("high", "medium", "low", "info")}
    assert chart_colours <= pixels, "severity bars are not on the screenshot"
    header = bytes.fromhex("17202a")
    assert header in pixels

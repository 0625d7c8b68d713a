"""The official validator of each export format, shared by the CLI and the pipeline tests.

They are the ones the exporter unit tests use: CycloneDX 1.6 through cyclonedx-python-lib's
strict JSON validator, SARIF 2.1.0 against the vendored schema, SPDX 3.0.1 read back strictly
with spdx-python-model, JUnit XML against the vendored JUnit schema, CSV through ``csv``;
HTML and Markdown are checked for the parts every report has, and HTML can be rendered in
headless Chromium.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from lxml import etree

from common.exporters.csv_table import COLUMNS
from tests.unit.test_export_sarif import validate as sarif_errors
from tests.unit.test_export_spdx3 import read_back
from tests.unit.test_export_tables import JUNIT_XSD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def check_export(format_name: str, data: bytes, *, components: int):
    """Validate ``data`` as ``format_name`` for a scan of ``components`` components; returns it parsed."""
    assert data, f"empty {format_name} export"
    if format_name == "cyclonedx":
        error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(data.decode("utf-8"))
        assert error is None, error
        document = json.loads(data)
        assert len(document.get("components", [])) + len(document.get("services", [])) == components
        return document
    if format_name == "sarif":
        document = json.loads(data)
        assert sarif_errors(document) == []
        return document
    if format_name == "spdx3":
        return read_back(data)
    if format_name == "junit":
        root = etree.fromstring(data)
        assert JUNIT_XSD.validate(root), JUNIT_XSD.error_log
        return root
    if format_name == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        assert rows[0] == list(COLUMNS)
        assert len(rows) == components + 1 and all(len(row) == len(COLUMNS) for row in rows)
        return rows
    if format_name == "html":
        page = data.decode("utf-8")
        assert page.lstrip().lower().startswith("<!doctype html>")
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.IGNORECASE)
        assert 'id="components"' in page and "<svg" in page
        return page
    if format_name == "markdown":
        text = data.decode("utf-8")
        assert text.startswith("# AI-BOM report")
        assert text.count("\n| ") >= components
        return text
    raise AssertionError(f"no validator for {format_name}")


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
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


def chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
            *args,
        ],
        check=True,
        capture_output=True,
        timeout=timeout,
    )


def screenshot_colours(report: Path) -> set[bytes]:
    """Every RGB colour on a 1280x1600 headless-Chromium screenshot of ``report``."""
    shot = report.with_suffix(".png")
    chromium("--window-size=1280,1600", f"--screenshot={shot}", report.as_uri())
    width, step, rows = png_pixels(shot)
    return {row[i : i + 3] for row in rows for i in range(0, width * step, step)}


def rendered_dom(report: Path) -> str:
    """The page's DOM after its scripts ran."""
    return chromium("--dump-dom", report.as_uri()).stdout.decode("utf-8")

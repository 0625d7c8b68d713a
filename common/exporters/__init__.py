"""Scan exports in seven formats, each from the same export bundle.

``render(format, bundle)`` returns the file's bytes; ``FORMATS`` gives the content type and
file extension the API uses for ``Content-Type`` and the ``Content-Disposition`` file name.
Plain library: no Flask, Celery or database access.
"""

from __future__ import annotations

from importlib import import_module

from common.scanner.display import utf8_clean

FORMATS: dict[str, dict[str, str]] = {
    "cyclonedx": {"content_type": "application/vnd.cyclonedx+json; version=1.6", "extension": "cdx.json"},
    "sarif": {"content_type": "application/sarif+json", "extension": "sarif"},
    "spdx3": {"content_type": "application/spdx+json", "extension": "spdx3.jsonld"},
    "html": {"content_type": "text/html; charset=utf-8", "extension": "html"},
    "csv": {"content_type": "text/csv; charset=utf-8", "extension": "csv"},
    "markdown": {"content_type": "text/markdown; charset=utf-8", "extension": "md"},
    "junit": {"content_type": "application/xml", "extension": "junit.xml"},
}

# each format's module, imported on first use: the CLI lists the formats on every run but
# renders one, and the HTML report alone pulls in the compliance engine
_RENDERER_MODULES: dict[str, str] = {
    "cyclonedx": "cyclonedx",
    "sarif": "sarif",
    "spdx3": "spdx3",
    "html": "html_report",
    "csv": "csv_table",
    "markdown": "markdown",
    "junit": "junit",
}


class UnknownFormatError(ValueError):
    """The requested export format is not one of ``FORMATS``."""


def render(format: str, bundle: dict) -> bytes:
    """The export file for ``bundle`` in ``format``; raises UnknownFormatError for other names.

    File names that are not valid UTF-8 (surrogate escapes) are shown as ``\\xNN`` in every format.
    """
    module = _RENDERER_MODULES.get(format)
    if module is None:
        raise UnknownFormatError(f"unknown export format {format!r}; expected one of {', '.join(FORMATS)}")
    return import_module(f"common.exporters.{module}").render(utf8_clean(bundle))

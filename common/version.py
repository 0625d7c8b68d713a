"""The tool's name and version, for reports and exports.

Read once from the installed package's metadata, so ``setup.cfg`` stays the only place the version
is written; the CLI and the library both import it from here (the library never imports the CLI).
"""

from __future__ import annotations

from importlib.metadata import version

TOOL_NAME = "trusera"
TOOL_VERSION = version(TOOL_NAME)


def tool() -> dict:
    """A fresh ``{"name", "version"}``: callers put it in documents they may go on to change."""
    return {"name": TOOL_NAME, "version": TOOL_VERSION}

"""The tool's name and version, for reports and exports.

Read once from the installed package's metadata, so ``setup.cfg`` stays the only place the version
is written; the CLI and the library both import it from here (the library never imports the CLI).
The ``Version:`` header is read straight from the ``.dist-info`` directory on ``sys.path``:
``importlib.metadata`` pulls in the ``email`` package, a sixth of a small scan's start-up.
"""

from __future__ import annotations

import os
import sys

TOOL_NAME = "trusera"


def _dist_info_version(name: str) -> str | None:
    """The version in the first ``<name>-*.dist-info/METADATA`` on ``sys.path`` (the one
    ``importlib.metadata`` would find), or None for an install without one (egg-info, zip)."""
    prefix = f"{name}-"
    for entry in sys.path:
        try:
            found = sorted(
                e for e in os.listdir(entry or ".") if e.startswith(prefix) and e.endswith(".dist-info")
            )
        except OSError:
            continue
        for folder in found:
            try:
                with open(os.path.join(entry or ".", folder, "METADATA"), encoding="utf-8") as metadata:
                    for line in metadata:
                        if line.startswith("Version:"):
                            return line.split(":", 1)[1].strip()
                        if not line.strip():
                            break  # end of the headers
            except OSError:
                continue
    return None


def _installed_version(name: str) -> str:
    found = _dist_info_version(name)
    if found is None:
        from importlib.metadata import version

        found = version(name)
    return found


TOOL_VERSION = _installed_version(TOOL_NAME)


def tool() -> dict:
    """A fresh ``{"name", "version"}``: callers put it in documents they may go on to change."""
    return {"name": TOOL_NAME, "version": TOOL_VERSION}

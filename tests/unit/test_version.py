"""The version is written once (setup.cfg), and the library reaches it without the CLI."""

import configparser
import subprocess
import sys
from pathlib import Path

from common.version import TOOL_NAME, TOOL_VERSION, tool

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_is_the_one_setup_cfg_declares():
    metadata = configparser.ConfigParser()
    metadata.read(ROOT / "setup.cfg")
    assert metadata["metadata"]["name"] == TOOL_NAME
    assert metadata["metadata"]["version"] == TOOL_VERSION
    assert tool() == {"name": TOOL_NAME, "version": TOOL_VERSION}


def test_tool_returns_a_copy_a_caller_may_change():
    tool()["version"] = "changed"
    assert tool()["version"] == TOOL_VERSION


def test_the_library_does_not_import_the_cli():
    probe = "import sys, common.scan_bom; sys.exit('common.cli' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], cwd=ROOT).returncode == 0


def test_no_other_module_writes_the_version():
    literal = f'"{TOOL_VERSION}"'
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("common", "web", "workers")
        for path in (ROOT / folder).rglob("*.py")
        if literal in path.read_text(encoding="utf-8")
    ]
    assert offenders == []

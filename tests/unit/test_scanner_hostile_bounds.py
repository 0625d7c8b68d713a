"""Hostile trees against the scan as a whole: what one file costs every other file of the scan.

A manifest every file below it consults is read, parsed and searched once per scan (``per_scan``), so
one hostile neighbour costs one file's work, not one per file (or folder) under it."""

from __future__ import annotations

import os
import time

import pytest

from common.scanner import scan_path
from common.scanner.detectors.base import SourceFile
from common.scanner.detectors.code_declarations import manifest_function_sdk, manifest_tool_schema_sdk
from common.scanner.detectors.languages import (
    JavaScriptDetector,
    crate_name,
    crate_uses_llm,
    manifest_name,
    module_uses_llm,
    project_assembly_name,
    ruby_namespace_is_own,
)
from common.scanner.detectors.manifests import version_catalogs
from common.scanner.detectors.mcp_config import SpringMcpDetector
from common.scanner.textutil import one_scan, scan_root_of
from tests.hostile_repo import write_amplifying_manifests

FOLDERS = 12
JS_SERVER = 'import pkg from "../../package.json";\nnew McpServer({ name: pkg.name });\n'


def ruby_namespace(file: SourceFile) -> bool:
    return ruby_namespace_is_own(str(file.path.parent), "MCP", ("mcp",), scan_root_of(file))


def server_name(file: SourceFile) -> str | None:
    return manifest_name(file, JS_SERVER, 0)


# (the manifest, its text, a file below it, the lookup that file makes)
LOOKUPS = [
    ("Cargo.toml", '[package]\nname = "agent"\n', "src/lib.rs", crate_name),
    ("Cargo.toml", '[package]\nname = "agent"\n', "src/lib.rs", crate_uses_llm),
    ("go.mod", "module example.com/agent\n", "pkg/tool.go", module_uses_llm),
    ("package.json", '{"name": "agent"}', "src/tools.js", JavaScriptDetector().package_depends_on_mcp),
    ("package.json", '{"name": "agent"}', "src/server.js", server_name),
    ("requirements.txt", "openai\n", "src/tools.py", manifest_function_sdk),
    ("requirements.txt", "mcp\n", "src/tools.py", manifest_tool_schema_sdk),
    ("pom.xml", "<project/>", "src/application.yml", SpringMcpDetector.builds_mcp_server),
    ("Agent.csproj", "<Project/>", "src/Program.cs", project_assembly_name),
    ("gradle/libs.versions.toml", "[libraries]\n", "app/build.gradle", version_catalogs),
    ("Gemfile", 'gem "rails"\n', "app/server.rb", ruby_namespace),
]


@pytest.mark.parametrize(
    ("manifest", "text", "below", "lookup"),
    LOOKUPS,
    ids=[lookup.__name__ for *_, lookup in LOOKUPS],
)
def test_a_manifest_above_many_folders_is_read_once_per_scan(
    tmp_path, monkeypatch, manifest, text, below, lookup
):
    """Files in a dozen folders below one manifest each ask for it: it is opened once in the scan (it was
    opened, parsed and searched again for every file, so one hostile manifest cost every file below it)."""
    (tmp_path / manifest).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / manifest).write_text(text)
    target = os.path.realpath(tmp_path / manifest)
    opened = []
    real_open = os.open

    def counting_open(path, *args, **kwargs):
        if os.fspath(path) == target:
            opened.append(path)
        return real_open(path, *args, **kwargs)

    files = []
    for index in range(FOLDERS):
        relpath = f"module{index}/{below}"
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text("\n")
        files.append(SourceFile(path=tmp_path / relpath, relpath=relpath, size=1))
    monkeypatch.setattr(os, "open", counting_open)
    with one_scan():
        answers = {repr(lookup(file)) for file in files}
    assert len(opened) == 1, len(opened)
    assert len(answers) == 1  # every file below got the same answer


def test_hostile_manifests_above_many_files_cost_one_file_each(tmp_path):
    """A 250 KB Cargo.toml and go.mod and a 1.7 MB Gradle version catalog, each above 40 files in 40 folders
    that consult it: the scan costs about what it costs with one file below each (before: a Cargo.toml
    search, a go.mod search and a catalog parse per file, about 0.5 s of CPU per folder)."""
    costs = []
    for files in (1, 40):
        root = tmp_path / f"repo{files}"
        write_amplifying_manifests(root, files)
        started = time.process_time()
        result = scan_path(root, jobs=1)
        costs.append(time.process_time() - started)
        assert not [warning for warning in result.warnings if "CPU budget" in warning.message]
    one, many = costs
    assert many < 2 * one + 1.0, costs

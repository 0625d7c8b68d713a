"""Hostile trees against the scan as a whole: what one file costs every other file of the scan.

A manifest every file below it consults is read, parsed and searched once per scan (``per_scan``), so
one hostile neighbour costs one file's work, not one per file (or folder) under it."""

from __future__ import annotations

import json
import os
import signal
import struct
import time
import tomllib

import pytest

from common.scanner import engine, isolation, limits, scan_path, walker, worker
from common.scanner.detectors import base as detectors_base
from common.scanner.detectors.base import SourceFile
from common.scanner.detectors.code_declarations import manifest_function_sdk, manifest_tool_schema_sdk
from common.scanner.detectors.languages import (
    JavaScriptDetector,
    crate_name,
    crate_uses_llm,
    manifest_name,
    module_uses_llm,
    project_assembly_name,
    ruby_namespace_owner,
)
from common.scanner.detectors.manifests import version_catalogs
from common.scanner.detectors.mcp_config import SpringMcpDetector
from common.scanner.isolation import detect_isolated
from common.scanner.limits import linear
from common.scanner.registry import all_detectors
from common.scanner.textutil import one_scan, scan_root_of
from common.scanner.worker import ScanBudget, scan_file
from tests.hostile_repo import write_amplifying_manifests
from tests.unit.scanner_helpers import count_opens, stuck_worker_command

FOLDERS = 12
FILE_CEILING_SECONDS = 10  # as in test_scanner_hostile.py: a linear file takes well under a second
JS_SERVER = 'import pkg from "../../package.json";\nnew McpServer({ name: pkg.name });\n'


def ruby_namespace(file: SourceFile) -> str | None:
    return ruby_namespace_owner(str(file.path.parent), "MCP", ("mcp",), scan_root_of(file))


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
    files = []
    for index in range(FOLDERS):
        relpath = f"module{index}/{below}"
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text("\n")
        files.append(SourceFile(path=tmp_path / relpath, relpath=relpath, size=1))
    opened = count_opens(monkeypatch, tmp_path / manifest)
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


# 300 KB of one Bicep resource's keys whose values are not ASCII: the parser matches an RE2 pattern at each
# position, and RE2's binding encoded the whole file and counted its characters from the start for every
# match (about 40 s; the same file in ASCII had been fixed by remembering its bytes)
NON_ASCII_BICEP = (
    "resource a 'Microsoft.CognitiveServices/accounts@2023-05-01' = {\n  properties: {\n"
    + "".join(f"    k{i}: 'é'\n" for i in range(20_000))
    + "  }\n}\n"
)


def test_a_text_that_is_not_ascii_is_matched_from_positions_in_linear_time(tmp_path):
    """Under a budget of the ceiling, so the quadratic cost fails fast instead of running for a minute."""
    path = tmp_path / "main.bicep"
    path.write_text(NON_ASCII_BICEP)
    source = SourceFile(path=path, relpath="main.bicep", size=path.stat().st_size)
    report, _ = scan_file(source, all_detectors(), 5 * 1024 * 1024, budget_seconds=FILE_CEILING_SECONDS)
    assert not [warning for warning in report.warnings if "CPU budget" in warning]


POSITIONAL_PATTERNS = [r"é+", r"(\w+)(é)?", r"", r"x*", r"(?m)^k(\d+): '([^']*)'$", r"(a)|(ß)", r"\b"]
POSITIONAL_TEXT = "k1: 'é'\nЖ x ß€𝄞 a\n" * 20 + "ééé 𝄞𝄞 xx\n" * 30
# marks every 256 characters: a text that ends between two marks, and one that ends on a mark
POSITIONAL_TEXTS = [POSITIONAL_TEXT, POSITIONAL_TEXT[:512]]


@pytest.mark.parametrize("text", POSITIONAL_TEXTS, ids=["between-marks", "on-a-mark"])
@pytest.mark.parametrize("pattern", POSITIONAL_PATTERNS)
def test_matches_from_positions_of_a_text_that_is_not_ascii_are_the_bindings(pattern, text):
    """Every offset, group and match of ``linear`` equals what RE2's binding returns, from positions on both
    sides of the byte marks, with and without an end position."""
    import re2

    ours, theirs = linear(pattern), re2.compile(pattern)
    length = len(text)
    for pos in [*range(0, length, 11), 255, 256, 257, 511, 512, length - 3, length, length + 5]:
        for endpos in (None, pos + 260, pos - 1, length - 1):
            for method in ("search", "match", "fullmatch"):
                mine = getattr(ours, method)(text, pos, endpos)
                binding = getattr(theirs, method)(text, pos, endpos)
                assert _described(mine) == _described(binding), (method, pos, endpos)
            mine = [_described(match) for match in ours.finditer(text, pos, endpos)]
            assert mine == [_described(match) for match in theirs.finditer(text, pos, endpos)]


def _described(match) -> tuple | None:
    if match is None:
        return None
    groups = range(len(match.groups()) + 1)
    return tuple((match.span(group), match.group(group)) for group in groups)


# a Python file that needs about a second of CPU (tests/unit/test_scanner_budget.py)
SLOW_SOURCE = "import openai\n" + "client = openai.OpenAI()\nvalue = call(1, 2, [3, 4], {'k': 'v'})\n" * 6_000


def test_a_tree_of_files_that_each_use_their_budget_stops_at_the_scan_budget(tmp_path):
    """Files that each take their whole CPU budget (10,000 of them were 8 hours at 3 s each): files not
    started within the scan's budget are left out, with one warning that counts them."""
    (tmp_path / "a_fast.py").write_text("import anthropic\n")
    for index in range(60):
        (tmp_path / f"slow{index:02}.py").write_text(SLOW_SOURCE)
    started = time.monotonic()
    # 60 files of 0.2 s of CPU each, against 3 s for the whole scan
    result = scan_path(tmp_path, jobs=1, file_budget_seconds=0.2, scan_budget_seconds=3.0)
    assert time.monotonic() - started < 30
    stopped = [w.message for w in result.warnings if w.file == "(scan)"]
    assert len(stopped) == 1 and "time budget for the whole scan" in stopped[0], result.warnings[-3:]
    not_scanned = int(stopped[0].split("; ")[1].split()[0])
    assert 0 < not_scanned < 60
    assert "anthropic" in [c.name for c in result.components]  # what was scanned is reported


def test_isolated_workers_stop_at_the_scan_budget(tmp_path, monkeypatch):
    """A worker stuck on a file the signal cannot interrupt (blocked without spending CPU) is stopped at
    the scan's budget, not only at the per-file wall-clock limit, and the files left are counted."""
    for name in ("a.py", "b.py", "c.py"):
        (tmp_path / name).write_text("import openai\n")
    monkeypatch.setattr(isolation, "WORKER_COMMAND", stuck_worker_command("b.py", tmp_path / "stuck.pid"))
    entries = [(name, 14, "production") for name in ("a.py", "b.py", "c.py")]
    budget = ScanBudget.starting_at(time.monotonic(), 10.0)
    started = time.monotonic()
    reports, _ = detect_isolated(
        str(tmp_path), [entries], 1, 1 << 20, 2.0, wall_limit=120, scan_budget=budget
    )
    assert time.monotonic() - started < 60
    # a.py is scanned unless a loaded machine starts the worker past the budget; b.py and c.py never are
    assert [relpath for relpath, _ in reports] in (["a.py"], [])
    assert budget.not_scanned == 3 - len(reports)


def swap_after_the_walk(monkeypatch, path, swapped: str, make) -> None:
    """Replace the walked file ``path`` by what ``make(path)`` creates, just before its own detection or
    just after it (before the constants pass reads it again)."""
    scan_chunk = engine.scan_chunk

    def swapping(root, entries, *args):
        is_it = entries[0][0] == path.name
        if is_it and swapped == "before its detection":
            path.unlink()
            make(path)
        scanned = scan_chunk(root, entries, *args)
        if is_it and swapped == "before the constants pass":
            path.unlink()
            make(path)
        return scanned

    monkeypatch.setattr(engine, "scan_chunk", swapping)


@pytest.mark.parametrize("swapped", ["before its detection", "before the constants pass"])
def test_a_file_swapped_for_a_fifo_after_the_walk_is_a_warning_not_a_hung_scan(
    tmp_path, monkeypatch, swapped
):
    """The walk refuses FIFOs, but a walked file can become one before it is read (by its detectors, or by
    the pass that looks for model constants across files): opening it for reading blocks until a writer
    comes, with no CPU spent, so an in-process scan's CPU budget never fires."""
    (tmp_path / "a_models.py").write_text('CHAT_MODEL = "gpt-4o-2024-08-06"\n')
    (tmp_path / "b.py").write_text("import cohere\n")
    (tmp_path / "c_app.py").write_text(
        "from a_models import CHAT_MODEL\nfrom openai import OpenAI\n\n"
        "OpenAI().chat.completions.create(\n    model=CHAT_MODEL,\n)\n"
    )
    swap_after_the_walk(monkeypatch, tmp_path / "b.py", swapped, os.mkfifo)

    def hung(signum, frame):  # pytest's failure is no OSError the scan would take for an unreadable file
        pytest.fail("the scan blocked on a FIFO swapped in after the walk")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        started = time.monotonic()
        result = scan_path(tmp_path, jobs=1)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 10
    assert {"openai", "gpt-4o-2024-08-06"} <= {c.name for c in result.components}
    warned = {w.file: w.message for w in result.warnings}
    if swapped == "before its detection":
        assert "not a regular file" in warned["b.py"]


@pytest.mark.parametrize("swapped", ["before its detection", "before the constants pass"])
def test_a_file_swapped_for_a_symlink_out_of_the_target_after_the_walk_is_not_read(
    tmp_path, monkeypatch, swapped
):
    """The walk does not follow a symlink out of the target, but a walked file can become one before it
    is read: its detectors (snippets) or the constants pass would read a file outside the target."""
    target, outside = tmp_path / "target", tmp_path / "outside"
    target.mkdir()
    outside.mkdir()
    secret = outside / "secret.py"
    secret.write_text('import anthropic\nLEAKED_MODEL = "claude-3-opus-20240229"\n')
    (target / "a_models.py").write_text('CHAT_MODEL = "gpt-4o-2024-08-06"\n')
    (target / "b.py").write_text("import cohere\n" + "#" * 80 + "\n")  # as long as the secret: read whole
    (target / "c_app.py").write_text(
        "from a_models import CHAT_MODEL, LEAKED_MODEL\nfrom openai import OpenAI\n\n"
        "OpenAI().chat.completions.create(\n    model=CHAT_MODEL,\n)\n"
    )
    swap_after_the_walk(monkeypatch, target / "b.py", swapped, lambda path: path.symlink_to(secret))
    result = scan_path(target, jobs=1)
    names = {c.name for c in result.components}
    assert {"openai", "gpt-4o-2024-08-06"} <= names
    assert not {"anthropic", "claude-3-opus-20240229"} & names
    if swapped == "before its detection":
        assert "outside the scan target" in {w.file: w.message for w in result.warnings}["b.py"]


def test_a_file_that_grows_after_the_walk_is_read_no_further_than_the_walk_saw(tmp_path):
    """Swapped for a 256 MiB sparse file between the walk and the read, a file is read up to its walked
    size: an in-process scan has no worker's memory limit."""
    path = tmp_path / "app.py"
    path.write_text("import openai\n")
    source = SourceFile(path=path, relpath="app.py", size=path.stat().st_size)
    os.truncate(path, 256 * 1024 * 1024)
    _, read = scan_file(source, all_detectors(), 5 * 1024 * 1024)
    assert read == len("import openai\n") and len(source.data) == read


SIGHTINGS = "import openai\n" + "openai.OpenAI()\n" * 30  # 31 findings


def test_a_file_of_thousands_of_sightings_reports_at_most_the_per_file_cap(tmp_path, monkeypatch):
    """A notebook of 40,000 cells was 80,000 findings, all held until the merge (a cap of 30 here)."""
    monkeypatch.setattr(worker, "MAX_FINDINGS_PER_FILE", 30)
    path = tmp_path / "app.py"
    path.write_text(SIGHTINGS)
    report, _ = scan_file(
        SourceFile(path=path, relpath="app.py", size=path.stat().st_size), all_detectors(), 1 << 20
    )
    assert len(report.findings) == 30
    assert report.warnings == ["31 findings: only the first 30 are reported"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_tree_of_such_files_reports_at_most_the_per_scan_cap(tmp_path, monkeypatch, jobs):
    """Past the scan's cap (100 here, in-process and in isolated workers) a file's findings are dropped and
    one warning counts them: every file's report is held in the scanning process until the merge."""
    monkeypatch.setattr(worker, "MAX_FINDINGS_PER_SCAN", 100)
    monkeypatch.setattr(engine, "IN_PROCESS_BELOW_FILES", 1)  # jobs=2: isolated workers, even for 6 files
    for index in range(6):
        (tmp_path / f"app{index}.py").write_text(SIGHTINGS)
    result = scan_path(tmp_path, jobs=jobs)
    dropped = [w.message for w in result.warnings if w.file == "(scan)"]
    assert dropped == ["over 100 findings in the scan: 93 more were not reported"], result.warnings
    files = {location.file for component in result.components for location in component.locations}
    assert files == {"app0.py", "app1.py", "app2.py"}


def test_a_neighbour_that_is_not_there_is_not_resolved(tmp_path, monkeypatch):
    """Resolving a path costs a ``stat`` per component, and a file 1,000 folders deep asks for a manifest in
    each folder above it (36 s of CPU for a tree of 2,000 files): a missing one is told by one ``stat``."""
    folder = tmp_path.joinpath(*["d"] * 200)
    folder.mkdir(parents=True)
    (folder / "lib.rs").write_text("\n")
    file = SourceFile(path=folder / "lib.rs", relpath="/".join(["d"] * 200) + "/lib.rs", size=1)
    resolved = []
    realpath = os.path.realpath
    monkeypatch.setattr(os.path, "realpath", lambda path: resolved.append(path) or realpath(path))
    assert crate_name(file) is None
    assert len(resolved) <= 1, len(resolved)  # the scan root, once


def test_a_gguf_header_string_is_clipped_in_the_result(tmp_path):
    """A GGUF header's ``general.*`` strings went into the result whole: 256 keys of a 1 MiB header made one
    small file a megabyte of result, and a few hundred of them a result the platform refuses."""

    def text(value: str) -> bytes:
        return struct.pack("<Q", len(value.encode())) + value.encode()

    pairs = [("general.name", "tiny llama " * 10_000), ("general.description", "B" * 100_000)]
    header = b"".join(text(key) + struct.pack("<I", 8) + text(value) for key, value in pairs)
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, len(pairs)) + header)
    report, _ = scan_file(
        SourceFile(path=path, relpath="model.gguf", size=path.stat().st_size), all_detectors(), 1
    )
    (finding,) = report.findings
    assert len(json.dumps(finding.metadata)) < 2_000, len(json.dumps(finding.metadata))
    assert finding.metadata["name"].startswith("tiny llama tiny llama")


GO_CONSTRUCTOR = (
    'package server\n\nimport "github.com/mark3labs/mcp-go/server"\n\n'
    "func New(version, title string) *server.MCPServer {\n"
    + "\tNewMCPServer(title)\n" * 12_000
    + "\treturn s\n}\n"
)
GO_CALLER = (
    'package server\n\nimport "github.com/mark3labs/mcp-go/mcp"\n\n'
    'func TestNew{index}(t *testing.T) {{\n\t_ = New("1.0", "Test Server {index}")\n\t_ = mcp.NewTool\n}}\n'
)


def test_the_constructors_of_a_go_package_are_found_once_and_in_linear_time(tmp_path):
    """Each Go file of a package reads its siblings for constructors that build an mcp-go server, and each
    ``NewMCPServer`` call searched the text before it for its function: 12,000 calls in one 250 KB sibling
    were quadratic, and paid again by every file of the package (each stopped by its budget). The sibling
    itself, 12,000 servers, may use its own budget."""
    (tmp_path / "server.go").write_text(GO_CONSTRUCTOR)
    for index in range(8):
        (tmp_path / f"new{index}_test.go").write_text(GO_CALLER.format(index=index))
    result = scan_path(tmp_path, jobs=1)
    stopped = {w.file for w in result.warnings if "CPU budget" in w.message}
    assert stopped <= {"server.go"}, result.warnings
    names = {c.name for c in result.components if c.type == "mcp_server"}
    assert {f"test server {index}" for index in range(8)} <= names, names


def walked_with_warnings(root) -> tuple[list[str], list[tuple[str, str]]]:
    warnings: list[tuple[str, str]] = []
    return [entry.relpath for entry in walker.walk(root, lambda *warning: warnings.append(warning))], warnings


@pytest.mark.parametrize("unreadable", ["!", "build\\", "[z-a]"])
def test_an_ignore_line_pathspec_or_re2_cannot_read_does_not_end_the_scan(tmp_path, unreadable):
    (tmp_path / ".gitignore").write_text(f"*.log\n{unreadable}\n")
    (tmp_path / "app.py").write_text("import openai\n")
    (tmp_path / "debug.log").write_text("x\n")

    result = scan_path(tmp_path)

    assert [c.name for c in result.components] == ["openai"]
    walked, _ = walked_with_warnings(tmp_path)
    assert "app.py" in walked


def test_lines_git_would_skip_are_skipped_and_the_rest_applies(tmp_path):
    (tmp_path / ".gitignore").write_text(
        "*.log\n!\nbuild\\\n" + "x" * (walker.MAX_IGNORE_LINE_CHARS + 1) + "\n"
    )
    (tmp_path / "debug.log").write_text("x\n")

    walked, warnings = walked_with_warnings(tmp_path)

    assert walked == [".gitignore"] and warnings == []


def test_an_ignore_file_re2_cannot_compile_as_one_set_is_a_warning_and_not_applied(tmp_path):
    (tmp_path / ".gitignore").write_text("".join(f"build{i}/**/out{i}*.py\n" for i in range(2_000)))
    (tmp_path / "build1" / "x").mkdir(parents=True)
    (tmp_path / "build1" / "x" / "out1.py").write_text("import openai\n")

    walked, warnings = walked_with_warnings(tmp_path)

    assert "build1/x/out1.py" in walked
    assert [relpath for relpath, _ in warnings] == [".gitignore"]
    assert "cannot compile" in warnings[0][1]


def test_an_ignore_file_of_more_patterns_than_re2_compiles_is_not_compiled(tmp_path, monkeypatch):
    compiled = []
    monkeypatch.setattr(walker, "_compiled_spec", compiled.append)
    patterns = [f"*.log{i}" for i in range(walker.MAX_IGNORE_PATTERNS + 1)]
    (tmp_path / ".gitignore").write_text("\n".join(["# many", "", *patterns]))

    _, warnings = walked_with_warnings(tmp_path)

    assert compiled == []
    assert warnings == [(".gitignore", "ignore files over 3,000 patterns; not applied")]


def test_an_ignore_file_over_the_size_limit_is_read_no_further_and_not_applied(tmp_path):
    (tmp_path / ".gitignore").write_text("*.log\n#" + "x" * walker.MAX_IGNORE_FILE_BYTES + "\n")
    (tmp_path / "debug.log").write_text("x\n")

    walked, warnings = walked_with_warnings(tmp_path)

    assert "debug.log" in walked
    assert warnings == [(".gitignore", "ignore file over 256 KiB; not applied")]


def test_distinct_ignore_files_past_the_walks_allowance_are_not_applied(tmp_path, monkeypatch):
    monkeypatch.setattr(walker, "MAX_IGNORE_BYTES_PER_WALK", 1_000)
    repeated, distinct = "#" + "a" * 600 + "\n", "*.log\n#" + "b" * 600 + "\n"
    (tmp_path / ".gitignore").write_text(repeated)  # the root's is read first
    for folder, text in (("a", repeated), ("b", repeated), ("c", distinct)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / ".gitignore").write_text(text)
        (tmp_path / folder / "debug.log").write_text("x\n")

    walked, warnings = walked_with_warnings(tmp_path)

    # the repeated text is compiled once and counted once; the distinct one is past the allowance
    assert [relpath for relpath, _ in warnings] == ["c/.gitignore"]
    assert "over 1,000 bytes of distinct ignore files" in warnings[0][1]
    assert "c/debug.log" in walked


def test_ignore_patterns_past_the_walks_pattern_allowance_are_not_compiled(tmp_path, monkeypatch):
    """Translating and compiling cost per pattern, not per byte: ignore files of 2,900 short wildcard
    lines (RE2 fails on each set, a quarter second) fit 78 times in the distinct bytes a walk reads: 19.1 s
    of walk CPU (1.6 s with the allowance)."""
    monkeypatch.setattr(walker, "MAX_IGNORE_PATTERNS_PER_WALK", 50)
    shared, own = [f"secret{n}.py" for n in range(30)], [f"secret{n}.py" for n in range(1, 31)]
    for folder, patterns in (("a", shared), ("b", own), ("c", shared)):  # walked c, b, a
        (tmp_path / folder).mkdir()
        (tmp_path / folder / ".gitignore").write_text("\n".join(patterns))
        (tmp_path / folder / "secret1.py").write_text("x = 1\n")

    walked, warnings = walked_with_warnings(tmp_path)

    # c's 30 patterns are charged, b's 30 are past the 50, a's repeat c's and cost nothing more
    assert warnings == [("b/.gitignore", "over 50 ignore patterns in the walk; not applied")]
    assert [relpath for relpath in walked if relpath.endswith(".py")] == ["b/secret1.py"]


def test_ignore_files_nested_past_the_limit_are_a_warning_and_not_applied(tmp_path):
    """Every entry is matched against each ignore file above it: a ``.gitignore`` in each of 1,000
    nested folders of 20 files each cost 59 s of walk CPU (4 s now), outside any file's budget."""
    folder, rel = tmp_path, ""
    for level in range(18):  # two past the limit
        (folder / ".gitignore").write_text(f"*.log\nhidden{level}.py\n")
        (folder / f"hidden{level}.py").write_text("import openai\n")
        (folder / "debug.log").write_text("x\n")
        folder, rel = folder / "d", f"{rel}d/"
        folder.mkdir()

    walked, warnings = walked_with_warnings(tmp_path)

    applied = 16  # walker.MAX_NESTED_IGNORE_FILES
    deep = "d/" * applied
    assert warnings == [
        (f"{deep}.gitignore", "16 ignore files above it already; not applied"),
        (f"{deep}d/.gitignore", "16 ignore files above it already; not applied"),
    ]
    # the files its own ignore file names are walked; the patterns of the ones above still apply
    assert [path for path in walked if path.startswith(deep) and path.endswith(".py")] == [
        f"{deep}hidden{applied}.py",
        f"{deep}d/hidden{applied + 1}.py",
    ]


def test_the_walk_marks_test_files_as_scope_for_does_once_per_folder(tmp_path):
    for relpath in ("src/app.py", "src/test_app.py", "Tests/x/deep/a.py", "pkg/tests/b.py", "pkg/b_test.go"):
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text("x = 1\n")

    entries = walker.walk(tmp_path, lambda *_: None)

    assert {entry.relpath: entry.scope for entry in entries} == {
        entry.relpath: walker.scope_for(entry.relpath) for entry in entries
    }
    assert {entry.relpath for entry in entries if entry.scope == "test"} >= {
        "Tests/x/deep/a.py",
        "pkg/tests/b.py",
    }


@pytest.mark.parametrize(
    ("name", "head"),
    [
        (
            "app.go",
            'package main\nimport "github.com/sashabaranov/go-openai"\nconst DefaultModel = "gpt-4o"\n',
        ),
        ("app.js", 'import OpenAI from "openai";\nconst model = "gpt-4o";\n'),
    ],
)
def test_a_long_line_of_escaped_quotes_does_not_run_the_file_out_of_its_budget(tmp_path, name, head):
    """``"\\`` repeated on one line: every quote is escaped, so no literal closes, and ``re`` tried 200
    units from each of them (2.1 s per 400 KB). The file was stopped and its model not reported."""
    path = tmp_path / name
    path.write_text(head + '"\\' * 200_000 + "\n")
    source = SourceFile(path=path, relpath=name, size=path.stat().st_size, root=str(tmp_path))

    with one_scan():
        report, _ = scan_file(source, all_detectors(), 5 * 1024 * 1024, 0.5)

    assert report.warnings == []
    assert "gpt-4o" in {finding.name for finding in report.findings}


@pytest.mark.parametrize("name", ["pyproject.toml", "Pipfile", ".codex/config.toml"])
def test_a_toml_key_of_thousands_of_dotted_parts_is_refused_not_parsed_for_seconds(tmp_path, name):
    """``tomllib`` adds each part of a dotted key to a tuple: 40,000 parts cost 9 s (quadratic)."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("openai." * 40_000 + "x = 1\n")
    source = SourceFile(path=path, relpath=name, size=path.stat().st_size, root=str(tmp_path))

    with one_scan():
        report, _ = scan_file(source, all_detectors(), 5 * 1024 * 1024, 0.5)

    assert not [warning for warning in report.warnings if "CPU budget" in warning]
    assert any("more than 256 parts" in warning for warning in report.warnings)


def test_a_toml_key_of_as_many_parts_as_allowed_parses():
    parts = ["k"] * limits.MAX_TOML_KEY_PARTS
    assert limits.parse_toml(".".join(parts) + " = 1\n")["k"]["k"]
    with pytest.raises(tomllib.TOMLDecodeError):
        limits.parse_toml(".".join([*parts, '"quoted"']) + " = 1\n")


LEAKED = "import anthropic\nanthropic.Anthropic().messages.create(model='claude-3-5-sonnet-20241022')\n"


def test_a_file_hard_linked_into_the_tree_is_not_read(tmp_path):
    """Round 34: a hard link is a name in the tree for a file whose other names may lie anywhere (another
    organization's checkout on a shared host); no path check can tell, so it is a warning, not read."""
    outside, tree = tmp_path / "outside", tmp_path / "tree"
    outside.mkdir()
    tree.mkdir()
    (outside / "keys.py").write_text(LEAKED)
    os.link(outside / "keys.py", tree / "leak.py")
    (tree / "app.py").write_text("import openai\n")
    result = scan_path(tree, jobs=1)
    assert ("leak.py", detectors_base.HARD_LINK) in {(w.file, w.message) for w in result.warnings}
    assert "claude-3-5-sonnet-20241022" not in json.dumps(result.to_dict())
    assert "openai" in json.dumps(result.to_dict())


def test_a_walked_file_replaced_by_a_hard_link_before_its_read_is_not_read(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keys.py").write_text(LEAKED)
    walked = tmp_path / "tree" / "app.py"
    walked.parent.mkdir()
    walked.write_text("import openai\n")
    walked.unlink()
    os.link(outside / "keys.py", walked)
    with pytest.raises(OSError, match="hard link"):
        detectors_base.open_regular_file(walked, root=os.path.realpath(walked.parent))


@pytest.mark.parametrize("isolated", [False, True])
def test_the_cli_reads_hard_links_of_its_users_own_files(tmp_path, capsys, monkeypatch, isolated):
    """On the user's own machine a hard link is an installer's (uv, conda), not a way into another tenant's
    files: the CLI reads it, in its isolated workers too, and the engine refuses hard links again once the
    CLI is done."""
    from common import cli

    if isolated:
        monkeypatch.setattr(engine, "IN_PROCESS_BELOW_FILES", 1)

    tree = tmp_path / "site-packages"
    tree.mkdir()
    (tmp_path / "cache.py").write_text("import anthropic\n")
    os.link(tmp_path / "cache.py", tree / "client.py")
    assert (
        cli.main(["scan", str(tree), "--format", "json", "--quiet", "--jobs", "2" if isolated else "1"]) == 0
    )
    assert "anthropic" in capsys.readouterr().out
    assert detectors_base.READ_HARD_LINKS not in os.environ
    assert "anthropic" not in json.dumps(scan_path(tree, jobs=1).to_dict()["components"])

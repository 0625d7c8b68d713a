"""Untrusted repository content: pathological shapes in every detector, parser limits, pickle
evasion, and issue 19's hostile repository through the CLI under time and memory ceilings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.scanner import fingerprint, model_constants, scan_path, textutil
from common.scanner.detectors.base import SourceFile
from common.scanner.detectors.languages import crate_name, crate_uses_llm
from common.scanner.detectors.model_files import pickle_globals
from common.scanner.display import display_text
from common.scanner.limits import AliasExpansionTooLarge, NestingTooDeep, check_yaml, parse_json
from common.scanner.registry import all_detectors
from common.scanner.textutil import one_scan
from common.scanner.worker import FileBudgetExceeded, cpu_budget, scan_file
from tests.hostile_repo import billion_laughs, write_hostile_repo

ROOT = Path(__file__).resolve().parents[2]
FILE_CEILING_SECONDS = 10  # generous: each file below takes well under a second (bench/bench_hostile.py)
LENGTH = 100_000

# one file per detector family; each line is a long run of what the patterns repeat
TARGETS = [
    ".env", "app.js", "app.ts", "app.rb", "main.tf", "Program.cs", "app.csproj", "package.json",
    "tsconfig.json", "main.go", "lib.rs", "pom.xml", "build.gradle", "App.java", "app.py", "setup.py",
    "Dockerfile", "docker-compose.yml", "deployment.yaml", "template.json", "notebook.ipynb", "mcp.json",
    "workflow.json", "requirements.txt", "pyproject.toml", "Gemfile", "go.mod", "Cargo.toml", "yarn.lock",
    "app.php", "App.swift", "Package.swift", "Package.resolved", "Podfile", "Podfile.lock",
    "project.pbxproj",
]  # fmt: skip
RUNS = [
    "a", " ", "\t", "-", ".", "/", ":", "=", "\\", "@", "$", "${", "{", "[", "(", "<", ",", "'a", '"a',
    "a.", "a-", "a:", "a::", "a=", "a ", "\\\"", "import ", "import(", "require(", "from ", "new ", "use a",
    "<dependency>", "<PackageReference ", "sk-proj-", "x-", "http://a", "model=", "FROM ", "image: ", "- ",
    '"": ', "\\u0035",
]  # fmt: skip
PREFIXES = ["", 'x = "', "x = '", "x = `", "KEY=", '"model": "', "api_key = ", 'resource "a" ']


def pathological_text() -> str:
    lines = []
    for prefix in PREFIXES:
        for run in RUNS:
            lines.append(prefix + run * (LENGTH // len(run) // len(PREFIXES)) + "!")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", TARGETS)
def test_every_detector_is_linear_on_pathological_shapes(tmp_path, name):
    """No budget here: the file must finish on its own, so a quadratic or exponential pattern
    (100 KB of one shape per prefix) fails this instead of being stopped."""
    path = tmp_path / name
    path.write_text(pathological_text())
    source = SourceFile(path=path, relpath=name, size=path.stat().st_size)
    started = time.process_time()
    scan_file(source, all_detectors(), 5 * 1024 * 1024, budget_seconds=0)
    assert time.process_time() - started < FILE_CEILING_SECONDS


def test_yaml_aliases_and_nesting_are_bounded_before_parsing():
    with pytest.raises(AliasExpansionTooLarge):
        check_yaml(billion_laughs("services: {}"))
    with pytest.raises(NestingTooDeep):
        check_yaml("model: " + "[" * 30_000 + "]" * 30_000)
    with pytest.raises(NestingTooDeep):
        check_yaml("- " * 30_000 + "x")
    check_yaml("base: &base {image: ollama/ollama}\napp:\n  <<: *base\nworker:\n  <<: *base\n")


def test_json_nesting_is_bounded_outside_strings():
    with pytest.raises(NestingTooDeep):
        parse_json("[" * 300 + "]" * 300)
    assert parse_json('{"a": "' + "[" * 5000 + '"}') == {"a": "[" * 5000}


def test_a_yaml_that_crashed_the_c_loader_is_a_warning_in_every_yaml_detector(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("model: " + "[" * 30_000 + "]" * 30_000 + "\n")
    (tmp_path / "app.py").write_text("import openai\n")
    result = scan_path(tmp_path, jobs=1)
    assert {w.file for w in result.warnings} == {"docker-compose.yml"}
    assert [c.name for c in result.components] == ["openai"]


def test_stack_global_after_a_pop_of_junk_resolves_to_what_runs():
    evasive = b"\x80\x04\x8c\x02os\x8c\x06system\x8c\x04junk0\x93\x8c\x02id\x85R."
    _, found, unresolved = pickle_globals(evasive)
    assert found == ["os.system"] and not unresolved


def test_calls_the_analysis_cannot_resolve_are_reported():
    # REDUCE on the result of getattr(...): the callable is not a known global
    indirect = b"\x80\x04\x8c\x08builtins\x8c\x07getattr\x93\x8c\x02os\x8c\x06system\x86R\x8c\x02id\x85R."
    _, found, unresolved = pickle_globals(indirect)
    assert found == ["builtins.getattr"] and any("REDUCE" in u for u in unresolved)
    # STACK_GLOBAL whose operands come from a call, not from strings
    computed = b"\x80\x04\x8c\x08builtins\x8c\x03str\x93)R\x8c\x01x\x93."
    assert any("STACK_GLOBAL" in u for u in pickle_globals(computed)[2])


def test_a_file_name_that_is_not_utf8_is_carried_with_surrogate_escapes(tmp_path):
    name = os.fsdecode(b"caf\xe9.py")
    (tmp_path / name).write_text("import openai\n")
    result = scan_path(tmp_path, jobs=1)
    assert result.components[0].locations[0].file == name
    assert fingerprint(f"file:{name}")
    json.dumps(result.to_dict())  # ASCII-escaped JSON carries it


def _run_cli_measured(args: list[str]) -> tuple[int, float, int]:
    """Exit code, wall seconds and peak RSS (KiB) of the CLI and every process it started."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "started = time.monotonic()\n"
        "code = subprocess.call(sys.argv[1:])\n"
        "print(code, time.monotonic() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "common.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    code, seconds, peak = output.stdout.split()
    return int(code), float(seconds), int(peak)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_hostile_repository_scans_in_bounded_time_and_memory_through_the_cli(tmp_path, jobs):
    expected = write_hostile_repo(tmp_path / "repo")
    report = tmp_path / "report.json"
    code, seconds, peak_kib = _run_cli_measured(
        ["scan", str(tmp_path / "repo"), "--format", "json", "-o", str(report), "--quiet", "--jobs", jobs]
    )
    assert code == 0
    assert seconds < 180 and peak_kib < 1536 * 1024, (seconds, peak_kib)
    data = json.loads(report.read_text())
    # outputs show a name's undecodable bytes as \xNN (common.scanner.display)
    expected = {display_text(relpath): what for relpath, what in expected.items()}
    warned = {w["file"] for w in data["warnings"]}
    assert {f for f, what in expected.items() if what == "warning"} <= warned
    components = {location["file"]: c for c in data["components"] for location in c["locations"]}
    for relpath, what in expected.items():
        if what == "finding":
            assert relpath in components, relpath
        elif what == "dangerous_code":
            assert "dangerous_code" in components[relpath]["flags"], relpath
        elif what == "absent":
            assert relpath not in components, relpath
    gguf = components["model.gguf"]["metadata"]
    assert gguf["sha256_skipped"].startswith("sparse") and "sha256" not in gguf


def test_token_boundaries_without_look_around_match_like_the_look_around_did():
    from common.scanner.limits import BoundedPattern

    key = BoundedPattern(r"hf_[A-Za-z0-9]{34,}", "A-Za-z0-9_-")
    one, two = "hf_" + "a1" * 17, "hf_" + "b2" * 17
    assert [m.group(0) for m in key.finditer(f"{one} {two}")] == [one, two]  # one separator apart
    assert not list(key.finditer(f"x{one}")) and not list(key.finditer(f"{one}-x"))  # glued on either side
    assert key.sub(lambda m: "***", f"a={one};b={two}") == "a=***;b=***"


QUADRATIC_SHAPES = [
    # ``\w*_deployment(?:_\w+)?`` backtracked over every ``_deployment`` of one long word
    ("config.ts", 'import OpenAI from "openai";\n' + "_deployment" * 10_000),
    # every model-id literal of a one-line file re-read the whole line before it for its context
    ("models.ts", '"gpt-4o",' * 3_500),
    ("models.py", 'MODELS = ["gpt-4o",' + '"gpt-4o",' * 3_500 + "]"),
    # every catalog literal of a long line checked against the comment after the line's code
    ("commented.py", 'import openai\nx = ["gpt-4o-mini", ' + '"gpt-4o", ' * 3_500 + '] # "o3-mini"\n'),
    # every ``<package `` of a packages.config without ``>`` tried every ``id=`` after it to the end
    ("packages.config", '<package id="a" ' * 1_500),
    # each npm alias of one package was located by its own pass over the file
    ("package.json", '{"dependencies": {' + ",".join(f'"a{i}": "npm:openai@1"' for i in range(8_000)) + "}}"),
    # each Java MCP server's serverInfo variable was looked up in all the text before it
    (
        "Main.java",
        "import io.modelcontextprotocol.server.McpServer;\nclass A {\n"
        + "McpServer.sync(t).serverInfo(info);\n" * 7_000
        + "}\n",
    ),
    # each OpenAI function-tool object of a file of unclosed ``{`` was searched to the end of the file
    ("functions.ts", 'import OpenAI from "openai";\n' + '{"type": "function", "name": ' * 3_400),
    # each JS tool held in a variable was looked up as an object key in the whole file
    (
        "tools.ts",
        'import { tool } from "ai";\n'
        + "".join(f'const t{i} = tool({{ description: "x" }});\n' for i in range(3_500)),
    ),
    # each MCP server handed an info object looks for the object's assignment before it
    (
        "servers.ts",
        'import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";\n'
        + "const info = { version: 1 };\n" * 3_000
        + "new McpServer(info);\n" * 3_000,
    ),
    # each langchaingo ``Name()`` method asks whether its type also has ``Call``
    (
        "tools.go",
        'package t\nimport "github.com/tmc/langchaingo/tools"\n'
        + "".join(f'func (t T{i}) Name() string {{ return "n{i}" }}\n' for i in range(3_000)),
    ),
    # each LangChain.js tool class looks for its ``name`` field in the text after it
    (
        "classes.ts",
        'import { StructuredTool } from "@langchain/core/tools";\n'
        + "class A extends StructuredTool { description = 1 }\n" * 4_000,
    ),
    # each Rust ``impl Tool for`` looks for its ``fn name`` only up to the next one
    (
        "tools.rs",
        "use ollama_rs::generation::tools::Tool;\n" + "impl Tool for A { fn name() -> &'static str\n" * 4_000,
    ),
    # each unclosed Rust test module was measured again to the end of the file from its own start
    (
        "lib.rs",
        'use async_openai::Client;\nconst M: &str = "gpt-4o";\n' + "#[cfg(test)]\nmod t {\n" * 20_000,
    ),
    # a Rust tool attribute, an MCP tool macro and a builder name, each unclosed, to the end of the file
    (
        "server.rs",
        "use rmcp::ServerHandler;\n" + '#[tool(name = "x"\n#[mcp_tool(name = "y"\nServer::new("z"\n' * 8_000,
    ),
    # each hand-rolled Rust function tool, unclosed, reads its own object only; quotes of lifetimes and
    # char literals among them
    (
        "defs.rs",
        "fn f<'a>(c: &'a str) -> char { '{' }\n"
        + 'json!({"type": "function", "function": {"name": "x", "parameters": {\n' * 15_000,
    ),
    # each rmcp child process handed a variable reads back a bounded stretch for its command, and each
    # rust-mcp-sdk launch its bounded argument list
    (
        "hosts.rs",
        "use rmcp::ServiceExt;\n"
        + 'let mut cmd = Command::new("npx"); cmd.arg("-y"); TokioChildProcess::new(cmd)\n' * 8_000
        + 'StdioTransport::create_with_server_launch("npx", vec!["' * 8_000,
    ),
    # each Java server named through a constant resolves it
    (
        "Servers.java",
        "import io.modelcontextprotocol.server.McpServer;\nclass A {\n"
        + 'static final String NAME = "x";\n'
        + "McpServer.sync(t).serverInfo(NAME, VERSION);\n" * 5_000
        + "}\n",
    ),
    # each Java server handed its own info variable searched the whole file for that variable's assignment
    (
        "Infos.java",
        "import io.modelcontextprotocol.server.McpServer;\nclass A {\n"
        + "".join(f"McpServer.sync(t).serverInfo(info{i});\n" for i in range(6_000))
        + "}\n",
    ),
    # each Python MCP server looked for its assignment among all of them, and each call for itself in the
    # list of servers
    ("servers.py", "from mcp.server.fastmcp import FastMCP\n" + 'mcp = FastMCP("n")\n' * 30_000),
    # a key of a Vercel AI ``tools`` map was tried from every '-' of a long hyphenated word to its end
    ("map.ts", 'import { generateText } from "ai";\ngenerateText({ tools: { ' + "a-" * 250_000 + " } });\n"),
    # the Vercel AI import was looked for from every line of a run of empty lines to the run's end
    ("chat.ts", 'const provider = "ai";\n' + "\n" * 500_000),
    # and so were the object keys a JS tool held in a variable may be listed under
    ("held.ts", 'import { tool } from "ai";\nconst weather = tool({ description: "x" });\n' + "\n" * 500_000),
    # each nameless object holding an ``inputSchema`` looks for the name of the object it is a value in:
    # one parent of many such children is searched once, not once per child
    (
        "records.ts",
        'import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";\nconst all = {\n'
        + "".join(f"  t{i}: {{ inputSchema: {{}} }},\n" for i in range(20_000))
        + "};\n",
    ),
    # the elements of a Go slice of tool structs are read token by token: an unclosed string is tried
    # from each of its quotes, so a string is bounded; each slice is read once, unclosed ones to a window
    (
        "slices.go",
        'package t\nimport "github.com/anthropics/anthropic-sdk-go"\nvar t = []anthropic.ToolParam{"'
        + '\\"' * 200_000
        + "\n"
        + "[]anthropic.ToolParam{{\n" * 20_000,
    ),
    # PHP: a nameless ``#[McpTool]`` is named after the next method, found among all methods once (not
    # by a search from each attribute); an unclosed group ``use`` and unclosed tool calls
    ("tools.php", "<?php\nuse PhpMcp\\Server\\Attributes\\McpTool;\n" + "#[McpTool]\n" * 100_000),
    ("group.php", "<?php\nuse Prism\\Prism\\{" + "Tool, " * 100_000 + "\nTool::as(" * 50_000),
    # each MCP transport handed a variable looks its URL up among the file's assignments, read once per
    # file (not by a search of the whole file per transport); unclosed ``useMcp({`` and ``createMCPClient({``
    (
        "transports.ts",
        'import { Client } from "@modelcontextprotocol/sdk/client/index.js";\n'
        + "".join(f'const u{i} = new URL("https://h{i}.example/mcp");\n' for i in range(3_000))
        + "".join(f"new SSEClientTransport(u{i});\n" for i in range(6_000))
        + 'import { useMcp } from "use-mcp/react";\n'
        + "useMcp({ clientName: 'x',\n" * 5_000
        + "createMCPClient({ transport: { type: 'sse', " * 50_000,
    ),
    # Swift: a Foundation Models tool's ``name`` is searched for up to the next tool type only; unclosed
    # entry-point calls and model members; a Package.swift of unclosed ``.package(`` calls
    (
        "Tools.swift",
        "import FoundationModels\n" + "struct T: Tool {\n" * 50_000 + 'let name = "x"\n',
    ),
    ("Calls.swift", "import MCP\nimport OpenAI\n" + "Server(OpenAI(model: .gpt4_o " * 30_000),
    ("Package.swift", '.package(url: "' * 50_000),
    # the Bicep parser matches an RE2 pattern at each position, and RE2's binding encoded the whole file
    # for every match: 300 KB of one resource's keys took ~35 s
    (
        "main.bicep",
        "resource a 'Microsoft.CognitiveServices/accounts@2023-05-01' = {\n  properties: {\n"
        + "".join(f"    k{i}: 'v'\n" for i in range(20_000))
        + "  }\n}\n",
    ),
]


@pytest.mark.parametrize(("name", "text"), QUADRATIC_SHAPES, ids=[name for name, _ in QUADRATIC_SHAPES])
def test_shapes_that_were_quadratic_finish_within_the_ceiling(tmp_path, name, text):
    """Run under a budget of the ceiling, so a quadratic cost fails fast instead of running for minutes."""
    path = tmp_path / name
    path.write_text(text)
    source = SourceFile(path=path, relpath=name, size=path.stat().st_size)
    report, _ = scan_file(source, all_detectors(), 5 * 1024 * 1024, budget_seconds=FILE_CEILING_SECONDS)
    assert not [warning for warning in report.warnings if "CPU budget" in warning]


def test_a_long_word_before_a_constant_reference_is_not_quadratic_after_the_files_pass():
    """Constant references are resolved after every file's own pass (``referenced_constants``),
    outside the per-file budget: the qualifier search before a reference tried every start of a long
    word (60 KB took ~30 s CPU; 1 MB, hours), so the scan ran under no bound. Played under a budget."""
    constants = {"GPT_4O": {"pkg/models.py": "gpt-4o"}}
    text = "x = " + "a" * 60_000 + " + GPT_4O\n"
    with cpu_budget(FILE_CEILING_SECONDS):
        found = model_constants._references_in("pkg/use.py", text, re.compile(r"\b(GPT_4O)\b"), constants)
    assert [(f.name, f.location.line) for f in found] == [("gpt-4o", 1)]


@pytest.mark.parametrize(
    ("manifest", "body", "source", "code"),
    [
        ("Cargo.toml", "[package]\n" + "\n" * 250_000, "examples/main.rs", "use async_openai::Client;\n"),
        ("pyproject.toml", "[project]\n" + " \n" * 120_000, "examples/app.py", "import openai\n"),
    ],
    ids=["cargo", "pyproject"],
)
def test_a_manifest_read_beside_an_example_is_searched_in_linear_time(tmp_path, manifest, body, source, code):
    """The manifest above an example is read for the project's own package name: a table header followed
    by blank lines made the name search quadratic (250 KB, ~30 s CPU), paid again by every file below it
    since a search stopped by the budget is not remembered."""
    (tmp_path / manifest).write_text(body)
    path = tmp_path / source
    path.parent.mkdir()
    path.write_text(code)
    file = SourceFile(path=path, relpath=source, size=path.stat().st_size)
    with one_scan():
        report, _ = scan_file(file, all_detectors(), 5 * 1024 * 1024, budget_seconds=FILE_CEILING_SECONDS)
    assert not [warning for warning in report.warnings if "CPU budget" in warning]


def test_a_manifest_read_the_budget_stops_is_not_read_again_by_every_file_below(tmp_path, monkeypatch):
    """A manifest whose own-package search outlasts the file's CPU budget costs that budget once per scan:
    retried by every file below it, a hostile manifest above 1,000 files was 1,000 budgets."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "acme"\n')
    reads = []

    def stopped_by_the_budget(folder, registry, root):
        reads.append(folder)
        raise FileBudgetExceeded

    monkeypatch.setattr(textutil, "_own_packages_in", stopped_by_the_budget)
    files = []
    for index in range(3):
        path = tmp_path / "examples" / f"app{index}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text("import openai\n")
        files.append(SourceFile(path=path, relpath=f"examples/app{index}.py", size=path.stat().st_size))
    stopped = 0
    with one_scan():
        for file in files:
            try:
                textutil.own_packages(file, "pypi")
            except FileBudgetExceeded:
                stopped += 1
        assert textutil.own_packages(files[0], "pypi") == frozenset()
    # each folder (examples/, then the root) stops one file, once
    assert sorted(reads) == sorted({str(tmp_path / "examples"), str(tmp_path)}) and stopped == 2, reads


@pytest.mark.parametrize("reader", [crate_name, crate_uses_llm], ids=["crate_name", "crate_uses_llm"])
def test_the_cargo_toml_above_a_rust_file_is_read_in_linear_time(tmp_path, reader):
    """The package name and dependencies of the Cargo.toml above a Rust file were searched from every line
    of a run of empty lines to its end: 250 KB (the neighbour-file limit) took ~50 s of CPU."""
    (tmp_path / "Cargo.toml").write_text("[package]\n" + "\n" * 250_000)
    path = tmp_path / "src" / "lib.rs"
    path.parent.mkdir()
    path.write_text("fn main() {}\n")
    with cpu_budget(FILE_CEILING_SECONDS):
        assert not reader(SourceFile(path=path, relpath="src/lib.rs", size=path.stat().st_size))


XXE_DOCTYPE = (
    '<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY secret SYSTEM "file:///etc/hostname">'
    '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>\n'
)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("packages.config", '<packages><package id="&secret;&d;" version="&d;" /></packages>'),
        (
            "app.csproj",
            '<Project><ItemGroup><PackageReference Include="&secret;&d;" /></ItemGroup></Project>',
        ),
        (
            "Directory.Packages.props",
            '<Project><ItemGroup><PackageVersion Include="&d;" /></ItemGroup></Project>',
        ),
        (
            "pom.xml",
            "<project><dependencies><dependency><artifactId>&secret;&d;</artifactId></dependency></dependencies></project>",
        ),
    ],
)
def test_xml_manifests_expand_no_entities(tmp_path, name, body):
    """The XML manifests are read as text, never by an XML parser: an external entity is not fetched and
    nested entities are not expanded (``&d;`` stays five characters, not a million)."""
    path = tmp_path / name
    path.write_text(XXE_DOCTYPE + body)
    source = SourceFile(path=path, relpath=name, size=path.stat().st_size)
    report, _ = scan_file(source, all_detectors(), 5 * 1024 * 1024, budget_seconds=FILE_CEILING_SECONDS)
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else "\x00"
    rendered = json.dumps([finding.__dict__ for finding in report.findings], default=str)
    assert hostname not in rendered and "aaaaaaaaaa" not in rendered
    assert not report.warnings


def _arm_template(resources: list, parameters: dict | None = None, variables: dict | None = None) -> str:
    schema = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
    return json.dumps(
        {
            "$schema": schema,
            "parameters": parameters or {},
            "variables": variables or {},
            "resources": resources,
        }
    )


def _nested_deployments(levels: int) -> list:
    resources = [{"type": "Microsoft.CognitiveServices/accounts", "name": "[parameters('n')]"}]
    for _ in range(levels):
        template = _arm_template(resources, {"n": {"type": "string"}})
        deployment = {
            "type": "Microsoft.Resources/deployments",
            "name": "m",
            "properties": {
                "expressionEvaluationOptions": {"scope": "inner"},
                "parameters": {"n": {"value": "[concat(parameters('n'), parameters('n'))]"}},
                "template": json.loads(template),
            },
        }
        resources = [deployment]
    return resources


DEPLOYMENT = "Microsoft.CognitiveServices/accounts/deployments"
ARM_SHAPES = [
    # each variable doubles the one before: 2**80 characters if strings were not capped
    _arm_template(
        [
            {
                "type": DEPLOYMENT,
                "name": "[variables('v80')]",
                "properties": {"model": {"name": "[variables('v80')]"}},
            }
        ],
        variables={
            "v0": "ab",
            **{f"v{i}": f"[concat(variables('v{i - 1}'), variables('v{i - 1}'))]" for i in range(1, 81)},
        },
    ),
    # parameters defaulting to each other, a copy count of a billion, on thousands of resources
    _arm_template(
        [
            {
                "type": DEPLOYMENT,
                "name": "[parameters('a')]",
                "copy": {"name": "c", "count": 1_000_000_000},
                "properties": {"model": {"name": "[parameters('b')]"}},
            }
        ]
        * 20_000,
        parameters={"a": {"defaultValue": "[parameters('b')]"}, "b": {"defaultValue": "[parameters('a')]"}},
    ),
    # an expression nested far deeper than any template writes one, and one never closed
    _arm_template([{"type": DEPLOYMENT, "name": "[" + "concat(" * 20_000 + "'a'" + ")" * 20_000 + "]"}]),
    _arm_template([{"type": DEPLOYMENT, "name": "[concat('" + "a" * 100_000 + "]"}]),
    # inline nested deployments as deep as the JSON nesting limit lets them be
    _arm_template(_nested_deployments(40)),
]


@pytest.mark.parametrize("text", ARM_SHAPES, ids=["doubling", "cycles-copies", "deep", "unclosed", "nested"])
def test_arm_templates_are_evaluated_within_bounds(tmp_path, text):
    """ARM template expressions are evaluated on one step budget with capped strings, lists and copies:
    a hostile template finishes under the file ceiling and reports no name built from runaway text."""
    path = tmp_path / "azuredeploy.json"
    path.write_text(text)
    source = SourceFile(path=path, relpath=path.name, size=path.stat().st_size)
    report, _ = scan_file(source, all_detectors(), 5 * 1024 * 1024, budget_seconds=FILE_CEILING_SECONDS)
    assert not [warning for warning in report.warnings if "CPU budget" in warning]
    assert all(len(finding.name) < 200 for finding in report.findings)

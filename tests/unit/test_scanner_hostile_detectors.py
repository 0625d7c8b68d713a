"""Hostile files against the detector rules added since round 19 (request bodies, Bicep params, Gradle
scripts, compose ``env_file``, here-doc MCP configs, Rust and C# MCP clients, VS Code model settings): each
shape cost seconds of CPU, or seconds per file of a folder, before its fix. Each file is scanned under a
small CPU budget: a file it stops reports a warning and loses its findings, which the tests assert
against."""

from __future__ import annotations

import json

import pytest

from common.scanner import limits, redaction, scan_path
from common.scanner.detectors import mcp_config, python_code
from common.scanner.detectors.base import SourceFile
from common.scanner.detectors.code_declarations import opens_with_comment
from common.scanner.detectors.mcp_config import written_files
from common.scanner.registry import all_detectors
from common.scanner.textutil import one_scan
from common.scanner.worker import scan_file
from tests.unit.scanner_helpers import count_opens

BUDGET_SECONDS = 1.5  # each file below takes under 0.4 s after its fix, and 3.5 s or more before


def scanned(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    source = SourceFile(path=path, relpath=name, size=path.stat().st_size, root=str(tmp_path))
    with one_scan():
        report, _ = scan_file(source, all_detectors(), 5 * 1024 * 1024, BUDGET_SECONDS)
    assert not [warning for warning in report.warnings if "CPU budget" in warning], report.warnings
    return report


def test_a_line_of_rust_server_map_inserts_is_read_a_bounded_number_of_times(tmp_path):
    """Each ``mcp_servers.insert("a",`` read its value's call to its end (1,500 characters in Python) and
    copied its line back to its start: 200 KB of them on one line cost 3.7 s."""
    entry = 'mcp_servers.insert("fs".to_string(), Config::Stdio { command: "npx".into(), args: vec![] });\n'
    report = scanned(tmp_path, "src/lib.rs", entry + "fn main() {" + 'mcp_servers.insert("a",' * 9_000 + "\n")
    assert "fs" in {finding.name for finding in report.findings}


def test_comment_markers_are_found_from_the_line_start_once_per_line():
    text = "x = 1\n   // mcp_servers.insert(\n\t# a(b(\ncode(); // a(\n"
    firsts: dict[int, int] = {}
    assert opens_with_comment(text, text.index("mcp_servers"), ("//",), firsts)
    assert opens_with_comment(text, text.index("a(b"), ("#", "//"), firsts)
    assert not opens_with_comment(text, text.index("a(b"), ("//",), firsts)
    assert not opens_with_comment(text, text.index("a(\n"), ("//",), firsts)
    assert not opens_with_comment(text, text.index("x"), ("//",), firsts)


def test_unclosed_csharp_transport_options_are_read_a_bounded_number_of_times(tmp_path):
    """Each transport's options object ran to the end of a file of unclosed ``{`` and was searched whole
    with ``re`` three times: 40 KB cost 0.9 s, growing with the square of the size."""
    server = 'var a = new StdioClientTransport(new() { Name = "files", Command = "npx" });\n'
    report = scanned(
        tmp_path,
        "Client.cs",
        "using ModelContextProtocol.Client;\n" + server + "new SseClientTransport(new() { " * 3_000,
    )
    assert "files" in {finding.name for finding in report.findings}


def test_a_vs_code_extension_with_thousands_of_model_settings_is_located_in_one_pass(tmp_path):
    """Each setting's key was searched for from the first line: 10,000 settings cost 46 s."""
    settings = {f"ext.s{index}.model": {"type": "string", "default": "gpt-4o"} for index in range(5_000)}
    manifest = {"name": "ext", "contributes": {"configuration": {"properties": settings}}}
    report = scanned(tmp_path, "package.json", json.dumps(manifest, indent=1))
    lines = sorted(finding.location.line for finding in report.findings if finding.name == "gpt-4o")
    assert len(lines) == 100 and lines[:2] == [8, 12]  # the first settings' defaults, below their keys


def test_an_env_file_every_compose_service_names_is_read_once_per_scan(tmp_path, monkeypatch):
    """Each service read and matched every ``env_file`` it names, and every spelling of one path
    (``x/../a.env``) was another read: 300 services naming one 240 KB file cost 2 s."""
    (tmp_path / "x").mkdir()
    (tmp_path / "a.env").write_text("X=1\n" * 1_000 + "OPENAI_API_KEY=\n")
    services = "".join(
        f"  s{index}:\n    image: ghcr.io/open-webui/open-webui\n    env_file: [a.env, x/../a.env]\n"
        for index in range(300)
    )
    (tmp_path / "docker-compose.yml").write_text("services:\n" + services)
    opened = count_opens(monkeypatch, tmp_path / "a.env")
    scan_path(tmp_path, jobs=1)
    assert len(opened) <= 2  # scanned as a file of its own, and read once beside the compose file


def test_aliases_of_a_long_scalar_are_refused_like_a_billion_laughs():
    """One 50 KB ``run:`` script aliased by 100 steps is 100 nodes, but every detector read its text 100
    times: a 100 KB workflow cost 22 s."""
    script = "x" * 50_000
    with pytest.raises(limits.AliasExpansionTooLarge):
        limits.check_yaml(f"a: &s {script}\nb: [" + ", ".join(["*s"] * 41) + "]\n")
    limits.check_yaml(f"a: &s {script}\nb: [" + ", ".join(["*s"] * 39) + "]\n")
    with pytest.raises(limits.AliasExpansionTooLarge):
        limits.check_yaml(f"a: &m {{k: [{script}]}}\nb: [" + ", ".join(["*m"] * 41) + "]\n")


def test_a_workflow_of_aliased_here_document_scripts_is_a_warning_not_seconds(tmp_path):
    config = json.dumps(
        {"mcpServers": {f"s{i}": {"command": "npx", "args": ["-y", "x"]} for i in range(400)}}
    )
    script = "".join(f"          {line}\n" for line in ["cat > .mcp.json <<'EOF'", config, "EOF"] * 4)
    steps = "      - run: *s\n" * 100
    workflow = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: &s |\n" + script + steps
    report = scanned(tmp_path, ".github/workflows/agent.yml", workflow)
    assert any("aliases expand" in warning for warning in report.warnings)


def test_a_long_line_of_client_base_urls_is_read_in_linear_time(tmp_path):
    """Each URL of a line was tried against every string literal of the line, and each finding's snippet
    masked the line's window again: 200 KB of ``.with_api_base("http://a");`` cost 3.6 s."""
    head = 'use async_openai::Client;\nlet c = Config::new().with_api_base("http://localhost:11434/v1");\n'
    text = head + 'let urls = ["http://a",' + '"http://a",' * 12_000 + "];\n"
    report = scanned(tmp_path, "src/main.rs", text)
    assert any(finding.type == "endpoint" for finding in report.findings)


def test_the_findings_of_one_line_mask_its_window_once(monkeypatch):
    calls = []
    real_mask = redaction.mask_text
    monkeypatch.setattr(
        redaction, "mask_text", lambda text, known=(): calls.append(text) or real_mask(text, known)
    )
    line = 'key = "sk-' + "a1b2" * 12 + '" ' + "x" * 5_000
    snippets = {redaction.clip(line) for _ in range(50)}
    assert len(calls) == 1 and len(snippets) == 1 and "a1b2a1b2a1b2" not in snippets.pop()
    redaction.clip("other text")
    assert len(calls) == 2


def test_a_line_start_is_of_the_text_asked_about_not_the_last_one_measured():
    limits.line_at("a\nb\nc\nd\n", 7)
    assert limits.line_start("x\ny", 2) == 2
    assert limits.line_start("x\ny", 1) == 0


def stacked_heredocs_step(body: list[str]) -> str:
    """A workflow step whose script stacks 50 here-document headers, each line the next's body."""
    heads = [f'x = """cat > .codex/config.toml <<E{index}' for index in range(50)]
    lines = [*heads, '"""', *body, *(f"E{index}" for index in range(50))]
    return "      - run: |\n" + "".join(f"          {line}\n" for line in lines)


def test_stacked_here_documents_of_a_long_toml_key_are_not_parsed_for_seconds(tmp_path):
    """Each of 50 stacked documents was parsed by ``tomllib`` itself, whose dotted keys cost quadratic
    time: a 50 KB step cost 5.8 s."""
    step = stacked_heredocs_step(["mcp_servers." + "a." * 22_000 + "b = 1"])
    scanned(tmp_path, ".github/workflows/agent.yml", "on: push\njobs:\n  a:\n    steps:\n" + step * 2)


def test_stacked_here_documents_are_read_at_most_twice_over_and_nested_ones_still_read():
    stacked = "".join(f"cat > .mcp.json <<E{index}\n" for index in range(50)) + "{}\n"
    stacked += "".join(f"E{index}\n" for index in range(50))
    assert sum(len(body) for _, body in written_files(stacked)) <= 2 * len(stacked)  # was 25 times over
    nested = "cat > setup.sh <<'OUTER'\ncat > .mcp.json <<EOF\n{}\nEOF\nOUTER\n"
    assert [path for path, _ in written_files(nested)] == ["setup.sh", ".mcp.json"]


def test_a_toml_here_document_is_parsed_with_the_dotted_key_limit(tmp_path, monkeypatch):
    parsed = []
    monkeypatch.setattr(mcp_config, "parse_toml", lambda text: parsed.append(text) or limits.parse_toml(text))
    config = ["cat > ~/.codex/config.toml <<EOF", "[mcp_servers.files]", 'command = "npx"', "EOF"]
    step = "      - run: |\n" + "".join(f"          {line}\n" for line in config)
    scanned(tmp_path, ".github/workflows/agent.yml", "on: push\njobs:\n  a:\n    steps:\n" + step)
    assert '[mcp_servers.files]\ncommand = "npx"' in parsed


def test_a_model_enum_member_repeated_is_resolved_once(tmp_path, monkeypatch):
    resolved = []
    real = python_code.model_id_from_constant_name
    monkeypatch.setattr(
        python_code,
        "model_id_from_constant_name",
        lambda name, **kw: resolved.append(name) or real(name, **kw),
    )
    members = "".join(f"x{index} = ModelType.GPT_4O_MINI\n" for index in range(2_000))
    others = "".join(f"y{index} = ModelType.GPT_{index}_X\n" for index in range(2_000))
    report = scanned(tmp_path, "agent.py", "from camel.types import ModelType\n" + members + others)
    assert resolved.count("GPT_4O_MINI") == 1 and len(resolved) == python_code.MAX_ENUM_MEMBERS
    assert "gpt-4o-mini" in {finding.name for finding in report.findings}

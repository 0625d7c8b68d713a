"""Constant references across files: only the lines the RE2 gate finds are walked, with the numbering
and answers of walking every line of ``str.splitlines``."""

from __future__ import annotations

import os
import re

from common.scanner import model_constants
from common.scanner.facts import FileFacts
from common.scanner.limits import linear
from tests.unit.scanner_helpers import component, scan_tree

CONSTANTS = {"GPT_4O": {"src/models.rs": "gpt-4o"}, "CLAUDE": {"src/models.rs": "claude-3-5-sonnet-20241022"}}
# every separator ``str.splitlines`` splits on, a comment naming a constant before its use, a name glued
# to a non-ASCII letter (RE2's ASCII word boundary matches there, ``re``'s does not) and a unit-test module
TEXT = (
    "#[cfg(test)]\nmod tests {\n    fn t() { let x = CLAUDE; }\n}\n"
    "// GPT_4O in a comment\r\n"
    "let a = éGPT_4O;\x0c"
    "let b = models::GPT_4O;\u2028"
    "let c = 1;\x1e\x85\v"
    "let d = CLAUDE + GPT_4O;\n"
)


def _pattern() -> re.Pattern:
    names = "|".join(sorted(map(re.escape, CONSTANTS), key=len, reverse=True))
    return re.compile(rf"\b({names})\b")


def _sightings(found) -> list[tuple[str, int, str]]:
    return [(f.name, f.location.line, f.location.snippet) for f in found]


def test_the_gated_lines_answer_as_every_line_does():
    gate = linear(r"\b(?:CLAUDE|GPT_4O)\b")
    lines = model_constants._lines_with_hits(TEXT, gate)
    every_line = model_constants._references_in("src/main.rs", TEXT, _pattern(), CONSTANTS)
    gated = model_constants._references_in("src/main.rs", TEXT, _pattern(), CONSTANTS, lines)
    assert (
        _sightings(gated)
        == _sightings(every_line)
        == [
            ("gpt-4o", 7, "let b = models::GPT_4O;"),
            ("claude-3-5-sonnet-20241022", 11, "let d = CLAUDE + GPT_4O;"),
        ]
    )
    assert list(lines) == [3, 5, 6, 7, 11]


def test_a_file_whose_only_hit_is_not_a_python_word_boundary_gives_nothing():
    gate = linear(r"\b(?:CLAUDE|GPT_4O)\b")
    text = "let a = éGPT_4O;\n"
    assert model_constants._lines_with_hits(text, gate) == {1: "let a = éGPT_4O;"}
    assert model_constants._references_in("a.rs", text, _pattern(), CONSTANTS, {1: "let a = éGPT_4O;"}) == []


def test_references_are_read_from_the_files_of_the_defining_language(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.rs").write_text(TEXT, newline="")
    (tmp_path / "src" / "app.py").write_text("x = GPT_4O\n")
    facts = {
        "src/models.rs": FileFacts(
            model_constants={"GPT_4O": "gpt-4o", "CLAUDE": "claude-3-5-sonnet-20241022"}
        )
    }
    found = model_constants.referenced_constants(
        tmp_path, ["src/main.rs", "src/app.py", "src/models.rs"], facts
    )
    assert [(f.location.file, f.name, f.location.line) for f in found] == [
        ("src/main.rs", "gpt-4o", 7),
        ("src/main.rs", "claude-3-5-sonnet-20241022", 11),
    ]


def test_a_rust_unit_test_module_ends_at_its_closing_brace():
    text = "fn main() {}\n#[cfg(test)]\nmod tests {\n    fn t() { if x { y } }\n}\nfn after() {}\n"
    assert model_constants.rust_test_module_lines(text) == {2, 3, 4, 5}


def test_a_name_inside_quoted_text_is_no_reference_unless_interpolated():
    text = (
        'cmd.description("Pick a brain: CLAUDE or GPT_4O");\n'
        'let label = format!("{GPT_4O} answers");\n'
        'print(f"model {config.CLAUDE}")\n'
    )
    found = model_constants._references_in("src/main.rs", text, _pattern(), CONSTANTS)
    assert _sightings(found) == [
        ("gpt-4o", 2, 'let label = format!("{GPT_4O} answers");'),
        ("claude-3-5-sonnet-20241022", 3, 'print(f"model {config.CLAUDE}")'),
    ]
    escaped = 'let x = "a\\"b"; let y = CLAUDE;\n'
    found = model_constants._references_in("src/main.rs", escaped, _pattern(), CONSTANTS)
    assert _sightings(found) == [("claude-3-5-sonnet-20241022", 1, 'let x = "a\\"b"; let y = CLAUDE;')]


def test_a_rust_module_that_only_re_exports_a_constant_does_not_use_it():
    reexport = (
        "pub use config::{\n    ModelConfig, GPT_4O,\n    CLAUDE,\n};\npub(crate) use models::CLAUDE as C;\n"
    )
    assert model_constants._references_in("src/client/mod.rs", reexport, _pattern(), CONSTANTS) == []
    used = "use crate::client::GPT_4O;\n\nfn model() -> String {\n    GPT_4O.to_string()\n}\n"
    assert _sightings(model_constants._references_in("src/agent.rs", used, _pattern(), CONSTANTS)) == [
        ("gpt-4o", 1, "use crate::client::GPT_4O;")
    ]


STUBBED_JVM_TREE = {
    "src/main/java/com/example/openai/ChatClient.java": (
        "package com.example.openai;\n\npublic class ChatClient {\n"
        '    static final String BASE_URL = "https://api.openai.com/v1/";\n}\n'
    ),
    "src/main/java/com/example/openai/OpenAIModel.java": (
        "package com.example.openai;\n\npublic enum OpenAIModel {\n"
        '    GPT_4_1("gpt-4.1"),\n    GPT_4O_MINI("gpt-4o-mini");\n\n    private final String id;\n\n'
        "    OpenAIModel(String id) {\n        this.id = id;\n    }\n}\n"
    ),
    "src/test/java/com/example/BaseClientTest.java": (
        "package com.example;\n\nimport okhttp3.mockwebserver.MockWebServer;\n\n"
        "public abstract class BaseClientTest {\n"
        "    protected MockWebServer server = new MockWebServer();\n}\n"
    ),
    "src/test/java/com/example/openai/ChatClientTest.java": (
        "package com.example.openai;\n\nimport com.example.BaseClientTest;\n\n"
        "class ChatClientTest extends BaseClientTest {\n"
        "    void sendsTheModel() {\n"
        '        new ChatClient(server.url("/")).send(OpenAIModel.GPT_4_1);\n    }\n}\n'
    ),
    "src/test/java/com/example/openai/StubbedHereTest.java": (
        "package com.example.openai;\n\nimport okhttp3.mockwebserver.MockWebServer;\n\n"
        "class StubbedHereTest {\n    MockWebServer server = new MockWebServer();\n\n"
        "    void sendsTheModel() {\n"
        '        new ChatClient(server.url("/")).send(OpenAIModel.GPT_4_1);\n    }\n}\n'
    ),
    "src/test/java/com/example/openai/LiveChatTest.java": (
        "package com.example.openai;\n\nclass LiveChatTest {\n"
        "    void asksTheRealApi() {\n"
        '        new ChatClient(System.getenv("OPENAI_API_KEY")).send(OpenAIModel.GPT_4_1);\n    }\n}\n'
    ),
}


def test_a_jvm_test_extending_a_base_class_that_stubs_the_server_names_no_model(tmp_path):
    """Requests of a test whose base test class (imported from another package) sets up a MockWebServer
    reach that stub, as those of a test that sets one up itself: the model constant it names is input for
    the code under test, while a test that calls the real API keeps its model."""
    result = scan_tree(tmp_path, STUBBED_JVM_TREE)
    files = {location.file for location in component(result, "model:gpt-4.1").locations}
    assert "src/test/java/com/example/openai/LiveChatTest.java" in files
    assert "src/test/java/com/example/openai/ChatClientTest.java" not in files
    assert "src/test/java/com/example/openai/StubbedHereTest.java" not in files


def test_the_family_of_a_path_is_that_of_its_splitext_suffix():
    names = [
        "a.py",
        "A.PY",
        ".py",
        "..py",
        "x/.rs",
        "x/..rs",
        "x/a..rs",
        "d.rs/file",
        "a.b.JS",
        "noext",
        "x/",
    ]
    names += ["src/.hidden/m.go", "a.", "x/.", "x/..", "a.tsx", "a.kts"]
    for relpath in names:
        expected = model_constants.FAMILY_OF_SUFFIX.get(os.path.splitext(relpath)[1].lower())
        assert model_constants._family(relpath) == expected, relpath


def test_files_without_a_reference_cost_no_splitext_or_path(tmp_path, monkeypatch):
    """Every walked path is asked its family and every code file read by the gate: neither goes through
    ``splitext`` or ``pathlib``, and a file the gate passes over never becomes a ``Path``."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.rs").write_text(TEXT, newline="")
    for index in range(5):
        (tmp_path / "src" / f"other{index}.rs").write_text("fn main() {}\n")
    facts = {"src/models.rs": FileFacts(model_constants={"GPT_4O": "gpt-4o"})}
    asked: list[str] = []

    def skip(path, relpath, text):
        asked.append(relpath)
        return False

    def no_splitext(path):
        raise AssertionError("splitext")

    monkeypatch.setattr(os.path, "splitext", no_splitext)
    relpaths = ["src/main.rs", *(f"src/other{index}.rs" for index in range(5)), "src/models.rs"]
    found = model_constants.referenced_constants(tmp_path, relpaths, facts, skip=skip)
    assert [(f.location.file, f.name) for f in found] == [("src/main.rs", "gpt-4o")]
    assert asked == ["src/main.rs"]  # the files named by the gate alone reach ``skip`` (with a Path)

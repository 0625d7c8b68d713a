"""Constant references across files: only the lines the RE2 gate finds are walked, with the numbering
and answers of walking every line of ``str.splitlines``."""

from __future__ import annotations

import re

from common.scanner import model_constants
from common.scanner.facts import FileFacts
from common.scanner.limits import linear

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

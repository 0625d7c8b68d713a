"""The cheaper forms of per-file mechanics give the answers of the forms they replace, and skip the
work they were written to skip."""

from __future__ import annotations

import ast
import os
import random
import re

import re2

from common.scanner import registry, textutil
from common.scanner.detectors import base, code_declarations, languages, python_code, secrets
from common.scanner.limits import linear

LITERAL = re.compile(r"""(["'`])((?:(?!\1)[^\\\n]|\\.){1,200})\1""")


def _literals_afresh(text: str) -> list[tuple[int, str]]:
    return [(match.start(), match.group(2)) for match in LITERAL.finditer(text)]


def test_quoted_literals_are_the_backreference_patterns():
    fixed = [
        "x = \"a\" + 'b' + `c${d}`",
        "\"\" \"a\" '' 'b'",
        '"unclosed \n "closed"',
        "\"esc \\\" quote\" 'it\\'s'",
        '"trailing backslash \\\n"next"',
        '"' + "y" * 200 + '" "' + "z" * 201 + '"',
        '"' + "\\n" * 200 + '" "' + "\\n" * 201 + '"',
        '"' + "a\\b" * 100 + '"',
        "`mixed ' \" quotes` 'and \" inside'",
        "\"é ünïcode\" '\u2028'",
    ]
    rnd = random.Random(13)
    alphabet = ['"', "'", "`", "\\", "\n", "\r", "a", " ", "é"]
    soups = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 80))) for _ in range(3000)]
    soups += ['"' + "x\\y" * rnd.randint(60, 140) + '"' + soup for soup in soups[:200]]
    for text in fixed + soups:
        assert textutil._quoted_literals(text) == _literals_afresh(text), text
        assert textutil.string_literals(text) == _literals_afresh(text), text


def test_a_text_with_a_long_line_keeps_the_bounded_pattern(monkeypatch):
    calls = []
    monkeypatch.setattr(textutil, "_quoted_literals", lambda text: calls.append(text) or [])
    long_line = '"\\"' * 1000 + "\n"
    assert textutil.string_literals(long_line) == _literals_afresh(long_line)
    assert calls == []
    textutil.string_literals('"short"\n')
    assert calls == ['"short"\n']


def test_the_literals_of_a_text_with_a_long_line_are_the_backreference_patterns():
    """Past ``_MAX_FAST_LINE`` the literals come from RE2's bounded pattern: the same matches."""
    rnd = random.Random(17)
    alphabet = ['"', "'", "`", "\\", "\n", "\r", "a", " ", "é", "\u2028"]
    long_line = "a" * (textutil._MAX_FAST_LINE + 1)
    texts = [
        '"' + "x\\y" * rnd.randint(60, 140) + '" "' + "z" * rnd.randint(190, 210) + '"' for _ in range(50)
    ]
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 600))) for _ in range(500)]
    for text in texts:
        text = f"{text}\n{long_line}\n{text}"
        assert textutil.string_literals(text) == _literals_afresh(text), text


def test_function_type_gate_answers_as_the_pattern():
    texts = [
        '{"type": "function", "function": {"name": "x"}}',
        "{type: 'function'}",
        "x.type: 'function'",
        "$type: 'function'",
        "my_type: 'function'",
        'tool_type = "function"',
        "function f() { return {kind: 'function'} }",
        "'type' :\n 'function'",
        "type:'function'",
    ]
    for text in texts:
        assert code_declarations.has_function_type(text) == bool(code_declarations.FUNCTION_TYPE.search(text))


def test_function_type_is_searched_only_where_the_gate_hits(monkeypatch):
    searched = []

    class Recording:
        def search(self, text):
            searched.append(text)
            return None

    monkeypatch.setattr(code_declarations, "FUNCTION_TYPE", Recording())
    assert not code_declarations.has_function_type("function add(a, b) { return a + b }\n" * 50)
    assert searched == []
    code_declarations.has_function_type('{"type": "function"}')
    assert searched == ['{"type": "function"}']


JS = """import OpenAI from "openai";
import { readFile } from "node:fs";
import * as path from "./local";
const { z } = require("zod");
const Anthropic = require("@anthropic-ai/sdk");
const doc = `import x from "langchain"`;
import("ollama");
"""
RUST = """use std::collections::HashMap;
use async_openai::{Client, types::CreateChatCompletionRequestArgs};
use serde::{Deserialize, Serialize};
pub mod local;
use local::Thing;
extern crate anthropic;
"""


def test_catalog_first_imports_equal_the_filtered_imports():
    for detector, text in ((languages.JavaScriptDetector(), JS), (languages.RustDetector(), RUST)):
        detector.renamed = {}
        expected = [(imp, p) for imp in detector.imports(text) if (p := detector.package_for(imp.module))]
        assert expected, "the samples import catalog packages"
        assert detector.imported_packages(text) == expected


def test_imports_of_no_catalog_package_get_no_bindings(monkeypatch):
    detector = languages.JavaScriptDetector()
    read = []
    original = languages.JavaScriptDetector._bindings
    monkeypatch.setattr(
        languages.JavaScriptDetector,
        "_bindings",
        staticmethod(lambda clause: read.append(clause) or original(clause)),
    )
    detector.imported_packages(JS)
    assert sorted(read) == ["", "Anthropic", "OpenAI"]  # ``import("ollama")`` binds nothing


def test_quick_match_objects_answer_as_the_bindings():
    sources = [r"(a)(b)?|(c)", r"(?P<name>\w+)=(\d+)?", r"x*", r"(é+)(ü)?"]
    texts = ["abc cab", "key=1 other= z", "", "xx y x", "éé ü éü", "a" * 300 + "é" + "c"]
    for source in sources:
        ours, theirs = linear(source), re2.compile(source)
        for text in texts:
            pairs = list(zip(ours.finditer(text), theirs.finditer(text), strict=True))
            for mine, binding in pairs:
                for group in range(ours.groups + 1):
                    assert mine.group(group) == binding.group(group) == mine[group]
                    assert (mine.start(group), mine.end(group), mine.span(group)) == (
                        binding.start(group),
                        binding.end(group),
                        binding.span(group),
                    )
                assert mine.group() == binding.group()
                assert mine.groups() == binding.groups()
                assert mine.group(0, ours.groups) == binding.group(0, ours.groups)
                for bad in (-1, ours.groups + 1):
                    for read in (
                        lambda m, bad=bad: m.group(bad),
                        lambda m, bad=bad: m.start(bad),
                        lambda m, bad=bad: m[bad],
                    ):
                        try:
                            read(mine)
                        except IndexError:
                            continue
                        raise AssertionError(f"group {bad} of {source!r} was answered")
            found = ours.search(text)
            expected = theirs.search(text)
            assert (found and (found.span(), found.group())) == (
                expected and (expected.span(), expected.group())
            )


def test_quick_match_groups_do_not_ask_re2_for_the_group_count(monkeypatch):
    pattern = linear(r"(a)(b)")
    match = pattern.search("xab")
    monkeypatch.setattr(type(match._regexp), "groups", property(lambda self: 1 / 0))
    assert (match.group(1), match[2], match.start(1), match.end(2), match.span(0)) == ("a", "b", 1, 3, (1, 3))


def test_nodes_by_type_follow_ast_walk():
    sources = [
        "import os\nclass A(B, metaclass=M):\n    x: int = 1\n    def f(self, *a, k=2, **kw):\n"
        "        return [i async for i in g() if i] or {k: v for k, v in d.items()}\n",
        "match x:\n    case [1, *rest] if rest: pass\n    case {'a': b, **kw}: pass\n",
        "try:\n    pass\nexcept* E as e:\n    raise\nfinally:\n    del x\n",
        "",
    ]
    for source in sources:
        tree = ast.parse(source)
        expected: dict[type, list[ast.AST]] = {}
        for node in ast.walk(tree):
            expected.setdefault(type(node), []).append(node)
        found = python_code.nodes_by_type(tree)
        assert list(found) == list(expected)
        assert all([id(n) for n in found[kind]] == [id(n) for n in expected[kind]] for kind in expected)


def test_module_selection_equals_every_selector_asked(tmp_path):
    names = [
        "index.ts",
        "requirements-dev.txt",
        "Dockerfile.prod",
        ".env.local",
        "mcp.json.example",
        "main.bicep",
        "x.unknown",
        "Makefile",
        "notebook.ipynb",
        "env.yml",
        "conda.yaml",
        "app.csproj",
    ]
    folders = ["", "src", "requirements", "docker"]
    for name in names:
        for folder in folders:
            relpath = f"{folder}/{name}" if folder else name
            lowered = name.lower()
            dot = lowered.rfind(".")
            suffix = lowered[dot:] if dot > 0 else ""
            expected = tuple(
                module
                for module in registry.detector_modules()
                if module not in registry.SELECTORS
                or registry.SELECTORS[module].matches(lowered, suffix, folder.lower())
            )
            assert registry.selected_modules(relpath) == expected, relpath


def test_containment_prefix_test_equals_commonpath():
    roots = ["/", "/srv/tree", "/srv/tree/sub"]
    paths = ["/", "/srv", "/srv/tree", "/srv/tree/a", "/srv/treehouse/a", "/srv/tree/sub/b", "/other"]
    for root in roots:
        for path in paths:
            assert base._inside(path, root) == (os.path.commonpath([path, root]) == root), (path, root)


def test_marked_lines_stop_cutting_at_the_last_marker():
    texts = ["a\nkey\r\nb\rkey x\x0bkey\u2028tail key", "no marker\nhere", "key", "\n\nkey\n\n", ""]
    for text in texts:
        expected = sorted({n for n, line in enumerate(text.splitlines(), start=1) if "key" in line})
        assert secrets.marked_lines(text, ("key",)) == expected

    class Counting(str):
        cut = 0

        def splitlines(self, *args, **kwargs):
            Counting.cut += 1
            return super().splitlines(*args, **kwargs)

    assert secrets.marked_lines(Counting("nothing to see\n" * 100), ("key",)) == []
    assert Counting.cut == 0


def test_an_in_process_scan_resolves_its_root_once(tmp_path, monkeypatch):
    """Not once per file: the count does not grow with the tree."""
    from common.scanner import scan_path, worker

    resolved = []
    real = os.path.realpath
    monkeypatch.setattr(
        worker.os.path,
        "realpath",
        lambda path, *args, **kwargs: resolved.append(str(path)) or real(path, *args, **kwargs),
    )
    counts = []
    for files in (2, 8):
        for index in range(files):
            (tmp_path / f"m{index}.py").write_text("import openai\n")
        resolved.clear()
        assert scan_path(tmp_path, jobs=1).components
        counts.append(resolved.count(str(tmp_path)))
    assert counts[0] == counts[1]


def test_the_budget_handler_is_checked_without_signals_enum_wrapper(monkeypatch):
    import signal

    from common.scanner import worker

    if not worker.budget_enforceable():
        return
    previous = signal.signal(signal.SIGPROF, signal.SIG_IGN)
    try:
        monkeypatch.setattr(signal, "getsignal", lambda signum: 1 / 0)
        with worker.cpu_budget(5):
            pass
        monkeypatch.undo()
        assert signal.getsignal(signal.SIGPROF) is worker._expire  # put back where a host replaced it
    finally:
        signal.signal(signal.SIGPROF, previous)

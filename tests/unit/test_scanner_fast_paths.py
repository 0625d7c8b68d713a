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


def _text_as_read(path, budget: int) -> str:
    with open(path, encoding="utf-8", errors="replace") as file:
        return file.read(budget)


def test_constant_references_gate_the_bytes_as_the_text_read_before(tmp_path):
    """``_gated_text`` answers the text ``open(..., "r").read(budget)`` gave, or None (a whole file the gate
    finds nothing in), with its length either way: invalid UTF-8, non-ASCII letters glued to a
    name, every kind of line end, and budgets that cut the text."""
    from common.scanner import model_constants

    gate = linear(r"\b(?:GPT_4O|CLAUDE)\b")
    rnd = random.Random(11)
    pieces = [
        b"GPT_4O",
        b"CLAUDE",
        b"x",
        b" ",
        b"_",
        b"\r",
        b"\n",
        b"\r\n",
        b"\xc3\xa9",
        b"\xff",
        b"\xe2\x82",
        b".",
    ]
    soups = [b"".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40))) for _ in range(1500)]
    soups += [b"\xef\xbb\xbfGPT_4O", b"\xc3GPT_4O", b"GPT_4O\xc3\xa9", b"a" * 50 + b"\r\n" * 20]
    path = tmp_path / "m.rs"
    for soup in soups:
        path.write_bytes(soup)
        for budget in (1 << 20, len(soup), max(1, len(soup) // 2), 1):
            expected = _text_as_read(path, budget)
            text, length = model_constants._gated_text(path, str(tmp_path), budget, gate)
            assert length == len(expected), (soup, budget)
            # every whole file within the budget is gated on its bytes
            assert (text is None) == (budget >= len(soup) and gate.search(expected) is None), (soup, budget)
            assert text is None or text == expected, (soup, budget)
            assert model_constants._gated_text(path, str(tmp_path), budget, None) == (expected, len(expected))


def test_a_file_naming_no_constant_is_not_decoded_for_references(tmp_path, monkeypatch):
    from common.scanner import model_constants
    from common.scanner.facts import FileFacts

    (tmp_path / "models.rs").write_text('pub const GPT_4O: &str = "gpt-4o";\n')
    (tmp_path / "plain.rs").write_text("fn main() { let x = 1; }\r\n")
    (tmp_path / "accented.rs").write_text("// café\nfn main() {}\n")
    (tmp_path / "user.rs").write_text("fn main() { call(models::GPT_4O); }\n")
    decoded = []
    real = model_constants._decoded
    monkeypatch.setattr(
        model_constants, "_decoded", lambda raw, budget: decoded.append(raw) or real(raw, budget)
    )
    facts = {"models.rs": FileFacts(model_constants={"GPT_4O": "gpt-4o"})}
    found = model_constants.referenced_constants(
        tmp_path, ["accented.rs", "models.rs", "plain.rs", "user.rs"], facts
    )
    assert [(f.location.file, f.name) for f in found] == [("user.rs", "gpt-4o")]
    assert len(decoded) == 3  # the accented file (for its length), the definitions and the reference


def test_suppression_lines_are_read_from_regular_files_inside_the_root_only(tmp_path, monkeypatch):
    """Opened and checked on the descriptor, without resolving each path component first."""
    import pathlib

    from common.suppressions import _Lines

    root, outside = tmp_path / "root", tmp_path / "outside.py"
    (root / "sub").mkdir(parents=True)
    outside.write_text("x = 1  # trusera:ignore outside\n")
    (root / "in.py").write_text("import openai  # trusera:ignore kept\n")
    (root / "plain.py").write_text("import openai\n")
    (root / "big.py").write_text("# trusera:ignore big\n" + "x" * (5 * 1024 * 1024))
    (root / "out.py").symlink_to(outside)
    (root / "alias.py").symlink_to(root / "in.py")
    (root / "dangling.py").symlink_to(root / "missing.py")
    os.mkfifo(root / "pipe.py")
    monkeypatch.setattr(pathlib.Path, "resolve", lambda self, strict=False: 1 / 0)
    lines = _Lines(root)
    expected = {
        "in.py": ["import openai  # trusera:ignore kept"],
        "alias.py": ["import openai  # trusera:ignore kept"],
        "plain.py": None,
        "big.py": None,
        "out.py": None,
        "dangling.py": None,
        "pipe.py": None,
        "sub": None,
        "missing.py": None,
        "../outside.py": None,
    }
    assert {name: lines.get(name) for name in expected} == expected


def test_a_look_at_a_worker_reads_no_more_than_its_pipe_holds(monkeypatch):
    """``os.read`` allocates the size it is asked for: asking a pipe for more than it can hold costs an
    allocation per look and returns nothing more. Messages still arrive whole across reads."""
    import fcntl
    from multiprocessing.connection import Connection

    from common.scanner import isolation

    read_end, write_end = os.pipe()
    capacity = fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ)
    asked = []
    real = os.read
    monkeypatch.setattr(isolation.os, "read", lambda fd, size: asked.append(size) or real(fd, size))
    worker = isolation._Worker(None, 1, None, Connection(read_end, writable=False))
    writer = Connection(write_end, readable=False)
    messages = [(None, 10), ("x" * 40_000, 20), (None, 30)]
    for message in messages:
        writer.send(message)
    received = []
    while len(received) < len(messages):
        received += worker.received()
    writer.close()
    worker.results.close()
    assert received == messages
    assert max(asked) <= capacity


def _line_of_afresh(lines: list[str], needle: str, start: int = 0) -> int:
    pattern = re.compile(r"(?<![\w@/.-])" + re.escape(needle) + r"(?![\w-])", re.IGNORECASE)
    return next((index + 1 for index in range(start, len(lines)) if pattern.search(lines[index])), 0)


def test_a_manifest_line_is_found_as_the_line_by_line_search_found_it(tmp_path):
    from common.scanner.detectors import manifests

    rnd = random.Random(7)
    words = ["openai", "OpenAI", "\u017f", "s", "x", "-", "@", "/", ".", " ", '"', "=", "name", "\t", "é"]
    breaks = ["\n", "\r\n", "\r", "\x0b", "\u2028", "\x1c"]
    needles = ["openai", 'name = "openai"', "s", "x-", "node_modules/openai", "", "a\nb", "é"]
    for round_ in range(400):
        # half the texts ASCII, searched through their lowered copy; the others through the pattern
        chosen, ends = (words, breaks) if round_ % 2 else ([w for w in words if w.isascii()], breaks[:4])
        text = "".join(
            rnd.choice(chosen) + (rnd.choice(ends) if rnd.random() < 0.3 else "") for _ in range(60)
        )
        path = tmp_path / f"lock{round_}.txt"
        path.write_text(text, newline="")
        source = base.SourceFile(path=path, relpath=path.name, size=path.stat().st_size)
        source.__dict__["text"] = text
        for needle in needles:
            for start in (0, 1, 5, len(source.lines), len(source.lines) + 3):
                assert manifests._line_of(source, needle, start) == _line_of_afresh(
                    source.lines, needle, start
                ), (
                    text,
                    needle,
                    start,
                )


def test_a_manifest_line_is_one_match_however_long_the_file(tmp_path, monkeypatch):
    from common.scanner.detectors import manifests

    searches = []

    class Counting:
        def __init__(self, pattern):
            self.pattern = pattern

        def search(self, *args):
            searches.append(args[1:])
            return self.pattern.search(*args)

        def match(self, *args):
            searches.append(args[1:])
            return self.pattern.match(*args)

    real_compile = re.compile
    monkeypatch.setattr(manifests.re, "compile", lambda *args: Counting(real_compile(*args)))
    path = tmp_path / "uv.lock"
    path.write_text('[[package]]\nname = "other"\n' * 2000 + '[[package]]\nname = "openai"\n')
    source = base.SourceFile(path=path, relpath="uv.lock", size=path.stat().st_size)
    assert manifests._line_of(source, 'name = "openai"') == 4002
    assert len(searches) == 1


def test_a_short_text_matched_in_between_keeps_the_long_texts_bytes(monkeypatch):
    """A parser walking a long text by position while matching short pieces of it encodes the long text
    once: a single remembered text was evicted at every step, and the walk was quadratic."""
    from common.scanner import limits

    encoded = []

    class CountingEncoded(limits._Encoded):
        __slots__ = ()

        def __init__(self, text: str) -> None:
            encoded.append(len(text))
            super().__init__(text)

    monkeypatch.setattr(limits, "_Encoded", CountingEncoded)
    tag, close, kind = linear(r"<script[^>]*>"), linear(r"</script"), linear(r"type=(\w+)")
    page = "<script type=module></script>é" * 2_000
    position, opened = 0, 0
    while found := tag.search(page, position):
        kind.search(found.group(0))
        position = close.search(page, found.end()).end()
        opened += 1
    assert opened == 2_000
    assert encoded.count(len(page)) == 1

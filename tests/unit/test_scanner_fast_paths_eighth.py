"""The eighth pass's cheaper forms (the literal scanner's long-line check, the Rust argument-default
gate, marked lines in one pass, relationships built once per edge) give the answers of what they replace,
and skip the work they were written to skip."""

from __future__ import annotations

import random
from bisect import bisect_right
from itertools import accumulate

from common.scanner import engine, textutil
from common.scanner.detectors import secrets
from common.scanner.detectors.base import FileReport, Finding, SourceFile
from common.scanner.detectors.languages import RustDetector
from common.scanner.engine import build_result
from common.scanner.model import Location, Relationship
from tests.unit.scanner_helpers import record_pattern_calls


def _longest_line_over(text: str, limit: int) -> bool:
    return max(map(len, text.split("\n"))) > limit


def test_long_line_check_answers_as_cutting_the_lines():
    rnd = random.Random(29)
    texts = ["", "\n", "a", "\n\n\n", "a\nb", "x" * 10, "x" * 11, "\n" + "x" * 11, "x" * 11 + "\n"]
    for _ in range(4000):
        texts.append("".join(rnd.choice(["\n", "x", "xxxx", "é", "\r"]) for _ in range(rnd.randint(0, 40))))
    for text in texts:
        for limit in (0, 1, 3, 10, 11, 12):
            assert textutil.has_line_over(text, limit) == _longest_line_over(text, limit), (text, limit)


def test_long_line_check_does_not_cut_the_text(monkeypatch):
    calls = []
    monkeypatch.setattr(textutil, "_quoted_literals", lambda text: calls.append(text) or [])
    text = '"a"\n' * 5000

    class NoSplit(str):
        def split(self, *args):
            raise AssertionError("the text was cut into lines")

    textutil.string_literals(NoSplit(text))
    assert len(calls) == 1


def _rust_file(tmp_path, text: str) -> SourceFile:
    path = tmp_path / "main.rs"
    path.write_text(text)
    return SourceFile(path=path, relpath="main.rs", size=len(text.encode()), root=str(tmp_path))


def test_rust_argument_defaults_without_a_model_field_are_not_searched(tmp_path, monkeypatch):
    detector = RustDetector()
    searched = record_pattern_calls(monkeypatch, RustDetector, "ARGUMENT_DEFAULT", "finditer")
    plain = '#[arg(long, default_value = "out")]\noutput: String,\n'
    assert list(detector.argument_default_models(_rust_file(tmp_path, plain), plain)) == []
    assert searched == []
    modelled = '#[arg(long, default_value = "gpt-4o")]\nmodel_name: String,\n'
    list(detector.argument_default_models(_rust_file(tmp_path, modelled), modelled))
    assert searched == [modelled]


def test_rust_model_field_gate_holds_every_field_the_attribute_pattern_accepts():
    """Whatever the attribute pattern and ``MODEL_FIELD`` accept, the gate finds in the same text."""
    rnd = random.Random(31)
    names = [
        "model",
        "Model",
        "MODEL_ID",
        "llm_model",
        "model_name",
        "modelid",
        "chat_modelName",
        "mode",
        "models",
    ]
    gaps = ["", " ", "\n", "\t ", "  \n "]
    for _ in range(2000):
        name, gap = rnd.choice(names), rnd.choice(gaps)
        extra = rnd.choice(["", "/// doc\n", "#[arg(short)]\n", "pub "])
        text = f'#[arg(long, default_value = "gpt-4o")]\n{extra}{name}{gap}: String,\n'
        accepted = [
            m
            for m in RustDetector.ARGUMENT_DEFAULT.finditer(text)
            if RustDetector.MODEL_FIELD.match(m.group(2))
        ]
        if accepted:
            assert RustDetector.MODEL_FIELD_DECLARED.search(text), text


def test_rust_argument_default_models_are_still_found(tmp_path):
    text = (
        "use async_openai::Client;\n"
        "#[derive(Parser)]\nstruct Args {\n"
        '    #[arg(long, default_value = "gpt-4o-mini")]\n    model: String,\n}\n'
    )
    found = list(RustDetector().detect(_rust_file(tmp_path, text), FileReport()))
    assert any(f.type == "model" and f.name == "gpt-4o-mini" for f in found)


def _marked_lines_by_find(text: str, markers: tuple[str, ...]) -> list[int]:
    """The lines holding a marker, found by ``str.find`` per marker and ``str.splitlines``."""
    offsets = [at for marker in markers for at in range(len(text)) if text.startswith(marker, at)]
    ends = list(accumulate(map(len, text.splitlines(keepends=True))))
    return sorted({bisect_right(ends, at) + 1 for at in offsets})


def test_marked_lines_are_the_lines_holding_a_marker():
    """Overlapping markers (``_api_key`` and ``api_key:``), one inside another, every line break
    ``splitlines`` knows, and text that is not ASCII."""
    rnd = random.Random(37)
    marker_sets = [secrets._rules()[2], ("vec",), ("sk-", "k-a", "sk"), ("ab", "b", "abc")]
    pieces = ["sk-", "_api_key:", "x_API_KEY", "vec", "ab", "c", "k-a", "\n", "\r\n", "\r", "\x0b", "\x1c"]
    pieces += ["\x85", "\u2028", "é", " ", "AIza", "hf_"]
    for _ in range(3000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30)))
        for markers in marker_sets:
            assert secrets.marked_lines(text, markers) == _marked_lines_by_find(text, markers), (
                text,
                markers,
            )


def test_marked_lines_read_the_text_once_not_once_per_marker():
    class NoFind(str):
        def find(self, *args):
            raise AssertionError("a str.find pass per marker")

    text = NoFind("a = 1\nOPENAI_API_KEY = sk-abc\n" * 50)
    assert secrets.marked_lines(text, secrets._rules()[2]) == list(range(2, 101, 2))


def _located(key: str, file: str, line: int, relations: list[tuple[str, str]] | None = None) -> Finding:
    kind = key.split(":", 1)[0]
    return Finding(
        key=key,
        name=key.split(":", 1)[1],
        type=kind,
        location=Location(file=file, line=line, snippet=""),
        detector="python",
        relations=relations or [],
    )


def test_relationships_are_built_once_per_distinct_edge(monkeypatch):
    built = []

    class Counted(Relationship):
        def __init__(self, *fields):
            built.append(fields)
            super().__init__(*fields)

    findings = [_located("llm_provider:openai", "a.py", line) for line in (1, 2, 3)]
    findings += [_located("model:gpt-4o", "a.py", 4, [("uses_model", "llm_provider:openai")])] * 2
    findings += [_located("model:gpt-4o", "b.py", 1, [("defined_in", "file:c.py")])]
    expected = build_result(
        findings, {}, warnings=[], files_scanned=2, bytes_scanned=0, started=0
    ).relationships
    monkeypatch.setattr(engine, "Relationship", Counted)
    relationships = build_result(
        findings, {}, warnings=[], files_scanned=2, bytes_scanned=0, started=0
    ).relationships
    edges = [(r.source, r.target, r.relation) for r in relationships]
    assert edges == [(r.source, r.target, r.relation) for r in expected] == sorted(built)
    assert len(built) == len(set(built)) == 5

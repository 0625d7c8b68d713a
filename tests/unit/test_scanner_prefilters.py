"""Prefilters that answer for a whole file must pick exactly the lines the per-line checks picked."""

from __future__ import annotations

import random

import pytest

from common.scanner.detectors import config_env
from common.scanner.detectors.secrets import _rules, marked_lines

SEPARATED = [
    "",
    "sk-abc",
    "a\nb sk-x\nc",
    "x = 1\r\nOPENAI_API_KEY=1\r\n\r\nhf_z",
    "one\rtwo hf_\x0cthree\x0bAIza four\x1c gsk_\x1d\x1e r8_\x85 xai-\u2028pplx-\u2029fw_ tgp_v1_",
    "sk-sk-sk- and _API_KEY_api_key\nno\nABSK aws_secret AWS_SECRET",
    "é sk-ü\n\u00a0AIza\n",
    "trailing sk-\n",
]


@pytest.mark.parametrize("text", SEPARATED)
def test_marked_lines_are_the_lines_a_per_line_search_marks(text):
    markers = _rules()[2]
    expected = [n for n, line in enumerate(text.splitlines(), start=1) if any(m in line for m in markers)]
    assert marked_lines(text, markers) == expected


CONFIG_TEXTS = [
    "",
    "MODEL=gpt-4o\nPORT=80\n",
    "a: 1\r\nOpenAI_API_KEY: x\r\n\r\nHF://org/m",
    "one\rtwo HTTP\x0cthree\x0bOllama four\x1c _URL\x1d\x1e Token\x85 ORG\u2028Embed\u2029Summari",
    # lowering changes lengths (U+0130 becomes two characters) and makes ASCII (the Kelvin sign is k)
    "\u0130\u0130\u0130 x\nTO\u212aEN=1\n\u0130model\nÉ \u03a3\u03a3 repo\n",
    "trailing llm\n",
]


def _per_line(text: str) -> set[int]:
    quick = config_env._rules()[5]
    return {n for n, line in enumerate(text.splitlines(), start=1) if quick.search(line.lower())}


@pytest.mark.parametrize("text", CONFIG_TEXTS)
def test_config_quick_lines_are_the_lines_a_per_line_search_marks(text):
    markers = config_env._rules()[6]
    assert config_env.quick_marked_lines(text.lower(), markers) == _per_line(text)


def test_config_quick_lines_on_random_soups():
    pieces = [
        "model",
        "MODEL",
        "Http",
        "_url",
        "\n",
        "\r\n",
        "\r",
        "\x85",
        "\u2028",
        "\u0130",
        "\u212a",
        "to",
        "ken",
        "or",
        "g",
        " ",
        "=",
        "é",
        "\u03a3",
    ]
    generator = random.Random(13)
    markers = config_env._rules()[6]
    for _ in range(400):
        text = "".join(generator.choice(pieces) for _ in range(generator.randrange(40)))
        assert config_env.quick_marked_lines(text.lower(), markers) == _per_line(text), repr(text)


def test_scope_for_matches_each_test_pattern_like_fnmatchcase():
    import fnmatch

    from common.scanner.catalog import patterns
    from common.scanner.walker import scope_for

    rules = patterns()
    names = ["test_x.py", "x_test.py", "conftest.py", "a.test.ts", "FooTest.java", "FooTests.cs", "x.py"]
    names += ["test_.py\n", "Test_x.py", "a_spec.rb", "a.spec.tsx", "[x].test.js", "x.test.js.map", ""]
    for name in names:
        expected = any(fnmatch.fnmatchcase(name, pattern) for pattern in rules["test_file_patterns"])
        assert scope_for(f"src/{name}") == ("test" if expected else "production"), name
    assert scope_for("pkg/Tests/x.py") == "test"
    assert scope_for("tests") == "production"


IGNORE_LINES = [
    "# comment",
    "",
    "*.pyc",
    "/build",
    "node_modules/",
    "!keep.pyc",
    "docs/**/*.md",
    "a?c",
    "[Tt]emp/",
    "\\#not-comment",
    "trailing\\ ",
    "**/logs",
    "x/**",
    "!/build/keep/",
    "*.[oa]",
    "/",
]
IGNORE_PATHS = ["x.pyc", "a/b/keep.pyc", "build", "build/", "build/keep/", "src/build", "node_modules/"]
IGNORE_PATHS += ["node_modules/x.js", "docs/a/b.md", "docs/b.md", "abc", "Temp/", "temp/x", "#not-comment"]
IGNORE_PATHS += ["trailing ", "deep/logs", "deep/logs/", "x/y", "x", "lib.o", "lib.a", "lib.b", "é/ü.pyc"]


def test_ignore_files_match_like_pathspec_with_regexes_compiled_on_demand():
    """The shared, deferred-compile patterns make the same matcher as pathspec's own; under the RE2
    backend no line's ``re`` regex is compiled at all."""
    import pathspec

    from common.scanner import walker

    walker._compiled_spec.cache_clear()  # another test may have compiled a shared line already
    walker._ignore_pattern.cache_clear()
    ours = walker._compiled_spec(tuple(IGNORE_LINES))
    theirs = pathspec.GitIgnoreSpec.from_lines(IGNORE_LINES)
    for path in IGNORE_PATHS:
        assert ours.match_file(path) == theirs.match_file(path), path
    deferred = [p.regex for p in ours.patterns if isinstance(p.regex, walker._DeferredRegex)]
    assert len(deferred) == sum(1 for p in theirs.patterns if p.include is not None)
    assert [d.pattern for d in deferred] == [
        p.regex.pattern for p in theirs.patterns if p.include is not None
    ]
    assert [str(p) for p in ours.patterns] == [str(p) for p in theirs.patterns]
    assert all(d._compiled is None for d in deferred)
    simple = pathspec.GitIgnoreSpec.from_lines(IGNORE_LINES, walker._ignore_pattern, backend="simple")
    for path in IGNORE_PATHS:  # the pure-Python backend matches through the deferred regexes
        assert simple.match_file(path) == theirs.match_file(path), path
    assert walker._compiled_spec(tuple(IGNORE_LINES)) is ours


@pytest.mark.parametrize("text", ["", "\n", "a", "a\n", "a\nbc\n\nd", "x\r\ny\rz\n", "é\nü\n\u2028\n"])
def test_line_at_counts_newlines_before_the_offset(text):
    from common.scanner.limits import line_at

    for offset in range(len(text) + 1):
        assert line_at(text, offset) == text.count("\n", 0, offset) + 1, offset


MARKER_TEXTS = {
    "plain.py": "import openai  # trusera:ignore vendored example\n",
    "upper.py": "import openai  # TRUSERA:IGNORE vendored example\r\n",
    "folded.py": "import openai  # tru\u017fera:\u0130gnore dotted capital\n",
    "dotless.py": "import openai  # trusera:\u0131gnore dotless small\n",
    "mixed.py": "config = {'k':id}  # Trusera:iGnOrE mixed case after another colon-i\n",
    "colons.py": "import openai  # trusera: ignore, spaced; data = {'x':i for i in y}\n",
    "above.py": "x = 1\r# trusera:ignore the line below\rimport openai\r",
    "none.py": "import openai  # trusera ignore, not a marker: no colon\n",
    "latin1.py": "import openai  # caf\xe9 trusera:ignore in a file that is not UTF-8\n",
}


def test_suppressor_skips_only_files_that_cannot_hold_a_marker(tmp_path):
    """The byte pre-check leaves out only files where the marker pattern cannot match a line."""
    from common.scanner.detectors.base import Finding
    from common.scanner.model import Location
    from common.suppressions import _MARKER_RE, Suppressor

    for name, text in MARKER_TEXTS.items():
        (tmp_path / name).write_bytes(text.encode("latin-1" if name == "latin1.py" else "utf-8"))
    findings = []
    expected = []
    for name, text in MARKER_TEXTS.items():
        lines = (
            text.encode("latin-1" if name == "latin1.py" else "utf-8").decode("utf-8", "replace").splitlines()
        )
        for number in range(1, len(lines) + 1):
            finding = Finding("k", "openai", "llm_provider", Location(name, number, ""), "python")
            findings.append(finding)
            marked = _MARKER_RE.search(lines[number - 1]) or (
                number > 1
                and _MARKER_RE.search(lines[number - 2])
                and lines[number - 2].lstrip().startswith("#")
            )
            if not marked:
                expected.append(finding)
    assert Suppressor(tmp_path)(findings) == expected
    assert {f.location.file for f in findings} - {f.location.file for f in expected} == {
        "plain.py",
        "upper.py",
        "folded.py",
        "dotless.py",
        "mixed.py",
        "latin1.py",
    }

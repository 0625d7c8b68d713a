"""poetry/uv locks are read with their file, wheel and dependency tables left empty
(``lock_packages_toml``): every package's name and version, and every error's text, line and column,
are what ``tomllib`` gives for the whole lock, on valid locks and on 3,000 broken ones."""

from __future__ import annotations

import random
import tomllib

from common.scanner.detectors import manifests
from common.scanner.detectors.manifests import lock_packages_toml
from common.scanner.limits import parse_toml

POETRY = """\
[[package]]
name = "openai"
version = "1.40.0"
description = "The official Python library for the openai API"
optional = false
python-versions = ">=3.7.1"
files = [
    {file = "openai-1.40.0-py3-none-any.whl", hash = "sha256:0123abcd"},
    {file = "openai-1.40.0.tar.gz", hash = "sha256:4567ef01"}
]

[package.dependencies]
anyio = ">=3.5.0,<5"

[package.extras]
datalib = ["numpy (>=1)", "pandas (>=1.2.3)"]

[[package]]
name = "anyio"
version = "4.4.0"
description = "High level compatibility layer"
optional = false
python-versions = ">=3.8"
files = [
    {file = "anyio-4.4.0-py3-none-any.whl", hash = "sha256:89ab"},
]

[metadata]
lock-version = "2.0"
python-versions = "^3.10"
content-hash = "ffff"
"""

UV = """\
version = 1
requires-python = ">=3.10"

[[package]]
name = "anthropic"
version = "0.34.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "httpx" },
    { name = "colorama", marker = "sys_platform == 'win32'" },
]
sdist = { url = "https://f.example/a.tar.gz", hash = "sha256:aa", size = 901, upload-time = "2024-08-01" }
wheels = [
    { url = "https://files.example/anthropic-0.34.0-py3-none-any.whl", hash = "sha256:bb", size = 890 },
]

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }

[package.metadata]
requires-dist = [
    { name = "anthropic", specifier = ">=0.34" },
    { name = "rich", marker = "extra == 'cli'", specifier = ">=13" },
]
"""


def _answer(parse, text: str) -> object:
    try:
        data = parse(text)
    except tomllib.TOMLDecodeError as exc:
        return "error", str(exc)
    packages = data.get("package", [])
    if not isinstance(packages, list):
        return "packages", repr(packages)
    return [(entry.get("name"), entry.get("version")) for entry in packages if isinstance(entry, dict)]


def _broken(rnd: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rnd.randint(1, 3)):
        index = rnd.randrange(len(lines))
        change = rnd.randrange(7)
        if change == 0:
            del lines[index]
        elif change == 1:
            lines.insert(index, lines[rnd.randrange(len(lines))])  # a repeated key or table
        elif change == 2 and lines[index]:
            at = rnd.randrange(len(lines[index]))
            lines[index] = lines[index][:at] + rnd.choice("{}[]\",=#\\' x\t") + lines[index][at:]
        elif change == 3:
            lines[index] = lines[index].strip()
        elif change == 4:
            lines.insert(
                index, rnd.choice(['s = """', "t = '''", "[package.sdist]", "sdist.url = 'x'", "x = ["])
            )
        elif change == 5:
            lines[index] = lines[index].replace(",", "", 1)
        else:
            lines.insert(index, rnd.choice(["    {}", '{file = "a", hash = "b"},', "[[package]]"]))
    return "\n".join(lines)


def test_valid_locks_give_every_package_as_the_whole_parse():
    for text in (POETRY, UV, POETRY.replace("\n", "\r\n"), UV.replace(", size = 901", "")):
        assert _answer(lock_packages_toml, text) == _answer(parse_toml, text)
    assert _answer(lock_packages_toml, UV) == [("anthropic", "0.34.0"), ("app", "0.1.0")]


def test_broken_locks_fail_with_the_whole_parses_error():
    rnd = random.Random(33)
    errors = 0
    for _ in range(3000):
        text = _broken(rnd, rnd.choice((POETRY, UV)))
        expected = _answer(parse_toml, text)
        assert _answer(lock_packages_toml, text) == expected, text
        errors += expected[0] == "error"
    assert errors > 500  # most of them are broken


def test_the_tables_are_read_empty(monkeypatch):
    parsed = []
    real_loads = tomllib.loads
    monkeypatch.setattr(manifests.tomllib, "loads", lambda text: parsed.append(text) or real_loads(text))
    lock_packages_toml(UV)
    assert "sha256" not in parsed[0] and "httpx" not in parsed[0] and "pypi.org" not in parsed[0]
    assert len(parsed[0].splitlines()) == len(UV.splitlines())
    parsed.clear()
    lock_packages_toml(UV + 'note = """\n{ name = "kept" }\n"""\n')  # a multi-line string: read whole
    assert "sha256" in parsed[0]


def test_a_long_dotted_key_in_a_table_is_refused_as_before():
    dotted = ".".join(["a"] * 300)
    text = POETRY.replace('"openai-1.40.0.tar.gz"', f'"{dotted}"')
    assert _answer(lock_packages_toml, text) == _answer(parse_toml, text)
    assert _answer(parse_toml, text)[0] == "error"

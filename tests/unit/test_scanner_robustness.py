import os
from pathlib import Path

import pytest

from common.scanner import scan_path
from common.scanner.detectors import base
from tests.unit.scanner_helpers import component, keys, write_tree


def test_bad_input_becomes_warnings_and_the_scan_completes(tmp_path):
    write_tree(
        tmp_path,
        {
            "good.py": "import openai\n",
            "latin1.py": "import anthropic\n# caf\xe9\n".encode("latin-1"),
            "fake.py": b"import groq\n\x00\x01\x02binary",
            "broken.json": '{"a": [1, 2',
            "broken.yaml": "a: b: c: [\n",
            "broken.toml": "[[x\n",
            "deep.json": "[" * 200_000 + "]" * 200_000,
            "loop/readme.txt": "x",
        },
    )
    os.symlink(tmp_path / "loop", tmp_path / "loop" / "again")
    os.symlink(tmp_path / "missing-target", tmp_path / "dangling.py")
    with open(tmp_path / "huge.py", "wb") as handle:
        handle.truncate(1024 * 1024 * 1024)  # sparse 1 GB file
    result = scan_path(tmp_path, jobs=1)
    warned = {w.file: w.message for w in result.warnings}
    assert {
        "latin1.py",
        "fake.py",
        "broken.json",
        "broken.yaml",
        "broken.toml",
        "deep.json",
        "loop/again",
        "dangling.py",
        "huge.py",
    } <= set(warned)
    assert "UTF-8" in warned["latin1.py"] and "binary" in warned["fake.py"]
    assert "limit" in warned["huge.py"]
    assert keys(result) == {"llm_provider:openai", "llm_provider:anthropic"}
    assert component(result, "llm_provider:anthropic").locations[0].file == "latin1.py"


def test_size_limit_is_configurable(tmp_path):
    write_tree(tmp_path, {"a.py": "import openai\n" + "#" * 2000})
    assert keys(scan_path(tmp_path, jobs=1, max_file_bytes=100)) == set()
    assert keys(scan_path(tmp_path, jobs=1)) == {"llm_provider:openai"}


def test_unreadable_file_is_a_warning(tmp_path, monkeypatch):
    """chmod cannot deny root (CI runs as root), so the denial is raised where the engine reads."""
    write_tree(tmp_path, {"secret.py": "import openai\n", "open.py": "import anthropic\n"})
    open_regular_file = base.open_regular_file

    def deny_secret(path: Path, *args, **kwargs):
        if path.name == "secret.py":
            raise PermissionError(13, "Permission denied", str(path))
        return open_regular_file(path, *args, **kwargs)

    monkeypatch.setattr(base, "open_regular_file", deny_secret)
    result = scan_path(tmp_path, jobs=1)
    assert [(w.file, w.message) for w in result.warnings] == [("secret.py", "unreadable: Permission denied")]
    assert keys(result) == {"llm_provider:anthropic"}


def test_missing_root_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        scan_path(tmp_path / "nope")


def test_a_single_file_can_be_scanned(tmp_path):
    write_tree(tmp_path, {"one.py": "import mistralai\n"})
    assert keys(scan_path(tmp_path / "one.py")) == {"llm_provider:mistralai"}

"""The JSON copies of the scanner's YAML data files hold exactly what PyYAML reads from the YAML.

After editing a file under ``common/scanner/data/*.yaml`` regenerate the copies with
``.venv/bin/python -c "from common.scanner.catalog import compile_yaml_data; compile_yaml_data()"``
(until then the engine reads the edited YAML through PyYAML, slower but correct).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from common.scanner import catalog

YAML_FILES = sorted(catalog.DATA_DIR.glob("*.yaml"))
REGENERATE = 'python -c "from common.scanner.catalog import compile_yaml_data; compile_yaml_data()"'


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda path: path.name)
def test_compiled_copy_matches_yaml(path: Path):
    compiled_path = catalog.COMPILED_DIR / f"{path.stem}.json"
    assert compiled_path.exists(), f"missing {compiled_path.name}: run {REGENERATE}"
    compiled = json.loads(compiled_path.read_text(encoding="utf-8"))
    source = path.read_bytes()
    assert compiled["source_crc32"] == zlib.crc32(source), f"{path.name} changed: run {REGENERATE}"
    assert compiled["data"] == catalog.parse_yaml_data(source.decode("utf-8"))
    assert catalog.load_yaml(path) == compiled["data"]


def test_edited_yaml_is_read_through_pyyaml(tmp_path, monkeypatch):
    monkeypatch.setattr(catalog, "COMPILED_DIR", tmp_path / "compiled")
    monkeypatch.setattr(catalog, "DATA_DIR", tmp_path)
    data_file = tmp_path / "rules.yaml"
    data_file.write_text("rules:\n  - name: first\n", encoding="utf-8")
    catalog.compile_yaml_data()
    assert catalog.load_yaml(data_file) == {"rules": [{"name": "first"}]}
    data_file.write_text("rules:\n  - name: edited\n", encoding="utf-8")
    assert catalog.load_yaml(data_file) == {"rules": [{"name": "edited"}]}


def test_values_json_cannot_hold_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(catalog, "COMPILED_DIR", tmp_path / "compiled")
    monkeypatch.setattr(catalog, "DATA_DIR", tmp_path)
    (tmp_path / "dated.yaml").write_text("released: 2024-05-13\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dated\.yaml"):
        catalog.compile_yaml_data()


def test_scan_without_yaml_files_does_not_import_pyyaml(tmp_path):
    (tmp_path / "app.py").write_text("import openai\nclient = openai.OpenAI()\n", encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("openai==1.0.0\n", encoding="utf-8")
    arguments = ["scan", str(tmp_path), "--format", "json", "-o", str(tmp_path / "o.json")]
    probe = (
        "import sys\n"
        "from common.cli import main\n"
        f"main({arguments!r})\n"
        "print(sorted(m for m in ('yaml', 're2') if m in sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    components = json.loads((tmp_path / "o.json").read_text())["components"]
    assert any(c["name"].lower() == "openai" for c in components)
    assert "yaml" not in completed.stdout.strip().splitlines()[-1]

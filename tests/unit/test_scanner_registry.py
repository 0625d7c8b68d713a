"""A scan imports only the detector modules its files need: every file a detector applies to must
select that detector's module, or the detector would silently never run on it."""

import importlib
import json
import subprocess
import sys
from pathlib import Path

from common.scanner.detectors.base import SourceFile
from common.scanner.registry import (
    SELECTORS,
    all_detectors,
    detector_modules,
    detectors_for,
    module_detectors,
    selected_modules,
)

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus"
FOLDERS = ("", "src/", "requirements/", ".github/workflows/", "deploy/k8s/", ".vscode/", ".cursor/")


def _strings(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {s for item in [*value.keys(), *value.values()] for s in _strings(item)}
    if isinstance(value, (tuple, list, set, frozenset)):
        return {s for item in value for s in _strings(item)}
    return set()


def _declared_strings() -> set[str]:
    """Every string a detector module or class holds (file names, suffixes, data-file paths),
    including the data files' extension and config-path lists."""
    found: set[str] = set()
    for name in detector_modules():
        module = importlib.import_module(f"common.scanner.detectors.{name}")
        for value in vars(module).values():
            found |= _strings(value)
            if isinstance(value, type):
                found |= {s for attr in vars(value).values() for s in _strings(attr)}
    model_files = importlib.import_module("common.scanner.detectors.model_files")
    mcp_config = importlib.import_module("common.scanner.detectors.mcp_config")
    found |= _strings(model_files.load_config()["extensions"])
    found |= {entry["path"] for entry in mcp_config.load_data()["config_files"]}
    return {s for s in found if 0 < len(s) < 80 and "\n" not in s and " " not in s}


def _candidate_paths() -> set[str]:
    paths = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file()}
    for text in _declared_strings():
        for stem in ("x", "x.y"):
            names = {text, text.lower(), text.upper()} | ({stem + text} if text.startswith(".") else set())
            paths |= {folder + name for folder in FOLDERS for name in names}
            paths |= {f"{text}/{stem}.txt", f"{text}/{stem}.json"}
    return {p.lstrip("/") for p in paths if p.strip("/")}


class _AnyContent(SourceFile):
    """A file holding every string the detectors declare, so a detector that looks at the content
    before it applies (an MCP config recognised by its keys) applies wherever its path allows."""

    data = " ".join(f'"{text}"' for text in sorted(_declared_strings())).encode()


def test_every_file_a_detector_applies_to_selects_its_module():
    # The candidates are built once and shared by every module: a source's derived values are cached.
    sources = [
        _AnyContent(path=Path("/nonexistent") / relpath, relpath=relpath, size=100)
        for relpath in sorted(_candidate_paths())
    ]
    missing = []
    for module in SELECTORS:
        detectors = module_detectors(module)
        for source in sources:
            if any(d.applies_to(source) for d in detectors) and module not in selected_modules(
                source.relpath
            ):
                missing.append((module, source.relpath))
    assert missing == []


def test_a_requirements_file_named_anyhow_selects_the_manifests():
    assert "manifests" in selected_modules("ci/dev-requirements-lint.txt")


def test_every_selector_names_a_detector_module():
    assert set(SELECTORS) <= set(detector_modules())


def test_detectors_for_keeps_the_order_and_instances_of_all_detectors():
    order = {id(d): i for i, d in enumerate(all_detectors())}
    for relpath in ("app.py", "docker-compose.yml", "package.json", "model.onnx", "README.md", ".env"):
        chosen = detectors_for(SourceFile(path=Path("/nonexistent") / relpath, relpath=relpath, size=10))
        positions = [order[id(d)] for d in chosen]
        assert positions == sorted(positions)
        assert any(d.name == "secrets" for d in chosen) or relpath == "model.onnx"


def test_a_scan_imports_only_the_modules_its_files_select(tmp_path):
    (tmp_path / "app.py").write_text("import openai\n")
    probe = (
        "import json, sys; from common.scanner import scan_path; scan_path(sys.argv[1], jobs=1); "
        "print(json.dumps(sorted(m.rsplit('.', 1)[1] for m in sys.modules "
        "if m.startswith('common.scanner.detectors.'))))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    loaded = set(json.loads(run.stdout))
    # iac_programs is the gate that hands CDK/Pulumi programs to iac: iac itself stays unloaded
    assert loaded == {"base", "code_declarations", "iac_programs", "python_code", "secrets", "vector_stores"}

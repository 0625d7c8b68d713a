"""Jupyter notebooks: the code cells go through the Python analysis.

Cells are joined into one module (magics and shell escapes blanked) so a
constant or import in an early cell resolves in a later one; each finding is
mapped back to its cell and line ("cell 3, line 2" in the snippet, the line
within the cell as the location line). A notebook that does not parse as a
whole falls back to cell by cell; a ``.ipynb`` that is no JSON at all but a
script is read as one cell.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from common.scanner.catalog import lookup_package
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile, model_sighting
from common.scanner.detectors.code_declarations import CodeDeclarationsDetector
from common.scanner.detectors.languages import JavaDetector, JavaScriptDetector
from common.scanner.detectors.python_code import PythonDetector, analyse_python, has_ai_import
from common.scanner.detectors.vector_stores import VectorStoreDetector
from common.scanner.limits import linear, parse_json
from common.scanner.model import Location
from common.scanner.textutil import model_finding

SHELL_PIP = linear(r"^\s*[!%]+\s*(?:pip|uv pip|conda)\s+install\s+(.*)$")
SHELL_OLLAMA = linear(r"^\s*!\s*ollama\s+(?:pull|run)\s+([\w.:/-]+)")


DEPENDS_ON = linear(r"""@file\s*:\s*DependsOn\(\s*"([\w.-]+):([\w.-]+)(?::([\w.+-]+))?"\s*\)""")
JVM_KERNELS = frozenset({"kotlin", "java"})
# Deno, tslab and IJavascript kernels: the cells are a TypeScript (or JavaScript) module
JS_KERNELS = frozenset({"typescript", "javascript"})


@dataclass
class CellSource(SourceFile):
    """A notebook's joined code cells, handed to a source-code detector as if they were one file."""

    source: str = ""
    language_suffix: str = ""  # the suffix of the language the cells are written in, where a detector asks

    @cached_property
    def text(self) -> str:
        return self.source

    @cached_property
    def suffix(self) -> str:
        return self.language_suffix or self.path.suffix.lower()


def cell_source(file: SourceFile, source: str, language_suffix: str = "") -> CellSource:
    return CellSource(
        path=file.path,
        relpath=file.relpath,
        size=len(source),
        scope=file.scope,
        source=source,
        language_suffix=language_suffix,
    )


def relocated(file: SourceFile, origin: list[tuple[int, int]], finding: Finding) -> Finding:
    """``finding``, located in the joined code cells, moved to its cell and the line within it."""
    line = finding.location.line
    cell, cell_line = origin[line - 1] if 0 < line <= len(origin) else (0, line)
    finding.location = Location(
        file=file.relpath,
        line=cell_line,
        snippet=f"[cell {cell}, line {cell_line}] {finding.location.snippet}",
    )
    return finding


def notebook_language(notebook: dict) -> str:
    metadata = notebook.get("metadata") if isinstance(notebook.get("metadata"), dict) else {}
    for section, key in (("kernelspec", "language"), ("language_info", "name")):
        value = metadata.get(section, {}).get(key) if isinstance(metadata.get(section), dict) else None
        if isinstance(value, str) and value:
            return value.lower()
    return "python"


def _cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


class NotebookDetector(Detector):
    name = "notebook"

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix == ".ipynb"

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        try:
            notebook = parse_json(file.text)
        except (json.JSONDecodeError, RecursionError) as exc:
            if file.text.lstrip()[:1] in ("{", "["):
                report.warnings.append(f"invalid notebook JSON: {str(exc)[:200]}")
                return
            # a script saved under a notebook's name (a Colab export renamed, cells pasted into a
            # text file): its whole text is one code cell, shell escapes included
            notebook = {"cells": [{"cell_type": "code", "source": file.text}]}
        cells = notebook.get("cells") if isinstance(notebook, dict) else None
        if not isinstance(cells, list):
            report.warnings.append("notebook has no cells list")
            return
        code_cells = [
            (index, _cell_source(cell))
            for index, cell in enumerate(cells, start=1)
            if isinstance(cell, dict) and cell.get("cell_type") == "code"
        ]
        joined_lines: list[str] = []
        origin: list[tuple[int, int]] = []  # joined line -> (cell, line in cell)
        for cell_number, source in code_cells:
            for line_number, line in enumerate(source.splitlines(), start=1):
                ollama = SHELL_OLLAMA.match(line)
                if ollama:
                    found = model_finding(ollama.group(1), line_number, strong=True, hf_context=False)
                    if found:
                        yield self.shell_model(file, cell_number, line_number, line, found)
                blank = line.lstrip().startswith(("%", "!"))
                joined_lines.append("" if blank else line)
                origin.append((cell_number, line_number))
        source = "\n".join(joined_lines)
        if notebook_language(notebook) in JVM_KERNELS:
            yield from self.analyse_jvm(file, source, origin)
            return
        if notebook_language(notebook) in JS_KERNELS:
            cells = cell_source(file, source, ".ts")
            for finding in JavaScriptDetector().detect(cells, FileReport()):
                yield relocated(file, origin, finding)
            return
        # vector stores the cells declare as schema (``CREATE EXTENSION vector`` run through a driver, a
        # ``VECTORSEARCH`` collection created with boto3), read as in a ``.py`` module
        for finding in VectorStoreDetector().detect(cell_source(file, source, ".py"), FileReport()):
            yield relocated(file, origin, finding)
        if not has_ai_import(source):
            yield from self.model_literals(file, source, origin)
            return
        try:
            yield from self.analyse(file, report, source, origin)
        except SyntaxError:
            yield from self.cell_by_cell(file, report, joined_lines, origin)

    def model_literals(
        self, file: SourceFile, source: str, origin: list[tuple[int, int]]
    ) -> Iterator[Finding]:
        """Catalog model ids in a notebook that imports no AI SDK itself (it calls the project's own helper
        module with ``model="claude-3-haiku-20240307"``), read as in a ``.py`` module of the same kind."""
        cells = cell_source(file, source)
        python = PythonDetector()
        findings = list(python.constant_models(cells))
        findings += python.env_default_models(cells, findings)
        findings += python.catalog_literals(cells, findings)
        for finding in findings:
            yield relocated(file, origin, finding)

    def analyse_jvm(self, file: SourceFile, source: str, origin: list[tuple[int, int]]) -> Iterator[Finding]:
        """A Kotlin (or Java) kernel: ``@file:DependsOn("group:artifact:version")`` declares a Maven
        dependency, the code cells are read like a ``.kt`` file."""

        def relocate(finding: Finding) -> Finding:
            return relocated(file, origin, finding)

        cells = cell_source(file, source)
        for line_number, line in enumerate(cells.lines, start=1):
            for match in DEPENDS_ON.finditer(line):
                package = lookup_package("maven", f"{match.group(1)}:{match.group(2)}")
                if package:
                    yield relocate(
                        Finding(
                            key=f"{package.type}:{package.id}",
                            name=package.id,
                            type=package.type,
                            provider=package.provider,
                            version=match.group(3),
                            location=cells.location(line_number),
                            detector="manifest",  # the notebook declares the dependency it uses
                            metadata={"manifests": [file.relpath], "declared_as": [match.group(0)]},
                        )
                    )
        for finding in JavaDetector().detect(cells, FileReport()):
            yield relocate(finding)

    def analyse(self, file: SourceFile, report: FileReport, source: str, origin: list[tuple[int, int]]):
        def locate(line: int) -> tuple[int, str]:
            cell, cell_line = origin[line - 1] if 0 < line <= len(origin) else (0, line)
            return cell_line, f"[cell {cell}, line {cell_line}] "

        analysis = analyse_python(source, file.relpath, self.name, locate)
        if analysis.facts:
            analysis.facts.detector = self.name
            report.facts.update(analysis.facts)
        # model ids no SDK call names (``foundation_model = "us.anthropic.claude-…"`` handed to boto3
        # later, an environment default), read as in a ``.py`` module and mapped back to their cells
        cells = cell_source(file, source)
        python = PythonDetector()
        findings = list(analysis.findings)
        findings += [relocated(file, origin, f) for f in python.env_default_models(cells, findings)]
        findings += [relocated(file, origin, f) for f in python.catalog_literals(cells, findings)]
        # tools and MCP servers the cells declare as data (an Anthropic ``tools=[{"name", "input_schema"}]``
        # list, OpenAI function schemas, a ``MultiServerMCPClient({...})`` map), read as in a ``.py`` module
        declared = CodeDeclarationsDetector().detect(cell_source(file, source, ".py"), FileReport())
        findings += [relocated(file, origin, f) for f in declared]
        return findings

    def cell_by_cell(
        self, file: SourceFile, report: FileReport, lines: list[str], origin: list[tuple[int, int]]
    ):
        cells: dict[int, list[int]] = {}
        for index, (cell, _) in enumerate(origin):
            cells.setdefault(cell, []).append(index)
        for cell, indexes in cells.items():
            source = "\n".join(lines[i] for i in indexes)
            try:
                yield from self.analyse(file, report, source, [origin[i] for i in indexes])
            except SyntaxError as exc:
                report.warnings.append(f"notebook cell {cell}: cannot parse ({exc.msg})")

    def shell_model(self, file: SourceFile, cell: int, line: int, text: str, found: tuple) -> Finding:
        location = Location(
            file=file.relpath, line=line, snippet=f"[cell {cell}, line {line}] {text.strip()}"
        )
        return model_sighting(found, location, self.name, pulled_by="ollama")

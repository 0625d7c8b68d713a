"""Model ids in a plain-text list: ``excluded_models.txt``, ``models.txt``, one id a line.

An application that reads the models it offers, hides or falls back to from a text file keeps them one a
line; the labelling policy counts a list that configures use (catalogs, lists) wherever it is written.
Only a ``.txt`` file named for models counts, and only when every line that is not blank or a ``#``
comment is, whole, a catalog model id with a version or tier: a single line of prose, a package pin or a
path makes the file something else (notes, a requirements list, a dump), and nothing in it is reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.textutil import is_catalog_model, model_finding

# a list longer than this is data (a dataset's labels, a scraped catalog), not one application's choice
MAX_LIST_LINES = 500
MAX_LIST_BYTES = 32_000


class ModelListDetector(Detector):
    name = "model_list"

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix == ".txt" and "model" in file.name.lower()

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        if file.size > MAX_LIST_BYTES or file.text.count("\n") > MAX_LIST_LINES:
            return
        listed: list[tuple[int, str]] = []
        for number, line in enumerate(file.lines, start=1):
            value = line.strip()
            if not value or value.startswith("#"):
                continue
            if not is_catalog_model(value):
                return
            listed.append((number, value))
        seen: set[str] = set()
        for number, value in listed:
            found = model_finding(value, number, strong=False, hf_context=False)
            if found and found[0] not in seen:
                seen.add(found[0])
                yield self.model_at(file, number, found)

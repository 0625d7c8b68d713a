"""Model ids in SQL seed data: ``INSERT INTO embedding_models (name, model_identifier) VALUES (...)``.

An application that keeps its model choices in a table seeds it from a migration; the ids it inserts are
the models it runs. Only an insert whose table or column list names models is read (the same key words
a configuration's model keys are recognised by), and only a whole string literal that is a catalog
model id with a version or tier counts, so ``'small'`` or an order code ``'o1'`` in other tables is not.
"""

from __future__ import annotations

from collections.abc import Iterator

from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.limits import linear
from common.scanner.textutil import is_catalog_model, model_finding

INSERT_START = linear(r"(?im)^\s*insert\s+(?:or\s+\w+\s+)?into\b")
VALUES_KEYWORD = linear(r"(?i)\bvalues\b")
MODEL_NAMED = linear(r"(?i)model|llm|deployment|embed")
SQL_STRING = linear(r"'([^'\n]{4,120})'")
# an insert ends where a line ends its statement (``;``), whatever follows it on the line
STATEMENT_END = linear(r";\s*(?:--.*)?$")


class SqlSeedModelDetector(Detector):
    name = "sql_data"

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix == ".sql"

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        text = file.text
        if not MODEL_NAMED.search(text) or not INSERT_START.search(text):
            return
        header: list[str] | None = None  # the insert's text up to VALUES, while it is being read
        rows = False  # inside the VALUES of an insert into a table of models
        seen: set[str] = set()
        for number, line in enumerate(file.lines, start=1):
            if line.lstrip().startswith("--"):
                continue
            if header is None and not rows and INSERT_START.match(line):
                header = []
            if header is not None:
                values = VALUES_KEYWORD.search(line)
                header.append(line[: values.start()] if values else line)
                if not values:
                    if STATEMENT_END.search(line):
                        header = None
                    continue
                rows = bool(MODEL_NAMED.search(" ".join(header)))
                header = None
                line = line[values.end() :]
            if rows:
                yield from self.literals(file, number, line, seen)
                rows = not STATEMENT_END.search(line)

    def literals(self, file: SourceFile, number: int, line: str, seen: set[str]) -> Iterator[Finding]:
        for match in SQL_STRING.finditer(line):
            value = match.group(1).strip()
            if value in seen or not is_catalog_model(value):
                continue
            found = model_finding(value, number, strong=False, hf_context=False)
            if found:
                seen.add(value)
                yield self.model_at(file, number, found)

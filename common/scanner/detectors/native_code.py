"""C, C++, CUDA and Objective-C sources that include an ML runtime's headers.

A native program links the runtime its headers come from (``#include <onnxruntime_cxx_api.h>``,
``#include "llama.h"``, ``#include <torch/script.h>``), as an import does in other languages: the runtime
is a component of the file. Headers are read from the catalog's ``cpp`` names, an exact header or a
header folder (``tensorflow/lite/interpreter.h`` is under ``tensorflow``); only ``#include`` and
``#import`` lines count, so a header named in a comment or a string is not an include.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from common.scanner.catalog import lookup_prefixed
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.keys import component_key
from common.scanner.limits import line_at, linear

NATIVE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".cu", ".cuh", ".m", ".mm")
INCLUDE = linear(r"""^[ \t]*#[ \t]*(?:include|import)[ \t]*[<"]([^>"\n]{1,200})[>"]""", re.MULTILINE)


class NativeIncludeDetector(Detector):
    name = "native_code"

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix in NATIVE_SUFFIXES

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        if "include" not in file.text and "import" not in file.text:
            return
        seen: set[str] = set()
        for match in INCLUDE.finditer(file.text):
            package = lookup_prefixed("cpp", match.group(1).strip(), "/")
            if package is None or package.id in seen:
                continue
            seen.add(package.id)
            yield Finding(
                key=component_key(package.type, package.id),
                name=package.id,
                type=package.type,
                provider=package.provider,
                location=file.location(line_at(file.text, match.start())),
                detector=self.name,
                metadata={"included": match.group(1).strip()},
            )

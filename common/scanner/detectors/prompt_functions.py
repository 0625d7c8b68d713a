"""Semantic Kernel prompt functions: a folder holding ``skprompt.txt`` is one function of a plugin.

Semantic Kernel loads a plugin from a prompt directory (``ImportPluginFromPromptDirectory("Prompts")``,
``kernel.add_plugin(parent_directory=...)``): each subfolder with an ``skprompt.txt`` (and optionally a
``config.json`` of execution settings) becomes a function named after the folder, which the model may call
like a ``[KernelFunction]`` method. The file name is Semantic Kernel's own; a prompt file named otherwise
(``ReleaseNotes.skprompt.txt``) is not loaded as a function, so only the exact name counts.
"""

from __future__ import annotations

from collections.abc import Iterator

from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile

PROMPT_FILE = "skprompt.txt"
PROVIDER = "Microsoft"
FRAMEWORK = "semantic-kernel"


class PromptFunctionDetector(Detector):
    name = "prompt_function"

    def applies_to(self, file: SourceFile) -> bool:
        return file.name.lower() == PROMPT_FILE

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        folder = file.relpath.rsplit("/", 2)
        if len(folder) < 2 or not folder[-2].strip():
            return
        name = folder[-2].lower()
        yield self.located(file, 1, "tool", name, PROVIDER, metadata={"framework": FRAMEWORK})

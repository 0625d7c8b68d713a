"""AI cloud resources declared by infrastructure programs: AWS CDK apps (aws-cdk-lib, the experimental
``-alpha`` modules, AWS's generative AI constructs) and Pulumi programs, in TypeScript/JavaScript,
Python or Go.

Every code file of a tree is offered here, so this module only recognises a program by its library's
name and hands it to ``iac`` (``IacDetector.detect_program``), which reads its constructs and resources
by the same rules as a template: importing ``iac`` for every source file would cost each code-only scan
its data and patterns.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.registry import IAC_PROGRAMS

# the libraries an infrastructure program imports, as TypeScript/JavaScript, Python and Go spell them
PROGRAM_MARKERS = ("aws-cdk", "aws_cdk", "pulumi", "generative-ai-cdk", "generative_ai_cdk")


@cache
def iac_detector():
    from common.scanner.detectors.iac import IacDetector

    return IacDetector()


class IacProgramDetector(Detector):
    name = "iac_programs"

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix in IAC_PROGRAMS

    def detect(self, file: SourceFile, report: FileReport) -> Iterable[Finding]:
        if not any(marker in file.text for marker in PROGRAM_MARKERS):
            return []
        return iac_detector().detect_program(file)

"""Strings a test only feeds to or checks against the code under test, which configure nothing.

A test that really calls a model names a model the catalog knows, and a test that talks to a server
passes its address to a client; a made-up model name (``modelName = "super-model"``) or a URL a test
asserts a default against (``if c.baseURL.String() != "http://localhost:11434"``) is input or expected
data, which the labelling policy counts as a negative.
"""

from __future__ import annotations

from common.scanner.detectors.base import Finding
from common.scanner.limits import linear

# a URL literal on either side of a comparison, or inside an assertion or expectation call
ASSERTED_URL = linear(
    r"""(?:[!=]==?\s*[@$]?["'`]https?://|["'`]https?://[^"'`\n]*["'`]\s*[!=]==?"""
    r"""|\b(?:assert\w*|expect|require\.(?:Equal|Contains)\w*|verify|should\w*)\s*[!(]"""
    r"""|\.(?:to(?:Be|Equal|Match|Contain|Have)\w*|should\w*|isEqualTo)\s*\()""",
)


def is_test_data(finding: Finding, scopes: dict[str, str]) -> bool:
    """Whether ``finding``, in a test file, is only data for the code under test."""
    if scopes.get(finding.location.file) != "test":
        return False
    if finding.type == "model":
        return finding.provider is None and "route" not in finding.metadata
    if finding.type == "endpoint":
        return bool(ASSERTED_URL.search(finding.location.snippet or ""))
    return False

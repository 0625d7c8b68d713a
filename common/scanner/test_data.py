"""Strings a test only feeds to or checks against the code under test, which configure nothing.

A test that really calls a model names a model the catalog knows, and a test that talks to a server
passes its address to a client; a made-up model name (``modelName = "super-model"``), or a model or URL
a test asserts against (``expect(pick()).toBe("gpt-4.1-mini")``,
``if c.baseURL.String() != "http://localhost:11434"``), is input or expected data, which the labelling
policy counts as a negative; so is a model or URL in a data file of a test's fixture folder (a mocked
response, a settings fixture).
"""

from __future__ import annotations

from common.scanner.detectors.base import Finding
from common.scanner.limits import linear

# a string literal on either side of a comparison, or an assertion or expectation call on the line
ASSERTION = linear(
    r"""(?:[!=]==?\s*[@$]?["'`]|["'`]\s*[!=]==?"""
    r"""|\b(?:assert\w*|expect|require\.(?:Equal|Contains)\w*|verify|should\w*)\s*[!(]"""
    r"""|\.(?:to(?:Be|Equal|Match|Contain|Have)\w*|should\w*|isEqualTo)\s*\()""",
)


# a test that stands in for the API (an HTTP test server, a request mocker, a patched client class) or
# hands its client a made-up key: no model or address it names is reached, so they are its input data
TEST_DOUBLE = linear(
    r"httptest\.New(?:Unstarted|TLS)?Server|\brespx\b|\brequests_mock\b|\bresponses\.(?:add|activate)\b"
    r"|\bhttpretty\b|\baioresponses\b|\bhttpx_mock\b|\bMockTransport\b|\bnock\(|\bsetupServer\("
    r"|\bMockWebServer\b|\bWireMockServer\b|\bMockHttpMessageHandler\b|\bstub_request\(|\bmockito::"
    r"|\bhttpmock::|\bwiremock::"
    r"|\bpatch(?:\.object)?\(\s*[\"'][\w.]*(?:Client|OpenAI|Anthropic)[\"']"
    r"|[\"'](?:test|fake|dummy|mock)[-_]?(?:api[-_]?)?key[\"']",
)
TEST_DOUBLE_FLAG = "test_double"


def mark_test_doubles(scope: str, text: str, findings: list[Finding]) -> None:
    """Flag the models and endpoints of a test file that talks only to a stand-in (``TEST_DOUBLE``);
    ``is_test_data`` then treats them as the test's input data. Checked once per file, in the
    detection phase, where the file's text is at hand."""
    if scope != "test" or not any(f.type in ("model", "endpoint") for f in findings):
        return
    if TEST_DOUBLE.search(text):
        for finding in findings:
            if finding.type in ("model", "endpoint"):
                finding.metadata = {**finding.metadata, TEST_DOUBLE_FLAG: True}


# data files a test reads (a mocked API response, a settings fixture, a recorded cassette)
DATA_SUFFIXES = (".json", ".jsonl", ".ndjson", ".yaml", ".yml", ".toml", ".xml", ".csv", ".txt")
FIXTURE_FOLDERS = frozenset(
    {
        "fixtures",
        "__fixtures__",
        "testdata",
        "test_data",
        "data",
        "mocks",
        "__mocks__",
        "cassettes",
        "snapshots",
        "__snapshots__",
        "golden",
        "responses",
        "recordings",
    }
)


def is_fixture_data(path: str) -> bool:
    """A data file in a test's fixture folder (``tests/fixtures/chat_response.json``)."""
    folders = path.lower().split("/")[:-1]
    return path.lower().endswith(DATA_SUFFIXES) and any(folder in FIXTURE_FOLDERS for folder in folders)


def is_test_data(finding: Finding, scopes: dict[str, str]) -> bool:
    """Whether ``finding``, in a test file, is only data for the code under test."""
    if scopes.get(finding.location.file) != "test":
        return False
    if finding.type not in ("model", "endpoint"):
        return False
    if is_fixture_data(finding.location.file) or finding.metadata.get(TEST_DOUBLE_FLAG):
        return True
    if finding.type == "model" and finding.provider is None and "route" not in finding.metadata:
        return True
    return bool(ASSERTION.search(finding.location.snippet or ""))

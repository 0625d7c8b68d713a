"""Strings a test only feeds to or checks against the code under test, which configure nothing.

A test that really calls a model names a model the catalog knows, and a test that talks to a server
passes its address to a client; a made-up model name (``modelName = "super-model"``), or a model or URL
a test asserts against (``expect(pick()).toBe("gpt-4.1-mini")``,
``if c.baseURL.String() != "http://localhost:11434"``), is input or expected data, which the labelling
policy counts as a negative; so is a model or URL in a data file of a test's fixture folder (a mocked
response, a settings fixture).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from pathlib import Path

from common.scanner.detectors.base import Finding
from common.scanner.limits import linear
from common.scanner.model_constants import rust_test_function_spans, rust_test_module_spans, span_lines
from common.scanner.textutil import calls_llm_api_route, per_scan, read_neighbour

# a string literal on either side of a comparison, or an assertion or expectation call on the line (XCTest's
# ``XCTAssertEqual(..)`` and Swift Testing's ``#expect(..)`` too)
ASSERTION = linear(
    r"""(?:[!=]==?\s*[@$]?["'`]|["'`]\s*[!=]==?"""
    r"""|\b(?:assert\w*|XCTAssert\w*|expect|require\.(?:Equal|Contains)\w*|verify|should\w*)\s*[!(]"""
    r"""|\.(?:to(?:Be|Equal|Match|Contain|Have)\w*|should\w*|isEqualTo)\s*\()""",
)


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


# a test that replays recorded HTTP or stubs the server it talks to (VCR cassettes, WebMock,
# responses/respx/httpretty/requests-mock/aioresponses/pytest-httpx, nock/msw/fetch-mock, a ``fetch``
# replaced by a Vitest/Jest mock function, here or in a setup file the test then drives through
# ``vi.mocked(fetch)`` or a ``fetch as jest.Mock`` cast, Go's httptest and gock, WireMock, OkHttp's
# MockWebServer, .NET's MockHttpMessageHandler) never reaches a model: the models and addresses it
# configures are input for the code under test
REPLAYED_HTTP = linear(
    r"\bVCR\.(?:use_cassette|insert_cassette)\b|\bvcr\.use_cassette\(|@pytest\.mark\.vcr\b"
    r"|[,(]\s*:vcr\b|\bvcr:\s*\{|\bstub_request\(|@responses\.activate\b|\bresponses\.add\("
    r"|\brespx\.mock\b|\bhttpretty\.register_uri\(|\brequests_mock\.Mocker\b|\baioresponses\("
    r"|\bhttpx_mock\.add_response\(|\bnock\(|\bsetupServer\(|\bfetchMock\.\w+\("
    r"|\b(?:globalThis|global|window)\.fetch\s*=\s*(?:vi|jest)\.fn\b"
    r"|\b(?:vi|jest)\.spyOn\(\s*(?:globalThis|global|window)\s*,\s*[\"']fetch[\"']"
    r"|\bvi\.stubGlobal\(\s*[\"']fetch[\"']"
    r"|\b(?:vi|jest)\.mocked\(\s*(?:(?:globalThis|global|window)\.)?fetch\s*\)"
    r"|\(\s*(?:(?:globalThis|global|window)\.)?fetch\s+as\s+(?:(?:vi|jest)\.)?Mock\w*\b"
    r"|\bhttptest\.NewServer\(|\bgock\.New\(|\bstubFor\(|\bnew\s+MockWebServer\b"
    r"|\bMockHttpMessageHandler\b"
)


def replays_recorded_http(text: str) -> bool:
    """Whether a test file stubs or replays the HTTP its code under test sends."""
    return REPLAYED_HTTP.search(text) is not None


# a test that patches the SDK's client class (``@patch("app.digest.OpenAI")``), replaces the SDK module
# with a Vitest/Jest mock (``vi.mock('openai', ...)``, ``jest.mock('@anthropic-ai/sdk')``) or hands its
# client a made-up key (``New("test-api-key", ...)``, Go's ``LLMAPIKey: "dummy"``, ``api_key="fake"``,
# ``apiKey: 'sk-test-key'``, ``api_key="sk-fake123"``): no request it builds reaches a model either
STAND_IN_CLIENT = linear(
    r"\bpatch(?:\.object)?\(\s*[\"'][\w.]*(?:Client|OpenAI|Anthropic)[\"']"
    r"|\b(?:vi|jest)\.(?:mock|doMock)\(\s*[\"'`](?:openai|@anthropic-ai/sdk|@google/genai|@google/generative-ai"
    r"|@mistralai/mistralai|groq-sdk|cohere-ai|ollama|replicate|@aws-sdk/client-bedrock-runtime)[\"'`]"
    r"|[\"'](?:test|fake|dummy|mock)[-_]?(?:api[-_]?)?key[\"']"
    r"|(?i:api_?key)\w*[\"']?\s*(?::=|[:=])\s*[\"'](?:sk-)?(?i:test|fake|dummy|mock)[\w-]*[\"']"
)


def uses_a_stand_in_client(text: str) -> bool:
    """Whether a test file patches the SDK client or builds it with a made-up key."""
    return STAND_IN_CLIENT.search(text) is not None


# a Python test that stands mocks in for what the code under test depends on (unittest.mock, pytest's
# ``monkeypatch``, pytest-mock's ``mocker``), and a raw HTTP request it could still send for real
PYTHON_MOCKS = linear(
    r"(?m)\bunittest\.mock\b|^\s*from\s+mock\s+import\b|\bMagicMock\(|\bAsyncMock\(|\bmonkeypatch\.|\bmocker\."
)
PYTHON_RAW_HTTP = linear(
    r"\b(?:requests|httpx|aiohttp)\.(?:get|post|put|request|stream|Session|Client|AsyncClient|ClientSession)\b"
    r"|\burlopen\("
)


def mocked_python_test(text: str) -> bool:
    """Whether a Python test file (one importing no AI SDK) runs the project's own code against mocks and
    sends no request of its own that nothing stubs: the model ids it hands that code are input data (a
    request's ``model="gpt-4"``, a mocked state's ``current_model_id``), which the labelling policy counts
    as negatives. The caller checks it reads no provider credential (``calls_live_provider``)."""
    if PYTHON_MOCKS.search(text) is None:
        return False
    return PYTHON_RAW_HTTP.search(text) is None or replays_recorded_http(text)


# what a JavaScript/TypeScript test needs to wait for an answer: ``await``, a promise's ``.then(``, an
# ``async`` function, or a request it sends (``fetch(``, ``XMLHttpRequest``) without waiting
JS_WAITS = linear(r"\bawait\b|\.then\(|\basync\b|\bfetch\(|\bXMLHttpRequest\b")


def synchronous_js_test(text: str) -> bool:
    """Whether a JavaScript/TypeScript test waits for nothing: JavaScript's network calls all answer
    later, so a test that never waits only feeds values to pure functions of the project (a request
    transform's ``toAnthropicRequest(req, "claude-sonnet-4-20250514", entry)``); its endpoints and model
    ids are input data, which the labelling policy counts as negatives."""
    return JS_WAITS.search(text) is None


def sends_raw_llm_request(text: str) -> bool:
    """Whether Python code sends an LLM API request itself, with no SDK: a raw HTTP client and a string
    ending in a vendor's inference route (``requests.post(f"{base}/v1/chat/completions", json=payload)``).
    Such a file reaches a model, so the model ids of its request bodies and defaults need no other
    evidence of AI use in the project."""
    return calls_llm_api_route(text) and PYTHON_RAW_HTTP.search(text) is not None


def posts_to_a_model(text: str) -> bool:
    """Whether a Python test sends an LLM API request that nothing stubs and mocks nothing (an end-to-end
    script posting to a running server): a test that really calls a model, whose models are labelled."""
    return (
        sends_raw_llm_request(text) and PYTHON_MOCKS.search(text) is None and not replays_recorded_http(text)
    )


# a JVM test class and the base test class it extends (``class ChatTest extends BaseSenderTest``,
# Kotlin's ``class ChatTest : BaseSenderTest()``), the file's package, and the import naming the base
JVM_BASE_CLASS = linear(r"\bclass\s+\w+(?:<[^>{]*>)?\s*(?:extends\s+|:\s*)(\w+)")
JVM_PACKAGE = linear(r"^\s*package\s+([\w.]+)", re.MULTILINE)
JVM_TEST_SUFFIXES = (".java", ".kt")


@per_scan(stopped=False)
def _base_class_stubs_http(base_file: Path, root: str) -> bool:
    text = read_neighbour(base_file, root)
    return text is not None and (replays_recorded_http(text) or uses_a_stand_in_client(text))


def _base_class_file(path: Path, text: str, base: str) -> Path:
    """Where the base class's source is: in the package its import names, under the same source root
    (``src/test/java``), or beside the test in its own package."""
    imported = linear(rf"^\s*import\s+([\w.]+)\.{base}\s*;?\s*$", re.MULTILINE).search(text)
    package = JVM_PACKAGE.search(text)
    if not imported or not package:
        return path.parent / f"{base}{path.suffix}"
    depth = package.group(1).count(".") + 1
    source_root = path.parents[depth] if depth < len(path.parents) else path.parent
    return source_root.joinpath(*imported.group(1).split("."), f"{base}{path.suffix}")


def extends_a_stubbing_base(path: Path, text: str, root: str) -> bool:
    """Whether a JVM test class extends a base test class of the tree that stubs the server
    (``server = new MockWebServer()`` in ``BaseRequestSenderTest``): its requests reach that stub, as a
    test that sets the stub up itself."""
    if path.suffix not in JVM_TEST_SUFFIXES:
        return False
    match = JVM_BASE_CLASS.search(text)
    return bool(match) and _base_class_stubs_http(_base_class_file(path, text, match.group(1)), root)


def stubbed_test(test_files: frozenset[str], root: str, path: Path, relpath: str, text: str) -> bool:
    """Whether a test file's requests only reach a stub (here or in the base test class it extends)."""
    if relpath not in test_files:
        return False
    return (
        replays_recorded_http(text)
        or uses_a_stand_in_client(text)
        or extends_a_stubbing_base(path, text, root)
    )


def without_replayed_inputs(findings: list[Finding], scope: str, text: str) -> list[Finding]:
    """A test's findings without the models and endpoints it only feeds to a stubbed server."""
    if scope != "test" or not any(f.type in ("model", "endpoint") for f in findings):
        return findings
    if not (replays_recorded_http(text) or uses_a_stand_in_client(text)):
        return findings
    return [f for f in findings if f.type not in ("model", "endpoint")]


# a test function of a Rust ``#[cfg(test)]`` module, and a serialised record on one line of it (three or
# more JSON members: a recorded response or event a deserialisation test parses)
RUST_TEST_FN = linear(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?fn\s")
JSON_MEMBER = linear(r"\"\w+\"\s*:\s*[\"\[{\dtfn]")
RECORD_MEMBERS = 3
# a unit test that reaches a real model: skipped unless asked for, or configured from the environment
CALLS_OUT = linear(r"#\[ignore\b|\bfrom_env\(|\benv::var\(")
# a unit-test module kept in a file of its own (``#[cfg(test)] mod tests;`` beside ``tests.rs``)
UNIT_TEST_FILE = linear(r"(?:^|/)(?:tests|\w+_tests?)\.rs$")


def unit_test_file(relpath: str) -> bool:
    """A Rust unit-test module kept in a file of its own, not an integration test under ``tests/``."""
    return bool(UNIT_TEST_FILE.search(relpath)) and "/tests/" not in f"/{relpath}"


def _test_input(finding: Finding) -> bool:
    """What a unit test may only hand the code under test: a model or an address (the tools a test
    defines are tools all the same)."""
    return finding.type in ("model", "endpoint")


def without_unit_test_inputs(findings: list[Finding], relpath: str, text: str) -> list[Finding]:
    """A Rust file's findings without the models and endpoints its unit tests only feed to the code under
    test. A unit-test module (``#[cfg(test)]``, in the file or in a file of its own) that never reaches a
    real model loses them all; one that does (``#[ignore]``d, or configured from the environment) keeps
    the model it calls and loses only what is asserted, parsed from a recorded record, or handed to a
    client whose test function stubs its server or gives it a made-up key."""
    if not relpath.endswith(".rs") or not any(_test_input(f) for f in findings):
        return findings
    if unit_test_file(relpath):
        return findings if CALLS_OUT.search(text) else [f for f in findings if not _test_input(f)]
    if "#[cfg(test)]" not in text:
        return findings
    quiet: set[int] = set()
    calling: set[int] = set()
    for start, end in rust_test_module_spans(text):
        (calling if CALLS_OUT.search(text[start:end]) else quiet).update(span_lines(text, start, end))
    test_lines = quiet | calling
    lines = text.split("\n")  # numbered as span_lines counts them
    starts = [n for n in sorted(test_lines) if n <= len(lines) and RUST_TEST_FN.search(lines[n - 1])]
    stubbed: dict[int, bool] = {}  # per test function: each is read once, however many findings it holds

    def test_input(finding: Finding) -> bool:
        number = finding.location.line
        if not _test_input(finding) or number not in test_lines:
            return False
        if number in quiet:
            return True
        if number > len(lines):
            return False
        line = lines[number - 1]
        if ASSERTION.search(line) or len(JSON_MEMBER.findall(line)) >= RECORD_MEMBERS:
            return True
        index = bisect_right(starts, number)
        if index not in stubbed:
            first = starts[index - 1] if index else min(test_lines)
            last = starts[index] - 1 if index < len(starts) else max(test_lines)
            body = "\n".join(lines[first - 1 : last])
            stubbed[index] = replays_recorded_http(body) or uses_a_stand_in_client(body)
        return stubbed[index]

    return [f for f in findings if not test_input(f)]


def without_test_function_tools(findings: list[Finding], relpath: str, text: str) -> list[Finding]:
    """A Rust file's findings without the tools its test functions declare inside their own bodies
    (``#[test] fn t() { #[tool] fn greet(..) {..} assert_eq!(..) }``): a macro's test inspecting the
    declaration it generates, never a tool an agent is handed. A test function that reaches a real
    model (``#[ignore]``d, or configured from the environment) keeps its tools."""
    if not relpath.endswith(".rs") or "test" not in text or not any(f.type == "tool" for f in findings):
        return findings
    local: set[int] = set()
    for start, end in rust_test_function_spans(text):
        if not CALLS_OUT.search(text, start, end):
            local.update(span_lines(text, start, end))
    if not local:
        return findings
    return [f for f in findings if f.type != "tool" or f.location.line not in local]


def is_fixture_data(path: str) -> bool:
    """A data file in a test's fixture folder (``tests/fixtures/chat_response.json``)."""
    folders = path.lower().split("/")[:-1]
    return path.lower().endswith(DATA_SUFFIXES) and any(folder in FIXTURE_FOLDERS for folder in folders)


# the host of a URL string literal; two on one line with the same host are a case of a table test
# (``"http://h:11434": "http://h:11434/"``): an input and the output the code under test should give
URL_LITERAL_HOST = linear(r"""["'`][a-z][\w+.-]*://([^/"'`\s:?#]+)""")


def _input_and_expected(snippet: str) -> bool:
    hosts = URL_LITERAL_HOST.findall(snippet)
    return len(hosts) >= 2 and len(set(hosts)) == 1


def is_test_data(finding: Finding, scopes: dict[str, str]) -> bool:
    """Whether ``finding``, in a test file, is only data for the code under test."""
    if scopes.get(finding.location.file) != "test":
        return False
    if finding.type not in ("model", "endpoint"):
        return False
    if is_fixture_data(finding.location.file):
        return True
    if finding.type == "model" and finding.provider is None and "route" not in finding.metadata:
        return True
    snippet = finding.location.snippet or ""
    if finding.type == "endpoint" and _input_and_expected(snippet):
        return True
    return bool(ASSERTION.search(snippet))

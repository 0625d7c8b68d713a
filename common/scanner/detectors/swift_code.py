"""Swift source: iOS/macOS apps and Swift packages calling AI SDKs, Apple's on-device model, MCP servers.

Read like the other languages (``languages._LanguageDetector``): ``import OpenAI`` (also ``@testable
import``, ``import struct MCP.Tool``) imports a catalog SDK by its module name, and nothing in a file counts
unless it imports one. A Swift import binds no name: each SDK's documented entry types are its bindings
(MacPaw's ``OpenAI(apiToken:)``, ``GenerativeModel(name:apiKey:)``, ``LanguageModelSession()``, the MCP
SDK's ``Server(name:version:)`` and ``Client(name:version:)``), and a call of one is a use of the SDK.
Models come from model arguments (``model: "gpt-4o"``, ``modelName:``), catalog ids in literals, the
Hugging Face repositories a call downloads (MLX's ``ModelConfiguration(id: "mlx-community/...")``) and,
where an SDK names its models by enum cases or static members that do not spell the id (``model: .gpt4_o``,
``LLMRegistry.llama3_2_1B_4bit``), by the SDK's own table (``data/swift_model_members.json``). Tools: the
MCP SDK's ``Tool(name: "x", ...)``, function tools declared through the OpenAI and Anthropic SDKs' types,
and Foundation Models' ``Tool`` conformances, named by their ``name`` property (else by the type).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from common.scanner.catalog import Package, load_json, lookup_prefixed
from common.scanner.detectors.base import Finding, SourceFile
from common.scanner.detectors.languages import MAX_USAGE_LOCATIONS, Import, _LanguageDetector, _line_at
from common.scanner.limits import linear
from common.scanner.textutil import model_finding, nearest_answer, read_neighbour

# ``import OpenAI``, ``@testable import MCP``, ``@preconcurrency import FoundationModels``,
# ``import struct MCP.Tool`` (the module is the first part)
IMPORT = linear(
    r"(?m)^[ \t]*(?:@\w{1,40}(?:\([^)\n]{0,100}\))?[ \t]+){0,3}import[ \t]+"
    r"(?:(?:typealias|struct|class|enum|protocol|let|var|func)[ \t]+)?([A-Za-z_]\w{0,100})"
)
# each SDK's documented entry types and factories: what a file that imports it calls
ENTRY_POINTS = {
    "openai": ("OpenAI", "OpenAIServiceFactory", "ChatGPTAPI", "OpenAISwift"),
    "anthropic": ("AnthropicServiceFactory",),
    "google-generativeai": ("GenerativeModel",),
    "firebase-ai": ("FirebaseAI", "VertexAI"),
    "apple-foundation-models": ("LanguageModelSession", "SystemLanguageModel"),
    "mcp": ("Server", "Client"),
    "mlx": ("LLMModelFactory", "VLMModelFactory", "ModelConfiguration", "ChatSession"),
    "ollama": ("Client", "OllamaKit"),
    "transformers": ("AutoTokenizer", "LanguageModel", "HubApi"),
    "aiproxy": ("AIProxy",),
    "whisperkit": ("WhisperKit",),
    "llama.cpp": ("LLM",),
}
QUOTED = r'"((?:[^"\\\n]|\\.){1,200})"'
# a Hugging Face repository a call downloads: MLX's ``ModelConfiguration(id: "mlx-community/...")``,
# LLM.swift's ``HuggingFaceModel("TheBloke/...-GGUF", .Q4_K_M)``, swift-transformers'
# ``AutoTokenizer.from(pretrained: "...")`` and ``HubApi().snapshot(from: "...")``
HUB_REPOSITORY = linear(
    r"\b(?:ModelConfiguration\(\s*id:|HuggingFaceModel\(|from\(\s*pretrained:|snapshot\(\s*from:)\s*" + QUOTED
)
# function tools declared through an SDK's own types: MacPaw's ``FunctionDefinition(name: "get_weather"``,
# SwiftOpenAI's ``ChatFunction(name:``, SwiftAnthropic's ``MessageParameter.Tool.function(name:`` and
# ``MessageParameter.Tool(name:``
FUNCTION_TOOLS = {
    "openai": linear(r"\b(?:FunctionDefinition|ChatFunction)\(\s*name:\s*" + QUOTED),
    "anthropic": linear(r"\bMessageParameter\.Tool(?:\.function)?\(\s*name:\s*" + QUOTED),
}
# a model passed as an SDK's enum case or static member: ``model: .gpt4_o``, ``model: Model.gpt4o``,
# ``LLMRegistry.qwen3_8b_4bit``
MODEL_MEMBER = linear(
    r"\b(?:model:\s*(?:[A-Z]\w{0,40})?\.|(?:Model|\w{0,20}Registry)\.)([A-Za-z_]\w{0,80})\b"
)
# the MCP SDK's ``Tool(name: "weather", description: ..., inputSchema: ...)``
MCP_TOOL = linear(r"\bTool\(\s*name:\s*" + QUOTED)
# a type conforming to Foundation Models' ``Tool`` protocol: ``struct FindContacts: Tool {``
TOOL_CONFORMANCE = linear(
    r"\b(?:struct|class|actor|enum)\s+(\w{1,100})\s*:\s*(?:[\w.]+\s*,\s*){0,6}(?:FoundationModels\.)?Tool\b"
    r"[^{\n]{0,200}\{"
)
# its name: ``let name = "findContacts"``, ``var name: String { "x" }``, ``var name: String { return "x" }``
NAME_PROPERTY = linear(
    r'\b(?:let|var)\s+name\s*(?::\s*String\s*)?(?:=\s*|\{\s*(?:return\s+)?)"([^"\\\n]{1,100})"'
)
MAX_TYPE_HEAD = 1500  # characters of a tool type's body searched for its ``name`` (properties come first)
# a Swift package's own libraries and targets (``.library(name: "MCP", ...)``): modules it builds itself
OWN_MODULE = linear(r'\.(?:library|target|executableTarget)\(\s*name:\s*"([\w-]{1,100})"')


@cache
def model_members(package_id: str) -> dict[str, str]:
    return load_json("swift_model_members.json").get(package_id, {})


@cache
def _own_modules_in(folder: Path, root: str) -> tuple[str, ...] | None:
    text = read_neighbour(folder / "Package.swift", root)
    return None if text is None else tuple(m.group(1) for m in OWN_MODULE.finditer(text))


class SwiftDetector(_LanguageDetector):
    name = "swift"
    extensions = (".swift",)
    ecosystem = "swift"
    quick_tokens = ("import",)
    tool_patterns = (MCP_TOOL,)
    # Vision runs a Core ML model (``VNCoreMLModel(for: Classifier().model)``) in a file that imports only
    # Vision, which brings Core ML with it
    api_signatures = ((linear(r"\b(VNCoreMLModel)\(\s*for:"), "coreml"),)
    idiom_is_import = True
    # the MCP SDK's ``HTTPClientTransport(endpoint: URL(string: "https://...")!)`` reaches a remote server
    remote_server_patterns = (
        linear(r'\bHTTPClientTransport\(\s*endpoint:\s*URL\(\s*string:\s*"([^"\n]{1,300})"'),
    )

    def imports(self, text: str) -> Iterator[Import]:
        for match in IMPORT.finditer(text):
            yield Import(match.group(1), (), _line_at(text, match.start(1)))

    def imported_packages(self, text: str) -> list[tuple[Import, Package]]:
        """Each imported SDK, bound by its entry points (a Swift import binds every public type)."""
        found = []
        for imp in self.imports(text):
            package = lookup_prefixed(self.ecosystem, imp.module)
            if package:
                found.append((Import(imp.module, ENTRY_POINTS.get(package.id, ()), imp.line), package))
        return found

    def own_package_ids(self, file: SourceFile, sdk_imports: list[tuple[Import, Package]]) -> frozenset[str]:
        """The SDKs whose modules the Swift package above the file builds itself (the MCP SDK's own
        examples and tests import ``MCP``): no dependency there."""
        modules = nearest_answer(file, _own_modules_in, ())
        return frozenset(p.id for module in modules if (p := lookup_prefixed(self.ecosystem, module)))

    def usages(self, file: SourceFile, text: str, bindings: dict[str, Package], comments: set[int]):
        """Calls of an entry point (``Server(``, ``OpenAI.Configuration(``); a declaration (``extension
        Server {``, ``class Client {``) builds nothing."""
        if not bindings:
            return
        names = "|".join(sorted(map(re.escape, bindings), key=len, reverse=True))
        usage = linear(rf"(?:^|[^\w.])({names})((?:\.\w+)*)\s*\(")
        seen = built = 0
        for match in usage.finditer(text):
            line = _line_at(text, match.start(1))
            before = text[max(0, match.start(1) - 12) : match.start(1)].rstrip()
            if line in comments or before.endswith(("class", "struct", "extension", "func", "enum")):
                continue
            package = bindings[match.group(1)]
            member = (match.group(2) or "").lstrip(".")
            if package.id == "mcp" and built < MAX_USAGE_LOCATIONS:
                built += 1  # a file builds a server or two: a generated one building thousands costs no more
                yield from self.mcp_usage(file, text, match, member, line, package)
            seen += 1
            if seen <= MAX_USAGE_LOCATIONS:
                yield self.finding(file, package, line)

    def mcp_usage(self, file, text, match, member, line, package=None):
        """``Server(name: "x", version: ...)`` serves, ``Client(name: "x", ...)`` connects."""
        if member:
            return
        yield from super().mcp_usage(file, text, match, member, line, package)

    def models(self, file: SourceFile, text: str, comments: set[int], strong: bool, sdk_imports):
        reported: set[tuple[int, str]] = set()
        for finding in super().models(file, text, comments, strong, sdk_imports):
            reported.add((finding.location.line, finding.name))
            yield finding
        configured = ((m.start(1), m.group(1)) for m in HUB_REPOSITORY.finditer(text))
        yield from self.models_at_offsets(file, text, configured, comments, reported, hf_context=True)
        tables = [model_members(package.id) for _, package in sdk_imports]
        tables = [table for table in tables if table]
        for match in MODEL_MEMBER.finditer(text) if tables else ():
            value = next((table[match.group(1)] for table in tables if match.group(1) in table), None)
            line = _line_at(text, match.start())
            found = model_finding(value, line, strong=True, hf_context=True) if value else None
            if found and line not in comments and (line, found[1]) not in reported:
                reported.add((line, found[1]))
                yield self.model_at(file, line, found, resolved_from=match.group(0))

    def framework_tools(
        self, file: SourceFile, text: str, comments: set[int], packages: dict[str, Package]
    ) -> Iterator[Finding]:
        """Function tools an SDK's types declare, and Foundation Models tools: a type conforming to
        ``Tool``, named by its ``name`` property (the protocol's default is the type's name)."""
        seen: set[str] = set()
        for package_id, pattern in FUNCTION_TOOLS.items():
            package = packages.get(package_id)
            if package:
                found = [(match.start(), match.group(1)) for match in pattern.finditer(text)]
                yield from self.named_tools(file, text, comments, found, package.provider, package.id, seen)
        apple = packages.get("apple-foundation-models")
        if apple is None or "Tool" not in text:
            return
        found = []
        conformances = list(TOOL_CONFORMANCE.finditer(text))
        for number, match in enumerate(conformances):
            # a type's head ends where the next tool type starts: windows never overlap, the reading stays
            # linear however many types a file declares
            following = conformances[number + 1].start() if number + 1 < len(conformances) else len(text)
            named = NAME_PROPERTY.search(text, match.end(), min(following, match.end() + MAX_TYPE_HEAD))
            found.append((match.start(), named.group(1) if named else match.group(1)))
        yield from self.named_tools(file, text, comments, found, apple.provider, apple.id, seen)

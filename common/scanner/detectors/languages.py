"""JavaScript/TypeScript, Go, Java, Ruby, C# and Rust source.

These languages are read with per-language import grammars (regular
expressions over the whole file, so multi-line imports work) rather than full
parsers. The same gate as for Python applies: nothing in a file counts unless
the file imports a catalog SDK. Then:

- every call or construction through an imported binding is a location of that SDK;
- a model key (``model: "..."``, ``.model("...")``, ``Model: "..."``, ``"model" => "..."``) anywhere in
  the file names a model, on whatever line it sits, also through a same-file string constant;
- a string literal that is a known catalog model id is a model;
- a URL literal of a known AI endpoint is an endpoint (comment lines excluded).

A file whose SDK comes in without an import of its own (C# global/implicit usings, Rails' Bundler.require)
is read through idioms only that SDK has (``Kernel.CreateBuilder()``, ``OpenAI::Client.new``): its models,
tools and servers count, the SDK is not placed in that file. A file that imports no SDK still names
catalog models in model-named constants and catalogs (``DEFAULT_MODEL = "gpt-4o"``, ``MODELS = [...]``).
"""

from __future__ import annotations

import json
import os
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain, islice
from pathlib import Path

from common.scanner.catalog import (
    PACKAGE_TYPES,
    Package,
    go_provider_client,
    load_json,
    lookup_package,
    lookup_prefixed,
    match_model,
    npm_integration_package,
    package_index,
    patterns,
    registry_name,
    storage_only_import,
)
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.detectors.code_declarations import PLACEHOLDER_NAMES
from common.scanner.keys import component_key
from common.scanner.lazy import lazy_re
from common.scanner.limits import line_at, line_start, linear, parse_toml
from common.scanner.model_constants import BRACE, CATALOG_LITERAL, rust_test_module_lines
from common.scanner.sfc import SFC_SUFFIXES
from common.scanner.test_data import CALLS_OUT, synchronous_js_test, unit_test_file
from common.scanner.textutil import (
    CARGO_DEPENDENCY_TABLES,
    bedrock_arn_models,
    calls_live_provider,
    calls_llm_api_route,
    catalog_model_literals,
    class_constant_model,
    class_constant_models,
    code_model_literals,
    comment_column,
    comment_line_numbers,
    component_name_for,
    embedded_modelfile_bases,
    endpoint_for_url,
    folders_up,
    gated_live_test,
    google_path_models,
    hf_url_models,
    is_prose,
    known_ai_host,
    mentions_ai_endpoint,
    mentions_known_ai_host,
    model_constant_definitions,
    model_finding,
    model_id_from_constant_name,
    nearest_answer,
    own_packages,
    per_scan,
    plausible_model_name,
    read_neighbour,
    scan_root_of,
    string_literals,
    tomllib,
)
from common.scanner.walker import iter_walk

# TypeScript declaration files: types only, no values
TS_DECLARATION_SUFFIXES = (".d.ts", ".d.mts", ".d.cts")

STRING_LITERAL = lazy_re(r"""(["'`])((?:(?!\1)[^\\\n]|\\.){1,200})\1""")
# ``deploymentName: "gpt-4o"`` (Azure OpenAI, Semantic Kernel): the name the operator gave a deployment, an
# alias whatever it spells, as a deployment key in config is. RE2: backtracking makes
# ``\w*_deployment(?:_\w+)?`` quadratic in one long word (``_deployment_deployment…``); RE2 has no
# backreference, so each quote is its own alternative and the value is the group that matched (``lastindex``)
DEPLOYMENT_VALUE = linear(
    r"""\b(?:[Dd]eployment(?:[A-Z_]\w*)?|\w*_deployment(?:_\w+)?|\w*[a-z]Deployment(?:Name|Id)?)["']?\s*(?::|=>|=)\s*"""
    r"""(?:"([^"'`\n]{1,120})"|'([^"'`\n]{1,120})'|`([^"'`\n]{1,120})`)"""
)
URL = linear(r"""https?://[^\s'"`<>]+""")
BARE_HOST = linear(r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,6}")
# a literal compared with or searched for in another value (``strings.Contains(base, "api.openai.com")``,
# ``url.includes('api.openai.com')``, ``host == "api.openai.com"``): a test of which API a configured URL
# points at, not the endpoint the program calls; the text before the literal on its line
COMPARED_BEFORE = linear(
    r"""(?:\b(?:Contains|HasSuffix|HasPrefix|EqualFold|Index|includes|endsWith|startsWith|indexOf|endswith"""
    r"""|startswith|contains)\(\s*(?:[\w.$\[\]()]{1,120}\s*,\s*)?|[=!]==?\s*)["'`]?$"""
)
COMPARED_AFTER = linear(r"""["'`]?\s*(?:[=!]==?|\bin\b)""")
# ``name = "x"`` in an annotation's or attribute macro's arguments (JVM ``@Tool(name = ...)``, Rust
# ``#[rig_tool(name = ...)]``)
NAME_ARGUMENT = linear(r'\bname\s*=\s*"([^"\n]{1,100})"')
MAX_USAGE_LOCATIONS = 20
# ``const SERVER_NAME = "x"``, ``static final String NAME = "x";``, ``const val NAME = "x"``, Go's
# ``serverName := "x"``: a name an SDK call may hold by reference (RE2: one alternative per quote)
STRING_CONSTANT = linear(
    r"""\b([A-Za-z_$][\w$]{0,80})\s*(?::\s*&?'?[\w<>\[\]]{1,40}\s*)?(?::=|=)\s*"""
    r"""(?:"([^"\n$]{1,120})"|'([^'\n]{1,120})'|`([^`\n$]{1,120})`)\s*[;,)\n]"""
)
NAME_REFERENCE = linear(r"""\b[Nn]ame\s*[:=]\s*((?:[A-Za-z_$][\w$]*\.)*[A-Za-z_$][\w$]*)\s*[,}\n)]""")
MCP_IMPORT_HINT = linear(r"""["'](?:@modelcontextprotocol/|fastmcp["'])""")
NAME_FALLBACK = linear(
    r"""\b[Nn]ame\s*:\s*[\w$.\[\]'"]{1,80}\s*(?:\|\||\?\?)\s*"""
    r"""(?:"([^"\n$]{1,100})"|'([^'\n]{1,100})'|`([^`\n$]{1,100})`)"""
)
# ``import pkg from "../package.json"`` … ``name: pkg.name``: a server named after its npm package
NAME_FROM_MANIFEST = linear(r"""\b[Nn]ame\s*:\s*([A-Za-z_$][\w$]*)\.name\b""")
LEADING_STRING = linear(r"""\s*(?:"([^"\n$]{1,100})"|'([^'\n]{1,100})'|`([^`\n$]{1,100})`)\s*[,)]""")
LEADING_IDENTIFIER = linear(r"""\s*((?:[A-Za-z_$][\w$]*\.)*[A-Za-z_$][\w$]*)\s*[,)]""")


@lru_cache(maxsize=4)
def string_constants(text: str) -> dict[str, str]:
    """The string each identifier of a file is first set to, found in one pass per file: a server or
    tool named through a constant (``new McpServer({ name: SERVER_NAME })``) is named by its value."""
    constants: dict[str, str] = {}
    for match in STRING_CONSTANT.finditer(text):
        constants.setdefault(match.group(1), match.group(match.lastindex))
    return constants


# ``const baseUrl = new URL("https://host/mcp")`` (or a plain string): a URL a transport is handed by name
URL_ASSIGNMENT = linear(
    r"""(?:^|[^\w$.])([A-Za-z_$][\w$]{0,80})\s*=\s*(?:new\s+URL\(\s*)?"""
    r"""["'`]((?:https?|wss?)://[^"'`\s$]{1,200})["'`]"""
)


@lru_cache(maxsize=4)
def url_assignments(text: str) -> dict[str, str]:
    """The written URL each identifier of a file is first set to, found in one pass per file."""
    found: dict[str, str] = {}
    for match in URL_ASSIGNMENT.finditer(text):
        found.setdefault(match.group(1), match.group(2))
    return found


@lru_cache(maxsize=4)
def _object_assignments(text: str, variable: str) -> list[int]:
    """Offsets of the ``{`` of every object literal assigned to ``variable`` (``const info = { … }``),
    found once per file and variable, not again before each server a file builds."""
    pattern = linear(rf"\b{re.escape(variable)}\s*(?::\s*[\w.<>]+\s*)?=\s*\{{")
    return [match.end() - 1 for match in pattern.finditer(text)]


def manifest_name(file: SourceFile, text: str, start: int) -> str | None:
    """The ``name`` of the package.json a server's ``name: pkg.name`` reads (imported or required by a
    relative path, read like every neighbour file)."""
    reference = NAME_FROM_MANIFEST.search(text[start : start + 300])
    if not reference:
        return None
    variable = re.escape(reference.group(1))
    imported = linear(
        rf"""(?:\bimport\s+(?:\*\s+as\s+)?{variable}\s+from|\b{variable}\s*=\s*require\()\s*"""
        r"""["'](\.{1,2}/[^"']*package\.json)["']"""
    ).search(text)
    if not imported:
        return None
    return _package_json_name(os.path.realpath(file.path.parent / imported.group(1)), scan_root_of(file))


# a fast-mcp tool base class: ``class ApplicationTool < ActionTool::Base`` (fast-mcp's Rails alias of
# ``FastMcp::Tool``) or ``< FastMcp::Tool``
FAST_MCP_BASE_CLASS = linear(
    r"^[ \t]*class\s+(\w+)\s*<\s*(?:::)?(?:FastMcp::Tool|ActionTool::Base)\b", re.MULTILINE
)


@per_scan(stopped=frozenset())
def _fast_mcp_base_classes(path: str, root: str) -> frozenset[str]:
    """The fast-mcp tool base classes a Ruby file beside the scanned one declares, read once per scan."""
    text = read_neighbour(Path(path), root)
    if text is None or ("Base" not in text and "FastMcp" not in text):
        return frozenset()
    return frozenset(match.group(1) for match in FAST_MCP_BASE_CLASS.finditer(text))


@per_scan()
def _package_json_name(path: str, root: str) -> str | None:
    """The ``name`` of a package.json, parsed once per scan however many servers and files read it."""
    manifest = read_neighbour(Path(path), root)
    if manifest is None:
        return None
    try:
        declared = json.loads(manifest).get("name")
    except (ValueError, AttributeError):
        return None
    return declared if isinstance(declared, str) and declared.strip() else None


@lru_cache(maxsize=8)
def spelt_package_name(text: str, package_id: str, registry: str) -> str:
    """The registry name of a catalog package as a file spells it, where the catalog lists several, else
    its first; once per file, however many clients the file builds."""
    first = registry_name(package_id, registry)
    return next((n for n in registry_name_all(package_id, registry) if f'"{n}"' in text), first)


def npm_package_name(file: SourceFile) -> str | None:
    """The ``name`` of the package.json nearest above a file, within the scanned tree."""
    return nearest_answer(file, _package_json_name_in, None)


def _package_json_name_in(folder: Path, root: str) -> str | None:
    return _package_json_name(str(folder / "package.json"), root)


def constant_value(text: str, reference: str | None) -> str | None:
    """The string a (possibly qualified: ``Config.SERVER_NAME``) identifier stands for in ``text``."""
    if not reference:
        return None
    value = string_constants(text).get(reference.rsplit(".", 1)[-1])
    return value if value and value.strip() else None


def call_arguments(window: str) -> str:
    """The start of ``window`` up to where the call it opens closes (brackets counted, strings not
    parsed), or all of it when the call runs on past it."""
    depth = 1
    for index, char in enumerate(window):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return window[:index]
    return window


MCP_PACKAGES = (
    "mcp",
    "fastmcp",
    "mastra-mcp",
    "pronskiy-mcp",
    "mcp-handler",
    "mcp-use",
    "mcp-framework",
    "xmcp",
)
MODEL_VERBS = ("pull", "show", "run", "load", "copy", "delete", "push")
MCP_PROVIDER = "Model Context Protocol"
JAVA_MCP_SDK = "io.modelcontextprotocol.sdk:mcp"
# MCP clients that other SDKs build (LangChain's MCP adapters, Mastra, the Vercel AI SDK): these names say
# MCP client whatever catalog package they are imported from; any case, since an import alias keeps the
# name and changes its case (``experimental_createMCPClient as createMcpClient``)
MCP_CLIENT_CALLS = linear(
    r"(?:experimental_)?createMCPClient|MultiServerMCPClient|MCPClient|useMcp", re.IGNORECASE
)


# a string literal among a started server's arguments (``"-y"``, ``'pkg'``)
CHILD_ARGUMENT = linear(r"""(?:"([^"\n]{1,200})"|'([^'\n]{1,200})'|`([^`\n$]{1,200})`)""")
# an environment entry handed beside the arguments (mcp-go's ``[]string{"TOKEN=x"}``), not an argument
ENVIRONMENT_ENTRY = linear(r"[A-Z_][A-Z0-9_]*=")


@dataclass(frozen=True)
class Import:
    module: str
    bindings: tuple[str, ...]
    line: int
    implied: bool = False  # inferred from an idiom only this SDK has, not written as an import


# the folders of a web framework's API routes: Next.js's ``app/api/<name>/route.ts`` and
# ``pages/api/<name>.ts``, an Express app's ``routes/<name>.js``
ROUTE_FOLDERS = frozenset({"api", "routes"})
ROUTE_FILE_STEMS = frozenset({"route", "index", "handler"})


def api_route_name(relpath: str) -> str | None:
    """The lower-case name of the API route a file serves, or None for a file that serves no route."""
    parts = relpath.lower().split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    if stem in ROUTE_FILE_STEMS and len(parts) >= 3 and parts[-3] in ROUTE_FOLDERS:
        return parts[-2]
    if len(parts) >= 2 and parts[-2] in ROUTE_FOLDERS and stem not in ROUTE_FILE_STEMS:
        return stem
    return None


def snake_case(name: str) -> str:
    """``GetVisitStatistics`` -> ``get_visit_statistics``."""
    out: list[str] = []
    for index, char in enumerate(name):
        if char.isupper() and index and (name[index - 1].islower() or name[index - 1].isdigit()):
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def _line_at(text: str, offset: int) -> int:
    return line_at(text, offset)


class LinesOnDemand:
    """A set of line numbers worked out at its first membership question: most files that import no
    SDK hold no model literal, and numbering their comment lines up front was ~3 % of a scan."""

    __slots__ = ("_lines", "_make")

    def __init__(self, make: Callable[[], set[int]]) -> None:
        self._make = make
        self._lines: set[int] | None = None

    def __contains__(self, line: object) -> bool:
        if self._lines is None:
            self._lines = self._make()
        return line in self._lines


# ``import a.b.GPT_4O``, ``import static …``, ``import { GPT_4O } from``, Rust's ``use openai::GPT_4O``
IMPORT_STATEMENT = re.compile(r"\s*(?:import|use|using)\b")
# a line longer than this is left unsplit (minified code): finding its ``//`` would cost more than it saves
MAX_COMMENTED_LINE = 2000


def line_comment_start(raw: str) -> int | None:
    """Column of the ``//`` that opens a comment after code on a line (``.modelName(NAME) // GPT_4O``),
    skipping ``//`` inside string literals (``"https://..."``, template literals too)."""
    return comment_column(raw, "//", "\"'`")


# ``NAME = "value"`` / ``name := "value"`` (a typed Rust or TypeScript constant too): what a model key set to
# a name holds
MODEL_CONSTANT_ASSIGNMENT = lazy_re(
    r"""\b([A-Za-z_]\w*)\s*(?::\s*&?'?\w+\s*)?(?::=|=)\s*(["'`])([^"'`$\n]{1,120})\2"""
)


class _LanguageDetector(Detector):
    name = ""
    extensions: tuple[str, ...] = ()
    ecosystem = ""
    # the registry whose spelling names an SDK-built MCP client that declares no name (None: its file)
    registry: str | None = None
    separator = "."
    comment_prefixes: tuple[str, ...] = ("//", "/*", "*")
    quick_tokens: tuple[str, ...] = ()  # a file without any of these has no import worth parsing
    tool_patterns: tuple[re.Pattern, ...] = ()  # MCP tool registrations; group 1 is the tool name
    tool_constant_patterns: tuple[re.Pattern, ...] = ()  # the same, group 1 the constant holding it
    # an MCP client starting its server as a child process; group 1 the command, group 2 the text
    # holding its arguments as string literals
    child_server_patterns: tuple[re.Pattern, ...] = ()
    # whether those patterns count only in a file importing an MCP SDK (a generic process API), or in any
    # file importing an AI SDK (names only MCP transports have)
    child_servers_need_mcp = True
    remote_servers_need_mcp = True  # likewise for ``remote_server_patterns``
    # an MCP client reaching a remote server: group 1 the URL written in the transport's construction
    remote_server_patterns: tuple[re.Pattern, ...] = ()
    api_signatures: tuple[tuple[re.Pattern, str], ...] = ()  # (idiom only one SDK has, catalog id)
    # True where using an SDK's constant is how the language imports it (Ruby under Bundler.require):
    # the SDK is then placed in the file at that use, as an import would place it
    idiom_is_import = False

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix in self.extensions

    def imports(self, text: str) -> Iterator[Import]:
        raise NotImplementedError

    def package_for(self, module: str) -> Package | None:
        return lookup_prefixed(self.ecosystem, module, self.separator)

    def mcp_server_name(self, text: str, start: int) -> str | None:
        """``name: "x"``, ``name = "x"``, or Go's ``&mcp.Implementation{Name: "x"}``; also through a
        same-file constant (``name: SERVER_NAME``) or an info object the call is handed (``new
        McpServer(serverInfo)`` after ``const serverInfo = { name: "x" }``). Only the call's own
        arguments count: a nameless client (Mastra's ``new MCPClient({ servers })``) takes no name from the
        server built after it."""
        raw = text[start : start + 300]
        window = call_arguments(raw)
        match = re.search(r"""\b[Nn]ame\s*[:=]\s*(["'`])([^"'`$]+)\1""", window)
        if match:
            return match.group(2)
        fallback = NAME_FALLBACK.search(window)  # ``name: process.env.SERVER_NAME ?? "x"``
        if fallback:
            return fallback.group(fallback.lastindex)
        reference = NAME_REFERENCE.search(window)
        if reference:
            return constant_value(text, reference.group(1))
        handed = LEADING_IDENTIFIER.match(raw)
        if handed and "." not in handed.group(1):
            held = _object_assignments(text, handed.group(1))
            before = bisect_right(held, start) - 1
            if before >= 0:
                return _LanguageDetector.mcp_server_name(self, text, held[before])
        return None

    @staticmethod
    def leading_name(text: str, start: int) -> str | None:
        """A server constructor's first argument when it is a string: the name (mcp-use's
        ``createMCPServer("x", {...})``)."""
        match = LEADING_STRING.match(text[start : start + 120])
        return match.group(match.lastindex) if match else None

    def mcp_client_name(self, text: str, start: int) -> str | None:
        """How a client built at ``start`` declares itself (``new Client({ name: "x" })``)."""
        return _LanguageDetector.mcp_server_name(self, text, start)

    # the last text's SDK imports, with the crate renames they were read under (``RustDetector.renamed``)
    _last_sdk_imports: tuple[str, object, list[tuple[Import, Package]]] | None = None

    def sdk_imports(self, text: str) -> list[tuple[Import, Package]]:
        """Imports of catalog SDKs; without any, the SDK idioms that only one SDK has (C#'s global or
        implicit usings leave a file with none of its own). A file's detection asks several times
        (its findings, then its tools, models and MCP checks), so the last text's answer is kept."""
        renamed = getattr(self, "renamed", None)
        last = self._last_sdk_imports
        if last is None or last[0] is not text or last[1] is not renamed:
            last = self._last_sdk_imports = (text, renamed, self._sdk_imports(text))
        return list(last[2])

    def _sdk_imports(self, text: str) -> list[tuple[Import, Package]]:
        has_imports = not self.quick_tokens or any(token in text for token in self.quick_tokens)
        found = self.imported_packages(text) if has_imports else []
        if found:  # ``// const OpenAI = require("openai")``: code commented out imports nothing
            comments = self.comment_lines(text.splitlines())
            found = [
                (imp, package)
                for imp, package in found
                if imp.line not in comments and not storage_only_import(package.id, imp.bindings)
            ]
            found += self.wrapped_stores(found)
        return found or list(self.signature_imports(text))

    def imported_packages(self, text: str) -> list[tuple[Import, Package]]:
        """The imports of catalog packages, in ``imports``' order, each with its package."""
        return [(imp, p) for imp in self.imports(text) if (p := self.package_for(imp.module))]

    # ``@langchain/community/vectorstores/pgvector``, langchaingo's ``.../vectorstores/qdrant``
    FRAMEWORK_STORE_PATH = linear(r"(?:^|/)vectorstores/(\w+)$")

    def wrapped_stores(self, found: list[tuple[Import, Package]]) -> list[tuple[Import, Package]]:
        """The vector store a framework's wrapper, imported by the store's name, runs against: that store is
        in use next to the framework (as ``from langchain_community.vectorstores import FAISS`` is in
        Python). The wrapper's calls stay the framework's."""
        stores = patterns()["other_languages"]["framework_vector_store_paths"]
        wrapped = []
        for imp, package in found:
            path = self.FRAMEWORK_STORE_PATH.search(imp.module) if package.type == "agent_framework" else None
            store = lookup_package("id", stores.get(path.group(1).lower(), "")) if path else None
            if store:
                wrapped.append((Import(imp.module, (), imp.line), store))
        return wrapped

    def signature_imports(self, text: str) -> Iterator[tuple[Import, Package]]:
        seen: set[str] = set()
        lines = text.splitlines() if self.api_signatures else []
        for pattern, package_id in self.api_signatures:
            match = next(
                (
                    m
                    for m in pattern.finditer(text)
                    if not lines[_line_at(text, m.start()) - 1].lstrip().startswith(self.comment_prefixes)
                ),
                None,
            )
            package = lookup_package("id", package_id) if match else None
            if package and package.id not in seen:
                seen.add(package.id)
                bindings = (match.group(1),) if pattern.groups else ()
                yield Import(package.id, bindings, _line_at(text, match.start()), implied=True), package

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        text = file.text
        report.facts.model_constants = model_constant_definitions(text, shared_only=True)
        sdk_imports = [
            (imp, package)
            for imp, package in self.sdk_imports(text)
            if not (imp.implied and self.project_defines(file, imp, package))
        ]
        if not sdk_imports:
            if mentions_ai_endpoint(text) or self.bare_hosts(text) or calls_llm_api_route(text):
                yield from self.raw_http(file, text)
            yield from self.model_catalogs(file, text)
            return
        comment_lines = self.prose_lines(file)
        strong = any(p.type in ("llm_provider", "agent_framework") for _, p in sdk_imports)
        bindings: dict[str, Package] = {}
        # the repository's own package, imported by its examples and tests, is no dependency; what they
        # do with it (models, endpoints, tools) still counts
        own = self.own_package_ids(file, sdk_imports)
        for imp, package in sdk_imports:
            if (not imp.implied or self.idiom_is_import) and package.id not in own:
                yield self.finding(file, package, imp.line)  # an idiom alone is no import (C# global usings)
            for binding in imp.bindings:
                bindings[binding] = package
        implied = {package.id for imp, package in sdk_imports if imp.implied and not self.idiom_is_import}
        for finding in self.usages(file, text, bindings, comment_lines):
            if finding.type not in PACKAGE_TYPES or (finding.name not in implied and finding.name not in own):
                yield finding
        yield from self.models(file, text, comment_lines, strong, sdk_imports)
        yield from self.endpoints(file, comment_lines)
        uses_mcp = any(p.id in MCP_PACKAGES for _, p in sdk_imports)
        if uses_mcp:
            yield from self.mcp_tools(file, text, comment_lines)
        if uses_mcp or not self.remote_servers_need_mcp:
            yield from self.reached_servers(file, text, comment_lines)
        if uses_mcp or not self.child_servers_need_mcp:
            yield from self.started_servers(file, text, comment_lines)
        yield from self.framework_tools(file, text, comment_lines, {p.id: p for _, p in sdk_imports})

    def framework_tools(
        self, file: SourceFile, text: str, comments: set[int], packages: dict[str, Package]
    ) -> Iterator[Finding]:
        """Tools an agent framework (not MCP) exposes to the model; none by default."""
        return iter(())

    def own_package_ids(self, file: SourceFile, sdk_imports: list[tuple[Import, Package]]) -> frozenset[str]:
        """The repository's own packages (``own_packages``): its examples and tests use them."""
        return own_packages(file, self.registry)

    def project_defines(self, file: SourceFile, imp: Import, package: Package) -> bool:
        """Whether an SDK idiom the file uses without importing the SDK (``imp.implied``) names the
        project's own code instead; never, unless a language says how to tell."""
        return False

    def genkit_tools(
        self,
        file: SourceFile,
        text: str,
        comments: set[int],
        packages: dict[str, Package],
        pattern: re.Pattern,
        seen: set[str],
    ) -> Iterator[Finding]:
        """Genkit's ``defineTool``/``DefineTool`` in a file importing Genkit, by the name ``pattern``'s first
        group gives it."""
        genkit = packages.get("genkit")
        if genkit:
            found = [(match.start(), match.group(1)) for match in pattern.finditer(text)]
            yield from self.named_tools(file, text, comments, found, genkit.provider, genkit.id, seen)

    def named_tools(
        self,
        file: SourceFile,
        text: str,
        comments: set[int],
        found: list[tuple[int, str]],
        provider: str,
        framework: str,
        seen: set[str],
    ) -> Iterator[Finding]:
        """A ``tool`` for each (offset, name) found, off comment lines; a name already in ``seen`` is not
        reported again (and each one reported is added)."""
        for offset, name in found:
            line = _line_at(text, offset)
            if line in comments or name.lower() in seen:
                continue
            seen.add(name.lower())
            yield self.located(file, line, "tool", name.lower(), provider, metadata={"framework": framework})

    def model_catalogs(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """Catalog model ids in a file that imports no SDK (a settings module, a model picker). A
        TypeScript declaration file (``index.d.ts``) holds types only: its string literals are the
        members of a union type (a vendored tool's ``TemplateType = "llama2" | "phi2"``), never a value
        the program configures."""
        if file.name.endswith(TS_DECLARATION_SUFFIXES):
            return
        comments = LinesOnDemand(lambda: self.prose_lines(file))
        reported: set[tuple[int, str]] = set()
        # in a test, a literal id without an SDK call is input data for the code under test (a fixture's
        # ``orch.model = "gemini-flash-latest"``), unless the test reads a provider's credential, or is
        # gated as one that needs it, and so calls the real API
        live = file.scope != "test" or calls_live_provider(text) or gated_live_test(text)
        for offset, value in catalog_model_literals(text) if live else ():
            line = _line_at(text, offset)
            found = model_finding(value, line, strong=False, hf_context=False)
            if found and line not in comments:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found)
        # a model file downloaded, or a model repository cloned
        yield from self.models_at_offsets(
            file, text, hf_url_models(text), comments, reported, hf_context=True
        )
        if live:  # a Bedrock ARN (a CDK stack's or an IAM policy's) or CDK model constant says Bedrock itself
            yield from self.models_at_offsets(file, text, bedrock_arn_models(text), comments, reported)
            yield from self.models_at_offsets(file, text, class_constant_models(text), comments, reported)
        literals = code_model_literals(text, comments) if live else ()
        for line, value in literals:
            found = model_finding(value, line, strong=False, hf_context=False)
            if found and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found, evidence=CATALOG_LITERAL)

    def tool_names(self, text: str) -> Iterator[tuple[int, str]]:
        """(offset, name) of every tool an MCP server registers, in this language's SDK idioms, the name
        written there or held by a same-file constant (``server.tool(TOOL_NAME, ...)``)."""
        for pattern in self.tool_patterns:
            for match in pattern.finditer(text):
                yield match.start(), match.group(1)
        for pattern in self.tool_constant_patterns:
            for match in pattern.finditer(text):
                value = constant_value(text, match.group(1))
                if value:
                    yield match.start(), value

    def mcp_tools(self, file: SourceFile, text: str, comments: set[int]) -> Iterator[Finding]:
        seen: set[str] = set()
        for offset, name in self.tool_names(text):
            line = _line_at(text, offset)
            if line in comments or not name.strip() or name in seen:
                continue
            seen.add(name)
            yield self.mcp_tool(file, name, line)

    def mcp_tool(self, file: SourceFile, name: str, line: int) -> Finding:
        return Finding(
            key=component_key("tool", name.lower()),
            name=name.lower(),
            type="tool",
            provider=MCP_PROVIDER,
            location=file.location(line),
            detector=self.name,
            metadata={"framework": "mcp"},
        )

    def started_servers(self, file: SourceFile, text: str, comments: set[int]) -> Iterator[Finding]:
        """Servers an MCP client starts through a package runner (``npx -y pkg``), named by the package
        (the policy's rule for a client that launches its server)."""
        from common.scanner.detectors.mcp_config import started_server

        for pattern in self.child_server_patterns:
            for match in pattern.finditer(text):
                line = _line_at(text, match.start())
                if line in comments:
                    continue
                args = [
                    value
                    for m in CHILD_ARGUMENT.finditer(match.group(2) or "")
                    if not ENVIRONMENT_ENTRY.match(value := m.group(m.lastindex))
                ]
                found = started_server(self, file, line, match.group(1), args)
                if found:
                    yield found

    def reached_servers(self, file: SourceFile, text: str, comments: set[int]) -> Iterator[Finding]:
        """Remote servers an MCP client's transport reaches at a URL the code writes, named by host (the
        name an unnamed ``url`` entry of a client config gets)."""
        from common.scanner.detectors.mcp_config import reached_server

        for pattern in self.remote_server_patterns:
            for match in pattern.finditer(text):
                line = _line_at(text, match.start())
                if line not in comments and (found := reached_server(self, file, line, match.group(1))):
                    yield found

    def raw_http(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """A file without SDK imports that calls an AI endpoint directly: the endpoint, and the
        catalog model ids its request bodies name. A vendor route with no host written (a same-origin
        proxy, a base URL from config) is such a call too; only its models are reported."""
        comment_lines = self.prose_lines(file)
        endpoints = list(self.endpoints(file, comment_lines))
        if not endpoints and not calls_llm_api_route(text):
            return
        yield from endpoints
        yield from self.models(file, text, comment_lines, False, [])

    def finding(self, file: SourceFile, package: Package, line: int, **extra) -> Finding:
        return Finding(
            key=component_key(package.type, package.id),
            name=package.id,
            type=package.type,
            provider=package.provider,
            location=file.location(line),
            detector=self.name,
            **extra,
        )

    # the last lines' comment numbers: a file's SDK imports number a fresh ``text.splitlines()`` and
    # its prose checks then number ``file.lines``, equal lists of one text
    _last_comment_lines: tuple[list[str], set[int]] | None = None

    def comment_lines(self, lines: list[str]) -> set[int]:
        last = self._last_comment_lines
        if last is None or last[0] != lines:
            last = self._last_comment_lines = (
                list(lines),
                comment_line_numbers(lines, self.comment_prefixes),
            )
        return set(last[1])

    def prose_lines(self, file: SourceFile) -> set[int]:
        """Lines people read rather than the program runs: comments (a language may add text it
        only shows)."""
        return self.comment_lines(file.lines)

    def after_line_comment(self, text: str, offset: int, starts: dict[int, int | None]) -> bool:
        """Whether ``offset`` lies in a ``//`` comment that follows code on its line: a commented-out
        alternative (``.modelName(NAME) //GPT_4O_MINI)``) is no more used than a commented line.
        ``starts`` caches each line's comment column by the line's start offset."""
        if "//" not in self.comment_prefixes:
            return False
        start = line_start(text, offset)
        if start not in starts:
            line_end = text.find("\n", offset)
            raw = text[start : line_end if line_end != -1 else len(text)]
            starts[start] = line_comment_start(raw) if len(raw) <= MAX_COMMENTED_LINE else None
        column = starts[start]
        return column is not None and offset - start > column

    def usages(self, file: SourceFile, text: str, bindings: dict[str, Package], comments: set[int]):
        if not bindings:
            return
        names = "|".join(sorted(map(re.escape, bindings), key=len, reverse=True))
        usage = linear(rf"(?:^|[^\w.$])({names})((?:(?:\.|::)\w+)*)\s*(?:\(|\{{)")
        seen = 0
        for match in usage.finditer(text):
            line = _line_at(text, match.start(1))
            before = text[max(0, match.start(1) - 7) : match.start(1)].rstrip()
            if line in comments or before.endswith("class"):
                continue  # ``class Server {`` declares the class a binding names, it builds nothing
            if match.group(0).endswith("{") and before.endswith(("*", ")", ":")):
                continue  # a type before a body (Go's ``func New() *server.MCPServer {``) builds nothing
            package = bindings[match.group(1)]
            member = (match.group(2) or "").lstrip(".:")
            if package.id in MCP_PACKAGES:
                yield from self.mcp_usage(file, text, match, member, line, package)
            elif not member and MCP_CLIENT_CALLS.fullmatch(match.group(1)):
                yield self.code_mcp_client(file, line, self.mcp_client_name(text, match.end()), package)
            seen += 1
            if seen <= MAX_USAGE_LOCATIONS:
                yield self.finding(file, package, line)

    def name_from_callers(self, file: SourceFile, text: str, start: int) -> str | None:
        """The name a server takes from a parameter of the function that builds it, as that function's
        callers pass it; none unless a language says how to find them."""
        return None

    def named_by_its_callers(self, file: SourceFile, text: str, start: int) -> bool:
        """Whether the server built at ``start`` takes its name from a parameter of a function of the
        project that callers in the scan pass a written name to: each call is then the server, where its
        name is written; no language says so unless it finds them."""
        return False

    def code_mcp_server(self, file: SourceFile, line: int, name: str) -> Finding:
        """An MCP server the code builds itself (an SDK call, not a config file), named ``name``."""
        return self.located(file, line, "mcp_server", name, MCP_PROVIDER, metadata={"transport": "code"})

    def code_mcp_client(
        self, file: SourceFile, line: int, name: str | None, package: Package | None = None
    ) -> Finding:
        """An MCP client the code connects with, named as it declares itself, else after the SDK package
        that builds it as this ecosystem spells it (the spelling the file imports, where the catalog
        lists several: Go's ``github.com/paularlott/mcp`` is not mark3labs' ``mcp-go``), else after its
        file."""
        spelt = spelt_package_name(file.text, package.id, self.registry) if package and self.registry else ""
        name = (name or (spelt if "*" not in spelt else "") or component_name_for(file.relpath)).lower()
        return self.located(file, line, "mcp_client", name, MCP_PROVIDER, metadata={"transport": "code"})

    def mcp_usage(
        self,
        file: SourceFile,
        text: str,
        match: re.Match,
        member: str,
        line: int,
        package: Package | None = None,
    ):
        called = (member.rsplit(".", 1)[-1] if member else match.group(1)).split("::")[-1]
        if called == "new" and member:  # Ruby's MCP::Server.new(...)
            called = re.split(r"\.|::", member.removesuffix(".new"))[-1]
        # Vercel's ``createMcpHandler((server) => {...})`` builds a server it does not name: a Next.js route
        # file is ``route.ts``, so the server is named after the package that serves it
        if called == "createMcpHandler":
            name = npm_package_name(file) or component_name_for(file.relpath)
            yield self.code_mcp_server(file, line, name.lower())
        # FastMCP for TypeScript also builds a server per connection: ``new FastMCPSession({ name })``;
        # mcp-use's ``createMCPServer("name", {...})`` takes its name first; Ruby's fast-mcp serves one from
        # a Rails app or a Rack stack (``FastMcp.mount_in_rails(app, name: "x")``, ``.rack_middleware``)
        elif re.fullmatch(
            r"(?:New)?(?:Mcp|MCP)?Server|McpServer|NewMCPServer|createMCPServer|FastMCP(?:Session)?"
            r"|mount_in_rails|(?:authenticated_)?rack_middleware",
            called,
        ):
            if self.named_by_its_callers(file, text, match.end()):
                return  # each call of the project's own builder names the server where it writes the name
            name = (
                self.mcp_server_name(text, match.end())
                or self.leading_name(text, match.end())
                or manifest_name(file, text, match.end())
                # mcp-framework's ``new MCPServer()`` takes its name from the package.json
                or (npm_package_name(file) if package and package.id == "mcp-framework" else None)
                or self.name_from_callers(file, text, match.end())
                or component_name_for(file.relpath)
            ).lower()
            yield self.code_mcp_server(file, line, name)
        # NewStdioMCPClient, NewClient; Mastra's MCPConfiguration (MCPClient's former name)
        elif re.fullmatch(r"(?:New)?\w*(?:Mcp|MCP)?Client|MCPConfiguration", called):
            yield self.code_mcp_client(file, line, self.mcp_client_name(text, match.end()), package)

    def models(self, file: SourceFile, text: str, comments: set[int], strong: bool, sdk_imports):
        rules = patterns()["other_languages"]
        keys = "|".join(rules["model_keys"])
        constants: dict[str, str] | None = None  # read on the first key set to a name, not a literal
        keyed = re.compile(
            rf"""["']?\b(?:{keys})\b["']?\s*(?::|=>|=|\()\s*(?:(["'`])([^"'`\n$]{{1,120}})\1|([A-Za-z_][\w.]*))"""
        )
        aliases = {
            (_line_at(text, m.start(m.lastindex)), m.group(m.lastindex))
            for m in DEPLOYMENT_VALUE.finditer(text)
        }
        reported: set[tuple[int, str]] = set()
        commented: dict[int, int | None] = {}
        for match in keyed.finditer(text):
            line = _line_at(text, match.start())
            if line in comments or self.after_line_comment(text, match.start(), commented):
                continue
            value = match.group(2)
            if not value:
                if constants is None:
                    constants = {m.group(1): m.group(3) for m in MODEL_CONSTANT_ASSIGNMENT.finditer(text)}
                value = constants.get((match.group(3) or "").rsplit(".", 1)[-1])
            found = model_finding(value, line, strong=strong, hf_context=False) if value else None
            if found:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found)
        for start, value in string_literals(text):
            if not plausible_model_name(value) or not match_model(value):
                continue
            line = _line_at(text, start)
            if (line, value) in aliases or self.after_line_comment(text, start, commented):
                continue
            found = model_finding(value, line, strong=False, hf_context=False)
            if found and line not in comments and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found)
        yield from self.models_at_offsets(file, text, google_path_models(text), comments, reported)
        yield from self.sdk_call_models(file, text, comments, reported, sdk_imports)
        yield from self.sdk_model_constants(file, text, comments, reported)
        if any(package.provider == "Ollama" for _, package in sdk_imports):
            yield from self.embedded_modelfiles(file, text, comments, reported)

    def models_at_offsets(
        self,
        file: SourceFile,
        text: str,
        found_at: Iterable[tuple[int, str]],
        comments: set[int],
        reported: set[tuple[int, str]],
        *,
        hf_context: bool = False,
    ) -> Iterator[Finding]:
        """A model for each (offset, id) ``found_at`` names: once per line and id, never in a comment."""
        for offset, value in found_at:
            line = _line_at(text, offset)
            found = model_finding(value, line, strong=False, hf_context=hf_context)
            if found and line not in comments and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found)

    def embedded_modelfiles(
        self, file: SourceFile, text: str, comments: set[int], reported: set[tuple[int, str]]
    ) -> Iterator[Finding]:
        """The base model of a Modelfile an Ollama client builds from a string (``ollama.Create``)."""
        for start, value in embedded_modelfile_bases(text):
            line = _line_at(text, start)
            found = model_finding(value, line, strong=True, hf_context=True)
            if found and line not in comments and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found, pulled_by="ollama")

    def sdk_call_models(
        self, file: SourceFile, text: str, comments: set[int], reported: set[tuple[int, str]], sdk_imports
    ) -> Iterator[Finding]:
        """The first string argument of a generation or model-management call through an SDK binding,
        after an optional context (``ollama.Generate(ctx, "llava", ...)``): a catalog id counts there
        even without a version."""
        names = sorted(self.call_bindings(text, sdk_imports), key=len, reverse=True)
        if not names:
            return
        ollama = {b for imp, p in sdk_imports if p.provider == "Ollama" for b in imp.bindings}
        call = linear(
            r"(?:^|[^\w.])("
            + "|".join(map(re.escape, names))
            + r")(?:(?:\.|::)\w+)*(?:\.|::)(\w+)\(\s*(?:\w+\s*,\s*)?"
            r"[\"'`]([A-Za-z][\w.:-]{3,60})[\"'`]"
        )
        for match in call.finditer(text):
            binding, method, value = match.group(1), match.group(2), match.group(3)
            # an Ollama client's model management (``ollama.CreateStream(ctx, "my-assistant", modelfile)``)
            # names the model it builds or moves, whatever the name
            managed = binding in ollama and method.lower().startswith(("create", *MODEL_VERBS))
            if not managed and not self.generation_method(method):
                continue
            line = _line_at(text, match.start(3))
            found = (
                model_finding(value, line, strong=managed, hf_context=False)
                if managed or match_model(value)
                else None
            )
            if found and line not in comments and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found)

    def call_bindings(self, text: str, sdk_imports) -> set[str]:
        """Names an SDK's calls go through: its imported bindings."""
        return {b for imp, _ in sdk_imports for b in imp.bindings if b}

    extra_verbs: tuple[str, ...] = ()  # this language's SDKs' own model-taking methods

    def generation_method(self, method: str) -> bool:
        """A generation or model-management method by its name, also as the last word of a snake_case
        name (``exec_chat``, ``send_chat_messages`` take the model first like ``chat`` does)."""
        verbs = (
            tuple(m.lower() for m in patterns()["other_languages"]["generation_methods"])
            + MODEL_VERBS
            + self.extra_verbs
        )
        lowered = method.lower()
        return lowered.startswith(verbs) or any(part.startswith(verbs) for part in lowered.split("_")[1:])

    SDK_CONSTANT = linear(r"(?:\b(\w+)(?:\.|::))?\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b")
    # Spring AI's ``OllamaModel`` enum spells an Ollama tag without a version as its member's name
    # (``LLAVA`` is ``llava``, ``NOMIC_EMBED_TEXT`` ``nomic-embed-text``); its versioned members
    # (``LLAMA3_2``) follow the name rule above
    OLLAMA_ENUM_MEMBER = linear(r"\bOllamaModel\.([A-Z]{3,40}(?:_[A-Z]{2,20}){0,4})\b")

    def sdk_model_constants(
        self, file: SourceFile, text: str, comments: set[int], reported: set[tuple[int, str]]
    ) -> Iterator[Finding]:
        """``ChatModel.O3_MINI``, ``openai::GPT_4O``, or an imported ``GPT_4O``: an SDK's model constant
        names its id in its name (a listed id; a family id only through a class that says it holds
        models). A constant the file defines itself stands for its own value, not for its name."""
        own = model_constant_definitions(text)
        commented: dict[int, int | None] = {}
        sightings = []
        for match in self.SDK_CONSTANT.finditer(text):
            line = _line_at(text, match.start())
            if (
                match.group(2) in own
                or line in comments
                or self.after_line_comment(text, match.start(), commented)
            ):
                continue
            sightings.append((match, line, IMPORT_STATEMENT.match(file.lines[line - 1]) is not None))
        # an imported constant the code never names again (its uses are commented out) is not used
        used = {match.group(2) for match, _, imported in sightings if not imported}
        for match, line, _ in sightings:
            if match.group(2) not in used:
                continue
            named_as_model = "model" in (match.group(1) or "").lower()
            value = class_constant_model(match.group(1), match.group(2)) or model_id_from_constant_name(
                match.group(2), named_as_model=named_as_model
            )
            found = model_finding(value, line, strong=False, hf_context=False) if value else None
            if found and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found, resolved_from=match.group(0))
        if "OllamaModel." not in text:
            return
        for match in self.OLLAMA_ENUM_MEMBER.finditer(text):
            line = _line_at(text, match.start())
            value = match.group(1).lower().replace("_", "-")
            if (
                line in comments
                or self.after_line_comment(text, match.start(), commented)
                or not match_model(value)
            ):
                continue
            found = model_finding(value, line, strong=True, hf_context=False)
            if found and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found, resolved_from=match.group(0))

    @staticmethod
    def bare_hosts(text: str) -> list[tuple[int, str]]:
        """String literals that are exactly a known AI API host, without a scheme (the host table's set
        lookup first: nearly every literal of a code file fails it, and the pattern is an RE2 call)."""
        if "." not in text or not mentions_known_ai_host(text):
            return []
        return [
            (start, value)
            for start, value in string_literals(text)
            if known_ai_host(value) and BARE_HOST.fullmatch(value)
        ]

    def endpoints(self, file: SourceFile, comments: set[int]) -> Iterator[Finding]:
        commented: dict[int, int | None] = {}
        for offset, host in self.bare_hosts(file.text):
            line = _line_at(file.text, offset)
            if line in comments or self.after_line_comment(file.text, offset, commented):
                continue
            before = file.text[max(0, offset - 200) : offset]
            after = file.text[offset + len(host) : offset + len(host) + 8]
            if COMPARED_BEFORE.search(before[before.rfind("\n") + 1 :]) or COMPARED_AFTER.match(after):
                continue
            endpoint = endpoint_for_url(f"https://{host}", any_host=False)
            if endpoint:
                yield self.endpoint_finding(file, line, endpoint)
        for number, raw in enumerate(file.lines, start=1):
            if "http" not in raw or number in comments:
                continue
            literals = [(m.start(2), m.end(2), m.group(2)) for m in STRING_LITERAL.finditer(raw)]
            starts = [start for start, _, _ in literals]
            comment_column = line_comment_start(raw) if "//" in self.comment_prefixes else None
            for match in URL.finditer(raw):
                if not configured_url(literals, starts, match.start()):
                    continue
                if comment_column is not None and match.start() > comment_column:
                    continue
                endpoint = endpoint_for_url(match.group(0), any_host=False)
                if endpoint:
                    yield self.endpoint_finding(file, number, endpoint)


CARGO_PACKAGE_NAME = linear(
    r"""^\[package\][^\[]*?^\s*name\s*=\s*["']([\w-]{1,100})["']""", re.MULTILINE | re.DOTALL
)


@cache
def catalog_crate_path():
    """``<crate>::`` for the catalog's Rust crates, as one pattern (built once, on first use); not at the
    start of a string, where ``"openai::gpt-4o"`` is rust-genai's model route, not the crate."""
    roots = sorted({name.split("::")[0] for name in package_index("rust")}, key=len, reverse=True)
    return linear(r"(?:^|[^\w:\"])(" + "|".join(map(re.escape, roots)) + r")::[A-Za-z_]")


@cache
def sdk_constant_table(package_id: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """A Rust SDK's model constants and enum variants whose names do not spell their id, by the module or
    enum that defines them, and the distinctive ones (``CLAUDE_3_5_SONNET``, ``GPT4_O``; not ``COMMAND``)
    that every module defining them gives the same value, for a name reached through another path or
    imported bare."""
    modules = load_json("sdk_model_constants.json").get(package_id, {})
    values: dict[str, set[str]] = {}
    for constants in modules.values():
        for name, value in constants.items():
            values.setdefault(name, set()).add(value)
    unique = {
        name: next(iter(found))
        for name, found in values.items()
        if len(found) == 1 and ("_" in name or any(c.isdigit() for c in name))
    }
    return modules, unique


# the folders trybuild's compile-fail cases live in
COMPILE_FAIL_FOLDERS = frozenset({"ui", "compile-fail", "compile_fail", "compile-fail-tests", "trybuild"})


def compile_fail_case(file: SourceFile) -> bool:
    """A Rust file in a trybuild folder with the compiler's expected errors beside it (``tests/ui/
    fail_x.rs`` and ``fail_x.stderr``): a case a macro's tests prove fails to compile, never a program
    that runs, so the tools and models it spells are no component."""
    if file.path.parent.name.lower() not in COMPILE_FAIL_FOLDERS:
        return False
    return read_neighbour(file.path.with_suffix(".stderr"), scan_root_of(file)) is not None


def crate_name(file: SourceFile) -> str | None:
    """The ``[package] name`` of the Cargo.toml nearest above a Rust file, within the scanned tree."""
    return nearest_answer(file, _crate_name_in, None)


@per_scan()
def _crate_name_in(folder: Path, root: str) -> str | None:
    text = read_neighbour(folder / "Cargo.toml", root)
    named = CARGO_PACKAGE_NAME.search(text) if text is not None else None
    return named.group(1) if named else None


CARGO_DEPENDENCY = linear(r"^\s*([A-Za-z][\w-]{0,80})\s*=", re.MULTILINE)


def cargo_renamed_crates(file: SourceFile) -> dict[str, str]:
    """Catalog ids of the crates a Rust file reaches under another name (``agentkit = { package =
    "rig-core" }``, ``use agentkit::..``), by the name the code uses; from every Cargo.toml above the file
    within the tree (a workspace renames in its root), the nearest first."""
    renamed: dict[str, str] = {}
    root = scan_root_of(file)
    for folder in folders_up(file):
        for alias, package_id in _renamed_in(folder, root):
            renamed.setdefault(alias, package_id)
    return renamed


@per_scan()
def _renamed_in(folder: Path, root: str) -> tuple[tuple[str, str], ...]:
    """(name in code, catalog id) of the renamed catalog crates of ``folder``'s Cargo.toml."""
    text = read_neighbour(folder / "Cargo.toml", root)
    if text is None or "package" not in text:
        return ()
    try:
        data = parse_toml(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return ()
    scopes = [data, *(t for t in data.get("target", {}).values() if isinstance(t, dict))]
    tables = [scope.get(key, {}) for scope in scopes for key in CARGO_DEPENDENCY_TABLES]
    tables.append(data.get("workspace", {}).get("dependencies", {}))
    found = []
    for table in tables:
        for alias, spec in table.items() if isinstance(table, dict) else ():
            crate = spec.get("package") if isinstance(spec, dict) else None
            package = lookup_package("cargo", crate) if isinstance(crate, str) and crate != alias else None
            if package:
                found.append((alias.replace("-", "_"), package.id))
    return tuple(found)


def _uses_llm(manifest_text: str) -> bool:
    return any(
        (package := lookup_package("cargo", name)) is not None
        and package.type in ("llm_provider", "agent_framework")
        for name in CARGO_DEPENDENCY.findall(manifest_text)
    )


CARGO_AI_WORDS = linear(r"(?i)\b(?:llms?|ai|gpt|openai|anthropic|language models?)\b")


def _declares_ai(manifest_text: str) -> bool:
    """Whether a Cargo.toml's ``[package]`` describes the crate as AI (``description``, ``keywords`` or
    ``categories`` naming LLMs or AI): an LLM framework of its own depends on no catalog LLM crate."""
    in_package = False
    for line in manifest_text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            in_package = stripped == "[package]"
        elif (
            in_package
            and stripped.startswith(("description", "keywords", "categories"))
            and CARGO_AI_WORDS.search(stripped.partition("=")[2])
        ):
            return True
    return False


def crate_uses_llm(file: SourceFile) -> bool:
    """Whether the Cargo.toml nearest above a Rust file, within the scanned tree, depends on a catalog
    LLM client or agent framework crate, or says the crate is one (read like every neighbour file:
    regular, inside the root)."""
    return nearest_answer(file, _crate_in_uses_llm, False)


@per_scan(stopped=False)
def _crate_in_uses_llm(folder: Path, root: str) -> bool | None:
    """``crate_uses_llm``'s answer from ``folder``'s Cargo.toml, None where there is none."""
    text = read_neighbour(folder / "Cargo.toml", root)
    return None if text is None else _uses_llm(text) or _declares_ai(text)


GO_REQUIRE = linear(r"^\s*(?:require\s+)?([\w.~-]+\.[\w./~-]+)\s+v[\w.+-]+", re.MULTILINE)


def module_uses_llm(file: SourceFile) -> bool:
    """Whether the go.mod nearest above a Go file, within the scanned tree, requires a catalog LLM client
    or agent framework module (read like every neighbour file: regular, inside the root)."""
    return nearest_answer(file, _module_in_uses_llm, False)


@per_scan(stopped=False)
def _module_in_uses_llm(folder: Path, root: str) -> bool | None:
    """``module_uses_llm``'s answer from ``folder``'s go.mod, None where there is none."""
    text = read_neighbour(folder / "go.mod", root)
    if text is None:
        return None
    return any(
        (package := lookup_prefixed("go", module, "/")) is not None
        and package.type in ("llm_provider", "agent_framework")
        for module in GO_REQUIRE.findall(text)
    )


# a method's receiver, its type in group 1: ``(t *T)``, ``(*T)`` or ``(T)`` (the name is optional: a
# receiver written without one must not lend its type's last letter to the group)
GO_RECEIVER = r"\(\s*(?:\w+\s+)?\*?\s*(\w+)\s*\)"
MAX_MODULE_FILES = (
    2_000  # Go files of a module searched for a hand-written LLM client (a large module has a few thousand)
)


def module_calls_llm_by_hand(file: SourceFile) -> bool:
    """Whether a non-test Go file of the module holding ``file`` (its nearest go.mod folder, else the scanned
    root) talks to an LLM API without an SDK: a URL of a known AI host or port, or a string ending in an
    LLM vendor's inference route (``/v1/chat/completions``). A project that writes its own client for a
    model writes its own tool types too; a CLI's or plugin system's ``Name()``/``Run()`` types sit in
    modules that name no AI API."""
    base = file.path.parents[file.relpath.count("/")]  # the scanned folder, as the walk was given it
    module = nearest_answer(file, _go_module_at, base)
    below = module.relative_to(base).as_posix()
    return _module_talks_to_llm(str(base), "" if below == "." else below)


@per_scan(stopped=None)
def _go_module_at(folder: Path, root: str) -> Path | None:
    """``folder`` where it holds a go.mod, None where it does not."""
    return folder if (folder / "go.mod").is_file() else None


@per_scan(stopped=False)
def _module_talks_to_llm(base: str, module: str) -> bool:
    """``module_calls_llm_by_hand``'s answer, searched once per module and scan, over at most
    ``MAX_MODULE_FILES`` files of the module folder (``module``, relative to the scanned ``base``) as the
    scan's walk sees them (``.truseraignore``, ignore files, skipped folders), hidden folders and
    ``testdata`` left out."""
    root = os.path.realpath(base)
    files = 0
    for entry in iter_walk(Path(base), _unreported, below=module):
        relpath = entry.relpath
        if not relpath.endswith(".go") or relpath.endswith("_test.go"):
            continue
        folders = relpath[len(module) :].split("/")[:-1] if module else relpath.split("/")[:-1]
        if any(folder == "testdata" or folder.startswith(".") for folder in folders):
            continue
        files += 1
        if files > MAX_MODULE_FILES:
            return False
        text = read_neighbour(Path(base, relpath), root)
        if text is not None and (mentions_ai_endpoint(text) or calls_llm_api_route(text)):
            return True
    return False


def _unreported(relpath: str, message: str) -> None:
    """The scan's own walk reports what the module's walk would warn about."""


def configured_url(literals: list[tuple[int, int, str]], starts: list[int], at: int) -> bool:
    """A URL at column ``at`` configures something only inside a string literal that is not prose: a
    trailing comment, a log or error message and CLI help text (``"API base, e.g. https://…"``) name it.
    ``literals`` are the line's, in order and apart, ``starts`` their starts: the one that may hold ``at``
    is found by bisection (trying each literal for each URL cost time quadratic in a long line's URLs)."""
    index = bisect_right(starts, at) - 1
    if index < 0:
        return False
    start, end, text = literals[index]
    return start <= at < end and not is_prose(text)


MCP_SDK_DEPENDENCY = linear(r'"(?:@modelcontextprotocol/(?:sdk|server)|fastmcp)"\s*:')


@per_scan(stopped=False)
def _package_in_depends_on_mcp(folder: Path, root: str) -> bool | None:
    """Whether ``folder``'s package.json declares an MCP SDK, None where there is none."""
    manifest = read_neighbour(folder / "package.json", root)
    return None if manifest is None else bool(MCP_SDK_DEPENDENCY.search(manifest))


SPRING_AI_DEPENDENCY = linear(r"org\.springframework\.ai\b|\bspring-ai-(?:starter|bom|core|client|model)")
JVM_BUILD_FILES = ("pom.xml", "build.gradle.kts", "build.gradle")


@per_scan(stopped=False)
def _build_declares_spring_ai(folder: Path, root: str) -> bool | None:
    """Whether ``folder``'s Maven or Gradle build declares Spring AI, None where it has no build file."""
    builds = [text for name in JVM_BUILD_FILES if (text := read_neighbour(folder / name, root)) is not None]
    return None if not builds else any(SPRING_AI_DEPENDENCY.search(text) for text in builds)


# the tokens that open or close strings, comments and braces in JavaScript code, and those that matter in
# a template literal's text (an escape, its closing backtick, an interpolation)
_JS_CODE_TOKEN = linear(r"""//[^\n]*|/\*(?s:.*?)\*/|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[`{}]""")
_JS_TEMPLATE_TOKEN = linear(r"""\\(?s:.)|`|\$\{""")
# outside every template a brace changes nothing: the same tokens without them (no other token starts
# with a brace, so the tokens that remain are the same)
_JS_TOP_TOKEN = linear(r"""//[^\n]*|/\*(?s:.*?)\*/|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`""")


class _LastTemplateSpans:
    text: str | None = None
    spans: tuple[tuple[int, int], ...] = ()


def template_literal_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of every JavaScript template literal, backticks included, by where each
    opens (one inside another's interpolation is a span of its own). A React file asks twice (its
    prose lines, its imports), so the last text's spans are kept."""
    if _LastTemplateSpans.text is not text:
        _LastTemplateSpans.spans = tuple(sorted(_template_literal_spans(text)))
        _LastTemplateSpans.text = text
    return list(_LastTemplateSpans.spans)


def _template_literal_spans(text: str) -> list[tuple[int, int]]:
    """The tokens of one state (code, or a template's text) come from one ``finditer``; a token that
    changes the state starts the other state's from its end (tokens are never empty, so this is the
    same token sequence as a search from each token's end)."""
    spans: list[tuple[int, int]] = []
    frames: list[list] = []  # per open template: [offset, brace depth of its interpolation or None]
    position = 0
    while True:
        in_text = bool(frames) and frames[-1][1] is None
        switched = False
        tokens = _JS_TEMPLATE_TOKEN if in_text else _JS_CODE_TOKEN if frames else _JS_TOP_TOKEN
        for match in tokens.finditer(text, position):
            start = match.start()
            first = text[start]
            if in_text:
                if first == "`":
                    spans.append((frames.pop()[0], start + 1))
                elif first == "$":  # ``${``
                    frames[-1][1] = 0
                else:  # an escape
                    continue
            elif first == "`":
                frames.append([start, None])
            elif first == "{" and frames:
                frames[-1][1] += 1
                continue
            elif first == "}" and frames:
                if frames[-1][1]:
                    frames[-1][1] -= 1
                    continue
                frames[-1][1] = None
            else:  # a string, a comment, or a brace outside any template
                continue
            position, switched = match.end(), True
            break
        if not switched:
            return spans


def template_text_lines(text: str) -> set[int]:
    """Lines inside JavaScript template literals that span lines (after the opening line, up to the
    closing backtick's line when text precedes it there): text the program holds, such as a code sample
    a page shows, not code it runs."""
    lines: set[int] = set()
    for start, end in template_literal_spans(text):
        first, last = line_at(text, start), line_at(text, end - 1)
        if last > first:
            closing_line = text[text.rfind("\n", 0, end - 1) + 1 : end - 1]
            lines.update(range(first + 1, last + 1 if closing_line.strip() else last))
    return lines


class TemplateText:
    """Whether an offset of a JavaScript text lies inside a template literal; the literals are found on
    the first offset that follows a backtick."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.first_backtick = text.find("`")
        self.spans: list[tuple[int, int]] | None = None

    def holds(self, offset: int) -> bool:
        if self.first_backtick < 0 or offset < self.first_backtick:
            return False
        if self.spans is None:
            self.spans = template_literal_spans(self.text)
        index = bisect_right(self.spans, (offset, len(self.text)))
        return any(start < offset < end for start, end in self.spans[max(0, index - 8) : index])


# the npm package a CDN URL serves: ``https://cdn.jsdelivr.net/npm/<package>[@version][/file]`` and the same
# path on unpkg, esm.sh, Skypack, esm.run and JSPM
CDN_PACKAGE = linear(
    r"^(?:https?:)?//(?:cdn\.jsdelivr\.net/npm/|unpkg\.com/|esm\.sh/|cdn\.skypack\.dev/|esm\.run/|ga\.jspm\.io/npm:)"
    r"((?:@[\w.-]+/)?[\w.-]+)"
)
# a page's script from a CDN, or a module script's import of one: ``<script src="https://unpkg.com/x">``
PAGE_SCRIPT_URL = linear(
    r"""(?:\bsrc\s*=\s*|\bfrom\s*|\bimport\s*\(?\s*)["']((?:https?:)?//[^"'\s<>]+)["']"""
)
SCRIPT_SOURCE_URL = linear(r"""\bsrc\s*=\s*["'`]((?:https?:)?//[^"'`\s<>]+)["'`]""")


# a function or arrow function up to the ``(`` that opens its parameters (group 1 or 2: its name)
JS_FUNCTION_OPENING = linear(
    r"(?:\bfunction\s+([A-Za-z_$][\w$]*)\s*(?:<[^<>()]{0,100}>\s*)?"
    r"|\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=\n]{0,100})?=\s*(?:async\s+)?(?:function\s*)?)\("
)
JS_PARAMETER = linear(r"^\s*(?:\.\.\.)?([A-Za-z_$][\w$]*)")
# ``name: options.name`` or ``name: serverName``: a name the server takes from a value it is handed
HANDED_NAME = linear(r"""\b[Nn]ame\s*:\s*([A-Za-z_$][\w$]*)(?:\.([A-Za-z_$][\w$]*))?\s*[,}\n)]""")
MCP_SERVER_CONSTRUCTION = linear(r"\bnew\s+(?:McpServer|Server)\s*\(")
# ``import { runServer, start as boot } from "./server.js"``: the project's own modules a file calls into
RELATIVE_NAMED_IMPORT = linear(r"""\bimport\s*\{([^{}]{1,500})\}\s*from\s*["'](\.{1,2}/[^"'\n]{1,200})["']""")
JS_MODULE_SUFFIXES = (".ts", ".js", ".mts", ".mjs", ".tsx", ".jsx")
MAX_JS_CALLER_FILES = 40
MAX_JS_MODULE_SERVERS = 20


def js_parameter_naming(text: str, start: int) -> tuple[str, int, str | None] | None:
    """(function, parameter position, member) when the server whose arguments open at ``start`` is named
    by a parameter of the function written around it (``runServer(options) { new McpServer({ name:
    options.name }) }``); None when its name is anything else."""
    handed = HANDED_NAME.search(call_arguments(text[start : start + 300]))
    if handed is None:
        return None
    openings = list(JS_FUNCTION_OPENING.finditer(text[max(0, start - 5000) : start]))
    if not openings:
        return None
    opening = openings[-1]
    offset = max(0, start - 5000) + opening.end()
    parameters = [JS_PARAMETER.match(p) for p in CSharpDetector.call_arguments(text, offset)]
    names = [m.group(1) if m else "" for m in parameters]
    if handed.group(1) not in names:
        return None
    return opening.group(1) or opening.group(2), names.index(handed.group(1)), handed.group(2)


def js_server_builders(text: str) -> dict[str, tuple[int, str | None]]:
    """The functions of a module that build an MCP server named by one of their parameters: function ->
    (parameter position, member of it holding the name)."""
    if not MCP_IMPORT_HINT.search(text):
        return {}
    builders = {}
    for construction in islice(MCP_SERVER_CONSTRUCTION.finditer(text), MAX_JS_MODULE_SERVERS):
        found = js_parameter_naming(text, construction.end())
        if found:
            builders[found[0]] = found[1:]
    return builders


def leading_arguments(text: str, start: int, wanted: int, limit: int = 600, whole: bool = False) -> list[str]:
    """The first ``wanted`` top-level arguments of the call whose ``(`` ends just before ``start``: a
    builder's name comes first, before a callback that may run on for pages. ``whole``: nothing unless
    the call closes within ``limit`` (every argument is wanted, so a cut-off one must not pass)."""
    arguments, depth, current, quote = [], 0, [], ""
    for char in text[start : start + limit]:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}" and depth:
            depth -= 1
        elif (char == "," or char in ")]}") and depth == 0:
            arguments.append("".join(current).strip())
            if len(arguments) == wanted or char != ",":
                return arguments
            current = []
            continue
        current.append(char)
    return [] if whole else arguments


def js_written_name(argument: str, member: str | None) -> str | None:
    """The name a call writes at a builder's parameter: the string itself, or its ``member`` key."""
    if member:  # also the default beside a value from elsewhere (``name: env.NAME ?? "x"``)
        written = re.search(
            rf"""\b{re.escape(member)}\s*:\s*(?:[\w$.\[\]'"]{{1,80}}\s*(?:\|\||\?\?)\s*)?"""
            r"""["'`]([^"'`$\n]{1,100})["'`]""",
            argument,
        )
    else:
        written = re.fullmatch(r"""\s*["'`]([^"'`$\n]{1,100})["'`]\s*""", argument)
    return written.group(1) if written else None


@per_scan()
def js_module_builders(folder: Path, specifier: str, root: str) -> tuple[str, dict] | None:
    """(path, server builders) of the module a relative import names, read once per scan: TypeScript
    imports ``./x.js`` for ``./x.ts``; no suffix at all names the module itself or its folder's
    ``index``."""
    target = Path(os.path.normpath(folder / specifier))
    stem = target.with_suffix("") if target.suffix in JS_MODULE_SUFFIXES else target
    candidates = [target, *(stem.with_suffix(s) for s in JS_MODULE_SUFFIXES)]
    candidates += [stem / f"index{s}" for s in JS_MODULE_SUFFIXES]
    for candidate in candidates:
        text = read_neighbour(candidate, root)
        if text is not None:
            return str(candidate), js_server_builders(text)
    return None


def js_named_helper_calls(text: str, folder: Path, root: str) -> Iterator[tuple[int, str, str, str]]:
    """(offset, written name, helper module, function) for each call of a relative import's function
    that builds an MCP server named by the parameter the call writes a name at."""
    for imported in RELATIVE_NAMED_IMPORT.finditer(text):
        resolved = js_module_builders(folder, imported.group(2), root)
        if not resolved or not resolved[1]:
            continue
        module, builders = resolved
        for part in imported.group(1).split(","):
            original, _, local = part.strip().removeprefix("type ").partition(" as ")
            original, local = original.strip(), (local or original).strip()
            if original not in builders or not re.fullmatch(r"[A-Za-z_$][\w$]*", local):
                continue
            position, member = builders[original]
            for call in linear(rf"(?:^|[^\w.$]){re.escape(local)}\s*\(").finditer(text):
                arguments = leading_arguments(text, call.end(), position + 1)
                name = js_written_name(arguments[position], member) if position < len(arguments) else None
                if name:  # located where the name is written
                    yield max(text.find(name, call.end()), call.end()), name, module, original


@per_scan(stopped=frozenset())
def js_called_builders(folder: Path, root: str) -> frozenset[tuple[str, str]]:
    """(helper module, function) of every builder that a module of ``folder`` calls with a written name."""
    called = set()
    modules = sorted(p for p in folder.iterdir() if p.suffix in JS_MODULE_SUFFIXES and p.is_file())
    for path in modules[:MAX_JS_CALLER_FILES]:
        text = read_neighbour(path, root)
        if text and "import" in text:
            called.update((m, f) for _, _, m, f in js_named_helper_calls(text, folder, root))
    return frozenset(called)


# an xmcp project's config module and the object it declares (``const config: XmcpConfig = {``)
XMCP_CONFIG_FILE = linear(r"xmcp\.config\.[cm]?[jt]s")
XMCP_CONFIG_DECLARATION = linear(r"\bXmcpConfig\s*=\s*\{")


class JavaScriptDetector(_LanguageDetector):
    name = "javascript"
    extensions = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
    ecosystem = "npm"
    registry = "npm"
    separator = "/"
    quick_tokens = ("import", "require")
    # ``new StdioClientTransport({ command: "npx", args: ["-y", "pkg"] })``; the Vercel AI SDK's
    # ``new Experimental_StdioMCPTransport({ ... })`` in the same shape
    child_server_patterns = (
        linear(
            r"""\b(?:StdioClientTransport|(?:Experimental_)?StdioMCPTransport)\(\s*\{[^{}]{0,300}?\bcommand\s*:\s*"""
            r"""["'`]([^"'`\n$]{1,100})["'`][^{}]{0,300}?\bargs\s*:\s*\[([^\]]{0,600})\]"""
        ),
    )
    child_servers_need_mcp = False
    # ``new StreamableHTTPClientTransport(new URL("https://host/mcp"))`` (also SSE and WebSocket); the Vercel
    # AI SDK's ``createMCPClient({ transport: { type: "sse", url } })``; use-mcp's ``useMcp({ url })``: names
    # only MCP clients have, so they count in any file importing an AI SDK
    remote_server_patterns = (
        linear(
            r"""\bnew\s+(?:SSEClientTransport|StreamableHTTPClientTransport|WebSocketClientTransport)\(\s*"""
            r"""(?:new\s+URL\(\s*)?["'`]((?:https?|wss?)://[^"'`\s$]{1,200})["'`]"""
        ),
        linear(
            r"""(?:createMCPClient\(\s*\{[^{}]{0,200}?\btransport\s*:\s*\{|\buseMcp\(\s*\{)[^{}]{0,300}?"""
            r"""\burl\s*:\s*["'`]((?:https?|wss?)://[^"'`\s$]{1,200})["'`]"""
        ),
    )
    remote_servers_need_mcp = False
    # the same transports handed a variable the file sets to a written URL (``const baseUrl = new
    # URL("https://host/mcp")`` … ``new SSEClientTransport(baseUrl)``)
    TRANSPORT_URL_VARIABLE = linear(
        r"""\bnew\s+(?:SSEClientTransport|StreamableHTTPClientTransport|WebSocketClientTransport)\(\s*"""
        r"""([A-Za-z_$][\w$]{0,80})\s*[,)]"""
    )
    # ``server.tool("name", ...)``; FastMCP's ``addTool({ name })`` and mcp-use's ``server.tool({ name })``;
    # mcp-framework's tool classes (``class X extends MCPTool<Input> { name = "x"; ... }``); xmcp's tool
    # modules (``export const metadata: ToolMetadata = { name: "x", ... }`` beside the handler)
    tool_patterns = (
        lazy_re(r"""\.(?:tool|registerTool)\(\s*["'`]([\w.:/-]{1,100})["'`]"""),
        lazy_re(r"""\.(?:addTool|tool)\(\s*\{[^{}]{0,300}\bname\s*:\s*["'`]([\w.:/-]{1,100})["'`]"""),
        linear(
            r"""\bextends\s+MCPTool\b[^{}]{0,200}\{[^{}]{0,300}?\bname\s*=\s*["'`]([\w.:/-]{1,100})["'`]"""
        ),
        linear(
            r"""\bmetadata\s*:\s*ToolMetadata\s*=\s*\{[^{}]{0,300}?\bname\s*:\s*["'`]([\w.:/-]{1,100})["'`]"""
        ),
    )
    tool_constant_patterns = (
        linear(r"""\.(?:tool|registerTool)\(\s*((?:[A-Za-z_$][\w$]*\.)*[A-Za-z_$][\w$]*)\s*,"""),
    )

    ES_IMPORT = linear(r"""\b(?:import|export)\s+(?:type\s+)?([^;'"`]*?)\s*from\s*["']([^"']+)["']""")
    BARE_IMPORT = linear(r"""\bimport\s*\(?\s*["']([^"']+)["']""")
    REQUIRE = linear(
        r"""(?:(?:const|let|var)\s+([^=;]+?)\s*=\s*)?(?:await\s+)?(?:require|import)\s*\(\s*["']([^"']+)["']\s*\)"""
    )

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        """Also the tools a module registers on a server it is handed (``registerTools(server)`` in plain
        JavaScript imports nothing of the SDK) when the package it belongs to depends on an MCP SDK, and
        the server an xmcp project's config file stands for."""
        yield from self.without_route_names(file, list(super().detect(file, report)))
        text = file.text
        name = file.relpath.rsplit("/", 1)[-1]
        if name.startswith("xmcp.config.") and "XmcpConfig" in text and XMCP_CONFIG_FILE.fullmatch(name):
            yield from self.xmcp_server(file, text)
        if "import" in text and self.package_depends_on_mcp(file) and RELATIVE_NAMED_IMPORT.search(text):
            yield from self.servers_named_by_calls(file, text)
        if (".tool(" not in text and ".registerTool(" not in text) or MCP_IMPORT_HINT.search(text):
            return  # a file importing the SDK had its tools read above
        if self.package_depends_on_mcp(file):
            yield from self.mcp_tools(file, text, self.comment_lines(file.lines))

    def raw_http(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """A test that waits for nothing sends no request: its endpoints and model ids are the input of
        the pure functions it checks, unless it reads a provider's credential (a live test)."""
        if file.scope == "test" and synchronous_js_test(text) and not calls_live_provider(text):
            return
        yield from super().raw_http(file, text)

    @staticmethod
    def without_route_names(file: SourceFile, findings: list[Finding]) -> list[Finding]:
        """An API route named after a model (Next.js's ``app/api/llama2-13b/route.ts``, ``pages/api/
        vicuna13b.ts``) that calls another model names itself in a memory or cache key (``modelName:
        "llama2-13b"``): that nickname is the route's, not a model the code runs. An exact catalog id, or
        the route's only model, stays."""
        route = api_route_name(file.relpath)
        if route is None:
            return findings
        models = [f for f in findings if f.type == "model"]
        nickname = [
            f for f in models if f.name == route and not getattr(match_model(f.name), "catalog_id", None)
        ]
        if not nickname or len(models) == len(nickname):
            return findings
        return [f for f in findings if f not in nickname]

    def servers_named_by_calls(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """A server the project's own builder makes (``runServer({ name: "x" }, setup)`` around ``new
        McpServer({ name: options.name })``) is the server each call names, where the name is written."""
        comments = self.comment_lines(file.lines)
        for offset, name, _, _ in js_named_helper_calls(text, file.path.parent, scan_root_of(file)):
            line = _line_at(text, offset)
            if line not in comments:
                yield self.code_mcp_server(file, line, name.lower())

    def named_by_its_callers(self, file: SourceFile, text: str, start: int) -> bool:
        """The builder a module of the same folder (or the one above) calls with a written name."""
        found = js_parameter_naming(text, start)
        if found is None:
            return False
        root = scan_root_of(file)
        folders = [file.path.parent]
        if file.path.parent.parent != file.path.parent and str(file.path.parent.parent).startswith(root):
            folders.append(file.path.parent.parent)
        module = os.path.normpath(file.path)
        return any((module, found[0]) in js_called_builders(folder, root) for folder in folders)

    def xmcp_server(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """xmcp builds the server from the project's folders (its tools are ``src/tools/*.ts`` modules),
        with no constructor in the code: ``xmcp.config.ts`` is where the project declares it, and the server
        takes the package's name."""
        declared = XMCP_CONFIG_DECLARATION.search(text)
        line = _line_at(text, declared.start()) if declared else 1
        if line not in self.comment_lines(file.lines):
            yield self.code_mcp_server(file, line, npm_package_name(file) or component_name_for(file.relpath))

    def prose_lines(self, file: SourceFile) -> set[int]:
        """In a React component file a template literal spanning lines is text the page shows (a code
        sample, a prompt), not the component's configuration."""
        lines = super().prose_lines(file)
        if file.suffix in (".jsx", ".tsx") and "`" in file.text:
            lines |= template_text_lines(file.text)
        return lines

    def reached_servers(self, file: SourceFile, text: str, comments: set[int]) -> Iterator[Finding]:
        """Also a transport's URL held by a same-file variable, located where the transport is built."""
        from common.scanner.detectors.mcp_config import reached_server

        yield from super().reached_servers(file, text, comments)
        if "ClientTransport(" not in text:
            return
        for match in self.TRANSPORT_URL_VARIABLE.finditer(text):
            line = _line_at(text, match.start())
            url = url_assignments(text).get(match.group(1))
            if line not in comments and url and (found := reached_server(self, file, line, url)):
                yield found

    def package_depends_on_mcp(self, file: SourceFile) -> bool:
        """Whether the package.json nearest above the file (within the scanned tree) declares an MCP SDK."""
        return nearest_answer(file, _package_in_depends_on_mcp, False)

    def package_for(self, module: str) -> Package | None:
        served = CDN_PACKAGE.match(module)
        if served:  # ``https://cdn.jsdelivr.net/npm/@xenova/transformers@2.17.2``: the npm package it serves
            module = served.group(1)
        if module.startswith((".", "/")) or "://" in module:
            return None
        parts = module.split("/")
        root = "/".join(parts[:2]) if module.startswith("@") else parts[0]
        return (
            lookup_prefixed("npm", module, "/")
            or lookup_prefixed("npm", root, "/")
            or lookup_package("npm", root)
            or npm_integration_package(root)
        )

    @staticmethod
    def _bindings(clause: str) -> tuple[str, ...]:
        names = []
        clause = clause.strip()
        for star in linear(r"\*\s+as\s+([\w$]+)").finditer(clause):
            names.append(star.group(1))
        braces = linear(r"\{([^}]*)\}").search(clause)
        if braces:
            for part in braces.group(1).split(","):
                part = part.strip().removeprefix("type ").strip()
                if part:
                    names.append(linear(r"\s+as\s+|\s*:\s*").split(part)[-1].strip())
        default = linear(r"([A-Za-z_$][\w$]*)\s*(?:,|$)").match(clause)
        if default and default.group(1) not in ("type",):
            names.append(default.group(1))
        return tuple(n for n in names if re.fullmatch(r"[A-Za-z_$][\w$]*", n))

    def imports(self, text: str) -> Iterator[Import]:
        """Imports and requires; one written inside a template literal is text (a code sample), not code."""
        return (imp for imp, _ in self._imports(text, None))

    def imported_packages(self, text: str) -> list[tuple[Import, Package]]:
        """As the default, but a module is looked up first: most name no catalog package, and theirs
        need no bindings, line or template literal check."""
        return list(self._imports(text, self.package_for))

    def _imports(
        self, text: str, package_of: Callable[[str], Package | None] | None
    ) -> Iterator[tuple[Import, Package | None]]:
        """``imports``' imports with ``package_of``'s answer; given ``package_of``, only those it knows."""
        quoted = TemplateText(text)
        for pattern, module_group, clause_group in (
            (self.ES_IMPORT, 2, 1),
            (self.BARE_IMPORT, 1, None),
            (self.REQUIRE, 2, 1),
        ):
            for match in pattern.finditer(text):
                module = match.group(module_group)
                package = package_of(module) if package_of else None
                if (package or not package_of) and not quoted.holds(match.start()):
                    bindings = self._bindings(match.group(clause_group) or "") if clause_group else ()
                    yield Import(module, bindings, _line_at(text, match.start())), package
        if MCP_IMPORT_HINT.search(text):
            own = tuple(dict.fromkeys(m.group(1) for m in self.OWN_MCP_CLASS.finditer(text)))
            package = package_of("@modelcontextprotocol/sdk") if package_of and own else None
            if own and (package or not package_of):
                line = _line_at(text, text.find("class " + own[0]))
                yield Import("@modelcontextprotocol/sdk", own, line, True), package

    # a ``Server``/``Client`` class a module importing the MCP SDK writes itself on the SDK's types and
    # transports: built like the SDK's own (``new Client({ name, version })``), it is the same component
    OWN_MCP_CLASS = linear(r"(?m)^\s*(?:export\s+)?class\s+(Server|Client|McpServer|McpClient)\b")

    # Tool constructors of the JS agent frameworks: ``tool({...})`` (Vercel AI SDK, OpenAI Agents SDK,
    # LangChain.js), Mastra's ``createTool({ id })``, LangChain.js's ``new DynamicStructuredTool({ name })``.
    # LlamaIndex.TS's ``FunctionTool.from(fn, { name })``; the Claude Agent SDK's ``tool("name", ...)``;
    # Mastra's older ``new Tool({ id })``, the class ``createTool`` wraps (a constructor only after ``new``).
    # The Vercel AI SDK 5's ``dynamicTool({...})`` (input typed at run time) is named by its key too.
    TOOL_FACTORIES = (
        "tool",
        "createTool",
        "DynamicStructuredTool",
        "DynamicTool",
        "FunctionTool",
        "dynamicTool",
    )
    TOOL_CALL = linear(
        r"(?:(?:^|[{,(])\s*[\"']?([A-Za-z_$][\w$-]*)[\"']?\s*:\s*|\b(?:const|let|var)\s+([\w$]+)"
        r"(?:\s*:\s*[\w$.<>]+)?\s*=\s*)?(new\s+)?\b(tool|createTool|DynamicStructuredTool|DynamicTool|FunctionTool"
        r"|dynamicTool|zodFunction|zodResponsesFunction|Tool)"
        r"(?:\.from)?\s*\(",
        re.MULTILINE,
    )
    POSITIONAL_NAME = linear(r"""^\s*["'`]([^"'`$\n]{1,100})["'`]\s*,""")
    FIRST_KEY_NAME = linear(r"""^\s*\{\s*(?:name|id)\s*:\s*["'`]([^"'`$\n]{1,100})["'`]""")
    # the OpenAI SDK's own helpers (``openai/helpers/zod``): ``zodFunction({ name: "x", parameters })``
    SDK_TOOL_FACTORIES = ("zodFunction", "zodResponsesFunction")
    # LangChain.js tools written as classes: ``class Search extends StructuredTool { name = "search" }``
    TOOL_BASES = ("StructuredTool", "Tool", "DynamicStructuredTool", "DynamicTool")
    TOOL_CLASS = linear(
        r"\bclass\s+(\w+)\s+extends\s+(StructuredTool|Tool|DynamicStructuredTool|DynamicTool)\b"
    )
    CLASS_NAME_FIELD = linear(
        r"""(?:^|[;{\n])\s*(?:(?:public|override|readonly|static)\s+)*name\s*(?::\s*string\s*)?=\s*"""
        r"""(?:"([^"\n$]{1,100})"|'([^'\n]{1,100})'|`([^`\n$]{1,100})`)"""
    )
    # MCP servers an agent SDK starts or serves: the Claude Agent SDK's in-process
    # ``createSdkMcpServer({ name })``, the OpenAI Agents SDK's ``new MCPServerStdio({ name, fullCommand })``
    SERVER_FACTORIES = ("createSdkMcpServer", "MCPServerStdio", "MCPServerSSE", "MCPServerStreamableHttp")
    SERVER_CALL = linear(
        r"(?:^|[^\w.$])(?:new\s+)?(createSdkMcpServer|MCPServerStdio|MCPServerSSE|MCPServerStreamableHttp)\s*\(\s*\{"
    )
    # Genkit: ``ai.defineTool({ name: "x", ... }, fn)``
    DEFINE_TOOL = linear(r"""\.defineTool\(\s*\{[^{}]{0,300}?\bname\s*:\s*["'`]([\w.:/-]{1,100})["'`]""")
    TOOL_CONFIG_NAME = linear(r""",\s*\{\s*name\s*:\s*["'`]([^"'`$\n]{1,100})["'`]""")
    TOOL_OWN_NAME = linear(r"""^\s*(?:name|id)\s*:\s*["'`]([^"'`$\n]{1,100})["'`]""", re.MULTILINE)

    # the OpenAI Agents SDK's agent handed to another as a tool: ``agent.asTool({ toolName: "x" })``
    AS_TOOL = linear(r"""\.asTool\(\s*\{[^{}]{0,300}?\btoolName\s*:\s*["'`]([^"'`$\n]{1,100})["'`]""")

    def framework_tools(
        self, file: SourceFile, text: str, comments: set[int], packages: dict[str, Package]
    ) -> Iterator[Finding]:
        """Tools defined with an agent framework's tool constructor, named as the model sees them: the
        ``name``/``id`` the definition declares, else the key it is registered under in a ``tools``
        object (Vercel's ``tools: { weather: tool({...}) }``), else the variable that holds it."""
        factories: dict[str, Package] = {}
        for imp, package in self.imported_packages(text):
            if package.type == "agent_framework" and package.id not in MCP_PACKAGES:
                for binding in imp.bindings:
                    if binding in (*self.TOOL_FACTORIES, *self.TOOL_BASES, *self.SERVER_FACTORIES):
                        factories[binding] = package
            elif package.type == "llm_provider":
                factories.update((b, package) for b in imp.bindings if b in self.SDK_TOOL_FACTORIES)
        seen: set[str] = set()
        yield from self.genkit_tools(file, text, comments, packages, self.DEFINE_TOOL, seen)
        agents = packages.get("openai-agents")
        if agents and "asTool" in text:
            found = [(m.start(), m.group(1)) for m in self.AS_TOOL.finditer(text)]
            yield from self.named_tools(file, text, comments, found, agents.provider, agents.id, seen)
        if not factories:
            return
        yield from self.agent_sdk_servers(file, text, comments, factories)
        yield from self.class_tools(file, text, comments, factories, seen)
        for match in self.TOOL_CALL.finditer(text):
            package = factories.get(match.group(4))
            line = _line_at(text, match.start(4))
            if package is None or line in comments or text[match.start(4) - 1 : match.start(4)] == ".":
                continue  # ``server.tool(...)`` is a method of something else, not the imported factory
            if match.group(4) == "Tool" and not match.group(3):
                continue  # the class called without ``new`` is no constructor (``Tool(x)`` in a message)
            body = text[match.end() : match.end() + 1500]
            following = self.TOOL_CALL.search(body)
            body = body[: following.start()] if following else body
            # LangChain.js also takes the config second, inline: ``tool(fn, { name: "x", schema })``
            config = None if body.lstrip().startswith("{") else self.TOOL_CONFIG_NAME.search(body)
            found = [
                m
                for m in (
                    self.POSITIONAL_NAME.match(body),
                    self.FIRST_KEY_NAME.match(body),
                    self.TOOL_OWN_NAME.search(body),
                    config,
                )
                if m
            ]
            declared = min(found, key=lambda m: m.start()) if found else None
            name = declared.group(1) if declared else match.group(1)
            if not name and match.group(2):
                # a key of an object literal (``tools: { weather: weatherTool }``), not words of a message
                name = _object_keys(text).get(match.group(2), match.group(2))
            if not name or name.lower() in seen:
                continue
            seen.add(name.lower())
            yield self.located(
                file, line, "tool", name.lower(), package.provider, metadata={"framework": package.id}
            )

    def class_tools(
        self, file: SourceFile, text: str, comments: set[int], bases: dict[str, Package], seen: set[str]
    ) -> Iterator[Finding]:
        """Subclasses of a framework's tool class (imported from it), named by their ``name`` field."""
        classes = [m for m in self.TOOL_CLASS.finditer(text) if m.group(2) in bases]
        for index, match in enumerate(classes):
            end = classes[index + 1].start() if index + 1 < len(classes) else len(text)
            named = self.CLASS_NAME_FIELD.search(text[match.end() : min(end, match.end() + 3000)])
            line = _line_at(text, match.start())
            name = named.group(named.lastindex).strip().lower() if named else ""
            if not name or line in comments or name in seen:
                continue
            seen.add(name)
            package = bases[match.group(2)]
            yield self.located(file, line, "tool", name, package.provider, metadata={"framework": package.id})

    def agent_sdk_servers(
        self, file: SourceFile, text: str, comments: set[int], factories: dict[str, Package]
    ) -> Iterator[Finding]:
        """MCP servers an agent SDK builds or starts, named by the ``name`` they are given."""
        for match in self.SERVER_CALL.finditer(text):
            line = _line_at(text, match.start(1))
            if match.group(1) not in factories or line in comments:
                continue
            name = _LanguageDetector.mcp_server_name(self, text, match.end() - 1)
            if name and name.strip():
                yield self.code_mcp_server(file, line, name.strip().lower())
            if match.group(1) != "createSdkMcpServer":  # the agent connects to a server it starts or reaches
                yield self.code_mcp_client(file, line, None, factories[match.group(1)])


def go_parameter_names(parameters: str) -> list[str]:
    """The names of a Go parameter list in order (``version, description string`` -> both names)."""
    return [part.split()[0] for part in parameters.split(",") if part.split()]


class GoDetector(_LanguageDetector):
    name = "go"
    extensions = (".go",)
    ecosystem = "go"
    registry = "go"
    separator = "/"
    quick_tokens = ("import",)
    child_server_patterns = (
        # mcp-go: ``client.NewStdioMCPClient("npx", env, "-y", "pkg")``, ``transport.NewStdio(...)``
        linear(
            r'\b(?:NewStdioMCPClient(?:WithOptions)?|transport\.NewStdio)\(\s*"([^"\n]{1,100})"\s*,'
            r"([^()]{0,600})\)"
        ),
        # the official SDK: ``&mcp.CommandTransport{Command: exec.Command("npx", "-y", "pkg")}`` (earlier
        # versions: ``mcp.NewCommandTransport(exec.Command(...))``)
        linear(
            r"\b(?:CommandTransport\s*\{\s*Command:\s*|NewCommandTransport\(\s*)"
            r'exec\.Command\(\s*"([^"\n]{1,100})"([^()]{0,600})\)'
        ),
    )
    remote_server_patterns = (
        # mcp-go: ``client.NewSSEMCPClient(url)``, ``client.NewStreamableHttpClient(url)``,
        # ``transport.NewSSE(url)``; the official SDK: ``mcp.NewSSEClientTransport(url, nil)``
        linear(
            r"\b(?:NewSSEMCPClient|NewStreamableHttpClient|NewStreamableHTTPClient|transport\.NewSSE|"
            r"transport\.NewStreamableHTTP|NewSSEClientTransport|NewStreamableClientTransport)\(\s*"
            r'"((?:https?|wss?)://[^"\s]{1,200})"'
        ),
        # the official SDK's ``&mcp.StreamableClientTransport{Endpoint: url}`` (also SSE)
        linear(
            r'\b(?:SSEClientTransport|StreamableClientTransport)\s*\{\s*Endpoint:\s*"((?:https?|wss?)://[^"\s]{1,200})"'
        ),
    )
    # ``mcp.NewTool("name", ..)``; the SDK's tool type filled in by hand, by pointer or by value
    # (``&mcp.Tool{Name: "x"}``, paularlott/mcp's ``mcp.MCPTool{Name: "x"}`` a tool provider returns)
    tool_patterns = (
        lazy_re(r'\bmcp\.NewTool\(\s*"([^"\n]{1,100})"'),
        lazy_re(r'\bmcp\.(?:MCP)?Tool\s*\{[^{}]{0,300}\bName:\s*"([^"\n]{1,100})"'),
    )
    tool_constant_patterns = (
        linear(r"\bmcp\.NewTool\(\s*((?:[A-Za-z_]\w*\.)?[A-Za-z_]\w*)\s*[,)]"),
        linear(r"\bmcp\.(?:MCP)?Tool\s*\{[^{}]{0,300}\bName:\s*((?:[A-Za-z_]\w*\.)?[A-Za-z_]\w*)\s*[,}]"),
    )

    # the SDK packages whose ``NewTool``/``Tool`` the patterns above read under their default name
    # ``mcp``; a file may import them under another (``m "github.com/mark3labs/mcp-go/mcp"``)
    MCP_TOOL_MODULES = frozenset(
        {"github.com/mark3labs/mcp-go/mcp", "github.com/modelcontextprotocol/go-sdk/mcp"}
    )

    def tool_names(self, text: str) -> Iterator[tuple[int, str]]:
        """The SDK's tools under its default name, then under each alias the file imports it by."""
        yield from super().tool_names(text)
        aliases = {
            alias
            for imp in self.imports(text)
            if imp.module in self.MCP_TOOL_MODULES
            for alias in imp.bindings
            if alias.isidentifier() and alias != "mcp"
        }
        for alias in sorted(aliases):
            written = (
                linear(rf'\b{alias}\.NewTool\(\s*"([^"\n]{{1,100}})"'),
                linear(rf'\b{alias}\.Tool\s*\{{[^{{}}]{{0,300}}\bName:\s*"([^"\n]{{1,100}})"'),
            )
            for pattern in written:
                for match in pattern.finditer(text):
                    yield match.start(), match.group(1)
            held = linear(rf"\b{alias}\.NewTool\(\s*((?:[A-Za-z_]\w*\.)?[A-Za-z_]\w*)\s*[,)]")
            for match in held.finditer(text):
                value = constant_value(text, match.group(1))
                if value:
                    yield match.start(), value

    BLOCK = linear(r"\bimport\s*\((.*?)\)", re.DOTALL)
    SINGLE = linear(r"""\bimport\s+(?:([\w.]+)\s+)?"([^"]+)\"""")
    SPEC = linear(r"""^\s*(?:([\w.]+)\s+)?"([^"]+)\"""", re.MULTILINE)

    def package_for(self, module: str) -> Package | None:
        """Catalog module paths, else a third-party client named after a provider by Go's naming
        grammar (``github.com/x/ollama-go``, ``github.com/y/go-openai``) when the provider is an
        LLM API: the package name then is the provider's own id."""
        return super().package_for(module) or go_provider_client(module)

    @staticmethod
    def _package_name(path: str) -> str:
        parts = [p for p in path.split("/") if not re.fullmatch(r"v\d+", p)]
        name = parts[-1]
        name = re.sub(r"^go-|-go$|-sdk$", "", re.sub(r"-sdk-go$", "", name))
        return name.replace("-", "")

    def imports(self, text: str) -> Iterator[Import]:
        for block in self.BLOCK.finditer(text):
            for spec in self.SPEC.finditer(block.group(1)):
                alias = spec.group(1) or self._package_name(spec.group(2))
                yield Import(spec.group(2), (alias,), _line_at(text, block.start(1) + spec.start()))
        for match in self.SINGLE.finditer(text):
            alias = match.group(1) or self._package_name(match.group(2))
            yield Import(match.group(2), (alias,), _line_at(text, match.start()))

    def mcp_server_name(self, text: str, start: int) -> str | None:
        """mcp-go takes the name first (``server.NewMCPServer("x", "1.0")``), written or a constant."""
        match = re.match(r"""\s*"([^"]+)\"""", text[start : start + 200])
        if match:
            return match.group(1)
        handed = LEADING_IDENTIFIER.match(text[start : start + 200])
        return constant_value(text, handed.group(1) if handed else None) or super().mcp_server_name(
            text, start
        )

    # Go SDKs spell model constants in CamelCase: go-openai ``openai.GPT4oMini``, openai-go
    # ``openai.ChatModelO3Mini``, anthropic-sdk-go ``anthropic.ModelClaude3_7SonnetLatest``
    GO_MODEL_CONSTANT = linear(r"\b([a-z]\w*)\.((?:Chat)?Model)?([A-Z][A-Za-z0-9_]*)\b")

    def sdk_model_constants(
        self, file: SourceFile, text: str, comments: set[int], reported: set[tuple[int, str]]
    ) -> Iterator[Finding]:
        yield from super().sdk_model_constants(file, text, comments, reported)
        providers = {b for imp, p in self.sdk_imports(text) if p.type == "llm_provider" for b in imp.bindings}
        for match in self.GO_MODEL_CONSTANT.finditer(text):
            if match.group(1) not in providers:
                continue
            spaced = re.sub(r"Dot(?=\d)", "_", match.group(3))  # GPT3Dot5Turbo: 3.5
            snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Za-z]{2})(?=\d)", "_", spaced).upper()
            value = model_id_from_constant_name(snake, named_as_model=bool(match.group(2)))
            line = _line_at(text, match.start())
            found = model_finding(value, line, strong=False, hf_context=False) if value else None
            if found and line not in comments and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found, resolved_from=match.group(0))

    GENKIT_TOOL = linear(r'\bgenkit\.DefineTool(?:\[[^\]]{1,200}\])?\(\s*\w+\s*,\s*"([^"\n]{1,100})"')

    # the function-tool structs of the Go LLM SDKs, named as the model calls them: openai-go
    # ``FunctionDefinitionParam``, go-openai and langchaingo ``FunctionDefinition``, anthropic-sdk-go
    # ``ToolParam``, Gemini ``FunctionDeclaration``, Ollama ``ToolFunction``, Eino ``ToolInfo``; older
    # SDK versions wrap the name (``Name: openai.F("x")``)
    FUNCTION_STRUCT = linear(
        r"\b([a-z]\w*)\.(?:FunctionDefinitionParam|FunctionDefinition|ToolParam|FunctionDeclaration|ToolFunction|ToolInfo)"
        r'\s*\{[^{}]{0,300}?\bName:\s*(?:[a-z]\w*\.(?:F|String)\(\s*)?"([^"\n]{1,100})"'
    )
    # Eino's ``utils.InferTool("name", "description", fn)``, openai-go's Responses API
    # ``responses.ToolParamOfFunction("name", parameters, strict)``
    INFER_TOOL = linear(r'\b([a-z]\w*)\.(?:InferTool|ToolParamOfFunction)\(\s*"([^"\n]{1,100})"')
    # a langchaingo ``tools.Tool``: a type whose ``Name()`` returns its name and that has ``Call``
    CALL_METHOD = linear(rf"\bfunc\s*{GO_RECEIVER}\s*Call\(")
    NAME_METHOD = linear(rf'\bfunc\s*{GO_RECEIVER}\s*Name\(\)\s*string\s*\{{\s*return\s+"([^"\n]{{1,100}})"')

    def framework_tools(
        self, file: SourceFile, text: str, comments: set[int], packages: dict[str, Package]
    ) -> Iterator[Finding]:
        """Genkit for Go: ``genkit.DefineTool(g, "name", "description", fn)``; the SDKs' function-tool
        structs; langchaingo tool types."""
        seen: set[str] = set()
        yield from self.genkit_tools(file, text, comments, packages, self.GENKIT_TOOL, seen)
        bound = {
            binding: package
            for imp, package in self.sdk_imports(text)
            if package.type in ("llm_provider", "agent_framework") and package.id not in MCP_PACKAGES
            for binding in imp.bindings
        }
        by_package: dict[str, list[tuple[int, str]]] = {}
        for pattern in (self.FUNCTION_STRUCT, self.INFER_TOOL):
            for match in pattern.finditer(text):
                if match.group(1) in bound and match.group(2).lower() not in PLACEHOLDER_NAMES:
                    by_package.setdefault(bound[match.group(1)].id, []).append(
                        (match.start(), match.group(2))
                    )
        for binding, offset, name in self.slice_elements(text) if "[]" in text else ():
            if binding in bound and name.lower() not in PLACEHOLDER_NAMES:
                by_package.setdefault(bound[binding].id, []).append((offset, name))
        langchain = next((p for p in bound.values() if p.id == "langchain"), None)
        callable_types = {m.group(1) for m in self.CALL_METHOD.finditer(text)} if langchain else set()
        for match in self.NAME_METHOD.finditer(text) if callable_types else ():
            if match.group(1) in callable_types:
                by_package.setdefault(langchain.id, []).append((match.start(), match.group(2)))
        for package_id, found in by_package.items():
            package = next(p for p in bound.values() if p.id == package_id)
            yield from self.named_tools(
                file, text, comments, sorted(found), package.provider, package.id, seen
            )

    # a slice of those structs whose elements leave the type out (anthropic-sdk-go's README:
    # ``[]anthropic.ToolParam{ {Name: "get_coordinates", ...}, ... }``)
    FUNCTION_SLICE = linear(
        r"\[\]\s*\*?([a-z]\w*)\.(?:FunctionDefinitionParam|FunctionDefinition|ToolParam|FunctionDeclaration|ToolFunction)"
        r"\s*\{"
    )
    # inside it: braces, strings (skipped: a description may hold braces) and each element's ``Name``
    SLICE_TOKEN = re.compile(
        r'[{}]|"(?:[^"\\\n]|\\.){0,500}"|\bName:\s*(?:[a-z]\w*\.(?:F|String)\(\s*)?"([^"\n]{1,100})"'
    )
    MAX_SLICE = 50_000

    def slice_elements(self, text: str) -> Iterator[tuple[str, int, str]]:
        """(package binding, offset, name) of every element of such a slice literal that names itself."""
        resume = 0
        for start in self.FUNCTION_SLICE.finditer(text):
            if start.start() < resume:
                continue  # inside a slice already read (or the window an unclosed one was read to)
            depth, limit = 1, min(len(text), start.end() + self.MAX_SLICE)
            resume = limit
            for token in self.SLICE_TOKEN.finditer(text, start.end(), limit):
                if token.group(0) == "{":
                    depth += 1
                elif token.group(0) == "}":
                    depth -= 1
                    if depth == 0:
                        resume = token.end()
                        break
                elif token.group(1) and depth == 2:
                    yield start.group(1), token.start(), token.group(1)

    # ``func (t *T) Name() string { return "x" }``: the name a tool type gives the model
    GO_NAME_METHOD = linear(rf'func\s*{GO_RECEIVER}\s*Name\(\)\s*string\s*\{{\s*return\s*"([^"\n]{{1,100}})"')
    GO_METHOD = linear(rf"func\s*{GO_RECEIVER}\s*(\w+)\s*\(")
    # what a model needs from a tool besides its name and description: an input schema, or the call
    GO_SCHEMA_METHODS = frozenset({"InputSchema", "Parameters", "Schema", "JSONSchema", "ArgsSchema"})
    GO_CALL_METHODS = frozenset({"Call", "Execute", "Run", "Invoke"})
    GO_TOOL_METHODS = GO_SCHEMA_METHODS | GO_CALL_METHODS

    def tool_types(self, file: SourceFile, text: str, packages: dict[str, Package]) -> Iterator[Finding]:
        """Go agent tools are types implementing a tool interface: ``Name()`` returning the name the model
        calls, ``Description()``, and an input schema or a call method (langchaingo's ``tools.Tool``, the
        same shape in agent frameworks a repository writes itself). Counted in a file importing an LLM
        SDK or agent framework, or a module whose go.mod requires one; the provider is the imported agent
        framework, if any. A type with an input schema and a call method (the full shape) needs no
        ``Description()``: its schema may carry the description. A module with no SDK counts only the full
        shape, outside ``_test.go`` files, when its own code calls an LLM API by hand
        (``module_calls_llm_by_hand``): a CLI command or plugin type has a name, a description and a run
        method, but no input schema for a model, and sits in a module that names no AI API."""
        named = {match.group(1): match for match in self.GO_NAME_METHOD.finditer(text)}
        if not named:
            return
        methods: dict[str, set[str]] = {}
        for match in self.GO_METHOD.finditer(text):
            methods.setdefault(match.group(1), set()).add(match.group(2))
        # the full shape: an input schema and a call method (the description may sit in the schema)
        full = {
            receiver
            for receiver in named
            if methods.get(receiver, set()) & self.GO_SCHEMA_METHODS
            and methods[receiver] & self.GO_CALL_METHODS
        }
        tools = [
            match
            for receiver, match in named.items()
            if receiver in full
            or ("Description" in methods.get(receiver, ()) and methods[receiver] & self.GO_TOOL_METHODS)
        ]
        strong = [p for p in packages.values() if p.type in ("llm_provider", "agent_framework")]
        if not tools:
            return
        if not (strong or module_uses_llm(file)):
            tools = [match for match in tools if match.group(1) in full]
            # a Go test is a ``_test.go`` file (a package in a ``test`` folder is code like any other)
            if not tools or file.path.name.endswith("_test.go") or not module_calls_llm_by_hand(file):
                return
        framework = next((p for p in strong if p.type == "agent_framework"), None)
        comments = self.comment_lines(file.lines)
        found = [(match.start(2), match.group(2)) for match in tools]
        yield from self.named_tools(
            file,
            text,
            comments,
            found,
            framework.provider if framework else None,
            framework.id if framework else "go",
            set(),
        )

    # a composite literal of a type the project names as a tool's spec (``catalogTool{``, ``llm.ToolSpec{``,
    # ``[]ToolDefinition{``): group 1 ``[]``/``]`` for a slice or map of them, 2 the package, 3 the type
    GO_TOOL_LITERAL = linear(
        r"(\]\s*)?\*?&?(?:\b([a-z]\w{0,60})\.)?\b(\w{0,100}(?:Tool|ToolSpec|ToolDef|ToolDefinition|FunctionDef"
        r"|FunctionDefinition|FunctionSpec))\s*\{"
    )
    # inside one: braces, strings (skipped: a description may hold braces), a ``Name``, a ``Description``
    GO_TOOL_FIELD = linear(r'[{}]|"(?:[^"\\\n]|\\.)*"|`[^`]*`|\b(Name|Description):\s*(?:"([^"\n]{1,100})")?')
    MAX_TOOL_LITERAL = 50_000
    MAX_TOOL_LITERALS = 200  # literals read per file: a catalog has a few dozen

    def tool_spec_literals(
        self, file: SourceFile, text: str, packages: dict[str, Package]
    ) -> Iterator[Finding]:
        """Tools a Go program lists for its model as literals of its own spec type: each element with a
        literal ``Name`` and a ``Description`` (``catalogTool{Name: "task.create", Description: …}``). Read
        outside ``_test.go`` files of a module that uses an LLM (an SDK, or its own client for an LLM API);
        an SDK's own types are the SDK rules' (``FUNCTION_STRUCT``)."""
        sdk_bindings = {binding for imp, _ in self.sdk_imports(text) for binding in imp.bindings}
        found: list[tuple[int, str]] = []
        resume = 0
        for count, start in enumerate(self.GO_TOOL_LITERAL.finditer(text)):
            if count >= self.MAX_TOOL_LITERALS:
                break
            before = text[max(0, start.start() - 40) : start.start()].rstrip().rstrip("[").rstrip()
            if start.start() < resume or start.group(2) in sdk_bindings or before.endswith((")", "func")):
                continue  # inside one read already, an SDK's type, or a function's result type
            element_depth = 2 if start.group(1) else 1
            depth, name, described = 1, None, False
            limit = min(len(text), start.end() + self.MAX_TOOL_LITERAL)
            resume = limit
            for token in self.GO_TOOL_FIELD.finditer(text, start.end(), limit):
                if token.group(0) == "{":
                    depth += 1
                    if depth == element_depth:
                        name, described = None, False
                elif token.group(0) == "}":
                    if depth == element_depth and name and described:
                        found.append(name)
                    depth -= 1
                    if depth == 0:
                        resume = token.end()
                        break
                elif token.group(1) and depth == element_depth:
                    if token.group(1) == "Description":
                        described = True
                    elif token.group(2):
                        name = (token.start(2), token.group(2))
        if not found:
            return
        strong = any(p.type in ("llm_provider", "agent_framework") for p in packages.values())
        if not (strong or module_uses_llm(file) or module_calls_llm_by_hand(file)):
            return
        named = [(offset, value) for offset, value in found if value.lower() not in PLACEHOLDER_NAMES]
        yield from self.named_tools(file, text, self.comment_lines(file.lines), named, None, "go", set())

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        yield from super().detect(file, report)
        packages = None
        if self.GO_NAME_METHOD.search(file.text):
            packages = {p.id: p for _, p in self.sdk_imports(file.text)}
            yield from self.tool_types(file, file.text, packages)
        if not file.path.name.endswith("_test.go") and "Name:" in file.text and "Description:" in file.text:
            if packages is None:
                packages = {p.id: p for _, p in self.sdk_imports(file.text)}
            yield from self.tool_spec_literals(file, file.text, packages)
        if "mcp" in file.text and any(p.id in MCP_PACKAGES for _, p in self.sdk_imports(file.text)):
            yield from self.servers_from_package_constructors(file, file.text)

    GO_SERVER_CONSTRUCTOR = linear(r"\bNewMCPServer\(\s*([A-Za-z_]\w*)\s*[,)]")

    def servers_from_package_constructors(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """A call to a constructor another file of the package defines around ``server.NewMCPServer``
        (``New("1.0.0", "Test Server")`` in a test) builds a server named by the literal it passes."""
        root = scan_root_of(file)
        constructors: dict[str, int] = {}
        for path in sorted(file.path.parent.glob("*.go"))[: self.MAX_CALLER_FILES]:
            if path != file.path:
                constructors.update(self.server_constructors(path, root))
        comments = self.comment_lines(file.lines) if constructors else set()
        for function, position in constructors.items():
            for call in linear(rf"(?:^|[^\w.]){re.escape(function)}\(").finditer(text):
                line = _line_at(text, call.end())
                arguments = CSharpDetector.call_arguments(text, call.end())
                literal = (
                    re.fullmatch(r'"([^"\n]{1,100})"', arguments[position])
                    if position < len(arguments)
                    else None
                )
                if literal and line not in comments:
                    yield self.code_mcp_server(file, line, literal.group(1).lower())

    GO_FUNC = linear(r"\bfunc\s+(?:\([^()]*\)\s*)?([A-Za-z_]\w*)\s*\(([^()]*)\)")

    @staticmethod
    @per_scan(stopped=())
    def server_constructors(path: Path, root: str) -> tuple[tuple[str, int], ...]:
        """(function, parameter position) of each function of a Go file that hands that parameter to
        ``NewMCPServer``: read once per scan, not again by each file of the package, and each call's
        enclosing function found among the file's functions (the last one ending before it), not by
        searching the text before every call again."""
        text = read_neighbour(path, root)
        if text is None:
            return ()
        functions = list(GoDetector.GO_FUNC.finditer(text))
        ends = [function.end() for function in functions]
        found = []
        for built in GoDetector.GO_SERVER_CONSTRUCTOR.finditer(text):
            index = bisect_right(ends, built.start()) - 1
            names = go_parameter_names(functions[index].group(2)) if index >= 0 else []
            if built.group(1) in names:
                found.append((functions[index].group(1), names.index(built.group(1))))
        return tuple(found)

    GO_IMPORT_PATH = linear(r'(?m)^\s*(?:import\s+)?([A-Za-z_]\w*\s+)?"([^"\n]+)"')
    MAX_CALLER_FILES = 40

    def name_from_callers(self, file: SourceFile, text: str, start: int) -> str | None:
        """mcp-go servers built by a constructor of the project (``func New(version, description
        string) { server.NewMCPServer(description, version) }``) are named by what its callers pass:
        the literal or constant at that parameter in a call from the package itself or from the
        package one folder up that imports it (its ``main``), non-test callers first."""
        handed = LEADING_IDENTIFIER.match(text[start : start + 200])
        enclosing = list(self.GO_FUNC.finditer(text[:start]))
        if not handed or "." in handed.group(1) or not enclosing:
            return None
        function, names = enclosing[-1].group(1), go_parameter_names(enclosing[-1].group(2))
        if handed.group(1) not in names:
            return None
        position = names.index(handed.group(1))
        for caller, qualifier in self.caller_files(file):
            call = linear(rf"(?:^|[^\w.]){re.escape(qualifier)}{re.escape(function)}\(")
            for found in call.finditer(caller):
                arguments = CSharpDetector.call_arguments(caller, found.end())
                value = arguments[position] if position < len(arguments) else ""
                literal = re.fullmatch(r'"([^"\n]{1,100})"', value)
                resolved = literal.group(1) if literal else constant_value(caller, value or None)
                if resolved:
                    return resolved
        return None

    def caller_files(self, file: SourceFile) -> Iterator[tuple[str, str]]:
        """(text, qualifier its calls into the file's package carry) of the Go files that may call a
        function of it: the folder above that imports the package, then the package's own files; tests
        last."""
        root = scan_root_of(file)
        folder = file.path.parent
        candidates = [(path, "") for path in sorted(folder.glob("*.go")) if path != file.path]
        if folder.parent != folder and str(folder.parent).startswith(root):
            candidates = [(path, None) for path in sorted(folder.parent.glob("*.go"))] + candidates
        candidates.sort(key=lambda item: item[0].name.endswith("_test.go"))
        for path, qualifier in candidates[: self.MAX_CALLER_FILES]:
            caller = read_neighbour(path, root)
            if caller is None:
                continue
            if qualifier is None:
                imported = next(
                    (
                        (m.group(1) or m.group(2).rsplit("/", 1)[-1]).strip()
                        for m in self.GO_IMPORT_PATH.finditer(caller)
                        if m.group(2).endswith(f"/{folder.parent.name}/{folder.name}")
                    ),
                    None,
                )
                if imported is None:
                    continue
                qualifier = imported + "."
            yield caller, qualifier

    GO_CLIENT_INFO = linear(
        r'\bClientInfo\s*[:=]\s*&?mcp\.Implementation\s*\{[^{}]{0,200}?\bName:\s*"([^"\n]{1,100})"'
    )

    def mcp_client_name(self, text: str, start: int) -> str | None:
        """mcp-go clients take the server's command first and declare themselves in the initialize
        request's ``ClientInfo``; the official SDK's ``mcp.NewClient(&mcp.Implementation{Name: "x"})``."""
        info = self.GO_CLIENT_INFO.search(text)
        return info.group(1) if info else super().mcp_client_name(text, start)


class JavaDetector(_LanguageDetector):
    name = "java"
    extensions = (".java", ".kt", ".kts", ".scala")
    ecosystem = "java"
    quick_tokens = ()
    child_server_patterns = (
        # the Java SDK: ``ServerParameters.builder("npx").args("-y", "pkg")`` (or ``.args(List.of(...))``)
        linear(r'\bServerParameters\.builder\(\s*"([^"\n]{1,100})"\s*\)\s*\.args\(([^;]{0,600}?)\)\s*[.;\n]'),
        # the Kotlin SDK reads a process its client starts itself: ``ProcessBuilder("npx", "-y", "pkg")``
        linear(
            r'\bProcessBuilder\(\s*(?:listOf\(|List\.of\(|Arrays\.asList\()?\s*"([^"\n]{1,100})"([^()]{0,600})\)'
        ),
    )
    # the Java SDK: ``HttpClientSseClientTransport.builder("http://host:8080")`` (also Streamable HTTP); the
    # Kotlin SDK: ``SseClientTransport(httpClient, "https://host/sse")`` (also Streamable HTTP and WebSocket)
    remote_server_patterns = (
        linear(
            r"\b(?:HttpClientSseClientTransport|HttpClientStreamableHttpTransport)\.builder\(\s*"
            r'"((?:https?|wss?)://[^"\s]{1,200})"'
        ),
        linear(
            r"\b(?:Sse|StreamableHttp|WebSocket)ClientTransport\(\s*(?:client\s*=\s*)?[\w.]{1,60}\s*,\s*"
            r'(?:urlString\s*=\s*|url\s*=\s*)?"((?:https?|wss?)://[^"\s]{1,200})"'
        ),
    )
    tool_patterns = (
        linear(r'\bnew\s+(?:McpSchema\.)?Tool\(\s*"([^"\n]{1,100})"'),
        linear(r'\bTool\.builder\(\)\s*\.name\(\s*"([^"\n]{1,100})"'),
        linear(r'\baddTool\(\s*name\s*=\s*"([^"\n]{1,100})"'),
        # the Kotlin SDK's positional ``server.addTool("name", "description", ...)``
        linear(r'\baddTool\(\s*"([^"\n]{1,100})"\s*,'),
        # the Kotlin SDK's ``addTools(listOf(RegisteredTool(Tool(name = "x", ...)) { ... }))``
        linear(r'\bRegisteredTool\(\s*(?:McpSchema\.)?Tool\(\s*name\s*=\s*"([^"\n]{1,100})"'),
    )
    tool_constant_patterns = (
        linear(r"\bnew\s+(?:McpSchema\.)?Tool\(\s*((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\s*,"),
        linear(r"\bTool\.builder\(\)\s*\.name\(\s*((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\s*\)"),
        linear(r"\baddTool\(\s*(?:name\s*=\s*)?((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\s*,"),
    )
    IMPORT = linear(r"^\s*import\s+(?:static\s+)?([\w.]+?)(\.\*)?\s*;?\s*$", re.MULTILINE)
    # The tool annotations of the JVM agent frameworks, by the package they are imported from.
    TOOL_ANNOTATIONS = {
        "dev.langchain4j.agent.tool": "langchain4j",
        "org.springframework.ai.tool.annotation": "spring-ai",
        "ai.koog.agents.core.tools.annotations": "koog",
        "com.microsoft.semantickernel.semanticfunctions.annotations": "semantic-kernel",
        # MCP servers whose tools are annotated methods: Quarkus MCP Server, Spring AI's MCP annotations
        "io.quarkiverse.mcp.server": "mcp",
        "org.springaicommunity.mcp.annotation": "mcp",
        "org.springframework.ai.mcp.annotation": "mcp",
    }
    TOOL_ANNOTATION = linear(r"@(?:(?:Mcp)?Tool|DefineKernelFunction)\b(\([^)]{0,600}\))?")
    # Koog's first argument is the tool's name (``@Tool("x")``, ``customName = "x"``); LangChain4j's is
    # its description
    KOOG_NAME = linear(r'^\(\s*"([^"\n]{1,100})"|\bcustomName\s*=\s*"([^"\n]{1,100})"')
    # tools built in code: Spring AI's ``FunctionToolCallback.builder("name", fn)`` (before 1.0:
    # ``FunctionCallback.builder().function("name", fn)``, ``FunctionCallbackWrapper...withName("name")``)
    # and ``MethodToolCallback`` definitions, LangChain4j's ``ToolSpecification.builder().name("x")``
    # the OpenAI Java SDK's ``FunctionDefinition.builder().name("x")`` (Azure's ``new
    # FunctionDefinition("x")``) and the Anthropic Java SDK's ``Tool.builder().name("x")``
    # (the builder chains as the documentation writes them, one call a line: ``FunctionToolCallback\n
    # .builder("x", fn)``), Koog's ``ToolDescriptor(name = "x")`` of a ``Tool``/``SimpleTool`` subclass and
    # its ``SimpleTool<Args>(..., name = "x")`` constructor, and Google ADK for Java's
    # ``FunctionTool.create(Owner.class, "method")`` (the method is the tool, named after it)
    BUILT_TOOL = linear(
        r'\bFunctionToolCallback\s*\.\s*builder\(\s*"([^"\n]{1,100})"'
        r'|\bToolDefinition\s*\.\s*builder\(\)\s*\.\s*name\(\s*"([^"\n]{1,100})"'
        r'|\bToolSpecification\s*\.\s*builder\(\)\s*\.\s*name\(\s*"([^"\n]{1,100})"'
        r'|\bFunctionDefinition(?:\s*\.\s*builder\(\)\s*\.\s*name\(|\(|\s*\(\s*name\s*=)\s*"([^"\n]{1,100})"'
        r'|\bTool\s*\.\s*builder\(\)\s*\.\s*name\(\s*"([^"\n]{1,100})"'
        r'|\bFunctionCallback\s*\.\s*builder\(\)\s*\.\s*function\(\s*"([^"\n]{1,100})"'
        r'|\bFunctionCallbackWrapper\s*\.\s*builder\([^;]{0,300}?\.withName\(\s*"([^"\n]{1,100})"'
        r'|\bToolDescriptor\(\s*name\s*=\s*"([^"\n]{1,100})"'
        r'|\bSimpleTool<[^>\n]{1,100}>\s*\([^"{}]{0,200}?\bname\s*=\s*"([^"\n]{1,100})"'
        r'|\bFunctionTool\s*\.\s*create\(\s*(?:[\w.]{1,100}\.class|this)\s*,\s*"([^"\n]{1,100})"'
    )
    BUILT_TOOL_OWNERS = {
        1: ("spring-ai",),
        2: ("spring-ai",),
        3: ("langchain4j",),
        4: ("openai", "azure-openai"),
        6: ("spring-ai",),
        7: ("spring-ai",),
        8: ("koog",),
        9: ("koog",),
        10: ("google-adk",),
    }
    # Spring AI's function beans: ``@Bean @Description("...") Function<Req, Resp> currentWeather()`` is a
    # tool named after the bean (its method)
    # (``@Bean("lookup")`` names the bean, and so the tool, itself)
    FUNCTION_BEAN = linear(
        r'@Bean\b(?:\(\s*(?:(?:name|value)\s*=\s*)?"([\w.-]{1,100})"[^)]{0,200}\))?'
        r"[^;{]{0,200}?@Description\([^)]{0,400}\)\s*(?:public\s+|fun\s+)?(?:(?:Bi)?Function|Supplier|Consumer)"
        r"<[^{;]{0,200}?>\s+(\w+)\s*\("
    )
    METHOD_AFTER_ANNOTATION = linear(r"\bfun\s+(?:<[^>]*>\s*)?(\w+)\s*\(|\b(\w+)\s*\(")

    # LangChain4j's MCP module: ``new DefaultMcpClient.Builder().transport(t).build()`` connects a client,
    # ``new StdioMcpTransport.Builder().command(List.of("uvx", "mcp-server-time"))`` starts its server
    LANGCHAIN4J_MCP_IMPORT = linear(r"(?m)^\s*import\s+dev\.langchain4j\.mcp\.")
    LANGCHAIN4J_MCP_CLIENT = linear(r"\bDefaultMcpClient\s*(?:\.\s*(?:Builder|builder)\s*)?\(")
    LANGCHAIN4J_STDIO = linear(
        r"\bStdioMcpTransport\s*\.\s*(?:Builder|builder)\s*\(\s*\)[^;]{0,300}?\.command\(\s*"
        r'(?:List\.of|Arrays\.asList|listOf|mutableListOf)\(\s*"([^"\n]{1,100})"([^()]{0,600})\)'
    )
    # and its HTTP transports reach a server at a written address: ``new HttpMcpTransport.Builder()
    # .sseUrl("http://host/sse")``, ``StreamableHttpMcpTransport.builder().url("https://host/mcp")``
    LANGCHAIN4J_HTTP = linear(
        r"\b(?:Http|StreamableHttp)McpTransport\s*\.\s*(?:Builder|builder)\s*\(\s*\)[^;]{0,300}?"
        r'\.(?:sseUrl|url)\(\s*"((?:https?|wss?)://[^"\s]{1,200})"'
    )
    LANGCHAIN4J_MCP = "langchain4j-mcp"

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        """Also the function beans of a configuration class that imports no AI SDK (``@Bean @Description
        Function<Req, Resp> lookup()``), tools when the project's build declares Spring AI."""
        yield from super().detect(file, report)
        text = file.text
        if "@Description" in text and "@Bean" in text and not self.sdk_imports(text):
            yield from self.built_tools(file, text, self.prose_lines(file), {}, set())
        if "dev.langchain4j.mcp" in text:
            yield from self.langchain4j_mcp(file, text)

    def langchain4j_mcp(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """A file that imports LangChain4j's MCP module and builds a ``DefaultMcpClient`` is an MCP client,
        named after the module's artifact (``langchain4j-mcp``) at its first import; a server its stdio
        transport starts through a package runner is named by the package, one its HTTP transport reaches
        by its host."""
        from common.scanner.detectors.mcp_config import reached_server, started_server

        imported = self.LANGCHAIN4J_MCP_IMPORT.search(text)
        if imported is None:
            return
        comments = self.prose_lines(file)
        if any(_line_at(text, m.start()) not in comments for m in self.LANGCHAIN4J_MCP_CLIENT.finditer(text)):
            yield self.code_mcp_client(file, _line_at(text, imported.end()), self.LANGCHAIN4J_MCP)
        for match in self.LANGCHAIN4J_STDIO.finditer(text):
            line = _line_at(text, match.start(1))
            if line in comments:
                continue
            args = [m.group(m.lastindex) for m in CHILD_ARGUMENT.finditer(match.group(2) or "")]
            found = started_server(self, file, line, match.group(1), args)
            if found:
                yield found
        for match in self.LANGCHAIN4J_HTTP.finditer(text):
            line = _line_at(text, match.start(1))
            if line not in comments and (found := reached_server(self, file, line, match.group(1))):
                yield found

    QUALIFIED = linear(r"(?:^|[^\w.\"])((?:[a-z][a-z0-9_]*\.){2,}[a-z][a-z0-9_]*)\.[A-Z]\w*")

    def imports(self, text: str) -> Iterator[Import]:
        for match in self.IMPORT.finditer(text):
            binding = () if match.group(2) else (match.group(1).rsplit(".", 1)[-1],)
            yield Import(match.group(1), binding, _line_at(text, match.start(1)))
        yield from self.qualified_references(text)

    SERVER_INFO = linear(
        r'\.serverInfo\(\s*(?:new\s+(?:McpSchema\.)?Implementation\(\s*)?(?:"([^"\n]{1,100})"|([A-Za-z_][\w.]*)\s*[,)])'
    )
    CLIENT_INFO = linear(
        r'\.clientInfo\(\s*(?:new\s+(?:McpSchema\.)?Implementation\(\s*)?(?:"([^"\n]{1,100})"|([A-Za-z_][\w.]*)\s*[,)])'
    )

    KOTLIN_CLIENT_INFO = linear(
        r'^\s*\(?\s*(?:clientInfo\s*=\s*)?Implementation\(\s*(?:name\s*=\s*)?"([^"\n]{1,100})"'
    )

    def mcp_client_name(self, text: str, start: int) -> str | None:
        """The Kotlin SDK's ``Client(Implementation("name", "1.0"))``, positional or named."""
        info = self.KOTLIN_CLIENT_INFO.search(text[start : start + 300])
        return info.group(1) if info else super().mcp_client_name(text, start)

    def declared_info(self, text: str, start: int, info: re.Pattern) -> tuple[str, int] | None:
        """The name a Java SDK builder declares in ``.serverInfo``/``.clientInfo`` after ``start``, and
        the offset where it is written: a literal in the call, else the last ``new Implementation("name",
        ...)`` assigned before the builder to the variable the call passes."""
        declared = info.search(text[start : start + 600])
        if not declared:
            return None
        if declared.group(1):
            return declared.group(1), start + declared.start(1)
        ends, names, offsets = _implementations(text, declared.group(2))
        last = bisect_right(ends, start)
        if last:
            return names[last - 1], offsets[last - 1]
        value = constant_value(text, declared.group(2))  # ``.serverInfo(SERVER_NAME, VERSION)``
        return (value, start + declared.start(2)) if value else None

    def mcp_usage(
        self,
        file: SourceFile,
        text: str,
        match: re.Match,
        member: str,
        line: int,
        package: Package | None = None,
    ):
        """The Java SDK builds a server as ``McpServer.sync(transport).serverInfo("name", "1.0")`` and a
        client as ``McpClient.sync(transport).clientInfo(info)``: each is named by the ``Implementation``
        it declares, found at the line that writes that name."""
        kind = match.group(1)
        if kind in ("McpServer", "McpClient") and member in ("sync", "async"):
            server = kind == "McpServer"
            declared = self.declared_info(text, match.end(), self.SERVER_INFO if server else self.CLIENT_INFO)
            at = _line_at(text, declared[1]) if declared else line
            if server:
                name = declared[0] if declared else component_name_for(file.relpath)
                yield self.code_mcp_server(file, at, name.lower())
            else:  # nameless, after the SDK's Maven artifact (its registry entry names only the group)
                yield self.code_mcp_client(file, at, declared[0] if declared else JAVA_MCP_SDK)
            return
        yield from super().mcp_usage(file, text, match, member, line, package)

    def framework_tools(
        self, file: SourceFile, text: str, comments: set[int], packages: dict[str, Package]
    ) -> Iterator[Finding]:
        """``@Tool`` methods of LangChain4j and Spring AI: named ``@Tool(name = "x")``, else after the
        method (both frameworks' default); only when the file imports the framework's annotation."""
        imported = {
            self.TOOL_ANNOTATIONS[module]
            for module in self.TOOL_ANNOTATIONS
            if re.search(
                rf"^\s*import\s+{re.escape(module)}\.(?:Tool|McpTool|DefineKernelFunction|\*)\b",
                text,
                re.MULTILINE,
            )
        }
        framework = next((lookup_package("id", package_id) for package_id in sorted(imported)), None)
        seen: set[str] = set()
        yield from self.built_tools(file, text, comments, packages, seen)
        if framework is None:
            return
        for match in self.TOOL_ANNOTATION.finditer(text):
            line = _line_at(text, match.start())
            named = (self.KOOG_NAME if framework.id == "koog" else NAME_ARGUMENT).search(match.group(1) or "")
            rest = text[match.end() : match.end() + 400]
            rest = re.sub(r"@\w+(?:\([^)]*\))?", " ", rest)  # other annotations on the same method
            method = self.METHOD_AFTER_ANNOTATION.search(rest)
            name = (
                named.group(named.lastindex)
                if named
                else (method.group(1) or method.group(2))
                if method
                else None
            )
            if line in comments or not name or name.lower() in seen:
                continue
            seen.add(name.lower())
            yield self.located(
                file, line, "tool", name.lower(), framework.provider, metadata={"framework": framework.id}
            )

    def built_tools(
        self, file: SourceFile, text: str, comments: set[int], packages: dict[str, Package], seen: set[str]
    ) -> Iterator[Finding]:
        """Tools a JVM framework or LLM SDK builds in code rather than by annotation."""
        owners = {
            package_id: packages.get(package_id)
            for package_id in (
                "spring-ai",
                "langchain4j",
                "openai",
                "azure-openai",
                "anthropic",
                "koog",
                "google-adk",
            )
        }
        found: dict[str, list[tuple[int, str]]] = {}
        for match in self.BUILT_TOOL.finditer(text):
            # an MCP SDK's ``Tool.builder()`` is an MCP tool (``tool_patterns``); elsewhere Anthropic's
            candidates = self.BUILT_TOOL_OWNERS.get(
                match.lastindex, () if "mcp" in packages else ("anthropic",)
            )
            owner = next((package_id for package_id in candidates if owners[package_id]), None)
            if owner:
                found.setdefault(owner, []).append((match.start(), match.group(match.lastindex)))
        # a configuration class declaring function beans imports nothing of Spring AI itself: the build
        # file of its project says whether a chat client will offer them as tools
        if (
            "@Description" in text
            and "@Bean" in text
            and not owners["spring-ai"]
            and nearest_answer(file, _build_declares_spring_ai, False)
        ):
            owners["spring-ai"] = lookup_package("id", "spring-ai")
        if owners["spring-ai"] and "@Description" in text:
            found.setdefault("spring-ai", []).extend(
                (match.start(), match.group(1) or match.group(2))
                for match in self.FUNCTION_BEAN.finditer(text)
            )
        for owner, named in found.items():
            package = owners[owner]
            yield from self.named_tools(
                file, text, comments, sorted(named), package.provider, package.id, seen
            )

    def qualified_references(self, text: str) -> Iterator[Import]:
        """A class named by its fully qualified name in code (``: dev.langchain4j.spi.Foo {``) uses
        that package without importing it; package, import and comment lines do not count."""
        lines: list[str] = []
        for match in self.QUALIFIED.finditer(text):
            if not self.package_for(match.group(1)):
                continue
            lines = lines or text.splitlines()
            line = _line_at(text, match.start(1))
            if not lines[line - 1].lstrip().startswith(("package ", "import ", "//", "*", "/*")):
                yield Import(match.group(1), (), line)


RUBY_MANIFESTS = ("Gemfile", "*.gemspec")
MAX_NAMESPACE_FILES = 20


def registry_name_all(package_id: str, registry: str) -> list[str]:
    """Every spelling of a catalog package in one registry (``ruby-openai`` and ``openai`` on RubyGems)."""
    for entry in load_json("packages.json")["packages"]:
        if entry["id"] == package_id:
            names = entry.get(registry)
            return list(names) if isinstance(names, list) else [package_id]
    return [package_id]


@per_scan(stopped=None)
def ruby_namespace_owner(folder: str, constant: str, gems: tuple[str, ...], root: str) -> str | None:
    """From ``folder`` up to the scan root: no Gemfile or gemspec declares one of ``gems``, and the
    project's ``lib/<constant>.rb`` or ``lib/<constant>/*.rb`` (or the same beside a folder on the way)
    opens ``module <constant>`` / ``class <constant>`` itself. Then the namespace is the project's own:
    the gem a gemspec beside that ``lib`` publishes it as (the project is that SDK, its scripts use it
    as any user would), or ``""`` when none does (hand-written classes). None: the namespace is a gem's."""
    snake = snake_case(constant)
    opens = linear(rf"^\s*(?:module|class)\s+{re.escape(constant)}\b", re.MULTILINE)
    owner: str | None = None
    current = Path(folder)
    while True:
        if _manifests_declare(current, gems, root):
            return None
        if owner is None:
            for base in (current / "lib", current):
                candidates = [
                    base / f"{snake}.rb",
                    *sorted((base / snake).glob("*.rb"))[:MAX_NAMESPACE_FILES],
                ]
                if any((text := read_neighbour(path, root)) and opens.search(text) for path in candidates):
                    owner = _published_gem(current, root)
                    break
        if str(current) == root or len(str(current)) <= len(root):
            return owner
        current = current.parent


GEMSPEC_NAME = linear(r"""^\s*\w+\.name\s*=\s*["']([^"'\n]{1,100})["']""", re.MULTILINE)


def _published_gem(folder: Path, root: str) -> str:
    """The name a gemspec in ``folder`` gives the gem the folder's ``lib`` is published as, else ``""``."""
    for manifest in sorted(folder.glob("*.gemspec"))[:MAX_NAMESPACE_FILES]:
        text = read_neighbour(manifest, root)
        declared = GEMSPEC_NAME.search(text) if text else None
        if declared:
            return declared.group(1).strip()
    return ""


@per_scan(stopped=False)
def _manifests_declare(folder: Path, gems: tuple[str, ...], root: str) -> bool:
    """Whether a Gemfile or gemspec in ``folder`` declares one of ``gems`` (asked by every folder below)."""
    declares = linear(
        r"""^\s*(?:gem|spec\.add_(?:runtime_|development_)?dependency|s\.add_(?:runtime_)?dependency)"""
        r"""\s*\(?\s*["'](?:""" + "|".join(re.escape(g) for g in gems) + r""")["']""",
        re.MULTILINE,
    )
    for pattern in RUBY_MANIFESTS:
        for manifest in sorted(folder.glob(pattern))[:MAX_NAMESPACE_FILES]:
            text = read_neighbour(manifest, root)
            if text and declares.search(text):
                return True
    return False


class RubyDetector(_LanguageDetector):
    name = "ruby"
    extensions = (".rb",)
    ecosystem = "ruby"
    registry = "gem"
    separator = "/"
    comment_prefixes = ("#",)
    quick_tokens = ("require",)
    tool_patterns = (
        linear(r"""^[ \t]*tool_name\s*\(?\s*["']([^"'\n]{1,100})["']""", re.MULTILINE),
        linear(r"""\bMCP::Tool\.define\(\s*name:\s*["']([^"'\n]{1,100})["']"""),
        linear(r"""\.define_tool\(\s*name:\s*["']([^"'\n]{1,100})["']"""),
        # mcp-sdk.rb registers a tool as a block under its name: ``server.add_tool("add") do |params|``
        linear(r"""\.add_tool\(\s*["']([^"'\n]{1,100})["']"""),
        # model-context-protocol-rb: a ``ModelContextProtocol::Server::Tool`` subclass opens with its
        # ``with_metadata do { name: "x", ... } end``
        linear(
            r"""<\s*(?:::)?ModelContextProtocol::Server::Tool\s+with_metadata\s+do\s*\{\s*"""
            r"""name:\s*["']([^"'\n]{1,100})["']"""
        ),
        # mcp-rb's Sinatra-like DSL at the top level of a script: ``tool "greet" do``
        linear(r"""^tool\s+["']([^"'\n]{1,100})["']\s*(?:,|do\b)""", re.MULTILINE),
        # an anonymous fast-mcp tool names itself through the class name its ``tool_name`` defaults to:
        # ``Class.new(FastMcp::Tool) do`` opening with ``def self.name`` returning the name
        linear(
            r"""\bClass\.new\(\s*(?:::)?FastMcp::Tool\s*\)\s*do\s+def\s+self\.name\s+["']([^"'\n]{1,100})["']"""
        ),
    )
    # the official gem's client transport: ``MCP::Client::HTTP.new(url: "https://host/mcp")``
    remote_server_patterns = (
        linear(r"""\bMCP::Client::HTTP\.new\(\s*url:\s*["']((?:https?|wss?)://[^"'\s#]{1,200})["']"""),
    )
    # mcp-rb names the script's server at its top level: ``name "hello-world"``
    DSL_SERVER_NAME = linear(r"""^name\s+["']([^"'\n]{1,100})["']\s*$""", re.MULTILINE)
    # a tool class of the official gem (``< MCP::Tool``) or of fast-mcp (``< FastMcp::Tool``)
    TOOL_CLASS = linear(r"^[ \t]*class\s+((?:\w+::)*\w+)\s*<\s*(?:::)?(MCP|FastMcp)::Tool\b", re.MULTILINE)
    idiom_is_import = True  # Bundler.require (Rails) loads every gem: its constants need no require
    # model-context-protocol-rb: a tool class (``class X < …::Tool``, ``Class.new(…::Tool) do``) names
    # itself in its ``define do`` block (``name "double"``) or, in earlier releases, in its ``with_metadata``
    # hash (``name: "double"``); a server is configured in the block it is built with
    # (``Server.with_stdio_transport do |config| config.name = "x"``)
    MCPRB_TOOL_CLASS = linear(
        r"(?:^[ \t]*class\s+(?:\w+::)*\w+\s*<\s*|\bClass\.new\(\s*)"
        r"(?:::)?ModelContextProtocol::Server::Tool\b",
        re.MULTILINE,
    )
    MCPRB_TOOL_NAME = linear(r"""^[ \t]*name(?:\s+|\s*\(\s*|:\s*)["']([^"'\n]{1,100})["']""", re.MULTILINE)
    MCPRB_SERVER = linear(
        r"\bModelContextProtocol::Server\.(?:new|with_stdio_transport|with_streamable_http_transport)"
        r"\s*(?:\(\s*\))?\s*(?:do\s*\||\{\s*\|)\s*(\w+)\s*\|"
    )

    def mcp_tools(self, file: SourceFile, text: str, comments: set[int]) -> Iterator[Finding]:
        """Tools, and the server an mcp-rb script names at its top level (``name "x"`` beside its
        ``tool "y" do`` blocks), or a model-context-protocol-rb server its configuration block names."""
        yield from super().mcp_tools(file, text, comments)
        named = self.DSL_SERVER_NAME.search(text)
        if named and re.search(r"^tool\s", text, re.MULTILINE):
            line = _line_at(text, named.start())
            if line not in comments:
                yield self.code_mcp_server(file, line, named.group(1).lower())
        for match in self.MCPRB_SERVER.finditer(text) if "ModelContextProtocol::Server." in text else ():
            block = text[match.end() : match.end() + 600]
            configured = re.search(rf"""\b{match.group(1)}\.name\s*=\s*["']([^"'\n]{{1,100}})["']""", block)
            line = _line_at(text, match.end() + configured.start(1)) if configured else 0
            if configured and line not in comments:
                yield self.code_mcp_server(file, line, configured.group(1).lower())

    # ``class SampleTool < ApplicationTool``: a class on a base class of the project's own
    LOCAL_SUBCLASS = linear(r"^[ \t]*class\s+((?:\w+::)*\w+)\s*<\s*([A-Z]\w*)[ \t]*$", re.MULTILINE)

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        """Also a Rails app's fast-mcp tools, which subclass the app's own base tool class."""
        yield from super().detect(file, report)
        if "class " in file.text and "Tool" in file.text:
            yield from self.inherited_fast_mcp_tools(file, file.text)

    def inherited_fast_mcp_tools(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """``class SampleTool < ApplicationTool`` where the base class, in the file Rails autoloads it
        from beside this one (``application_tool.rb``), is fast-mcp's ``ActionTool::Base`` or
        ``FastMcp::Tool``: a tool fast-mcp names by its class name, as for a direct subclass. The base
        class itself is abstract, no tool."""
        comments: set[int] | None = None
        for match in self.LOCAL_SUBCLASS.finditer(text):
            base = match.group(2)
            neighbour = str(file.path.parent / f"{snake_case(base)}.rb")
            if neighbour == str(file.path) or base not in _fast_mcp_base_classes(
                neighbour, scan_root_of(file)
            ):
                continue
            if comments is None:
                comments = self.comment_lines(file.lines)
            line = _line_at(text, match.start())
            if line in comments:
                continue
            yield self.mcp_tool(file, match.group(1), line)

    def tool_names(self, text: str) -> Iterator[tuple[int, str]]:
        """``tool_name "x"``, ``MCP::Tool.define(name: "x")``, and a tool class that names itself nowhere:
        the official gem then names the tool after the class in snake_case, fast-mcp by the class's name
        as Ruby spells it (``SummarizeTool``)."""
        yield from super().tool_names(text)
        classes = list(self.MCPRB_TOOL_CLASS.finditer(text)) if "::Server::Tool" in text else []
        for index, match in enumerate(classes):
            end = classes[index + 1].start() if index + 1 < len(classes) else len(text)
            named = self.MCPRB_TOOL_NAME.search(text, match.end(), end)
            if named and "#{" not in named.group(1):  # ``"tool_#{i}"``: one of many a loop makes
                yield named.start(1), named.group(1)
        classes = list(self.TOOL_CLASS.finditer(text))
        for index, match in enumerate(classes):
            end = classes[index + 1].start() if index + 1 < len(classes) else len(text)
            if not re.search(r"^[ \t]*tool_name\b", text[match.end() : end], re.MULTILINE):
                written = match.group(1)
                yield (
                    match.start(1),
                    written if match.group(2) == "FastMcp" else snake_case(written.rsplit("::")[-1]),
                )

    # the MCP client gems: ruby_llm-mcp's ``RubyLLM::MCP.client(name: "x", config: {...})`` connects to one
    # server it names; ruby-mcp-client's ``MCPClient.create_client(mcp_server_configs: [...])`` to servers
    # each ``MCPClient.stdio_config(..., name: "x")`` (``sse_config``, ``http_config``) names
    CLIENT_GEMS = {"client": "ruby_llm-mcp", "create_client": "ruby-mcp-client"}
    SERVER_CONFIGS = frozenset({"stdio_config", "sse_config", "http_config", "streamable_http_config"})

    def mcp_usage(
        self,
        file: SourceFile,
        text: str,
        match: re.Match,
        member: str,
        line: int,
        package: Package | None = None,
    ):
        called = re.split(r"\.|::", member)[-1] if member else ""
        if (called == "client" and "MCP" in member) or called == "create_client":
            yield self.code_mcp_client(file, line, self.CLIENT_GEMS[called])
            if called == "client" and (server := self.mcp_server_name(text, match.end())):
                yield self.code_mcp_server(file, line, server)
            return
        if called in self.SERVER_CONFIGS:
            server = self.mcp_server_name(text, match.end())
            if server:
                yield self.code_mcp_server(file, line, server)
            return
        yield from super().mcp_usage(file, text, match, member, line, package)

    # langchainrb's store wrappers: ``Langchain::Vectorsearch::Qdrant.new(url: ...)``
    LANGCHAIN_STORE = linear(r"\bLangchain::Vectorsearch::(\w+)")

    def sdk_imports(self, text: str) -> list[tuple[Import, Package]]:
        """A langchainrb store wrapper is that store in use, as a LangChain wrapper import is elsewhere."""
        found = super().sdk_imports(text)
        langchain = next((imp for imp, package in found if package.id == "langchain"), None)
        if langchain is None:
            return found
        stores = patterns()["other_languages"]["framework_vector_store_paths"]
        comments = self.comment_lines(text.splitlines())
        seen: set[str] = set()
        for match in self.LANGCHAIN_STORE.finditer(text):
            store = lookup_package("id", stores.get(match.group(1).lower(), ""))
            line = _line_at(text, match.start())
            if store and store.id not in seen and line not in comments:
                seen.add(store.id)
                # known only as the framework is: an idiom of langchainrb's (Bundler.require) stays one
                bindings = ("Langchain",) if langchain.implied else ()
                found.append((Import(match.group(0), bindings, line, implied=langchain.implied), store))
        return found

    RUBY_LLM_TOOL = linear(r"^[ \t]*class\s+(?:\w+::)*(\w+)\s*<\s*(?:::)?RubyLLM::Tool\b", re.MULTILINE)

    LANGCHAIN_TOOL_CLASS = linear(
        r"^[ \t]*class\s+((?:\w+::)*\w+)[^\n]*\n(?:[^\n]*\n){0,5}?\s*extend\s+"
        r"(?:::)?Langchain::ToolDefinition\b",
        re.MULTILINE,
    )
    DEFINE_FUNCTION = linear(r"^[ \t]*define_function\s*\(?\s*:(\w+)", re.MULTILINE)

    def framework_tools(
        self, file: SourceFile, text: str, comments: set[int], packages: dict[str, Package]
    ) -> Iterator[Finding]:
        """RubyLLM: a ``RubyLLM::Tool`` subclass is a tool the gem names after the class in snake_case.
        langchainrb: each ``define_function :name`` of a class extending ``Langchain::ToolDefinition`` is
        a function the model calls as ``<class in snake_case>__<name>``."""
        ruby_llm = packages.get("ruby-llm")
        seen: set[str] = set()
        langchain = packages.get("langchain")
        classes = list(self.LANGCHAIN_TOOL_CLASS.finditer(text)) if langchain else []
        for index, match in enumerate(classes):
            end = classes[index + 1].start() if index + 1 < len(classes) else len(text)
            prefix = snake_case(match.group(1).replace("::", "_"))
            found = [
                (function.start(), f"{prefix}__{function.group(1)}")
                for function in self.DEFINE_FUNCTION.finditer(text, match.end(), end)
            ]
            yield from self.named_tools(file, text, comments, found, langchain.provider, langchain.id, seen)
        for match in self.RUBY_LLM_TOOL.finditer(text) if ruby_llm else ():
            line = _line_at(text, match.start())
            name = snake_case(match.group(1))
            if line not in comments and name not in seen:
                seen.add(name)
                yield self.located(
                    file, line, "tool", name, ruby_llm.provider, metadata={"framework": ruby_llm.id}
                )

    REQUIRE = linear(r"""^[ \t]*require\s*\(?\s*["']([^"']+)["']""", re.MULTILINE)
    # Rails and Bundler.require load gems without a require in the file; these constants are the gems'
    # own (group 1 is the binding their calls go through); ``OpenAI.configure do |config|`` is the gems'
    # set-up in a Rails initializer (``config/initializers/openai.rb``)
    api_signatures = (
        (linear(r"\b(OpenAI)(?:::Client\.new|\.configure)\b"), "openai"),
        (linear(r"\b(Anthropic)(?:::Client\.new|\.configure)\b"), "anthropic"),
        (linear(r"\b(RubyLLM)(?:\.(?:chat|configure|embed|paint)\b|::Tool\b)"), "ruby-llm"),
        (linear(r"\b(MCP)::(?:Server|Tool|\w{0,20}Client|Prompt|Resource)\b"), "mcp"),
        (linear(r"\b(ModelContextProtocol|ActionMCP)::(?:Server|Tool|Prompt|Resource)\b"), "mcp"),
        # fast-mcp's namespace: a Rails app (Bundler.require) or a spec (its spec_helper) uses
        # ``FastMcp::Server.new``, ``< FastMcp::Tool`` and ``FastMcp.mount_in_rails`` without a require
        (
            linear(
                r"\b(FastMcp)(?:::(?:Server|Tool|Resource)\b|\.(?:mount_in_rails|rack_middleware|authenticated_rack_middleware)\b)"
            ),
            "mcp",
        ),
        (linear(r"\b(Langchain)::(?:LLM|Assistant|Vectorsearch)::"), "langchain"),
    )

    def namespace_owner(self, file: SourceFile, imp: Import, package: Package) -> str | None:
        """Whose the constant an idiom uses is (``ruby_namespace_owner``); None: the gem's."""
        constant = imp.bindings[0] if imp.bindings else ""
        if not constant or not imp.implied:
            return None
        if imp.module.startswith("Langchain::"):  # a langchainrb store wrapper is the framework's constant
            package = lookup_package("id", "langchain") or package
        gems = tuple(registry_name_all(package.id, self.registry))
        return ruby_namespace_owner(str(file.path.parent), constant, gems, scan_root_of(file))

    def project_defines(self, file: SourceFile, imp: Import, package: Package) -> bool:
        """``MCP::Server.new`` in a project whose own ``lib/mcp/*.rb`` opens ``module MCP`` and whose
        Gemfile or gemspec declares no such gem: the project's own classes (a hand-written server), not
        the gem's. A constant is the gem's whenever a manifest declares the gem (Bundler.require, or a
        project that reopens the gem's module to extend it). A project that publishes that ``lib`` as a
        gem is an MCP SDK of its own: its scripts' servers, tools and clients are built with an SDK (an
        LLM SDK's own specs stay the project's code under test)."""
        owner = self.namespace_owner(file, imp, package)
        return owner == "" or (owner is not None and package.id not in MCP_PACKAGES)

    def own_sdks(self, file: SourceFile, sdk_imports: list[tuple[Import, Package]]) -> dict[str, str]:
        """Catalog ids of the SDKs whose namespace the project publishes itself, each with its gem."""
        owned = {
            package.id: self.namespace_owner(file, imp, package)
            for imp, package in sdk_imports
            if package.id in MCP_PACKAGES
        }
        return {package_id: gem for package_id, gem in owned.items() if gem}

    def own_package_ids(self, file: SourceFile, sdk_imports: list[tuple[Import, Package]]) -> frozenset[str]:
        return super().own_package_ids(file, sdk_imports) | frozenset(self.own_sdks(file, sdk_imports))

    def code_mcp_client(
        self, file: SourceFile, line: int, name: str | None, package: Package | None = None
    ) -> Finding:
        """A nameless client of the project's own SDK is named after the gem it publishes."""
        if name is None and package is not None:
            name = self.own_sdks(file, self.sdk_imports(file.text)).get(package.id)
        return super().code_mcp_client(file, line, name, package)

    def imports(self, text: str) -> Iterator[Import]:
        for match in self.REQUIRE.finditer(text):
            module = match.group(1)
            root = module.split("/")[0]
            constants = tuple(
                {
                    m.group(1)
                    for m in linear(r"\b([A-Z]\w*)(?:::|\.[a-z_])").finditer(text)  # MCPClient.create_client
                    if m.group(1).lower() == root.lower().replace("_", "")  # fast_mcp: FastMcp
                }
            )
            yield Import(module, constants, _line_at(text, match.start()))


class CSharpDetector(_LanguageDetector):
    name = "csharp"
    extensions = (".cs",)
    ecosystem = "csharp"
    registry = "nuget"
    quick_tokens = ("using",)
    USING = linear(r"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?([\w.]+)\s*;", re.MULTILINE)
    CLIENT = linear(r"\bnew\s+(\w*(?:Client|Kernel|Model)\w*)\s*[(<]|\b(Kernel)\.CreateBuilder\s*\(")
    # ``[McpServerTool]``, or ``[McpTool]`` as the SDK's first previews (0.1.0-preview.1) spelled it; an
    # attribute list may break over lines (``[KernelFunction,`` then ``Description("...")]``)
    TOOL_ATTRIBUTE = linear(r"\[Mcp(?:Server)?Tool\b([^\]]{0,200})\]")
    KERNEL_FUNCTION = linear(r"\[KernelFunction\b(\([^\]\n]{0,200}\))?[^\]]{0,200}\]")
    api_signatures = (
        (linear(r"\bKernel\.CreateBuilder\s*\(|\[KernelFunction\b|\bIKernelBuilder\b"), "semantic-kernel"),
        (linear(r"\.Add(?:AzureOpenAI|OpenAI)ChatCompletion\s*\("), "semantic-kernel"),
        (
            linear(
                r"\.AddMcpServer\s*\(|\[Mcp(?:Server)?Tool(?:Type)?\b|\[McpToolTrigger\("
                r"|\bMcpClientFactory\.CreateAsync\s*\("
            ),
            "mcp",
        ),
        # a project's ``global using Microsoft.Extensions.AI;`` leaves its other files without a using
        (linear(r"\bAIFunctionFactory\.Create\s*\("), "microsoft-extensions-ai"),
        (linear(r"\bnew\s+KernelMemoryBuilder\s*\("), "kernel-memory"),
    )
    # Azure Functions' MCP extension serves a function as a tool through its trigger binding:
    # ``[McpToolTrigger(nameof(GetWeather), "description")]`` or ``[McpToolTrigger("get_weather", ...)]``
    TOOL_TRIGGER = linear(r'\[McpToolTrigger\(\s*(?:nameof\(\s*(\w+)\s*\)|"([^"\n]{1,100})")')

    # the C# SDK's client transports reaching a server at a URL:
    # ``new SseClientTransport(new SseClientTransportOptions { Endpoint = new Uri("https://host/sse") })``,
    # ``HttpClientTransportOptions`` in later versions (``new("...")`` for the ``Uri`` too)
    remote_server_patterns = (
        linear(
            r"\b(?:Sse|Http)ClientTransportOptions\s*(?:\(\s*\))?\s*\{[^{}]{0,300}?\bEndpoint\s*=\s*"
            r'new(?:\s+Uri)?\s*\(\s*"((?:https?|wss?)://[^"\s]{1,200})"'
        ),
    )

    def reached_servers(self, file: SourceFile, text: str, comments: set[int]) -> Iterator[Finding]:
        """Only transports whose options name no server: with ``Name = "x"`` in the same initializer the
        server is a declared one, already reported under that name with its URL."""
        from common.scanner.detectors.mcp_config import reached_server

        for pattern in self.remote_server_patterns:
            for match in pattern.finditer(text):
                options = text[match.start() : match.start() + 800].split("}", 1)[0]
                line = _line_at(text, match.start())
                if line in comments or re.search(r"\bName\s*=", options):
                    continue
                if found := reached_server(self, file, line, match.group(1)):
                    yield found

    # a tool built in code rather than by attribute: ``McpServerTool.Create(fn, new() { Name = "x" })``
    CREATED_TOOL = linear(r'\bMcpServerTool\.Create\([^;]{0,400}?\bName\s*=\s*"([^"\n]{1,100})"')

    # the attribute lists that may follow a tool's own (``[Description("…")]`` on a line of its own,
    # ``[return: Description(…)]``): the method they all sit on comes after the last of them
    FOLLOWING_ATTRIBUTES = linear(r"(?:\s*\[[^\]\n]{0,400}\])*")

    # a method returning ``Task``/``ValueTask`` (``async Task<string> GetAsync(``) is asynchronous
    ASYNC_RETURN = linear(r"\b(?:Value)?Task\b")

    def attributed_method(self, text: str, end: int) -> str | None:
        """The function name the SDK gives the method declared after the attribute list ending at ``end``
        (past any other attribute lists): Semantic Kernel and Microsoft.Extensions.AI (under the MCP SDK)
        drop the ``Async`` of an asynchronous method's name (``GetForecastAsync`` is ``GetForecast``)."""
        after = self.FOLLOWING_ATTRIBUTES.match(text, end, end + 2000).end()
        method = re.search(r"\b(\w+)\s*\(", text[after : after + 400])
        if not method:
            return None
        name = method.group(1)
        if (
            name.endswith("Async")
            and name != "Async"
            and self.ASYNC_RETURN.search(method.string, 0, method.start())
        ):
            return name[: -len("Async")]
        return name

    def tool_names(self, text: str) -> Iterator[tuple[int, str]]:
        """``[McpServerTool(Name = "x")]``, or the method the bare attribute sits on; a tool
        ``McpServerTool.Create`` builds, by the ``Name`` its options give; an Azure Functions tool trigger."""
        for match in self.CREATED_TOOL.finditer(text):
            yield match.start(), match.group(1)
        for match in self.TOOL_TRIGGER.finditer(text):
            yield match.start(), match.group(1) or match.group(2)
        for match in self.TOOL_ATTRIBUTE.finditer(text):
            named = re.search(r'\bName\s*=\s*"([^"]{1,100})"', match.group(1))
            if named:
                yield match.start(), named.group(1)
                continue
            method = self.attributed_method(text, match.end())
            if method:  # the C# SDK names a tool after its method in snake_case
                yield match.start(), snake_case(method)

    # ``namespace Contoso.OpenAI.Chat;`` or ``namespace Contoso.OpenAI.Chat {``
    NAMESPACE = linear(r"^\s*namespace\s+(\w+(?:\.\w+)+)\s*[;{]?\s*$", re.MULTILINE)

    def imports(self, text: str) -> Iterator[Import]:
        """The file's usings, but not those inside a namespace the file declares itself
        (``namespace Anthropic.Tools;`` with ``using Anthropic.Tools.Models;`` is the project's own code,
        named after the vendor it wraps, not the vendor's SDK)."""
        own = (
            tuple(f"{match.group(1)}." for match in self.NAMESPACE.finditer(text))
            if "namespace" in text
            else ()
        )
        for match in self.USING.finditer(text):
            if not f"{match.group(1)}.".startswith(own):
                yield Import(match.group(1), (), _line_at(text, match.start()))

    ADD_MCP_SERVER = linear(r"\.AddMcpServer\s*\(")
    CREATE_MCP_CLIENT = linear(r"\b(?:McpClientFactory|McpClient)\.CreateAsync\s*\(")
    CLIENT_INFO = linear(r'\bClientInfo\s*=\s*new[^{;]{0,40}\{[^}]{0,200}\bName\s*=\s*"([^"\n]{1,100})"')
    # ``options.ServerInfo = new Implementation { Name = "x", ... }`` in options too long to read whole
    SERVER_INFO = linear(r'\bServerInfo\s*=\s*new[^{;]{0,40}\{[^}]{0,200}\bName\s*=\s*"([^"\n]{1,100})"')

    # the ModelContextProtocol-SemanticKernel package connects a kernel to an MCP server and imports its
    # tools as kernel functions: ``kernel.Plugins.AddMcpFunctionsFromStdioServerAsync("name", ...)`` (also
    # SSE and Streamable HTTP); the client is that package
    KERNEL_MCP_FUNCTIONS = linear(r"\.AddMcpFunctionsFrom(?:Stdio|Sse|StreamableHttp)ServerAsync\s*[(<]")
    KERNEL_MCP_PACKAGE = "ModelContextProtocol-SemanticKernel"

    def mcp_tools(self, file: SourceFile, text: str, comments: set[int]) -> Iterator[Finding]:
        """Tools, and the server that ``services.AddMcpServer()`` hosts: named by its ``ServerInfo``
        ``Name``, else (as the SDK does) after the assembly of the project the file belongs to; the
        client a kernel connects with through ``AddMcpFunctionsFrom…ServerAsync``."""
        yield from super().mcp_tools(file, text, comments)
        for match in self.KERNEL_MCP_FUNCTIONS.finditer(text):
            line = _line_at(text, match.start())
            if line not in comments:
                yield self.code_mcp_client(file, line, self.KERNEL_MCP_PACKAGE)
        for match in self.ADD_MCP_SERVER.finditer(text):
            line = _line_at(text, match.start())
            if line in comments:
                continue
            # only the call's own options name the server: a tool attribute after a bare
            # ``AddMcpServer()`` (``[McpServerTool(Name = "x")]``) names a tool
            options = ",".join(self.call_arguments(text, match.end(), 400))
            named = re.search(r'\bName\s*=\s*"([^"\n]{1,100})"', options) or (
                None if options else self.SERVER_INFO.search(text[match.end() : match.end() + 1500])
            )
            name = (
                named.group(1) if named else project_assembly_name(file) or component_name_for(file.relpath)
            )
            yield self.code_mcp_server(file, line, name.lower())
        for match in self.CREATE_MCP_CLIENT.finditer(text):
            line = _line_at(text, match.start())
            if line not in comments:
                named = self.CLIENT_INFO.search(text)
                sdk = lookup_package(
                    "id", "mcp"
                )  # nameless, the client is named after the SDK's NuGet package
                yield self.code_mcp_client(file, line, named.group(1) if named else None, sdk)

    AI_FUNCTION = linear(r"\bAIFunctionFactory\.Create\(")
    # the OpenAI .NET SDK's ``ChatTool.CreateFunctionTool(functionName: "x", ...)``; Azure.AI.OpenAI 1.x's
    # ``new FunctionDefinition("x")`` / ``new ChatCompletionsFunctionToolDefinition { Name = "x" }``
    OPENAI_FUNCTION_TOOL = linear(
        r'\bChatTool\.CreateFunctionTool\(\s*(?:functionName\s*:\s*)?"([^"\n]{1,100})"'
        r"|\bnew\s+(?:ChatCompletionsFunctionToolDefinition|FunctionDefinition)\s*"
        r'(?:\(\s*"([^"\n]{1,100})"|(?:\(\s*\))?\s*\{[^{}]{0,200}?\bName\s*=\s*"([^"\n]{1,100})")'
    )

    # Azure AI Agents' ``new FunctionToolDefinition("x", "description")`` (or target-typed,
    # ``FunctionToolDefinition tool = new(name: "x", ...)``)
    AZURE_FUNCTION_TOOL = linear(
        r'(?:\bnew\s+FunctionToolDefinition|\bFunctionToolDefinition\s+\w+\s*=\s*new)\s*\(\s*(?:name\s*:\s*)?"([^"\n]{1,100})"'
    )
    # Semantic Kernel's native function built from a delegate: ``KernelFunctionFactory.CreateFromMethod(fn,
    # "name")`` / ``functionName: "name"`` (``kernel.CreateFunctionFromMethod`` alike), a function the model
    # may call once its plugin is on the kernel
    KERNEL_METHOD_FUNCTION = linear(
        r"\b(?:KernelFunctionFactory\.CreateFromMethod|\.CreateFunctionFromMethod)\("
    )

    @staticmethod
    def call_arguments(text: str, start: int, limit: int = 600) -> list[str]:
        """The top-level arguments of the call whose ``(`` ends just before ``start``."""
        return leading_arguments(text, start, wanted=limit, limit=limit, whole=True)

    def ai_function_name(self, text: str, start: int) -> str | None:
        """Microsoft.Extensions.AI names a function ``AIFunctionFactory.Create(fn, "name", ...)`` or
        ``name: "x"``; a method group (``Create(GetTime)``) is named after its method."""
        arguments = self.call_arguments(text, start)
        for index, argument in enumerate(arguments[1:], start=1):
            named = re.fullmatch(r'(name\s*:\s*)?"([^"\n]{1,100})"', argument)
            if named and (named.group(1) or index == 1):
                return named.group(2)
        return self.method_group_name(text, arguments[0]) if arguments else None

    @staticmethod
    def method_group_name(text: str, argument: str) -> str | None:
        """The method a method group (``Create(GetTime)``, ``this.GetTime``) names; none when the file
        declares that member as a delegate property or field (``Delegate Handler { get; init; }``): the
        function wraps whatever delegate the member holds, so the member's name is not the function's
        (Semantic Kernel's MCP sample invokes a resource handler this way, no tool)."""
        method = re.fullmatch(r"(?:\w+\.)*([A-Z]\w*)", argument)
        if method is None:
            return None
        name = method.group(1)
        if "Delegate" in text or "Func<" in text or "Action" in text or "{ get" in text:
            declared = re.search(
                rf"\b(?:Delegate|Func<[^;{{}}]*>|Action(?:<[^;{{}}]*>)?)\??\s+{name}\s*[;={{]"
                rf"|\b{name}\s*\{{\s*(?:get|init|set)\b",
                text,
            )
            if declared:
                return None
        return name

    def framework_tools(
        self, file: SourceFile, text: str, comments: set[int], packages: dict[str, Package]
    ) -> Iterator[Finding]:
        """Semantic Kernel: a ``[KernelFunction]`` method is a function the model may call, named
        ``[KernelFunction("name")]`` or after the method. Microsoft.Extensions.AI: the functions
        ``AIFunctionFactory.Create`` makes."""
        seen: set[str] = set()
        openai = packages.get("openai") or packages.get("azure-openai")
        found = (
            [(m.start(), m.group(m.lastindex)) for m in self.OPENAI_FUNCTION_TOOL.finditer(text)]
            if openai
            else []
        )
        yield from self.named_tools(
            file, text, comments, found, openai.provider if openai else "", openai.id if openai else "", seen
        )
        azure_agents = packages.get("azure-ai-projects")
        if azure_agents and "FunctionToolDefinition" in text:
            found = [(m.start(), m.group(1)) for m in self.AZURE_FUNCTION_TOOL.finditer(text)]
            yield from self.named_tools(
                file, text, comments, found, azure_agents.provider, azure_agents.id, seen
            )
        extensions_ai = packages.get("microsoft-extensions-ai")
        for match in self.AI_FUNCTION.finditer(text) if extensions_ai else ():
            line = _line_at(text, match.start())
            name = self.ai_function_name(text, match.end())
            if line in comments or not name or name.lower() in seen:
                continue
            seen.add(name.lower())
            yield self.located(
                file,
                line,
                "tool",
                name.lower(),
                extensions_ai.provider,
                metadata={"framework": extensions_ai.id},
            )
        kernel = packages.get("semantic-kernel")
        if kernel is None:
            return
        found = []
        for match in self.KERNEL_METHOD_FUNCTION.finditer(text):
            arguments = self.call_arguments(text, match.end())
            for index, argument in enumerate(arguments[1:], start=1):
                named = re.fullmatch(r'(functionName\s*:\s*)?"([^"\n]{1,100})"', argument)
                if named and (named.group(1) or index == 1):
                    found.append((match.start(), named.group(2)))
                    break
            else:  # unnamed, a method group (``CreateFromMethod(GetTime)``) is named after its method
                method = self.method_group_name(text, arguments[0]) if arguments else None
                if method:
                    found.append((match.start(), method))
        yield from self.named_tools(file, text, comments, found, kernel.provider, kernel.id, seen)
        for match in self.KERNEL_FUNCTION.finditer(text):
            line = _line_at(text, match.start())
            named = re.match(r'\(\s*"([^"]{1,100})"', match.group(1) or "")
            name = named.group(1) if named else self.attributed_method(text, match.end())
            if line in comments or not name or name.lower() in seen:
                continue
            seen.add(name.lower())
            yield self.located(
                file, line, "tool", name.lower(), kernel.provider, metadata={"framework": kernel.id}
            )

    def usages(self, file: SourceFile, text: str, bindings: dict[str, Package], comments: set[int]):
        sdk_imports = self.sdk_imports(text)
        primary = next((p for _, p in sdk_imports if p.type == "llm_provider"), sdk_imports[0][1])
        seen = 0
        for match in self.CLIENT.finditer(text):
            line = _line_at(text, match.start())
            if line not in comments and seen < MAX_USAGE_LOCATIONS:
                seen += 1
                yield self.finding(file, primary, line)


# blanks, not line breaks, before a key: a key on a line of its own starts at '^', and '^\s*' ran from every
# line of a run of empty lines to the run's end
OBJECT_KEY = lazy_re(
    r"""(?:^|[{,])[ \t]*["']?([A-Za-z_$][\w$-]*)["']?\s*:\s*([\w$]+)\s*(?=[,}]|$)""", re.MULTILINE
)


@lru_cache(maxsize=4)
def _object_keys(text: str) -> dict[str, str]:
    """The first object key each variable is held under (``{ weather: weatherTool }``), found in one pass
    per file instead of one search of the whole file per tool (a file of thousands was quadratic)."""
    keys: dict[str, str] = {}
    for match in OBJECT_KEY.finditer(text):
        keys.setdefault(match.group(2), match.group(1))
    return keys


IMPLEMENTATION_ASSIGNMENT = linear(
    r'\b([A-Za-z_][\w.]{0,199})\s*=\s*new\s+(?:McpSchema\.)?Implementation\(\s*"([^"\n]{1,100})"'
)
_NO_IMPLEMENTATIONS: tuple[list[int], list[str], list[int]] = ([], [], [])


@lru_cache(maxsize=4)
def _implementations_by_variable(text: str) -> dict[str, tuple[list[int], list[str], list[int]]]:
    """Every ``variable = new Implementation("name", …)`` of ``text`` in one pass, under the assigned
    name and each of its dotted tails (``this.info`` is also ``info``): one search per variable was
    quadratic in a file of thousands of servers each handed its own variable."""
    found: dict[str, tuple[list[int], list[str], list[int]]] = {}
    for match in IMPLEMENTATION_ASSIGNMENT.finditer(text):
        parts = match.group(1).split(".")
        for index in range(len(parts)):
            ends, names, offsets = found.setdefault(".".join(parts[index:]), ([], [], []))
            ends.append(match.end())
            names.append(match.group(2))
            offsets.append(match.start(2))
    return found


def _implementations(text: str, variable: str) -> tuple[list[int], list[str], list[int]]:
    """(end offsets, names, offsets of the names) of every ``variable = new Implementation("name", …)`` in
    ``text``: found once per file, not again before each server or client (a file of thousands was
    quadratic)."""
    return _implementations_by_variable(text).get(variable, _NO_IMPLEMENTATIONS)


ASSEMBLY_NAME = lazy_re(r"<AssemblyName>\s*([^<\s][^<]{0,99}?)\s*</AssemblyName>")


def project_assembly_name(file: SourceFile) -> str | None:
    """The assembly name of the nearest ``.csproj`` at or above the file inside the scan root: its
    ``<AssemblyName>``, else the project file's name (MSBuild's default). The C# MCP SDK names an
    unnamed server after it."""
    depth = file.relpath.count("/")
    folder = file.path.parent
    root = scan_root_of(file)
    for _ in range(depth + 1):
        projects = _projects_in(folder, root)
        if projects is not None:
            return projects[0]
        folder = folder.parent
    return None


@per_scan(stopped=(None,))
def _projects_in(folder: Path, root: str) -> tuple[str | None] | None:
    """(assembly name,) of the one ``.csproj`` in ``folder``, (None,) for several (which one builds the
    file is not known here), None for none."""
    projects = sorted(folder.glob("*.csproj"))
    if len(projects) != 1:
        return (None,) if projects else None
    text = read_neighbour(projects[0], root)
    declared = ASSEMBLY_NAME.search(text) if text is not None else None
    return (declared.group(1) if declared else projects[0].stem,)


class RustDetector(_LanguageDetector):
    name = "rust"
    extensions = (".rs",)
    ecosystem = "rust"
    registry = "cargo"
    separator = "::"
    # ``# ..`` never starts a Rust line (attributes are ``#[``/``#!``): it is a comment of the TOML, YAML
    # or shell text a raw string holds (a config template the program writes out)
    comment_prefixes = ("//", "/*", "*", "# ", "#\t", "##")
    quick_tokens = ("use ", "extern crate", "::")
    # rmcp's client transports reaching a written address: ``StreamableHttpClientTransport::from_uri(url)``,
    # ``SseClientTransport::start(url)``
    remote_server_patterns = (
        linear(
            r"\b(?:StreamableHttpClientTransport::from_uri|SseClientTransport::start)\(\s*"
            r'"((?:https?|wss?)://[^"\s]{1,200})"'
        ),
    )
    USE = linear(r"^\s*(?:pub\s+)?use\s+(\w+)((?:::[^;]*)?);", re.MULTILINE)
    # ``#[tool]``, ``#[tool(..)]``, also by path (``#[rmcp::tool(..)]``, ``#[swiftide::tool(..)]``)
    TOOL_ATTRIBUTE = linear(r"#\[(?:\w+::){0,3}tool(\(|\])")
    # rmcp's ``#[tool(...)]`` forms that mark no tool: the impl block (``tool_box``) and a parameter
    # (``param``, ``aggr``)
    TOOL_MARKERS = frozenset({"tool_box", "param", "aggr"})
    # the method a tool attribute stands on: further attributes, comments and qualifiers, then ``fn name``
    ATTRIBUTED_FN = linear(
        r"^(?:\s+|#\[[^\]]{0,400}\]|//[^\n]{0,500})*"
        r"(?:pub(?:\([\w:\s]{0,40}\))?\s+)?(?:(?:async|const|unsafe)\s+)*fn\s+(\w+)"
    )
    TOOL_NAME_ARGUMENT = linear(r'\bname\s*=\s*"([^"]{1,100})"')
    # an attribute's nested arguments (swiftide's ``param(name = "pattern", ..)``): a parameter's name,
    # not the tool's
    NESTED_ARGUMENTS = linear(r"\w+\s*\([^()]*\)")
    # the name a program gives itself: rmcp's ``Implementation { name: "x", .. }`` (server or client by the
    # field it fills), and the ``ServerInfo { name: .. }`` / ``ClientInfo { name: .. }`` literals of SDKs
    # that name each side by its own type (ultrafast-mcp, mcp-protocol-sdk); rmcp's ``ServerInfo`` holds
    # its name one level down, in its ``Implementation``
    SERVER_INFO = linear(
        r'\b(Implementation|ServerInfo|ClientInfo)\s*\{[^{}]{0,300}\bname:\s*"([^"\n]{1,100})"'
    )
    # a server named where it is built: modelcontextprotocol-server's ``ServerBuilder::new("docs", ver)``,
    # ultrafast-mcp's ``UltraFastServer::new("name")``, mcp-protocol-server's ``McpServerBuilder``
    # (pmcp's ``Server::builder().name("x")``)
    SERVER_BUILDER = linear(
        r'\b(?:\w*Server(?:Builder)?)::(?:new|builder)\((?:\s*"([^"\n]{1,100})"'
        r'(?:\.(?:to_string|to_owned|into)\(\))?\s*[,)]|\)\s*\.name\(\s*"([^"\n]{1,100})")'
    )
    # rust-mcp-sdk: ``#[mcp_tool(name = "say_hello", description = "..")] struct SayHelloTool``
    MCP_TOOL_MACRO = linear(r"#\[(?:\w+::)*mcp_tool\(([^\]]{0,600})\)\]")
    # the SDK's own tool type, filled in by hand: ``Tool { name: "search_docs".to_string(), description:
    # .., input_schema: json!(..) }``, ``Tool::new("echo", "Echo back the input", ..)``
    # (an owned name: ``Tool::new("echo".to_string(), ..)``)
    TOOL_LITERAL = linear(
        r'\bTool\s*\{\s*name\s*:\s*"([^"\n]{1,100})"'
        r'|\bTool::new\(\s*"([^"\n]{1,100})"(?:\.(?:to_string|to_owned|into)\(\))?\s*,'
    )

    # a tool list built through a helper that wraps the SDK's ``Tool::new``: ``tool("plan", "Compute
    # plan.", schema, true)``, named and described by its first two arguments (a call handing a tool its
    # arguments, ``call_tool("x", json!(..))``, has no description string)
    TOOL_HELPER_CALL = linear(
        r'(?:^|[^\w.:])(?:make_|build_|new_|define_|create_|mk_)?tool\(\s*"([A-Za-z][\w.-]{0,99})"\s*,\s*r?#*"'
    )

    # a server's builder or registry handed a tool under a written name: pmcp's ``.tool("write_file",
    # WriteFileTool)``, prism-mcp-rs's ``server.add_tool("write_file", Some("…"), schema, Handler)``
    TOOL_REGISTRATION = linear(r'\.(?:add_)?tool\(\s*"([A-Za-z][\w.-]{0,99})"\s*,\s*(?:Some\(|[A-Z])')

    def tool_names(self, text: str) -> Iterator[tuple[int, str]]:
        """rmcp: a method under ``#[tool(name = "x", ...)]`` is the tool ``x``, else the method's own
        name; ``#[tool(tool_box)]`` on an impl block and ``#[tool(param)]``/``#[tool(aggr)]`` on a
        parameter declare none (the method after them is not a tool)."""
        for match in self.TOOL_REGISTRATION.finditer(text) if "tool(" in text else ():
            yield match.start(), match.group(1)
        for match in self.TOOL_ATTRIBUTE.finditer(text):
            window = text[match.start() : match.start() + 1500]
            opened = match.end() - match.start()
            if match.group(1) == "]":
                arguments, end = "", opened
            else:
                close = window.find(")]")
                if close < 0:
                    continue
                arguments, end = window[opened:close], close + 2
            if arguments.strip() in self.TOOL_MARKERS:
                continue
            function = self.ATTRIBUTED_FN.match(window[end:])
            if function is None:
                continue
            named = self.TOOL_NAME_ARGUMENT.search(self.NESTED_ARGUMENTS.sub("", arguments))
            yield match.start(), named.group(1) if named else function.group(1)
        for match in self.TOOL_LITERAL.finditer(text):
            yield match.start(), match.group(1) or match.group(2)
        if "Tool" in text:  # the SDK's ``Tool`` built by a helper of the file's crate
            for match in self.TOOL_HELPER_CALL.finditer(text):
                yield match.start(), match.group(1)
        for match in self.MCP_TOOL_MACRO.finditer(text):
            named = self.TOOL_NAME_ARGUMENT.search(match.group(1))
            if named:
                yield match.start(), named.group(1)

    # rmcp: the type that serves MCP requests (``#[tool_handler] impl ServerHandler for Counter``), also
    # a generic one (``impl<DS: DataService> ServerHandler for GenericService<DS>``)
    SERVER_HANDLER = linear(r"\bimpl\s*(?:<[^{};]{0,200}>\s*)?(?:[\w:]+::)?ServerHandler\s+for\s+\w+")
    # ``().serve(transport)``, also through a type-erased service (``().into_dyn().serve(..)``); a
    # handler served over a client transport (``handler.serve(TokioChildProcess::new(..))``,
    # ``.serve(client_transport)``); or the client's own info served (``ClientInfo::default()`` or a
    # literal, rmcp's alias ``InitializeRequestParam``); rust-mcp-sdk's
    # ``client_runtime::create_client(details, transport, h)``
    CLIENT_CONNECT = linear(
        r"(?:^|[^\w>)\]])\(\)\s*(?:\.into_dyn\(\)\s*)?\.serve\s*\(|\bserve_client\s*\("
        r"|\.serve\s*\(\s*(?:TokioChildProcess\b|\w*client_transport\b)"
        r"|\b(?:ClientInfo|InitializeRequestParam)\s*(?:\{|::(?:default|new)\s*\()"
        r"|\bclient_runtime::create_client\s*\("
    )
    # rmcp: a type the file makes an MCP client of (``impl ClientHandler for SamplingDemoClient``); it
    # connects where the file serves it
    CLIENT_HANDLER = linear(r"\bimpl\s*(?:<[^{};]{0,200}>\s*)?(?:[\w:]+::)?ClientHandler\s+for\s+\w+")
    TEST_ATTRIBUTE = linear(r"#\[(?:\w+::)*test\b")
    SERVES = linear(
        r"\.serve(?:_with_ct)?\s*\(|\bserve_client(?:_with_ct)?\s*\(|\bclient_runtime::create_client\s*\("
    )

    def mcp_tools(self, file: SourceFile, text: str, comments: set[int]) -> Iterator[Finding]:
        yield from super().mcp_tools(file, text, comments)
        client_names: dict[str, int] = {}  # each client the file declares, at its first line
        named_server = False
        for match in self.SERVER_INFO.finditer(text):
            line = _line_at(text, match.start(2))
            if line in comments:
                continue
            if match.group(1) == "ClientInfo" or (
                match.group(1) == "Implementation"
                and re.search(
                    r"\bClientInfo\b|client_info\s*:", text[max(0, match.start() - 200) : match.start()]
                )
            ):
                client_names.setdefault(match.group(2), line)
                continue
            named_server = True
            yield self.code_mcp_server(file, line, match.group(2).lower())
        for match in self.SERVER_BUILDER.finditer(text) if not named_server else ():
            line = _line_at(text, match.start(match.lastindex))
            if line not in comments:
                named_server = True
                yield self.code_mcp_server(file, line, match.group(match.lastindex).lower())
                break
        handler = next(
            (m for m in self.SERVER_HANDLER.finditer(text) if _line_at(text, m.start()) not in comments), None
        )
        if handler and not named_server:  # rmcp's default ServerInfo names the server after its crate
            name = crate_name(file) or component_name_for(file.relpath)
            yield self.code_mcp_server(file, _line_at(text, handler.start()), name.lower())
        connect = next(
            (m for m in self.CLIENT_CONNECT.finditer(text) if _line_at(text, m.start()) not in comments), None
        )
        serves = self.SERVES.search(text)
        if connect and not serves and self.TEST_ATTRIBUTE.search(text):
            connect = None  # a client's info a test only builds (to serialise it) connects nothing
        if not connect and serves:
            connect = next(
                (m for m in self.CLIENT_HANDLER.finditer(text) if _line_at(text, m.start()) not in comments),
                None,
            )
        if connect and client_names:
            for name, line in client_names.items():
                yield self.code_mcp_client(file, line, name)
        elif connect:
            sdk = next((p for _, p in self.sdk_imports(text) if p.provider == MCP_PROVIDER), None)
            yield self.code_mcp_client(file, _line_at(text, connect.start()), None, sdk)

    extra_verbs = ("agent",)  # rig: ``client.agent("gpt-4o")`` builds an agent on that model
    # a request or model type built from the model id first: ollama-rs ``GenerationRequest::new("llama3",
    # prompt)``, ``ChatMessageRequest::new(..)``, mistral.rs ``TextModelBuilder::new("org/name")``
    MODEL_CONSTRUCTOR = linear(
        r"\b(\w*(?:Request|Model|ModelBuilder|Args))::(?:new|builder|from)\(\s*\"([A-Za-z][\w./:-]{1,100})\""
    )

    INSTANCE = linear(r"\blet\s+(?:mut\s+)?(\w+)\s*(?::\s*[\w:<>]+\s*)?=\s*(\w+)\s*(?:::|\{)")

    def call_bindings(self, text: str, sdk_imports) -> set[str]:
        """Imported types, and the variables bound to one (``let client = Client::default();``): Rust
        calls a client's methods through the variable."""
        bound = super().call_bindings(text, sdk_imports)
        return bound | {m.group(1) for m in self.INSTANCE.finditer(text) if m.group(2) in bound}

    def sdk_call_models(
        self, file: SourceFile, text: str, comments: set[int], reported: set[tuple[int, str]], sdk_imports
    ) -> Iterator[Finding]:
        yield from super().sdk_call_models(file, text, comments, reported, sdk_imports)
        bound = {b for imp, _ in sdk_imports for b in imp.bindings}
        for match in self.MODEL_CONSTRUCTOR.finditer(text):
            if match.group(1) not in bound or not match_model(match.group(2)):
                continue
            line = _line_at(text, match.start(2))
            found = model_finding(match.group(2), line, strong=False, hf_context=False)
            if found and line not in comments and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found)

    # a constant or enum variant and the path it is reached through:
    # ``anthropic::completion::CLAUDE_4_SONNET``, ``ClaudeModel::Claude35Sonnet20240620``
    PATH_CONSTANT = linear(r"\b((?:\w+::){0,6})([A-Z]\w{0,80})\b")
    # a preset constructor on its type: kalosm's ``LlamaSource::llama_3_1_8b_chat()``, ``Llama::new_chat()``
    PRESET_CALL = linear(r"\b((?:\w+::){1,6})([a-z]\w{0,80})\(\s*\)")

    def sdk_model_constants(
        self, file: SourceFile, text: str, comments: set[int], reported: set[tuple[int, str]]
    ) -> Iterator[Finding]:
        """An SDK's model constants and enum variants whose names may not spell their id (rig's
        ``anthropic::CLAUDE_3_5_SONNET`` is ``claude-3-5-sonnet-latest``, openai-api-rs' ``GPT4_O`` is
        ``gpt-4o``): looked up in the SDK's own table through the module or enum on their path
        (``anthropic::completion::``, ``Model::``), another path, or as a bare name the file imports from
        that SDK."""
        yield from super().sdk_model_constants(file, text, comments, reported)
        tables = []
        for imp, package in self.sdk_imports(text):
            modules, unique = sdk_constant_table(package.id)
            if modules:
                tables.append((modules, unique, set(imp.bindings)))
        bare_names = {name for _, _, bindings in tables for name in bindings}
        matches = chain(self.PATH_CONSTANT.finditer(text), self.PRESET_CALL.finditer(text)) if tables else ()
        for match in matches:
            path, name = match.group(1).split("::")[:-1], match.group(2)
            if not path and name not in bare_names:
                continue
            value = None
            for modules, unique, imported in tables:
                module = next((part for part in reversed(path) if part in modules), None)
                value = modules[module].get(name) if module else None
                # a preset's lowercase name (``v2``, ``base``) only counts on its own type
                if value is None and (path or name in imported) and name[0].isupper():
                    value = unique.get(name)
                if value:
                    break
            if value is None:
                continue
            line = _line_at(text, match.start())
            # the SDK's own table says the value is a model id, also where it is a bare repository name
            found = model_finding(value, line, strong=False, hf_context=True)
            if found and line not in comments and (line, found[0]) not in reported:
                reported.add((line, found[0]))
                yield self.model_at(file, line, found, resolved_from=match.group(0))

    GENAI_TOOL = linear(r'\bTool::new\(\s*"([^"\n]{1,100})"\s*\)')
    EXTERN = linear(r"^\s*extern\s+crate\s+(\w+)", re.MULTILINE)
    RIG_TOOL_IMPL = linear(r"\bimpl\s+(?:[\w:]+::)?Tool\s+for\s+(\w+)")
    RIG_TOOL_NAME = linear(r'\bconst\s+NAME\s*:\s*&(?:\'static\s+)?str\s*=\s*"([^"\n]{1,100})"')
    RIG_TOOL_MACRO = linear(r"#\[rig(?:_|::)tool\b([^\]]{0,600})\]\s*(?:pub\s+)?(?:async\s+)?fn\s+(\w+)")
    # a helper crate's ``tool`` attribute macro imported by name into a rig file (``use
    # rig_tool_macro::tool;`` then ``#[tool] fn add(..)``): it derives rig's ``Tool`` for the function
    PLAIN_TOOL_MACRO = linear(r"#\[tool\b([^\]]{0,600})\]\s*(?:pub\s+)?(?:async\s+)?fn\s+(\w+)")
    TOOL_MACRO_IMPORT = linear(
        r"^\s*use\s+(\w+)::(?:tool|\{[^}]{0,300}?\btool\b[^}]{0,300}\})\s*;", re.MULTILINE
    )
    # a tool attribute macro named after a crate (rig's ``#[rig_tool]`` in a framework of its own):
    # ``#[<crate>_tool(description = "...")] fn name(...)``
    CRATE_TOOL_MACRO = linear(r"#\[(\w+)_tool\b([^\]]{0,600})\]\s*(?:pub\s+)?(?:async\s+)?fn\s+(\w+)")
    # async-openai: ``FunctionObjectArgs::default().name("x")`` (builder) and ``FunctionObject { name:
    # "x".into(), .. }`` (struct literal) declare a function tool the model may call; the Responses API's
    # ``FunctionTool`` the same, its ``name`` after other fields (``defer_loading: None, name: ..``)
    OPENAI_FUNCTION = linear(
        r"\b(?:FunctionObjectArgs|ChatCompletionFunctionsArgs|FunctionToolArgs)::default\(\)\s*"
        r"\.name\(\s*\"([^\"\n]{1,100})\""
        r"|\bFunction(?:Object|Tool)?\s*\{[^{}]{0,300}?\bname\s*:\s*(?:String::from\(\s*)?\"([^\"\n]{1,100})\""
    )
    # ollama-rs: ``#[ollama_rs::function] async fn get_weather(city: String)``, the function the model calls
    OLLAMA_FUNCTION = linear(r"#\[(?:ollama_rs::)?function\]")

    def framework_tools(
        self, file: SourceFile, text: str, comments: set[int], packages: dict[str, Package]
    ) -> Iterator[Finding]:
        """rig: ``impl Tool for X { const NAME: &str = "x"; }`` (named by ``NAME``, else the type in
        snake_case) and ``#[rig_tool]``/``#[rig::tool]`` functions; async-openai function objects."""
        yield from self.openai_functions(file, text, comments, packages)
        ollama = packages.get("ollama")
        if ollama is not None and file.scope != "test" and "function]" in text:
            found = []
            for match in self.OLLAMA_FUNCTION.finditer(text):
                function = self.ATTRIBUTED_FN.match(text[match.end() : match.end() + 1500])
                if function:
                    found.append((match.start(), function.group(1)))
            yield from self.named_tools(file, text, comments, found, ollama.provider, ollama.id, set())
        genai = packages.get("genai")
        if genai is not None:  # rust-genai: ``Tool::new("get_weather").with_schema(json!(...))``
            found = [(m.start(), m.group(1)) for m in self.GENAI_TOOL.finditer(text)]
            yield from self.named_tools(file, text, comments, found, genai.provider, genai.id, set())
        rig = packages.get("rig")
        if rig is None:
            return
        found: list[tuple[int, str]] = []
        for match in self.RIG_TOOL_IMPL.finditer(text):
            named = self.RIG_TOOL_NAME.search(text[match.end() : match.end() + 600])
            found.append((match.start(), named.group(1) if named else snake_case(match.group(1))))
        for match in self.RIG_TOOL_MACRO.finditer(text):
            named = NAME_ARGUMENT.search(match.group(1))
            found.append((match.start(), named.group(1) if named else match.group(2)))
        if "#[tool" in text and self.imports_tool_macro(text, packages):
            for match in self.PLAIN_TOOL_MACRO.finditer(text):
                named = NAME_ARGUMENT.search(match.group(1))
                found.append((match.start(), named.group(1) if named else match.group(2)))
        yield from self.named_tools(file, text, comments, found, rig.provider, rig.id, set())

    def imports_tool_macro(self, text: str, packages: dict[str, Package]) -> bool:
        """Whether the file imports a ``tool`` attribute macro from a crate other than an MCP SDK (whose
        ``#[tool]`` marks an MCP server's tools, read as such elsewhere)."""
        if any(package_id in MCP_PACKAGES for package_id in packages):
            return False
        return any(match.group(1) not in ("rig", "rmcp") for match in self.TOOL_MACRO_IMPORT.finditer(text))

    def openai_functions(
        self, file: SourceFile, text: str, comments: set[int], packages: dict[str, Package]
    ) -> Iterator[Finding]:
        """Function tools an async-openai request offers the model, named as the model calls them."""
        openai = packages.get("openai")
        if openai is None or not any(
            t in text for t in ("FunctionObject", "FunctionTool", "ChatCompletionFunctions", "Function {")
        ):
            return
        seen: set[str] = set()
        for match in self.OPENAI_FUNCTION.finditer(text):
            group = 1 if match.group(1) else 2
            name = match.group(group).strip().lower()
            line = _line_at(text, match.start(group))
            if line in comments or name in seen or name in PLACEHOLDER_NAMES:
                continue
            seen.add(name)
            yield self.located(file, line, "tool", name, openai.provider, metadata={"framework": openai.id})

    # a rig-compatible tool of a crate's own ``Tool`` trait: ``const NAME`` and a ``ToolDefinition``
    # whose ``parameters`` hold a JSON schema
    TOOL_SCHEMA = linear(
        r"\bToolDefinition\s*\{[^}]{0,400}?\bparameters\s*:\s*"
        r'(?:(?:serde_json::)?json!\s*\(\s*\{\s*"(?:type|properties|required)"\s*:'
        r"|(?:serde_json::)?to_value\(\s*(?:schemars::)?schema_for!)"
    )

    renamed: dict[str, str] = {}

    def package_for(self, module: str) -> Package | None:
        """A crate the manifest renames is the crate it names (``use agentkit::..`` is rig)."""
        package_id = self.renamed.get(module.split("::", 1)[0])
        return lookup_package("id", package_id) if package_id else super().package_for(module)

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        """Findings of a Rust file, with the crates its Cargo.toml renames read under their own names
        (what its unit tests only feed the code under test is dropped for every detector, in
        ``test_data.without_unit_test_inputs``)."""
        if compile_fail_case(file):
            return
        self.renamed = cargo_renamed_crates(file) if "::" in file.text else {}
        try:
            findings = list(self.detect_all(file, report))
        finally:
            self.renamed = {}
        yield from findings

    def detect_all(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        yield from super().detect(file, report)
        text = file.text
        yield from self.environment_default_models(file, text)
        if "default_value" in text:
            yield from self.argument_default_models(file, text)
        if "::from_pretrained(" in text:
            yield from self.pretrained_models(file, text)
        if "http" in text and ("api_base" in text or "base_url" in text or "Ollama::new" in text):
            yield from self.configured_servers(file, text)
        if "rig" in {p.id for _, p in self.sdk_imports(text)}:
            return
        if "_tool" in text:
            yield from self.crate_macro_tools(file, text)
        if "tool" in text and not any(p.id in MCP_PACKAGES for _, p in self.sdk_imports(text)):
            yield from self.attribute_tools(file, text)
            if "struct" in text:
                yield from self.struct_attribute_tools(file, text)
        if "fn name" in text or "const NAME" in text:
            yield from self.named_method_tools(file, text)
        if any(word in text for word in self.DECLARATION_WORDS):
            yield from self.declaration_builder_tools(file, text)
        if "ToolDefinition" not in text or "const NAME" not in text:
            return
        tools = []
        for match in self.RIG_TOOL_IMPL.finditer(text):
            body = text[match.end() : match.end() + 3000]
            named = self.RIG_TOOL_NAME.search(body[:600])
            if named and self.TOOL_SCHEMA.search(body):
                tools.append((match.start(), named.group(1)))
        if not tools or not crate_uses_llm(file):
            return
        framework = crate_name(file) or component_name_for(file.relpath)
        comments = self.comment_lines(file.lines)
        yield from self.named_tools(file, text, comments, tools, framework, framework, set())

    # clap's (and structopt's) ``#[arg(long, default_value = "lmz/candle-mistral")] model_id: String``: the
    # model a program runs when its command line names none (candle's and mistral.rs' examples), the
    # attribute possibly split over lines and followed by other attributes or doc comments
    ARGUMENT_DEFAULT = linear(
        r'#\[(?:arg|clap|structopt)\([^\]]{0,400}?\bdefault_value\s*=\s*"([^"\n]{1,120})"[^\]]{0,400}\)\]'
        r"(?:\s*(?:#\[[^\]\n]{0,400}\]|///[^\n]{0,400}))*"
        r"\s*(?:pub(?:\([\w:]{1,40}\))?\s+)?(\w{1,80})\s*:"
    )
    MODEL_FIELD = linear(r"(?i)^(?:\w+_)?model(?:_?(?:name|id))?$")
    # what every model field's declaration holds: its name's end (``MODEL_FIELD``) before the colon;
    # a file without one (most files with a ``default_value``) is not searched for the attributes
    MODEL_FIELD_DECLARED = linear(r"(?i)model(?:_?(?:name|id))?\s*:")

    def argument_default_models(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """The default of a command-line argument a model field takes, in a file importing a catalog AI
        crate or a crate that uses an LLM (a ``model`` flag elsewhere may name anything)."""
        if not self.MODEL_FIELD_DECLARED.search(text):
            return
        found = [m for m in self.ARGUMENT_DEFAULT.finditer(text) if self.MODEL_FIELD.match(m.group(2))]
        if not found or not (self.sdk_imports(text) or crate_uses_llm(file)):
            return
        comments = self.comment_lines(file.lines)
        for match in found:
            line = _line_at(text, match.start(1))
            model = model_finding(match.group(1), line, strong=False, hf_context=True)
            if model and line not in comments:
                yield self.model_at(file, line, model)

    # tokenizers' ``Tokenizer::from_pretrained("bert-base-cased", None)`` (and any type loaded the same way):
    # a Hugging Face repository the program downloads, by the name Python's ``from_pretrained`` takes too
    FROM_PRETRAINED = linear(r'\b[A-Z]\w{0,80}::from_pretrained\(\s*"([^"\n]{1,120})"')

    def pretrained_models(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """The Hugging Face ids a Rust program loads with ``from_pretrained``."""
        comments = self.comment_lines(file.lines)
        commented: dict[int, int | None] = {}
        for match in self.FROM_PRETRAINED.finditer(text):
            line = _line_at(text, match.start(1))
            if line in comments or self.after_line_comment(text, match.start(), commented):
                continue
            model = model_finding(match.group(1), line, strong=False, hf_context=True)
            if model:
                yield self.model_at(file, line, model)

    # a function declaration built for a model by the name it calls it and what it does: genai-rs'
    # ``FunctionDeclaration::builder("get_weather").description("..")``, gemini-rust's
    # ``FunctionDeclaration::new("get_weather", "Get the weather", params)``, a ``ToolDefinition`` or
    # ``ToolSpec`` builder of an agent crate (group 2 tells which form: ``)`` a builder, ``,`` a constructor)
    DECLARATION_WORDS = (
        "FunctionDeclaration",
        "FunctionDefinition",
        "ToolDefinition",
        "ToolDeclaration",
        "ToolSpec",
        "FunctionTool",
    )
    DECLARATION_BUILDER = linear(
        rf"\b(?:{'|'.join(DECLARATION_WORDS)})"
        r'(?:Builder)?::(?:builder|new)\(\s*"([A-Za-z_][\w.-]{0,99})"(?:\.(?:to_string|to_owned|into)\(\))?\s*([,)])'
    )
    CHAINED_DESCRIPTION = linear(r"^[^;]{0,300}?\.(?:with_)?description\(")
    DESCRIPTION_ARGUMENT_STRING = linear(r'^\s*(?:r#*)?"[^"\n]{3}')
    # the request that hands them to the model: ``.create()``, ``.create_with_auto_functions()``,
    # ``.send()``, ``.chat(..)``, ``.generate_content(..)``, ``.prompt(..)``, ``.stream(..)``
    MODEL_REQUEST = linear(r"\.(?:create|send|generate|chat|complete|stream|prompt|invoke)\w{0,40}\(")

    def sends_model_request(self, text: str, comments: set[int]) -> bool:
        return any(_line_at(text, m.start()) not in comments for m in self.MODEL_REQUEST.finditer(text))

    def declaration_builder_tools(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """Function declarations a program builds for a model, each named and described (the model's
        view of a tool, whatever crate defines the type), in a crate that uses an LLM or a file that
        imports a catalog AI crate: a compiler's or an LSP's ``FunctionDefinition::new("main")`` is never
        described to a model. A file that sends no request only builds them (the builder's own tests), and
        so do a crate's unit tests that never call out (``#[cfg(test)]``, or a unit-test file beside the
        code): none reaches a model there."""
        unit_tests = rust_test_module_lines(text) if "#[cfg(test)]" in text else set()
        found = []
        for match in self.DECLARATION_BUILDER.finditer(text):
            if _line_at(text, match.start()) in unit_tests:
                continue
            rest = text[match.end() : match.end() + 400]
            if match.group(2) == ")":
                described = self.CHAINED_DESCRIPTION.match(rest)
            else:
                described = self.DESCRIPTION_ARGUMENT_STRING.match(rest)
            if described:
                found.append((match.start(1), match.group(1)))
        if not found:
            return
        if unit_test_file(file.relpath) and not CALLS_OUT.search(text):
            return
        comments = self.comment_lines(file.lines)
        if not self.sends_model_request(text, comments):
            return
        owner = next(
            (p for _, p in self.sdk_imports(text) if p.type in ("llm_provider", "agent_framework")), None
        )
        if owner is None and not crate_uses_llm(file):
            return
        framework = owner.id if owner else crate_name(file) or component_name_for(file.relpath)
        provider = owner.provider if owner else framework
        yield from self.named_tools(file, text, comments, found, provider, framework, set())

    # a client's server set by a builder or constructor: async-openai's ``.with_api_base("http://…/v1")``,
    # ``.base_url("…")``, and ollama-rs' ``Ollama::new("http://host", 11500)``
    API_BASE_CALL = linear(r'\.(?:with_|set_)?(?:api_base|base_url|api_url)\(\s*"(https?://[^"\s]{1,300})"')
    OLLAMA_NEW = linear(
        r'\bOllama::new\(\s*"(https?://[^"\s/]{1,200})/?"(?:\.(?:to_string|to_owned|into)\(\))?,\s*(\d{2,5})\s*\)'
    )

    def configured_servers(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """The AI server a client is built for, whatever its host, in a crate that uses an LLM or a file
        importing a catalog AI crate (an HTTP client's ``base_url`` elsewhere addresses anything)."""
        found = [(m.start(), m.group(1), None) for m in self.API_BASE_CALL.finditer(text)]
        found += [(m.start(), f"{m.group(1)}:{m.group(2)}", "Ollama") for m in self.OLLAMA_NEW.finditer(text)]
        if not found or not (self.sdk_imports(text) or crate_uses_llm(file)):
            return
        comments = self.comment_lines(file.lines)
        commented: dict[int, int | None] = {}
        for offset, url, hint in found:
            line = _line_at(text, offset)
            if line in comments or self.after_line_comment(text, offset, commented):
                continue
            endpoint = endpoint_for_url(url, any_host=True, hint=hint)
            if endpoint:
                yield self.endpoint_finding(file, line, endpoint)

    # ``env::var("AGENT_MODEL").unwrap_or("openai/gpt-4.1-mini".to_string())``: the model a program runs
    # when its environment names none (``unwrap_or_else(|_| "..".into())`` the same)
    ENVIRONMENT_MODEL = linear(
        r'\benv::var\(\s*"\w*MODEL\w*"\s*\)\s*\.\s*unwrap_or(?:_else)?\(\s*(?:\|_\|\s*)?"([^"\n]{1,120})"'
    )

    def environment_default_models(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """Catalog model ids a Rust program falls back on when a ``*MODEL*`` variable is unset."""
        if "MODEL" not in text or "env::var" not in text:
            return
        comments = self.comment_lines(file.lines)
        seen: set[str] = set()
        for match in self.ENVIRONMENT_MODEL.finditer(text):
            line = _line_at(text, match.start(1))
            found = model_finding(match.group(1), line, strong=False, hf_context=False)
            if found and line not in comments and found[0] not in seen:
                seen.add(found[0])
                yield self.model_at(file, line, found)

    # the other common Rust tool trait (ollama-rs, most agent crates of their own): ``impl Tool for X {
    # fn name(&self) -> &str { "x" } fn description(..) fn parameters(..) }``
    # an agent's trait may carry its role in the name (``impl AgentTool for X``, ``ToolHandler``): group 1
    TOOL_IMPL = linear(
        r"\bimpl(?:<[^<>]{0,100}>)?\s+(?:[\w:]+::)?(Tool|[A-Z]\w{0,30}Tool|Tool(?:Handler|Executor))\s+for\s+\w+"
    )
    # ``-> &str { "x" }``, or an owned name: ``-> String { "x".to_string() }`` (langchain-rust's trait),
    # ``String::from("x")``, ``"x".into()``; or a constant of the file (``{ READ_TOOL }``, ``Self::NAME``):
    # group 2
    NAME_METHOD = linear(
        r"\bfn\s+name\s*\(\s*(?:&\s*self)?\s*\)\s*->\s*(?:&(?:'static\s+)?str|String)\s*\{\s*"
        r'(?:(?:String::from\(\s*)?"([^"\n]{1,100})"|(?:Self::)?([A-Z][A-Z0-9_]{0,60})\b)'
    )
    # or the definition method fills in a definition type of the crate's own: ``fn definition(&self) ->
    # ToolDefinition { ToolDefinition { name: "shell".into(), description: .., parameters: json!(..) } }``
    DEFINITION_LITERAL = linear(
        r'\b[A-Z]\w{0,60}\s*\{\s*name\s*:\s*(?:String::from\(\s*)?"([^"\n]{1,100})"[^{}]{0,800}?'
        r"\bdescription\s*:[^{}]{0,800}?\b(?:parameters|input_schema|schema)\s*:"
    )
    STR_CONSTANT = linear(
        r'\bconst\s+([A-Z][A-Z0-9_]{0,60})\s*:\s*&(?:\'static\s+)?str\s*=\s*"([^"\n]{1,100})"'
    )
    SCHEMA_METHOD = linear(
        r"\bfn\s+(?:description|parameters\w*|input_schema|schema|definition|tool_definition)\s*[(<]"
    )
    # a model's full view of a tool: what it does and the arguments it takes, both beside the name
    DESCRIPTION_METHOD = linear(r"\bfn\s+description\s*[(<]")
    ARGUMENTS_METHOD = linear(r"\bfn\s+(?:parameters\w*|input_schema|schema|json_schema)\s*[(<]")
    # or the trait takes all three as associated items, its blanket impl handing them to the model:
    # ``impl SchemaTool for BashTool { type Input = BashInput; const NAME: &str = "Bash"; const
    # DESCRIPTION: &str = ".."; }`` (the schema derived from the input type)
    NAME_CONSTANT = linear(r'\bconst\s+NAME\s*:\s*&(?:\'static\s+)?str\s*=\s*"([^"\n]{1,100})"')
    DESCRIPTION_CONSTANT = linear(r"\bconst\s+DESCRIPTION\s*:")
    ARGUMENTS_TYPE = linear(r"\btype\s+(?:Input|Args|Arguments|Params|Parameters)\s*=")

    @staticmethod
    def block_body(text: str, start: int, limit: int) -> str:
        """The text from ``start`` to the brace closing the block that opens after it (an impl's own
        items, not a test module written after it), or to ``limit`` if it stays open."""
        depth = 0
        for brace in BRACE.finditer(text, start, limit):
            depth += 1 if brace.group() == "{" else -1
            if depth == 0:
                return text[start : brace.end()]
        return text[start:limit]

    def named_method_tools(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """``impl Tool for X`` with a literal ``fn name`` and a description or schema method: a tool of the
        catalog crate the file takes ``Tool`` from (ollama-rs), else of the crate itself when it is an
        AI one, or when each tool gives both a description and its arguments (an agent calling its API
        through a plain HTTP client depends on no AI crate)."""
        impls = list(self.TOOL_IMPL.finditer(text))
        found = []
        described = True  # every tool gives the model both a description and its arguments
        constants: dict[str, str] | None = None
        for index, match in enumerate(impls):
            end = impls[index + 1].start() if index + 1 < len(impls) else len(text)
            body = self.block_body(text, match.end(), min(end, match.end() + 4000))
            named = self.NAME_METHOD.search(body)
            if named is None and (literal := self.DEFINITION_LITERAL.search(body)):
                found.append((match.start(), literal.group(1)))
                continue
            if named is None and (constant := self.NAME_CONSTANT.search(body)):
                described_by_items = (
                    self.DESCRIPTION_CONSTANT.search(body) or self.DESCRIPTION_METHOD.search(body)
                ) and (self.ARGUMENTS_TYPE.search(body) or self.ARGUMENTS_METHOD.search(body))
                if described_by_items:
                    found.append((match.start(), constant.group(1)))
                continue
            if not (named and self.SCHEMA_METHOD.search(body)):
                continue
            full = bool(self.DESCRIPTION_METHOD.search(body) and self.ARGUMENTS_METHOD.search(body))
            if match.group(1) != "Tool" and not full:
                continue  # a trait merely named like a tool shows the model nothing
            name = named.group(1)
            if name is None:
                if constants is None:  # the file's string constants, read once
                    constants = {m.group(1): m.group(2) for m in self.STR_CONSTANT.finditer(text)}
                name = constants.get(named.group(2))
            if name:
                found.append((match.start(), name))
                described = described and full
        if not found:
            return
        owner = next((p for imp, p in self.sdk_imports(text) if "Tool" in imp.bindings), None)
        if owner is None and not described and not crate_uses_llm(file):
            return
        framework = owner.id if owner else crate_name(file) or component_name_for(file.relpath)
        provider = owner.provider if owner else framework
        yield from self.named_tools(
            file, text, self.comment_lines(file.lines), found, provider, framework, set()
        )

    # a tool attribute on a struct whose arguments give the model its full view of the tool (AutoAgents:
    # ``#[tool(name = "Addition", description = "..", input = AdditionArgs)] struct Addition {}``)
    ATTRIBUTED_STRUCT = linear(
        r"^(?:\s+|#\[[^\]]{0,400}\]|//[^\n]{0,500})*(?:pub(?:\([\w:\s]{0,40}\))?\s+)?struct\s+\w+"
    )
    DESCRIPTION_ARGUMENT = linear(r"\bdescription\s*=")
    INPUT_ARGUMENT = linear(r"\b(?:input|args|arguments|params|parameters)\s*=")
    TOOL_MACRO_SOURCE = linear(r"^\s*(?:pub\s+)?use\s+(\w+)::[^;]*\btool\b[^;]*;", re.MULTILINE)

    def struct_attribute_tools(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """Structs under ``#[tool(name = "x", description = .., input = ..)]``: named, described and typed
        by the attribute, so a tool whatever crate the macro comes from (its provider)."""
        found = []
        for match in self.TOOL_ATTRIBUTE.finditer(text):
            window = text[match.start() : match.start() + 1500]
            close = window.find(")]")
            if match.group(1) != "(" or close < 0:
                continue
            arguments = self.NESTED_ARGUMENTS.sub("", window[match.end() - match.start() : close])
            named = self.TOOL_NAME_ARGUMENT.search(arguments)
            if (
                named
                and self.DESCRIPTION_ARGUMENT.search(arguments)
                and self.INPUT_ARGUMENT.search(arguments)
                and self.ATTRIBUTED_STRUCT.match(window[close + 2 :])
            ):
                found.append((match.start(), named.group(1)))
        if not found:
            return
        source = self.TOOL_MACRO_SOURCE.search(text)
        framework = (
            source.group(1).replace("_", "-")
            if source
            else crate_name(file) or component_name_for(file.relpath)
        )
        yield from self.named_tools(
            file, text, self.comment_lines(file.lines), found, framework, framework, set()
        )

    def attribute_tools(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """Functions under ``#[tool]``/``#[tool(name = "x")]`` outside MCP, in a crate that is an AI one: an
        agent framework's tool macro (``#[swiftide::tool(..)]``) or a crate's own (agentai's ``#[toolbox]
        impl X { #[tool] fn web_search }``), named ``name = "x"``, else the function. A test file that sends
        no request to a model only expands the macro (``tests/macro_tests.rs`` asserting the declaration
        it derives, never live nor configured from the environment): its functions reach no agent."""
        found = list(self.tool_names(text))
        if not found or not crate_uses_llm(file):
            return
        comments = self.comment_lines(file.lines)
        if file.scope == "test" and not (CALLS_OUT.search(text) or self.sends_model_request(text, comments)):
            return
        owner = next((p for _, p in self.sdk_imports(text) if p.type == "agent_framework"), None)
        framework = owner.id if owner else crate_name(file) or component_name_for(file.relpath)
        provider = owner.provider if owner else framework
        yield from self.named_tools(file, text, comments, found, provider, framework, set())

    def crate_macro_tools(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """Functions under a crate's own tool attribute macro, where the macro is named after this crate
        or a crate the file uses and that crate is an AI one: named ``name = "x"``, else the function."""
        macros = [match for match in self.CRATE_TOOL_MACRO.finditer(text) if match.group(1) != "rig"]
        if not macros:
            return
        crates = {match.group(1) for match in self.USE.finditer(text)}
        own = crate_name(file)
        if own:
            crates.add(own.replace("-", "_"))
        tools = []
        for match in macros:
            if match.group(1) in crates:
                named = NAME_ARGUMENT.search(match.group(2))
                tools.append((match.start(), named.group(1) if named else match.group(3), match.group(1)))
        if not tools or not crate_uses_llm(file):
            return
        comments = self.comment_lines(file.lines)
        seen: set[str] = set()
        for offset, name, framework in tools:
            framework = own if own and own.replace("-", "_") == framework else framework
            yield from self.named_tools(file, text, comments, [(offset, name)], framework, framework, seen)

    # a framework's wrapper of a vector store, in the store's module: langchain-rust's
    # ``vectorstore::pgvector::StoreBuilder`` (``vectorstore::{qdrant::StoreBuilder, ..}`` too), swiftide's
    # ``integrations::qdrant::Qdrant``
    FRAMEWORK_STORE_MODULE = linear(r"\b(?:vectorstores?|integrations)::(?:\{[^}]{0,400}?)?\b(\w+)::")

    def _sdk_imports(self, text: str) -> list[tuple[Import, Package]]:
        """The vector store a framework's wrapper runs against is in use next to the framework, as a
        LangChain wrapper import is elsewhere (``wrapped_stores``); Rust names it inside a use tree or a
        path, which ``wrapped_stores``' module paths do not hold."""
        found = super()._sdk_imports(text)
        if not any(p.type == "agent_framework" and not imp.implied for imp, p in found):
            return found
        stores = patterns()["other_languages"]["framework_vector_store_paths"]
        seen = {p.id for _, p in found}
        comments: set[int] | None = None
        for match in self.FRAMEWORK_STORE_MODULE.finditer(text):
            store = lookup_package("id", stores.get(match.group(1).lower(), ""))
            if store is None or store.id in seen:
                continue
            comments = self.comment_lines(text.splitlines()) if comments is None else comments
            line = _line_at(text, match.start())
            if line not in comments:
                seen.add(store.id)
                found.append((Import(match.group(0), (), line), store))
        return found

    def imports(self, text: str) -> Iterator[Import]:
        return (imp for imp, _ in self._imports(text, None))

    def imported_packages(self, text: str) -> list[tuple[Import, Package]]:
        """As the default, but a path is looked up first: most name no catalog crate, and theirs need
        no names or line."""
        return list(self._imports(text, self.package_for))

    def _imports(
        self, text: str, package_of: Callable[[str], Package | None] | None
    ) -> Iterator[tuple[Import, Package | None]]:
        """``imports``' imports with ``package_of``'s answer; given ``package_of``, only those it knows."""
        # ``pub mod openai; pub use openai::OpenAiProvider;``: a path that starts at a module this file
        # declares is the crate's own module (it shadows a crate of that name), never the crate
        local = set(self.LOCAL_MODULE.findall(text)) if "mod " in text else set()
        for match in self.USE.finditer(text):
            if match.group(1) in local:
                continue
            tree = match.group(2)
            module = match.group(1) + tree.split("{")[0].rstrip(":")
            package = package_of(module) if package_of else None
            if package_of and not package:
                continue
            names = set(linear(r"\b([A-Z]\w*)\b").findall(tree))
            aliases = linear(r"\bas\s+(\w+)").findall(tree)
            last = linear(r"::(\w+)\s*$").findall(tree)
            names.update(aliases or last)
            yield Import(module, tuple(sorted(names)), _line_at(text, match.start())), package
        for match in self.EXTERN.finditer(text):
            package = package_of(match.group(1)) if package_of else None
            if package or not package_of:
                yield Import(match.group(1), (match.group(1),), _line_at(text, match.start())), package
        for imp in self.qualified_paths(text):
            package = package_of(imp.module) if package_of else None
            if package or not package_of:
                yield imp, package

    LOCAL_MODULE = linear(r"^\s*(?:pub(?:\([\w:]+\))?\s+)?mod\s+(\w+)", re.MULTILINE)

    def qualified_paths(self, text: str) -> Iterator[Import]:
        """A crate used by its path without a ``use`` (``gemini_rust::Gemini::new(key)``): the first
        such path of each catalog crate, outside ``use`` lines and comments."""
        candidates = {m.group(1) for m in catalog_crate_path().finditer(text)}
        if not candidates:
            return
        # a module of the project or one a ``use`` brought in under that name (rig's ``use
        # rig::providers::openai;`` then ``openai::Client``) shadows a crate of the same name
        local = set(self.LOCAL_MODULE.findall(text))
        for match in self.USE.finditer(text):
            local.update(linear(r"\b([a-z_]\w*)\b").findall(match.group(2)))
        candidates -= local
        seen: set[str] = set()
        lines: list[str] = []
        for match in catalog_crate_path().finditer(text) if candidates else ():
            crate = match.group(1)
            if crate in seen or crate not in candidates:
                continue
            lines = lines or text.splitlines()
            line = _line_at(text, match.start(1))
            stripped = lines[line - 1].lstrip()
            if not stripped.startswith(("use ", "pub use ", "//", "/*", "*", "extern ")):
                seen.add(crate)
                yield Import(crate, (crate,), line)


class LuaDetector(_LanguageDetector):
    """Lua: Neovim AI plugins' setup tables (avante.nvim's ``providers = { claude = { endpoint =
    "https://api.anthropic.com", model = "claude-sonnet-4-20250514" } }``, codecompanion's ``schema = {
    model = { default = "gpt-4o" } }``, gp.nvim's agents) and OpenResty gateways calling an AI API. Lua
    has no SDK of the catalog's: what the file configures is read as in any file without one, the
    catalog model ids its strings hold and the AI endpoints it calls."""

    name = "lua"
    extensions = (".lua",)
    comment_prefixes = ("--",)
    LONG_COMMENT = linear(r"--\[(=*)\[")

    def imports(self, text: str) -> Iterator[Import]:
        return iter(())

    def prose_lines(self, file: SourceFile) -> set[int]:
        """Also the lines of a long comment (``--[[ ... ]]``, ``--[==[ ... ]==]``), to its closing bracket."""
        lines = super().prose_lines(file)
        text = file.text
        for match in self.LONG_COMMENT.finditer(text) if "--[" in text else ():
            closing = text.find("]" + match.group(1) + "]", match.end())
            end = len(text) if closing < 0 else closing
            lines.update(range(_line_at(text, match.start()), _line_at(text, end) + 1))
        return lines


class PageScriptDetector(Detector):
    """An HTML page that loads an AI library from a CDN (``<script src="https://cdn.jsdelivr.net/npm/
    @tensorflow/tfjs">``, a module script importing ``https://esm.sh/@huggingface/transformers``) imports
    that npm package as a bundled script would. Only the URLs are read: the page's text is prose. A
    component's markup is a page too, and so is the HTML a script writes or the script tag it builds
    (``script.src = "https://unpkg.com/…"``): in code only a script's source is read, outside the lines
    the JavaScript detector takes for prose, since the code's own imports are that detector's."""

    name = "page_scripts"
    pages = (".html", ".htm", *SFC_SUFFIXES)

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix in self.pages or file.suffix in JavaScriptDetector.extensions

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        if "//" not in file.text:
            return
        resolver = JavaScriptDetector()
        page = file.suffix in self.pages
        prose = set() if page else LinesOnDemand(lambda: resolver.prose_lines(file))
        seen: set[str] = set()
        for match in (PAGE_SCRIPT_URL if page else SCRIPT_SOURCE_URL).finditer(file.text):
            package = resolver.package_for(match.group(1)) if CDN_PACKAGE.match(match.group(1)) else None
            line = line_at(file.text, match.start(1))
            if package and package.id not in seen and line not in prose:
                seen.add(package.id)
                finding = resolver.finding(file, package, line)
                finding.detector = self.name
                yield finding

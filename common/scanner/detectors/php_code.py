"""PHP source: Laravel, Symfony and WordPress code calling AI SDKs, PHP MCP servers and their tools.

Read like the other languages (``languages._LanguageDetector``): ``use`` statements (also grouped,
``use Prism\\Prism\\{Prism, Tool};``) import a catalog SDK by its namespace, and nothing in a file counts
unless it imports one. A few static entry points are the SDK's own and import it when written fully
qualified or through a Laravel facade alias (``\\OpenAI::client($key)``, ``OpenAI::chat()``). Models come
from ``'model' => '...'`` array keys, call arguments (``->using(Provider::OpenAI, 'gpt-4o')``) and
catalog ids in literals; ``env('OPENAI_API_KEY')`` is a reference, not a key. Tools: MCP attributes
(``#[McpTool]``, named as the SDK names them: by ``name:`` or after the method), registrations
(``->withTool([...], 'name')``), Prism ``Tool::as('x')``, neuron-ai ``Tool::make('x')``, LLPhant
``new FunctionInfo('x', ...)``, Symfony AI ``#[AsTool('x')]`` and OpenAI function arrays.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator

from common.scanner.catalog import Package
from common.scanner.detectors.base import Finding, SourceFile
from common.scanner.detectors.languages import Import, _LanguageDetector, _line_at
from common.scanner.limits import linear
from common.scanner.textutil import component_name_for, model_finding

# ``use A\B\C;``, ``use A\B\C as D;``, ``use function A\b;`` (one import per statement)
USE = linear(r"(?m)^[ \t]*use\s+(?:function\s+|const\s+)?\\?([A-Za-z_][\w\\]{0,200})(?:\s+as\s+(\w+))?\s*;")
# a class written fully qualified in code, which needs no ``use``: ``new \Vendor\Pkg\Server(``,
# ``\A\B::make(``
QUALIFIED_CLASS = linear(r"(?:\bnew\s+|[=(,\s])\\([A-Za-z_]\w{0,60}(?:\\\w{1,60}){1,8})\s*(?:\(|::)")
# ``use A\B\{C, D as E};``
GROUP_USE = linear(r"(?m)^[ \t]*use\s+\\?([A-Za-z_][\w\\]{0,200})\\\{([^}]{1,1000})\}")
GROUP_MEMBER = linear(r"([A-Za-z_][\w\\]{0,200})(?:\s+as\s+(\w+))?")
QUOTED = r"""(?:"([^"\n$]{1,100})"|'([^'\n]{1,100})')"""
# MCP servers: php-mcp ``->withServerInfo('x', ..)``, the official SDK ``->setServerInfo('x', ..)``,
# logiscape ``new Server('x')``
SERVER_INFO = linear(r"->(?:with|set)ServerInfo\(\s*(?:name:\s*)?" + QUOTED)
FIRST_ARGUMENT = linear(r"^\s*(?:name:\s*)?" + QUOTED)
MCP_TOOL_ATTRIBUTE = linear(r"#\[\s*(?:\\?[\w\\]*\\)?McpTool\b")
NAME_ARGUMENT = linear(r"\bname:\s*" + QUOTED)
NEXT_FUNCTION = linear(r"\bfunction\s+(\w+)\s*\(")
# a Laravel/Symfony config array's model entry: ``'model' => 'gpt-4o'``, ``'chat_model' =>
# env('OPENAI_MODEL', 'gpt-4.1-nano')`` (the literal default is the model used when the variable is unset)
CONFIG_MODEL = linear(
    r"""["']\w{0,40}[Mm]odel(?:_?[Ii]d|_?[Nn]ame)?["']\s*=>\s*(?:env\(\s*["'][\w.]{1,100}["']\s*,\s*)?"""
    + QUOTED
)
MAX_ATTRIBUTE_GAP = 1500  # characters from a tool attribute to the method it marks (docblocks between)
# laravel/mcp: a server or tool is a class extending the SDK's ``Server``/``Tool``, named by its ``$name``
# property; a tool without one is named after its class in kebab case (``ShelfCountTool``: shelf-count-tool)
LARAVEL_TOOL_CLASS = linear(r"\bclass\s+(\w{1,100})\s+extends\s+\\?(?:[\w\\]*\\)?Tool\b")
NAME_PROPERTY = linear(r"\$name\s*=\s*" + QUOTED)
MAX_CLASS_HEAD = 2000  # characters of a class body searched for its ``$name`` (properties come first)


def kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def quoted(match: re.Match | None) -> str | None:
    """The content of a ``QUOTED`` group pair, whichever quote matched."""
    return match.group(match.lastindex) if match and match.lastindex else None


class PhpDetector(_LanguageDetector):
    name = "php"
    extensions = (".php",)
    ecosystem = "php"
    registry = "composer"
    separator = "\\"
    comment_prefixes = ("//", "/*", "*", "#")
    idiom_is_import = True  # a fully-qualified name or a Laravel facade alias needs no ``use``
    api_signatures = (
        (linear(r"(?:^|[^\w\\])\\?(OpenAI)::(?:client|factory)\("), "openai"),
        (linear(r"(?:^|[^\w\\])\\?(Anthropic)::(?:client|factory)\("), "anthropic"),
        (linear(r"(?:^|[^\w\\])\\?(Gemini)::(?:client|factory)\("), "gemini-php"),
        (linear(r"(?:^|[^\w\\])\\?(Prism)::(?:text|structured|embeddings|image)\(\)"), "prism-php"),
        (linear(r"(?:^|[^\w\\>$])(prism)\(\)->(?:text|structured|embeddings|image)\(\)"), "prism-php"),
    )
    tool_patterns = (
        # php-mcp and the official SDK: ``->withTool([Handler::class, 'add'], 'add_numbers')``
        linear(r"->(?:with|add)Tool\(\s*\[[^\]\n]{0,200}\]\s*,\s*(?:name:\s*)?" + QUOTED),
        # php-mcp/laravel ``Mcp::tool('x', handler)``; logiscape ``new Tool(name: 'x', ..)``; pronskiy/mcp's
        # fluent ``(new Server('x'))->tool('echo', 'description', fn)``
        linear(r"\bMcp::tool\(\s*(?:name:\s*)?" + QUOTED),
        linear(r"->tool\(\s*(?:name:\s*)?" + QUOTED),
        linear(r"\bnew\s+Tool\(\s*(?:name:\s*)?" + QUOTED),
    )
    FRAMEWORK_TOOLS = {
        # Prism ``Tool::as('x')`` (also ``$this->as('x')`` in a Tool subclass)
        "prism-php": linear(r"(?:\bTool::|\$this->)as\(\s*(?:name:\s*)?" + QUOTED),
        "neuron-ai": linear(r"\bTool::make\(\s*(?:name:\s*)?" + QUOTED),
        "llphant": linear(r"\bnew\s+FunctionInfo\(\s*(?:name:\s*)?" + QUOTED),
        "symfony-ai": linear(r"#\[\s*AsTool\(\s*(?:name:\s*)?" + QUOTED),
    }
    # OpenAI function tools as PHP arrays: Chat Completions ``'function' => ['name' => 'x'`` and the
    # Responses API ``'type' => 'function', 'name' => 'x'``
    OPENAI_FUNCTION = linear(
        r"""["'](?:function["']\s*=>\s*(?:\[|array\()\s*|type["']\s*=>\s*["']function["']\s*,\s*)"""
        r"""["']name["']\s*=>\s*""" + QUOTED
    )

    def comment_lines(self, lines: list[str]) -> set[int]:
        """``#`` opens a comment, ``#[`` an attribute (code)."""
        comments = super().comment_lines(lines)
        return {number for number in comments if not lines[number - 1].lstrip().startswith("#[")}

    def model_catalogs(self, file: SourceFile, text: str) -> Iterator[Finding]:
        """Also a config array's model entry in a file that imports no SDK (``config/openai.php``): a
        catalog id there, or as the literal default of its ``env()``, configures the model used."""
        reported: set[tuple[int, str]] = set()
        for finding in super().model_catalogs(file, text):
            reported.add((finding.location.line, finding.name))
            yield finding
        comments = self.prose_lines(file)
        # in a test, a config entry is a fixture for the code under test, as a bare literal is
        for match in CONFIG_MODEL.finditer(text) if file.scope != "test" else ():
            line = _line_at(text, match.start())
            found = model_finding(quoted(match), line, strong=False, hf_context=False)
            if found and line not in comments and (line, found[1]) not in reported:
                reported.add((line, found[1]))
                yield self.model_at(file, line, found)

    def imports(self, text: str) -> Iterator[Import]:
        """``use`` statements, and classes written fully qualified (bound by their last name, as a ``use``
        of them would bind them)."""
        if "\\" in text:
            for match in QUALIFIED_CLASS.finditer(text):
                module = match.group(1)
                yield Import(module, (module.rsplit("\\", 1)[-1],), _line_at(text, match.start(1)))
        if "use" not in text:
            return
        for match in USE.finditer(text):
            module = match.group(1)
            binding = match.group(2) or module.rsplit("\\", 1)[-1]
            yield Import(module, (binding,), _line_at(text, match.start()))
        for match in GROUP_USE.finditer(text):
            line = _line_at(text, match.start())
            for member in GROUP_MEMBER.finditer(match.group(2)):
                name = member.group(1)
                module = f"{match.group(1)}\\{name}"
                yield Import(module, (member.group(2) or name.rsplit("\\", 1)[-1],), line)

    def mcp_usage(
        self,
        file: SourceFile,
        text: str,
        match: re.Match,
        member: str,
        line: int,
        package: Package | None = None,
    ):
        """``Server::make()``/``Server::builder()``/``new Server('x')`` build a server, named by its
        server info, else after its file; ``Client::make()``/``new Client()`` a client."""
        binding = match.group(1)
        called = member.rsplit("::", 1)[-1] if member else ""
        if called not in ("", "make", "builder"):
            return
        window = text[match.end() : match.end() + 600]
        if binding.endswith("Server"):
            extended = text[max(0, match.start(1) - 12) : match.start(1)].rstrip().endswith("extends")
            name = quoted(SERVER_INFO.search(window)) or (
                quoted(FIRST_ARGUMENT.match(window)) if not called else None
            )
            if (
                extended
            ):  # laravel/mcp: ``class DepotServer extends Server { protected string $name = 'x'; }``
                name = name or quoted(NAME_PROPERTY.search(text[match.end() : match.end() + MAX_CLASS_HEAD]))
            yield self.code_mcp_server(file, line, (name or component_name_for(file.relpath)).lower())
        elif binding.endswith("Client"):
            yield self.code_mcp_client(file, line, None, package)

    def tool_names(self, text: str) -> Iterator[tuple[int, str]]:
        """Registrations, and ``#[McpTool]``: its ``name:``, else the method it marks."""
        for pattern in self.tool_patterns:
            for match in pattern.finditer(text):
                yield match.start(), quoted(match)
        if "extends" in text:
            for match in LARAVEL_TOOL_CLASS.finditer(text):
                named = quoted(NAME_PROPERTY.search(text[match.end() : match.end() + MAX_CLASS_HEAD]))
                yield match.start(), named or kebab(match.group(1))
        attributes = list(MCP_TOOL_ATTRIBUTE.finditer(text))
        functions = [(m.start(), m.group(1)) for m in NEXT_FUNCTION.finditer(text)] if attributes else []
        starts = [start for start, _ in functions]
        for number, match in enumerate(attributes):
            # the attribute's arguments (over lines, descriptions holding brackets) end before the method
            # it marks and before the next attribute: windows never overlap, so the reading stays linear
            index = bisect_left(starts, match.end())
            end = min(
                functions[index][0] if index < len(functions) else len(text),
                attributes[number + 1].start() if number + 1 < len(attributes) else len(text),
                match.end() + MAX_ATTRIBUTE_GAP,
            )
            named = quoted(NAME_ARGUMENT.search(text[match.end() : end]))
            if named:
                yield match.start(), named
            elif index < len(functions) and functions[index][0] - match.end() <= MAX_ATTRIBUTE_GAP:
                yield match.start(), functions[index][1]

    def framework_tools(
        self, file: SourceFile, text: str, comments: set[int], packages: dict[str, Package]
    ) -> Iterator[Finding]:
        seen: set[str] = set()
        for package_id, pattern in self.FRAMEWORK_TOOLS.items():
            package = packages.get(package_id)
            if package:
                found = [(match.start(), quoted(match)) for match in pattern.finditer(text)]
                yield from self.named_tools(file, text, comments, found, package.provider, package.id, seen)
        openai = packages.get("openai")
        if openai:
            found = [(match.start(), quoted(match)) for match in self.OPENAI_FUNCTION.finditer(text)]
            yield from self.named_tools(file, text, comments, found, openai.provider, openai.id, seen)

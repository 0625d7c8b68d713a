"""Python source, parsed with ``ast``.

A call only counts when the name it calls resolves, through this file's imports
(or a variable assigned from an SDK constructor), to a package in the catalog:
``asyncio.Task`` is never CrewAI. Model names come from keyword arguments and
known positional slots, across line breaks, and through string constants;
references that need other files are left in ``report.facts`` for deep mode.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from common.scanner.catalog import (
    PACKAGE_TYPES,
    Package,
    integration_package,
    looks_like_hf_id,
    lookup_package,
    lookup_prefixed,
    match_model,
    module_roots,
    patterns,
    registry_name,
    utility_import,
)
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile, stripped_line
from common.scanner.facts import FileFacts, ModelReference, ToolReference
from common.scanner.keys import component_key, split_component_key
from common.scanner.lazy import lazy_re
from common.scanner.limits import NestingTooDeep, line_at, linear, parse_python
from common.scanner.model import Location
from common.scanner.model_constants import CATALOG_LITERAL, TOOL_REGISTRY_ENTRY
from common.scanner.test_data import mocked_python_test, posts_to_a_model, sends_raw_llm_request
from common.scanner.textutil import (
    OnDemand,
    bedrock_arn_models,
    calls_live_provider,
    catalog_model_literals,
    class_constant_model,
    class_constant_models,
    code_model_literals,
    comment_column,
    component_name_for,
    embedded_modelfile_bases,
    endpoint_for_url,
    folders_up,
    google_path_models,
    hf_url_models,
    is_catalog_model,
    is_prose,
    mentions_ai_endpoint,
    model_constant_definitions,
    model_finding,
    model_id_from_constant_name,
    module_name_for,
    nearest_answer,
    own_packages,
    per_scan,
    plausible_model_name,
    read_neighbour,
    scan_root_of,
)

URL_IN_STRING = linear(r"https?://[^\s'\"<>]+")
# ``ModelType.GPT_4O_MINI``: a member of a framework's model enum (CAMEL-AI's ``ModelType``, a ``ChatModel``)
CLASS_MEMBER = linear(r"\b([A-Z]\w*)\.([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b")
MAX_ENUM_MEMBERS = 1_000  # distinct model enum members resolved per module (each costs ~60 µs)
CONSTANT_NAME_HINT = linear(r"MODEL|LLM|ENGINE|DEPLOYMENT|EMBED", re.IGNORECASE)
# boto3 service names of the AWS AI services, and the catalog component each client is
AWS_AI_SERVICES = {
    "bedrock": "aws-bedrock",
    "bedrock-runtime": "aws-bedrock",
    "bedrock-agent-runtime": "aws-bedrock",
    "bedrock-agent": "aws-bedrock",
    "sagemaker-runtime": "aws-sagemaker-runtime",
}
# Keys of request bodies, config dicts and model catalogs (``{"model": "gpt-4o"}``, ``"modelId"``
# of a Bedrock invoke_model kwargs dict); only catalog ids and provider naming grammars count there.
MCP_PROVIDER = "Model Context Protocol"
# AWS SDKs that reach every service: only the service named in ``client("bedrock-runtime")`` makes one AI
GENERIC_AWS_SDKS = ("boto3", "aioboto3", "aiobotocore")
# agent-framework classes that configure the MCP server an agent connects to (pydantic-ai, OpenAI Agents,
# Agno's ``MCPTools(command="uvx pkg")`` / ``MCPTools(url=...)``, Semantic Kernel's MCP plugins)
CONFIGURED_MCP_SERVERS = frozenset(
    {"MCPServerStdio", "MCPServerSse", "MCPServerSSE", "MCPServerHTTP", "MCPTools"}
    | {"MCPServerStreamableHttp", "MCPServerStreamableHTTP"}
    | {"MCPStdioPlugin", "MCPSsePlugin", "MCPStreamableHttpPlugin", "MCPWebsocketPlugin"}
)
# MCP clients whose first argument is the server: a URL reaches a remote one (FastMCP's ``Client(url)``
# infers its transport from it; LlamaIndex's ``BasicMCPClient(url)``); a command, script or config does not
URL_OR_COMMAND_CLIENTS = frozenset({"Client", "BasicMCPClient"})
# how an MCP client reaches a remote server by URL: the MCP SDK's transports (``streamablehttp_client(url)``)
# and Google ADK's connection parameters (``MCPToolset(connection_params=SseConnectionParams(url=...))``);
# a remote server is named by its host, as an unnamed ``MCPServerSSE(url=...)`` is
REMOTE_SERVER_TRANSPORTS = frozenset(
    {"sse_client", "streamablehttp_client", "streamable_http_client", "websocket_client"}
)
REMOTE_SERVER_PARAMS = frozenset(
    {"SseConnectionParams", "StreamableHTTPConnectionParams", "SseServerParams", "StreamableHTTPServerParams"}
)
HANDED_TOOL_LIST_CALLS = {"bind_tools", "ToolNode", "create_react_agent", "bind_functions"}
# LangChain's ``bind_tools`` also takes a schema class for a tool the caller runs itself (``class
# add(BaseModel): """Add two integers."""``), named after the class; the classes a schema is written as
SCHEMA_TOOL_CALLS = {"bind_tools", "bind_functions"}
SCHEMA_CLASS_BASES = {"BaseModel", "TypedDict"}
AGENT_TOOL_WRAPPERS = {"as_tool", "AgentTool"}
MCP_DECORATORS = {"tool"}
# the tool decorators a Pydantic AI agent object carries (``@agent.tool``, ``@agent.tool_plain``)
AGENT_TOOL_DECORATORS = frozenset({"tool", "tool_plain"})
# mcp-use builds its ``MCPClient`` from a config: ``MCPClient.from_dict(config)``
MCP_CLIENT_LOADERS = frozenset({"from_dict", "from_config_file"})
# how an MCP client describes the server process it starts: the MCP SDK's parameters (also re-exported by
# Google ADK), AutoGen's, FastMCP's transport (a name too generic to count from any other package)
STARTED_SERVER_CLASSES = frozenset({"StdioServerParameters", "StdioServerParams", "StdioTransport"})
# FastMCP's class methods that build a whole server from an API description (``FastMCP.from_openapi(spec,
# client, name="x")``, ``FastMCP.from_fastapi(app)``): the server's tools are the API's operations; or
# from another server it fronts (``FastMCP.as_proxy(backend, name="x")``): the backend's tools
MCP_SERVER_FACTORIES = frozenset({"from_openapi", "from_fastapi", "as_proxy"})
# a trained spaCy pipeline ``spacy.load`` runs, named ``<lang>_<kind>_<genre>_<size>`` (``en_core_web_sm``,
# ``it_core_news_sm``, ``xx_ent_wiki_sm``, scispaCy's ``en_core_sci_md``): an id without digit or dash
SPACY_PIPELINE = linear(r"[a-z]{2,3}_[a-z]+_[a-z0-9]+_(?:sm|md|lg|trf|scibert)")
# ``mock_llm.assert_called_once_with(\n    model="llama3.1", ...)``: the arguments a test expects a mocked
# call to have received, never a model the code uses (unittest.mock's assertion methods)
MOCK_ASSERTIONS = frozenset(
    {
        "assert_called_with",
        "assert_called_once_with",
        "assert_any_call",
        "assert_awaited_with",
        "assert_awaited_once_with",
        "assert_any_await",
    }
)
MOCK_ASSERTION_CALL = linear(r"\.(?:" + "|".join(sorted(MOCK_ASSERTIONS)) + r")\(")
MAX_MOCK_ASSERTION_CHARS = 4000  # an expected call's arguments; an unclosed one ends the span there


def mock_assertion_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each mock assertion call's argument list (``.assert_called_once_with(...)``),
    brackets counted as Python writes them (a string holding a bracket can end a span early, which only
    lets a literal after it count again)."""
    if "assert_a" not in text and "assert_called" not in text:
        return []
    spans = []
    for match in MOCK_ASSERTION_CALL.finditer(text):
        depth = 0
        for index in range(match.end() - 1, min(len(text), match.end() + MAX_MOCK_ASSERTION_CHARS)):
            if text[index] == "(":
                depth += 1
            elif text[index] == ")":
                depth -= 1
                if depth == 0:
                    spans.append((match.end(), index))
                    break
    return spans


# keys of a client's settings dict that hold the API's base URL (the SDK keyword arguments' names)
CONFIGURED_BASE_URL_KEYS = frozenset({"base_url", "api_base", "openai_api_base", "azure_endpoint"})
# ``add_tool(fn, name=...)``: FastMCP's registration of a function defined elsewhere in the module
HANDED_TOOL_WRAPPERS = {
    "from_defaults",
    "from_function",
    "Tool",
    "FunctionTool",
    "StructuredTool",
    "add_tool",
    "create_tool_from_function",
    "LongRunningFunctionTool",
    "upsert_from_function",
    "create_from_function",
}
# a framework's base class for a set of tools whose methods it registers itself (Agno, Phidata)
TOOLKIT_BASES = {"Toolkit"}
PAYLOAD_MODEL_KEYS = {"model", "model_name", "model_id", "modelId", "embedding_model"}
# where a schema shows an example payload (pydantic's ``schema_extra`` / ``json_schema_extra``, the
# ``example(s)`` of ``Field``, FastAPI's ``Body``/``openapi_examples``): documentation of the API, its model
# ids configure nothing
SCHEMA_EXAMPLE_NAMES = {"schema_extra", "json_schema_extra", "example", "examples", "openapi_examples"}
# a framework's factory that builds a tool around an object that is no function (a retriever), named by
# an argument: LangChain's ``create_retriever_tool(retriever, "docs_search", "description")``
NAMED_TOOL_FACTORIES = {"create_retriever_tool": 1}


def integration_import(module: str) -> Package | None:
    """LangChain's integration package an import names by the framework's grammar, which the catalog
    does not list on its own: ``langchain_qdrant`` is ``langchain-qdrant`` (it reaches a store of its
    own). Haystack's ``haystack_integrations.document_stores.<x>`` and
    ``haystack_integrations.components.<kind>.<x>`` are ``<x>-haystack``. LlamaIndex's
    ``llama_index.<kind>.<x>`` imports stay LlamaIndex in code, as labelled."""
    parts = module.split(".")
    if parts[0] == "haystack_integrations":
        named = parts[2:3] if parts[1:2] == ["document_stores"] else parts[3:4]
        return integration_package(named[0].replace("_", "-") + "-haystack") if named else None
    root = parts[0]
    if not root.startswith("langchain_") or lookup_prefixed("python", root) is not None:
        return None
    return integration_package(root.replace("_", "-"))


def _import_hint() -> re.Pattern:
    roots = sorted(module_roots("python") | set(GENERIC_AWS_SDKS) | {"haystack_integrations"})
    return linear(r"^[ \t]*(?:from|import)[ \t]+(?:" + "|".join(map(re.escape, roots)) + r")\b", re.MULTILINE)


_IMPORT_HINT: re.Pattern | None = None


# a class a project's own agent loop may hand the model as a tool: named for a tool, or built on a base
# that is (``class ShellTool(Tool):``, ``class ReadFile(BaseTool):``); the AST then says whether it is one
OWN_TOOL_CLASS = linear(r"^[ \t]*class[ \t]+\w*Tool\b|^[ \t]*class[ \t]+\w+\([^)\n]*Tool\b", re.MULTILINE)
# the project's own tool type built with keywords (``CustomTool(name=..., description=..., parameters=...)``)
OWN_TOOL_TYPE = linear(r"^\w{0,60}Tool(?:Spec|Def|Definition|Schema)?$")
OWN_TOOL_CALL_HINT = linear(r"Tool(?:Spec|Def|Definition|Schema)?\(\s*name\s*=")
OWN_TOOL_INPUTS = frozenset(
    {
        "parameters",
        "input_schema",
        "inputSchema",
        "schema",
        "args_schema",
        "function",
        "func",
        "fn",
        "handler",
    }
)
# a decorator of the project's own tool registry (``@tool``, ``@register_tool("x")``, ``@tools.register``)
OWN_TOOL_DECORATOR_HINT = linear(r"^[ \t]*@[\w.]{0,100}(?i:tool)", re.MULTILINE)
OWN_TOOL_DECORATOR = linear(r"(?i)^(?:register_|add_)?(?:[a-z]{1,20}_)?tool$")
# a registry object's method (``@tools.register``, ``@registry.register_tool("x")``); an object's ``.tool``
# is left to the frameworks whose objects have one (an MCP server, a Pydantic AI agent)
OWN_REGISTRY_METHODS = frozenset({"register", "add", "register_tool", "add_tool"})
# the method an agent loop calls to run a tool object
OWN_TOOL_METHODS = frozenset(
    {
        "run",
        "_run",
        "arun",
        "_arun",
        "execute",
        "_execute",
        "aexecute",
        "__call__",
        "call",
        "invoke",
        "ainvoke",
    }
)
OWN_TOOL_NAME = linear(r"^[\w.:/ -]{1,64}$")
# a dict the project's own loop looks a model's tool call up in (``FUNCTION_REGISTRY = {"echo": tool_echo}``,
# ``TOOL_MAP``, ``available_functions``), in a module that handles tool calls
TOOL_REGISTRY_ASSIGNMENT = linear(
    r"(?mi)^[ \t]*(\w*(?:function|tool)s?_?(?:registry|map|table|handlers|dispatch)\w*"
    r"|available_(?:functions|tools))[ \t]*(?::[^=\n]{1,80})?=[ \t]*\{"
)
TOOL_CALL_HANDLING = linear(r"(?i)tool_?calls?\b|function_?call\b|execute_tool|run_tool|call_tool")
# the requirement lines of requirements.txt and pyproject.toml (PEP 621 strings and Poetry keys)
DECLARED_REQUIREMENT = linear(r"""^[ \t]*["']?([A-Za-z0-9][A-Za-z0-9._-]{0,80})""", re.MULTILINE)
PYTHON_MANIFESTS = ("requirements.txt", "pyproject.toml")


def own_tool_definitions(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """(name, line) of each tool a project writes for its own agent loop.

    A class named for a tool or built on one, with a written ``name``, a ``description`` and a method the
    loop runs it by (``execute``, ``run``, ``__call__``), as a class attribute, in ``__init__``
    (``self.name = "x"``) or handed to ``super().__init__(name="x", description=...)``; and a function
    under the project's own registry decorator (``@tool``, ``@register_tool("x")``, ``@tools.register``),
    named by the decorator or after the function. What a framework the module imports provides (its base
    class, its decorator) is that framework's tool, read elsewhere."""
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.level == 0
        for alias in node.names
        if lookup_prefixed("python", f"{node.module}.{alias.name}")
    } | {
        (alias.asname or alias.name).split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import)
        for alias in node.names
        if lookup_prefixed("python", alias.name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            named = next(
                (n for d in node.decorator_list if (n := _registry_decorated_name(d, node, imported))), None
            )
            if named:
                yield named, node.lineno
            continue
        if isinstance(node, ast.Call):
            named = _own_tool_instance_name(node, imported)
            if named:
                yield named, node.lineno
            continue
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [(dotted(base) or "").rsplit(".", 1)[-1] for base in node.bases]
        if any(base in imported for base in bases):
            continue
        if not (node.name.endswith("Tool") or any(base.endswith("Tool") for base in bases)):
            continue
        methods = {
            item.name: item for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        if not OWN_TOOL_METHODS & methods.keys():
            continue
        fields = _class_fields(node.body)
        initializer = methods.get("__init__")
        if initializer is not None:
            fields = {**_instance_fields(initializer), **fields}
        name = fields.get("name")
        if "description" in fields and isinstance(name, str) and OWN_TOOL_NAME.match(name.strip()):
            yield name.strip(), node.lineno


def _own_tool_instance_name(call: ast.Call, imported: set[str]) -> str | None:
    """The name of a tool built from the project's own tool type (``CustomTool(name="web_scraper",
    description=..., parameters=[...])``, a ``ToolSpec``/``ToolDefinition`` dataclass): a written
    ``name``, a ``description`` and what the model passes or the loop runs."""
    path = dotted(call.func) or ""
    if not OWN_TOOL_TYPE.match(path.rsplit(".", 1)[-1]) or path.split(".")[0] in imported:
        return None
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    label = keywords.get("name")
    if not (
        isinstance(label, ast.Constant)
        and isinstance(label.value, str)
        and "description" in keywords
        and OWN_TOOL_INPUTS & keywords.keys()
    ):
        return None
    return label.value.strip() if OWN_TOOL_NAME.match(label.value.strip()) else None


def _registry_decorated_name(decorator: ast.AST, function: ast.AST, imported: set[str]) -> str | None:
    """The tool name an own registry decorator gives ``function``, or None for any other decorator."""
    call = decorator if isinstance(decorator, ast.Call) else None
    path = dotted(call.func if call else decorator) or ""
    head, _, last = path.rpartition(".")
    if not path or path.split(".")[0] in imported:
        return None
    if head:
        own = last in OWN_REGISTRY_METHODS and ("tool" in head.lower() or last.endswith("_tool"))
    else:
        own = OWN_TOOL_DECORATOR.match(last) is not None
    if not own:
        return None
    label = None
    if call is not None:
        label = next((k.value for k in call.keywords if k.arg == "name"), call.args[0] if call.args else None)
    name = label.value if isinstance(label, ast.Constant) and isinstance(label.value, str) else function.name
    return name.strip() if OWN_TOOL_NAME.match(name.strip()) else None


def _class_fields(body: list[ast.stmt]) -> dict[str, object]:
    """{attribute: value} of a class body's ``x = ...``/``x: T = ...`` (a string kept, else True)."""
    fields: dict[str, object] = {}
    for statement in body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name):
            fields[target.id] = _field_value(value)
    return fields


def _instance_fields(initializer: ast.AST) -> dict[str, object]:
    """{attribute: value} ``__init__`` sets on ``self`` or hands to ``super().__init__(...)``."""
    fields: dict[str, object] = {}
    for node in ast.walk(initializer):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and dotted(target.value) == "self" and node.value:
                    fields[target.attr] = _field_value(node.value)
        elif isinstance(node, ast.Call) and dotted(node.func) == "super().__init__":
            fields.update({k.arg: _field_value(k.value) for k in node.keywords if k.arg})
    return fields


def _field_value(value: ast.AST) -> object:
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else True


def project_declares_llm(file: SourceFile) -> bool:
    """Whether the requirements.txt or pyproject.toml nearest above a Python file declares an LLM SDK or
    agent framework: a project that writes tool classes for a model it calls."""
    return nearest_answer(file, _manifest_declares_llm, False)


@per_scan(stopped=False)
def _manifest_declares_llm(folder: Path, root: str) -> bool | None:
    """``project_declares_llm``'s answer from ``folder``'s first Python manifest, None without one."""
    for manifest in PYTHON_MANIFESTS:
        text = read_neighbour(folder / manifest, root)
        if text is not None:
            return any(
                (package := lookup_package("pypi", name)) is not None
                and package.type in ("llm_provider", "agent_framework")
                for name in DECLARED_REQUIREMENT.findall(text)
            )
    return None


# ``from .server import mcp`` (then ``@mcp.tool()``): an MCP server object another module of the project built
LOCAL_MCP_IMPORT = linear(r"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t][^\n]*(?i:mcp)", re.MULTILINE)
# Gradio serves an app as an MCP server when it is launched with ``mcp_server=True``; such a file needs no
# AI import to hold one
GRADIO_MCP_LAUNCH = linear(r"\bmcp_server\s*=\s*True\b")
# the name Gradio's MCP server takes from an app without a ``title`` (``Blocks``' default title)
GRADIO_DEFAULT_TITLE = "Gradio"
# Gradio's environment switch for the same (``launch()`` reads it when ``mcp_server`` is not given), set in
# the module (``os.environ["GRADIO_MCP_SERVER"] = "True"``) or where the app runs: a ``.env``, its image's
# ``ENV``, its compose service's ``environment``
GRADIO_MCP_ENV = linear(
    r"""^[^#\n]{0,200}GRADIO_MCP_SERVER["']?\]?[ \t]*(?:[:=,]|[ \t])[ \t]*["']?(?i:true|1)\b""", re.MULTILINE
)
GRADIO_ENV_FILES = (
    ".env",
    "Dockerfile",
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yaml",
    "compose.yml",
)


def gradio_mcp_switched_on(file: SourceFile, text: str) -> bool:
    """Whether a module that launches a Gradio app runs with ``GRADIO_MCP_SERVER`` on: set in the module,
    or in an env file, Dockerfile or compose file of its folder or one above it."""
    if "gradio" not in text or ".launch(" not in text:
        return False
    if "GRADIO_MCP_SERVER" in text:
        return GRADIO_MCP_ENV.search(text) is not None
    return nearest_answer(file, _gradio_mcp_env_in, False)


@per_scan(stopped=False)
def _gradio_mcp_env_in(folder: Path, root: str) -> bool | None:
    """True when an env file, Dockerfile or compose file of ``folder`` switches Gradio's MCP server on."""
    for name in GRADIO_ENV_FILES:
        text = read_neighbour(folder / name, root)
        if text is not None and "GRADIO_MCP_SERVER" in text and GRADIO_MCP_ENV.search(text):
            return True
    return None


def has_ai_import(text: str) -> bool:
    global _IMPORT_HINT
    if _IMPORT_HINT is None:
        _IMPORT_HINT = _import_hint()
    if _IMPORT_HINT.search(text) is not None:
        return True
    if ".tool" in text and LOCAL_MCP_IMPORT.search(text) is not None:
        return True
    return "gradio" in text and GRADIO_MCP_LAUNCH.search(text) is not None


def is_aws_session(resolved: str) -> bool:
    """``boto3.Session``, ``aioboto3.Session``, aiobotocore's ``get_session``: the object whose
    ``client("bedrock-runtime")`` reaches Bedrock, held in a variable first."""
    head, _, name = resolved.rpartition(".")
    return head.split(".")[0] in GENERIC_AWS_SDKS and name in ("Session", "get_session")


def dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call):
        base = dotted(node.func)
        return f"{base}()" if base else None
    return None


def key_path(node: ast.AST) -> tuple[str | None, list[str]]:
    """``cfg["llm"]["model"]`` or ``cfg.get("llm", {}).get("model")`` → ("cfg", ["llm", "model"]).

    Only constant string keys count; anything else gives an empty path."""
    keys: list[str] = []
    while True:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            key, node = node.slice.value, node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            key, node = node.args[0].value, node.func.value
        else:
            return dotted(node), keys[::-1]
        if not isinstance(key, str):
            return None, []
        keys.append(key)


@dataclass
class PythonAnalysis:
    findings: list[Finding] = field(default_factory=list)
    facts: FileFacts = field(default_factory=FileFacts)
    imported_tools: list[tuple[str, str | None, Package]] = field(default_factory=list)
    served_routes: list[ServedRoutes] = field(default_factory=list)


@dataclass(frozen=True)
class ServedRoutes:
    """The FastAPI routers a FastAPI-MCP server exposes as tools, each as (module, variable) (module ""
    for this file), and the ``include_*``/``exclude_*`` filters of ``FastApiMCP(...)``."""

    routers: tuple[tuple[str, str], ...]
    filters: tuple[tuple[str, frozenset[str]], ...]


def nodes_by_type(tree: ast.AST) -> dict[type, list[ast.AST]]:
    """Every node of ``tree`` by its type, each list in ``ast.walk``'s order (breadth first, fields in
    their order), in one loop instead of ``ast.walk``'s two generators per node."""
    nodes: dict[type, list[ast.AST]] = {}
    node_type = ast.AST
    todo = deque([tree])
    take, append = todo.popleft, todo.append
    while todo:
        node = take()
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, node_type):
                append(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, node_type):
                        append(item)
        kind = type(node)
        if kind in nodes:
            nodes[kind].append(node)
        else:
            nodes[kind] = [node]
    return nodes


class _Analyzer:
    """One pass over one module's AST."""

    def __init__(
        self,
        tree: ast.Module,
        relpath: str,
        lines: list[str],
        detector: str,
        locate: Callable[[int], tuple[int, str]],
        gradio_mcp_env: bool = False,
    ):
        self.tree = tree
        self.gradio_mcp_env = gradio_mcp_env  # GRADIO_MCP_SERVER is on where this module runs
        self.nodes = nodes_by_type(tree)  # one walk; every pass below reads these buckets
        self.relpath = relpath
        self.lines = lines
        self.detector = detector
        self.locate = locate  # source line -> (reported line, snippet prefix)
        self.rules = patterns()["python"]
        self.aliases: dict[str, str] = {}
        self.instances: dict[str, str] = {}
        self.instance_models: dict[str, str] = {}
        self.constants: dict[str, str] = {}
        self.env_constants: dict[str, tuple[str, str | None]] = {}
        self.parameter_defaults: dict[str, str] = {}
        self.tools: dict[str, str] = {}  # local function/class name -> tool key
        self.findings: list[Finding] = []
        self.unresolved: list[ModelReference] = []
        self.agent_tool_refs: list[ToolReference] = []
        # functions of another module of the project handed to a framework as tools: (dotted path, name
        # the tool is given or None, framework)
        self.imported_tools: list[tuple[str, str | None, Package]] = []
        self.served_routes: list[ServedRoutes] = []
        self.has_llm_sdk = False
        self.mcp_servers: dict[str, str] = {}  # variable -> mcp_server key
        self.calls_by_name: dict[str, ast.Call] | None = None  # ``bound_calls``, built on first use
        self._assignments: dict[ast.AST, ast.Assign] | None = None  # value -> its first assignment
        self._enclosing_class: dict[ast.Call, ast.ClassDef] | None = None  # call -> the class holding it
        self._enclosing_parameters: dict[ast.AST, dict[str, ast.AST | None]] | None = None
        self.generic_roots: dict[str, Package] = {}

    def of(self, *types: type) -> list:
        """Nodes of the given types, in walk order per type."""
        if len(types) == 1:
            return self.nodes.get(types[0], [])
        return [node for kind in types for node in self.nodes.get(kind, [])]

    # -- helpers -----------------------------------------------------------------------------------
    def location(self, line: int) -> Location:
        reported, prefix = self.locate(line)
        snippet = stripped_line(self.lines[line - 1]) if 0 < line <= len(self.lines) else ""
        return Location(file=self.relpath, line=reported, snippet=prefix + snippet)

    def add(
        self, kind: str, name: str, provider: str | None, *, line: int, key: str | None = None, **fields
    ) -> Finding:
        """A finding at ``line``, keyed by ``component_key`` unless its key is spelled otherwise."""
        key = key if key is not None else component_key(kind, name)
        finding = Finding(
            key=key,
            name=name,
            type=kind,
            provider=provider,
            location=self.location(line),
            detector=self.detector,
            **fields,
        )
        self.findings.append(finding)
        return finding

    def add_package(self, package: Package, line: int, **extra) -> Finding:
        return self.add(
            package.type,
            package.id,
            package.provider,
            line=line,
            **extra,
        )

    def resolve(self, node: ast.AST) -> str | None:
        """Fully-qualified dotted path of an expression, via imports and SDK instances."""
        path = dotted(node)
        if not path:
            return None
        head, _, rest = path.partition(".")
        for candidate in (path.rsplit(".", 1)[0] if "." in path else None, "self." + rest.split(".")[0]):
            if candidate and candidate in self.instances and path.startswith(candidate):
                suffix = path[len(candidate) :]
                return self.instances[candidate] + suffix
        if head in self.instances:
            return self.instances[head] + (f".{rest}" if rest else "")
        if head in self.aliases:
            return self.aliases[head] + (f".{rest}" if rest else "")
        return None

    def literal(self, node: ast.AST | None) -> str | None:
        """A non-blank string written at ``node``, or held by the module-level constant it names
        (``FastMCP(SERVER_NAME)``, ``@mcp.tool(name=TOOL_NAME)``); an environment lookup's literal
        default (``FastMCP(os.getenv("SERVER_NAME", "inventory"))``) is the name the code declares, as a
        model's is."""
        if isinstance(node, ast.Name):
            value = self.constants.get(node.id) or self.env_constants.get(node.id, (None, None))[1]
        elif isinstance(node, ast.Call):
            value = (self.env_lookup(node) or (None, None))[1]
        else:
            value = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
        return value if value and value.strip() else None

    def package_of(self, resolved: str | None) -> Package | None:
        if not resolved:
            return None
        path = resolved.replace("()", "")
        package = lookup_prefixed("python", path)
        if package and utility_import(package, path):
            return None
        return (
            package
            or self.generic_roots.get(path.split(".")[0])
            or integration_import(path.rpartition(".")[0])
        )

    def string_value(self, node: ast.AST, line: int, strong: bool, context: dict) -> str | None:
        """Literal value of a model argument; defers cross-file references to deep mode."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.constants:
                return self.constants[node.id]
            if node.id in self.parameter_defaults:
                return self.parameter_defaults[node.id]
            if node.id in self.env_constants:
                var, default = self.env_constants[node.id]
                self.unresolved.append(ModelReference("env", line, strong, var=var, **context))
                return default
            if node.id in self.aliases:
                module, _, name = self.aliases[node.id].rpartition(".")
                self.unresolved.append(
                    ModelReference("name", line, strong, module=module, name=name, **context)
                )
            return None
        if isinstance(node, ast.Attribute):
            path = dotted(node)
            if path and path.split(".")[0] in self.aliases:
                full = self.aliases[path.split(".")[0]] + path[len(path.split(".")[0]) :]
                module, _, name = full.rpartition(".")
                self.unresolved.append(
                    ModelReference("name", line, strong, module=module, name=name, **context)
                )
            return None
        if isinstance(node, ast.Call):
            env = self.env_lookup(node)
            if env:
                var, default = env
                self.unresolved.append(ModelReference("env", line, strong, var=var, **context))
                return default
        if isinstance(node, ast.Subscript | ast.Call):
            base, keys = key_path(node)
            if base == "os.environ" and len(keys) == 1:
                self.unresolved.append(ModelReference("env", line, strong, var=keys[0], **context))
            elif base and len(keys) >= 2:  # a loaded config file read by key path
                self.unresolved.append(ModelReference("config", line, strong, path=".".join(keys), **context))
        return None

    def env_lookup(self, call: ast.Call) -> tuple[str, str | None] | None:
        name = dotted(call.func) or ""
        if not any(name.endswith(suffix) for suffix in self.rules["env_lookup_calls"]):
            return None
        if (
            not call.args
            or not isinstance(call.args[0], ast.Constant)
            or not isinstance(call.args[0].value, str)
        ):
            return None
        default = None
        if (
            len(call.args) > 1
            and isinstance(call.args[1], ast.Constant)
            and isinstance(call.args[1].value, str)
        ):
            default = call.args[1].value
        for keyword in call.keywords:
            if keyword.arg == "default" and isinstance(keyword.value, ast.Constant):
                default = keyword.value.value if isinstance(keyword.value.value, str) else None
        return call.args[0].value, default

    # -- passes ------------------------------------------------------------------------------------
    def collect_imports(self) -> None:
        for node in self.of(ast.Import, ast.ImportFrom):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.aliases[local] = alias.name if alias.asname else alias.name.split(".")[0]
                    package = lookup_prefixed("python", alias.name)
                    if package and not utility_import(package, alias.name):
                        self.note_sdk(package, node.lineno)
                    integration = integration_import(alias.name)
                    if integration:
                        self.note_sdk(integration, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:
                    base_parts = module_name_for(self.relpath).split(".")
                    base_parts = (
                        base_parts[: len(base_parts) - node.level] if node.level <= len(base_parts) else []
                    )
                    module = ".".join([*base_parts, module] if module else base_parts)
                    for alias in node.names:
                        self.aliases[alias.asname or alias.name] = (
                            f"{module}.{alias.name}" if module else alias.name
                        )
                    continue
                integration = integration_import(module)
                if integration:
                    self.note_sdk(integration, node.lineno)
                for alias in node.names:
                    full = f"{module}.{alias.name}"
                    self.aliases[alias.asname or alias.name] = full
                    package = lookup_prefixed("python", full) or lookup_prefixed("python", module)
                    if package and not utility_import(package, full):
                        self.note_sdk(package, node.lineno)
                        self.confirm_generic_root(module, package)
                    store = self.wrapped_vector_store(module, alias.name)
                    if store:
                        self.add_package(store, node.lineno)
                    runtime = self.wrapped_runtime(module, alias.name, alias.asname or alias.name)
                    if runtime:
                        self.add_package(runtime, node.lineno)

    def wrapped_vector_store(self, module: str, name: str) -> Package | None:
        """``from langchain_community.vectorstores import FAISS``: the framework's wrapper uses FAISS."""
        if not any(module.startswith(prefix) for prefix in self.rules["framework_vector_store_modules"]):
            return None
        store = self.rules["framework_vector_stores"].get(name)
        return lookup_package("id", store) if store else None

    def wrapped_runtime(self, module: str, name: str, local: str) -> Package | None:
        """``from langchain.llms import LlamaCpp`` and ``LlamaCpp(...)``: the framework's wrapper runs
        llama.cpp in-process. Only a wrapper the file instantiates loads its runtime (an import alone
        loads nothing; these wrappers import the runtime when constructed)."""
        if not any(module.startswith(prefix) for prefix in self.rules["framework_runtime_modules"]):
            return None
        runtime = self.rules["framework_runtimes"].get(name)
        if not runtime:
            return None
        called = any(isinstance(node.func, ast.Name) and node.func.id == local for node in self.of(ast.Call))
        return lookup_package("id", runtime) if called else None

    def confirm_generic_root(self, module: str, package: Package) -> None:
        """``from agents import Runner``: a top-level module name too generic to be in the catalog on
        its own (a project's local ``agents`` package) is the SDK once a name only the SDK exports is
        imported from it; its other names (``Agent``) then resolve to the SDK too."""
        if "." not in module and lookup_prefixed("python", module) is None:
            self.generic_roots[module] = package

    def note_sdk(self, package: Package, line: int) -> None:
        if package.type in ("llm_provider", "agent_framework"):
            self.has_llm_sdk = True
        self.add_package(package, line)

    def sdk_subclasses(self) -> dict[str, str]:
        """Classes of this module that extend an SDK class (``class WebSurfer(Agent[State, str])``), by the
        SDK class they extend: an instance of one is the SDK's (``@web_surfer.tool`` registers a tool)."""
        found: dict[str, str] = {}
        for node in self.of(ast.ClassDef):
            for base in node.bases:
                generic = base.value if isinstance(base, ast.Subscript) else base
                resolved = self.resolve(generic)
                if resolved and self.package_of(resolved):
                    found[node.name] = resolved
                    break
        return found

    def collect_assignments(self) -> None:
        counts: dict[str, int] = {}
        subclasses = self.sdk_subclasses()
        for node in self.of(ast.Assign, ast.AnnAssign):
            targets: list[ast.AST] = []
            value = None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            if value is None:
                continue
            for target in targets:
                name = dotted(target)
                if not name:
                    continue
                counts[name] = counts.get(name, 0) + 1
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    self.constants[name] = value.value
                elif isinstance(value, ast.Call):
                    env = self.env_lookup(value)
                    if env:
                        self.env_constants[name] = env
                    resolved = self.resolve(value.func) or subclasses.get(dotted(value.func) or "")
                    if resolved and (self.package_of(resolved) or is_aws_session(resolved)):
                        self.instances[name] = resolved + "()"
        for name, count in counts.items():
            if count > 1:
                self.constants.pop(name, None)
        self.collect_parameter_defaults(counts)

    def collect_parameter_defaults(self, assigned: dict[str, int]) -> None:
        """``def __init__(self, model_name: str = "gpt2")`` ... ``from_pretrained(model_name)``: a parameter's
        literal default is the model the call runs whenever the caller passes none. Kept only for a name
        the module neither assigns nor gives another default elsewhere (one name, one value)."""
        seen: dict[str, str | None] = {}
        for function in self.of(ast.FunctionDef, ast.AsyncFunctionDef):
            arguments = function.args
            positional = arguments.posonlyargs + arguments.args
            pairs = list(
                zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults, strict=True)
            )
            pairs += [
                (a, d)
                for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
                if d is not None
            ]
            for argument, default in pairs:
                if isinstance(default, ast.Constant) and isinstance(default.value, str):
                    value = default.value
                    seen[argument.arg] = value if seen.get(argument.arg, value) == value else None
        self.parameter_defaults = {
            name: value for name, value in seen.items() if value and name not in assigned
        }

    def analyse_calls(self) -> None:
        """MCP servers first (tools hang off them), then tool definitions (agents use them), then calls."""
        calls = self.of(ast.Call)
        definitions = self.of(ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        servers = [call for call in calls if self.is_mcp_server_call(call)]
        for call in servers:
            self.analyse_call(call)
        for node in definitions:
            if isinstance(node, ast.ClassDef):
                self.analyse_class(node)
            else:
                self.analyse_function(node)
        analysed = set(servers)  # a set: a list was searched once per call (quadratic in servers)
        for call in calls:
            if call not in analysed:
                self.analyse_call(call)
        self.analyse_handed_tools(calls)
        self.analyse_module_tool_spec()

    def analyse_handed_tools(self, calls: list[ast.Call]) -> None:
        """Plain functions an AI framework receives as tools: ``llm.bind_tools([f])``, ``tools=[f]``,
        ``ToolNode([f])``, ``FunctionTool.from_defaults(fn=f)``, ``Tool(name=..., func=f)``,
        ``agent.register_for_llm(name="f")``. Only functions defined in this module count."""
        functions = {
            node.name: node
            for node in self.tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        nested = factory_functions(functions.values())
        schema_classes = {
            node.name: node
            for node in self.tree.body
            if isinstance(node, ast.ClassDef)
            and any((dotted(base) or "").rsplit(".", 1)[-1] in SCHEMA_CLASS_BASES for base in node.bases)
        }
        built = {  # critic = Agent(name="critic", ...): the agent ``AgentTool(agent=critic)`` wraps
            node.targets[0].id: node.value
            for node in self.tree.body
            if isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call)
        }
        framework = next((f for f in self.findings if f.type in ("agent_framework", "llm_provider")), None)
        lists = {  # tools = [multiply, add]; llm.bind_tools(tools); user_functions: Set[Callable] = {f, g}
            target.id: node.value
            for node in self.tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            and isinstance(
                target := node.targets[0] if isinstance(node, ast.Assign) else node.target, ast.Name
            )
            and (isinstance(node, ast.AnnAssign) or len(node.targets) == 1)
            and isinstance(node.value, ast.List | ast.Tuple | ast.Set)
        }

        def elements(node: ast.AST | None) -> list[ast.AST]:
            node = lists.get(node.id, node) if isinstance(node, ast.Name) else node
            return list(node.elts) if isinstance(node, ast.List | ast.Tuple | ast.Set) else []

        for call in calls:
            registration = self.server_tool_registration(call)
            if registration:  # ``mcp.tool()(fn)`` / ``mcp.tool(name="x")(fn)``: the decorator applied by hand
                target, label = registration
                local = target.id if isinstance(target, ast.Name) else None
                mcp = lookup_prefixed("python", "mcp")
                if local in functions and local not in self.tools and mcp:
                    self.register_tool(local, label or local, functions[local], mcp, call)
                elif local and local not in functions and "." in self.aliases.get(local, "") and mcp:
                    self.imported_tools.append((self.aliases[local], label, mcp))
                continue
            resolved = self.resolve(call.func)
            package = self.package_of(resolved)
            method = (dotted(call.func) or "").rsplit(".", 1)[-1].replace("()", "")
            if resolved and package is None and method in HANDED_TOOL_WRAPPERS:
                continue  # another library's ``Tool.from_function``: not the file's framework's tool
            toolkit = self.toolkit_base(call) if package is None else None
            if toolkit is not None:
                package = toolkit
            owner = package or (self.package_by_id(framework.name) if framework else None)
            if owner is None:
                continue
            handed: list[tuple[ast.AST, str | None]] = []
            keywords = {k.arg: k.value for k in call.keywords if k.arg}
            if method in AGENT_TOOL_WRAPPERS and self.analyse_agent_tool(call, method, keywords, built):
                continue
            if package and method in NAMED_TOOL_FACTORIES:
                position = NAMED_TOOL_FACTORIES[method]
                label = keywords.get("name") or (call.args[position] if len(call.args) > position else None)
                name = self.literal(label)
                if (
                    isinstance(name, str)
                    and name.strip()
                    and component_key("tool", name.lower()) not in self.tools.values()
                ):
                    self.register_tool(name, name, call, package, call)
                continue
            if method in HANDED_TOOL_LIST_CALLS and call.args:
                handed += [(element, None) for element in elements(call.args[0])]
            if package:
                handed += [(element, None) for element in elements(keywords.get("tools"))]
            if method in HANDED_TOOL_WRAPPERS or (toolkit is not None and method == "register"):
                target = (
                    keywords.get("fn")
                    or keywords.get("async_fn")  # LlamaIndex's ``FunctionTool.from_defaults(async_fn=f)``
                    or keywords.get("func")
                    or keywords.get("function")
                    or (call.args[0] if call.args else None)
                )
                handed.append((target, self.literal(keywords.get("name"))))
                # Azure AI Agents' ``FunctionTool(functions={f, g})``: one wrapper around several functions
                handed += [(element, None) for element in elements(keywords.get("functions"))]
            if method == "register_for_llm" and self.literal(keywords.get("name")) in functions:
                named = self.literal(keywords["name"])
                handed.append((ast.Name(id=named), named))
            if method == "register_function" and call.args:  # AG2: register_function(f, caller=..., name=...)
                handed.append((call.args[0], self.literal(keywords.get("name"))))
            function_map = keywords.get("function_map")
            if isinstance(function_map, ast.Dict) and (package or method == "register_function"):
                handed += self.function_map_tools(function_map, functions, owner)
            if package and call.args and self.applies_tool_decorator(resolved, package):
                # ``search = function_tool(search_logic)``: the decorator applied by hand, naming as it does
                label = next((k.value for k in call.keywords if k.arg in ("name", "name_override")), None)
                handed.append((call.args[0], self.literal(label)))
            registered = False
            for element, label in handed:
                method_node = self.own_method(call, element)
                if (
                    method_node is not None
                ):  # ``dspy.ReAct(sig, tools=[self.lookup])`` in the class of ``lookup``
                    local = f"self.{method_node.name}"
                    if local not in self.tools:
                        name = label if isinstance(label, str) and label.strip() else method_node.name
                        self.register_tool(local, name, method_node, owner, method_node)
                        registered = True
                    continue
                local = element.id if isinstance(element, ast.Name) else None
                # a nested function wrapped under a computed name (``Tool(inner, name=agent.name)``) is
                # no tool by its own name
                source = functions.get(local) or (nested.get(local) if "name" not in keywords else None)
                if source is not None and local not in self.tools:
                    name = label if isinstance(label, str) and label.strip() else local
                    self.register_tool(local, name, source, owner, source)
                    registered = True
                elif local in schema_classes and method in SCHEMA_TOOL_CALLS and local not in self.tools:
                    self.register_tool(local, local, schema_classes[local], owner, schema_classes[local])
                    registered = True
                elif local and local not in functions and "." in self.aliases.get(local, ""):
                    named = label if isinstance(label, str) and label.strip() else None
                    if named is None or not self.tool_named_at_call(call):
                        self.imported_tools.append((self.aliases[local], named, owner))
            if package and not registered:
                self.analyse_named_tool(call, keywords, package)

    def analyse_module_tool_spec(self) -> None:
        """Strands' module-based tool: a module holding ``TOOL_SPEC = {"name": "x", "description": ...,
        "inputSchema": ...}`` and the function of that name is one tool, loaded by the module's path."""
        package = self.package_by_id("strands-agents")
        for node in self.tree.body if package else ():
            if not (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "TOOL_SPEC" for t in node.targets)
                and isinstance(node.value, ast.Dict)
            ):
                continue
            spec = {self.literal(k): v for k, v in zip(node.value.keys, node.value.values, strict=True) if k}
            name = self.literal(spec.get("name"))
            if (
                isinstance(name, str)
                and name.strip()
                and component_key("tool", name.lower()) not in self.tools.values()
            ):
                self.register_tool(name, name, node, package, node)

    def analyse_agent_tool(
        self, call: ast.Call, method: str, keywords: dict[str, ast.AST], built: dict[str, ast.Call]
    ) -> bool:
        """An agent handed to another as a tool: the OpenAI Agents SDK's ``agent.as_tool(tool_name="x")``
        (named by ``tool_name``), Google ADK's ``AgentTool(agent=a)`` (named as the wrapped agent is, by
        the ``name=`` it was built with in this module). Whether the call was one."""
        if method == "as_tool":
            name = self.literal(keywords.get("tool_name"))
            package = self.package_by_id("openai-agents")
        else:
            package = self.package_of(self.resolve(call.func))
            agent = keywords.get("agent") or (call.args[0] if call.args else None)
            wrapped = built.get(agent.id) if isinstance(agent, ast.Name) else None
            name = (
                self.literal(next((k.value for k in wrapped.keywords if k.arg == "name"), None))
                if wrapped
                else None
            )
        if not (package and isinstance(name, str) and name.strip()):
            return False
        if component_key("tool", name.lower()) not in self.tools.values():
            self.register_tool(name, name, call, package, call)
        return True

    def function_map_tools(
        self, function_map: ast.Dict, functions: dict[str, ast.AST], owner: Package
    ) -> list[tuple[ast.AST, str]]:
        """AutoGen 0.2's ``function_map={"name": fn}`` (``register_function`` or an agent's keyword): the
        model calls each function by its key. A function of this module or an imported one is handed on
        under that name; anything else (a method, a lambda, a name defined nowhere) is a tool at its key."""
        handed: list[tuple[ast.AST, str]] = []
        for key, value in zip(function_map.keys, function_map.values, strict=True):
            name = self.literal(key) if isinstance(key, ast.Constant) else None
            if not name:
                continue
            if isinstance(value, ast.Name) and (
                value.id in functions or "." in self.aliases.get(value.id, "")
            ):
                handed.append((value, name))
            elif component_key("tool", name.lower()) not in self.tools.values():
                self.register_tool(name, name, key, owner, key)
        return handed

    def applies_tool_decorator(self, resolved: str | None, package: Package) -> bool:
        """Whether a call is one of the package's tool decorators (``function_tool``, ``tool``) called on
        a function rather than written above it; prompt flow's ``tool`` makes a DAG node, no agent tool."""
        decorator = (resolved or "").replace("()", "").rsplit(".", 1)[-1]
        return (
            decorator in self.rules["tool_decorators"]
            and package.id not in self.rules["node_decorator_packages"]
        )

    def enclosing_class(self, call: ast.Call) -> ast.ClassDef | None:
        """The innermost class whose body holds ``call``."""
        if self._enclosing_class is None:
            self._enclosing_class = {}
            for cls in self.of(ast.ClassDef):  # outer classes first: an inner class overrides for its calls
                for node in ast.walk(cls):
                    if isinstance(node, ast.Call):
                        self._enclosing_class[node] = cls
        return self._enclosing_class.get(call)

    def own_method(self, call: ast.Call, element: ast.AST) -> ast.AST | None:
        """The method ``element`` (``self.lookup``) names when ``call`` sits in the class defining it."""
        if not (
            isinstance(element, ast.Attribute)
            and isinstance(element.value, ast.Name)
            and element.value.id == "self"
        ):
            return None
        cls = self.enclosing_class(call)
        return next(
            (
                node
                for node in (cls.body if cls else ())
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == element.attr
            ),
            None,
        )

    def toolkit_base(self, call: ast.Call) -> Package | None:
        """The framework of a toolkit class registering its own methods: Agno's ``class X(Toolkit)`` with
        ``super().__init__(tools=[self.a])`` or ``self.register(self.a)`` in its body."""
        method = dotted(call.func) or ""
        if method not in ("super().__init__", "self.register"):
            return None
        cls = self.enclosing_class(call)
        for base in cls.bases if cls else ():
            package = self.package_of(self.resolve(base))
            if package and (dotted(base) or "").rsplit(".", 1)[-1] in TOOLKIT_BASES:
                return package
        return None

    def server_tool_registration(self, call: ast.Call) -> tuple[ast.AST, str | None] | None:
        """(function, name given or None) of ``server.tool(...)(fn)`` on an MCP server of this module."""
        inner = call.func
        if not (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Attribute)
            and inner.func.attr == "tool"
            and isinstance(inner.func.value, ast.Name)
            and inner.func.value.id in self.mcp_servers
            and len(call.args) == 1
        ):
            return None
        label = next((self.literal(k.value) for k in inner.keywords if k.arg == "name"), None)
        if label is None and inner.args:
            label = self.literal(inner.args[0])
        return call.args[0], label if isinstance(label, str) and label.strip() else None

    @staticmethod
    def tool_named_at_call(call: ast.Call) -> bool:
        """Whether ``analyse_named_tool`` reads the tool at the call (``Tool(name="x", func=f)``, a
        ``*Tool`` wrapper naming it) rather than at the function it wraps."""
        parts = (dotted(call.func) or "").replace("()", "").split(".")
        constructor = parts[-2] if parts[-1] in HANDED_TOOL_WRAPPERS and len(parts) > 1 else parts[-1]
        return constructor.endswith("Tool")

    def analyse_named_tool(self, call: ast.Call, keywords: dict[str, ast.AST], package: Package) -> None:
        """A framework tool built with an explicit name around something that is not a function of this
        module: ``Tool(name="Search", func=search.run)``, LlamaIndex's ``QueryEngineTool(metadata=
        ToolMetadata(name="docs"))`` or ``QueryEngineTool.from_defaults(name=...)``."""
        if not self.tool_named_at_call(call):
            return
        if package.id == "mcp" and call in self.calls_in_test_functions():
            return  # ``MCPTool(name="x", inputSchema=...)`` in a test: a mocked listing, not a server's tool
        label = keywords.get("name")
        metadata = keywords.get("metadata")
        if label is None and isinstance(metadata, ast.Call):
            label = next((k.value for k in metadata.keywords if k.arg == "name"), None)
        name = self.literal(label)
        if name and component_key("tool", name.lower()) not in self.tools.values():
            self.register_tool(name, name, call, package, call)

    def package_by_id(self, package_id: str) -> Package | None:
        for finding in self.findings:
            if finding.name == package_id and finding.type in ("agent_framework", "llm_provider"):
                return Package(finding.name, finding.type, finding.provider or "")
        return None

    def is_mcp_server_call(self, call: ast.Call) -> bool:
        package = self.package_of(self.resolve(call.func))
        method = (dotted(call.func) or "").rsplit(".", 1)[-1]
        return bool(
            package and package.id in ("mcp", "fastmcp") and method in self.rules["mcp_server_classes"]
        )

    def analyse_call(self, call: ast.Call) -> None:
        resolved = self.resolve(call.func)
        package = self.package_of(resolved)
        method = (dotted(call.func) or "").rsplit(".", 1)[-1].replace("()", "")
        if resolved and not package and method == "client" and resolved.split(".")[0] in GENERIC_AWS_SDKS:
            self.analyse_boto3(call)
            return
        if method == "launch" and self.launches_mcp_server(call):
            self.analyse_gradio_mcp_server(call)
        if package is None:
            if self.has_llm_sdk:
                self.analyse_models(call, method, None, strong=False)
            return
        if not isinstance(call.func, ast.Attribute) or (dotted(call.func.value) or "") in self.aliases:
            self.add_package(package, call.lineno)
        model_key = self.analyse_models(call, method, package, strong=True)
        self.analyse_endpoints(call, package)
        if method in self.rules["mcp_server_classes"] and package.id in ("mcp", "fastmcp"):
            self.analyse_mcp_server(call)
        elif method == "FastApiMCP" and package.id == "fastapi-mcp":
            self.analyse_mcp_server(call)  # FastAPI-MCP serves the app's routes as the server's tools
            self.analyse_served_routes(call)
        elif method in MCP_SERVER_FACTORIES and package.id == "fastmcp":
            name = self.literal(next((k.value for k in call.keywords if k.arg == "name"), None))
            self.add_mcp_server(name, call, "proxy" if method == "as_proxy" else "generated")
        elif (
            method in self.rules["mcp_client_classes"]
            and (package.id in ("mcp", "fastmcp") or "mcp" in method.lower())
        ) or (method in MCP_CLIENT_LOADERS and (dotted(call.func) or "").endswith(f"MCPClient.{method}")):
            name = self.declared_client_name() or registry_name(package.id, "pypi")
            self.add(
                "mcp_client",
                name,
                MCP_PROVIDER,
                line=call.lineno,
            )
            if method in CONFIGURED_MCP_SERVERS or method in REMOTE_SERVER_TRANSPORTS:
                self.analyse_configured_mcp_server(
                    call, method, remote_only=method in REMOTE_SERVER_TRANSPORTS
                )
            elif (
                method in URL_OR_COMMAND_CLIENTS
                and (package.id == "fastmcp" or method != "Client")
                and self.reaches_url(call)
            ):
                self.analyse_configured_mcp_server(call, method, remote_only=True)
        elif method in REMOTE_SERVER_PARAMS:
            self.analyse_configured_mcp_server(call, method, remote_only=True)
        elif method in self.rules["agent_classes"] or method in self.rules["multi_agent_classes"]:
            self.analyse_agent(call, package, model_key)
        elif method in STARTED_SERVER_CLASSES and (
            package.id in ("mcp", "fastmcp") or method != "StdioTransport"
        ):
            self.analyse_started_mcp_server(call)
        elif method == "Tool" and package.id == "mcp":
            self.analyse_listed_mcp_tool(call)
        elif method == "create_sdk_mcp_server":
            self.analyse_in_process_mcp_server(call)
        elif method == "pydantic_function_tool" and call.args:
            # the OpenAI SDK names the function after the Pydantic model unless ``name=`` says otherwise
            model = dotted(call.args[0]) or ""
            name = self.literal(next((k.value for k in call.keywords if k.arg == "name"), None))
            name = name or model.rsplit(".", 1)[-1]
            if name and component_key("tool", name.lower()) not in self.tools.values():
                self.register_tool(name, name, call, package, call)

    def launches_mcp_server(self, call: ast.Call) -> bool:
        """``launch(mcp_server=True)``, or a ``launch()`` that leaves it to ``GRADIO_MCP_SERVER`` when on."""
        given = next((keyword for keyword in call.keywords if keyword.arg == "mcp_server"), None)
        if given is None:
            return self.gradio_mcp_env and not any(keyword.arg is None for keyword in call.keywords)
        return any(
            keyword.arg == "mcp_server"
            and isinstance(keyword.value, ast.Constant)
            and keyword.value.value is True
            for keyword in call.keywords
        )

    def analyse_gradio_mcp_server(self, call: ast.Call) -> None:
        """``demo.launch(mcp_server=True)``: Gradio serves the app as an MCP server named by the app's
        ``title`` (Gradio's own ``Server(blocks.title)``), ``Gradio`` without one. Only an app the file
        builds with Gradio counts: another object's ``launch`` says nothing."""
        app = self.gradio_app(call.func.value) if isinstance(call.func, ast.Attribute) else None
        if app is None:
            return
        title = self.literal(next((k.value for k in app.keywords if k.arg == "title"), None))
        self.add_mcp_server(title or GRADIO_DEFAULT_TITLE, call, "code")

    def gradio_app(self, node: ast.AST) -> ast.Call | None:
        """The Gradio constructor call that builds ``node``: the call itself (``gr.Interface(...).launch``),
        or the one a module assignment or ``with gr.Blocks(...) as demo`` binds to its name."""
        if isinstance(node, ast.Call):
            return node if (self.resolve(node.func) or "").startswith("gradio.") else None
        bound = self.bound_calls().get(dotted(node) or "")
        return self.gradio_app(bound) if bound is not None else None

    def bound_calls(self) -> dict[str, ast.Call]:
        """Name -> the first call bound to it by an assignment or a ``with … as name`` (built once: a
        file may launch many apps)."""
        if self.calls_by_name is None:
            self.calls_by_name = {}
            for assign in self.of(ast.Assign):
                for target in assign.targets if isinstance(assign.value, ast.Call) else ():
                    self.calls_by_name.setdefault(dotted(target) or "", assign.value)
            for block in self.of(ast.With):
                for item in block.items:
                    if item.optional_vars is not None and isinstance(item.context_expr, ast.Call):
                        self.calls_by_name.setdefault(dotted(item.optional_vars) or "", item.context_expr)
        return self.calls_by_name

    def analyse_in_process_mcp_server(self, call: ast.Call) -> None:
        """The Claude Agent SDK's ``create_sdk_mcp_server(name="x", tools=[...])``: an MCP server the
        agent runs in its own process, serving the ``@tool`` functions it is given."""
        name = self.literal(next((k.value for k in call.keywords if k.arg == "name"), None))
        tools = next((k.value for k in call.keywords if k.arg == "tools"), None)
        listed = tools.elts if isinstance(tools, ast.List | ast.Tuple) else []
        relations = [
            ("provides_tool", self.tools[element.id])
            for element in listed
            if isinstance(element, ast.Name) and element.id in self.tools
        ]
        self.add_mcp_server(name, call, "in-process", relations)

    def add_mcp_server(self, name: str | None, call: ast.Call, transport: str, relations=()) -> str:
        """An MCP server the file defines; unnamed, it is named after the file. Its component key."""
        name = (name or component_name_for(self.relpath)).lower()
        key = component_key("mcp_server", name)
        self.add(
            "mcp_server",
            name,
            MCP_PROVIDER,
            key=key,
            line=call.lineno,
            relations=list(relations),
            metadata={"transport": transport},
        )
        return key

    @staticmethod
    def reaches_url(call: ast.Call) -> bool:
        """Whether a client's first argument is a written URL (not a script path or a config)."""
        first = call.args[0] if call.args else None
        return (
            isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and first.value.startswith(("http://", "https://", "ws://", "wss://"))
        )

    def analyse_configured_mcp_server(self, call: ast.Call, method: str, remote_only: bool = False) -> None:
        """pydantic-ai's ``MCPServerStdio("npx", args=[...])`` / ``MCPServerSSE(url=...)`` and the OpenAI
        Agents SDK's ``MCPServerStdio(name=..., params={"command": ..., "args": [...]})``: the server the
        agent starts or reaches, described like the same entry in a client config file and named by its
        ``name``/``id``/``tool_prefix``, else by its package, script or host."""

        def text(node: ast.AST | None) -> str | None:
            return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

        def strings(node: ast.AST | None) -> list[str]:
            items = node.elts if isinstance(node, ast.List | ast.Tuple) else []
            return [value for item in items if (value := text(item)) is not None]

        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        params = keywords.get("params")
        if isinstance(params, ast.Dict):
            keywords.update(
                {
                    k.value: v
                    for k, v in zip(params.keys, params.values, strict=True)
                    if isinstance(k, ast.Constant)
                }
            )
        first = text(call.args[0]) if call.args else None
        stdio = "stdio" in method.lower()
        transport = "sse" if "sse" in method.lower() else "http"
        spec: dict = {}
        command = text(keywords.get("command")) or (first if stdio else None)
        url = text(keywords.get("url")) or (None if stdio else first)
        declared = next(
            (text(keywords.get(k)) for k in ("name", "id", "tool_prefix") if text(keywords.get(k))), None
        )
        if not (stdio or command or url or declared):
            written = keywords.get("url") or (call.args[0] if call.args else None)
            for each in self.urls_named_by(written, call):
                self.add_configured_mcp_server(call, {"url": each, "type": transport}, None, remote_only)
            return
        if command:
            args_node = keywords.get("args") or (call.args[1] if len(call.args) > 1 else None)
            spec = {"command": command, "args": strings(args_node)}
        elif url:
            spec = {"url": url, "type": transport}
        elif not declared:
            return
        self.add_configured_mcp_server(call, spec, declared, remote_only)

    def add_configured_mcp_server(
        self, call: ast.Call, spec: dict, declared: str | None, remote_only: bool
    ) -> None:
        """The server of a client config entry ``spec`` (empty when only its name is written), named by
        ``declared``, else by its package, script or host."""
        from common.scanner.detectors.mcp_config import classify, describe_server

        version, flags, described, name = None, set(), {}, declared
        if spec:
            info = describe_server(spec)
            classify(info)
            host = (info.url or "").split("://", 1)[-1].split("/", 1)[0]
            name = declared or info.package or info.local_script or host
            version, flags, described = (
                info.version,
                set(info.flags) - {"hardcoded_api_key"},
                info.described(),
            )
            if remote_only and "mcp_remote_server" not in info.flags:
                # a transport reaching this machine: dropped where the project builds its own MCP server
                described["local_address"] = True
        # else parameters built elsewhere (``params=params_config``): the server is still the one it names
        if not name:
            return
        self.add(
            "mcp_server",
            name,
            MCP_PROVIDER,
            key=component_key("mcp_server", name.lower()),
            line=call.lineno,
            version=version,
            flags=flags,
            metadata={k: v for k, v in {**described, "declared_in": "code"}.items() if v is not None},
        )

    def urls_named_by(self, node: ast.AST | None, call: ast.Call) -> list[str]:
        """The URLs a variable handed to an MCP transport holds: a module constant
        (``sse_client(SERVER_URL)``), or each string of the list a loop around the call walks (``for url
        in SERVER_URLS:`` ... ``sse_client(url=url)``, the list written in the loop or assigned once in the
        module)."""
        if not isinstance(node, ast.Name):
            return []
        if node.id in self.constants:
            return [self.constants[node.id]] if "://" in self.constants[node.id] else []
        for loop in self.of(ast.For, ast.AsyncFor):
            if not (
                isinstance(loop.target, ast.Name)
                and loop.target.id == node.id
                and loop.lineno <= call.lineno <= (loop.end_lineno or loop.lineno)
            ):
                continue
            listed = loop.iter
            if isinstance(listed, ast.Name):
                assigned = [
                    a.value
                    for a in self.of(ast.Assign)
                    if any(isinstance(t, ast.Name) and t.id == listed.id for t in a.targets)
                ]
                listed = assigned[0] if len(assigned) == 1 else None
            items = listed.elts if isinstance(listed, ast.List | ast.Tuple) else []
            urls = [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]
            return urls if len(urls) == len(items) and all("://" in u for u in urls) else []
        return []

    def analyse_started_mcp_server(self, call: ast.Call) -> None:
        """``StdioServerParameters(command="npx", args=["-y", "pkg"])`` (and FastMCP's ``StdioTransport``):
        the server an MCP client starts, named by the package a runner starts (a local script is the
        project's own code, not a server of its own here)."""
        from common.scanner.detectors.mcp_config import started_package

        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        command = keywords.get("command", call.args[0] if call.args else None)
        listed = keywords.get("args", call.args[1] if len(call.args) > 1 else None)
        if not (isinstance(command, ast.Constant) and isinstance(command.value, str)):
            return
        items = listed.elts if isinstance(listed, ast.List | ast.Tuple) else []
        args = [
            item.value for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)
        ]
        info = started_package(command.value, args)
        if info is None:
            return
        self.add(
            "mcp_server",
            info.package,
            MCP_PROVIDER,
            key=component_key("mcp_server", info.package.lower()),
            line=call.lineno,
            version=info.version,
            flags=set(info.flags) - {"hardcoded_api_key"},
            metadata={k: v for k, v in {**info.described(), "declared_in": "code"}.items() if v is not None},
        )

    def declared_client_name(self) -> str | None:
        """``ClientSession(r, w, client_info=Implementation(name="x", ...))``: how the module's MCP client
        introduces itself to servers (its transport call, ``stdio_client(...)``, is the same client)."""
        if not hasattr(self, "_declared_client_name"):
            self._declared_client_name = None
            for node in ast.walk(self.tree):
                info = next((k.value for k in getattr(node, "keywords", ()) if k.arg == "client_info"), None)
                named = next((k.value for k in getattr(info, "keywords", ()) if k.arg == "name"), None)
                if isinstance(named, ast.Constant) and isinstance(named.value, str) and named.value.strip():
                    self._declared_client_name = named.value
                    break
        return self._declared_client_name

    def analyse_listed_mcp_tool(self, call: ast.Call) -> None:
        """The low-level MCP server lists its tools as ``types.Tool(name="search", ...)`` values; one a test
        function builds is a mocked listing, input for the code under test."""
        if call in self.calls_in_test_functions():
            return
        for keyword in call.keywords:
            name = self.literal(keyword.value) if keyword.arg == "name" else None
            if name:
                self.add(
                    "tool",
                    name.strip().lower(),
                    MCP_PROVIDER,
                    line=keyword.value.lineno,
                    metadata={"framework": "mcp"},
                )

    def calls_in_test_functions(self) -> set[ast.Call]:
        """The calls made inside a test function (``def test_...``), found once per module."""
        if not hasattr(self, "_test_calls"):
            self._test_calls = {
                node
                for function in self.of(ast.FunctionDef, ast.AsyncFunctionDef)
                if function.name.startswith("test")
                for node in ast.walk(function)
                if isinstance(node, ast.Call)
            }
        return self._test_calls

    def analyse_models(
        self, call: ast.Call, method: str, package: Package | None, strong: bool
    ) -> str | None:
        candidates: list[ast.AST] = []
        revision = None
        for keyword in call.keywords:
            if keyword.arg in self.rules["model_kwargs"]:
                candidates.append(keyword.value)
            elif keyword.arg == "revision" and isinstance(keyword.value, ast.Constant):
                revision = str(keyword.value.value)
            elif keyword.arg == "revision" and isinstance(keyword.value, ast.Name):
                revision = self.constants.get(keyword.value.id)
        position = self.rules["positional_model_calls"].get(method)
        if method == "pull" and package is not None and package.id != "ollama":
            position = None  # langchain's hub.pull("owner/prompt") fetches a prompt, not a model
        if method == "load" and (package is None or package.id != "spacy"):
            position = None  # spacy.load("en_core_web_sm") names a pipeline; torch.load/joblib.load a path
        if strong and position is not None and len(call.args) > position:
            candidates.append(call.args[position])
        hf_context = method in self.rules["hf_loading_calls"]
        found = None
        for candidate in candidates:
            context = {
                "relation_from": component_key(package.type, package.id) if package else None,
                "hf": hf_context,
            }
            value = self.string_value(candidate, call.lineno, strong, context)
            if not value:
                continue
            if isinstance(candidate, ast.Name) and isinstance(self.instance_models.get(candidate.id), str):
                found = self.instance_models[candidate.id]
                continue
            finding = model_finding(value, call.lineno, strong=strong, hf_context=hf_context)
            if finding is None and method == "load" and package and SPACY_PIPELINE.fullmatch(value):
                finding = (component_key("model", value.lower()), value.lower(), package.provider, {})
            if finding is None:
                continue
            key, name, provider, metadata = finding
            if revision:
                metadata["revision"] = revision
            self.add(
                "model",
                name,
                provider,
                key=key,
                model_name=name,
                line=call.lineno,
                metadata=metadata,
            )
            if package:
                self.add_package(package, call.lineno, relations=[("uses_model", key)])
            found = key
        for keyword in call.keywords:
            if keyword.arg == "llm" and isinstance(keyword.value, ast.Name):
                found = self.instance_models.get(keyword.value.id, found)
        return found

    def analyse_endpoints(self, call: ast.Call, package: Package) -> None:
        for keyword in call.keywords:
            if keyword.arg not in self.rules["endpoint_kwargs"]:
                continue
            value = self.string_value(keyword.value, call.lineno, True, {"relation_from": None, "hf": False})
            if not value or not value.startswith(("http://", "https://")):
                continue
            endpoint = endpoint_for_url(value, any_host=True)
            if endpoint:
                name, provider, metadata = endpoint
                key = component_key("endpoint", name)
                self.add(
                    "endpoint",
                    name,
                    provider or package.provider,
                    key=key,
                    line=call.lineno,
                    metadata=metadata,
                )
                self.add_package(package, call.lineno, relations=[("calls", key)])

    def analyse_boto3(self, call: ast.Call) -> None:
        service = None
        if call.args and isinstance(call.args[0], ast.Constant):
            service = call.args[0].value
        for keyword in call.keywords:
            if keyword.arg == "service_name" and isinstance(keyword.value, ast.Constant):
                service = keyword.value.value
        package = lookup_package("id", AWS_AI_SERVICES[service]) if service in AWS_AI_SERVICES else None
        if package:
            self.has_llm_sdk = True
            self.add_package(package, call.lineno)

    def analyse_mcp_server(self, call: ast.Call) -> None:
        name = self.literal(call.args[0]) if call.args else None
        for keyword in call.keywords:
            if keyword.arg == "name" and self.literal(keyword.value):
                name = self.literal(keyword.value)
        unnamed = not call.args and not any(keyword.arg == "name" for keyword in call.keywords)
        if name is None and unnamed and (dotted(call.func) or "").rsplit(".", 1)[-1] == "FastMCP":
            name = "FastMCP"  # the name FastMCP gives a server built without one
        key = self.add_mcp_server(name, call, "code")
        assignment = self.assignment_of(call)
        for target in assignment.targets if assignment else ():
            target_name = dotted(target)
            if self.instances.get(target_name, "").endswith(("FastMCP()", "Server()", "MCPServer()")):
                self.mcp_servers[target_name] = key

    def analyse_served_routes(self, call: ast.Call) -> None:
        """The app ``FastApiMCP(app, ...)`` wraps and every router this file includes into an app
        (``app.include_router(items_router)``), with the server's operation and tag filters."""
        names = [dotted(call.args[0])] if call.args else []
        names += [
            dotted(include.args[0])
            for include in self.of(ast.Call)
            if isinstance(include.func, ast.Attribute)
            and include.func.attr == "include_router"
            and include.args
        ]
        routers: list[tuple[str, str]] = []
        for name in names:
            if not name or "(" in name:
                continue
            module, _, variable = self.aliases.get(name, "").rpartition(".")
            routers.append((module, variable) if module else ("", name))
        filters = []
        for keyword in call.keywords:
            if keyword.arg in ROUTE_FILTERS and isinstance(keyword.value, ast.List | ast.Tuple):
                values = frozenset(v for e in keyword.value.elts if (v := self.literal(e)))
                filters.append((keyword.arg, values))
        self.served_routes.append(ServedRoutes(tuple(dict.fromkeys(routers)), tuple(filters)))

    def assignment_of(self, call: ast.Call) -> ast.Assign | None:
        """The first assignment whose value is ``call``, from a map built once per file: each server
        searched every assignment for every instance (a file of thousands of servers was quadratic)."""
        if self._assignments is None:
            self._assignments = {}
            for node in self.of(ast.Assign):
                self._assignments.setdefault(node.value, node)
        return self._assignments.get(call)

    def analyse_agent(self, call: ast.Call, package: Package, model_key: str | None) -> None:
        framework_key = component_key(package.type, package.id)
        relations: list[tuple[str, str]] = []
        if model_key:
            relations.append(("uses_model", model_key))
        for keyword in call.keywords:
            if keyword.arg != "tools" or not isinstance(keyword.value, ast.List | ast.Tuple):
                continue
            for element in keyword.value.elts:
                tool_name = dotted(element.func if isinstance(element, ast.Call) else element)
                if not tool_name:
                    continue
                local = tool_name.replace("()", "")
                if local in self.tools:
                    relations.append(("uses_tool", self.tools[local]))
                elif local in self.aliases:
                    self.agent_tool_refs.append(
                        ToolReference(framework_key, self.aliases[local], call.lineno)
                    )
        if relations:
            self.add_package(package, call.lineno, relations=relations)

    def decorator_package(
        self, decorator: ast.AST, function: ast.AST | None = None
    ) -> tuple[Package | None, str, ast.Call | None]:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        name = (dotted(target) or "").rsplit(".", 1)[-1]
        head = (dotted(target) or "").split(".")[0]
        if head in self.mcp_servers:
            return lookup_prefixed("python", "mcp"), name, call
        resolved = self.resolve(target)
        if resolved is None and "." in (dotted(target) or "") and function is not None:
            package = self.outer_parameter_package(function, head)
            if package:
                return package, name, call
        if (
            name in MCP_DECORATORS
            and "mcp" in head.lower()
            and head in self.aliases
            and not self.package_of(resolved)
        ):
            # ``from .server import mcp`` then ``@mcp.tool()``: the server object of another module of
            # the project, named as servers are
            return lookup_prefixed("python", "mcp"), name, call
        if (
            name in AGENT_TOOL_DECORATORS
            and head in self.aliases
            and not self.package_of(resolved)
            and any(path.split(".")[0] == "pydantic_ai" for path in self.aliases.values())
        ):
            # ``from .agent import support_agent`` then ``@support_agent.tool``: Pydantic AI's agent
            # built in another module of the project, its tools spread over this one
            return lookup_prefixed("python", "pydantic_ai"), name, call
        if resolved:  # ``from crewai.tools import tool as crew_tool``: the decorator is still ``tool``
            name = resolved.replace("()", "").rsplit(".", 1)[-1]
        return self.package_of(resolved), name, call

    def outer_parameter_package(self, function: ast.AST, head: str) -> Package | None:
        """The framework of a server or agent handed to the function around a decorated one: ``def
        register(mcp: FastMCP):`` around ``@mcp.tool()``, the usual way to spread a server's tools over
        modules (``agent: Agent`` likewise). Unannotated, a parameter named for a server counts in a
        file importing the MCP SDK."""
        parameters = self.enclosing_parameters().get(function, {})
        if head not in parameters:
            return None
        annotation = parameters[head]
        if isinstance(annotation, ast.BinOp):  # ``FastMCP | None``
            annotation = annotation.left
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            annotation = ast.Name(id=annotation.value.split("[")[0].strip())
        if annotation is not None:
            return self.package_of(self.resolve(annotation))
        mcp = lookup_prefixed("python", "mcp")
        imports_mcp = any(path.split(".")[0] in ("mcp", "fastmcp") for path in self.aliases.values())
        named_for_server = "mcp" in head.lower() or "server" in head.lower()
        return mcp if imports_mcp and named_for_server else None

    def enclosing_parameters(self) -> dict[ast.AST, dict[str, ast.AST | None]]:
        """{nested function: {parameter: annotation}} of the functions around it, inner ones shadowing
        outer ones; built once per module, on the first decorator that needs it."""
        if self._enclosing_parameters is None:
            self._enclosing_parameters = {}
            # walk order visits an outer function before the functions nested in it, so a middle
            # function's entry is complete when it hands its own parameters on
            for outer in self.of(ast.FunctionDef, ast.AsyncFunctionDef):
                arguments = outer.args
                own = {
                    argument.arg: argument.annotation
                    for argument in (arguments.posonlyargs + arguments.args + arguments.kwonlyargs)
                }
                inherited = {**self._enclosing_parameters.get(outer, {}), **own}
                for inner in ast.walk(outer):
                    if inner is not outer and isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                        self._enclosing_parameters[inner] = inherited
        return self._enclosing_parameters

    def analyse_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            package, name, call = self.decorator_package(decorator, node)
            if not package or name not in self.rules["tool_decorators"]:
                continue
            if package.id in self.rules["node_decorator_packages"]:
                continue  # prompt flow's ``@tool`` makes a function a node of its DAG, no agent calls it
            tool_name = (self.literal(call.args[0]) if call and call.args else None) or node.name
            for keyword in call.keywords if call else ():  # @function_tool(name_override="x")
                if keyword.arg in ("name", "name_override") and self.literal(keyword.value):
                    tool_name = self.literal(keyword.value)
            self.register_tool(node.name, tool_name, node, package, decorator)

    def analyse_class(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            package = self.package_of(self.resolve(base))
            base_name = (dotted(base) or "").rsplit(".", 1)[-1]
            if package and base_name == "BaseToolSpec":
                self.analyse_tool_spec(node, package)
                continue
            if not package or base_name not in self.rules["tool_base_classes"]:
                continue
            if node.name in self.rules["tool_base_classes"]:
                continue  # the framework's own tool base classes, not a tool
            tool_name = node.name
            for statement in node.body:
                value = statement.value if isinstance(statement, ast.Assign | ast.AnnAssign) else None
                target = (
                    statement.targets[0]
                    if isinstance(statement, ast.Assign)
                    else getattr(statement, "target", None)
                )
                if isinstance(target, ast.Name) and target.id == "name" and self.field_default(value):
                    tool_name = self.field_default(value)
            self.register_tool(node.name, tool_name, node, package, node)

    def analyse_tool_spec(self, node: ast.ClassDef, package: Package) -> None:
        """LlamaIndex's ``BaseToolSpec``: each method ``spec_functions`` lists (a name, or a
        ``(sync, async)`` pair) becomes a tool named after it."""
        methods = {
            item.name: item for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        for statement in node.body:
            if not (
                isinstance(statement, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "spec_functions" for t in statement.targets)
                and isinstance(statement.value, ast.List | ast.Tuple)
            ):
                continue
            for element in statement.value.elts:
                if isinstance(element, ast.Tuple) and element.elts:
                    element = element.elts[0]
                name = self.literal(element)
                if isinstance(name, str) and name in methods and f"self.{name}" not in self.tools:
                    self.register_tool(f"self.{name}", name, methods[name], package, methods[name])

    def field_default(self, value: ast.AST | None) -> str | None:
        """The string a class attribute holds: written or a constant, also as Pydantic's
        ``Field(default="x")``/``Field("x")`` (LangChain and CrewAI tools are Pydantic models)."""
        if isinstance(value, ast.Call) and (dotted(value.func) or "").rsplit(".", 1)[-1] == "Field":
            default = next((k.value for k in value.keywords if k.arg == "default"), None)
            value = default if default is not None else value.args[0] if value.args else None
        return self.literal(value)

    def register_tool(
        self, local: str, tool_name: str, node: ast.AST, package: Package, anchor: ast.AST
    ) -> None:
        key = component_key("tool", tool_name.lower())
        self.tools[local] = key
        flags = {"dangerous_code"} if self.runs_dangerous_code(node) else set()
        line = getattr(anchor, "lineno", node.lineno)
        self.add(
            "tool",
            tool_name.lower(),
            MCP_PROVIDER if package.id in ("mcp", "fastmcp") else package.provider,
            key=key,
            line=line,
            flags=flags,
            metadata={"framework": package.id},
        )
        server = next((k for v, k in self.mcp_servers.items() if self.decorated_by(node, v)), None)
        if server:
            self.add(
                "mcp_server",
                split_component_key(server)[1],
                MCP_PROVIDER,
                key=server,
                line=line,
                relations=[("provides_tool", key)],
            )

    def decorated_by(self, node: ast.AST, variable: str) -> bool:
        for decorator in getattr(node, "decorator_list", []):
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if (dotted(target) or "").split(".")[0] == variable:
                return True
        return False

    def runs_dangerous_code(self, node: ast.AST) -> bool:
        dangerous = set(self.rules["dangerous_calls"])
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call):
                name = dotted(inner.func) or ""
                resolved = (
                    self.aliases.get(name.split(".")[0], name.split(".")[0]) + name[len(name.split(".")[0]) :]
                )
                if name in dangerous or resolved in dangerous:
                    return True
        return False

    def analyse_strings(self) -> None:
        docstrings = set()
        for node in self.of(ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            if node.body:
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    docstrings.add(id(first.value))
        ollama = any(f.provider == "Ollama" and f.type == "llm_provider" for f in self.findings)
        for node in self.of(ast.Constant):
            if ollama and isinstance(node.value, str) and "FROM" in node.value and id(node) not in docstrings:
                self.embedded_modelfile(node)
            if (
                isinstance(node.value, str)
                and "http" in node.value
                and id(node) not in docstrings
                and not is_prose(node.value)  # a message or help text names a URL, it configures none
            ):
                for url in URL_IN_STRING.findall(node.value):
                    endpoint = endpoint_for_url(url, any_host=False)
                    if endpoint:
                        name, provider, metadata = endpoint
                        self.add(
                            "endpoint",
                            name,
                            provider,
                            line=node.lineno,
                            metadata=metadata,
                        )

    def embedded_modelfile(self, node: ast.Constant) -> None:
        """The base model of a Modelfile an Ollama client builds from a string (``client.create``)."""
        for offset, value in embedded_modelfile_bases(node.value):
            line = node.lineno + node.value.count("\n", 0, offset)
            found = model_finding(value, line, strong=True, hf_context=True)
            if found:
                key, name, provider, metadata = found
                self.add("model", name, provider, key=key, model_name=name, line=line, metadata=metadata)

    def track_instance_models(self) -> None:
        """``llm = ChatOpenAI(model="gpt-4o")`` lets ``Agent(llm=llm)`` point at gpt-4o."""
        for node in self.of(ast.Assign):
            if not isinstance(node.value, ast.Call):
                continue
            call = node.value
            if not self.package_of(self.resolve(call.func)):
                continue
            for keyword in call.keywords:
                if keyword.arg in self.rules["model_kwargs"]:
                    pending = len(self.unresolved)
                    value = self.string_value(
                        keyword.value, call.lineno, True, {"relation_from": None, "hf": False}
                    )
                    del self.unresolved[pending:]  # analyse_calls records the same reference again
                    model = (
                        model_finding(value, call.lineno, strong=True, hf_context=False) if value else None
                    )
                    if model:
                        for target in node.targets:
                            if isinstance(target, ast.Name):
                                self.instance_models[target.id] = model[0]

    def schema_example_nodes(self) -> set[int]:
        """Ids of the dicts inside a schema's example payloads (``SCHEMA_EXAMPLE_NAMES``)."""
        examples: list[ast.AST] = [
            node.value
            for node in self.of(ast.Assign)
            if any(isinstance(t, ast.Name) and t.id in SCHEMA_EXAMPLE_NAMES for t in node.targets)
        ]
        examples += [node.value for node in self.of(ast.keyword) if node.arg in SCHEMA_EXAMPLE_NAMES]
        examples += [
            value
            for node in self.of(ast.Dict)
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and key.value in SCHEMA_EXAMPLE_NAMES
        ]
        return {
            id(inner) for example in examples for inner in ast.walk(example) if isinstance(inner, ast.Dict)
        }

    def analyse_payload_models(self) -> None:
        """``{"model": "gpt-4o"}`` request bodies of raw HTTP calls (only catalog ids count); not the
        example payloads a schema documents."""
        examples = self.schema_example_nodes()
        for node in self.of(ast.Dict):
            if id(node) in examples:
                continue
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in PAYLOAD_MODEL_KEYS:
                    literal = self.string_value(
                        value, node.lineno, False, {"relation_from": None, "hf": False}
                    )
                    found = (
                        model_finding(literal, node.lineno, strong=False, hf_context=False)
                        if literal
                        else None
                    )
                    if found:
                        model_key, name, provider, metadata = found
                        self.add(
                            "model",
                            name,
                            provider,
                            key=model_key,
                            model_name=name,
                            line=value.lineno,
                            metadata=metadata,
                        )

    def analyse_configured_base_urls(self) -> None:
        """``settings["base_url"] = "https://api.aimlapi.com"`` or ``{"base_url": ...}`` in a module that
        uses an LLM SDK: the address the client is built with later (``LLM(**settings)``), any host."""
        for node in self.of(ast.Assign, ast.Dict):
            if isinstance(node, ast.Dict):
                pairs = zip(node.keys, node.values, strict=True)
            else:
                pairs = (
                    (target.slice, node.value) for target in node.targets if isinstance(target, ast.Subscript)
                )
            for key, value in pairs:
                if not (isinstance(key, ast.Constant) and key.value in CONFIGURED_BASE_URL_KEYS):
                    continue
                url = self.literal(value)
                if not url or not url.startswith(("http://", "https://")):
                    continue
                endpoint = endpoint_for_url(url, any_host=True)
                if endpoint:
                    name, provider, metadata = endpoint
                    self.add("endpoint", name, provider, line=value.lineno, metadata=metadata)

    def imports_generic_cloud_sdk(self) -> bool:
        """The generic AWS SDKs reach Bedrock and SageMaker only through ``client("bedrock-runtime")``."""
        return any(target.split(".")[0] in GENERIC_AWS_SDKS for target in self.aliases.values())

    def serves_gradio_mcp(self) -> bool:
        """Whether the module imports Gradio and launches something with ``mcp_server=True``."""
        return any(module.split(".")[0] == "gradio" for module in self.aliases.values()) and any(
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "launch"
            and self.launches_mcp_server(call)
            for call in self.of(ast.Call)
        )

    def imports_local_mcp_server(self) -> bool:
        """A name with "mcp" in it imported from a module that is no catalog package (the project's own)."""
        return any(
            "mcp" in local.lower() and not self.package_of(target) for local, target in self.aliases.items()
        )

    def run(self) -> None:
        self.collect_imports()
        self.collect_assignments()
        if (
            not self.findings
            and not self.imports_generic_cloud_sdk()
            and not self.imports_local_mcp_server()
            and not self.serves_gradio_mcp()
        ):
            self.analyse_strings()
            if self.findings:
                self.analyse_payload_models()
            return
        self.track_instance_models()
        self.analyse_calls()
        self.analyse_strings()
        if self.has_llm_sdk:
            self.analyse_payload_models()
            self.analyse_configured_base_urls()


def analyse_python(
    source: str,
    relpath: str,
    detector: str,
    locate: Callable[[int], tuple[int, str]] | None = None,
    gradio_mcp_env: bool = False,
) -> PythonAnalysis:
    """Findings and deep-mode facts for one module (or a notebook's joined code cells)."""
    tree = parse_python(source, relpath)
    lines = source.splitlines()
    analyzer = _Analyzer(tree, relpath, lines, detector, locate or (lambda line: (line, "")), gradio_mcp_env)
    analyzer.run()
    facts = FileFacts(module=module_name_for(relpath))
    facts.constants = {
        name: value
        for name, value in analyzer.constants.items()
        if "." not in name
        and (CONSTANT_NAME_HINT.search(name) or match_model(value) or looks_like_hf_id(value))
        and plausible_model_name(value)
    }
    facts.env_constants = {
        name: tuple(env) for name, env in analyzer.env_constants.items() if CONSTANT_NAME_HINT.search(name)
    }
    facts.unresolved_models = [
        replace(ref, line=analyzer.locate(ref.line)[0], snippet=analyzer.location(ref.line).snippet)
        for ref in analyzer.unresolved
    ]
    facts.tools = analyzer.tools
    facts.agent_tool_refs = [
        replace(ref, line=analyzer.locate(ref.line)[0], snippet=analyzer.location(ref.line).snippet)
        for ref in analyzer.agent_tool_refs
    ]
    return PythonAnalysis(
        findings=analyzer.findings,
        facts=facts if facts else FileFacts(),
        imported_tools=analyzer.imported_tools,
        served_routes=analyzer.served_routes,
    )


MAX_LINES_LEFT_OUT = 8
F_STRING_PREFIX = linear(r"(?i)^[rb]?f[rb]?[\'\"]")
# what every f-string token holds: a text without it has none to empty, and is not tokenized
F_STRING_OPENING = linear(r"(?i)f[rb]?[\'\"]")
# ``tokenize`` reads a quote that opens no string to the end of its line before it gives the quote up as an
# error token and tries the next character: a line of thousands of such quotes cost seconds per 8 KB
# (quadratic). Past this many times the text read again so, the file is taken as not tokenizing.
MAX_REREAD_TIMES = 4


def without_f_strings(text: str) -> str | None:
    """``text`` with every f-string token replaced by an empty string spanning as many lines, or None
    when it does not tokenize: 3.12 lets an f-string's expressions hold backslashes and comments that
    this interpreter's parser rejects, and an f-string holds no import or model argument we read."""
    if not F_STRING_OPENING.search(text):
        return None
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    pieces, done = [], 0
    reread, most = 0, MAX_REREAD_TIMES * len(text)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.ERRORTOKEN and token.string in ("'", '"'):
                reread += len(token.line) - token.start[1]
                if reread > most:
                    return None
            if token.type != tokenize.STRING or not F_STRING_PREFIX.search(token.string):
                continue
            begin = starts[token.start[0] - 1] + token.start[1]
            end = starts[token.end[0] - 1] + token.end[1]
            newlines = token.string.count("\n")
            pieces += [text[done:begin], '"""' + "\n" * newlines + '"""' if newlines else '""']
            done = end
    except (tokenize.TokenError, SyntaxError):
        return None
    return "".join(pieces) + text[done:] if pieces else None


def analyse_without_unparsable_lines(
    text: str, relpath: str, detector: str, error: SyntaxError
) -> PythonAnalysis | None:
    """The analysis of a file this interpreter cannot parse, with its f-strings emptied and then the lines
    it still rejects blanked (numbering kept): syntax of a newer Python (3.12's f-strings, ``type``
    aliases) would otherwise hide every import and call of the file. A few lines at most; a file that
    still fails is not Python to us."""
    plain = without_f_strings(text)
    if plain is not None:
        try:
            return analyse_python(plain, relpath, detector)
        except SyntaxError as again:
            text, error = plain, again
    lines = text.split("\n")
    for _ in range(MAX_LINES_LEFT_OUT):
        index = (error.lineno or 0) - 1
        if not 0 <= index < len(lines) or not lines[index].strip():
            return None
        lines[index] = ""
        try:
            return analyse_python("\n".join(lines), relpath, detector)
        except SyntaxError as again:
            error = again
    return None


MODULE_CONSTANT = lazy_re(
    r"^([A-Z][A-Z0-9_]*)[ \t]*(?::[ \t]*str[ \t]*)?=[ \t]*(?:(['\"])([^'\"\n]+)\2"
    r"|os\.(?:getenv|environ\.get)\([ \t]*['\"]([A-Za-z_][A-Za-z0-9_]*)['\"][ \t]*"
    r"(?:,[ \t]*['\"]([^'\"\n]*)['\"])?)",
    re.MULTILINE,
)


def constant_facts(text: str, relpath: str) -> FileFacts:
    """Model-like module constants of a file without AI imports (a config module), for deep mode."""
    facts = FileFacts(module=module_name_for(relpath))
    for match in MODULE_CONSTANT.finditer(text):
        name, _, value, env_var, env_default = match.groups()
        if not CONSTANT_NAME_HINT.search(name):
            continue
        if value is not None and plausible_model_name(value):
            facts.constants[name] = value
        elif env_var:
            facts.env_constants[name] = (env_var, env_default)
    return facts if facts else FileFacts()


# ``model_name = os.environ.get("MODEL_NAME", "gpt-4o")`` or ``os.getenv("MODEL_NAME") or "gpt-4o"``: the
# literal default configures the model whenever the environment does not, wherever the value is used (a
# settings class read by other modules)
ENV_DEFAULT = lazy_re(
    r"""^[ \t]*([A-Za-z_][\w.]*)[ \t]*(?::[^=\n]{1,80})?=[ \t]*(?:os\.)?(?:getenv|environ\.get)\("""
    r"""[ \t]*['"]([A-Za-z_]\w*)['"][ \t]*(?:,[ \t]*|\)[ \t]+or[ \t]+)['"]([^'"\n]{1,120})['"]""",
    re.MULTILINE,
)
MODEL_SETTING_NAME = linear(r"MODEL|LLM|EMBED", re.IGNORECASE)
PYTHON_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "Pipfile")
TOP_LEVEL_IMPORT = lazy_re(r"^[ \t]*(?:from|import)[ \t]+([A-Za-z_]\w*)", re.MULTILINE)


@per_scan()
def python_project_root(folder: str, root: str) -> str:
    """The nearest folder at or above ``folder`` (within the scan) with a Python project file, else the
    scan root: the folder a project's code runs from, first on its import path."""
    current = folder
    while True:
        if any(os.path.isfile(os.path.join(current, name)) for name in PYTHON_PROJECT_FILES):
            return current
        if os.path.realpath(current) == root or os.path.dirname(current) == current:
            return root
        current = os.path.dirname(current)


def own_modules(file: SourceFile, text: str) -> set[str]:
    """Top-level modules the file imports that its project defines itself (``faiss.py`` or
    ``faiss/__init__.py`` at the project root, or ``src/faiss/__init__.py`` in the src layout, which an
    editable install puts on the path): ``import faiss`` imports the project's module, not the library
    of that name."""
    scan_root = scan_root_of(file)
    root = python_project_root(str(file.path.parent), scan_root) or scan_root  # None once a budget stopped it
    found = set()
    for name in set(TOP_LEVEL_IMPORT.findall(text)):
        base = os.path.join(root, name)
        if (
            os.path.isfile(base + ".py")
            or os.path.isfile(os.path.join(base, "__init__.py"))
            or os.path.isfile(os.path.join(root, "src", name, "__init__.py"))
        ):
            found.add(name)
    return found


TRIPLE_QUOTED = lazy_re(r"""(\"\"\"|\'\'\')(?s:.*?)\1""")


def triple_quoted_lines(text: str) -> set[int]:
    """Lines inside triple-quoted strings: docstrings and their usage examples, prompt templates. A model
    id written there is prose, not configuration."""
    if '"""' not in text and "'''" not in text:
        return set()
    lines: set[int] = set()
    for match in TRIPLE_QUOTED.finditer(text):
        lines.update(range(line_at(text, match.start()), line_at(text, match.end()) + 1))
    return lines


# the opening of a schema's example payload: ``schema_extra = {``, ``json_schema_extra={``,
# ``"json_schema_extra": {``, ``examples=[``, ``example={`` (names in ``SCHEMA_EXAMPLE_NAMES``)
SCHEMA_EXAMPLE_OPENING = lazy_re(
    r"""\b["']?(?:json_schema_extra|schema_extra|openapi_examples|examples?)["']?\s*[:=]\s*[\[{(]"""
)
MAX_EXAMPLE_CHARS = 20_000  # a longer payload is not read to its end (its tail stays as it is)


def without_schema_examples(text: str) -> str:
    """``text`` with the example payloads a schema documents blanked out (same length, same lines): model
    ids in them document an API, they configure nothing."""
    if "xample" not in text and "schema_extra" not in text:
        return text
    spans: list[tuple[int, int]] = []
    end = 0
    for match in SCHEMA_EXAMPLE_OPENING.finditer(text):
        if match.start() < end:
            continue
        depth, index = 0, match.end() - 1
        limit = min(len(text), index + MAX_EXAMPLE_CHARS)
        while index < limit:
            char = text[index]
            depth += char in "[{("
            depth -= char in "]})"
            index += 1
            if depth == 0:
                break
        end = index
        spans.append((match.end(), index))
    if not spans:
        return text
    pieces, last = [], 0
    for start, stop in spans:
        pieces.append(text[last:start])
        pieces.append(re.sub(r"[^\n]", " ", text[start:stop]))
        last = stop
    pieces.append(text[last:])
    return "".join(pieces)


def comment_lines(file: SourceFile) -> set[int]:
    """Lines of ``file`` that are a ``#`` comment or inside a triple-quoted string: prose."""
    comments = {n for n, raw in enumerate(file.lines, start=1) if raw.lstrip().startswith("#")}
    return comments | triple_quoted_lines(file.text)


def hash_comment_offsets(text: str) -> dict[int, int]:
    """Line -> offset in ``text`` of the ``#`` that opens a comment after code on that line (a ``#``
    inside a string literal opens none). One pass over the text."""
    found: dict[int, int] = {}
    offset = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        if "#" in raw and not raw.lstrip().startswith("#"):
            column = comment_column(raw, "#", "\"'")
            if column is not None:
                found[number] = offset + column
        offset += len(raw) + 1
    return found


def factory_functions(
    module_functions: Iterable[ast.FunctionDef | ast.AsyncFunctionDef],
) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Functions a module-level function defines in its body and hands on from there (a factory's
    ``def search(q): ...`` then ``return FunctionTool.from_defaults(fn=search)``), each by a name no other
    nested function shares: the name can only mean that function where the factory's call names it."""
    nested: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for outer in module_functions:
        for node in ast.walk(outer):
            if node is not outer and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                nested.setdefault(node.name, []).append(node)
    return {name: nodes[0] for name, nodes in nested.items() if len(nodes) == 1}


class PythonDetector(Detector):
    name = "python"

    def constant_models(self, file: SourceFile, **evidence: str) -> Iterator[Finding]:
        """``MODEL_NAME = "gpt-4o-mini"`` or ``MODELS = ["gpt-4o", ...]`` in a module without AI imports
        (a config or settings module): the name says it configures models and the catalog knows the id.
        Never inside a triple-quoted string: a docstring's usage example is prose."""
        expected = OnDemand(lambda: mock_assertion_spans(file.text))
        prose = OnDemand(lambda: triple_quoted_lines(file.text))
        for offset, value in catalog_model_literals(file.text):
            line = line_at(file.text, offset)
            if line in prose or file.lines[line - 1].lstrip().startswith("#"):
                continue
            if any(start <= offset < end for start, end in expected):
                continue  # the arguments a test expects a mocked call to have received
            found = model_finding(value, line, strong=False, hf_context=False)
            if found:
                yield self.model_at(file, line, found, **evidence)

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix == ".py"

    @staticmethod
    def mocked_test_inputs(file: SourceFile) -> bool:
        """A test importing no AI SDK that runs the project's code against mocks and reads no provider
        credential: its model-named values are input data for that code, not models it uses."""
        return file.scope == "test" and mocked_python_test(file.text) and not calls_live_provider(file.text)

    @staticmethod
    def test_input_evidence(file: SourceFile) -> dict[str, str]:
        """A test importing no AI SDK that neither reads a provider credential nor posts a request to a
        model itself reaches one only through the project's code: in a project that shows no AI use, its
        model-named values (``generate_sse_chunk(model="gemini-1.5-pro")``) are input data, so they count
        as catalog literals do, only where the project uses AI somewhere."""
        if file.scope != "test" or calls_live_provider(file.text) or posts_to_a_model(file.text):
            return {}
        return {"evidence": CATALOG_LITERAL}

    def env_default_models(self, file: SourceFile, findings: list[Finding]) -> Iterator[Finding]:
        """Catalog model ids that are the literal default of an environment read into a model setting:
        the code runs that model whenever the variable is unset, even when an ``.env`` template names
        another one (that template's value is its own finding)."""
        if file.scope == "test":
            return
        if "getenv(" not in file.text and "environ.get(" not in file.text:
            return  # what every match of ``ENV_DEFAULT`` holds: its search tries every line start
        reported = {f.key for f in findings if f.type == "model"}
        for match in ENV_DEFAULT.finditer(file.text):
            setting, variable, default = match.groups()
            if not (MODEL_SETTING_NAME.search(setting) or MODEL_SETTING_NAME.search(variable)):
                continue
            if not is_catalog_model(default):
                continue
            line = line_at(file.text, match.start(3))
            found = model_finding(default, line, strong=False, hf_context=False)
            if found and found[0] not in reported:
                reported.add(found[0])
                yield self.model_at(file, line, found)

    def models_at_offsets(
        self,
        file: SourceFile,
        found_at: Iterable[tuple[int, str]],
        comments: set[int],
        reported: set[str],
        *,
        hf_context: bool = False,
        **extra_metadata,
    ) -> Iterator[Finding]:
        """A model for each (offset, id) ``found_at`` names, never in a comment, once per id in the file
        (``reported``: the inventory is per file)."""
        for offset, value in found_at:
            line = line_at(file.text, offset)
            found = model_finding(value, line, strong=False, hf_context=hf_context)
            if found and line not in comments and found[0] not in reported:
                reported.add(found[0])
                yield self.model_at(file, line, found, **extra_metadata)

    def model_enum_members(
        self, file: SourceFile, findings: list[Finding], own: dict[str, str]
    ) -> Iterator[Finding]:
        """``ModelType.GPT_4O_MINI`` in a module that imports an AI package: a member of a class whose name
        says it holds models, named after the id it stands for (C's rule for SDK constants, as the other
        languages apply it). A member the module defines itself stands for its own value, found as a
        literal; in a test that never calls out, the member is input data like any literal."""
        if "odel" not in file.text or (file.scope == "test" and not calls_live_provider(file.text)):
            return
        comments = OnDemand(lambda: comment_lines(file))
        after_code = OnDemand(lambda: hash_comment_offsets(file.text))
        reported = {f.key for f in findings if f.type == "model"}
        resolved: set[str] = set()  # members named once: a file of one member repeated resolved it each time
        for match in CLASS_MEMBER.finditer(file.text):
            member = match.group(2)
            if "model" not in match.group(1).lower() or member in own or member in resolved:
                continue
            line = line_at(file.text, match.start())
            if line in comments or match.start() > after_code.get(line, match.start()):
                continue
            if len(resolved) == MAX_ENUM_MEMBERS:
                return
            resolved.add(member)
            value = class_constant_model(match.group(1), member) or model_id_from_constant_name(
                member, named_as_model=True
            )
            found = model_finding(value, line, strong=False, hf_context=False) if value else None
            if found and found[0] not in reported:
                reported.add(found[0])
                yield self.model_at(file, line, found, resolved_from=match.group(0))

    def catalog_literals(self, file: SourceFile, findings: list[Finding]) -> Iterator[Finding]:
        """Catalog model ids held in any literal shape (dict keys and values, lists, tuples) that no
        call or model-named constant of the file already reported (the inventory is per file)."""
        comments = OnDemand(lambda: comment_lines(file))
        reported = {f.key for f in findings if f.type == "model"}
        text = without_schema_examples(file.text)
        # a model file downloaded, or a model repository cloned
        yield from self.models_at_offsets(file, hf_url_models(file.text), comments, reported, hf_context=True)
        if file.scope == "test" and not (calls_live_provider(file.text) or posts_to_a_model(file.text)):
            return  # a literal id in a test is input data for the code under test; calls count, above
        # a file that sends its own LLM request needs no other file's AI use for its literals to count
        evidence = {} if sends_raw_llm_request(file.text) else {"evidence": CATALOG_LITERAL}
        # ``.../models/gemini-pro:generateContent``
        yield from self.models_at_offsets(file, google_path_models(text), comments, reported, **evidence)
        # an ARN says Bedrock itself: ``f"arn:aws:bedrock:{region}::foundation-model/amazon.titan-…"``
        yield from self.models_at_offsets(file, bedrock_arn_models(text), comments, reported)
        yield from self.models_at_offsets(file, class_constant_models(text), comments, reported)
        # ``"openai:gpt-4o",  # "openai:gpt-4o-mini"``: the alternative a comment keeps is no model
        for line, value in code_model_literals(text, comments, OnDemand(lambda: hash_comment_offsets(text))):
            found = model_finding(value, line, strong=False, hf_context=False)
            if found and found[0] not in reported:
                reported.add(found[0])
                yield self.model_at(file, line, found, **evidence)

    def detect(self, file: SourceFile, report: FileReport):
        text = file.text
        model_constants = model_constant_definitions(text)
        gradio_mcp_env = gradio_mcp_switched_on(file, text)
        if not has_ai_import(text) and not gradio_mcp_env and not mentions_ai_endpoint(text):
            facts = constant_facts(text, file.relpath)
            facts.model_constants = model_constants
            report.facts.update(facts)
            findings = (
                []
                if self.mocked_test_inputs(file)
                else list(self.constant_models(file, **self.test_input_evidence(file)))
            )
            findings += self.env_default_models(file, findings)
            findings += self.own_tools(file, text, findings)
            findings += self.registry_tools(file, text, findings)
            return findings + list(self.catalog_literals(file, findings))
        try:
            analysis = analyse_python(text, file.relpath, self.name, gradio_mcp_env=gradio_mcp_env)
        except SyntaxError as exc:
            report.warnings.append(f"python: cannot parse ({exc.msg}, line {exc.lineno})")
            analysis = analyse_without_unparsable_lines(text, file.relpath, self.name, exc)
            if analysis is None:
                return []
        analysis.facts.model_constants = model_constants
        report.facts.update(analysis.facts)
        findings = analysis.findings
        if own := own_packages(file, "pypi"):  # the project's own package, imported by its examples and tests
            findings = [f for f in findings if f.type not in PACKAGE_TYPES or f.name not in own]
        shadowed = {p.id for name in own_modules(file, text) if (p := lookup_prefixed("python", name))}
        if shadowed:
            findings = [f for f in findings if f.type not in PACKAGE_TYPES or f.name not in shadowed]
        findings = findings + list(self.env_default_models(file, findings))
        findings += self.model_enum_members(file, findings, model_constants)
        findings += self.imported_tools(file, analysis.imported_tools)
        findings += self.route_tools(file, analysis.served_routes)
        findings += self.own_tools(file, text, findings)
        findings += self.registry_tools(file, text, findings)
        return findings + list(self.catalog_literals(file, findings))

    def registry_tools(self, file: SourceFile, text: str, findings: list[Finding]) -> list[Finding]:
        """The tools of a name-to-function registry the project's own loop runs a model's tool calls
        through (``FUNCTION_REGISTRY = {"get_current_time": tool_get_current_time, ...}`` beside
        ``execute_tool_call``): each key is the name the model calls, no provider (the loop is the
        project's). Every value must be a function of this module or an imported name, so a table of
        settings or classes is none; tests define stand-ins."""
        if file.scope == "test" or TOOL_REGISTRY_ASSIGNMENT.search(text) is None:
            return []
        if TOOL_CALL_HANDLING.search(text) is None:
            return []
        try:
            tree = parse_python(text, file.relpath)
        except (SyntaxError, ValueError, NestingTooDeep):
            return []
        callables = {
            node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        } | {
            alias.asname or alias.name.split(".")[0]
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        known = {f.name for f in findings if f.type == "tool"}
        found = []
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict)):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) != 1 or not isinstance(targets[0], ast.Name):
                continue
            match = TOOL_REGISTRY_ASSIGNMENT.match(f"{targets[0].id} = {{")
            if match is None or not node.value.keys:
                continue
            entries = list(zip(node.value.keys, node.value.values, strict=True))
            if not all(
                isinstance(key, ast.Constant)
                and isinstance(key.value, str)
                and OWN_TOOL_NAME.match(key.value)
                and isinstance(value, ast.Name)
                and value.id in callables
                for key, value in entries
            ):
                continue
            for key, _ in entries:
                name = key.value.lower()
                if name not in known:
                    known.add(name)
                    found.append(
                        self.located(
                            file, key.lineno, "tool", name, None, metadata={"evidence": TOOL_REGISTRY_ENTRY}
                        )
                    )
        return found

    def own_tools(self, file: SourceFile, text: str, findings: list[Finding]) -> list[Finding]:
        """The tools of a project's own agent loop (``own_tool_definitions``), in a module that uses an
        LLM SDK or agent framework or of a project declaring one; no provider (the loop is the project's).
        A tool this module already reports through a framework is not reported again; tests define
        stand-ins."""
        if file.scope == "test" or (
            OWN_TOOL_CLASS.search(text) is None
            and OWN_TOOL_DECORATOR_HINT.search(text) is None
            and OWN_TOOL_CALL_HINT.search(text) is None
        ):
            return []
        uses_llm = any(f.type in ("llm_provider", "agent_framework", "endpoint") for f in findings)
        if not (uses_llm or project_declares_llm(file)):
            return []
        try:
            tree = parse_python(text, file.relpath)
        except (SyntaxError, ValueError, NestingTooDeep):
            return []
        known = {f.name for f in findings if f.type == "tool"}
        found = []
        for name, line in own_tool_definitions(tree):
            if name.lower() not in known:
                known.add(name.lower())
                found.append(self.located(file, line, "tool", name.lower(), None))
        return found

    def imported_tools(
        self, file: SourceFile, handed: list[tuple[str, str | None, Package]]
    ) -> list[Finding]:
        """Functions an agent here receives as tools but another module of the project defines
        (``from app.tools import get_balance`` ... ``Agent(tools=[get_balance])``): each is a tool at its
        definition, which alone (no AI import) says nothing of being one."""
        found: list[Finding] = []
        root = scan_root_of(file)
        for path, label, owner in handed:
            module, _, function = path.rpartition(".")
            defined = project_function(file, root, module, function)
            if defined is None:
                continue
            relpath, line, snippet = defined
            name = (label or function).lower()
            found.append(
                Finding(
                    key=component_key("tool", name),
                    name=name,
                    type="tool",
                    provider=MCP_PROVIDER if owner.id in ("mcp", "fastmcp") else owner.provider,
                    location=Location(file=relpath, line=line, snippet=snippet),
                    detector=self.name,
                    metadata={"framework": owner.id, "handed_in": file.relpath},
                )
            )
        return found

    def route_tools(self, file: SourceFile, served: list[ServedRoutes]) -> list[Finding]:
        """FastAPI-MCP's tools: the routes of the routers its app includes, wherever they are defined,
        each named by its ``operation_id`` (the name the server gives the tool; a route without one gets
        a generated name no code writes), less those its filters leave out."""
        found: list[Finding] = []
        seen: set[str] = set()
        root = scan_root_of(file)
        for server in served:
            filters = dict(server.filters)
            for module, variable in server.routers:
                path = str(file.path) if not module else project_module_path(file, root, module)
                for operation, line, tags, relpath, snippet in router_routes(path, root, variable, 3):
                    if operation in seen or not route_served(operation, tags, filters):
                        continue
                    seen.add(operation)
                    found.append(
                        Finding(
                            key=component_key("tool", operation.lower()),
                            name=operation.lower(),
                            type="tool",
                            provider=MCP_PROVIDER,
                            location=Location(file=relpath, line=line, snippet=snippet),
                            detector=self.name,
                            metadata={"framework": "fastapi-mcp", "declared_as": "route operation"},
                        )
                    )
        return found


# ``FastApiMCP(app, include_operations=[...], exclude_tags=[...])``
ROUTE_FILTERS = frozenset({"include_operations", "exclude_operations", "include_tags", "exclude_tags"})
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "api_route"})
ROUTER_CLASSES = frozenset({"APIRouter", "FastAPI"})


def route_served(operation: str, tags: frozenset[str], filters: dict[str, frozenset[str]]) -> bool:
    """Whether FastAPI-MCP exposes the route: operations filter first, then tags, as it documents."""
    if "include_operations" in filters:
        return operation in filters["include_operations"]
    if operation in filters.get("exclude_operations", ()):
        return False
    if "include_tags" in filters:
        return bool(tags & filters["include_tags"])
    return not tags & filters.get("exclude_tags", frozenset())


def project_module_path(file: SourceFile, root: str, module: str) -> str | None:
    """The path of the project module ``module`` (dotted, as imported), looked for in the importing file's
    folder and each folder above it within the scan."""
    if not DOTTED_MODULE.fullmatch(module):
        return None
    tail = module.replace(".", "/")
    for folder in folders_up(file):
        for candidate in (folder / f"{tail}.py", folder / tail / "__init__.py"):
            if os.path.isfile(candidate):
                return str(candidate)
    return None


def router_routes(
    path: str | None, root: str, variable: str, hops: int
) -> list[tuple[str, int, frozenset[str], str, str]]:
    """(operation_id, line, tags, relpath, text) of each route declared on ``variable`` in the module at
    ``path``, following a package's re-export (``from .items import router as items_router``) up to
    ``hops`` times."""
    if path is None:
        return []
    routes, imports = module_routes(path, root)
    if variable in routes:
        return routes[variable]
    if variable not in imports or hops <= 0:
        return []
    level, module, name = imports[variable]
    if level:
        folder = Path(path).parent
        for _ in range(level - 1):
            folder = folder.parent
        tail = folder / module.replace(".", "/") if module else folder
        target = next((str(c) for c in (Path(f"{tail}.py"), tail / "__init__.py") if os.path.isfile(c)), None)
        return router_routes(target, root, name, hops - 1)
    return []


@per_scan(stopped=({}, {}))
def module_routes(
    path: str, root: str
) -> tuple[dict[str, list[tuple[str, int, frozenset[str], str, str]]], dict[str, tuple[int, str, str]]]:
    """A module's FastAPI routes by the router variable they are declared on (``@router.get(...,
    operation_id="x")``, tagged by the route's and the router's ``tags``), and its ``from`` imports (local
    name -> level, module, imported name), read once per scan."""
    text = read_neighbour(Path(path), root)
    if text is None or ("operation_id" not in text and "import" not in text):
        return {}, {}
    try:
        tree = parse_python(text, path)
    except (SyntaxError, ValueError, NestingTooDeep):
        return {}, {}
    lines = text.splitlines()
    relpath = os.path.relpath(os.path.realpath(path), root).replace(os.sep, "/")

    def strings(node: ast.AST | None) -> frozenset[str]:
        elements = node.elts if isinstance(node, ast.List | ast.Tuple) else ()
        return frozenset(
            e.value for e in elements if isinstance(e, ast.Constant) and isinstance(e.value, str)
        )

    router_tags: dict[str, frozenset[str]] = {}
    imports: dict[str, tuple[int, str, str]] = {}
    routes: dict[str, list[tuple[str, int, frozenset[str], str, str]]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                imports[alias.asname or alias.name] = (node.level, node.module or "", alias.name)
        elif (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and (dotted(node.value.func) or "").rsplit(".", 1)[-1] in ROUTER_CLASSES
        ):
            tags = strings(next((k.value for k in node.value.keywords if k.arg == "tags"), None))
            for target in node.targets:
                if isinstance(target, ast.Name):
                    router_tags[target.id] = tags
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                if not (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr in ROUTE_METHODS
                    and isinstance(decorator.func.value, ast.Name)
                ):
                    continue
                keywords = {k.arg: k.value for k in decorator.keywords if k.arg}
                operation = keywords.get("operation_id")
                if not (isinstance(operation, ast.Constant) and isinstance(operation.value, str)):
                    continue
                router = decorator.func.value.id
                tags = router_tags.get(router, frozenset()) | strings(keywords.get("tags"))
                line = operation.lineno
                routes.setdefault(router, []).append(
                    (operation.value, line, tags, relpath, lines[line - 1].strip())
                )
    return routes, imports


DOTTED_MODULE = linear(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def project_function(file: SourceFile, root: str, module: str, function: str) -> tuple[str, int, str] | None:
    """(relpath, line, text) of ``def function`` at the top of the project module ``module`` (dotted, as
    imported), looked for in the importing file's folder and each folder above it within the scan."""
    if not module or not DOTTED_MODULE.fullmatch(module):
        return None
    tail = module.replace(".", "/")
    for folder in folders_up(file):
        for candidate in (f"{tail}.py", f"{tail}/__init__.py"):
            defined = module_functions(str(folder / candidate), root).get(function)
            if defined:
                line, text = defined
                relpath = os.path.relpath(os.path.realpath(folder / candidate), root).replace(os.sep, "/")
                return relpath, line, text
    package, _, sibling = module.rpartition(".")
    top = package.split(".")[0]
    if package and not any(
        os.path.exists(f / top) or os.path.exists(f / f"{top}.py") for f in folders_up(file)
    ):
        # a package imported by the name it is installed or deployed under, not by its folder's (an ADK
        # agent folder imported as ``product_agent.tools``): the module of that name nearest the importer
        return project_function(file, root, sibling, function)
    return None


@per_scan(stopped={})
def module_functions(path: str, root: str) -> dict[str, tuple[int, str]]:
    """Undecorated top-level functions of a project module (name -> line and its text), read once per
    scan. A decorated one is already a tool by its decorator (``@tool("Shell runner")``, found in its
    own file under the name the decorator gives it) or wrapped into something else."""
    text = read_neighbour(Path(path), root)
    if text is None or "def " not in text:
        return {}
    try:
        tree = parse_python(text, path)
    except (SyntaxError, ValueError, NestingTooDeep):
        return {}
    lines = text.splitlines()
    return {
        node.name: (node.lineno, lines[node.lineno - 1].strip())
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.decorator_list
    }

"""MCP client configuration files: which MCP servers an AI client (Cursor, VS Code, Claude …) starts.

Each configured server becomes an ``mcp_server`` component named by its config key. A server started
by a command is local; one reached by ``url`` (or through a proxy such as ``mcp-remote``) is remote
(``mcp_remote_server``), unless the URL points at this machine. The package a command runs
(``npx``/``uvx``/``docker run`` …) is compared with the known servers in ``data/mcp_servers.yaml``: an
unknown package, an unknown remote host, or a package fetched from git/a path is ``mcp_unknown_server``;
a local script (``node server.js``) is the project's own code and is not flagged. Hard-coded secrets in
``env``, ``headers`` or arguments flag ``hardcoded_api_key``; only a masked form and a hash are kept.
Config files of a known client app also yield an ``mcp_client`` component linked to its servers; the
client is also read from the folder a config sits in (``.kiro/settings/mcp.json``) or its file name, and
any other JSON file with a top-level ``mcpServers`` counts. Agent definitions of AI assistants (a named
agent with a system prompt under ``agents/``) are ``agent_framework`` components. MCP servers kept in
YAML (gateways, proxies) and in Spring AI's ``application.yml``/``.properties`` are read too.

The secret heuristics (``SecretRules``) are shared with the n8n detector.
"""

from __future__ import annotations

import json
import re
import tomllib
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from common.scanner.catalog import load_yaml
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.keys import component_key
from common.scanner.lazy import lazy_module, lazy_re
from common.scanner.limits import line_at, linear, parse_json, parse_toml
from common.scanner.model import Location
from common.scanner.redaction import clip
from common.scanner.textutil import mask_secret, per_scan, read_neighbour, scan_root_of, secret_hash

yaml = lazy_module("yaml")
DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "mcp_servers.yaml"
MAX_BYTES = 5 * 1024 * 1024
MCP_PROVIDER = "Model Context Protocol"
INTERPRETERS = (
    "node",
    "python",
    "python3",
    "deno",
    "bun",
    "ruby",
    "java",
    "php",
    "sh",
    "bash",
    "uv",
    "tsx",
    "dotnet",
)
# packages a runner fetches only to run a script of the project (``npx tsx server.ts``)
SCRIPT_RUNNERS = frozenset({*INTERPRETERS, "ts-node"})


@cache
def load_data() -> dict:
    return load_yaml(DATA_FILE)


# ---------------------------------------------------------------------------------------------------
# Hard-coded secrets
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretRules:
    name_pattern: re.Pattern
    name_exclusions: tuple
    value_patterns: tuple
    placeholders: tuple
    min_length: int
    undigited_min_length: int

    def is_placeholder(self, value: str) -> bool:
        return (
            len(set(value)) <= 1
            or any(p.search(value) for p in self.placeholders)
            or bool(re.search(r"\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]{2,}", value))
        )

    def is_secret(self, name: str, value: object) -> bool:
        """True when ``value`` looks like a real credential: a provider key format, or a random-looking
        non-placeholder value of at least ``min_length`` characters under a credential-like name."""
        if not isinstance(value, str):
            return False
        value = value.strip()
        bare = value[7:].strip() if value.lower().startswith("bearer ") else value
        if len(bare) < self.min_length or " " in bare or self.is_placeholder(bare):
            return False
        if any(p.search(value) or p.search(bare) for p in self.value_patterns):
            return True
        named = bool(self.name_pattern.search(name)) and not any(x.search(name) for x in self.name_exclusions)
        random_looking = any(ch.isdigit() for ch in bare) or len(bare) >= self.undigited_min_length
        return named and random_looking and not bare.startswith(("http://", "https://", "/", "./"))


@cache
def secret_rules() -> SecretRules:
    data = load_data()["secrets"]
    return SecretRules(
        name_pattern=linear(data["name_pattern"]),
        name_exclusions=tuple(linear(p) for p in data["name_exclusions"]),
        value_patterns=tuple(linear(p) for p in data["value_patterns"]),
        placeholders=tuple(linear(p) for p in data["placeholder_patterns"]),
        min_length=data["min_length"],
        undigited_min_length=data["undigited_min_length"],
    )


def secret_record(field_name: str, value: str) -> dict:
    """What is stored about a hard-coded secret: never the value itself."""
    digest = secret_hash(value)
    return {"field": field_name, "masked": mask_secret(value), **({"hash": digest} if digest else {})}


URL_CREDENTIALS_RE = linear(r"^[a-z][a-z0-9+.-]*://([^/@\s:]+):([^/@\s]+)@", re.IGNORECASE)
OPTION_VALUE_RE = linear(r"^--?([\w-]+)=(.+)$")


def secrets_in_arguments(args: list[str]) -> list[tuple[str, str]]:
    """(field, secret) pairs in command arguments: ``--api-key=…``, ``--token …`` or URL passwords."""
    rules = secret_rules()
    found = []
    for index, arg in enumerate(args):
        if match := URL_CREDENTIALS_RE.match(arg):
            password = match.group(2)
            if not rules.is_placeholder(password):
                found.append((f"args[{index}]", password))
        elif match := OPTION_VALUE_RE.match(arg):
            if rules.is_secret(match.group(1), match.group(2)):
                found.append((f"args[{index}]", match.group(2)))
        elif (
            arg.startswith("-")
            and index + 1 < len(args)
            and rules.is_secret(arg.lstrip("-"), args[index + 1])
        ):
            found.append((f"args[{index + 1}]", args[index + 1]))
        elif rules.is_secret("", arg):
            found.append((f"args[{index}]", arg))
    return found


# ---------------------------------------------------------------------------------------------------
# Tolerant JSON (VS Code settings are JSON with comments and trailing commas)
# ---------------------------------------------------------------------------------------------------


def strip_jsonc(text: str) -> str:
    """Remove // and /* */ comments, shell-style # comments (hand-edited configs carry ``# TODO`` notes)
    and trailing commas outside strings, keeping line breaks."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            in_string = ch != '"'
            i += 1
            continue
        if ch == '"':
            in_string = True
        elif text.startswith("//", i) or ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            comment = text[i : n if end < 0 else end + 2]
            out.append("\n" * comment.count("\n"))
            i = n if end < 0 else end + 2
            continue
        out.append(ch)
        i += 1
    return linear(r",(\s*[}\]])").sub(r"\1", "".join(out))


def load_jsonc(text: str) -> object:
    try:
        return parse_json(text)
    except ValueError:
        return parse_json(strip_jsonc(text))


def line_of_key(text: str, key: str, start: int = 0) -> tuple[int, int]:
    """(1-based line, offset) of the first ``"key":`` at or after ``start``; (0, start) if absent.

    A key spelled without a quote is found in ``_KeyOffsets``, built in one pass per text: searching the
    text for each server's key from the container's start read a one-line config of thousands of
    servers once per server."""
    spelled = json.dumps(key)
    if '"' in spelled[1:-1]:
        match = re.compile(re.escape(spelled) + r"\s*:").search(text, start)
        at = match.start() if match else -1
    else:
        at = _KeyOffsets.first(text, spelled[1:-1], start)
    if at < 0:
        return 0, start
    return line_at(text, at), at


_BEFORE_COLON = lazy_re(r"\s*:")


class _KeyOffsets:
    r"""Offsets of the opening quote of every ``"spelling"\s*:`` of the last text, by spelling. A key
    without a quote in its spelling is matched by ``"spelling"\s*:`` only from a quote whose next quote
    closes it, so the pairs of consecutive quotes followed by a colon are every match there is."""

    text: str | None = None
    offsets: dict[str, list[int]] = {}

    @classmethod
    def first(cls, text: str, spelling: str, start: int) -> int:
        r"""The first offset at or after ``start`` of ``"spelling"\s*:``, or -1."""
        if cls.text is not text:
            cls.offsets, cls.text = cls._index(text), text
        offsets = cls.offsets.get(spelling, ())
        index = bisect_left(offsets, start)
        return offsets[index] if index < len(offsets) else -1

    @staticmethod
    def _index(text: str) -> dict[str, list[int]]:
        offsets: dict[str, list[int]] = {}
        follows_colon = _BEFORE_COLON.match
        opening = text.find('"')
        while opening >= 0:
            closing = text.find('"', opening + 1)
            if closing < 0:
                break
            if follows_colon(text, closing + 1):
                offsets.setdefault(text[opening + 1 : closing], []).append(opening)
            opening = closing
        return offsets


# ---------------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------------


@dataclass
class ServerInfo:
    transport: str  # stdio | http | sse
    package: str | None = None
    registry: str | None = None
    version: str | None = None
    url: str | None = None
    local_script: str | None = None
    flags: set[str] = field(default_factory=set)
    secrets: list[tuple[str, str]] = field(default_factory=list)  # (field, value)

    def described(self) -> dict:
        """What a report says of the server beside its name, wherever it was declared (YAML, code)."""
        return {
            "transport": self.transport,
            "package": self.package,
            "registry": self.registry,
            "local_script": self.local_script,
            "url": safe_url(self.url) if self.url else None,
        }


def split_version(package: str, registry: str) -> tuple[str, str | None]:
    if registry == "docker":
        from common.scanner.detectors.containers import parse_image

        image = parse_image(package)
        return (image.repository, image.tag) if image else (package, None)
    if registry == "pypi":
        match = linear(r"^([A-Za-z0-9_.\-\[\]]+?)(?:==|@)(.+)$").match(package)
        return (match.group(1), match.group(2)) if match else (package, None)
    at = package.rfind("@")
    if at > 0:
        return package[:at], package[at + 1 :]
    return package, None


def first_positional(args: list[str], with_value: set[str]) -> tuple[int, str | None]:
    skip = False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = arg in with_value
            continue
        return index, arg
    return len(args), None


def command_as_string(spec: dict) -> dict:
    """Clients spell the command three ways: ``"command": "npx"`` with ``args``, Zed's
    ``"command": {"path": "npx", "args": [...]}`` and opencode's ``"command": ["npx", "-y", "pkg"]``."""
    command = spec.get("command")
    if isinstance(command, dict) and isinstance(command.get("path"), str):
        return {**spec, "command": command["path"], "args": command.get("args") or []}
    if isinstance(command, list) and command and all(isinstance(c, str) for c in command):
        return {**spec, "command": command[0], "args": command[1:] + list(spec.get("args") or [])}
    return spec


def describe_server(spec: dict) -> ServerInfo:
    data = load_data()
    url = next((spec[k] for k in ("url", "serverUrl", "httpUrl") if isinstance(spec.get(k), str)), None)
    if url:
        transport = "sse" if spec.get("type") == "sse" or url.rstrip("/").endswith("/sse") else "http"
        return ServerInfo(transport=transport, url=url)
    spec = command_as_string(spec)
    command = spec.get("command") if isinstance(spec.get("command"), str) else ""
    args = (
        [a for a in spec.get("args", []) if isinstance(a, str)] if isinstance(spec.get("args"), list) else []
    )
    if command and " " in command.strip() and not args:
        command, *args = command.split()
    info = ServerInfo(transport="stdio")
    program = PurePosixPath(command.replace("\\", "/")).name.lower().removesuffix(".cmd").removesuffix(".exe")
    runners = data["package_runners"]
    with_value = set(data["runner_options_with_value"])
    registry = runners.get(program)
    if args and f"{program} {args[0]}" in runners:  # pnpm dlx, yarn dlx, pipx run
        registry, args = runners[f"{program} {args[0]}"], args[1:]
    if registry == "docker":
        args = args[1:] if args and args[0] == "run" else args
    if registry:
        if registry == "pypi" and "--from" in args[:-1]:
            package = args[args.index("--from") + 1]
            index = args.index("--from") + 1
        else:
            index, package = first_positional(args, with_value)
        if package:
            info.package, info.version = split_version(package, registry)
            info.registry = registry
            if info.package in data["remote_proxies"]:
                info.url = next((a for a in args[index + 1 :] if a.startswith(("http://", "https://"))), None)
    elif program in INTERPRETERS:
        script_args = args[1:] if args[:1] == ["run"] else args  # uv run, deno run, bun run
        info.local_script = first_positional(script_args, with_value)[1]
    elif program:
        info.package, info.registry = program, "command"
    info.secrets = secrets_in_arguments(args)
    return info


def classify(info: ServerInfo) -> None:
    data = load_data()
    if info.url:
        host = (urlsplit(info.url).hostname or "").lower()
        if host and host not in data["local_hosts"]:
            info.flags.add("mcp_remote_server")
            if host not in data["known_remote_hosts"]:
                info.flags.add("mcp_unknown_server")
    if info.package and not (info.url and info.package in data["remote_proxies"]):
        known = {p.lower() for p in data["known_packages"].get(info.registry, [])}
        fetched = info.package.startswith(("git+", "github:", "http://", "https://", "./", "../", "/"))
        if fetched or info.package.lower() not in known:
            info.flags.add("mcp_unknown_server")
    if info.secrets:
        info.flags.add("hardcoded_api_key")


def safe_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"{parts.scheme}://{netloc}{parts.path}"


# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigKind:
    client: str | None
    keys: tuple
    # the servers may also sit at the top level, unwrapped (a Claude Code plugin's ``.mcp.json``)
    flat: bool = False
    # only entries that start a command or reach a URL are servers (a key other settings also use)
    strict: bool = False


def config_kind(relpath: str) -> ConfigKind | None:
    lower = "/" + relpath.lower()
    for entry in load_data()["config_files"]:
        if lower.endswith("/" + entry["path"]):
            client = entry["client"] or client_from_path(relpath)
            return ConfigKind(client, tuple(entry["keys"]), bool(entry.get("flat")))
    return None


def client_from_path(relpath: str) -> str | None:
    """The client app a config file belongs to, from the folders on its path (nearest first) or a
    word of its file name."""
    data = load_data()
    *folders, name = relpath.lower().split("/")
    for folder in reversed(folders):
        if folder in data["client_folders"]:
            return data["client_folders"][folder]
    return next((client for word, client in data["client_file_words"].items() if word in name), None)


def generic_kind(file: SourceFile) -> ConfigKind | None:
    """A JSON file outside the known config paths that holds MCP servers under a top-level key; or VS
    Code's ``servers`` in a file whose name says MCP (``mcp-servers.json``, ``vscode-mcp.json``), or
    under an ``"mcp": {"servers": ...}`` section anywhere (user settings a dotfiles repository keeps)."""
    if file.size > MAX_BYTES:
        return None
    data = file.data
    if any(f'"{key}"'.encode() in data for key in load_data()["generic_keys"]):
        return ConfigKind(client_from_path(file.relpath), tuple(load_data()["generic_keys"]))
    if b'"servers"' not in data:
        return None
    if "mcp" in PurePosixPath(file.relpath).name.lower():
        return ConfigKind(client_from_path(file.relpath), ("servers",), strict=True)
    if b'"mcp"' in data and MCP_SECTION.search(data):
        return ConfigKind(client_from_path(file.relpath), ("mcp.servers",), strict=True)
    return None


MCP_SECTION = linear(rb'"mcp"\s*:\s*\{')


def opencode_kind(file: SourceFile) -> ConfigKind | None:
    """opencode's settings under any file name in a folder of opencode's (``.opencode/settings.jsonc``, a
    shared ``coders/opencode/settings.jsonc``): its servers are the entries of the top-level ``mcp`` map,
    each typed ``local`` (a command list) or ``remote`` (a URL)."""
    if file.size > MAX_BYTES or b'"mcp"' not in file.data or not OPENCODE_SERVER_TYPE.search(file.text):
        return None
    return ConfigKind("opencode", ("mcp",)) if client_from_path(file.relpath) == "opencode" else None


OPENCODE_SERVER_TYPE = linear(r'"type"\s*:\s*"(?:local|remote)"')


# a .NET application's own settings (``appsettings.json``, ``appsettings.Development.json``): the MCP servers
# its client starts or reaches, under a ``McpServers`` section spelt as .NET binds options (``Command``,
# ``Arguments``, ``Url``/``Endpoint``)
DOTNET_SETTINGS = linear(r"(?i)^appsettings(?:\.[\w-]+)?\.json$")
DOTNET_SECTION = "McpServers"
DOTNET_SPEC_KEYS = {
    "command": "command",
    "arguments": "args",
    "args": "args",
    "url": "url",
    "endpoint": "url",
}


def dotnet_settings_kind(file: SourceFile) -> ConfigKind | None:
    if not DOTNET_SETTINGS.match(PurePosixPath(file.relpath).name) or b'"McpServers"' not in file.data:
        return None
    return ConfigKind(None, (DOTNET_SECTION,))


def dotnet_spec(spec: dict) -> dict | None:
    """A ``McpServers`` entry in the keys every MCP client config uses; None unless it starts a command or
    reaches a URL (the section may hold other settings of the app's own)."""
    spec = {DOTNET_SPEC_KEYS.get(key.lower(), key): value for key, value in spec.items()}
    return spec if isinstance(spec.get("command"), str) or isinstance(spec.get("url"), str) else None


def is_agent_definition(relpath: str) -> bool:
    folders = relpath.lower().split("/")[:-1]
    return any(folder in load_data()["agent_folders"] for folder in folders[-2:])


def flat_servers(document: object) -> Iterator[tuple[str, str, dict]]:
    """(no container, server name, spec) for the top-level entries of an unwrapped config (a Claude Code
    plugin's ``.mcp.json`` maps names to servers directly); only entries that run a server count, so a
    file of other settings names no server."""
    if isinstance(document, dict):
        for name, spec in document.items():
            if isinstance(spec, dict) and runs_server(spec):
                yield "", name, spec


def runs_server(spec: dict) -> bool:
    """Whether a config entry starts a command or reaches a URL (what every client's server entry does)."""
    return any(isinstance(spec.get(key), str) for key in ("command", "url", "serverUrl", "httpUrl"))


def servers_of(document: object, keys: tuple) -> Iterator[tuple[str, str, dict]]:
    """(container key, server name, spec) for every server under one of the dotted ``keys``."""
    for dotted in keys:
        node = document.get(dotted) if isinstance(document, dict) else None  # VS Code's flat "mcp.servers"
        if node is None:
            node = document
            for part in dotted.split("."):
                node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            for name, spec in node.items():
                if isinstance(spec, dict):
                    yield dotted.rsplit(".", 1)[-1], name, spec


def generic_toml_kind(file: SourceFile) -> ConfigKind | None:
    """A TOML file outside the known config paths that names MCP servers under one of the generic keys
    (checked on its text first: parsing every TOML file of a tree costs more)."""
    keys = tuple(load_data()["generic_toml_keys"])
    if not any(key.split(".")[0].encode() in file.data for key in keys) or not GENERIC_TOML_TABLE.search(
        file.text
    ):
        return None
    return ConfigKind(client_from_path(file.relpath), keys)


# a one-line ``key = value`` whose value does not open a multi-line array, table or string
SINGLE_LINE_ASSIGNMENT = linear(r"""^[ \t]*[\w."'-]+[ \t]*=[ \t]*[^\[{"'\s]""")


def load_toml_leniently(text: str) -> dict | None:
    """A config template that does not parse as a whole (``PYTHONPATH = os.path.join(...)``, a value
    written as code to fill in) still configures the servers its tables name: the one-line assignments
    that do not parse on their own are blanked and the rest is read; None if it still does not parse."""
    kept = []
    for line in text.split("\n"):
        if SINGLE_LINE_ASSIGNMENT.search(line):
            try:
                parse_toml(line)
            except tomllib.TOMLDecodeError:
                line = ""
        kept.append(line)
    try:
        return parse_toml("\n".join(kept))
    except (tomllib.TOMLDecodeError, RecursionError):
        return None


# ``[mcp_servers.x]``, ``[[mcp.server]]``, ``[mcp.servers.x]``: a table header under a generic key
GENERIC_TOML_TABLE = linear(r"(?m)^[ \t]*\[\[?\s*(?:mcp_servers|mcpServers|mcp\.servers?)\b")


def named_server_lists(document: object, keys: tuple) -> Iterator[tuple[str, str, dict]]:
    """(container key, server name, spec) for every entry of a list of tables under one of the dotted
    ``keys`` that names itself (``[[mcp.server]]`` with ``name = "git"``)."""
    for dotted in keys:
        node = document
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        for spec in node if isinstance(node, list) else ():
            if isinstance(spec, dict) and isinstance(spec.get("name"), str) and spec["name"].strip():
                yield dotted.rsplit(".", 1)[-1], spec["name"], spec


def client_finding(detector: str, file: SourceFile, client: str, servers: list[Finding]) -> Finding:
    """The client app a config file configures, linked to the servers it starts; located at the file."""
    return Finding(
        key=component_key("mcp_client", client),
        name=client,
        type="mcp_client",
        provider=MCP_PROVIDER,
        location=file.location(0, PurePosixPath(file.relpath).name),
        detector=detector,
        metadata={"config": file.relpath},
        relations=sorted({("connects_to", server.key) for server in servers}),
    )


# a config shipped as a template to copy (``claude_desktop_config.json.example``) configures the same servers
TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist")


def config_path(file: SourceFile) -> str:
    """The path a config file stands for: its own, or a template's without the template suffix."""
    if file.suffix in TEMPLATE_SUFFIXES:
        stripped = file.relpath[: -len(file.suffix)]
        if stripped.lower().endswith((".json", ".jsonc")):
            return stripped
    return file.relpath


class McpConfigDetector(Detector):
    name = "mcp_config"

    def applies_to(self, file: SourceFile) -> bool:
        if file.suffix == ".toml":
            return file.size <= MAX_BYTES and (
                config_kind(file.relpath) is not None or generic_toml_kind(file) is not None
            )
        path = config_path(file)
        return PurePosixPath(path).suffix.lower() in (".json", ".jsonc") and (
            config_kind(path) is not None
            or is_agent_definition(path)
            or generic_kind(file) is not None
            or dotnet_settings_kind(file) is not None
            or opencode_kind(file) is not None
        )

    def detect(self, file: SourceFile, report: FileReport) -> Iterable[Finding]:
        path = config_path(file)
        if file.size > MAX_BYTES:
            report.warnings.append(f"mcp_config: {file.relpath} is larger than {MAX_BYTES} bytes")
            return []
        if file.suffix == ".toml":
            kind = config_kind(path)
            return self.toml_config(file, kind or generic_toml_kind(file), report, generic=kind is None)
        kind = (
            config_kind(path)
            or generic_kind(file)
            or dotnet_settings_kind(file)
            or opencode_kind(file)
            or ConfigKind(client_from_path(path), ())
        )
        try:
            document = load_jsonc(file.text)
        except (ValueError, RecursionError) as exc:
            report.warnings.append(f"mcp_config: {file.relpath} is not valid JSON ({type(exc).__name__})")
            return []
        findings = []
        entries = list(servers_of(document, kind.keys))
        if kind.strict:
            entries = [entry for entry in entries if runs_server(entry[2])]
        if kind.flat and not entries:
            entries = list(flat_servers(document))
        for container, name, spec in entries:
            if container == DOTNET_SECTION and (spec := dotnet_spec(spec)) is None:
                continue
            findings.extend(self.server_findings(file, container, name, spec, kind.client))
        if kind.client and findings:
            findings.append(self.client_finding(file, kind.client, findings))
        if is_agent_definition(file.relpath):
            findings.extend(self.agent_definition(file, document, kind.client, findings))
        return findings

    def toml_config(
        self, file: SourceFile, kind: ConfigKind, report: FileReport, generic: bool = False
    ) -> list[Finding]:
        """Clients configured in TOML (Codex CLI's ``[mcp_servers.<name>]`` tables); in any other TOML file
        (``generic``), the servers of an application's own settings, by name or as named list entries."""
        try:
            document = parse_toml(file.text)
        except (tomllib.TOMLDecodeError, RecursionError) as exc:
            report.warnings.append(f"mcp_config: {file.relpath} is not valid TOML ({type(exc).__name__})")
            document = load_toml_leniently(file.text)
            if document is None:
                return []
        findings = []
        entries = list(servers_of(document, kind.keys))
        if generic:
            entries = [
                entry
                for entry in [*entries, *named_server_lists(document, kind.keys)]
                if any(isinstance(entry[2].get(key), str) for key in ("command", "url", "serverUrl"))
            ]
        for container, name, spec in entries:
            table = linear(
                rf'^[ \t]*\[\s*{re.escape(container)}\s*\.\s*["\']?{re.escape(name)}["\']?\s*\]', re.MULTILINE
            )
            match = table.search(file.text) or linear(
                rf'^[ \t]*name\s*=\s*["\']{re.escape(name)}["\']', re.MULTILINE
            ).search(file.text)
            line = line_at(file.text, match.start()) if match else 0
            info = describe_server(spec)
            classify(info)
            metadata = {"transport": info.transport, "client": kind.client, "package": info.package}
            metadata["url"] = safe_url(info.url) if info.url else None
            flags = set(info.flags) - {"hardcoded_api_key"}
            findings.append(
                configured_server(self, file, line, name, metadata, version=info.version, flags=flags)
            )
        if kind.client and findings:
            findings.append(self.client_finding(file, kind.client, findings))
        return findings

    def agent_definition(
        self, file: SourceFile, document: object, client: str | None, servers: list[Finding]
    ) -> Iterator[Finding]:
        """An assistant's agent file: a named agent with its own system prompt (and MCP servers)."""
        if not isinstance(document, dict) or not isinstance(document.get("name"), str):
            return
        prompt_keys = load_data()["agent_prompt_keys"]
        if not any(isinstance(document.get(key), str) for key in prompt_keys) or not document["name"].strip():
            return
        name = document["name"].strip()
        yield Finding(
            key=component_key("agent_framework", name.lower()),
            name=name,
            type="agent_framework",
            location=file.location(line_of_key(file.text, "name")[0]),
            detector=self.name,
            metadata={"client": client, "definition": file.relpath},
            relations=sorted(
                {("connects_to", server.key) for server in servers if server.type == "mcp_server"}
            ),
        )

    def server_findings(
        self, file: SourceFile, container: str, name: str, spec: dict, client: str | None
    ) -> list[Finding]:
        info = describe_server(spec)
        rules = secret_rules()
        container_at = line_of_key(file.text, container)[1] if container else 0
        line, offset = line_of_key(file.text, name, container_at)
        for section in ("env", "headers"):
            values = spec.get(section)
            if isinstance(values, dict):
                info.secrets += [(f"{section}.{k}", v) for k, v in values.items() if rules.is_secret(k, v)]
        secret_lines = set()
        for _, value in info.secrets:
            at = file.text.find(json.dumps(value)[1:-1], offset)
            if at >= 0:
                secret_lines.add(line_at(file.text, at))
        classify(info)
        secret_values = [value for _, value in info.secrets]
        metadata = {
            "transport": info.transport,
            "client": client,
            "package": info.package,
            "registry": info.registry,
            "local_script": info.local_script,
            "url": safe_url(info.url) if info.url else None,
            "env_keys": sorted(spec["env"]) if isinstance(spec.get("env"), dict) else [],
            # configured but switched off (Cline/Roo ``"disabled": true``, ``"enabled": false``): still
            # inventoried, as one switch turns it back on, but marked so a reader can tell it is off
            "disabled": True if spec.get("disabled") is True or spec.get("enabled") is False else None,
        }
        if info.secrets:
            metadata["secrets"] = [secret_record(f, v) for f, v in info.secrets]
        metadata = {k: v for k, v in metadata.items() if v not in (None, [])}
        # the server's line, then every line holding one of its secrets: one component, several locations
        lines = [line, *sorted(secret_lines - {line, 0})]
        return [
            Finding(
                key=component_key("mcp_server", name.lower()),
                name=name,
                type="mcp_server",
                provider=MCP_PROVIDER,
                location=self.masked_location(file, at, secret_values),
                detector=self.name,
                version=info.version,
                flags=set(info.flags),
                metadata=metadata,
            )
            for at in lines
        ]

    def client_finding(self, file: SourceFile, client: str, servers: list[Finding]) -> Finding:
        return client_finding(self.name, file, client, servers)

    @staticmethod
    def masked_location(file: SourceFile, line: int, secrets: list[str]) -> Location:
        snippet = file.lines[line - 1].strip() if 0 < line <= len(file.lines) else ""
        return file.location(line, clip(snippet, known=secrets))


# ---------------------------------------------------------------------------------------------------
# YAML configs (gateways, proxies, assistants that keep their MCP servers in YAML)
# ---------------------------------------------------------------------------------------------------

# goose's extension types that are MCP servers (``builtin`` ones are goose's own)
GOOSE_TRANSPORT = linear(rb"\btype:\s*[\"']?(?:stdio|sse|streamable_http)\b")
YAML_SERVER_LISTS = ("mcpServers", "mcp_servers", "mcp-servers")
# Kubernetes resources of MCP operators (ToolHive, kagent/kmcp) that each stand for one MCP server
MCP_SERVER_KINDS = frozenset({"MCPServer", "MCPRemoteProxy", "RemoteMCPServer"})
MCP_SERVER_RESOURCE = linear(rb"""\bkind:[ \t]*["']?(?:MCPServer|MCPRemoteProxy|RemoteMCPServer)\b""")
YAML_TRANSPORTS = frozenset({"stdio", "sse", "http", "streamable-http", "streamable_http", "streamablehttp"})
YAML_NAME_KEYS = ("name", "alias", "id", "server_name")
MAX_YAML_DEPTH = 12


def plain(node) -> object:
    """A composed YAML node as plain Python data (scalars stay strings)."""
    if node.is_mapping:
        return {key: plain(value) for key, value in node.items()}
    if node.is_sequence:
        return [plain(element) for element in node.elements()]
    return node.text


SERVER_ENTRY_KEYS = frozenset({"transport", "type", "command", "url", "cmd", "uri"})
SECTION_SERVER_KEYS = frozenset({"command", "url"})  # what an entry of an ``mcp: servers:`` section runs


def _plain_entries(node, keys: frozenset[str]) -> dict:
    """``plain(node)`` restricted to ``keys`` (the last of a repeated key wins, as in ``plain``)."""
    chosen = {key: value for key, value in node.items() if key in keys}
    return {key: plain(value) for key, value in chosen.items()}


def yaml_server_spec(spec: dict) -> dict:
    """YAML configs often write the command as one list (``command: [npx, -y, pkg]``); goose spells the
    command ``cmd`` and the address ``uri``."""
    if "cmd" in spec and "command" not in spec:
        spec = {**spec, "command": spec["cmd"]}
    if "uri" in spec and "url" not in spec:
        spec = {**spec, "url": spec["uri"]}
    command = spec.get("command")
    if isinstance(command, list) and command and all(isinstance(c, str) for c in command):
        return {**spec, "command": command[0], "args": command[1:] + list(spec.get("args") or [])}
    return spec


def configured_server(
    detector: Detector, file: SourceFile, line: int, name: str, metadata: dict, **fields
) -> Finding:
    """An MCP server a YAML or Spring config declares: keyed on its lower-cased name, unset fields dropped."""
    return detector.located(
        file,
        line,
        "mcp_server",
        name,
        MCP_PROVIDER,
        key_name=name.lower(),
        metadata={k: v for k, v in metadata.items() if v is not None},
        **fields,
    )


def reached_server(detector: Detector, file: SourceFile, line: int, url: str):
    """The MCP server a client in code reaches at a written URL, as an ``mcp_server`` named by its host
    (``host:port``), classified like a ``url`` entry of a client config; None without a host. An address
    of this machine is marked ``local_address``: the engine drops it when the project builds an MCP
    server of its own (the server it reaches, labelled where it is built)."""
    host = url.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
    if not host:
        return None
    info = describe_server({"url": url})
    classify(info)
    metadata = {**info.described(), "declared_in": "code"}
    if "mcp_remote_server" not in info.flags:
        metadata["local_address"] = True
    return configured_server(
        detector, file, line, host, metadata, flags=set(info.flags) - {"hardcoded_api_key"}
    )


def started_package(command: str, args: list[str]) -> ServerInfo | None:
    """The MCP server a client in code starts through a package runner (``npx -y pkg``, ``uvx pkg``,
    ``docker run image``), classified; None for a local script or a bare program, which name no
    server package."""
    info = describe_server({"command": command, "args": args})
    if not info.package or info.registry in (None, "command") or info.package in SCRIPT_RUNNERS:
        return None  # ``npx tsx server.ts`` runs the project's own script
    classify(info)
    return info


def started_server(detector: Detector, file: SourceFile, line: int, command: str, args: list[str]):
    """``started_package`` as an ``mcp_server`` finding named by the package, or None."""
    info = started_package(command, args)
    if info is None:
        return None
    metadata = {**info.described(), "declared_in": "code"}
    flags = set(info.flags) - {"hardcoded_api_key"}
    return configured_server(detector, file, line, info.package, metadata, version=info.version, flags=flags)


# a config handed inline to an agent CLI: ``--mcp-config '{"mcpServers": {…}}'``
MCP_CONFIG_ARGUMENT = linear(r"--mcp-config[= ]\s*'(\{[^']+)'")
# a GitHub Actions expression standing as a JSON value, outside any string
WORKFLOW_EXPRESSION = re.compile(r"""(?<!["\w])\$\{\{[^}\n]{0,200}\}\}""")


# a here-document a shell script writes to a file: ``cat > path <<'EOF'``, ``tee path <<EOF`` (groups 1-3 the
# path, quoted or not, group 4 the delimiter that ends the document) and ``cat <<EOF > path`` (group 1 the
# delimiter, groups 2-4 the path)
WRITTEN_PATH = r"""(?:"([^"\n]{1,300})"|'([^'\n]{1,300})'|([^\s"'<>|;&()]{1,300}))"""
DELIMITER = r"""<<-?\s*["']?(\w{1,40})["']?"""
HEREDOC_WRITES = (
    linear(rf"\bcat\s*>\s*{WRITTEN_PATH}\s*{DELIMITER}[ \t]*\n"),
    linear(rf"\btee\s+(?:-a\s+)?{WRITTEN_PATH}[^\n<]{{0,40}}{DELIMITER}[ \t]*\n"),
)
HEREDOC_WRITES_AFTER = linear(rf"\bcat\s*{DELIMITER}\s*>\s*{WRITTEN_PATH}[ \t]*\n")
# where a path starts from a home or workspace folder the scan cannot see (``~/``, ``$HOME/``,
# ``${{ github.workspace }}/``), the rest is the file the client reads
PATH_ANCHOR = linear(r"""^(?:~|\$\{\{[^}]{0,100}\}\}|\$\{?\w+\}?|\.)/""")
MAX_HEREDOC = 50_000  # characters of a here-document read: a client config is a few hundred
MAX_HEREDOCS = 50  # here-documents read per script (each is read to its end: a bound keeps it linear)


def written_files(script: str) -> Iterator[tuple[str, str]]:
    """(path, content) of every here-document ``script`` writes to a file."""
    found = [
        (m.group(1) or m.group(2) or m.group(3), m.group(4), m.end())
        for pattern in HEREDOC_WRITES
        for m in pattern.finditer(script)
    ]
    found += [
        (m.group(2) or m.group(3) or m.group(4), m.group(1), m.end())
        for m in HEREDOC_WRITES_AFTER.finditer(script)
    ]
    # characters of documents read: a document inside another's body (a script the step writes) is read
    # twice, but headers stacked on consecutive lines each opened a document of up to ``MAX_HEREDOC``
    # over the same text (50 of them made a 50 KB step cost 5.8 s with a TOML key, 0.3 s of JSON)
    allowance = 2 * len(script)
    for path, end, start in sorted(found, key=lambda written: written[2])[:MAX_HEREDOCS]:
        lines = []
        for line in script[start : start + min(MAX_HEREDOC, allowance)].split("\n"):
            if line.strip() == end:
                break
            lines.append(line)
        else:
            continue  # never closed (or past the allowance): not a document
        allowance -= sum(map(len, lines)) + len(lines)
        while (anchored := PATH_ANCHOR.match(path)) is not None:
            path = path[anchored.end() :]
        yield path, "\n".join(lines)


class McpYamlDetector(Detector):
    """MCP servers in YAML: under an ``mcpServers``/``mcp_servers`` key (a mapping by name or a list of
    named entries) or an ``mcp: servers:`` section, or any named entry that declares an MCP transport and
    a command or URL."""

    name = "mcp_yaml"

    def applies_to(self, file: SourceFile) -> bool:
        if file.suffix not in (".yaml", ".yml") or file.size > MAX_BYTES:
            return False
        data = file.data
        return (
            any(marker in data for marker in (b"mcpServers", b"mcp_servers", b"mcp-servers", b" mcp add"))
            or (b"mcp:" in data and b"servers:" in data)
            or (
                (b"MCPServer" in data or b"MCPRemoteProxy" in data)
                and MCP_SERVER_RESOURCE.search(data) is not None
            )
            or (b"transport" in data and b"mcp" in data.lower())
            or (
                b"extensions:" in data
                and (b"cmd:" in data or b"uri:" in data)
                and GOOSE_TRANSPORT.search(data)
            )
        )

    def detect(self, file: SourceFile, report: FileReport) -> Iterable[Finding]:
        from common.scanner.detectors.containers import compose_yaml_documents

        try:
            documents = compose_yaml_documents(file.text)
        except (yaml.YAMLError, RecursionError) as exc:
            report.warnings.append(f"mcp_yaml: {file.relpath} is not valid YAML ({type(exc).__name__})")
            return []
        findings: dict[str, Finding] = {}
        for document in documents:
            for name, line, spec in self.servers(document, None, 0):
                findings.setdefault(name.lower(), self.server(file, name, line, spec))
            if (resource := self.server_resource(document)) is not None:
                name, line, spec = resource
                findings.setdefault(name.lower(), self.server(file, name, line, spec))
        servers = list(findings.values())
        client = client_from_path(file.relpath)
        if client and servers:  # an assistant that keeps its MCP servers in YAML (Continue)
            servers.append(client_finding(self.name, file, client, servers))
        if ".github/workflows/" in "/" + file.relpath:
            for document in documents:
                servers.extend(self.workflow_step_servers(file, document))
                servers.extend(self.workflow_written_configs(file, document))
                servers.extend(self.workflow_cli_servers(file, document))
        return servers

    @staticmethod
    def server_resource(document) -> tuple[str, int, dict] | None:
        """A Kubernetes resource that runs or proxies an MCP server (ToolHive's ``MCPServer`` and
        ``MCPRemoteProxy``, kagent's ``MCPServer`` and ``RemoteMCPServer``): the server is the resource,
        named by ``metadata.name``, started from its image or reached at its URL."""
        if not document.is_mapping or document.text_at("kind") not in MCP_SERVER_KINDS:
            return None
        name_node = document.path("metadata", "name")
        name = name_node.text if name_node is not None and document.text_at("apiVersion") else None
        if not name:
            return None
        url = next((u for key in ("url", "remoteURL") if (u := document.text_at("spec", key))), None)
        image = document.text_at("spec", "image") or document.text_at("spec", "deployment", "image")
        spec = {"url": url} if url else {"command": "docker", "args": ["run", image]} if image else {}
        return name, name_node.line, spec

    def workflow_written_configs(self, file: SourceFile, document) -> Iterator[Finding]:
        """A step's script may write a client's MCP config before the agent runs (``cat > .mcp.json <<
        'EOF'`` ... ``EOF``): the servers of that file, and the client its path names, as if it were
        committed."""
        for step in self.workflow_steps(document):
            run = step.get("run")
            script = run.text if run is not None else None
            if not script or "<<" not in script or "mcp" not in script:
                continue
            for path, body in written_files(script):
                kind = config_kind(path)
                if kind is None:
                    continue
                try:
                    config = (
                        parse_toml(body)
                        if path.endswith(".toml")
                        else load_jsonc(WORKFLOW_EXPRESSION.sub("null", body))
                    )
                except (ValueError, RecursionError):
                    continue
                found = [
                    self.server(file, name, self.line_of_entry(file, run.line, name), spec)
                    for _, name, spec in servers_of(config, kind.keys)
                ]
                if found:
                    yield from found
                    if kind.client:
                        yield client_finding(self.name, file, kind.client, found)

    def workflow_cli_servers(self, file: SourceFile, document) -> Iterator[Finding]:
        """A step that configures the agent it runs with its CLI (``claude mcp add …`` in ``run:``)."""
        for step in self.workflow_steps(document):
            run = step.get("run")
            script = run.text if run is not None else None
            if script and " mcp " in script:
                yield from cli_configured_servers(self, file, script, run.line)

    def workflow_step_servers(self, file: SourceFile, document) -> Iterator[Finding]:
        """A workflow step running an AI agent may hand it an MCP client config as an input (Gemini CLI's
        ``settings``, Claude Code's ``mcp_config``: JSON text with ``mcpServers``): its servers, and the
        agent the action runs as their client."""
        clients = load_data()["action_clients"]
        for step in self.workflow_steps(document):
            action = (step.text_at("uses") or "").split("@", 1)[0].strip().lower()
            inputs = step.get("with")
            if action not in clients or inputs is None:
                continue
            found = []
            for _, value in inputs.items():
                text = value.text
                if not text or "mcpServers" not in text:
                    continue
                # the JSON itself, or handed on a command line (Claude Code's ``claude_args: --mcp-config
                # '{"mcpServers": …}'``)
                for candidate in [text, *(m.group(1) for m in MCP_CONFIG_ARGUMENT.finditer(text))]:
                    try:  # the official templates write bare expressions as values (``"enabled": ${{ … }}``)
                        config = load_jsonc(WORKFLOW_EXPRESSION.sub("null", candidate))
                    except (ValueError, RecursionError):
                        continue
                    for _, name, spec in servers_of(config, ("mcpServers",)):
                        line = self.line_of_entry(file, value.line, name)
                        found.append(self.server(file, name, line, spec))
            if found:
                yield from found
                yield client_finding(self.name, file, clients[action], found)

    def workflow_steps(self, document) -> Iterator:
        """Every step of every job of a workflow document."""
        jobs = document.get("jobs") if document.is_mapping else None
        for _, job in jobs.items() if jobs is not None else ():
            steps = job.get("steps") if job.is_mapping else None
            yield from (step for step in (steps.elements() if steps is not None else ()) if step.is_mapping)

    @staticmethod
    def line_of_entry(file: SourceFile, start: int, name: str) -> int:
        """The line at or after ``start`` where a server entry's quoted key is written."""
        key = f'"{name}"'
        return next(
            (number for number in range(start, len(file.lines) + 1) if key in file.lines[number - 1]), start
        )

    def servers(self, node, parent_key: str | None, depth: int) -> Iterator[tuple[str, int, dict]]:
        if depth > MAX_YAML_DEPTH:
            return
        if node.is_mapping:
            # the keys that make an entry a server, before the whole subtree is copied: a copy at every
            # level of a large file costs its size times its depth
            spec = _plain_entries(node, SERVER_ENTRY_KEYS)
            transport = str(spec.get("transport") or spec.get("type") or "").lower()
            if transport in YAML_TRANSPORTS and any(spec.get(k) for k in ("command", "url", "cmd", "uri")):
                spec = plain(node)
                named = next(
                    (k for k in YAML_NAME_KEYS if isinstance(spec.get(k), str) and spec[k].strip()), None
                )
                name = spec[named] if named else parent_key
                if name:
                    yield name, (node.get(named).line if named else node.line), spec
                    return
            for key, value in node.items():
                if key == "servers" and parent_key == "mcp" and value.is_mapping:
                    # mcp-agent's and fast-agent's ``mcp: servers: <name>: {command, args | url}``: the
                    # section names them MCP servers, so an entry needs no transport of its own
                    for server, server_line, spec_node in value.entries():
                        if spec_node.is_mapping and _plain_entries(spec_node, SECTION_SERVER_KEYS):
                            yield server, server_line, plain(spec_node)
                    continue
                if key in YAML_SERVER_LISTS and value.is_mapping:
                    for server, server_line, spec_node in value.entries():
                        if spec_node.is_mapping:
                            yield server, server_line, plain(spec_node)
                    continue
                if key in YAML_SERVER_LISTS and value.is_sequence:
                    for element in value.elements():
                        spec = plain(element) if element.is_mapping else None
                        named = next(
                            (k for k in YAML_NAME_KEYS if spec and isinstance(spec.get(k), str)), None
                        )
                        if named:
                            yield spec[named], element.get(named).line, spec
                    continue
                yield from self.servers(value, key, depth + 1)
        elif node.is_sequence:
            for element in node.elements():
                yield from self.servers(element, None, depth + 1)

    def server(self, file: SourceFile, name: str, line: int, spec: dict) -> Finding:
        return yaml_server(self, file, name, line, spec)


def yaml_server(detector: Detector, file: SourceFile, name: str, line: int, spec: dict) -> Finding:
    """An MCP server a YAML mapping declares by ``command``/``args`` or ``url``, classified as in JSON."""
    info = describe_server(yaml_server_spec(spec))
    classify(info)
    flags = set(info.flags) - {"hardcoded_api_key"}
    return configured_server(detector, file, line, name, info.described(), version=info.version, flags=flags)


# ---------------------------------------------------------------------------------------------------
# Spring AI MCP configuration (application.yml / application.properties)
# ---------------------------------------------------------------------------------------------------

# Quarkus MCP Server names its server ``quarkus.mcp.server.server-info.name`` (``quarkus.mcp.server.<server>.
# server-info.name`` for one of several) and otherwise after ``quarkus.application.name``
SPRING_SERVER_NAME = linear(
    r"^\s*(?:spring\.ai\.mcp\.server\.name|quarkus\.mcp\.server\.(?:[\w-]+\.)?server-info\.name)\s*[=:]\s*([^\s#]+)"
)
SPRING_SERVER_KEY = linear(r"^\s*(?:spring\.ai|quarkus)\.mcp\.server\.")
SPRING_APPLICATION_NAME = linear(r"^\s*(?:spring|quarkus)\.application\.name\s*[=:]\s*([^\s#]+)")
# the Spring Boot starters that build an MCP server (1.0's and the milestones' artifact names), and
# Quarkus MCP Server's extensions
SPRING_MCP_SERVER_STARTER = linear(r"spring-ai-(?:starter-)?mcp-server|quarkus-mcp-server")
BUILD_FILES = ("pom.xml", "build.gradle", "build.gradle.kts")


# the Spring Boot starters of Spring AI's MCP client (1.0's ``spring-ai-starter-mcp-client[-webflux]``, the
# milestones' ``spring-ai-mcp-client[-webflux]-spring-boot-starter``)
SPRING_MCP_CLIENT_STARTER = linear(r"spring-ai-(?:starter-)?mcp-client[\w-]*")
SPRING_MCP_CLIENT = "spring-ai-starter-mcp-client"
# the name a Spring AI MCP server declares when ``spring.ai.mcp.server.name`` is not set (its default)
SPRING_DEFAULT_SERVER_NAME = "mcp-server"


@per_scan(stopped=False)
def _build_in_has_mcp_server(folder: Path, root: str) -> bool | None:
    """Whether the first build file in ``folder`` depends on a Spring AI MCP server starter, None where
    there is none."""
    for build in BUILD_FILES:
        text = read_neighbour(folder / build, root)
        if text is not None:
            return bool(SPRING_MCP_SERVER_STARTER.search(text))
    return None


@per_scan(stopped="")
def _mcp_client_starter_in(folder: Path, root: str) -> str | None:
    """The Spring AI MCP client starter the first build file in ``folder`` declares ("" when it declares
    none), None where there is no build file."""
    for build in BUILD_FILES:
        text = read_neighbour(folder / build, root)
        if text is not None:
            starter = SPRING_MCP_CLIENT_STARTER.search(text)
            return starter.group(0) if starter else ""
    return None


# Quarkus LangChain4j's MCP client: ``quarkus.langchain4j.mcp.<name>.url`` / ``.command`` per server
QUARKUS_CONNECTION = linear(r"^\s*quarkus\.langchain4j\.mcp\.([\w-]+)\.(url|command)\s*[=:]\s*([^\s#]+)")
SPRING_CONNECTION = linear(
    r"^\s*spring\.ai\.mcp\.client\.(?:stdio|sse|streamable-http|http)\.connections\.([\w.-]+?)\.(url|command)\s*[=:]\s*([^\s#]+)"
)


class SpringMcpDetector(Detector):
    """Spring AI names the MCP server it builds (``spring.ai.mcp.server.name``) and the servers its MCP
    client connects to (``spring.ai.mcp.client.<transport>.connections.<name>``) in its config."""

    name = "spring_mcp"

    def applies_to(self, file: SourceFile) -> bool:
        return (
            file.name.startswith(("application", "bootstrap"))
            and file.suffix in (".yml", ".yaml", ".properties")
            and file.size <= MAX_BYTES
            and (b"mcp" in file.data or b"application" in file.data)
        )

    @staticmethod
    def builds_mcp_server(file: SourceFile) -> bool:
        """Whether the nearest build file above the config (``src/main/resources`` sits three levels below
        it) depends on a Spring AI MCP server starter."""
        folder = file.path.parent
        root = scan_root_of(file)
        for _ in range(min(file.relpath.count("/"), 4) + 1):
            builds = _build_in_has_mcp_server(folder, root)
            if builds is not None:
                return builds
            folder = folder.parent
        return False

    @staticmethod
    def client_name(file: SourceFile) -> str:
        """Spring AI's MCP client, named after the starter the nearest build file above the config declares
        (1.0's artifact name when it declares none)."""
        folder = file.path.parent
        root = scan_root_of(file)
        for _ in range(min(file.relpath.count("/"), 4) + 1):
            starter = _mcp_client_starter_in(folder, root)
            if starter is not None:
                return starter or SPRING_MCP_CLIENT
            folder = folder.parent
        return SPRING_MCP_CLIENT

    def with_client(self, file: SourceFile, findings: Iterable[Finding]) -> list[Finding]:
        """The servers of ``spring.ai.mcp.client`` connections are reached by Spring AI's MCP client, which
        the config sets up: one ``mcp_client`` per config file, linked to them."""
        found = list(findings)
        connected = [  # the application's own server is built in code; Quarkus's client is another one
            finding
            for finding in found
            if finding.metadata.get("config") == "spring-ai" and finding.metadata.get("transport") != "code"
        ]
        if connected:
            found.append(client_finding(self.name, file, self.client_name(file), connected))
        return found

    def unnamed_server(
        self, file: SourceFile, application: tuple[str, int] | None, server_keys: bool
    ) -> Iterator[Finding]:
        """An MCP server the config does not name, when the config sets it up or the project has its
        starter, under the name it declares to clients: Spring AI's default server name (``mcp-server``);
        Quarkus MCP Server's default, the application's name (``quarkus.application.name``)."""
        if not (server_keys or self.builds_mcp_server(file)):
            return
        if b"quarkus" in file.data and b"spring" not in file.data:
            if application:
                yield self.server(file, application[0], application[1], {"transport": "code"})
            return
        yield self.server(
            file, SPRING_DEFAULT_SERVER_NAME, application[1] if application else 1, {"transport": "code"}
        )

    def detect(self, file: SourceFile, report: FileReport) -> Iterable[Finding]:
        if file.suffix == ".properties":
            return self.with_client(file, self.properties(file))
        if b"mcp" not in file.data and not self.builds_mcp_server(file):
            return []  # only the application's name could matter, and only for an MCP server project
        from common.scanner.detectors.containers import compose_yaml_documents

        try:
            documents = compose_yaml_documents(file.text)
        except (yaml.YAMLError, RecursionError) as exc:
            report.warnings.append(f"spring_mcp: {file.relpath} is not valid YAML ({type(exc).__name__})")
            return []
        return self.with_client(
            file,
            (
                finding
                for document in documents
                if document.is_mapping
                for finding in self.yaml(file, document)
            ),
        )

    def properties(self, file: SourceFile) -> Iterator[Finding]:
        named, server_keys, application = False, False, None
        for number, line in enumerate(file.lines, start=1):
            if server := SPRING_SERVER_NAME.match(line):
                named = True
                yield self.server(file, server.group(1), number, {"transport": "code"})
            elif connection := SPRING_CONNECTION.match(line):
                name, field_name, value = connection.groups()
                yield self.server(file, name, number, {field_name: value})
            elif connection := QUARKUS_CONNECTION.match(line):
                name, field_name, value = connection.groups()
                words = [word.strip() for word in value.split(",") if word.strip()]
                # ``command=npx,-y,pkg``: the command and its arguments as one comma-separated list
                spec = {"url": value} if field_name == "url" else {"command": words[0], "args": words[1:]}
                yield self.server(file, name, number, spec)
            elif app := SPRING_APPLICATION_NAME.match(line):
                application = application or (app.group(1), number)
            server_keys = server_keys or bool(SPRING_SERVER_KEY.match(line))
        if not named:
            yield from self.unnamed_server(file, application, server_keys)

    def yaml(self, file: SourceFile, document) -> Iterator[Finding]:
        mcp = document.path("spring", "ai", "mcp")
        name = mcp.path("server", "name") if mcp is not None else None
        quarkus = document.path("quarkus", "mcp")
        if name is None and quarkus is not None:
            mcp, name = quarkus, quarkus.path("server", "server-info", "name")
        if name is not None and name.text:
            yield self.server(file, name.text, name.line, {"transport": "code"})
        else:
            application = document.path("spring", "application", "name") or document.path(
                "quarkus", "application", "name"
            )
            declared = (
                (application.text, application.line) if application is not None and application.text else None
            )
            server_keys = mcp is not None and mcp.get("server") is not None
            yield from self.unnamed_server(file, declared, server_keys)
        if mcp is None:
            return
        client = mcp.get("client")
        for _, transport in client.items() if client is not None else []:
            connections = transport.get("connections") if transport.is_mapping else None
            for server, line, spec in connections.entries() if connections is not None else []:
                if spec.is_mapping:
                    yield self.server(file, server, line, plain(spec))

    def server(self, file: SourceFile, name: str, line: int, spec: dict) -> Finding:
        # which framework's keys hold the server: the file's only one, else the one its line names
        only_quarkus = b"quarkus" in file.data and b"spring" not in file.data
        on_line = 0 < line <= len(file.lines) and "quarkus" in file.lines[line - 1]
        config = "quarkus" if only_quarkus or on_line else "spring-ai"
        metadata: dict = {"transport": "code", "config": config}
        flags: set[str] = set()
        if spec.get("transport") != "code":
            info = describe_server(yaml_server_spec(spec))
            classify(info)
            flags = set(info.flags) - {"hardcoded_api_key"}
            metadata = {"transport": info.transport, "package": info.package, "config": config}
            metadata["url"] = safe_url(info.url) if info.url else None
        return configured_server(self, file, line, name, metadata, flags=flags)


# ---------------------------------------------------------------------------------------------------
# GitHub Copilot customization files (VS Code chat modes, custom agents, prompt files)
# ---------------------------------------------------------------------------------------------------

COPILOT_ENDINGS = (".chatmode.md", ".agent.md", ".prompt.md")
COPILOT_CLIENT = "github-copilot"
# the model picker's suffix VS Code writes after a display name (``GPT-4.1 (copilot)``)
PICKER_SUFFIX = linear(r"\s*\([^()]*\)\s*$")
MAX_FRONT_MATTER_LINES = 400


# where Copilot reads them: the repository's ``.github/``, Copilot CLI's ``~/.copilot/`` (which a dotfiles
# repository keeps as ``config/copilot/`` or ``.config/copilot/`` to link into place, ``dot_copilot/`` for
# chezmoi, ``dot-copilot/`` for GNU Stow) and a VS Code profile's ``User/prompts/``
COPILOT_FOLDERS = (
    "/.github/",
    "/.copilot/",
    "/dot_copilot/",
    "/dot-copilot/",
    "/config/copilot/",
    "/.config/copilot/",
    "/user/prompts/",
)


def is_copilot_file(relpath: str) -> bool:
    """A chat mode, custom agent or prompt file in a folder Copilot reads (``COPILOT_FOLDERS``); in
    ``.github/agents/`` any Markdown file is an agent. Elsewhere such a file is a template the project
    ships (a VS Code extension's ``resources/prompts/``), not a configuration in use."""
    lowered = "/" + relpath.lower()
    folder = lowered.rpartition("/")[0] + "/"
    if lowered.endswith(".md") and folder.endswith("/.github/agents/"):
        return True
    return lowered.endswith(COPILOT_ENDINGS) and any(known in folder for known in COPILOT_FOLDERS)


def is_opencode_agent_file(relpath: str) -> bool:
    """An opencode agent: a Markdown file in the ``agents/`` (formerly ``agent/``) folder of a project's
    ``.opencode/`` or of the user's ``~/.config/opencode/`` (a dotfiles repository); its front matter's
    ``model:`` (``provider/model``) picks the agent's model."""
    lowered = "/" + relpath.lower()
    folder = lowered.rpartition("/")[0]
    return lowered.endswith(".md") and folder.endswith(
        ("/.opencode/agents", "/.opencode/agent", "/opencode/agents", "/opencode/agent")
    )


def front_matter(lines: list[str]) -> str | None:
    """The YAML front matter between the ``---`` fences that open a Markdown file, padded with one empty
    line so composed line numbers are the file's; None without a closed front matter."""
    if not lines or lines[0].strip() != "---":
        return None
    for number, line in enumerate(lines[1:MAX_FRONT_MATTER_LINES], start=1):
        if line.strip() == "---":
            return "\n" + "\n".join(lines[1:number])
    return None


def copilot_model(value: str, line: int):
    """``model_finding``'s answer for a Copilot ``model:`` value, named as written without the picker's
    suffix: an id (``gpt-4.1``), or a display name (``Claude Sonnet 4``) whose hyphenated form the
    catalog knows."""
    from common.scanner.catalog import match_model
    from common.scanner.textutil import model_finding

    written = PICKER_SUFFIX.sub("", value).strip()
    if not written or len(written) > 80:
        return None
    if " " not in written:
        return model_finding(written, line, strong=True, hf_context=False)
    info = match_model("-".join(written.lower().split()))
    if info is None:
        return None
    return component_key("model", written.lower()), written.lower(), info.provider, {}


class CopilotCustomizationDetector(Detector):
    """GitHub Copilot's customization files: the YAML front matter of a chat mode, custom agent or prompt
    file picks its model (``model:``, one name or a list in order of preference) and a custom agent's
    ``mcp-servers:`` configures the MCP servers Copilot starts for it. ``tools:`` allow-lists name
    Copilot's built-in tools, which are no components of the project. An opencode agent's front matter
    picks its model the same way (``model: provider/model``)."""

    name = "copilot_customization"

    def applies_to(self, file: SourceFile) -> bool:
        return (
            file.size <= MAX_BYTES
            and (is_copilot_file(file.relpath) or is_opencode_agent_file(file.relpath))
            and file.data.startswith(b"---")
        )

    def detect(self, file: SourceFile, report: FileReport) -> Iterable[Finding]:
        from common.scanner.detectors.containers import compose_yaml_documents

        text = front_matter(file.lines)
        if text is None:
            return []
        try:
            documents = compose_yaml_documents(text)
        except (yaml.YAMLError, RecursionError) as exc:
            report.warnings.append(
                f"{self.name}: {file.relpath} has invalid front matter ({type(exc).__name__})"
            )
            return []
        document = documents[0] if documents and documents[0].is_mapping else None
        if document is None:
            return []
        findings = list(self.models(file, document.get("model")))
        servers = document.get("mcp-servers") if is_copilot_file(file.relpath) else None
        if servers is not None and servers.is_mapping:
            found = [
                yaml_server(self, file, name, line, plain(spec))
                for name, line, spec in servers.entries()
                if spec.is_mapping
            ]
            if found:
                findings.extend(found)
                findings.append(client_finding(self.name, file, COPILOT_CLIENT, found))
        return findings

    def models(self, file: SourceFile, node) -> Iterator[Finding]:
        if node is None:
            return
        values = [node] if not node.is_sequence else list(node.elements())
        for value in values:
            if value.is_mapping or value.is_sequence or not value.text:
                continue
            found = copilot_model(value.text, value.line)
            if found:
                yield self.model_at(file, value.line, found)


# ---------------------------------------------------------------------------------------------------
# MCP clients configured by their own CLI in a set-up script
# ---------------------------------------------------------------------------------------------------

# ``claude mcp add [--transport http] [-s user] [-e K=V] <name> -- <command> [args]`` (or ``<name> <url>``),
# ``claude mcp add-json <name> '{…}'``, ``codex mcp add <name> [--env K=V] -- <command>`` (``--url`` for a
# remote one), ``gemini mcp add [-t http] <name> <command|url> [args]``: a command at the start of a line
# or after ``&&``, ``||`` or ``;`` chaining it to one (an ``echo``'d or commented one is no command)
CLI_MCP_ADD = linear(
    r"(?:^|&&|\|\||;)[ \t]*(?:[\w./~-]*/)?(claude|codex|gemini)[ \t]+mcp[ \t]+(add|add-json)[ \t]+"
    r"([^\n]{1,1000})",
    re.MULTILINE,
)
# the shell a Dockerfile's ``RUN`` (after its ``--mount=…`` flags) and a Make or just recipe line (after
# ``@``, ``-``, ``+``) run: blanked to the command, so a command starts the line as in a script
RECIPE_PREFIX = linear(r"^[ \t]*(?:RUN[ \t]+(?:--\S+[ \t]+){0,5}|[@+-]{1,3})", re.MULTILINE)
RECIPE_NAMES = frozenset({"makefile", "gnumakefile", "justfile"})
COMMAND_SEPARATORS = frozenset({"&&", "||", ";", "|"})
MAX_CONTINUED_LINES = 50  # a command's continuation lines read: an entry takes a few
MAX_CLI_COMMANDS = 200  # ``mcp add`` commands read per script: a set-up script adds a handful
CLI_CLIENTS = {"claude": "claude-code", "codex": "codex", "gemini": "gemini-cli"}
# the options of these commands that take a value as the next word
CLI_VALUE_OPTIONS = frozenset(
    {"-s", "--scope", "-t", "--transport", "-e", "--env", "-H", "--header", "--client-id", "--callback-port"}
    | {"--timeout", "--description", "--include-tools", "--exclude-tools", "--bearer-token-env-var", "--url"}
)
CLI_SERVER_NAME = linear(r"[A-Za-z0-9@][\w.@/-]{0,99}")


def cli_added_server(words: list[str], as_json: bool) -> tuple[str, dict] | None:
    """(name, entry) of the server one ``mcp add`` command configures, its entry shaped like a config
    file's (``command``/``args`` or ``url``); None for a help call or a name the script computes."""
    positional: list[str] = []
    url = None
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            positional += words[index + 1 :]
            break
        if word in ("-h", "--help"):
            return None
        if word.startswith("-"):
            if word == "--url" and index + 1 < len(words):
                url = words[index + 1]
            index += 2 if word in CLI_VALUE_OPTIONS else 1
            continue
        positional.append(word)
        index += 1
    if not positional or not CLI_SERVER_NAME.fullmatch(positional[0]):
        return None
    name, rest = positional[0], positional[1:]
    if as_json:
        try:
            entry = json.loads(rest[0]) if rest else None
        except ValueError:
            return None
        return (name, entry) if isinstance(entry, dict) else None
    target = url or (rest[0] if rest else None)
    if not target:
        return None
    if target.startswith(("http://", "https://")):
        return name, {"url": target}
    return name, {"command": target, "args": rest[1:]}


def continued_command(first: str, lines: list[str], line: int) -> str:
    """A command's words from its first line on, over the lines a trailing backslash continues it to."""
    parts = [first]
    while parts[-1].endswith("\\") and line < len(lines) and len(parts) < MAX_CONTINUED_LINES:
        parts[-1] = parts[-1][:-1]
        parts.append(lines[line])
        line += 1
    return " ".join(parts)


class McpCliDetector(Detector):
    """Set-up scripts that configure an agent's MCP servers with its CLI (``claude mcp add …``): each
    server, named as the command names it, and the agent as its client, as the same entry in the agent's
    config file would be."""

    name = "mcp_cli"

    def applies_to(self, file: SourceFile) -> bool:
        from common.scanner.detectors.config_env import SHELL_SUFFIXES

        return (
            (file.name.endswith(SHELL_SUFFIXES) or runs_recipes(file.name))
            and file.size <= MAX_BYTES
            and b" mcp " in file.data
        )

    def detect(self, file: SourceFile, report: FileReport) -> Iterable[Finding]:
        script = file.text
        if runs_recipes(file.name):
            script = RECIPE_PREFIX.sub(lambda match: " " * len(match.group(0)), script)
        return cli_configured_servers(self, file, script, 1)


def runs_recipes(name: str) -> bool:
    """A Dockerfile (its ``RUN`` lines) or a Make or just file (its recipes): shell lines in another file."""
    from common.scanner.detectors.containers import is_dockerfile

    return name.lower() in RECIPE_NAMES or is_dockerfile(name)


def chained_after_command(line: str) -> bool:
    """Whether a line's text before a ``&&`` / ``;`` is shell that ends a command, not a comment or an
    open quote the separator sits in (``echo "… && claude mcp add …"``)."""
    return "#" not in line and line.count('"') % 2 == 0 and line.count("'") % 2 == 0


def command_words(words: list[str]) -> list[str]:
    """A command's words up to the ``&&``, ``;`` or pipe that ends it."""
    for index, word in enumerate(words):
        if word in COMMAND_SEPARATORS:
            return words[:index]
        if word.endswith(";"):
            return [*words[:index], word[:-1]]
    return words


def cli_configured_servers(
    detector: Detector, file: SourceFile, script: str, first_line: int
) -> list[Finding]:
    """The servers the ``mcp add`` commands of ``script`` configure and a client per CLI; ``script``
    starts at ``first_line`` of ``file`` (a whole script, or a workflow step's ``run:`` written at or after
    that line)."""
    import shlex

    from common.scanner.detectors.config_env import printed_heredoc_lines

    lines = script.split("\n")
    printed = printed_heredoc_lines(lines) if "<<" in script else set()
    servers: dict[str, list[Finding]] = {}
    for match in islice(CLI_MCP_ADD.finditer(script), MAX_CLI_COMMANDS):
        line = line_at(script, match.start())
        if line in printed:
            continue
        start = script.rfind("\n", 0, match.start()) + 1
        if match.start() > start and not chained_after_command(script[start : match.start()]):
            continue
        try:
            words = shlex.split(continued_command(match.group(3), lines, line), comments=True)
        except ValueError:
            continue
        words = command_words(words)
        added = cli_added_server(words, as_json=match.group(2) == "add-json")
        if added is None:
            continue
        name, entry = added
        located = file_line_of(file, lines[line - 1].strip(), first_line + line - 1)
        servers.setdefault(CLI_CLIENTS[match.group(1)], []).append(
            yaml_server(detector, file, name, located, entry)
        )
    found = [server for group in servers.values() for server in group]
    return found + [client_finding(detector.name, file, client, group) for client, group in servers.items()]


def file_line_of(file: SourceFile, written: str, start: int) -> int:
    """The line at or after ``start`` of ``file`` where ``written`` is (a block scalar's text sits below
    the line its node reports, by an indentation YAML strips), else ``start``."""
    return next(
        (
            number
            for number in range(start, min(len(file.lines), start + 200) + 1)
            if written in file.lines[number - 1]
        ),
        start,
    )

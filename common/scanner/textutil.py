"""Small helpers shared by detectors: model-id acceptance, endpoint naming, masking."""

from __future__ import annotations

import hashlib
import os
import re
from bisect import bisect_left
from collections.abc import Callable, Container, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache, wraps
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from common.scanner.catalog import (
    catalog_literal_possible,
    known_model_id,
    load_json,
    local_directory,
    looks_like_hf_id,
    lookup_package,
    match_model,
    patterns,
    route_forms,
    strip_route,
)
from common.scanner.keys import component_key
from common.scanner.lazy import lazy_module, lazy_re
from common.scanner.limits import line_at, line_start, linear, parse_toml

_PLAUSIBLE_MODEL = linear(r"(?:@(?:cf|hf)/)?[A-Za-z0-9][\w.:/@-]{1,119}")  # ``@cf/``: Workers AI's catalog
_FILE_EXTENSION = linear(
    r"\.(?:py|js|ts|json|ya?ml|txt|md|csv|html?|png|jpe?g|gguf|bin|pt|pth|onnx|safetensors|pkl)$", re.I
)
T = TypeVar("T")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "host.docker.internal"}


_WINDOWS_PATH = linear(r"[A-Za-z]:[\\/]")


@lru_cache(maxsize=8192)
def plausible_model_name(value: str) -> bool:
    """Shape of a model id: one token, digits or separators, not a path, URL or file name. Asked of
    every string literal several checks read, the same literals in file after file, so answers are
    kept (each costs up to three RE2 calls)."""
    if not _PLAUSIBLE_MODEL.fullmatch(value) or value.startswith(("http", "/", "./", "../", "~/")):
        return False
    if _WINDOWS_PATH.match(value):
        return False  # ``E:/cache/e5-small-v2``: a model directory on the author's disk, no id
    if _FILE_EXTENSION.search(value) or "://" in value:
        return False
    return any(ch.isdigit() for ch in value) or any(sep in value for sep in "-:/")


def model_finding(value: str | None, line: int, *, strong: bool, hf_context: bool):
    """(key, name, provider, metadata) for an accepted model id, else None.

    Catalog ids are accepted anywhere a model argument is; Hugging Face ids need a loading call;
    unknown ids need a call that resolved to an AI SDK (``strong``).
    """
    if not value:
        return None
    value = value.strip()
    if not plausible_model_name(value) and not match_model(value):
        return None
    metadata: dict = {}
    info = match_model(value)
    if not info and "/" in value and local_directory(value.partition("/")[0]):
        return None  # ``hf_models/gemma-2-2b-it``: a model saved in a local directory, loaded by its path
    # Google's resource name ("models/gemini-1.5-flash") is the model the catalog knows, written as one
    # detector reads it and another strips it: one component either way
    name = route_forms(value)[-1] if info else strip_route(value)
    if name != value:
        metadata["route"] = value
    if info:
        return component_key("model", name.lower()), name.lower(), info.provider, metadata
    if hf_context and (looks_like_hf_id(value) or "/" not in value):
        return component_key("model", name.lower()), name.lower(), "Hugging Face", metadata
    if strong and not value.isdigit():
        return component_key("model", name.lower()), name.lower(), None, metadata
    return None


# a file of a Hugging Face model repository (``https://huggingface.co/<org>/<model>/resolve/main/x.gguf``,
# ``.../blob/main/...``), or the repository cloned whole (``git clone https://huggingface.co/<org>/<model>``)
_HF_FILE_URL = linear(
    r"""https?://(?:huggingface\.co|hf\.co)/([A-Za-z0-9][\w.-]*)/([\w.-]+)/(?:resolve|blob|raw)/"""
)
_HF_CLONE = linear(
    r"""\bgit\s+clone\s+(?:-{1,2}[\w-]+(?:=\S+)?\s+)*https?://(?:huggingface\.co|hf\.co)/"""
    r"""([A-Za-z0-9][\w.-]*)/([\w.-]+?)(?:\.git)?(?:[\s"'`/]|$)"""
)
# the serverless Inference API's address names the model it runs (``api-inference.huggingface.co/models/<org>/
# <model>``, its ``pipeline/<task>/`` form, and the Inference Providers router's ``hf-inference/models/``)
_HF_INFERENCE_URL = linear(
    r"""https?://(?:api-inference\.huggingface\.co/(?:pipeline/[\w-]{1,40}/|models/)|"""
    r"""router\.huggingface\.co/hf-inference/models/)([A-Za-z0-9][\w.-]*)/([A-Za-z0-9][\w.-]*)"""
)
# hub paths that hold no model: datasets and Spaces live under a prefix of their own
_HF_NOT_MODEL_OWNERS = frozenset({"datasets", "spaces", "docs", "api", "blog", "papers", "collections"})


def hf_url_models(text: str) -> Iterator[tuple[int, str]]:
    """(offset, ``<org>/<model>``) of each Hugging Face model a file downloads by URL, clones, or calls
    through the Inference API."""
    if "huggingface.co/" not in text and "hf.co/" not in text:
        return
    for pattern in (_HF_FILE_URL, _HF_CLONE):
        for match in pattern.finditer(text):
            if match.group(1).lower() not in _HF_NOT_MODEL_OWNERS:
                yield match.start(1), f"{match.group(1)}/{match.group(2)}"
    yield from hf_inference_models(text)


def hf_inference_models(text: str) -> Iterator[tuple[int, str]]:
    """(offset, ``<org>/<model>``) of each model a Hugging Face Inference API address calls."""
    if "huggingface.co/" not in text:
        return
    for match in _HF_INFERENCE_URL.finditer(text):
        yield match.start(1), f"{match.group(1)}/{match.group(2)}"


# an Ollama Modelfile written inside a string of code (``modelfile := `FROM gemma3\nSYSTEM ...```, a Python
# triple-quoted string): its ``FROM`` line opens the string or a line of it
_EMBEDDED_MODELFILE_FROM = linear(r"""(?m)(?:^|[`"'])[ \t]*FROM[ \t]+([A-Za-z][\w.:/-]*)""")


def embedded_modelfile_bases(text: str) -> Iterator[tuple[int, str]]:
    """(offset, model) of each ``FROM <model>`` of a Modelfile held in a string; the caller vouches that the
    text belongs to a file using an Ollama client (``FROM`` also opens SQL and Dockerfile lines)."""
    for match in _EMBEDDED_MODELFILE_FROM.finditer(text):
        if match_model(match.group(1)):
            yield match.start(1), match.group(1)


def module_name_for(relpath: str) -> str:
    directory, _, name = relpath.rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    path = f"{directory}/{stem}" if directory else stem
    parts = [p for p in path.split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


GENERIC_PATH_PARTS = frozenset(
    {
        "main",
        "index",
        "app",
        "server",
        "client",
        "__init__",
        "__main__",
        "mod",
        "lib",
        "src",
        "cmd",
        "init",
        "run",
        "program",
    }
)


_WHITESPACE = linear(r"\s")


def is_prose(text: str) -> bool:
    """A string with words around its value (a message, help text, a sentence), not a bare value."""
    return bool(_WHITESPACE.search(text.strip()))


def component_name_for(relpath: str) -> str:
    """A readable name for a component that names itself nowhere: the last path part that says
    something (``weather/server.py`` -> ``weather``), never a dotted module path like ``pkg.main``."""
    module = module_name_for(relpath)
    parts = [p for p in module.split(".") if p] or [relpath]
    meaningful = [p for p in parts if p.lower() not in GENERIC_PATH_PARTS]
    return (meaningful or parts)[-1]


@cache
def _placeholder_hosts() -> tuple[str, ...]:
    return tuple(patterns()["placeholder_hosts"])


@cache
def _endpoint_tables():
    data = load_json("endpoints.json")
    patterns = [(linear(p), provider) for p, provider in data["host_patterns"].items()]
    return data, patterns


_URL_PARTS = linear(r"https?://([\w.-]+)(?::(\d+))?(/[^\s'\"`<>]*)?")


def mentions_ai_endpoint(text: str) -> bool:
    """Cheap pre-check: does any URL in the text point at a known AI host, port or API path?"""
    if "http" not in text:
        return False
    data, host_patterns = _endpoint_tables()
    for host, port, path in _URL_PARTS.findall(text):
        host = host.lower()
        if host in data["hosts"] or port in data["self_hosted_ports"]:
            return True
        if port in data["openai_base_ports"] and _openai_base_path(path):
            return True
        if any(host.endswith(suffix) for suffix in data["host_suffixes"]):
            return True
        if any(pattern.search(host) for pattern, _ in host_patterns):
            return True
        if path and any(path.rstrip("/").endswith(suffix) for suffix in data["self_hosted_paths"]):
            return True
    return False


# a string that ends in a vendor's inference route (``'/openai/v1/chat/completions'`` behind a same-origin
# proxy, ``${base}/v1/embeddings`` with the host from config): the file calls an LLM API by raw HTTP even
# when no host is written. Shared web-app routes (``/api/chat``) are left out; ``/v1/messages`` names
# Anthropic only next to its version header.
_LLM_API_ROUTE = linear(
    r"""["'`][^"'`\n]{0,200}?(/v1/(?:chat/completions|completions|embeddings|responses|audio/speech|"""
    r"""audio/transcriptions|images/generations|messages)|/models/[\w.-]{1,100}:(?:stream)?"""
    r"""[gG]enerateContent)(?:\?[^"'`\n]{0,200})?["'`]"""
)


def calls_llm_api_route(text: str) -> bool:
    """Does a string of the text end in an LLM vendor's inference route (see ``_LLM_API_ROUTE``)?"""
    if "/v1" not in text and "enerateContent" not in text:
        return False
    for match in _LLM_API_ROUTE.finditer(text):
        if match.group(1) != "/v1/messages" or "anthropic-version" in text.lower():
            return True
    return False


# Google's REST path names the model it calls (``.../v1beta/models/gemini-pro:generateContent``)
_GOOGLE_MODEL_PATH = linear(
    r"""/models/([A-Za-z][\w.-]{1,100}):(?:stream)?(?:[gG]enerateContent|embedContent|batchEmbedContents|"""
    r"""countTokens|predict)\b"""
)


def google_path_models(text: str) -> Iterator[tuple[int, str]]:
    """(offset, model) of each catalog model a Gemini or Vertex AI REST path names."""
    if ":" not in text or "/models/" not in text:
        return
    for match in _GOOGLE_MODEL_PATH.finditer(text):
        if match_model(match.group(1)):
            yield match.start(1), match.group(1)


# a Bedrock model's ARN in a code string (an IAM policy document, a knowledge base's embedding model), also
# with its region interpolated: ``f"arn:aws:bedrock:{region}::foundation-model/amazon.titan-embed-text-v2:0"``
_BEDROCK_MODEL_ARN = linear(
    r"""arn:aws[\w-]{0,12}:bedrock:[^\s"'`/]{0,80}:(?:foundation-model|inference-profile)/([A-Za-z0-9][\w.:-]{2,119})"""
)


def bedrock_arn_models(text: str) -> Iterator[tuple[int, str]]:
    """(offset, model) of each catalog model a Bedrock foundation-model or inference-profile ARN names."""
    if "foundation-model/" not in text and "inference-profile/" not in text:
        return
    for match in _BEDROCK_MODEL_ARN.finditer(text):
        if match_model(match.group(1)):
            yield match.start(1), match.group(1)


# a class constant that wraps a model id its name does not spell: the AWS CDK's
# ``FoundationModelIdentifier.ANTHROPIC_CLAUDE_3_5_SONNET_20240620_V1_0`` (Python, TypeScript, Java, .NET),
# and generative-ai-cdk-constructs' (and aws-bedrock-alpha's)
# ``BedrockFoundationModel.ANTHROPIC_CLAUDE_SONNET_V1_0``
_CLASS_MODEL_CONSTANT = linear(
    r"\b(FoundationModelIdentifier|BedrockFoundationModel)\.([A-Z][A-Z0-9_]{2,80})\b"
)
# the class -> the library in ``sdk_model_constants.json`` whose table defines its constants
_CLASS_CONSTANT_LIBRARIES = {
    "FoundationModelIdentifier": "aws-cdk-lib",
    "BedrockFoundationModel": "@cdklabs/generative-ai-cdk-constructs",
}


def class_constant_model(owner: str | None, name: str) -> str | None:
    """The model id ``owner.name`` wraps (``anthropic.claude-3-5-sonnet-20240620-v1:0``), from the table
    of the library that defines the class; None for another class or a name it does not define."""
    library = _CLASS_CONSTANT_LIBRARIES.get(owner or "")
    return load_json("sdk_model_constants.json")[library][owner].get(name) if library else None


def class_constant_models(text: str) -> Iterator[tuple[int, str]]:
    """(offset, model) of each such class constant a file names: it says the model without any SDK import
    (a CDK stack imports only the CDK)."""
    if "FoundationModelIdentifier." not in text and "BedrockFoundationModel." not in text:
        return
    for match in _CLASS_MODEL_CONSTANT.finditer(text):
        value = class_constant_model(match.group(1), match.group(2))
        if value:
            yield match.start(), value


def known_ai_host(value: str) -> bool:
    """``api.openai.com`` written as a bare host (a config struct's ``host`` field), exact hosts only."""
    data, _ = _endpoint_tables()
    return value.lower() in data["hosts"]


@cache
def _known_hosts_anywhere():
    data, _ = _endpoint_tables()
    return linear("(?i)" + "|".join(re.escape(host) for host in sorted(data["hosts"])))


def mentions_known_ai_host(text: str) -> bool:
    """Whether ``text`` holds a known AI host in any letter case: an ASCII literal that ``known_ai_host``
    accepts is one (one RE2 search instead of a set look-up per literal of the file)."""
    return _known_hosts_anywhere().search(text) is not None


# A host as DNS or a container network names it; ``%s.openai.azure.com`` (a format string) and
# ``*.openai.azure.com`` (an allow-list pattern) name no server.
_HOST_NAME = linear(r"[a-z0-9_](?:[a-z0-9_-]*)(?:\.[a-z0-9_-]+)*")
# ``https://RESOURCE.openai.azure.com``: a resource name written as a capitalised stand-in
_STAND_IN_LABEL = linear(r"[A-Z][A-Z0-9_]+")


def _names_a_server(host: str, written_host: str) -> bool:
    """Whether the host part of a URL as written is a real host, not a template or a placeholder."""
    if ":" in host:  # an IPv6 literal (``[::1]``)
        return True
    if not _HOST_NAME.fullmatch(host) or any(marker in host for marker in _placeholder_hosts()):
        return False
    return not any(_STAND_IN_LABEL.fullmatch(label) for label in written_host.split(".")[:-2])


def _openai_base_path(path: str | None) -> bool:
    """``/v1`` or a route under it: the OpenAI-compatible base a local server answers on."""
    return bool(path) and (path.rstrip("/") == "/v1" or path.startswith("/v1/"))


def _server_path_provider(data: dict, host: str, path: str, hint: str | None) -> str | None:
    """The server a known API path names. A path that web apps route for themselves (``/api/chat``)
    names Ollama only on a host named after it or under an Ollama env var."""
    provider = next((p for suffix, p in data["self_hosted_paths"].items() if path.endswith(suffix)), None)
    shared = provider and any(path.endswith(route) for route in data["shared_paths"])
    if shared and provider.lower() not in host and hint != provider:
        return None
    if provider == "OpenAI-compatible" and hint:
        return hint
    return provider


def endpoint_for_url(url: str, *, any_host: bool, hint: str | None = None):
    """(name, provider, metadata) when ``url`` is an AI endpoint; ``any_host`` accepts every host
    (the URL came from an SDK ``base_url`` argument or a provider env var)."""
    url = url.rstrip(".,;)'\"`")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    written_host = parts.netloc.rpartition("@")[2].split(":")[0]
    if not host or not _names_a_server(host, written_host):
        return None
    data, patterns = _endpoint_tables()
    if parts.path.rstrip("/").rsplit("/", 1)[-1].lower() in data["mcp_path_ends"]:
        return None  # ``https://api.githubcopilot.com/mcp/`` is an MCP server, not a model API
    provider = data["hosts"].get(host)
    api_path = data["api_paths"].get(host)
    if provider and api_path and not f"{parts.path.rstrip('/')}/".startswith(api_path):
        provider = None  # the website beside the API: ``openrouter.ai/models``, ``openrouter.ai/keys``
    if provider is None:
        provider = next((p for suffix, p in data["host_suffixes"].items() if host.endswith(suffix)), None)
    if provider is None:
        provider = next((p for pattern, p in patterns if pattern.search(host)), None)
    if provider is None and port is not None:
        provider = data["self_hosted_ports"].get(str(port))
    if provider is None and port is not None and _openai_base_path(parts.path):
        provider = data["openai_base_ports"].get(str(port))
    if provider is None:
        provider = _server_path_provider(data, host, parts.path.rstrip("/"), hint)
    if provider is None and not any_host:
        return None
    provider = provider or hint
    name = f"{host}:{port}" if port else host
    metadata = {
        "url": f"{parts.scheme}://{name}{parts.path}",
        "self_hosted": host in _LOCAL_HOSTS or bool(port),
    }
    return name, provider, metadata


MASK_KEEPS_HIDDEN = 16  # as ``common.security.mask_secret``: fewer hidden characters, nothing is shown
WHOLE_MASK = "*" * 6


def mask_secret(value: str) -> str:
    """A found secret as every viewer of the scan sees it: its ends (a provider prefix tells which key it
    is) only when at least ``MASK_KEEPS_HIDDEN`` characters stay hidden between them, else only the mask
    (``hun******22`` showed 5 of a password's 8 characters)."""
    visible = 4 if len(value) >= 16 else 2
    prefix_len = min(8, max(3, len(value) // 5))
    if len(value) - prefix_len - visible < MASK_KEEPS_HIDDEN:
        return WHOLE_MASK
    return f"{value[:prefix_len]}{WHOLE_MASK}{value[-visible:]}"


def secret_hash(value: str) -> str | None:
    """The SHA-256 that tells two findings of one secret apart, or None for a secret the mask hides whole:
    an unsalted digest of a short secret is reversed offline by anyone who reads the scan (that of
    ``hunter22`` is in every lookup table), which would undo the mask."""
    if mask_secret(value) == WHOLE_MASK:
        return None
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# ``const DEFAULT_MODEL =``, ``MODELS: list[str] =``, ``var Models = map...``, ``val llmModels =``
_MODEL_NAMED = linear(r"(?i)model|llm|embed")
_MODEL_DECLARATION = linear(
    r"\b(\w*(?:MODEL|Model|model|LLM|Llm|llm|EMBED|Embed|embed)\w*)\s*(?::[^=\n]{0,80})?(?::=|=)[ \t]*"
)
# The literal may follow its type or constructor: ``map[string]Model{``, ``[]string{``, ``List.of(``,
# ``listOf(``, ``frozenset(``, ``new String[] {``, ``&[``; a call that reads the environment does not count.
_CATALOG_OPENER = linear(
    r"""^(?:map\[[^\]\n]*\][\w.*]*|\[\d*\][\w.*]*|new\s+[\w.<>\[\], ]{1,60}?|"""
    r"""[\w.]{0,40}?(?:[Oo]f|set|list|tuple|dict|Array|vec!)|&)?\s*([\[{(])"""
)
_STRING_LITERAL = lazy_re(r"""(["'`])((?:(?!\1)[^\\\n]|\\.){1,200})\1""")
# The same literals without the backreference or the count, one branch per quote, each an unrolled loop
# of character runs that ``re`` scans in C: a match is the one ``_STRING_LITERAL`` would make at that
# offset (the content ends at the first unescaped quote either way) unless it is empty or longer than
# 200 characters and escapes, which ``_quoted_literals`` checks. Unbounded, a run that finds no closing
# quote scans to the end of its line, so texts with longer lines than ``_MAX_FAST_LINE`` keep the pattern.
_QUOTED_RUN = lazy_re(
    r'"([^"\\\n]*(?:\\.[^"\\\n]*)*)"'
    r"|'([^'\\\n]*(?:\\.[^'\\\n]*)*)'"
    r"|`([^`\\\n]*(?:\\.[^`\\\n]*)*)`"
)
_ESCAPE = lazy_re(r"\\.")
# ``_STRING_LITERAL``'s matches (one branch per quote for its backreference) for texts with lines longer
# than ``_MAX_FAST_LINE``, in RE2: ``re`` tried up to 200 units from every quote of the line (``"\``
# repeated, each quote escaped, cost 2.1 s per 400 KB and ran files out of their CPU budget).
_BOUNDED_LITERAL = linear(
    r'"((?:[^"\\\n]|\\.){1,200})"'
    r"|'((?:[^'\\\n]|\\.){1,200})'"
    r"|`((?:[^`\\\n]|\\.){1,200})`"
)
_MAX_LITERAL_UNITS = 200
_MAX_FAST_LINE = 2000
_MAX_CATALOG_CHARS = 5000


def has_line_over(text: str, limit: int) -> bool:
    """Whether a line of ``text`` (cut at line feeds) is longer than ``limit`` characters, without cutting
    the text into lines: the last line break within ``limit`` characters of a line's start ends that line
    and every line before it within the window, so each look moves on by up to ``limit`` characters."""
    start = 0
    while len(text) - start > limit:
        newline = text.rfind("\n", start, start + limit + 1)
        if newline < 0:
            return True
        start = newline + 1
    return False


class _LastLiterals:
    text: str | None = None
    literals: list[tuple[int, str]] = []


def string_literals(text: str) -> list[tuple[int, str]]:
    """(offset, content) of every quoted literal in ``text`` (``_STRING_LITERAL``'s matches). A code
    file's literals are read by several checks (bare hosts, model keys, catalog ids), and the pattern's
    backreference makes each pass costly, so the last text's literals are kept."""
    if _LastLiterals.text is not text:
        if not has_line_over(text, _MAX_FAST_LINE):
            _LastLiterals.literals = _quoted_literals(text)
        else:  # a failed run scans to its line's end, from every quote of a long line: keep the bound
            _LastLiterals.literals = [
                (match.start(), match[match.lastindex]) for match in _BOUNDED_LITERAL.finditer(text)
            ]
        _LastLiterals.text = text
    return _LastLiterals.literals


def _quoted_literals(text: str) -> list[tuple[int, str]]:
    """``_STRING_LITERAL.finditer``'s (offset, content) through ``_QUOTED_RUN``: a run it cannot take
    (empty, or over 200 characters and escapes) is no literal at that offset, and the search goes on
    one character later, as ``finditer`` does after a failed attempt."""
    literals = []
    search = _QUOTED_RUN.search
    position = 0
    while match := search(text, position):
        content = match[match.lastindex]
        size = len(content)
        if size and (
            size <= _MAX_LITERAL_UNITS
            or (size <= 2 * _MAX_LITERAL_UNITS and size - len(_ESCAPE.findall(content)) <= _MAX_LITERAL_UNITS)
        ):
            literals.append((match.start(), content))
            position = match.end()
        else:
            position = match.start() + 1
    return literals


def catalog_model_literals(text: str) -> Iterator[tuple[int, str]]:
    """(offset, id) of catalog model ids held by a declaration whose name says it holds models: the
    value of a constant or the elements of a list/map/object literal (``DEFAULT_MODEL = "gpt-4o"``,
    ``MODELS = [...]``, ``var Models = map[string]Route{...}``). Used where no SDK call gives context,
    so only ids the catalog knows count."""
    if not _MODEL_NAMED.search(text):
        return
    for declaration in _MODEL_DECLARATION.finditer(text):
        start = declaration.end()
        block = text[start : start + _MAX_CATALOG_CHARS]
        opener = _CATALOG_OPENER.match(block)
        if opener:
            literals = _STRING_LITERAL.finditer(block[: _closing_offset(block, opener.start(1))])
        elif direct := _STRING_LITERAL.match(block):  # ``DEFAULT_MODEL = "gpt-4o"``
            literals = iter([direct])
        else:
            continue
        for literal in literals:
            value = literal.group(2)
            if plausible_model_name(value) and match_model(value):
                yield start + literal.start(), value


def _closing_offset(block: str, start: int) -> int:
    """Offset just past the bracket that closes the one at ``start`` (strings are not skipped: a model
    catalog holds ids, not brackets), or the whole block."""
    pairs = {"[": "]", "{": "}", "(": ")"}
    depth = 0
    for index in range(start, len(block)):
        if block[index] in pairs:
            depth += 1
        elif block[index] in pairs.values():
            depth -= 1
            if depth == 0:
                return index + 1
    return len(block)


# The call or key a literal is handed to, when it shows text to people rather than configuring: a log,
# print, error, assertion or help text. ``\w*`` lets ``println!``/``Errorf``/``logWarning`` through.
_PROSE_OPENER = linear(
    r"(?i)^(?:log|logger|logging|console|print|println|printf|eprintln|puts|warn|warning|error|info|"
    r"debug|trace|fatal|panic|raise|throw|assert|expect|errorf|sprintf|description|help|usage|message|"
    r"title|label|placeholder|tooltip|summary|comment|example)\w*$|(?:Error|Exception)$"
)
_OPENER = linear(r"(\w+)!?\s*[(:=]")
_QUOTED = linear(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\\n]|\\.)*`)""")


def _handed_to_prose(before: str) -> bool:
    """Whether the innermost call or key before a literal on its line is a prose sink; the other
    strings on the line are blanked first (``console.warn("note:", "gpt-4o")``)."""
    openers = _OPENER.findall(_QUOTED.sub('""', before))
    return bool(openers) and bool(_PROSE_OPENER.search(openers[-1]))


# the default of an environment read: unless the setting or variable is named for a model (the code runs that
# model whenever the variable is unset, as the labelling policy has it), the environment decides
_ENVIRONMENT_DEFAULT = linear(r"(?i)getenv|environ|\benv\b|process\.env|ENV\.fetch|os\.Getenv|LookupEnv")
# a call through a Cloudflare Worker's binding (``env.AI.run("@cf/meta/llama-3.1-8b-instruct", ...)``): the
# literal is the call's argument, not the default of an environment variable
_BINDING_CALL = linear(r"\benv\.[A-Z][A-Z0-9_]*\.\w+\(")
# a catalog id that names no version or tier is too often a product or tool name (``claude-code``)
_VERSIONED_OR_TIERED = re.compile(  # short values only (<= 120 characters): no backtracking risk
    r"(?i)\d|(?:^|[-.:/_])(?:pro|flash|mini|nano|opus|sonnet|haiku|large|medium|small|tiny|turbo|instruct|"
    r"chat|reasoner|reasoning|thinking|instant|versatile|beta|exp|online|r|embed\w*|latest|preview|lite|plus|max|base|coder|vision)(?:$|[-.:/_])"
)


def is_catalog_model(value: str) -> bool:
    """A catalog model id (or family id) with a version or tier, shaped like one token."""
    return bool(plausible_model_name(value) and _VERSIONED_OR_TIERED.search(value) and match_model(value))


# ``containers.run(image="qweneval:latest")``: a container image whose name happens to spell a model family
_IMAGE_ARGUMENT = lazy_re(r"""(?i)\b(?:base_|container_)?image(?:_?(?:name|uri|ref|tag))?["']?\s*[:=]\s*$""")


# a literal a model name is tested against as a prefix: a family, which is a model id only when the
# catalog lists it as one
_PREFIX_TEST = linear(
    r"(?i)(?:starts_?with|strip_prefix|trim_start_matches|remove_?prefix)\s*\(\s*&?\s*$|HasPrefix\s*\([^()]{0,80},\s*$"
)


# a literal that is the left operand of a membership test (Python's ``"x" in y``)
_MEMBERSHIP_TEST = linear(r"^[ \t]+(?:not[ \t]+)?in\b")


# How much of a literal's line before it is read for its context: the whole prefix of every literal on a
# one-line file (minified, generated, hostile) would make the file's cost quadratic in its length.
MAX_LITERAL_CONTEXT = 400


# a variable read from the environment in any language's spelling: ``env::var("X")``, ``os.getenv("X")``,
# ``os.environ["X"]``, ``process.env.X``, ``os.Getenv("X")``, ``System.getenv("X")``, ``ENV["X"]``,
# ``Environment.GetEnvironmentVariable("X")``
_ENVIRONMENT_READ = linear(
    r"""(?:\bvar|\bgetenv|\bGetenv|\bgetEnv|\benviron|\benviron\.get|\bprocess\.env|\bENV|\bENV\.fetch"""
    r"""|\bGetEnvironmentVariable|\bLookupEnv)\s*[\[(.]\s*["'`]?([A-Z][A-Z0-9_]{2,60})\b"""
)


@cache
def _provider_credentials() -> frozenset[str]:
    """The environment variables that hold an AI provider's credential (``OPENAI_API_KEY``, ``HF_TOKEN``)."""
    names = load_json("config_keys.json")["provider_vars"]
    return frozenset(n.upper() for n in names if n.upper().endswith(("KEY", "TOKEN")))


# an AWS SDK client or session built for real (``boto3.client("bedrock-runtime")``, a named profile), and
# the stand-ins that keep one from reaching AWS (moto, botocore's Stubber, a patched boto3, LocalStack)
_AWS_CLIENT = linear(r"\bboto3\.(?:client|resource|Session|setup_default_session)\(")
_AWS_STAND_IN = linear(r"\bmoto\b|\bmock_aws\b|@mock_\w|\bStubber\b|\bpatch\w*\([^)\n]{0,80}boto3|localstack")


# a live test kept out of the default run because it needs a credential or the network, its reason written
# in the gate (Rust's ``#[ignore = "Requires API key"]``, JUnit's ``@Disabled("needs a real API key")``)
_LIVE_TEST_GATE = linear(
    r"""(?i)(?:#\[ignore\s*=\s*|@Disabled\(\s*)"[^"\n]{0,120}?"""
    r"""(?:api[ _-]?key|credential|token|network|live\b)"""
)


def gated_live_test(text: str) -> bool:
    """Whether a test file holds a test its gate says needs a real credential or the network: it calls
    the real API when run, so the model ids it passes are models it uses, as for ``calls_live_provider``."""
    return ("#[ignore" in text or "@Disabled" in text) and _LIVE_TEST_GATE.search(text) is not None


def calls_live_provider(text: str) -> bool:
    """Whether code reads an AI provider's credential from the environment, or builds an AWS client that no
    stand-in replaces (AWS credentials come from the machine's profile): a test that does calls the real
    API (an integration test), so the model ids it passes are models it uses, not input data."""
    if "boto3." in text and _AWS_CLIENT.search(text) and not _AWS_STAND_IN.search(text):
        return True
    if "KEY" not in text and "TOKEN" not in text:
        return False
    credentials = _provider_credentials()
    return any(match.group(1) in credentials for match in _ENVIRONMENT_READ.finditer(text))


def code_model_literals(
    text: str, comment_lines: Container[int], tail_comments: dict[int, int] | None = None
) -> Iterator[tuple[int, str]]:
    """(line, id) of every string literal in code that is, whole, a catalog model id, where no SDK
    call gives context: model catalogs of any shape (constants, enum arguments, map keys and values,
    struct fields, list elements). Prose is not configuration: comment lines and literals handed to
    logging, printing, errors, assertions or help text are skipped, as are container image arguments.
    Only catalog ids that carry a version or tier count (``claude-3-5-haiku``, ``gemini-pro``; never
    ``claude-code``). An Azure deployment named by the model id it serves (``azure_deployment="gpt-4o"``)
    is that model, as the labelling policy has it.

    Each (line, id) is given once: its callers keep one finding per line and model at most, and judging
    the context of a line's every copy of the id (up to ``MAX_LITERAL_CONTEXT`` characters each) made a
    line of thousands of them cost seconds. Past a process's first ``GATED_AFTER_TEXTS`` texts, a text
    where no such id can be (``catalog_literal_possible``, most code files) is not cut into literals."""
    _CodeTexts.seen += 1
    if _CodeTexts.seen <= GATED_AFTER_TEXTS or catalog_literal_possible(text):
        yield from _code_model_literals(text, comment_lines, tail_comments)


# building the gate's RE2 (compiling it, warming its DFA) costs ~26 ms of CPU per process, about what a
# hundred code files' literals cost: a scan of fewer files does not earn it back (bench/README.md)
GATED_AFTER_TEXTS = 100


class _CodeTexts:
    seen = 0


def _code_model_literals(
    text: str, comment_lines: Container[int], tail_comments: dict[int, int] | None
) -> Iterator[tuple[int, str]]:
    given: set[tuple[int, str]] = set()
    for start, value in string_literals(text):
        if " " in value or len(value) > 120 or value.isalpha() or not _VERSIONED_OR_TIERED.search(value):
            continue  # cheap rejections first: most literals in code are prose or identifiers (a word of
            # letters alone holds no digit, ``-``, ``:`` or ``/``: never a plausible model name)
        if value.isupper():
            continue  # an all-capitals token (apex's ``opt_level="O1"``), not an id as an API takes it
        if not plausible_model_name(value) or not match_model(value):
            continue
        line = line_at(text, start)
        if line in comment_lines or (line, value) in given:
            continue
        if tail_comments and start > tail_comments.get(line, len(text)):
            continue  # in the comment after the line's code (``tail_comments``: where each one opens)
        context_start = text.rfind("\n", max(0, start - MAX_LITERAL_CONTEXT), start) + 1
        before = text[max(context_start, start - MAX_LITERAL_CONTEXT) : start]
        if _BINDING_CALL.search(before):
            before = _BINDING_CALL.sub("(", before)
        if _handed_to_prose(before) or _IMAGE_ARGUMENT.search(before):
            continue
        if _ENVIRONMENT_DEFAULT.search(before) and not _MODEL_NAMED.search(before):
            continue
        if _PREFIX_TEST.search(before) and not match_model(value).catalog_id:
            continue  # ``slug.starts_with("gpt-3.5")`` tests a family prefix; ``starts_with("o3")`` names o3
        after = text[start + len(value) + 2 : start + len(value) + 2 + 16]
        if _MEMBERSHIP_TEST.match(after) and not match_model(value).catalog_id:
            continue  # ``if "anthropic.claude-3" in str(models)``: a family searched for, not a model used
        given.add((line, value))
        yield line, value


# ``pub const GPT_4O: &str = "gpt-4o";``, ``const val GPT_4O = "gpt-4o"``, Go's ``GPT4o string = "gpt-4o"``,
# ``DEFAULT_MODEL = "gpt-4o"``, and a Java/Kotlin enum constant's argument ``GPT_4O("gpt-4o"``
_CONSTANT_DEFINITION = linear(
    r"""(?m)(?:\b([A-Z][A-Za-z0-9_]*)(?:\s*:\s*[&'\w<>\[\]. ]{1,60}?|[ \t]+[a-z]\w{0,20})?\s*(?::=|=)\s*"""
    r"""|^\s*([A-Z][A-Z0-9_]*)\s*\(\s*)(?:"([^"\\\n]{1,120})"|'([^'\\\n]{1,120})'|`([^`\\\n]{1,120})`)"""
)
# a name distinctive enough to look up across files: ``GPT_4O``, ``DEFAULT_MODEL``, ``GPT4o``; not ``Model``
_DISTINCTIVE_NAME = linear(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]\w*\d\w*")


# Rust enum variants that stand for a string: strum's ``#[strum(serialize = "gemini-2.0-flash-001")]`` or
# serde's ``#[serde(rename = "...")]`` on the variant, and a match arm ``Self::Gemini20Flash => "..."``
_RUST_VARIANT_SHAPE = (
    r"""#\[(?:strum|serde)\({s}*(?:serialize|rename|to_string){s}*={s}*"([^"\\\n]{{1,120}})"{s}*\)\]{s}*"""
    r'(?:#\[[^\]\n]*\]{s}*)*([A-Z]\w*)|\b(?:Self|[A-Z]\w*)::([A-Z]\w*){s}*=>{s}*"([^"\\\n]{{1,120}})"'
)
_RUST_VARIANT_VALUE = lazy_re(_RUST_VARIANT_SHAPE.format(s=r"\s"))
# The same pattern in RE2 for an ASCII text (nearly every file; ``re`` tries it at every position, a
# few per cent of a scan of Rust code), where ``\w`` and ``\b`` agree and Python's ``\s`` is spelled
# out: RE2's leaves out ``\v`` and ``\x1c``-``\x1f``.
_RUST_VARIANT_VALUE_ASCII = linear(_RUST_VARIANT_SHAPE.format(s=r"[\t\n\v\f\r \x1c-\x1f]"))


def _constant_definitions(text: str) -> Iterator[tuple[str, str, int]]:
    for match in _CONSTANT_DEFINITION.finditer(text):
        yield (
            match.group(1) or match.group(2),
            match.group(3) or match.group(4) or match.group(5),
            match.start(),
        )
    if "#[strum(" in text or "#[serde(" in text or ("::" in text and "=>" in text):
        variants = _RUST_VARIANT_VALUE_ASCII if text.isascii() else _RUST_VARIANT_VALUE
        for match in variants.finditer(text):
            yield match.group(2) or match.group(3), match.group(1) or match.group(4), match.start()


# ``private val MODEL_NAME = …``, ``private static final String MODEL = …``, ``private const string …``
_PRIVATE_DECLARATION = lazy_re(r"\bprivate\b")


def _declared_private(text: str, start: int, private_at: list[int]) -> bool:
    """Whether ``private`` (at one of the offsets ``private_at``, in order) comes before ``start`` on its
    line. Searching the line from its start for each definition made a one-line file of many constants
    quadratic in its length. A definition starts after a non-word character (or at a line start, or on a
    ``#``), so no ``private`` straddles ``start`` and the whole text's matches are the line's."""
    before = bisect_left(private_at, start)
    return before > 0 and private_at[before - 1] >= line_start(text, start)


class _LastConstants:
    text: str | None = None
    every: dict[str, str] = {}
    shared: dict[str, str] = {}


def model_constant_definitions(text: str, *, shared_only: bool = False) -> dict[str, str]:
    """Constants (and enum constants) of the file whose value is a catalog model id, by name, for
    references to them from other files (``openai::GPT_4O``, ``Models.DEFAULT_MODEL``,
    ``GeminiModels::Gemini20Flash``). ``shared_only`` leaves out the ones declared ``private``: no
    other file can name them, so ``ApiKeys.MODEL_NAME`` elsewhere is some other class's constant.
    A code file asks for both (its facts, then its SDK constants), so both answers come from one
    pass and are kept for the last text; callers get their own dictionary."""
    if _LastConstants.text is not text:
        _LastConstants.every, _LastConstants.shared = _model_constants_of(text)
        _LastConstants.text = text
    return dict(_LastConstants.shared if shared_only else _LastConstants.every)


def _model_constants_of(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """(every model constant, those not declared ``private``): the first definition of each name."""
    every: dict[str, str] = {}
    shared: dict[str, str] = {}
    private_at: list[int] | None = None
    for name, value, start in _constant_definitions(text):
        if name in every and name in shared:
            continue
        # the value's answers are kept per value; few values are models, so the name is rarely matched
        if not (plausible_model_name(value) and match_model(value) and _DISTINCTIVE_NAME.fullmatch(name)):
            continue
        every.setdefault(name, value)
        if name not in shared:
            if private_at is None:
                private_at = [match.start() for match in _PRIVATE_DECLARATION.finditer(text)]
            if not _declared_private(text, start, private_at):
                shared[name] = value
    return every, shared


def model_id_from_constant_name(name: str, *, named_as_model: bool) -> str | None:
    """The model id an SDK's constant spells in its name (``ChatModel.O3_MINI`` -> ``o3-mini``,
    ``GPT_3_5_TURBO`` -> ``gpt-3.5-turbo``): a listed catalog id, or a catalog family's id with a
    version when the constant's class says it holds models (``named_as_model``)."""
    if not _DISTINCTIVE_NAME.fullmatch(name) or "_" not in name:
        return None
    dashed = name.lower().replace("_", "-")
    dotted = re.sub(r"(?<=\d)-(?=\d)", ".", dashed)
    # a one-letter suffix of a version is part of it: ``GPT_4_O_MINI`` is ``gpt-4o-mini``
    joined = [re.sub(r"(?<=\d)-([a-z])(?=-|$)", r"\1", spelling) for spelling in (dashed, dotted)]
    for candidate in (dashed, dotted, *joined):
        listed = known_model_id(candidate)
        if listed:
            return listed
    if named_as_model and any(ch.isdigit() for ch in dashed) and match_model(dashed):
        return dashed
    return None


def comment_line_numbers(lines: list[str], prefixes: tuple[str, ...]) -> set[int]:
    """1-based numbers of lines that start with a comment prefix or sit inside a ``/* ... */`` block
    (a block only where ``/*`` is one of the language's ``prefixes``)."""
    comments: set[int] = set()
    in_block = False
    blocks = "/*" in prefixes
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if in_block:
            comments.add(number)
            in_block = "*/" not in stripped
        elif stripped.startswith(prefixes):
            comments.add(number)
            in_block = stripped.startswith("/*") and "*/" not in stripped
        elif blocks and "/*" in stripped:
            in_block = block_opened_after_code(raw)
    return comments


def block_opened_after_code(raw: str) -> bool:
    """Whether a line of code ends inside a ``/*`` block it opens (``class Clone {/*`` commenting out the
    methods below): not a ``/*`` in a string literal or after a ``//``, nor one closed on the line."""
    column = comment_column(raw, "/*", "\"'`")
    if column is None:
        return False
    line_comment = comment_column(raw, "//", "\"'`")
    return (line_comment is None or line_comment > column) and "*/" not in raw[column + 2 :]


# How a package names itself in its own manifest, per registry: (manifest file glob, pattern of the name)
OWN_NAME = {
    "cargo": (("Cargo.toml", linear(r"""(?ms)^\[package\][^\[]*?^\s*name\s*=\s*["']([^"'\n]+)["']""")),),
    "gem": (("*.gemspec", lazy_re(r"""\.name\s*=\s*["']([^"'\n]+)["']""")),),
    "npm": (("package.json", lazy_re(r'(?m)^(?: {0,2}|\t)"name"\s*:\s*"([^"\n]+)"')),),  # the top-level key
    "go": (("go.mod", linear(r"(?m)^\s*module\s+(\S+)")),),
    "composer": (("composer.json", lazy_re(r'(?m)^(?: {0,4}|\t)"name"\s*:\s*"([^"\n]+)"')),),
    "pypi": (
        (
            "pyproject.toml",
            linear(r"""(?ms)^\[(?:project|tool\.poetry)\][^\[]*?^\s*name\s*=\s*["']([^"'\n]+)["']"""),
        ),
        ("setup.py", lazy_re(r"""\bsetup\s*\((?s:.){0,2000}?\bname\s*=\s*["']([^"'\n]+)["']""")),
    ),
}


MAX_NEIGHBOUR_BYTES = 256_000
tomllib = lazy_module("tomllib")


def scan_root_of(file) -> str:
    """The real path of the directory ``file.relpath`` is relative to (worked out once per file)."""
    return file.real_root


def folders_up(file) -> Iterator[Path]:
    """The file's folder and each folder above it within the scanned tree, nearest first: where the
    manifest or settings a file belongs to are looked for."""
    folder = file.path.parent
    for _ in range(file.relpath.count("/") + 1):
        yield folder
        folder = folder.parent


def nearest_answer(file, answer_in: Callable[[Path, str], T | None], default: T) -> T:
    """The first answer ``answer_in(folder, root)`` gives that is not None, from the file's folder up
    to the scanned root; ``default`` where no folder answers (no manifest above the file)."""
    root = scan_root_of(file)
    for folder in folders_up(file):
        answer = answer_in(folder, root)
        if answer is not None:
            return answer
    return default


def read_neighbour(path: Path, root: str, max_bytes: int = MAX_NEIGHBOUR_BYTES) -> str | None:
    """The text of a file a detector reads beside the one it scans (a manifest above it), or None.

    The walker confines what it hands out; a file found by ``glob`` is not walked, so the same rules
    apply here: a symlink leading out of the scan root (``Cargo.toml -> /etc/...``), anything but a
    regular file (a FIFO blocks the read forever with no CPU spent, ``/dev/zero`` never ends) and
    anything over ``max_bytes`` are not read. The file opened is checked on its descriptor
    (``open_regular_file``): a folder on the resolved path swapped for a link between the check and
    the open would lead it elsewhere. A missing file is told by one ``stat`` before the path is
    resolved (a ``stat`` per component: lookups walking up a deeply nested tree mostly ask for files
    that are not there)."""
    from common.scanner.detectors.base import open_regular_file  # base imports this module (model)

    if not os.path.exists(path):
        return None
    real = os.path.realpath(path)
    if os.path.commonpath([real, root]) != root:
        return None
    try:
        handle = open_regular_file(real, root=root)
    except OSError:
        return None
    with handle:
        if os.fstat(handle.fileno()).st_size > max_bytes:
            return None
        data = handle.read(max_bytes + 1)
    return None if len(data) > max_bytes else data.decode("utf-8-sig", errors="replace")


CARGO_DEPENDENCY_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")


def cargo_local_crates(manifest: Path, text: str, root: str) -> frozenset[str]:
    """Catalog ids of the crates a Cargo.toml takes from this tree (``rmcp = { path = "crates/rmcp" }``,
    also under ``[workspace.dependencies]``): a ``path`` whose Cargo.toml names that very crate is a
    workspace member or sibling built here, not a package from the registry."""
    try:
        data = parse_toml(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return frozenset()
    scopes = [data, *(t for t in data.get("target", {}).values() if isinstance(t, dict))]
    tables = [scope.get(key, {}) for scope in scopes for key in CARGO_DEPENDENCY_TABLES]
    tables.append(data.get("workspace", {}).get("dependencies", {}))
    ids = set()
    for table in tables:
        for dependency, spec in table.items() if isinstance(table, dict) else ():
            if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
                continue
            crate = spec.get("package") if isinstance(spec.get("package"), str) else dependency
            target = read_neighbour(manifest.parent / spec["path"] / "Cargo.toml", root)
            declared = OWN_NAME["cargo"][0][1].search(target) if target is not None else None
            package = lookup_package("cargo", crate) if declared and declared.group(1) == crate else None
            if package:
                ids.add(package.id)
    return frozenset(ids)


# What ``per_scan`` functions answered, for the scan under way; None outside a scan.
_ANSWERS_OF_SCAN: ContextVar[dict[tuple, object] | None] = ContextVar("answers_of_scan", default=None)
# A scan remembers this many answers (each is small: a name, a flag, a few ids), oldest forgotten first.
MAX_ANSWERS_PER_SCAN = 50_000


@contextmanager
def one_scan() -> Iterator[None]:
    """Remember the manifests read beside the scanned files until the block ends, and no longer: every
    file of a folder asks for the same manifests, but the next scan of that folder (changed since, or
    another tree at the same path) must read them again."""
    answers = _ANSWERS_OF_SCAN.set({})
    try:
        yield
    finally:
        _ANSWERS_OF_SCAN.reset(answers)


def per_scan(stopped: object = None) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Remember what the decorated function answers for its (hashable) arguments until the scan ends
    (``one_scan``; outside a scan it runs every time). For what a file reads beside itself: a manifest
    above a thousand files is read, parsed and searched once, not once per file. An answer the file's
    CPU budget stops (or an error) is remembered as ``stopped``, so a hostile neighbour costs one file
    budget per scan, not one per file below it."""

    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        @wraps(function)
        def remembered(*args):
            answers = _ANSWERS_OF_SCAN.get()
            if answers is None:
                return function(*args)
            key = (function, *args)
            if key in answers:
                return answers[key]
            if len(answers) >= MAX_ANSWERS_PER_SCAN:
                del answers[next(iter(answers))]
            answers[key] = stopped
            answers[key] = answer = function(*args)
            return answer

        return remembered

    return decorate


def _own_packages_in(folder: str, registry: str, root: str) -> frozenset[str]:
    """Catalog ids of the packages whose manifest in ``folder`` names them as the project itself, and
    (Cargo) the crates it takes from this tree by path."""
    ids = set()
    for manifest, pattern in OWN_NAME[registry]:
        for path in Path(folder).glob(manifest):
            text = read_neighbour(path, root)
            if text is None:
                continue
            declared = pattern.search(text)
            name = declared.group(1).strip() if declared else ""
            # named once: a manifest that also lists its own name depends on the published package
            named_once = name and len(re.findall(rf"(?<![\w./-]){re.escape(name)}(?![\w./-])", text)) == 1
            package = lookup_package(registry, name) if named_once else None
            if package:
                ids.add(package.id)
            if registry == "cargo":
                ids |= cargo_local_crates(path, text, root)
    return frozenset(ids)


@per_scan(stopped=frozenset())
def _own_packages_of_folder(folder: str, registry: str, root: str) -> frozenset[str]:
    """``_own_packages_in``, once per folder per scan; a read the file's CPU budget stops counts as naming
    nothing for every file below: a hostile manifest costs one budget per scan, not one per file under it."""
    return _own_packages_in(folder, registry, root)


def own_packages(file, registry: str | None) -> frozenset[str]:
    """The packages the repository itself builds (its own crate, gem, npm or PyPI package, from a manifest
    at or above the file): its examples and tests import them; they are no dependencies."""
    if registry not in OWN_NAME:
        return frozenset()
    found: set[str] = set()
    folder = file.path.parent
    root = scan_root_of(file)
    for _ in range(file.relpath.count("/") + 1):
        found |= _own_packages_of_folder(str(folder), registry, root)
        folder = folder.parent
    return frozenset(found)


class OnDemand:
    """A set, mapping or list that is built the first time it is asked about: a file's comment lines or
    comment offsets matter only where a candidate literal sits, and most code files hold none."""

    __slots__ = ("_build", "_value")

    def __init__(self, build: Callable[[], object]) -> None:
        self._build: Callable[[], object] | None = build
        self._value: object = None

    def _built(self):
        if self._build is not None:
            self._value, self._build = self._build(), None
        return self._value

    def __contains__(self, item: object) -> bool:
        return item in self._built()

    def __iter__(self):
        return iter(self._built())

    def __bool__(self) -> bool:
        return bool(self._built())

    def get(self, key: object, default: object = None) -> object:
        return self._built().get(key, default)


class YamlParents:
    """The keys a YAML (or pretty-printed JSON) line sits under, from indentation alone (the line scan
    has no parse tree)."""

    KEY = linear(r"""^(\s*)(?:-\s+)?["']?([A-Za-z_][\w.-]*)["']?\s*:""")

    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []
        # the last line's keys are the stack's first ``depth`` entries (``see`` only pushes after them), so
        # a line whose keys nobody asks for costs no copy of them
        self.depth = 0

    def see(self, line: str) -> None:
        match = self.KEY.match(line)
        if not match or not line.strip() or line.lstrip().startswith("#"):
            self.depth = len(self.stack)
            return
        indent = len(match.group(1))
        while self.stack and self.stack[-1][0] >= indent:
            self.stack.pop()
        self.depth = len(self.stack)
        self.stack.append((indent, match.group(2)))

    @property
    def current(self) -> list[str]:
        return [key for _, key in self.stack[: self.depth]]

    def path(self) -> str:
        return ".".join(key for _, key in self.stack[: self.depth])


def comment_column(raw: str, marker: str, quotes: str) -> int | None:
    """Column of the ``marker`` (``//``, ``#``) that opens a comment after code on one line, skipping
    markers inside string literals opened by any of ``quotes``; ``None`` when the line has none, or a
    quote it opens stays open (a Rust lifetime ``'a``)."""
    quote = None
    index = 0
    while index < len(raw):
        char = raw[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in quotes:
            quote = char
        elif raw.startswith(marker, index):
            return index
        index += 1
    return None

"""``.env`` files, YAML/TOML/JSON/INI/properties configs, shell scripts and the ``ARG``/``ENV`` lines
of Dockerfiles.

Line-oriented so evidence has a line number: model keys whose value is a
catalog model id, endpoint keys and URLs of AI servers (hosted and
self-hosted: Ollama, vLLM, LM Studio, LocalAI, TGI), and ``ollama pull|run``
commands. A provider variable (``OPENAI_API_KEY=…``, ``OLLAMA_HOST=…``) is no
SDK in use (an SDK counts where code imports it or a manifest declares it): it
vouches for the URL it holds (an endpoint) and, holding a real-looking key,
is that provider's hard-coded credential. Structured files are also
parsed once so broken JSON/YAML/TOML is reported as a warning; model-ish
variables are kept as facts for deep mode.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import PurePosixPath

from common.scanner.catalog import (
    LOCAL_DIRECTORY_NAMES,
    Package,
    is_hf_org,
    load_json,
    lookup_package,
    match_model,
    route_forms,
)
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.detectors.containers import helm_rendered, is_dockerfile, is_helm_template
from common.scanner.detectors.secrets import is_placeholder, marked_lines
from common.scanner.keys import component_key
from common.scanner.lazy import lazy_module, lazy_re
from common.scanner.limits import line_at, linear, load_yaml_all, parse_json, parse_toml
from common.scanner.registry import CONFIG_SUFFIXES as SELECTED_SUFFIXES
from common.scanner.textutil import (
    YamlParents,
    endpoint_for_url,
    hf_inference_models,
    is_catalog_model,
    is_prose,
    model_finding,
    plausible_model_name,
)

tomllib = lazy_module("tomllib")
yaml = lazy_module("yaml")

STRUCTURED = {".json": "JSON", ".jsonc": "JSON", ".yaml": "YAML", ".yml": "YAML", ".toml": "TOML"}
# how much of a file's start is read to tell recorded data from configuration (records are long lines)
MAX_RECORD_HEAD = 200_000
CONFIG_SUFFIXES = frozenset(SELECTED_SUFFIXES)
SHELL_NAMES = {"Makefile", "Procfile", "justfile", "Justfile"}
OWNED_ELSEWHERE = {
    "package.json",
    "package-lock.json",
    "pyproject.toml",
    "Cargo.toml",
    "Pipfile",
    "poetry.lock",
    "uv.lock",
    "pnpm-lock.yaml",
    "composer.json",
    "tsconfig.json",
    "setup.cfg",
    "libs.versions.toml",  # a Gradle version catalog: the manifest detector reads its libraries
}
PARSE_LIMIT_BYTES = 2 * 1024 * 1024
MAX_CONFIG_FACTS = 500
MAX_CONFIG_DEPTH = 8
# ``KEY=value``, ``key: value``, Make's ``MODEL ?= …`` / ``MODEL := …`` / ``MODELS += …``, and PowerShell's
# ``$Model = "…"`` / ``[string]$ModelName = "…"`` parameters
ASSIGNMENT = linear(
    r"""^\s*(?:(?:export|local|declare|readonly|typeset)(?:\s+-\w+)*\s+|-\s+)?(?:\[[\w.]{1,40}\]\s*)?\$?["']?([A-Za-z_][\w.-]*)["']?\s*(?:::?=|[?+]=|:|=)\s*(.*?)\s*$"""
)
URL = linear(r"https?://[^\s'\"<>,}]+")
ENV_FACT_KEY = linear(r"MODEL|LLM|ENGINE|DEPLOYMENT|EMBED", re.IGNORECASE)


# a JSON file that counts the tokens a request spent is a saved API response (a chat completion, an
# embeddings list, a framework's serialized message): the model in it answered, nothing is configured
RESPONSE_INPUT_TOKENS = linear(r'"(?:prompt_tokens|promptTokens|input_tokens|inputTokens)"\s*:\s*\d')
RESPONSE_TOTAL_TOKENS = linear(
    r'"(?:completion_tokens|completionTokens|output_tokens|outputTokens|total_tokens|totalTokens)"\s*:\s*\d'
)
SECTION_HEADER = linear(r"^\s*\[+\s*([\w.\"' -]{1,100}?)\s*\]+\s*(?:#.*)?$")


JSONC_NOISE = linear(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.DOTALL)
TRAILING_COMMA = linear(r",(\s*[}\]])")


@cache
def _tolerant_yaml_loader():
    """Safe loading that accepts application tags (CloudFormation ``!Ref``, GitLab ``!reference``)."""

    class TolerantYamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        pass

    TolerantYamlLoader.add_multi_constructor("!", _construct_tagged)
    return TolerantYamlLoader


def _construct_tagged(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


def _loads_jsonc(text: str) -> object:
    """JSON, or JSON with comments and trailing commas (VS Code settings, tsconfig)."""
    try:
        return parse_json(text)
    except ValueError:
        stripped = JSONC_NOISE.sub(lambda m: m.group(1) or "", text)
        return parse_json(TRAILING_COMMA.sub(r"\1", stripped))


def model_like_values(document: object, limit: int = MAX_CONFIG_FACTS) -> dict[str, str]:
    """String leaves that could name a model, by key path (``llm.model``), for deep mode to look up
    when code reads ``config["llm"]["model"]``. Lists are not descended: code indexes them by
    position, which says nothing stable."""
    found: dict[str, str] = {}
    stack: list[tuple[str, object]] = [("", document)]
    while stack and len(found) < limit:
        prefix, node = stack.pop()
        if not isinstance(node, dict):
            continue
        for key, value in node.items():  # the path is spelled only for a value that may need it
            if isinstance(value, str):
                if plausible_model_name(value.strip()):
                    found[f"{prefix}.{key}" if prefix else str(key)] = value.strip()
            elif isinstance(value, dict):
                path = f"{prefix}.{key}" if prefix else str(key)
                if path.count(".") < MAX_CONFIG_DEPTH:
                    stack.append((path, value))
    return found


MODEL_NAMED_KEY = re.compile(r"(?i)model|llm|engine|deployment|embed")


def _names_a_model_variable(node: dict) -> bool:
    """An environment entry written as a name/value pair whose name says it holds a model."""
    name, value = node.get("name"), node.get("value")
    return (
        isinstance(name, str)
        and isinstance(value, str)
        and bool(MODEL_NAMED_KEY.search(name))
        and not SERVED_ALIAS.search(name)
    )


@lru_cache(maxsize=4096)
def _key_names(key: str) -> tuple[bool, bool]:
    """(names models, names a served alias) of a mapping key. Every key of every configuration
    document is asked, and documents repeat their keys (a lock file's ``version``, ``resolved``), so
    the two pattern searches are done once per distinct key."""
    served = bool(SERVED_ALIAS.search(key))
    return bool(MODEL_NAMED_KEY.search(key)) and not served, served


def catalog_models_under_model_keys(
    document: object, limit: int = MAX_CONFIG_FACTS, *, options: bool = False, named_for_models: bool = False
) -> list[str]:
    """String values, in lists and nested mappings, below a key that names models (a served-model
    alias excepted), that are catalog model ids with a version or tier; with ``options`` (the text has a
    ``value`` key), also a select list's options anywhere; with ``named_for_models`` (the file's name says
    it holds models, ``llm_models.json``), the whole document is under such a key."""
    found: list[str] = []
    stack: list[tuple[bool, object, int]] = [(named_for_models, document, 0)]
    while stack and len(found) < limit:
        under_model_key, node, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            continue
        if isinstance(node, dict):
            if _names_a_model_variable(node) and is_catalog_model(node["value"].strip()):
                found.append(node["value"].strip())  # Kubernetes / ECS ``env: [{name: MODEL_ID, value: …}]``
            labelled = "name" in node and (_says_its_model(node) or _shown_by_name(node))
            for key, value in node.items():
                named = alias = False
                if isinstance(key, str):
                    names_models, served = _key_names(key)
                    litellm_alias = key == "model_name" and "litellm_params" in node
                    named = names_models and not litellm_alias
                    alias = served or litellm_alias or (labelled and key == "name")
                    if under_model_key and is_catalog_model(key):
                        found.append(key)  # a table keyed by model id: ``models: {gpt-4o: {...}}``
                # a leaf found nothing when it was taken off the stack unless it is a string under a model
                # key: such leaves (most of a data document) are not put on it
                if isinstance(value, (dict, list)):
                    stack.append(((under_model_key or named) and not alias, value, depth + 1))
                elif (under_model_key or named) and not alias and isinstance(value, str):
                    stack.append((True, value, depth + 1))
        elif isinstance(node, list):
            if options:  # a model picker's options: ``[{label: "GPT-4o", value: "gpt-4o"}, …]``
                found.extend(item["value"].strip() for item in node if _picker_option_model(item))
            stack.extend(
                (under_model_key and not _follows_served_alias(node, index), item, depth + 1)
                for index, item in enumerate(node)
                if isinstance(item, (dict, list)) or (under_model_key and isinstance(item, str))
            )
        elif isinstance(node, str) and under_model_key and is_catalog_model(node.strip()):
            found.append(node.strip())
    return found


# the keys a UI option shows its choice under, beside the ``value`` the app sends
PICKER_LABEL_KEYS = ("label", "title", "text", "displayName", "display_name")


def _picker_option_model(node: object) -> bool:
    """An option of a select list (``{"label": "GPT-4o", "value": "gpt-4o"}``) whose value is a catalog
    model id: the model the user picks, wherever the list sits."""
    value = node.get("value") if type(node) is dict else None
    return (
        isinstance(value, str)
        and any(key in node for key in PICKER_LABEL_KEYS)
        and is_catalog_model(value.strip())
    )


def _shown_by_name(node: dict) -> bool:
    """A catalog entry ``{"id": "zai-glm-4.7", "name": "GLM-4.7"}``: the API is called with its ``id``,
    its ``name`` is what a UI shows (``Phi-4`` beside ``phi4``), however much it looks like a model id."""
    identifier = node.get("id")
    return isinstance(identifier, str) and plausible_model_name(identifier.strip())


def _says_its_model(node: dict) -> bool:
    """A mapping with a key of its own naming the model it runs (vLLM production-stack's ``modelSpec``
    entry ``{name: llama3, modelURL: meta-llama/Llama-3.1-8B-Instruct}``): its ``name`` labels the entry
    (a deployment, a route), however much it looks like a model id. The other key must hold an id (a
    repository path, a route, a catalog id), not a kind (``model_type: chat``)."""
    return any(
        isinstance(key, str)
        and key != "name"
        and isinstance(value, str)
        and _key_names(key)[0]
        and ("/" in value or ":" in value or is_catalog_model(value.strip()))
        for key, value in node.items()
    )


def _follows_served_alias(items: list, index: int) -> bool:
    """An argument list's value of ``--served-model-name`` (``["--served-model-name", "llama3"]``): the
    alias a server exposes its model under, not the model."""
    previous = items[index - 1] if index else None
    return isinstance(previous, str) and bool(SERVED_ALIAS.search(previous))


# the key of a provider entry that says which server it addresses (``"apiType": "Ollama"``)
PROVIDER_KIND_KEY = linear(r"(?i)^(?:api[._-]?type|provider|backend|type|kind)$")
PROVIDER_KIND_KEYS = frozenset(
    {"provider", "backend", "type", "kind", "apitype", *(f"api{separator}type" for separator in "._-")}
)
SERVER_URL = linear(r"^https?://\S{1,300}$")


def _names_provider_kind(key: object) -> bool:
    """``PROVIDER_KIND_KEY.match(str(key))``; an ASCII key (nearly all) is looked up lowered instead of
    matched, which every string-valued entry of every mapping asked."""
    text = str(key)
    if text.isascii():
        return text.lower() in PROVIDER_KIND_KEYS
    return PROVIDER_KIND_KEY.match(text) is not None


def provider_entry_urls(document: object, limit: int = MAX_CONFIG_FACTS) -> list[tuple[str, str]]:
    """(URL, provider) of each mapping that names a known AI server kind (``"apiType": "Ollama"``,
    ``provider: vllm``) beside its address (``"url": "http://localhost:14434"``): the entry says which
    server listens there, whatever its host and port (a local server moved off its default port)."""
    _, _, endpoint_key, hints, *_ = _rules()
    found: list[tuple[str, str]] = []
    stack: list[tuple[object, int]] = [(document, 0)]
    while stack and len(found) < limit:
        node, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            continue
        if isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        provider = None
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                stack.append((value, depth + 1))
            elif provider is None and isinstance(value, str) and _names_provider_kind(key):
                provider = hints.get(re.sub(r"[\s.-]", "_", value.strip()).upper())
        if provider is None:
            continue
        for key, value in node.items():
            if (
                isinstance(key, str)
                and isinstance(value, str)
                and endpoint_key.search(key)
                and not _own_address_key().search(key)
                and SERVER_URL.match(value.strip())
            ):
                found.append((value.strip(), provider))
    return found


@cache
def _own_address_key():
    return linear(load_json("config_keys.json")["own_address_key"])


@cache
def _rules():
    data = load_json("config_keys.json")
    quick = linear("|".join(map(re.escape, data["quick_markers"])))
    return (
        data["provider_vars"],
        linear(data["model_key"]),
        linear(data["endpoint_key"]),
        data["self_hosted_hints"],
        linear(data["shell_models"]),
        quick,
        tuple(data["quick_markers"]),
    )


def quick_marked_lines(lowered: str, markers: tuple[str, ...]) -> frozenset[int]:
    """The numbers of the lines whose lowered text holds a quick marker, from one pass over the
    lowered file: lowering never makes or removes a line break, so its lines are the file's lines
    lowered, and a marker (lowercase ASCII, no line break) sits inside one line."""
    return frozenset(marked_lines(lowered, markers))


def is_vector_store_variable(name: str, provider_vars: dict[str, str]) -> bool:
    """``QDRANT_URL``, ``CHROMA_HOST``: the variable belongs to a vector store's client, so the address
    it holds is the store's (the store is a component of its own), not an AI endpoint."""
    package = lookup_package("id", provider_vars[name])
    return package is not None and package.type == "vector_db"


# a Dockerfile's build argument or environment variable: ``ARG MODEL_ID=org/name``, ``ENV MODEL gpt-4o``
DOCKERFILE_VARIABLE = linear(r"^\s*(?:ARG|ENV)\s+([A-Za-z_]\w*)(\s*=\s*|\s+)(.*)$", re.IGNORECASE)
# one ``KEY=value`` of an instruction that sets several (``ENV A=1 B="two words"``)
DOCKERFILE_PAIR = linear(r"""(?:^|\s)([A-Za-z_]\w*)=("[^"\n]*"|'[^'\n]*'|[^\s"']*)""")


def dockerfile_assignments(lines: list[str]) -> Iterator[tuple[int, str]]:
    """The ``KEY=value`` assignments of a Dockerfile's ``ARG``/``ENV`` instructions, by line: every pair of
    ``ENV A=1 B=2``, also on the lines a trailing backslash continues the instruction onto (``ENV
    MODEL_NAME=gpt-4o \\`` then ``    OLLAMA_HOST=http://ollama:11434``). Other instructions are the
    containers detector's."""
    continued = False
    for number, line in enumerate(lines, start=1):
        body = line.rstrip()
        continues = body.endswith("\\")
        body = body.removesuffix("\\")
        if continued:
            if not body.strip() or body.lstrip().startswith("#"):
                continue  # Docker drops comment and empty lines inside a continued instruction
            yield from ((number, f"{key}={value}") for key, value in DOCKERFILE_PAIR.findall(body))
            continued = continues
            continue
        variable = DOCKERFILE_VARIABLE.match(body)
        continued = continues and variable is not None
        if variable is None:
            continue
        pairs = DOCKERFILE_PAIR.findall(body[variable.start(1) :]) if "=" in variable.group(2) else []
        if pairs:  # the ``KEY=value ...`` form: one or more pairs
            yield from ((number, f"{key}={value}") for key, value in pairs)
        else:  # the legacy ``ENV KEY value``: the rest of the line is the value
            yield number, f"{variable.group(1)}={variable.group(3)}"


# a compose or shell substitution with a default (``${EMBEDDING_MODEL:-nomic-embed-text:v1.5}``, a
# script's argument ``${1:-org/name}``, quoted or not): the default is the literal value used when it is unset
SUBSTITUTION_DEFAULT = linear(r"^\$\{(?:[A-Za-z_]\w{0,80}|\d{1,2}):?[-=]([^${}]{1,200})\}$")


def _clean_value(raw: str) -> str:
    value = raw.strip().rstrip(",")
    if value and value[0] in "\"'" and value.count(value[0]) >= 2:
        value = value[1 : value.index(value[0], 1)]
    else:
        value = value.split(" #", 1)[0].strip()
    default = SUBSTITUTION_DEFAULT.match(value.strip())
    return (default.group(1).strip().strip("\"'") if default else value).strip()


HTTP_COMMAND = linear(r"^\s*(?:curl|wget|http|https|xh)\s")
# what a script prints tells, it does not call: ``echo``/``printf``, PowerShell's ``Write-Host`` family
SHELL_MESSAGE = linear(
    r"^\s*(?:echo|printf|read\s+-p|log|info|warn|die"
    r"|(?i:write-(?:host|output|information|warning|verbose|debug|error)))\b"
)
# ``cat << 'EOF'`` with no redirection or pipe: its body is text the script prints, as an echo's is
PRINTED_HEREDOC = linear(r"""^\s*cat\s+<<-?\s*['"]?([A-Za-z_]\w*)['"]?\s*$""")
SHELL_SUFFIXES = (".sh", ".bash", ".zsh")
REQUEST_FILE_SUFFIXES = (".http", ".rest")
# a request body's model member, also in a shell string (``-d '{"model": "x"}'``, ``-d "{\"model\": \"x\"}"``)
BODY_MODEL = linear(r'\\?"model\\?"\s*:\s*\\?"([^"\\\s]{1,120})\\?"')


def printed_heredoc_lines(lines: list[str]) -> set[int]:
    """The body lines of a shell script's printed heredocs (``cat << 'EOF'`` ... ``EOF``)."""
    printed: set[int] = set()
    end = None
    for number, line in enumerate(lines, start=1):
        if end is not None:
            if line.strip() == end:
                end = None
            else:
                printed.add(number)
        elif match := PRINTED_HEREDOC.match(line):
            end = match.group(1)
    return printed


CREDENTIAL_NAME = lazy_re(r"(?:KEY|TOKEN|SECRET|PASSWORD)$")
REFERENCE = lazy_re(r"^(?:\$\{\{?|\$[A-Za-z_]|%\(|\{\{|<%=)")


# the name a server exposes its model under (vLLM ``--served-model-name``): an alias the operator chose
SERVED_ALIAS = lazy_re(r"(?i)served[._-]?model")
# an Azure OpenAI deployment (``deployment_name: …``, ``AZURE_OPENAI_DEPLOYMENT=…``, ``azure_deployment: …``)
# is an alias too, unless the operator named it by the model id it serves (``gpt-4o``): that is a model
DEPLOYMENT_KEY = lazy_re(r"(?i)^(?!.*model).*deployment")
# a config file that is a table of models by its name: models.json, models_config.yaml, model-catalog.json
MODEL_TABLE_FILE = lazy_re(r"(?i)models?(?:[_-](?:config|configs|catalog|registry|list|table))?")
# a config file whose name says its values are models, the kind of model in front: llm_models.json,
# ai-models.yaml, available_models.json (a plural, so a framework's ``tfjs_model.json`` is not one)
MODELS_FILE = lazy_re(r"(?i)(?:[a-z0-9]+[_-])*models(?:[_-](?:config|configs|catalog|registry|list|table))?")
HF_MODEL_KEY = lazy_re(r"(?i)(?:^|[._-])model[._-]?(?:path|repo|repo[._-]?id|checkpoint)$")
# keys holding a Hugging Face repository without saying "model" (``checkpoint: google/vit-base-patch16-224``,
# ``repo_id: BAAI/bge-m3``, ``reranker: BAAI/bge-reranker-base``): an ``org/name`` there is a model only when
# the organisation publishes models
HF_REPO_KEY = lazy_re(
    r"(?i)(?:^|[._-])(?:checkpoint|repo[._-]?id|hf[._-]?repo|pretrained(?:[._-]name)?|re[._-]?ranker|embedder"
    r"|embeddings?|(?:cross[._-]?)?encoder|summari[sz]er|classifier|captioner)$"
)
HF_ID = lazy_re(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")
NOT_AN_ORG = LOCAL_DIRECTORY_NAMES


def hugging_face_id(value: str) -> bool:
    """``org/name`` under a model key (``MODEL_ID=moonshotai/Kimi-K2-Instruct``), not a relative
    directory (``models/cache``) and not a file (``org/model.gguf``)."""
    if not HF_ID.fullmatch(value) or value.split("/", 1)[0].lower() in NOT_AN_ORG:
        return False
    if len(route_forms(value)) > 1 and not is_hf_org(value.split("/", 1)[0]):
        return False  # ``azure/my-deployment``: the first part routes to a provider, it is no organisation
    return not re.search(r"\.(?:gguf|bin|safetensors|pt|pth|onnx|json|ya?ml|txt)$", value, re.IGNORECASE)


MODEL_IN_KEY = lazy_re(r"(?i)model")
BARE_TAG = lazy_re(r"[a-z][a-z0-9-]{2,40}")


# a model a serving config loads from the Hugging Face Hub by URI (KServe ``storageUri: hf://org/name``,
# vLLM and SGLang model paths); ``hf://datasets/...`` and ``hf://spaces/...`` hold no model
# LangChain4j's Spring Boot and Quarkus settings and Spring AI's (``langchain4j.dashscope.embedding-model.
# model-name``, ``spring.ai.openai.chat.options.model``): a model key in them holds the id the provider serves
AI_FRAMEWORK_SETTING = linear(r"(?i)^(?:quarkus\.)?(?:langchain4j|spring\.ai)\.[\w.-]+$")
HF_URI = linear(r"\b(?:hf|huggingface)://([A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,95})")
# a model pulled from the Ollama library by URI (KubeAI ``url: ollama://gemma2:2b``, RamaLama)
OLLAMA_URI = linear(r"\bollama://([A-Za-z0-9][\w.-]{0,95}(?:/[\w.-]{1,95})?(?::[\w.-]{1,60})?)")
HF_NOT_MODEL_OWNERS = frozenset({"datasets", "spaces", "buckets"})


def bare_ollama_tag(value: str) -> bool:
    """A bare Ollama library tag (``mistral``, ``llava``, ``codellama``): a catalog family name alone,
    which ``plausible_model_name`` rejects as a plain word everywhere else."""
    return bool(BARE_TAG.fullmatch(value)) and match_model(value) is not None


# an Ollama model reference with its tag (``granite4:3b``, ``embeddinggemma:latest``,
# ``hf.co/org/model:Q4_K_M`` minus the host): the tag holds a letter, so ``ollama:11434`` is a host and port
OLLAMA_TAGGED = linear(r"[a-z][a-z0-9._-]{1,60}(?:/[a-z0-9._-]{1,60})?:[0-9._-]{0,20}[A-Za-z][\w.-]{0,40}")
# keys that hold where a model lives or is served, not which model it is
# a server's address written without a scheme: ``host:port[/path]`` or a dotted host with a path
# (``api.openai.com/v1``); a bare dotted word (``gpt-3.5``) is no address
SCHEMELESS_ADDRESS = linear(r"[\w.-]+:\d+(?:/[\w./-]*)?|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/[\w./-]*")
MODEL_LOCATION_KEY = linear(r"(?i)path|dir|url|host|file|port|endpoint")


def ollama_tagged(key: str, value: str) -> bool:
    """``OLLAMA_MODEL_PREF='granite4:3b'`` in a file about Ollama: a tagged library model the catalog
    need not know, under a key that names a model (not its path or server)."""
    return bool(OLLAMA_TAGGED.fullmatch(value)) and not MODEL_LOCATION_KEY.search(key)


KEY_SHAPED = lazy_re(r"[A-Za-z0-9][\w.+/=:-]{15,}")  # one token: not code, a sentence or a ${reference}


def hardcoded_credential(name: str, value: str) -> bool:
    """``PINECONE_API_KEY=pcsk_…`` with a real-looking value: a key committed in the file. An empty
    value, a placeholder (``sk-your-key-here``) or a reference (``${X}``, ``${{ secrets.X }}``) is not."""
    if not CREDENTIAL_NAME.search(name) or not KEY_SHAPED.fullmatch(value):
        return False
    return not is_placeholder(value, value)


MODELFILE_FROM = linear(r"^\s*FROM\s+([^\s#]+)", re.IGNORECASE)


def front_matter_end(file: SourceFile) -> int:
    """The last line read of a ``.prompty`` file: its YAML front matter between ``---`` lines configures
    the model; the prompt below it is text sent to the model (model names there are prose)."""
    if file.suffix != ".prompty" or not file.lines or file.lines[0].strip() != "---":
        return len(file.lines)
    return next(
        (n for n, line in enumerate(file.lines[1:], start=2) if line.strip() == "---"), len(file.lines)
    )


def is_modelfile(name: str) -> bool:
    """Ollama's build file: ``Modelfile``, ``Modelfile.<variant>`` or ``<name>.modelfile``."""
    return name == "Modelfile" or name.startswith("Modelfile.") or name.lower().endswith(".modelfile")


# node types of Flowise and Langflow vector stores that do not spell the catalog id
FLOW_STORE_ALIASES = {
    "chroma": "chromadb",
    "postgres": "pgvector",
    "pgvector": "pgvector",
    "astradb": "astra-db",
    "astradbvectorstore": "astra-db",
    "upstashvector": "upstash-vector",
    "milvus": "pymilvus",
    "faiss": "faiss",
    "redis": "redisvl",
    "supabase": "supabase",
    "supabasevectorstore": "supabase",
}
FLOW_STORE_CATEGORY = lazy_re(r"(?i)^vector\s*stores?$")


def _flow_store(written: object) -> Package | None:
    if not isinstance(written, str):
        return None
    key = re.sub(r"(?i)(?:vectorstore|_\d+)$", "", written.strip()).lower() or written.lower()
    package = lookup_package("id", FLOW_STORE_ALIASES.get(key, key))
    return package if package and package.type == "vector_db" else None


def flow_vector_stores(document: object, limit: int = MAX_CONFIG_FACTS) -> list[tuple[str, Package]]:
    """Vector stores a Flowise export (``{"category": "Vector Stores", "name": "qdrant"}``) or a Langflow
    export (``{"type": "Chroma", "node": {"template": ...}}``) configures: (name as written, package)."""
    found: list[tuple[str, Package]] = []
    stack: list[tuple[object, int]] = [(document, 0)]
    while stack and len(found) < limit:
        node, depth = stack.pop()
        if depth > 2 * MAX_CONFIG_DEPTH:
            continue
        if isinstance(node, dict):
            written = None
            if isinstance(node.get("category"), str) and FLOW_STORE_CATEGORY.match(node["category"]):
                written = node.get("name")
            elif isinstance(node.get("node"), dict) and "template" in node["node"]:
                written = node.get("type")
            package = _flow_store(written)
            if package:
                found.append((written, package))
            stack.extend((value, depth + 1) for value in node.values() if isinstance(value, (dict, list)))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node if isinstance(item, (dict, list)))
    return found


# Spring AI's vector store settings (``spring.ai.vectorstore.pgvector.dimensions: 384``, or the store
# picked by ``spring.ai.vectorstore.type``): the application stores its embeddings there. The keys are the
# stores Spring AI ships; each is named as the store's own client is in the catalog, where it has one.
SPRING_VECTOR_STORES = frozenset(
    {
        *("azure", "azure-cosmos-db", "cassandra", "chroma", "couchbase", "elasticsearch", "gemfire"),
        *("hana", "mariadb", "milvus", "mongodb", "neo4j", "opensearch", "oracle", "pgvector"),
        *("pinecone", "qdrant", "redis", "typesense", "weaviate"),
    }
)
SPRING_STORE_NAMES = {"chroma": "chromadb", "milvus": "pymilvus", "azure": "azure-ai-search"}
SPRING_VECTORSTORE_PREFIX = "spring.ai.vectorstore."
SPRING_STORE_PROPERTY = linear(r"^\s*spring\.ai\.vectorstore\.([a-z0-9-]{2,40})(?:\.|\s*[=:])")


def spring_vector_stores(document: object) -> list[str]:
    """The Spring AI vector stores a parsed ``application.yml`` configures, by their settings key."""
    found: list[str] = []
    stack: list[tuple[str, object, int]] = [("", document, 0)]
    while stack:
        path, node, depth = stack.pop()
        if not isinstance(node, dict) or depth > MAX_CONFIG_DEPTH:
            continue
        for key, value in node.items():
            if not isinstance(key, str):
                continue
            full = f"{path}.{key}" if path else key
            if full.startswith(SPRING_VECTORSTORE_PREFIX):
                rest = full[len(SPRING_VECTORSTORE_PREFIX) :].split(".")
                store = value if rest == ["type"] and isinstance(value, str) else rest[0]
                if store in SPRING_VECTOR_STORES and store not in found:
                    found.append(store)
            elif SPRING_VECTORSTORE_PREFIX.startswith(f"{full}."):
                stack.append((full, value, depth + 1))
    return found


# a translation catalog (``locales/en.json``, ``i18n/fr/common.yml``, Rails' ``config/locales/de.yml``)
# holds UI copy: a model or URL in it is text shown to a user, which configures nothing
LOCALE_FOLDERS = frozenset(
    {"locales", "locale", "i18n", "l10n", "lang", "langs", "languages", "translations", "messages"}
)
LOCALE_CODE = linear(r"[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?")


# an eval harness's provider id (promptfoo ``openai:gpt-4o-mini``, ``anthropic:messages:claude-…``,
# ``ollama:chat:llama3.2``): the provider, an optional API kind, then the model it calls
EVAL_PROVIDER_ID = linear(
    r"^[A-Za-z][\w-]{0,40}:(?:(?:chat|messages|completion|embeddings?|responses|realtime):)?([^\s:][^\s]{0,200})$"
)


def eval_provider_models(document: object, limit: int = MAX_CONFIG_FACTS) -> list[tuple[str, str]]:
    """(written id, model) of the providers an eval config lists (promptfoo's ``providers:`` beside its
    ``prompts:`` or ``tests:``), as strings or as ``{id: …}`` entries."""
    if not isinstance(document, dict) or not isinstance(document.get("providers"), list):
        return []
    if "prompts" not in document and "tests" not in document:
        return []
    found: list[tuple[str, str]] = []
    for entry in document["providers"][:limit]:
        written = entry.get("id") if isinstance(entry, dict) else entry
        if isinstance(written, str) and (match := EVAL_PROVIDER_ID.match(written.strip())):
            found.append((written.strip(), match.group(1)))
    return found


# an entry of an OpenAI-compatible model list (``GET /v1/models``):
# ``{"id": "gpt-4o", "object": "model", "owned_by": "openai"}``
MODEL_LIST_ENTRY = linear(r'"object"\s*:\s*"model"')


def recorded_response(text: str) -> bool:
    """Whether a JSON text is an AI API response kept as data: it holds token counts of a request, or it
    is a provider's list of the models it serves (``list_models.json``, the answer of ``/v1/models``)."""
    if "tokens" in text and RESPONSE_INPUT_TOKENS.search(text) and RESPONSE_TOTAL_TOKENS.search(text):
        return True
    return "owned_by" in text and MODEL_LIST_ENTRY.search(text) is not None


def is_json_lines(text: str) -> bool:
    """Whether a ``.json`` file holds one JSON object per line (a log of events, a dataset, recorded
    exchanges): its addresses and models are what happened or was written down, not configuration. Two
    records are enough to tell; a pretty-printed or one-line JSON document never has them."""
    records = start = 0
    while records < 2:
        end = text.find("\n", start)
        line = text[start : end if end != -1 else len(text)].strip()
        if line:
            if not (line.startswith("{") and line.endswith("}")):
                return False
            records += 1
        if end == -1:
            break
        start = end + 1
    return records == 2


# ``openapi: 3.1.0`` / ``swagger: "2.0"`` at the top of a YAML document, ``"openapi": "3.0.0"`` in JSON
API_DESCRIPTION = linear(
    r"""(?m)^(?:openapi|swagger)\s*:\s*["']?\d|^\s*\{?\s*"(?:openapi|swagger)"\s*:\s*"\d"""
)


def is_api_description(text: str) -> bool:
    """Whether a YAML or JSON file is an OpenAPI / Swagger description: the models its enums and code
    samples name and the servers it lists document an API, they configure no use of it."""
    return API_DESCRIPTION.search(text[:4096]) is not None


def is_translation_catalog(relpath: str) -> bool:
    parts = relpath.split("/")
    if not any(folder.lower() in LOCALE_FOLDERS for folder in parts[:-1]):
        return False
    stem = parts[-1].rsplit(".", 1)[0]
    return bool(LOCALE_CODE.fullmatch(stem) or (len(parts) > 1 and LOCALE_CODE.fullmatch(parts[-2])))


# A VCR/vcrpy cassette: recorded HTTP exchanges, replayed by tests (``interactions:`` of ``request:``
# and ``response:``)
CASSETTE = linear(r"(?m)^interactions:[ \t]*$")
CASSETTE_EXCHANGE = linear(r"(?m)^[ \t-]*request:[ \t]*$")


# a config's template to copy (``application.properties.example``, ``config.yaml.sample``): read as the
# config it becomes
TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".tmpl")


def config_suffix(file: SourceFile) -> str:
    """The file's suffix, or for a template the suffix of the config it is a copy of."""
    if file.suffix not in TEMPLATE_SUFFIXES:
        return file.suffix
    return PurePosixPath(file.name[: -len(file.suffix)]).suffix.lower()


def is_recorded_data(file: SourceFile) -> bool:
    """Whether a ``.json``/YAML file records what happened rather than configuring anything: a JSON
    Lines event log or dataset under a ``.json`` name (one complete object per line: a configuration
    file is one document), an AI API response kept as data, or a recorded HTTP cassette. Its models and
    endpoints are data."""
    if config_suffix(file) == ".json":
        return is_json_lines(file.text) or recorded_response(file.text)
    if STRUCTURED.get(config_suffix(file)) == "YAML" and CASSETTE.search(file.text[:MAX_RECORD_HEAD]):
        return CASSETTE_EXCHANGE.search(file.text[:MAX_RECORD_HEAD]) is not None
    return False


class ConfigDetector(Detector):
    name = "config"

    def applies_to(self, file: SourceFile) -> bool:
        name = file.name
        if name in OWNED_ELSEWHERE or (
            config_suffix(file) in STRUCTURED and is_translation_catalog(file.relpath)
        ):
            return False
        return (
            name in (".env", ".envrc")  # direnv's ``.envrc`` exports a shell's environment
            or name.startswith(".env.")
            or name.endswith(".env")
            or name in SHELL_NAMES
            or config_suffix(file) in CONFIG_SUFFIXES
            or is_modelfile(name)
            or is_dockerfile(name)
        )

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        provider_vars, model_key, endpoint_key, hints, shell_models, quick, markers = _rules()
        text = file.text
        if is_modelfile(file.name):
            yield from self.modelfile_base(file)
            return
        if is_recorded_data(file) or (config_suffix(file) in STRUCTURED and is_api_description(text)):
            return
        structured: list[str] = []
        table: list[str] = []
        stores: list[tuple[str, Package]] = []
        evaluated: list[tuple[str, str]] = []
        spring_stores: list[str] = []
        addressed: list[tuple[str, str]] = []
        if config_suffix(file) == ".properties" and "vectorstore" in text:
            spring_stores = [m.group(1) for line in file.lines if (m := SPRING_STORE_PROPERTY.match(line))]
        unparsed_yaml = False
        if config_suffix(file) in STRUCTURED and file.size <= PARSE_LIMIT_BYTES:
            values: dict[str, str] = {}
            documents = self.parse(file, report)
            options = "value" in text
            unparsed_yaml = not documents and STRUCTURED[config_suffix(file)] == "YAML"
            named_for_models = bool(MODELS_FILE.fullmatch(file.path.stem))
            for document in documents:
                values.update(model_like_values(document))
                addressed.extend(provider_entry_urls(document))
                structured.extend(
                    catalog_models_under_model_keys(
                        document, options=options, named_for_models=named_for_models
                    )
                )
                evaluated.extend(eval_provider_models(document))
                if config_suffix(file) == ".json" and "nodes" in text:
                    stores.extend(flow_vector_stores(document))
                if "vectorstore" in text:
                    spring_stores.extend(spring_vector_stores(document))
                if MODEL_TABLE_FILE.fullmatch(file.path.stem) and isinstance(document, dict):
                    table.extend(k for k, v in document.items() if isinstance(k, str) and isinstance(v, dict))
            if values:
                report.facts.config_values = values
        yield from self.model_table(file, table)
        yield from self.provider_entries(file, addressed)
        yield from self.eval_providers(file, evaluated)
        yield from self.flow_stores(file, stores)
        yield from self.spring_stores(file, spring_stores)
        if unparsed_yaml:
            yield from self.models_under_model_keys_by_indent(file)
        lowered = text.lower()
        if not quick.search(lowered):
            # a model picker's options say no model word: ``[{"label": "GPT-4o", "value": "gpt-4o"}]``
            yield from self.structured_models(file, structured, set())
            return
        dockerfile = is_dockerfile(file.name)
        is_env = file.name.startswith(".env") or file.name.endswith(".env") or dockerfile
        ollama = "ollama" in lowered  # Ollama names models by bare family tags (``OLLAMA_MODEL=mistral``)
        litellm = "litellm_params" in text  # a LiteLLM proxy's model_list: model_name is the alias it serves
        env_facts: dict[str, str] = {}
        reported_lines: set[tuple[int, str]] = set()
        # parent keys and sections only matter to a file with a URL and an AI word to scope it by
        scoping = "http" in lowered and any(token.lower() in lowered for token in hints)
        # an AI framework's own settings tree names its models whatever their spelling
        framework = "langchain4j" in lowered or "spring" in lowered
        parents = (
            YamlParents()
            if (scoping or framework) and STRUCTURED.get(config_suffix(file)) in ("YAML", "JSON")
            else None
        )
        sections = scoping and parents is None and "[" in text
        section = ""  # TOML / INI ``[llm]``
        printed = (
            printed_heredoc_lines(file.lines) if file.name.endswith(SHELL_SUFFIXES) and "<<" in text else ()
        )
        last = front_matter_end(file)
        # a shell script's or an HTTP request file's request bodies name the model they ask for
        request_bodies = file.name.endswith(SHELL_SUFFIXES + REQUEST_FILE_SUFFIXES) and '"model' in text
        # a Dockerfile's lines are rewritten (``ENV A b`` -> ``A=b``) before the check, so it checks each
        marked = None if dockerfile else quick_marked_lines(lowered, markers)
        numbered = dockerfile_assignments(file.lines) if dockerfile else enumerate(file.lines, start=1)
        for number, line in numbered:
            if number > last:
                break
            if number in printed:
                continue
            if parents is not None:
                parents.see(line)
            elif sections and (header := SECTION_HEADER.match(line)):
                section = header.group(1)
            if not (number in marked if marked is not None else quick.search(line.lower())):
                continue
            stripped = line.strip()
            if stripped.startswith(("#", ";", "//")):
                continue
            for match in shell_models.finditer(line):
                found = model_finding(match.group(1), number, strong=True, hf_context=False)
                if found:
                    yield self.model_at(file, number, found, pulled_by="ollama")
            for match in HF_URI.finditer(line):
                found = model_finding(match.group(1), number, strong=False, hf_context=True)
                if found and match.group(1).split("/", 1)[0].lower() not in HF_NOT_MODEL_OWNERS:
                    yield self.model_at(file, number, found, loaded_from=match.group(0))
            for match in OLLAMA_URI.finditer(line):
                if match.group(1).rpartition(":")[2].isdigit():
                    continue  # ``ollama://localhost:11434``: a server's address, the tag is a port
                found = model_finding(match.group(1), number, strong=True, hf_context=False)
                if found:
                    yield self.model_at(file, number, found, loaded_from=match.group(0))
            if request_bodies and not SHELL_MESSAGE.match(line):
                for match in BODY_MODEL.finditer(line):
                    found = model_finding(match.group(1), number, strong=False, hf_context=False)
                    if found and (number, found[0]) not in reported_lines:
                        reported_lines.add((number, found[0]))
                        yield self.model_at(file, number, found)
            assignment = ASSIGNMENT.match(line)
            if not assignment:
                if not SHELL_MESSAGE.match(line):  # ``echo "see https://…"`` tells, it does not call
                    yield from self.urls(file, number, line, None)
                continue
            key, value = assignment.group(1), _clean_value(assignment.group(2))
            upper = key.upper()
            if upper in provider_vars and hardcoded_credential(upper, value):
                yield self.credential(file, number, provider_vars[upper])
            env_like = is_env or upper == key
            if value and env_like and ENV_FACT_KEY.search(key) and plausible_model_name(value):
                env_facts[key] = value
            setting = (
                framework
                and bool(value)
                and bool(model_key.search(key))
                and plausible_model_name(value)
                and bool(AI_FRAMEWORK_SETTING.match(f"{parents.path()}.{key}" if parents else key))
            )
            if (
                SERVED_ALIAS.search(key)
                or (litellm and key.lower() == "model_name")
                or (DEPLOYMENT_KEY.search(key) and not is_catalog_model(value))
            ):
                pass  # an alias, not a model id
            elif value and (
                setting
                or (model_key.search(key) and plausible_model_name(value) and match_model(value))
                or (MODEL_NAMED_KEY.search(key) and is_catalog_model(value))
            ):
                found = model_finding(value, number, strong=setting, hf_context=False)
                if found:
                    reported_lines.add((number, found[0]))
                    yield self.model_at(file, number, found)
            elif (
                value
                and hugging_face_id(value)
                and (
                    model_key.search(key)
                    or HF_MODEL_KEY.search(key)
                    or (HF_REPO_KEY.search(key) and is_hf_org(value.split("/", 1)[0]))
                )
            ):
                found = model_finding(value, number, strong=False, hf_context=True)
                if found:
                    yield self.model_at(file, number, found, from_key=key)
            elif (
                value
                and ollama
                and MODEL_IN_KEY.search(key)
                and (bare_ollama_tag(value) or ollama_tagged(key, value))
            ):
                found = model_finding(value, number, strong=True, hf_context=False)
                if found:
                    reported_lines.add((number, found[0]))
                    yield self.model_at(file, number, found)
            # ``llm:\n  base_url: …`` names the server as much as ``LLM_BASE_URL=…`` does
            scoped = f"{parents.path() if parents is not None else section}.{upper}".upper()
            if _own_address_key().search(key):  # ``ollama-webui: WEBUI_URL=…`` is the UI's own address
                scoped = upper
            hint = next((h for token, h in hints.items() if token in scoped), None)
            ai_named = any(token in scoped for token in hints)
            if upper in provider_vars and is_vector_store_variable(upper, provider_vars):
                continue  # ``QDRANT_URL=http://qdrant:6333`` addresses a vector store, not an AI service
            if endpoint_key.search(key) or upper in provider_vars:
                candidate = value
                # ``host:port`` or ``api.openai.com/v1`` names a server without its scheme;
                # ``us.anthropic.claude-…-v2:0`` (Bedrock) is a model id
                bare = candidate and "://" not in candidate and SCHEMELESS_ADDRESS.fullmatch(candidate)
                if bare and not match_model(candidate):
                    candidate = f"http://{candidate}"
                if candidate.startswith(("http://", "https://")):
                    trusted = ai_named or upper in provider_vars
                    provider_hint = hint or (
                        lookup_package("id", provider_vars[upper]).provider
                        if upper in provider_vars and lookup_package("id", provider_vars[upper])
                        else None
                    )
                    yield from self.url(file, number, candidate, trusted, provider_hint)
                    continue
            # ``description: Uses https://api.openai.com for chat`` tells; ``run: curl https://…`` calls
            # an inline object or list (``"base_url": {"value": "http://…"}``) is values, not a sentence
            if not is_prose(value) or HTTP_COMMAND.match(value) or value.startswith(("{", "[")):
                yield from self.urls(file, number, line, hint)
        if env_facts:
            report.facts.env = env_facts
        yield from self.structured_models(file, structured, reported_lines)

    def provider_entries(self, file: SourceFile, addressed: list[tuple[str, str]]) -> Iterator[Finding]:
        """Each provider entry's address, at the first line that writes it."""
        for url, provider in dict.fromkeys(addressed):
            offset = file.text.find(url)
            if offset >= 0:
                yield from self.url(file, line_at(file.text, offset), url, True, provider)

    def modelfile_base(self, file: SourceFile) -> Iterator[Finding]:
        """An Ollama Modelfile's ``FROM llama3.2`` names the model it builds on (a ``FROM ./x.gguf``
        names a weights file, which is no model id)."""
        for number, line in enumerate(file.lines, start=1):
            match = MODELFILE_FROM.match(line)
            if match and not match.group(1).startswith((".", "/", "~")):
                found = model_finding(match.group(1), number, strong=True, hf_context=True)
                if found:
                    yield self.model_at(file, number, found, pulled_by="ollama")

    def spring_stores(self, file: SourceFile, stores: list[str]) -> Iterator[Finding]:
        """Spring AI vector stores, at the first uncommented line naming the store after ``vectorstore``."""
        start = next((n for n, raw in enumerate(file.lines) if "vectorstore" in raw), 0)
        for store in dict.fromkeys(stores):
            if store not in SPRING_VECTOR_STORES:
                continue
            number = next(
                (
                    n
                    for n, raw in enumerate(file.lines[start:], start=start + 1)
                    if store in raw and not raw.lstrip().startswith("#")
                ),
                0,
            )
            name = SPRING_STORE_NAMES.get(store, store)
            package = lookup_package("id", name)
            yield self.located(
                file,
                number or start + 1,
                "vector_db",
                name,
                package.provider if package else None,
                metadata={"spring_ai_setting": f"{SPRING_VECTORSTORE_PREFIX}{store}"},
            )

    def flow_stores(self, file: SourceFile, stores: list[tuple[str, Package]]) -> Iterator[Finding]:
        """The vector store nodes of a Flowise or Langflow export, at the first line naming the node."""
        seen: set[str] = set()
        for written, package in stores:
            if package.id in seen:
                continue
            seen.add(package.id)
            quoted = f'"{written}"'
            number = next((n for n, raw in enumerate(file.lines, start=1) if quoted in raw), 0)
            if number:
                yield self.located(
                    file, number, package.type, package.id, package.provider, metadata={"flow_node": written}
                )

    def eval_providers(self, file: SourceFile, providers: list[tuple[str, str]]) -> Iterator[Finding]:
        """Catalog models an eval config's provider ids call, at the first line holding the id."""
        for written, model in providers:
            found = model_finding(model, 0, strong=False, hf_context=False)
            number = next((n for n, raw in enumerate(file.lines, start=1) if written in raw), 0)
            if found and number:
                yield self.model_at(file, number, found)

    def model_table(self, file: SourceFile, keys: list[str]) -> Iterator[Finding]:
        """``models_config.json`` keyed by model (``{"openai-community/gpt2": {...}, "distilgpt2": {...}}``):
        the file's name says its entries are models, so a key shaped like a model id (a catalog id, a
        Hugging Face ``org/name``, a name with a version digit) is one, as an id under a model key is."""
        for key in keys:
            if not plausible_model_name(key) or not (
                match_model(key) or "/" in key or any(c.isdigit() for c in key)
            ):
                continue
            if "/" in key and not hugging_face_id(key):
                continue
            found = model_finding(key, 0, strong=False, hf_context=True)
            quoted = re.compile(rf"""(?<![\w.:/-])["']?{re.escape(key)}["']?\s*:""")
            number = next((n for n, raw in enumerate(file.lines, start=1) if quoted.search(raw)), 0)
            if found and number:
                yield self.model_at(file, number, found)

    def models_under_model_keys_by_indent(self, file: SourceFile) -> Iterator[Finding]:
        """``catalog_models_under_model_keys`` for a YAML file the parser refused (an action.yml's
        ``\\'`` in a double-quoted description): the keys a value sits under come from indentation, so
        ``inputs: {model: {default: gpt-4o}}`` still names its model."""
        parents = YamlParents()
        for number, line in enumerate(file.lines, start=1):
            parents.see(line)
            if not parents.current or line.lstrip().startswith("#"):
                continue
            assignment = ASSIGNMENT.match(line)
            if not assignment:
                continue
            value = _clean_value(assignment.group(2))
            if not is_catalog_model(value):
                continue
            names = [_key_names(key) for key in parents.current]
            if any(named for named, _ in names) and not any(served for _, served in names):
                found = model_finding(value, number, strong=False, hf_context=False)
                if found:
                    yield self.model_at(file, number, found)

    def structured_models(
        self, file: SourceFile, values: list[str], reported: set[tuple[int, str]]
    ) -> Iterator[Finding]:
        """Catalog ids that a parsed config holds under a model-named key, in lists and nested tables
        too (``models: [gpt-4o, ...]``, ``llm: {fast: gpt-4o-mini}``), at the first line holding them."""
        seen: set[str] = set()
        for value in values:
            found = model_finding(value, 0, strong=False, hf_context=False)
            if not found or found[0] in seen:
                continue
            seen.add(found[0])
            whole = re.compile(rf"(?<![\w.:/-]){re.escape(value)}(?![\w.:/-])")
            # the line holding it as a value of its own, before one that mentions it in a sentence
            scalar = linear(rf"""(?:^|[:\[,{{-])\s*["']?{re.escape(value)}["']?\s*(?:[,\]}}#]|$)""")
            candidates = [
                n
                for n, raw in enumerate(file.lines, start=1)
                if whole.search(raw) and not raw.lstrip().startswith(("#", "//", ";"))
            ]
            number = next((n for n in candidates if scalar.search(file.lines[n - 1])), None) or next(
                iter(candidates), None
            )
            if number and (number, found[0]) not in reported:
                yield self.model_at(file, number, found)

    def parse(self, file: SourceFile, report: FileReport) -> list[object]:
        """The file's documents; a syntax error is a warning and no documents."""
        kind = STRUCTURED[config_suffix(file)]
        try:
            if kind == "JSON":
                return [_loads_jsonc(file.text)]
            if kind == "YAML":  # a Helm chart's template is read as it renders with its defaults
                text = helm_rendered(file.text) if is_helm_template(file.text) else file.text
                return load_yaml_all(text, _tolerant_yaml_loader())
            return [parse_toml(file.text)]
        except RecursionError:
            report.warnings.append(f"{kind} nested too deeply to parse")
        except (ValueError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
            report.warnings.append(f"invalid {kind}: {str(exc).splitlines()[0][:200]}")
        return []

    def urls(self, file: SourceFile, number: int, line: str, hint: str | None) -> Iterator[Finding]:
        if "http" not in line:
            return
        for url in URL.findall(line):
            yield from self.url(file, number, url, False, hint)

    def url(
        self, file: SourceFile, number: int, url: str, trusted: bool, hint: str | None
    ) -> Iterator[Finding]:
        endpoint = endpoint_for_url(url, any_host=trusted, hint=hint)
        if endpoint:
            yield self.endpoint_finding(file, number, endpoint)
        for _, model in hf_inference_models(url):
            found = model_finding(model, number, strong=False, hf_context=True)
            if found:
                yield self.model_at(file, number, found, loaded_from=url)

    def credential(self, file: SourceFile, number: int, package_id: str) -> Finding:
        """A key the provider's variable holds, whatever its format (the secrets detector knows the
        prefixed ones): the provider's component with the hard-coded-key flag, the value masked."""
        package = lookup_package("id", package_id)
        component_type = package.type if package else "llm_provider"
        return Finding(
            key=component_key(component_type, package_id),
            name=package_id,
            type=component_type,
            provider=package.provider if package else None,
            location=file.location(number),
            detector=self.name,
            flags={"hardcoded_api_key"},
        )

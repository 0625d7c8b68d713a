"""Read-only access to the data files under ``common/scanner/data``.

Everything a detector needs to know about the AI ecosystem (package names per
registry, model ids and their lifecycle dates, code patterns) lives in JSON so
that adding an SDK or a model is a data change. Each worker process loads the
files once (``functools.cache``).

The YAML data files are read from a JSON copy (``data/compiled/<name>.json``, written by
``compile_yaml_data``; ``tests/unit/test_scanner_data_compiled.py`` holds the copies to the YAML)
while that copy was made from the very text of the YAML: importing PyYAML and parsing with libyaml
cost a small scan several milliseconds per file, JSON a fraction of one. A YAML file edited
since its copy was made is read through PyYAML.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

from common.scanner.limits import linear

DATA_DIR = Path(__file__).parent / "data"
COMPILED_DIR = DATA_DIR / "compiled"

PACKAGE_TYPES = ("llm_provider", "agent_framework", "ml_framework", "vector_db")

# "openai/gpt-4o" (LiteLLM), "openai:gpt-4o" (pydantic-ai), "openai::gpt-4o" (rust-genai's namespace),
# "ollama/llama3", "x-ai/grok-2" (OpenRouter), "accounts/fireworks/models/…" (Fireworks),
# "publishers/google/models/…" (Vertex AI, also under "projects/…/locations/…/"): the route prefix names
# the provider or router, the rest is the model id that the catalog knows. The providers' own spellings,
# from their documentation.
_ROUTE_PREFIX = linear(
    r"^(?:(?:litellm|openai|anthropic|ollama|ollama_chat|groq|gemini|google-gla|google-vertex|vertex_ai|bedrock|"
    r"azure|azure_ai|mistral|together_ai|together|fireworks_ai|fireworks|deepseek|xai|x-ai|grok|cohere|"
    r"huggingface|openrouter|perplexity|deepinfra|cerebras|sambanova|nvidia_nim|watsonx|hosted_vllm|vllm|lm_studio)"
    r"(?:::|[:/])|accounts/[\w-]+/models/|(?:projects/[^/\s]+/locations/[^/\s]+/)?publishers/[\w-]+/models/"
    r"|@(?:cf|hf)/)",  # Cloudflare Workers AI's catalog: ``@cf/meta/llama-3.1-8b-instruct``
    re.IGNORECASE,
)
# ``mistral:7b``, ``deepseek-r1:latest``: an Ollama tag after a model name that is also a route prefix; a
# route's remainder names a model, never only a size or a tag word
_TAG_AFTER_FAMILY = linear(r"(?i)\d[\w.-]*|latest|instruct|text|chat|code|vision")
# Bedrock's resource name of a model (``arn:aws:bedrock:us-east-1::foundation-model/<id>``, an inference
# profile's ``arn:aws:bedrock:<region>:<account>:inference-profile/<id>``): AWS's counterpart of Google's
# ``models/``, taken off the same way
_BEDROCK_MODEL_RESOURCE = linear(
    r"(?i)arn:aws[\w-]{0,12}:bedrock:[\w-]{0,40}:\d{0,12}:(?:foundation-model|inference-profile)/"
)
_BEDROCK_REGION = "(?:us|eu|apac|us-gov|jp|au|ca|global)"  # cross-region inference profile prefixes
_PINNED_SUFFIX = linear(
    r"(?:-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{4}|-\d{2}-\d{4}|-\d{3}|@\d{8}|-v\d+(?::\d+)?|@sha256:[0-9a-f]{64})$"
)


@cache
def load_json(name: str) -> dict:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def load_yaml(path: Path) -> dict:
    """One of our own YAML data files: its JSON copy when that was made from this very text,
    else parsed by libyaml (the pure-Python parser costs a noticeable part of a small scan's start-up)."""
    source = path.read_bytes()
    try:
        compiled = json.loads((COMPILED_DIR / f"{path.stem}.json").read_bytes())
    except (OSError, ValueError):
        compiled = None
    if isinstance(compiled, dict) and compiled.get("source_crc32") == zlib.crc32(source):
        return compiled["data"]
    return parse_yaml_data(source.decode("utf-8"))


def parse_yaml_data(text: str) -> dict:
    """The single document of a YAML data file, parsed by libyaml (PyYAML imported here, on first need)."""
    import yaml

    from common.scanner.limits import SAFE_LOADER

    (document,) = yaml.load_all(text, Loader=SAFE_LOADER)
    return document


def compile_yaml_data() -> list[Path]:
    """Write the JSON copy of every YAML data file; refuses a file whose values JSON cannot hold
    exactly (dates, non-string keys), which then keeps being read through PyYAML."""
    written = []
    COMPILED_DIR.mkdir(exist_ok=True)
    for path in sorted(DATA_DIR.glob("*.yaml")):
        source = path.read_bytes()
        data = parse_yaml_data(source.decode("utf-8"))
        try:
            exact = json.loads(json.dumps(data)) == data
        except TypeError:
            exact = False
        if not exact:
            raise ValueError(f"{path.name} holds values JSON cannot represent")
        target = COMPILED_DIR / f"{path.stem}.json"
        document = {"source": path.name, "source_crc32": zlib.crc32(source), "data": data}
        target.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written


@dataclass(frozen=True)
class Package:
    id: str
    type: str
    provider: str


@dataclass(frozen=True)
class ModelInfo:
    provider: str
    family: str
    catalog_id: str | None  # exact catalog entry when the lifecycle dates are known
    released: str | None = None
    released_source: str | None = None
    deprecated: str | None = None
    retired: str | None = None
    deprecated_source: str | None = None
    retired_source: str | None = None


@cache
def _package_indexes() -> dict[str, dict[str, Package]]:
    """{ecosystem: {name as written there (lower-case): Package}}."""
    indexes: dict[str, dict[str, Package]] = {}
    for entry in load_json("packages.json")["packages"]:
        package = Package(entry["id"], entry["type"], entry["provider"])
        indexes.setdefault("id", {})[entry["id"]] = package
        for ecosystem, names in entry.items():
            if isinstance(names, list):
                for name in names:
                    indexes.setdefault(ecosystem, {})[name.lower()] = package
    return indexes


def package_index(ecosystem: str) -> dict[str, Package]:
    return _package_indexes().get(ecosystem, {})


@cache
def module_roots(ecosystem: str) -> frozenset[str]:
    """The first dotted part of each name an ecosystem's packages are imported by, case kept as the
    catalog writes it (``FlagEmbedding``): Python's imports are case-sensitive, unlike the index's keys."""
    return frozenset(
        name.split(".")[0]
        for entry in load_json("packages.json")["packages"]
        for name in entry.get(ecosystem, ())
    )


def lookup_package(ecosystem: str, name: str) -> Package | None:
    """Exact registry name, or a wildcard for every package of one publisher: maven's ``group:*``, npm's
    ``@scope/*`` (``@tensorflow-models/mobilenet`` is TensorFlow.js's like every model of that scope)."""
    index = package_index(ecosystem)
    key = name.lower()
    if key in index:
        return index[key]
    if ecosystem == "maven" and ":" in key:
        return index.get(key.split(":", 1)[0] + ":*")
    if ecosystem == "npm" and key.startswith("@") and "/" in key:
        return index.get(key.split("/", 1)[0] + "/*")
    return None


@cache
def registry_names(package_id: str, ecosystem: str) -> tuple[str, ...]:
    """Every name a catalog package has in one registry (none when that registry does not list it)."""
    for entry in load_json("packages.json")["packages"]:
        if entry["id"] == package_id:
            names = entry.get(ecosystem)
            return tuple(names) if isinstance(names, list) else ()
    return ()


@cache
def registry_name(package_id: str, ecosystem: str) -> str:
    """How a catalog package is spelt in one ecosystem (``langchain-mcp-adapters`` is
    ``@langchain/mcp-adapters`` on npm): names an SDK-built component that declares no name of its own."""
    for entry in load_json("packages.json")["packages"]:
        if entry["id"] == package_id:
            names = entry.get(ecosystem)
            return names[0] if isinstance(names, list) and names else package_id
    return package_id


@lru_cache(maxsize=8192)
def lookup_prefixed(ecosystem: str, dotted: str, separator: str = ".") -> Package | None:
    """Longest catalog prefix of an import path (``google.generativeai.types`` -> google-generativeai);
    kept per path, since files of a tree import the same modules over and over."""
    index = package_index(ecosystem)
    parts = dotted.split(separator)
    for end in range(len(parts), 0, -1):
        package = index.get(separator.join(parts[:end]).lower())
        if package:
            return package
    return None


def go_provider_client(path: str) -> Package | None:
    """A third-party Go client named after an LLM API by Go's naming grammar
    (``github.com/x/ollama-go``, ``github.com/y/go-openai``, ``.../groq-sdk-go/v2``): a component of its
    own (a different supply chain than the vendor's SDK) with that vendor as provider."""
    if path.count("/") < 2 or not path.startswith(("github.com/", "gitlab.com/")):
        return None
    repository = path.split("/")[2]  # the repository names the client; its sub-packages do not
    name = re.sub(r"^go-|-go$|-sdk$", "", re.sub(r"-sdk-go$", "", repository.lower())).replace("-", "")
    package = lookup_package("id", name)
    if package is None or package.type != "llm_provider":
        return None
    module = "/".join(path.split("/")[:3]).lower()
    return Package(module, "llm_provider", package.provider)


_INTEGRATION_GRAMMAR = (
    # (registry name prefix, framework provider, kinds whose packages reach another AI service or store)
    (
        "llama-index-",
        "LlamaIndex",
        (
            "llms",
            "embeddings",
            "vector-stores",
            "indices-managed",
            "tools",
            "multi-modal-llms",
            "graph-stores",
            "postprocessor",
        ),
    ),
    ("langchain-", "LangChain", ("",)),
)
# Haystack's integrations are ``<x>-haystack`` on PyPI (deepset's core-integrations repository); where
# ``<x>`` is not the catalog id of the store or SDK it reaches, this names that id.
_HAYSTACK_TARGETS = {
    "chroma": "chromadb",
    "amazon-bedrock": "aws-bedrock",
    "google-ai": "google-generativeai",
    "mistral": "mistralai",
    "milvus": "pymilvus",
}


def integration_package(pypi_name: str) -> Package | None:
    """A framework's integration package that the catalog does not list, by the framework's naming
    grammar: ``llama-index-llms-<x>``, ``llama-index-tools-<x>``, ``langchain-<store or SDK>``,
    ``<store or SDK>-haystack``. It is a
    component of its own (it reaches another AI service); helper packages (``llama-index-utils-*``,
    ``langchain-text-splitters``) are not, so LangChain's grammar needs ``<x>`` to be a catalog package."""
    name = normalize_pypi(pypi_name)
    if name.endswith("-haystack") and name != "farm-haystack":
        rest = name.removesuffix("-haystack")
        target = lookup_package("id", _HAYSTACK_TARGETS.get(rest, rest)) or lookup_package("pypi", rest)
        if target is None:
            return None
        return Package(name, "vector_db" if target.type == "vector_db" else "agent_framework", "deepset")
    for prefix, provider, kinds in _INTEGRATION_GRAMMAR:
        rest = name.removeprefix(prefix)
        if rest == name or not rest:
            continue
        if prefix == "langchain-":
            target = lookup_package("id", rest) or lookup_package("pypi", rest)
            if target is None:
                return None
            kind = "vector_db" if target.type == "vector_db" else "agent_framework"
            return Package(name, kind, provider)
        kind = next((k for k in kinds if rest.startswith(k + "-") and len(rest) > len(k) + 1), None)
        if kind:
            return Package(name, "vector_db" if kind == "vector-stores" else "agent_framework", provider)
    return None


# Mastra's vector store packages are ``@mastra/<store>``; where ``<store>`` is not the catalog id of the
# store it reaches, this names that id. Its storage-only packages (``@mastra/libsql`` is also its default
# memory store) are no vector store of their own.
_MASTRA_STORES = {
    "pg": "pgvector",
    "qdrant": "qdrant",
    "pinecone": "pinecone",
    "chroma": "chromadb",
    "astra": "astra-db",
    "upstash": "upstash-vector",
    "lance": "lancedb",
    "turbopuffer": "turbopuffer",
}
# ``@mastra/pg`` and ``@mastra/upstash`` are also Mastra's storage (``PostgresStore``, ``UpstashStore``):
# they reach a vector store only where their ``*Vector`` class is imported, not by being installed.
MASTRA_SHARED_STORES = frozenset({"@mastra/pg", "@mastra/upstash"})


def storage_only_import(package_id: str, bindings: tuple[str, ...]) -> bool:
    """Whether an import of a Mastra package that is storage as well as a vector store takes none of
    its vector classes (``import { PostgresStore } from "@mastra/pg"``)."""
    return package_id in MASTRA_SHARED_STORES and not any(b.endswith("Vector") for b in bindings)


def npm_integration_package(name: str) -> Package | None:
    """``@langchain/<store or SDK>`` that the catalog does not list: LangChain.js's integration package,
    by the same grammar as ``langchain-<x>`` on PyPI, named as npm spells it; ``@mastra/<store>``: a
    Mastra vector store (``@mastra/pg`` is its ``PgVector``)."""
    scope, _, rest = name.lower().partition("/")
    if scope == "@mastra" and rest in _MASTRA_STORES:
        target = lookup_package("id", _MASTRA_STORES[rest])
        return Package(name.lower(), "vector_db", target.provider) if target else None
    if scope != "@langchain" or not rest or "/" in rest:
        return None
    found = integration_package(f"langchain-{rest}")
    return Package(name.lower(), found.type, found.provider) if found else None


# A library counted only where the project trains or loads a model with it (the labelling policy's
# "scikit-learn when a model is trained/loaded"): in code, an import of one of its utility modules alone
# (splits, metrics, scalers) is data handling; in a manifest or an install line it is a component only
# when code of the same scan uses it that way, since a declaration cannot say what it is used for.
USE_GATED_PACKAGES = frozenset({"ml_framework:scikit-learn"})
SKLEARN_UTILITY_MODULES = frozenset(
    {
        "base",
        "compose",
        "datasets",
        "exceptions",
        "feature_extraction",
        "feature_selection",
        "impute",
        "inspection",
        "metrics",
        "model_selection",
        "preprocessing",
        "utils",
    }
)


def utility_import(package: Package, module: str) -> bool:
    """Whether an import of ``module`` reaches only a use-gated library's utilities (``sklearn.metrics``)."""
    parts = module.split(".")
    return package.id == "scikit-learn" and len(parts) > 1 and parts[1] in SKLEARN_UTILITY_MODULES


# ``git+https://github.com/huggingface/transformers@v4.46.0``: a source install without ``#egg=`` names its
# project only by the repository, which for the projects this catalog lists is the distribution's name
VCS_REPOSITORY = linear(
    r"^(?:(?:-e|--editable)\s+)?git\+https?://(?:github\.com|gitlab\.com)/[\w.-]+/([\w.-]+?)(?:\.git)?(?:@[^\s#]*)?\s*(?:#.*)?$"
)


def vcs_repository(requirement: str) -> str | None:
    """The repository name a VCS requirement installs from, read as the project it builds."""
    match = VCS_REPOSITORY.match(requirement)
    return match.group(1) if match else None


def normalize_pypi(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _model_tables():
    data = load_json("models.json")
    sources = data["sources"]
    exact = {}
    for entry in data["models"]:
        entry_sources = entry.get("sources", {})
        exact[entry["id"].lower()] = ModelInfo(
            provider=entry["provider"],
            family=entry["family"],
            catalog_id=entry["id"],
            released=entry.get("released"),
            released_source=sources.get(entry_sources.get("released", "")),
            deprecated=entry.get("deprecated"),
            retired=entry.get("retired"),
            deprecated_source=sources.get(entry_sources.get("deprecated", "")),
            retired_source=sources.get(entry_sources.get("retired", "")),
        )
    families = [
        (linear(f"(?:{fam['pattern']})", re.IGNORECASE), fam["provider"], fam["family"])
        for fam in data["families"]
    ]
    hf_orgs = {org.lower(): provider for org, provider in data["hf_orgs"].items()}
    any_family = linear("|".join(f"(?:{fam['pattern']})" for fam in data["families"]), re.IGNORECASE)
    return exact, families, hf_orgs, any_family


# Route prefixes whose own text holds a digit or a tier word (``_VERSIONED_OR_TIERED`` in textutil): an id
# of letters alone passes that check only behind one of them (``ollama_chat/command``)
_TIERED_ROUTES = ("accounts/", "publishers/", "ollama_chat")


def catalog_literal_possible(text: str) -> bool:
    """Whether ``text`` may hold a quoted literal that ``match_model`` knows and that has a digit or a
    separator-bounded tier word, and a character other than a letter (what ``code_model_literals`` asks
    of an id before looking it up): one RE2 search, so a code file without any catalog id, family or
    Hugging Face owner is not cut into literals at all.

    ``match_model`` looks up a key that is the literal, lower-cased, or a part of it after a route
    prefix, ``models/``, ``anthropic.`` or ``/`` — always just after a character that is no letter,
    digit or ``_``. The search takes every catalog id, every family pattern (without ``\\b``: more
    matches, never fewer) and every ``owner/`` at such a place, longest first; a key of letters alone
    (``command``) counts only behind a route that makes it tiered, searched for on its own, or before
    a Vertex AI ``@version``. Non-ASCII texts are not searched: Python's ``lower`` and RE2's case
    folding differ outside ASCII."""
    if not text.isascii():
        return True
    search, data = _catalog_anchor().search, text.encode()  # bytes: the binding encodes a str per call
    position = 0
    while match := search(data, position):
        key = match.group(1)
        if key is None or not key.isalpha() or data[match.end() : match.end() + 1] == b"@":
            return True  # ``codestral@2405``: Vertex AI's version comes off before the family is matched
        position = match.start() + 1
    return False


@cache
def _catalog_anchor():
    import re2

    exact, _, hf_orgs, _ = _model_tables()
    families = (fam["pattern"].replace(r"\b", "") for fam in load_json("models.json")["families"])
    keys = "|".join([*map(re.escape, exact), *(f"(?:{pattern})" for pattern in families)])
    owners = "|".join(map(re.escape, hf_orgs))
    tiered = "|".join(map(re.escape, _TIERED_ROUTES))
    options = re2.Options()
    options.longest_match = True  # a key of letters alone is the longest match only where no other starts
    return re2.compile(f"(?i)[^a-z0-9_]({keys}|(?:{owners})/)|{tiered}", options)


def route_forms(model: str) -> list[str]:
    """The id as written, then each shorter form as a route prefix comes off (``openrouter/x-ai/grok-2``,
    ``x-ai/grok-2``, ``grok-2``), ending with Google's ``models/`` or a Bedrock ARN's resource name taken
    off. The scorer of the real-world corpus compares identifiers through the same forms."""
    forms = [model]
    for _ in range(3):
        stripped = _without_route(forms[-1])
        if stripped == forms[-1]:
            break
        forms.append(stripped)
    if forms[-1][:7].lower() == "models/":
        forms.append(forms[-1][7:])
    elif forms[-1][:4].lower() == "arn:" and (arn := _BEDROCK_MODEL_RESOURCE.match(forms[-1])):
        forms.append(forms[-1][arn.end() :])
    return forms


def strip_route(model: str) -> str:
    """Route prefixes can stack (``litellm/anthropic/claude-...``); each names a router or provider."""
    for _ in range(3):
        stripped = _without_route(model)
        if stripped == model:
            break
        model = stripped
    return model


def _without_route(model: str) -> str:
    """``model`` without its first route prefix; unchanged when what follows ``name:`` is only an Ollama
    tag (``mistral:7b`` is the Mistral 7B build, not the model ``7b`` through a Mistral route)."""
    match = _ROUTE_PREFIX.match(model)
    if not match:
        return model
    rest = model[match.end() :]
    if match.group(0).endswith(":") and (not rest or _TAG_AFTER_FAMILY.fullmatch(rest)):
        return model
    return rest


def _lifecycle_key(model: str) -> str:
    key = strip_route(model.lower())
    key = key.removeprefix("models/")
    bedrock = re.match(rf"^(?:{_BEDROCK_REGION}\.)?anthropic\.(claude-[\w.-]+?)(?:-v\d+(?::\d+)?)?$", key)
    if bedrock:
        key = bedrock.group(1)
    return key


@lru_cache(maxsize=8192)
def match_model(value: str) -> ModelInfo | None:
    """Catalog entry or family for a model id; ``None`` when it is not a known model id. Kept per
    value (the answer is a frozen ``ModelInfo``): detectors ask about the same strings file after file."""
    exact, _, hf_orgs, _ = _model_tables()
    key = _lifecycle_key(value)
    if key in exact:
        return exact[key]
    if "accounts/" in value and _FIREWORKS_RESOURCE.fullmatch(value):
        # Fireworks' resource name is the id's own grammar: whatever model the account serves
        return _family_of(key) or ModelInfo(provider="Fireworks AI", family="fireworks", catalog_id=None)
    if "/" in key:
        key = _OPENROUTER_VARIANT.sub("", key)
        org, _, name = key.partition("/")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", key):
            return None
        if org in hf_orgs:
            return ModelInfo(provider=hf_orgs[org], family="huggingface", catalog_id=None)
        # ``togethercomputer/llama-2-7b-chat``, ``gryphe/mythomax-l2-13b``: a host's or community
        # organisation the catalog does not list, publishing a model of a family the grammar knows
        if local_directory(org) or not _VERSIONED_NAME.search(name):
            return None  # ``checkpoints/mistral-7b``: a local directory named after a model
        return _family_of(name)
    return _family_of(key) or _vertex_versioned(key)


def _vertex_versioned(key: str) -> ModelInfo | None:
    """Vertex AI's ``name@version`` (``mistral-large@2407``, ``jamba-1.5-mini@001``): the family of the
    name, pinned to a version."""
    version = _VERTEX_VERSION.search(key) if "@" in key else None
    return _family_of(key[: version.start()]) if version else None


_VERSIONED_NAME = linear(r"\d")
# ``accounts/fireworks/models/yi-large``, behind a LiteLLM ``fireworks_ai/`` route: Fireworks names every
# model it serves, its own and an account's fine-tunes, by this resource path (Fireworks' API reference)
_FIREWORKS_RESOURCE = linear(r"(?i)(?:fireworks(?:_ai)?/)?accounts/[\w-]{1,64}/models/[a-z0-9][\w.-]{0,120}")
# a Vertex AI model version after ``@``: three digits, a date, ``latest`` or a dated revision (``2411-001``)
_VERTEX_VERSION = linear(r"@(?:\d{3}|\d{8}|latest|\d{4}(?:-\d{3})?)$")
# OpenRouter's variant of an ``org/model`` id (``google/gemini-2.0-flash-exp:free``, ``…:nitro``): the
# model is the id before it, the suffix only picks a price or routing tier (OpenRouter's documented list)
_OPENROUTER_VARIANT = linear(r":(?:free|beta|extended|nitro|floor|online|thinking|exacto)$")
# first parts of ``dir/name`` that are a local directory, never a model publisher
LOCAL_DIRECTORY_NAMES = frozenset(
    {
        "models",
        "model",
        "data",
        "src",
        "app",
        "lib",
        "tmp",
        "var",
        "opt",
        "home",
        "workspace",
        "weights",
        "checkpoints",
        "output",
        "outputs",
        "cache",
        "mnt",
        "root",
        "usr",
        "srv",
        "etc",
        "static",
        "assets",
        "checkpoint",
        "ckpt",
        "ckpts",
        "pretrained",
        "saved_models",
        "artifacts",
        "local",
        "out",
        "test",
        "tests",
        "fixtures",
        "examples",
        "docs",
    }
)


def _family_of(key: str) -> ModelInfo | None:
    _, families, _, any_family = _model_tables()
    if not any_family.fullmatch(key):  # one pass rules most strings out before each family is tried
        return None
    for pattern, provider, family in families:
        if pattern.fullmatch(key):
            return ModelInfo(provider=provider, family=family, catalog_id=None)
    return None


def is_hf_org(name: str) -> bool:
    """A Hugging Face organisation the catalog knows (``openai`` publishes ``openai/whisper-large-v3``)."""
    return name.lower() in _model_tables()[2]


def local_directory(first_part: str) -> bool:
    """The first part of ``dir/name`` names a local directory, never a model publisher: a common one
    (``checkpoints``), or one a project names for its models (``hf_models``, ``fine_tuned_checkpoints``)."""
    first_part = first_part.lower()
    return first_part in LOCAL_DIRECTORY_NAMES or bool(_LOCAL_DIRECTORY_COMPOUND.fullmatch(first_part))


# ``<word>_models``, ``<word>_checkpoints``: a folder of models (a Hugging Face owner joins words with '-')
_LOCAL_DIRECTORY_COMPOUND = linear(
    r"[a-z0-9]+(?:_[a-z0-9]+)*_(?:models?|checkpoints?|weights|outputs?|ckpts?|artifacts)"
)


def looks_like_hf_id(value: str) -> bool:
    return (
        bool(re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", value))
        and not value.startswith(("http", "./"))
        and not local_directory(value.partition("/")[0])
    )


def is_pinned(model: str, revision: str | None = None) -> bool:
    """A model id pins a snapshot when it carries a date/version suffix (or an HF revision)."""
    key = strip_route(model.lower())
    if key.startswith("ft:") or revision:
        return True
    if key.endswith("latest"):
        return False
    if "/" in key and not key.startswith("models/"):
        return False  # Hugging Face ids float on the default branch unless a revision is given
    if ":" in key and not _PINNED_SUFFIX.search(key):
        return True  # an explicit Ollama-style tag ("llama3.1:8b") names a build; ":latest" was handled above
    return bool(_PINNED_SUFFIX.search(key))


def lifecycle_flags(info: ModelInfo, today: date) -> list[str]:
    if info.retired and date.fromisoformat(info.retired) <= today:
        return ["retired_model"]
    if info.deprecated and date.fromisoformat(info.deprecated) <= today:
        return ["deprecated_model"]
    return []


def patterns() -> dict:
    return load_json("patterns.json")


def known_model_id(value: str) -> str | None:
    """The catalog's own spelling of ``value`` when it is a listed model id (not merely a family match)."""
    exact, *_ = _model_tables()
    info = exact.get(_lifecycle_key(value))
    return info.catalog_id if info else None

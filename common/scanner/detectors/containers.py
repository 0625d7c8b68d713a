"""AI workloads in container definitions: Dockerfiles, docker-compose files, Kubernetes manifests
(and shell scripts, for the models they ``ollama pull``).

What is reported:

* ``container`` components for AI images (serving runtimes such as Ollama, vLLM, TGI, Triton, GPU base
  images, vector databases; the list is ``data/containers.yaml``), named by the image without tag (the
  tag is the version). An image that is not in the list is still reported when the workload requests
  GPUs, with a lower confidence: a GPU request is strong evidence of an ML workload.
* ``model`` components for models a container fetches or serves (``RUN ollama pull llama3``,
  ``huggingface-cli download org/name``, ``--model org/name``); an Ollama model without a tag (or
  ``:latest``) is ``unpinned_model``.
* packages an image or a container's command installs (``pip install vllm``, ``conda install pytorch``,
  ``npm install -g openai``, ``gem install ruby-openai``, ``cargo install``/``add``, ``go install``)
  or an image builds from the package's own source repository
  (``git clone https://github.com/vllm-project/vllm``), as the catalog's components.
* Flags: ``gpu_instance`` (GPU images, GPU tags, compose ``deploy.resources.reservations.devices``,
  ``runtime: nvidia``, Kubernetes ``nvidia.com/gpu`` limits, GPU node selectors) and ``internet_facing``
  (compose ports published on a non-loopback interface or ``network_mode: host``; Kubernetes workloads
  selected by a LoadBalancer/NodePort Service, an Ingress or a Route in the same file).

YAML is read with ``yaml.compose`` so that every value keeps its line number and unknown tags never
fail the parse. When a manifest does not parse (Helm templates, broken files) the detector warns and
falls back to a line scan for ``image:`` values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from common.scanner.catalog import (
    LOCAL_DIRECTORY_NAMES,
    Package,
    load_json,
    load_yaml,
    lookup_package,
    lookup_prefixed,
    normalize_pypi,
    npm_integration_package,
    vcs_repository,
)
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.keys import component_key
from common.scanner.lazy import lazy_module
from common.scanner.limits import compose_yaml_all, linear
from common.scanner.textutil import hf_url_models, per_scan, read_neighbour, scan_root_of

yaml = lazy_module("yaml")
DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "containers.yaml"
MAX_YAML_BYTES = 5 * 1024 * 1024
MAX_WALK_DEPTH = 16
LOOPBACK_HOSTS = ("127.", "localhost", "::1", "[::1]")


# ---------------------------------------------------------------------------------------------------
# Line-aware YAML (also used by the CloudFormation detector)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class YamlNode:
    """A composed YAML node: navigation like dict/list plus the 1-based line of every value."""

    node: yaml.Node

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.node, yaml.MappingNode)

    @property
    def is_sequence(self) -> bool:
        return isinstance(self.node, yaml.SequenceNode)

    @property
    def tag(self) -> str:
        return self.node.tag or ""

    @property
    def text(self) -> str | None:
        """The scalar as written, or None for mappings, sequences and intrinsic functions (``!Ref``)."""
        if not isinstance(self.node, yaml.ScalarNode) or self.tag.startswith("!"):
            return None
        return self.node.value

    def items(self) -> Iterator[tuple[str, YamlNode]]:
        if self.is_mapping:
            for key, value in self.node.value:
                if isinstance(key, yaml.ScalarNode):
                    yield key.value, YamlNode(value)

    def entries(self) -> Iterator[tuple[str, int, YamlNode]]:
        """(key, line of the key, value) of a mapping."""
        if self.is_mapping:
            for key, value in self.node.value:
                if isinstance(key, yaml.ScalarNode):
                    yield key.value, key.start_mark.line + 1, YamlNode(value)

    def get(self, key: str) -> YamlNode | None:
        """The value of ``key`` (its first entry), the only node wrapped: most lookups pass many keys."""
        if self.is_mapping:
            for name, value in self.node.value:
                if isinstance(name, yaml.ScalarNode) and name.value == key:
                    return YamlNode(value)
        return None

    def path(self, *keys: str) -> YamlNode | None:
        node: YamlNode | None = self
        for key in keys:
            node = node.get(key) if node is not None else None
        return node

    def text_at(self, *keys: str) -> str | None:
        node = self.path(*keys)
        return node.text if node is not None else None

    def elements(self) -> list[YamlNode]:
        return [YamlNode(value) for value in self.node.value] if self.is_sequence else []


# a Go template action of a Helm chart's manifest (``{{ .Values.llm.model | default "gpt-4o" | quote }}``)
HELM_ACTION = linear(r"\{\{-?[^{}\n]{0,300}?-?\}\}")
HELM_DEFAULT = linear(r"""\bdefault\s+["']([^"'\n]{1,200})["']""")
HELM_UNRESOLVED = "${helm}"  # no host, no model: what the chart's values decide at install time


HELM_OBJECTS = (".Values.", ".Release.", ".Chart.")  # what only a Helm template reads


def is_helm_template(text: str) -> bool:
    """Whether YAML text is a Helm chart's template (Go template actions reading the chart's values), which
    a YAML parser misreads or refuses until rendered; a workflow's ``${{ github.x }}`` is not one."""
    return "{{" in text and any(name in text for name in HELM_OBJECTS)


def helm_rendered(text: str) -> str:
    """A Helm template as the YAML it renders to when the chart's values are left at their defaults,
    line for line: an action with a ``default "x"`` is ``x``, another value is an unresolved reference,
    and a line holding only actions (``{{- if .Values.gpu }}``, ``{{- toYaml . | nindent 8 }}``) is empty."""
    lines = []
    for line in text.split("\n"):
        if "{{" not in line:
            lines.append(line)
        elif not HELM_ACTION.sub("", line).strip():
            lines.append("")
        else:
            lines.append(HELM_ACTION.sub(_helm_value, line))
    return "\n".join(lines)


def _helm_value(action: re.Match) -> str:
    default = HELM_DEFAULT.search(action.group(0))
    return default.group(1) if default else HELM_UNRESOLVED


def compose_yaml_documents(text: str) -> list[YamlNode]:
    """All documents of a YAML stream; raises yaml.YAMLError / RecursionError on bad input."""
    return [YamlNode(doc) for doc in compose_yaml_all(text)]


# ---------------------------------------------------------------------------------------------------
# Image catalog
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageRef:
    repository: str  # normalised, lower-case, without tag or digest
    tag: str | None


@dataclass(frozen=True)
class ImageInfo:
    provider: str | None
    kind: str
    gpu: bool
    confidence: float


@dataclass(frozen=True)
class ModelCommand:
    provider: str
    pattern: re.Pattern


@dataclass(frozen=True)
class ContainerCatalog:
    exact: dict
    prefixes: tuple
    gpu_tag_markers: tuple
    model_mount_paths: tuple
    model_commands: tuple
    gpu_resource_prefixes: tuple
    ai_name_words: frozenset

    def lookup(self, image: ImageRef, *, by_name: bool = False) -> ImageInfo | None:
        """The listed image (also under a prefix or through a mirror); with ``by_name``, else an unlisted
        image whose own name says it runs AI (``acme/rag-chatbot``), with a lower confidence."""
        repo = image.repository
        entry = self.exact.get(repo)
        confidence = 1.0
        if entry is None:
            entry = next((e for prefix, e in self.prefixes if repo.startswith(prefix + "/")), None)
        if entry is None:
            # the same image pulled through a private mirror: registry.example.com/ollama/ollama
            entry = next((e for known, e in self.exact.items() if repo.endswith("/" + known)), None)
            confidence = 0.8
        if entry is None:
            return self.named_ai_app(image) if by_name else None
        return ImageInfo(entry["provider"], entry["kind"], self.is_gpu(image, entry), confidence)

    def named_ai_app(self, image: ImageRef) -> ImageInfo | None:
        owner, _, own_name = image.repository.rpartition("/")
        words = set(IMAGE_NAME_WORDS.split(own_name))
        if not words & self.ai_name_words or PLACEHOLDER_OWNER.search(owner):
            return None
        return ImageInfo(None, "ai_app", self.is_gpu(image), 0.6)

    def configured_ai_app(self, image: ImageRef) -> ImageInfo | None:
        """An unlisted image its workload hands an LLM (``infosecb/galah`` with ``LLM_API_KEY``): an AI
        app whatever its name. Not a Docker official image (``python``, ``node``, ``postgres``): a
        runtime or a database that merely carries the variable for the code it runs."""
        owner, _, _ = image.repository.rpartition("/")
        if not owner or owner == "library" or PLACEHOLDER_OWNER.search(owner):
            return None
        return ImageInfo(None, "ai_app", self.is_gpu(image), 0.6)

    def is_gpu(self, image: ImageRef, entry: dict | None = None) -> bool:
        if entry and entry.get("gpu"):
            return True
        tag = (image.tag or "").lower()
        return any(marker in tag for marker in self.gpu_tag_markers)

    def is_model_mount(self, path: str) -> bool:
        path = path.rstrip("/")
        return any(path == p or path.startswith(p + "/") for p in self.model_mount_paths)


@cache
def load_catalog() -> ContainerCatalog:
    data = load_yaml(DATA_FILE)
    exact, prefixes = {}, []
    for entry in data["images"]:
        if entry.get("prefix"):
            prefixes.append((entry["image"], entry))
        else:
            exact[entry["image"]] = entry
    return ContainerCatalog(
        exact=exact,
        prefixes=tuple(prefixes),
        gpu_tag_markers=tuple(data["gpu_tag_markers"]),
        model_mount_paths=tuple(p.rstrip("/") for p in data["model_mount_paths"]),
        model_commands=tuple(ModelCommand(c["provider"], linear(c["regex"])) for c in data["model_commands"]),
        gpu_resource_prefixes=tuple(data["gpu_resource_prefixes"]),
        ai_name_words=frozenset(data["ai_name_words"]),
    )


IMAGE_NAME_WORDS = linear(r"[-_.]")
NOT_AN_IMAGE = linear(
    r"^(?:\.{0,2}/|[a-z][a-z0-9+.-]*://)|\.(?:png|jpe?g|gif|svg|webp|ico|bmp|avif|pdf|md|html?)$", re.I
)
# a template's stand-in for the user's registry account (``your-user/app``, ``<user>/app``): no real image
PLACEHOLDER_OWNER = linear(
    r"(?:^|/)(?:your|my)[-_]?(?:user|username|name|org|account|registry|repo)?(?:$|/)|<|example"
)
# ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:=default}``: compose and shell substitution with a default
VARIABLE_DEFAULT = linear(r"\$\{[A-Za-z_]\w*:?[-=]([^${}]*)\}")
# a tag the deployment chooses (``vllm/vllm-openai:${VLLM_TAG}``, Helm's ``:{{ .Values.image.tag }}``, which
# renders to ``HELM_UNRESOLVED``): the repository is written, so the image is known, its version is not
TEMPLATED_TAG = linear(r":(?:\$\{[A-Za-z_]\w*\}|\$[A-Za-z_]\w*|\{\{[^{}/]{1,200}\}\})$")


def parse_image(reference: str) -> ImageRef | None:
    """``docker.io/library/python:3.12@sha256:..`` -> ImageRef("python", "3.12"); a variable with a default
    (``${LLM_IMAGE:-vllm/vllm-openai:v0.6}``) stands for its default, a templated tag for no tag."""
    reference = VARIABLE_DEFAULT.sub(lambda m: m.group(1), reference.strip().strip("\"'"))
    reference = TEMPLATED_TAG.sub("", reference)
    if not reference or "$" in reference or "{" in reference or " " in reference:
        return None
    if NOT_AN_IMAGE.search(reference):  # ``image: /assets/llm-diagram.png`` in site or model-card data
        return None
    reference = reference.split("@", 1)[0]
    tag = None
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        reference, tag = reference[:colon], reference[colon + 1 :]
    repo = reference.lower()
    for registry in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if repo.startswith(registry):
            repo = repo[len(registry) :]
    if repo.startswith("library/"):
        repo = repo[len("library/") :]
    return ImageRef(repo, tag) if repo else None


# ---------------------------------------------------------------------------------------------------
# Findings shared by the three file kinds
# ---------------------------------------------------------------------------------------------------


# Image kinds that only provide a GPU runtime: an AI component only through what runs on them.
NOT_AI_ON_THEIR_OWN = frozenset({"gpu_base"})


def container_finding(
    file: SourceFile,
    detector: str,
    image: ImageRef,
    line: int,
    *,
    gpu_requested: bool = False,
    internet_facing: bool = False,
    metadata: dict | None = None,
    by_name: bool = True,
    llm_configured: bool = False,
) -> Finding | None:
    """``by_name``: an unlisted image may count by its own name (not for images read out of free text);
    ``llm_configured``: the workload running it is handed an LLM (``configures_llm``)."""
    catalog = load_catalog()
    info = catalog.lookup(image, by_name=by_name)
    if info is None and llm_configured:
        info = catalog.configured_ai_app(image)
    if info is None or info.kind in NOT_AI_ON_THEIR_OWN:
        return None  # a CUDA base or any image that merely asks for a GPU runs no AI by itself
    flags = set()
    if gpu_requested or info.gpu or catalog.is_gpu(image):
        flags.add("gpu_instance")
    if internet_facing:
        flags.add("internet_facing")
    meta = {"kind": info.kind, **(metadata or {})}
    return Finding(
        key=component_key("container", image.repository),
        name=image.repository,
        type="container",
        location=file.location(line),
        detector=detector,
        provider=info.provider,
        version=image.tag,
        flags=flags,
        confidence=info.confidence,
        metadata=meta,
    )


def model_command_findings(file: SourceFile, detector: str, text: str, line: int) -> Iterator[Finding]:
    """Models fetched or served by a shell command (``ollama pull``, ``hf download``, ``--model``, a
    Hugging Face file URL or clone)."""
    for command in load_catalog().model_commands:
        for match in command.pattern.finditer(text):
            model = match.group(1).strip().rstrip(".,;")
            if "/" in model and local_path(model, text[match.end(1) : match.end(1) + 1]):
                continue
            unpinned = command.provider == "Ollama" and (":" not in model or model.endswith(":latest"))
            yield _command_model(file, detector, line, model, command.provider, unpinned=unpinned)
    for _, model in hf_url_models(text):
        yield _command_model(file, detector, line, model, "Hugging Face")


# weights files a command loads from disk (``--model-path runs/best.pt``), never a Hub repository's name
WEIGHTS_SUFFIXES = (".gguf", ".ggml", ".safetensors", ".onnx", ".pt", ".pth", ".bin", ".pkl", ".h5", ".ckpt")


def local_path(model: str, after: str) -> bool:
    """``models/llama-7b``, ``runs/exp1/weights`` or ``out/model.pt``: a path on the host (a known local
    directory, a third segment, a weights file), where a Hub repository is exactly ``org/name``."""
    return (
        after == "/"
        or model.split("/", 1)[0].lower() in LOCAL_DIRECTORY_NAMES
        or model.lower().endswith(WEIGHTS_SUFFIXES)
    )


def _command_model(
    file: SourceFile, detector: str, line: int, model: str, provider: str, *, unpinned: bool = False
) -> Finding:
    return Finding(
        key=component_key("model", model.lower()),
        name=model.lower(),
        type="model",
        location=file.location(line),
        detector=detector,
        provider=provider,
        model_name=model,
        flags={"unpinned_model"} if unpinned else set(),
        metadata={"source": "container_command"},
    )


PIP_INSTALL = linear(r"(?:^|[\s;&|(])(?:python3?(?:\.\d+)?\s+-m\s+)?(?:uv\s+)?pip3?\s+install\s+([^;&|\n]*)")
PIP_NAME = linear(r"^([A-Za-z0-9][\w.-]*)")
CONDA_INSTALL = linear(r"(?:^|[\s;&|(])(?:conda|mamba|micromamba)\s+install\s+([^;&|\n]*)")
CONDA_OPTIONS_WITH_VALUE = frozenset({"-c", "--channel", "-n", "--name", "-p", "--prefix", "--file"})
CONDA_SPEC = linear(r"^(?:[\w.-]+::)?([A-Za-z0-9][\w.-]*)")
PIP_OPTIONS_WITH_VALUE = frozenset(
    {
        "-r",
        "-c",
        "-f",
        "-i",
        "-e",
        "--requirement",
        "--constraint",
        "--find-links",
        "--index-url",
        "--extra-index-url",
        "--target",
        "-t",
        "--prefix",
        "--root",
        "--python",
        "--platform",
        "--cache-dir",
    }
)
# the other registries' install commands, with their options that take a value: ``npm i -g x``, ``yarn
# global add x``, ``pnpm add x``, ``bun add x``, ``gem install x``, ``cargo install x``, ``go install x@v``
OTHER_INSTALLS = (
    (
        linear(
            r"(?:^|[\s;&|(])(?:npm\s+(?:install|i|add)|yarn\s+(?:global\s+)?add|(?:pnpm|bun)\s+(?:add|install|i))"
            r"\s+([^;&|\n]*)"
        ),
        "npm",
        frozenset(
            {"--prefix", "--registry", "--cache", "--workspace", "-w", "--filter", "--dir", "-C", "--cwd"}
        ),
    ),
    (
        linear(r"(?:^|[\s;&|(])gem\s+install\s+([^;&|\n]*)"),
        "gem",
        frozenset({"-v", "--version", "-i", "--install-dir", "-n", "--bindir", "--source", "-s"}),
    ),
    (
        linear(r"(?:^|[\s;&|(])cargo\s+(?:install|add)\s+([^;&|\n]*)"),
        "cargo",
        frozenset(
            {
                *("--git", "--branch", "--tag", "--rev", "--path", "--root", "--features", "-F", "--index"),
                *("--target", "--registry", "--rename", "-p", "--package", "-j", "--jobs", "--version"),
            }
        ),
    ),
    (
        linear(r"(?:^|[\s;&|(])go\s+(?:install|get)\s+([^;&|\n]*)"),
        "go",
        frozenset({"-tags", "-ldflags", "-gcflags", "-o", "-mod", "-modfile", "-p"}),
    ),
)
# a package as the command names it: ``@scope/name@1.2``, ``name@^1``, ``name:1.0``, ``module/path@latest``
INSTALLED_NAME = linear(r"^(@?[A-Za-z0-9][\w.~/-]*)")


def installed_package(ecosystem: str, token: str) -> Package | None:
    """The catalog package one install argument names, read as its registry's manifest would."""
    spec = INSTALLED_NAME.match(token)
    if not spec:
        return None
    name = spec.group(1)
    if ecosystem == "npm":
        return lookup_package("npm", name) or npm_integration_package(name)
    if ecosystem == "go":
        return lookup_prefixed("go", name, "/") if "." in name.split("/")[0] else None
    return lookup_package(ecosystem, name)


GIT_CLONE = linear(
    r"\bgit\s+clone\s+(?:-{1,2}[\w-]+(?:=\S+)?\s+)*https?://github\.com/[\w.-]+/([\w.-]+?)(?:\.git)?(?:[\s/\\]|$)"
)


def install_command_findings(
    file: SourceFile, detector: str, text: str, line: int, *, clones: bool = False
) -> Iterator[Finding]:
    """AI packages a container installs (``pip install vllm``, ``uv pip install torch``, ``conda install
    pytorch``) or, in an image build (``clones``), builds from their own source repository
    (``git clone .../vllm-project/vllm``)."""
    for match in PIP_INSTALL.finditer(text):
        skip = False
        for token in match.group(1).split():
            if skip or token.startswith("-"):
                skip = not skip and token in PIP_OPTIONS_WITH_VALUE
                continue
            token = token.strip("\"'")
            bare = PIP_NAME.match(token)
            name = vcs_repository(token) or (bare.group(1) if bare else None)
            package = lookup_package("pypi", normalize_pypi(name)) if name else None
            if package:
                yield package_finding(file, detector, package, line, "pip install")
    for match in CONDA_INSTALL.finditer(text):
        skip = False
        for token in match.group(1).split():
            if skip or token.startswith("-"):
                skip = not skip and token in CONDA_OPTIONS_WITH_VALUE
                continue
            # ``conda-forge::pytorch=2.1``: conda names Python packages as PyPI does
            name = CONDA_SPEC.match(token.strip("\"'"))
            package = lookup_package("pypi", normalize_pypi(name.group(1))) if name else None
            if package:
                yield package_finding(file, detector, package, line, "conda install")
    for pattern, ecosystem, options_with_value in OTHER_INSTALLS:
        for match in pattern.finditer(text):
            skip = False
            for token in match.group(1).split():
                if skip or token.startswith("-"):
                    skip = not skip and token in options_with_value
                    continue
                package = installed_package(ecosystem, token.strip("\"'"))
                if package:
                    yield package_finding(file, detector, package, line, f"{ecosystem} install")
    for match in GIT_CLONE.finditer(text) if clones else ():
        package = lookup_package("id", match.group(1).lower())
        if package:
            yield package_finding(file, detector, package, line, "git clone")


def package_finding(file: SourceFile, detector: str, package: Package, line: int, how: str) -> Finding:
    return Finding(
        key=f"{package.type}:{package.id}",
        name=package.id,
        type=package.type,
        provider=package.provider,
        location=file.location(line),
        detector=detector,
        metadata={"installed_by": how},
    )


def command_findings(
    file: SourceFile, detector: str, text: str, line: int, *, clones: bool = False
) -> Iterator[Finding]:
    yield from model_command_findings(file, detector, text, line)
    yield from install_command_findings(file, detector, text, line, clones=clones)


def node_command_findings(file: SourceFile, detector: str, node: YamlNode) -> Iterator[Finding]:
    """Commands of a compose service or Kubernetes container, line by line (a ``|`` block script)."""
    for element in node.elements() if node.is_sequence else [node]:
        text = element.text or ""
        first = element.line + (1 if getattr(element.node, "style", None) in ("|", ">") else 0)
        for offset, piece in enumerate(text.splitlines() or [""]):
            yield from install_command_findings(file, detector, piece, first + offset)
    yield from model_command_findings(file, detector, command_text(node), node.line)


# ---------------------------------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------------------------------

FROM_RE = linear(r"^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", re.IGNORECASE)
ARG_RE = linear(r"^ARG\s+([A-Za-z_]\w*)=(\S+)", re.IGNORECASE)
VAR_RE = linear(r"\$\{?([A-Za-z_]\w*)(?::-[^}]*)?\}?")
INSTRUCTION_RE = linear(r"^(RUN|CMD|ENTRYPOINT)\s", re.IGNORECASE)


def dockerfile_instructions(lines: list[str]) -> Iterator[list[tuple[int, str]]]:
    """Logical instructions: the (line number, text) pieces of each, continuations and comments dropped."""
    parts: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            parts.append((number, stripped[:-1]))
            continue
        parts.append((number, stripped))
        yield parts
        parts = []
    if parts:
        yield parts


def continued_install(text: str) -> str:
    """The install command (``pip install``, ``conda install``) whose package list runs to the end of a
    Dockerfile line that a ``\\`` continues: the next line goes on naming packages
    (``RUN pip install --no-cache-dir \\`` then ``vllm==0.4.2 \\``); "" when the line ends none."""
    end = len(text.rstrip())
    for pattern in (PIP_INSTALL, CONDA_INSTALL):
        last = max(pattern.finditer(text), key=lambda match: match.start(), default=None)
        if last and last.end(1) >= end:
            return text[last.start() : last.start(1)].lstrip(" \t;&|(")
    return ""


def is_dockerfile(name: str) -> bool:
    lower = name.lower()
    return (
        lower in ("dockerfile", "containerfile")
        or lower.startswith(("dockerfile.", "containerfile."))
        or lower.endswith((".dockerfile", ".containerfile"))
    )


def scan_dockerfile(file: SourceFile, detector: str) -> Iterator[Finding]:
    args: dict[str, str] = {}
    stages: set[str] = set()
    for parts in dockerfile_instructions(file.lines):
        line, instruction = parts[0][0], " ".join(text for _, text in parts)
        if arg := ARG_RE.match(instruction):
            args[arg.group(1)] = VAR_RE.sub(
                lambda m: args.get(m.group(1), m.group(0)), arg.group(2).strip("\"'")
            )
            # an AI image as an ARG default is a build-time choice of that image, used or overridden
            default = parse_image(args[arg.group(1)]) if "/" in args[arg.group(1)] else None
            if default and (finding := container_finding(file, detector, default, line)):
                yield finding
            continue
        if match := FROM_RE.match(instruction):
            reference = VAR_RE.sub(lambda m: args.get(m.group(1), m.group(0)), match.group(1))
            if match.group(2):
                stages.add(match.group(2).lower())
            if reference.lower() in stages or reference.lower() == "scratch":
                continue
            image = parse_image(reference)
            if image and (finding := container_finding(file, detector, image, line)):
                yield finding
            continue
        if INSTRUCTION_RE.match(instruction):
            installing = ""
            for part_line, text in parts:
                yield from command_findings(file, detector, installing + text, part_line, clones=True)
                installing = continued_install(installing + text)


SHELL_IMAGE = linear(
    r"""(?:^|[\s"'=(]|:-)((?:[\w.-]+(?::\d+)?/)?[\w.-]+/[\w.-]+(?::[\w.-]+)?)(?:[\s"'}),;]|$)"""
)


def scan_shell_script(file: SourceFile, detector: str) -> Iterator[Finding]:
    """Models a script fetches and AI images it runs or names as a default
    (``IMAGE="${IMAGE:-vllm/vllm-openai:latest}"``). A package it installs is not a declaration: a
    set-up script on a developer's machine is neither a manifest nor a container definition (the
    labelling policy), unlike an image's ``RUN pip install`` or a container's command."""
    for line, text in enumerate(file.lines, 1):
        if text.lstrip().startswith("#"):
            continue
        yield from model_command_findings(file, detector, text, line)
        for match in SHELL_IMAGE.finditer(text):
            image = parse_image(match.group(1))
            if image and (finding := container_finding(file, detector, image, line, by_name=False)):
                yield finding


CONTAINER_RUN = linear(r"\b(?:docker|podman)\s+(?:container\s+)?(?:run|pull|create)\b")


def scan_container_runs(file: SourceFile, detector: str) -> Iterator[Finding]:
    """Listed AI images a YAML file's scripts run (``run: docker run -d ollama/ollama``)."""
    for line, text in enumerate(file.lines, 1):
        if text.lstrip().startswith("#") or not CONTAINER_RUN.search(text):
            continue
        for match in SHELL_IMAGE.finditer(text):
            image = parse_image(match.group(1))
            if image and (finding := container_finding(file, detector, image, line, by_name=False)):
                yield finding


# ---------------------------------------------------------------------------------------------------
# docker-compose
# ---------------------------------------------------------------------------------------------------


def is_compose_file(name: str) -> bool:
    lower = name.lower()
    return lower.endswith((".yml", ".yaml")) and lower.startswith(("docker-compose", "compose"))


def compose_gpu_requested(service: YamlNode) -> bool:
    if (service.text_at("runtime") or "").lower() == "nvidia":
        return True
    devices = service.path("deploy", "resources", "reservations", "devices")
    for device in devices.elements() if devices else []:
        driver = (device.text_at("driver") or "").lower()
        capabilities = device.get("capabilities")
        caps = {c.text for c in capabilities.elements()} if capabilities else set()
        if driver in ("nvidia", "amd") or "gpu" in caps:
            return True
    return bool(service.get("gpus"))


def published_on_public_interface(port: YamlNode) -> bool:
    if port.is_mapping:
        if port.get("published") is None:
            return False
        host_ip = port.text_at("host_ip") or ""
        return not host_ip.startswith(LOOPBACK_HOSTS)
    spec = port.text or ""
    if not spec:
        return False
    spec = spec.split("/", 1)[0]
    if spec.startswith("["):  # [::1]:8080:80
        return not spec.startswith("[::1]")
    parts = spec.split(":")
    if len(parts) >= 3:
        return not parts[0].startswith(LOOPBACK_HOSTS)
    return True  # "8080:80" and "80" (random host port) publish on every interface


def compose_model_volumes(service: YamlNode) -> list[str]:
    catalog = load_catalog()
    found = []
    volumes = service.get("volumes")
    for volume in volumes.elements() if volumes else []:
        target = volume.text_at("target") if volume.is_mapping else None
        if target is None and volume.text:
            pieces = volume.text.split(":")
            target = pieces[1] if len(pieces) > 1 else pieces[0]
        if target and catalog.is_model_mount(target):
            found.append(volume.text or target)
    return found


def command_text(node: YamlNode | None) -> str:
    if node is None:
        return ""
    if node.is_sequence:
        return " ".join(e.text or "" for e in node.elements())
    return node.text or ""


def compose_build_args(service: YamlNode) -> Iterator[YamlNode]:
    """Values of ``build.args`` (mapping or ``KEY=value`` list): images passed as build arguments."""
    args = service.path("build", "args")
    if args is None:
        return
    if args.is_mapping:
        yield from (value for _, value in args.items())
    else:
        for element in args.elements():
            if element.text and "=" in element.text:
                yield YamlNode(
                    yaml.ScalarNode(
                        "tag:yaml.org,2002:str",
                        element.text.split("=", 1)[1],
                        start_mark=element.node.start_mark,
                        end_mark=element.node.end_mark,
                    )
                )


def compose_build_dockerfile(file: SourceFile, service: YamlNode) -> Path | None:
    """The Dockerfile a compose service builds its image from (``build: ./llm``, ``build: {context: ./llm,
    dockerfile: Dockerfile.gpu}``), relative to the compose file; None for a remote context."""
    build = service.get("build")
    if build is None:
        return None
    context = build.text if not build.is_mapping else build.text_at("context") or "."
    dockerfile = (build.text_at("dockerfile") if build.is_mapping else None) or "Dockerfile"
    if not context or "://" in context or context.startswith("git@") or "$" in context + dockerfile:
        return None
    return file.path.parent / context / dockerfile


def builds_ai_image(file: SourceFile, service: YamlNode) -> bool:
    """Whether the Dockerfile a compose service builds runs AI (an AI base image, a package or model it
    installs): the image the service names for that build is the repository's own AI app."""
    dockerfile = compose_build_dockerfile(file, service)
    return dockerfile is not None and _dockerfile_runs_ai(str(dockerfile), scan_root_of(file))


@per_scan(stopped=False)
def _dockerfile_runs_ai(path: str, root: str) -> bool:
    real = os.path.realpath(path)
    if not os.path.isfile(real) or os.path.commonpath([real, root]) != root:
        return False
    relpath = os.path.relpath(real, root).replace(os.sep, "/")
    size = os.path.getsize(real)
    if size > MAX_YAML_BYTES:
        return False
    dockerfile = SourceFile(path=Path(real), relpath=relpath, size=size, root=root)
    return next(scan_dockerfile(dockerfile, "containers"), None) is not None


# a generic LLM setting in a workload's environment (``LLM_API_KEY``, ``LLM_MODEL``, ``LLM_BASE_URL``)
LLM_SETTING = linear(r"(?:^|_)LLM(?:_|$)")


@cache
def llm_provider_variables() -> frozenset[str]:
    """The variables that hand a process an LLM provider (``OPENAI_API_KEY``, ``ANTHROPIC_BASE_URL``,
    ``OLLAMA_HOST``); a vector store's (``QDRANT_URL``) does not make its user an AI app."""
    variables = load_json("config_keys.json")["provider_vars"]
    return frozenset(
        name
        for name, package_id in variables.items()
        if (package := lookup_package("id", package_id)) is not None and package.type == "llm_provider"
    )


def environment_names(environment: YamlNode | None) -> Iterator[str]:
    """Variable names of a Kubernetes ``env`` list (``- name: X``) or a compose ``environment`` (a
    mapping, or a list of ``X=value`` / ``X``)."""
    if environment is None:
        return
    if environment.is_mapping:
        yield from (name for name, _ in environment.items())
        return
    for element in environment.elements() if environment.is_sequence else []:
        name = element.text_at("name") if element.is_mapping else (element.text or "").split("=", 1)[0]
        if name:
            yield name.strip()


def configures_llm(environment: YamlNode | None) -> bool:
    """The workload is handed an LLM: a provider's credential or address, or a generic LLM setting."""
    variables = llm_provider_variables()
    return any(
        name.upper() in variables or LLM_SETTING.search(name.upper())
        for name in environment_names(environment)
    )


# the template a project commits for the ``.env`` its compose file reads (``.env`` itself is not committed)
ENV_TEMPLATE_SUFFIXES = ("", ".example", ".sample", ".template", ".dist")
ENV_ASSIGNMENT = linear(r"^\s*(?:export\s+)?([A-Za-z_]\w{0,80})\s*=")
MAX_ENV_FILES = 8


def env_file_paths(env_file: YamlNode | None) -> list[str]:
    """The paths of a compose service's ``env_file``: one path, a list of paths, or a list of
    ``{path: …, required: …}`` entries."""
    if env_file is None:
        return []
    entries = env_file.elements() if env_file.is_sequence else [env_file]
    paths = [entry.text_at("path") if entry.is_mapping else entry.text for entry in entries]
    return [path for path in paths if path and "$" not in path][:MAX_ENV_FILES]


def env_files_configure_llm(file: SourceFile, env_file: YamlNode | None) -> bool:
    """A compose service's ``env_file`` (or, when the project commits only its template, ``.env.example``
    beside it) sets an LLM provider's variable or a generic LLM setting: the service is handed an LLM."""
    root = scan_root_of(file)
    for path in env_file_paths(env_file):
        for suffix in ENV_TEMPLATE_SUFFIXES:
            candidate = file.path.parent / f"{path}{suffix}"
            sets_llm = _env_file_sets_llm(os.path.realpath(candidate), root) if candidate.exists() else None
            if sets_llm is None:
                continue
            if sets_llm:
                return True
            break
    return False


@per_scan(stopped=False)
def _env_file_sets_llm(real_path: str, root: str) -> bool | None:
    """Whether the environment file at ``real_path`` sets an LLM variable (None: not read). Once per file
    per scan, by its real path: every service of a compose file may name the same 256 KB file (under
    spellings as many as ``x/../``), which was read and matched line by line for each."""
    text = read_neighbour(Path(real_path), root)
    if text is None:
        return None
    variables = llm_provider_variables()
    names = (m.group(1).upper() for line in text.split("\n") if (m := ENV_ASSIGNMENT.match(line)))
    return any(name in variables or LLM_SETTING.search(name) for name in names)


def workload_image_findings(
    file: SourceFile,
    detector: str,
    image: ImageRef,
    line: int,
    *,
    gpu_requested: bool,
    internet_facing: bool,
    metadata: dict,
    model_volumes: list[str],
    environment: YamlNode | None,
    llm_env_file: bool = False,
) -> Iterator[Finding]:
    """The image a compose service or Kubernetes container runs, with the model volumes it mounts
    (``llm_env_file``: an environment file hands it an LLM)."""
    if model_volumes:
        metadata = {**metadata, "model_volumes": model_volumes}
    finding = container_finding(
        file,
        detector,
        image,
        line,
        gpu_requested=gpu_requested,
        internet_facing=internet_facing,
        metadata=metadata,
        llm_configured=llm_env_file or configures_llm(environment),
    )
    if finding:
        yield finding


def command_line_findings(
    file: SourceFile, detector: str, spec: YamlNode, keys: tuple[str, ...]
) -> Iterator[Finding]:
    """What a compose service or Kubernetes container runs, from the keys that hold its command line."""
    found = []
    for key in keys:
        node = spec.get(key)
        if node is not None:
            found += node_command_findings(file, detector, node)
    yield from found
    served = served_model_argument(spec, keys)
    if served and not any(f.type == "model" and f.model_name == served[0] for f in found):
        yield _command_model(file, detector, served[1], served[0], "Hugging Face")


# ``vllm serve <model>``: vLLM's server takes the model as its first argument, which a vLLM image's
# container often passes alone (the image's entrypoint is ``vllm``, ``vllm serve`` or the server module)
VLLM_SUBCOMMAND = frozenset({"vllm", "serve"})
HUB_REPOSITORY = linear(r"^[A-Za-z0-9][\w.\-]{0,95}/[\w.\-]{1,95}$")


def served_model_argument(spec: YamlNode, keys: tuple[str, ...]) -> tuple[str, int] | None:
    """(model, line) of the Hub repository a vLLM container's command line names as the server's first
    argument (``command: serve Qwen/Qwen2.5-7B-Instruct``, ``entrypoint: [vllm, serve]`` with ``command:
    [org/model]``), for a vLLM image or a command line that starts ``vllm``; None otherwise."""
    words: list[tuple[str, int]] = []
    for key in sorted(keys, key=lambda key: key != "entrypoint"):  # compose's entrypoint runs the command
        node = spec.get(key)
        for element in (node.elements() if node.is_sequence else [node]) if node is not None else []:
            words += [(word, element.line) for word in (element.text or "").split()[:3]]
    image = (spec.text_at("image") or "").lower()
    if not words or ("vllm" not in image and words[0][0] != "vllm"):
        return None
    position = 0
    while position < len(words) - 1 and words[position][0] in VLLM_SUBCOMMAND:
        position += 1
    model, line = words[position][0].strip("\"'"), words[position][1]
    if not HUB_REPOSITORY.match(model) or local_path(model, ""):
        return None
    return model, line


def scan_compose(file: SourceFile, detector: str, document: YamlNode) -> Iterator[Finding]:
    services = document.get("services")
    templates = [(name, node) for name, node in document.items() if name.startswith("x-") and node.is_mapping]
    for service_name, service in [*(services.items() if services is not None else []), *templates]:
        if not service.is_mapping:
            continue
        for value in compose_build_args(service):
            image = parse_image(value.text or "") if value.text and "/" in value.text else None
            if image and (finding := container_finding(file, detector, image, value.line)):
                yield finding
        image_node = service.get("image")
        image = parse_image(image_node.text or "") if image_node is not None else None
        if image is not None:
            ports = service.get("ports")
            public = any(published_on_public_interface(p) for p in (ports.elements() if ports else []))
            public = public or (service.text_at("network_mode") or "") == "host"
            yield from workload_image_findings(
                file,
                detector,
                image,
                image_node.line,
                gpu_requested=compose_gpu_requested(service),
                internet_facing=public,
                metadata={"service": service_name},
                model_volumes=compose_model_volumes(service),
                environment=service.get("environment"),
                llm_env_file=env_files_configure_llm(file, service.get("env_file"))
                or builds_ai_image(file, service),
            )
        yield from command_line_findings(file, detector, service, ("command", "entrypoint"))


# ---------------------------------------------------------------------------------------------------
# Kubernetes
# ---------------------------------------------------------------------------------------------------

K8S_MARKERS = (linear(r"^apiVersion\s*:", re.MULTILINE), linear(r"^kind\s*:", re.MULTILINE))
EXPOSING_SERVICE_TYPES = ("LoadBalancer", "NodePort")
GPU_NODE_SELECTOR_MARKERS = ("gpu", "accelerator")


def pod_specs(node: YamlNode, depth: int = 0) -> Iterator[tuple[YamlNode, YamlNode]]:
    """Every (pod spec, its owner) in a manifest, whatever the kind (Deployment, CronJob, CRDs …)."""
    if depth > MAX_WALK_DEPTH or not node.is_mapping:
        return
    spec = node.get("spec")
    if spec is not None and spec.is_mapping and spec.get("containers") is not None:
        yield spec, node
    for _, child in node.items():
        if child.is_mapping:
            yield from pod_specs(child, depth + 1)
        elif child.is_sequence and depth < MAX_WALK_DEPTH:
            for element in child.elements():
                yield from pod_specs(element, depth + 1)


def labels_of(owner: YamlNode) -> dict[str, str]:
    labels = owner.path("metadata", "labels")
    return {k: v.text or "" for k, v in labels.items()} if labels else {}


def exposed_selectors(documents: list[YamlNode]) -> list[dict[str, str]]:
    """Selectors of the Services reachable from outside the cluster (LB/NodePort, Ingress, Route)."""
    services: dict[str, dict[str, str]] = {}
    exposed_names: set[str] = set()
    selectors = []
    for doc in documents:
        kind = doc.text_at("kind")
        if kind == "Service":
            selector = doc.path("spec", "selector")
            labels = {k: v.text or "" for k, v in selector.items()} if selector else {}
            services[doc.text_at("metadata", "name") or ""] = labels
            if doc.text_at("spec", "type") in EXPOSING_SERVICE_TYPES and labels:
                selectors.append(labels)
        elif kind == "Ingress":
            exposed_names.update(ingress_backends(doc))
        elif kind == "Route":
            exposed_names.add(doc.text_at("spec", "to", "name") or "")
    selectors += [services[name] for name in exposed_names if services.get(name)]
    return selectors


def ingress_backends(ingress: YamlNode) -> set[str]:
    names = set()
    default = ingress.path("spec", "defaultBackend", "service", "name")
    if default is not None and default.text:
        names.add(default.text)
    rules = ingress.path("spec", "rules")
    for rule in rules.elements() if rules else []:
        paths = rule.path("http", "paths")
        for path in paths.elements() if paths else []:
            backend = path.get("backend")
            if backend is None:
                continue
            name = backend.text_at("service", "name") or backend.text_at("serviceName")
            if name:
                names.add(name)
    return names


def container_gpu_requested(container: YamlNode, pod: YamlNode) -> bool:
    prefixes = load_catalog().gpu_resource_prefixes
    for section in ("limits", "requests"):
        resources = container.path("resources", section)
        if resources and any(key.startswith(prefixes) for key, _ in resources.items()):
            return True
    selector = pod.get("nodeSelector")
    return bool(selector) and any(
        marker in key.lower() for key, _ in selector.items() for marker in GPU_NODE_SELECTOR_MARKERS
    )


def k8s_model_volumes(container: YamlNode) -> list[str]:
    catalog = load_catalog()
    mounts = container.get("volumeMounts")
    return [
        path
        for mount in (mounts.elements() if mounts else [])
        if (path := mount.text_at("mountPath")) and catalog.is_model_mount(path)
    ]


def scan_kubernetes(file: SourceFile, detector: str, documents: list[YamlNode]) -> Iterator[Finding]:
    selectors = exposed_selectors(documents)
    for doc in documents:
        workload = f"{doc.text_at('kind') or 'object'}/{doc.text_at('metadata', 'name') or ''}"
        for pod, owner in pod_specs(doc):
            labels = labels_of(owner)
            public = any(labels and all(labels.get(k) == v for k, v in s.items()) for s in selectors)
            for key in ("initContainers", "containers"):
                containers = pod.get(key)
                for container in containers.elements() if containers else []:
                    yield from scan_k8s_container(file, detector, container, pod, workload, public)


def scan_k8s_container(
    file: SourceFile, detector: str, container: YamlNode, pod: YamlNode, workload: str, public: bool
) -> Iterator[Finding]:
    image_node = container.get("image")
    image = parse_image(image_node.text or "") if image_node is not None else None
    if image is not None:
        yield from workload_image_findings(
            file,
            detector,
            image,
            image_node.line,
            gpu_requested=container_gpu_requested(container, pod),
            internet_facing=public,
            metadata={"workload": workload, "container": container.text_at("name")},
            model_volumes=k8s_model_volumes(container),
            environment=container.get("env"),
        )
    yield from command_line_findings(file, detector, container, ("command", "args"))


def yaml_image_references(node: YamlNode, depth: int = 0) -> Iterator[tuple[str, int]]:
    """(reference, line) of every ``image:`` anywhere in a YAML document: a scalar (GitHub Actions
    ``services``/``container``, GitLab CI, CRDs), or a Helm-values mapping of ``registry``/``repository``/
    ``tag`` (GitLab's ``name``); also such a ``repository``/``tag`` pair without the ``image`` key, as a
    chart's values may list one per served model (the vLLM production stack's ``modelSpec``)."""
    if depth > MAX_WALK_DEPTH:
        return
    if node.is_sequence:
        for element in node.elements():
            yield from yaml_image_references(element, depth + 1)
        return
    repository, tag = node.get("repository"), node.text_at("tag")
    if repository is not None and repository.text and tag and "{" not in tag and "://" not in repository.text:
        yield f"{repository.text}:{tag}", repository.line
    for key, value in node.items():
        if key == "image" and value.text:
            yield value.text, value.line
        elif key == "image" and value.is_mapping:
            repository = value.get("repository") or value.get("name")
            if repository is None or not repository.text:
                continue
            reference = repository.text
            registry = value.text_at("registry")
            first = reference.split("/", 1)[0]
            if registry and "." not in first and ":" not in first:
                reference = f"{registry.rstrip('/')}/{reference}"
            tag = value.text_at("tag")
            yield (f"{reference}:{tag}" if tag and "{" not in tag else reference), repository.line
        elif key == "images" and value.is_sequence:  # kustomize: images: [{name, newName, newTag}]
            for element in value.elements():
                named = element.get("newName") or element.get("name") if element.is_mapping else None
                if named is not None and named.text:
                    tag = element.text_at("newTag")
                    yield (f"{named.text}:{tag}" if tag else named.text), named.line
        elif value.is_mapping or value.is_sequence:
            yield from yaml_image_references(value, depth + 1)


def is_compose_document(document: YamlNode) -> bool:
    """A compose file under any name (``stack.yml``, ``deploy/ollama.yaml``): top-level ``services`` whose
    entries run an image or build one."""
    services = document.get("services")
    return (
        services is not None
        and services.is_mapping
        and any(s.is_mapping and (s.get("image") or s.get("build")) for _, s in services.items())
    )


def yaml_command_nodes(node: YamlNode, depth: int = 0) -> Iterator[YamlNode]:
    """The ``command``/``args`` values anywhere in a YAML document: custom resources that run a model
    server without a pod spec (KServe ``predictor.model.args``), Ansible ``command:`` tasks."""
    if depth > MAX_WALK_DEPTH:
        return
    for element in node.elements() if node.is_sequence else []:
        yield from yaml_command_nodes(element, depth + 1)
    for key, value in node.items() if node.is_mapping else []:
        if key in ("command", "args") and (value.text or value.is_sequence):
            yield value
        elif value.is_mapping or value.is_sequence:
            yield from yaml_command_nodes(value, depth + 1)


def scan_yaml_commands(file: SourceFile, detector: str, documents: list[YamlNode]) -> Iterator[Finding]:
    """Models the commands of YAML outside compose services and pod containers fetch or serve."""
    for document in documents:
        for node in yaml_command_nodes(document):
            yield from (f for f in node_command_findings(file, detector, node) if f.type == "model")


def scan_yaml_images(
    file: SourceFile, detector: str, documents: list[YamlNode], seen: set[int]
) -> Iterator[Finding]:
    """AI images named anywhere else in YAML (Helm values, CI services, custom resources), once per line."""
    for document in documents:
        for reference, line in yaml_image_references(document):
            image = parse_image(reference)
            if line not in seen and image and (finding := container_finding(file, detector, image, line)):
                seen.add(line)
                yield finding


IMAGE_LINE_RE = linear(r"^\s*-?\s*image\s*:\s*[\"']?([^\s\"'#]+)")


def scan_image_lines(file: SourceFile, detector: str) -> Iterator[Finding]:
    """Fallback for manifests that do not parse (Helm templates): known images on ``image:`` lines."""
    for line, text in enumerate(file.lines, 1):
        if match := IMAGE_LINE_RE.match(text):
            image = parse_image(match.group(1))
            if image and (finding := container_finding(file, detector, image, line)):
                yield finding


# ---------------------------------------------------------------------------------------------------


# JSON (devcontainer.json, ECS task definitions, ARM templates) and HCL (Terraform container definitions)
# name images under an ``image`` key too, as Bicep does (``image: 'vllm/vllm-openai:v0.6.3'`` in a
# Container App, a container group or an AKS workload).
STRUCTURED_TEXT_SUFFIXES = (".json", ".tf", ".hcl", ".bicep")
KEYED_IMAGE = linear(r"""["']?\bimage["']?\s*[:=]\s*["']([^"'\s]{3,200})["']""")
# Bicep hands a workload's image on through a module or a parameter named for it, in camelCase: a module
# call's ``containerImage: 'ghcr.io/org/app:1.0'``, ``param inferenceImage string = 'vllm/vllm-openai:v0.6'``
BICEP_KEYED_IMAGE = linear(
    r"""(?:^|[\s{,])(?:param\s+)?(?:image|[a-z]\w{0,60}Image)(?:\s*:|\s+string\s*=)\s*'([^'\s]{3,200})'"""
)


def scan_keyed_images(file: SourceFile, detector: str) -> Iterator[Finding]:
    """Listed AI images a JSON/HCL file runs (an ECS task definition, a ``kubernetes_deployment``) and, in
    a file that runs one, the models its command arrays serve (``"command": ["--model", "org/name"]``)."""
    runs_ai_image = False
    # listed images only: a cloud model's serving image (SageMaker) belongs to its IaC resource. A Bicep
    # ``image:`` (or ``containerImage:``) is only ever what an Azure workload runs, like a compose
    # service's: its own name counts.
    by_name = file.suffix == ".bicep"
    for line, text in enumerate(file.lines, 1):
        if ("image" not in text and "Image" not in text) or text.lstrip().startswith(("#", "//")):
            continue
        for match in (BICEP_KEYED_IMAGE if by_name else KEYED_IMAGE).finditer(text):
            image = parse_image(match.group(1))
            if image and (finding := container_finding(file, detector, image, line, by_name=by_name)):
                runs_ai_image = True
                yield finding
    lines = file.lines
    for line, text in enumerate(lines, 1) if runs_ai_image else ():
        if "--model" in text and not text.lstrip().startswith(("#", "//")):
            found = list(model_command_findings(file, detector, text, line))
            if not found and line < len(lines):
                # one element a line (Bicep's and pretty-printed JSON's arrays): the id is on the next line
                found = model_command_findings(file, detector, f"{text}\n{lines[line]}", line + 1)
            yield from found


# Make and just recipes are shell lines too (``docker run ollama/ollama``, ``ollama pull llama3``)
SCRIPT_NAMES = frozenset({"Makefile", "makefile", "GNUmakefile", "justfile", "Justfile"})
SHELL_HINT = linear(
    r"ollama|pip3? |pip install|git clone|docker |podman |image|IMAGE|huggingface\.co/|hf\.co/|"
    r"--model|huggingface-cli|hf download|vllm serve|-hf |--hf-repo"
)


class ContainerDetector(Detector):
    name = "containers"

    def applies_to(self, file: SourceFile) -> bool:
        return (
            is_dockerfile(file.name)
            or file.suffix in (".yml", ".yaml")
            or (file.suffix in (".sh", *STRUCTURED_TEXT_SUFFIXES) and file.size < MAX_YAML_BYTES)
            or (file.name in SCRIPT_NAMES and file.size < MAX_YAML_BYTES)
        )

    def detect(self, file: SourceFile, report: FileReport) -> Iterable[Finding]:
        if is_dockerfile(file.name):
            return list(scan_dockerfile(file, self.name))
        if file.suffix == ".sh" or file.name in SCRIPT_NAMES:
            return list(scan_shell_script(file, self.name)) if SHELL_HINT.search(file.text) else []
        if file.suffix in STRUCTURED_TEXT_SUFFIXES:
            named = "image" in file.text or (file.suffix == ".bicep" and "Image" in file.text)
            return list(scan_keyed_images(file, self.name)) if named else []
        compose = is_compose_file(file.name)
        kubernetes = all(marker.search(file.text) for marker in K8S_MARKERS)
        named_images = "image" in file.text or ("repository" in file.text and "tag:" in file.text)
        if not compose and not kubernetes and not named_images:
            return []
        if file.size > MAX_YAML_BYTES:
            report.warnings.append(f"containers: {file.relpath} is larger than {MAX_YAML_BYTES} bytes")
            return []
        try:
            documents = compose_yaml_documents(
                helm_rendered(file.text) if is_helm_template(file.text) else file.text
            )
        except (yaml.YAMLError, RecursionError) as exc:
            report.warnings.append(f"containers: {file.relpath} is not valid YAML ({type(exc).__name__})")
            return list(scan_image_lines(file, self.name))
        documents = [d for d in documents if d.is_mapping]
        if compose or any(is_compose_document(d) for d in documents):
            return [f for doc in documents for f in scan_compose(file, self.name, doc)]
        findings = list(scan_kubernetes(file, self.name, documents)) if kubernetes else []
        seen = {f.location.line for f in findings if f.type == "container"}
        findings += scan_yaml_images(file, self.name, documents, seen)
        models = {(f.location.line, f.key) for f in findings if f.type == "model"}
        findings += [
            f
            for f in scan_yaml_commands(file, self.name, documents)
            if (f.location.line, f.key) not in models
        ]
        if "docker" in file.text or "podman" in file.text:  # CI steps: run: docker run ollama/ollama
            findings += [f for f in scan_container_runs(file, self.name) if f.location.line not in seen]
        return findings

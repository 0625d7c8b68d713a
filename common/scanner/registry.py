"""Detector discovery: every concrete ``Detector`` subclass in ``common.scanner.detectors``.

Discovery walks the package with ``pkgutil`` so a new detector module is picked
up without editing a shared list. A scan imports only the detector modules whose
``FileSelector`` matches one of its files (``detectors_for``): importing a module costs
its data files and pattern compilations, most of a small tree's scan. A selector is a
superset of what the module's detectors' ``applies_to`` accepts (a unit test holds them to
it); a module without one is loaded for every file.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from functools import cache, lru_cache

from common.scanner import detectors as detectors_package
from common.scanner.detectors.base import Detector, SourceFile
from common.scanner.sfc import PAGE_SUFFIXES, SFC_SUFFIXES

YAML = (".yaml", ".yml")
# The configuration files ``config_env`` reads (it imports this list, so the two never drift apart)
CONFIG_SUFFIXES = (
    *(".env", ".ini", ".cfg", ".conf", ".properties", ".sh", ".bash", ".zsh", ".ps1"),
    *(".json", ".jsonc", ".toml", *YAML),
    ".prompty",  # a prompt flow / Prompty prompt: YAML front matter configures its model
    *(".http", ".rest"),  # REST Client / JetBrains HTTP request files: requests to AI APIs, with bodies
)
CODE = (".py", ".ts", ".js", ".mjs", ".go", ".rb", ".java", ".kt", ".cs", ".rs")
IAC_PROGRAMS = (".ts", ".mts", ".js", ".mjs", ".py", ".go")  # the languages of CDK and Pulumi programs
# single-file components and pages: their script parts are read as a ``.ts`` file
COMPONENTS = (*SFC_SUFFIXES, *PAGE_SUFFIXES)


@dataclass(frozen=True)
class FileSelector:
    """Which files a detector module may apply to, by lower-case name, suffix or parent folder."""

    suffixes: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    name_prefixes: tuple[str, ...] = ()
    name_endings: tuple[str, ...] = ()
    name_parts: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()

    def matches(self, name: str, suffix: str, folder: str) -> bool:
        return (
            suffix in self.suffixes
            or name in self.names
            or name.startswith(self.name_prefixes)
            or name.endswith(self.name_endings)
            or any(part in name for part in self.name_parts)
            or folder in self.folders
        )


SELECTORS = {
    "code_declarations": FileSelector(
        suffixes=(
            ".ts",
            ".tsx",
            ".mts",
            ".cts",
            ".js",
            ".jsx",
            ".mjs",
            ".cjs",
            ".py",
            ".cs",
            ".rs",
            ".go",
            ".java",
            ".kt",
            ".rb",
            *COMPONENTS,
        )
    ),
    "config_env": FileSelector(
        # templates of a config to copy (``application.properties.example``): read by their inner suffix
        suffixes=(*CONFIG_SUFFIXES, ".example", ".sample", ".template", ".dist", ".tmpl"),
        names=("makefile", "procfile", "justfile", "modelfile", "dockerfile", "containerfile"),
        name_prefixes=(".env", "modelfile.", "dockerfile.", "containerfile."),
        name_endings=(".env", ".modelfile", ".dockerfile", ".containerfile"),
    ),
    "containers": FileSelector(
        suffixes=(".sh", ".json", ".tf", ".hcl", ".bicep", *YAML),
        names=("dockerfile", "containerfile", "makefile", "gnumakefile", "justfile"),
        name_prefixes=("dockerfile.", "containerfile."),
        name_endings=(".dockerfile", ".containerfile"),
    ),
    "github_actions": FileSelector(suffixes=YAML),
    "iac": FileSelector(suffixes=(".tf", ".tofu", ".tfvars", ".bicep", ".json", ".template", *YAML)),
    # no detector of its own: the ARM JSON reader ``iac`` asks for, loaded with it for JSON only
    "iac_arm": FileSelector(suffixes=(".json",)),
    # a CDK or Pulumi program declares its resources in code; ``iac`` reads the few that are such programs
    "iac_programs": FileSelector(suffixes=IAC_PROGRAMS),
    "languages": FileSelector(
        suffixes=(
            *(".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"),
            *(".go", ".java", ".kt", ".kts", ".scala", ".rb", ".cs", ".rs"),
            ".lua",  # Neovim AI plugins' setup tables, OpenResty AI gateways
            *COMPONENTS,  # pages also for the libraries they load from a CDN
        )
    ),
    "manifests": FileSelector(
        names=(
            *("pyproject.toml", "pixi.toml", "pipfile", "setup.cfg", "setup.py", "package.json", "go.mod"),
            *("cargo.toml", "composer.json"),
            *("pom.xml", "build.gradle", "build.gradle.kts", "gemfile"),
            *("poetry.lock", "package-lock.json", "pnpm-lock.yaml", "yarn.lock", "uv.lock", "pipfile.lock"),
            "cargo.lock",
            *("deno.json", "deno.jsonc", "environment.yml", "environment.yaml"),
            *("directory.packages.props", "pnpm-workspace.yaml", "packages.config", "build.sbt"),
            "langgraph.json",
            *("package.swift", "package.resolved", "podfile", "podfile.lock"),
        ),
        # conda environments by other names (``environment-gpu.yml``, ``conda_env.yaml``, ``env.yml``)
        name_prefixes=("environment", "conda", "env"),
        name_endings=(
            ".csproj",
            ".fsproj",
            ".vbproj",
            ".gemspec",
            ".versions.toml",
            ".gradle",
            ".gradle.kts",
            ".pbxproj",
        ),
        # the detector reads any *requirements*.txt / .in, and lists named otherwise (``libs.txt``) by content
        name_parts=("requirements", "constraints", "req", "lib", "dep", "pip"),
        folders=("requirements",),
    ),
    # JSON and TOML configs, YAML gateway configs and Spring application.yml/properties (chosen by content)
    "mcp_config": FileSelector(
        # and set-up scripts that configure an agent's MCP servers with its CLI (``claude mcp add``)
        suffixes=(".json", ".jsonc", ".toml", ".properties", *YAML, ".sh", ".bash", ".zsh"),
        # also in a Dockerfile's ``RUN`` and a Make or just recipe
        names=("dockerfile", "containerfile", "makefile", "gnumakefile", "justfile"),
        name_prefixes=("dockerfile.", "containerfile."),
        # templates of a config to copy: ``claude_desktop_config.json.example``
        # and GitHub Copilot's chat modes, custom agents and prompt files, opencode's agents (front matter)
        name_endings=(
            *(".json.example", ".json.sample", ".json.template", ".json.dist"),
            *(".chatmode.md", ".agent.md", ".prompt.md"),
            *(".dockerfile", ".containerfile"),
        ),
        folders=("agents", "agent"),
    ),
    "model_lists": FileSelector(suffixes=(".txt",)),
    "model_files": FileSelector(
        suffixes=(
            *(".gguf", ".ggml", ".safetensors", ".onnx", ".pt", ".pth", ".bin", ".pkl", ".pickle", ".sav"),
            *(".joblib", ".h5", ".hdf5", ".keras", ".tflite", ".ckpt", ".zip", ".mar", ".skops", ".tar"),
            ".mlmodel",
        )
    ),
    "n8n": FileSelector(
        suffixes=(".json",), name_endings=(".json.template", ".json.example", ".json.sample", ".json.dist")
    ),
    "native_code": FileSelector(
        suffixes=(".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".cu", ".cuh", ".m", ".mm")
    ),
    "notebooks": FileSelector(suffixes=(".ipynb",)),
    "php_code": FileSelector(suffixes=(".php",)),
    "prompt_functions": FileSelector(names=("skprompt.txt",)),
    "python_code": FileSelector(suffixes=(".py",)),
    "sql_data": FileSelector(suffixes=(".sql",)),
    "swift_code": FileSelector(suffixes=(".swift",)),
    "vector_stores": FileSelector(
        suffixes=(
            ".sql",
            ".prisma",
            ".cypher",
            ".cjs",
            ".jsx",
            ".tsx",
            *CODE,
            *COMPONENTS,
            ".tf",
            ".json",
            ".template",
            *YAML,
        )
    ),
}


@cache
def detector_modules() -> tuple[str, ...]:
    """Every detector module's short name, in the order detectors run."""
    names = (m.name for m in pkgutil.iter_modules(detectors_package.__path__) if m.name != "base")
    return tuple(sorted(names))


@cache
def module_detectors(module_name: str) -> tuple[Detector, ...]:
    module = importlib.import_module(f"{detectors_package.__name__}.{module_name}")
    return tuple(
        cls()
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Detector)
        and cls.__module__ == module.__name__
        and cls.name
        and not inspect.isabstract(cls)
    )


@cache
def all_detectors() -> tuple[Detector, ...]:
    return tuple(d for name in detector_modules() for d in module_detectors(name))


def selected_modules(relpath: str) -> tuple[str, ...]:
    """The detector modules that may apply to the file at ``relpath``, in running order."""
    parts = relpath.lower().rsplit("/", 2)
    return _selected_for(parts[-1], parts[-2] if len(parts) > 1 else "")


@lru_cache(maxsize=4096)
def _selected_for(name: str, folder: str) -> tuple[str, ...]:
    """The selection for a lower-case file name in a folder: names repeat across a tree
    (``__init__.py``, ``index.ts``, ``package.json``) and every selector is asked about each."""
    dot = name.rfind(".")
    suffix = name[dot:] if dot > 0 else ""  # as pathlib: a leading dot is part of the name
    chosen = _suffix_selection(suffix)
    named = {module for module, selector in _named_selectors() if selector.matches(name, suffix, folder)}
    return tuple(module for module in detector_modules() if module in chosen or module in named)


@cache
def _suffix_selection(suffix: str) -> frozenset[str]:
    """The modules a file with ``suffix`` selects whatever its name and folder: most files' whole
    selection, so only the few selectors that also look at names and folders are asked per file."""
    return frozenset(
        module
        for module in detector_modules()
        if module not in SELECTORS or suffix in SELECTORS[module].suffixes
    )


@cache
def _named_selectors() -> tuple[tuple[str, FileSelector], ...]:
    return tuple(
        (module, selector)
        for module, selector in SELECTORS.items()
        if selector.names
        or selector.name_prefixes
        or selector.name_endings
        or selector.name_parts
        or selector.folders
    )


def detectors_for(source: SourceFile) -> tuple[Detector, ...]:
    """The detectors that may apply to ``source``, importing their modules on first need; the
    order and the instances are those of ``all_detectors``."""
    return _detectors_of(selected_modules(source.relpath))


@cache
def _detectors_of(modules: tuple[str, ...]) -> tuple[Detector, ...]:
    return tuple(d for module in modules for d in module_detectors(module))

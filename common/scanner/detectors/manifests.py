"""Dependency manifests and lock files.

Every declared dependency that the catalog knows becomes a finding keyed like
the code detectors' (``llm_provider:openai``), so the package seen in code and
in a manifest is one component; the manifest line is the evidence and the
version is the declared one (a lock file's resolved version wins in the merge).
"""

from __future__ import annotations

import ast
import json
import re
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path

from common.scanner.catalog import (
    MASTRA_SHARED_STORES,
    Package,
    go_provider_client,
    integration_package,
    lookup_package,
    lookup_prefixed,
    normalize_pypi,
    npm_integration_package,
    vcs_repository,
)
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.keys import component_key
from common.scanner.lazy import lazy_module, lazy_re
from common.scanner.limits import line_at, linear, parse_json, parse_python, parse_toml, refuse_long_toml_keys
from common.scanner.textutil import (
    OWN_NAME,
    model_finding,
    own_packages,
    per_scan,
    read_neighbour,
    scan_root_of,
)

configparser = lazy_module("configparser")
tomllib = lazy_module("tomllib")
DENO_SPECIFIER = linear(r"^(?:npm|jsr):/?((?:@[\w.-]+/)?[\w.-]+)(?:@([^/]+))?")
MAX_SIBLING_BYTES = 2 * 1024 * 1024
MAX_ALIAS_FINDINGS = 20
REQUIREMENT = linear(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*([^;#]*)")


def _line_of(file: SourceFile, needle: str, start: int = 0) -> int:
    """1-based line of the first line (from ``start``) that mentions ``needle`` as a whole word.

    One search of the lines joined by ``\n`` from line ``start`` on, not one per line (a lock file asks
    this for each of its AI packages, over thousands of lines): the line break that joins two lines is
    neither a word character nor one of the look-arounds' others, so a mention matches there exactly
    where it matches its own line; a needle holding a line break matches no line."""
    lines = file.lines
    if "\n" in needle or start >= len(lines):
        return 0
    escaped = re.escape(needle)
    pattern = re.compile(r"(?<![\w@/.-])" + escaped + r"(?![\w-])", re.IGNORECASE)
    text, lowered, starts = _joined(lines)
    if lowered is None or not needle.isascii():
        found = pattern.search(text, starts[start])
        return bisect_right(starts, found.start()) if found else 0
    # an ASCII text and needle: ``re.IGNORECASE`` folds ASCII letters only to each other there, so the
    # needle's places are those of its lower case in the lowered text, and the look-arounds are tried at
    # those places only (tried at every position, they made one search cost as much as a search per line)
    wanted = needle.lower()
    place = lowered.find(wanted, starts[start])
    while place >= 0 and pattern.match(text, place) is None:
        place = lowered.find(wanted, place + 1)
    return bisect_right(starts, place) if place >= 0 else 0


class _JoinedLines:
    """The last list of lines ``_line_of`` searched, joined by ``\n``, that text lowered when it is ASCII
    (else None), and the offset each line starts at."""

    lines: list[str] | None = None
    text = ""
    lowered: str | None = None
    starts: list[int] = []


def _joined(lines: list[str]) -> tuple[str, str | None, list[int]]:
    if _JoinedLines.lines is not lines:
        text = "\n".join(lines)
        _JoinedLines.text, _JoinedLines.lowered = text, text.lower() if text.isascii() else None
        _JoinedLines.starts = [0, *accumulate(len(line) + 1 for line in lines[:-1])]
        _JoinedLines.lines = lines
    return _JoinedLines.text, _JoinedLines.lowered, _JoinedLines.starts


# the first line that opens a list of dependencies: ``dependencies = [``, ``[project.optional-dependencies]``,
# ``"devDependencies": {``, ``install_requires =``, ``[options.extras_require]``, Cargo's ``[dependencies]``
DEPENDENCY_SECTION = linear(
    r"""^\s*(?:\[[^\]\n]*(?:depend|extras_require)[^\]\n]*\]|["']?[\w.-]*(?:depend|install_requires)[\w.-]*["']?\s*[=:])""",
    re.IGNORECASE,
)


def _declared_line(file: SourceFile, dependency: str) -> int:
    """Line of a dependency's declaration: its first mention from the first dependency list on, so that
    a ``description``, ``keywords`` or ``[package]`` line naming the same word earlier is not taken
    for it."""
    start = next((i for i, raw in enumerate(file.lines) if DEPENDENCY_SECTION.match(raw)), 0)
    return (
        _key_line(file, dependency, start) or _line_of(file, dependency, start) or _line_of(file, dependency)
    )


def _key_line(file: SourceFile, dependency: str, start: int) -> int:
    """1-based line where ``dependency`` is a key (``rmcp = {``, ``"openai": "^4"``), so that another
    entry naming it first (``rig-core = { features = ["rmcp"] }``) is not taken for its declaration."""
    pattern = re.compile(r"""^\s*["']?""" + re.escape(dependency) + r"""["']?\s*[=:]""", re.IGNORECASE)
    return next((i + 1 for i in range(start, len(file.lines)) if pattern.match(file.lines[i])), 0)


GO_INDIRECT = linear(r"//\s*indirect\b")
VIA = linear(r"^\s*#\s*(?:via\b\s*)?(.*?)\s*$")


def pip_compile_transitive_lines(lines: list[str], project: frozenset[str] = frozenset()) -> set[int]:
    """1-based lines of the requirements a ``pip-compile`` / ``uv pip compile`` output pins only because
    another package needs them: their ``# via`` notes name packages, never a ``-r``/``-c`` input file or
    the project itself (``project``: its own package names, which rye writes as ``# via harbour-bot``). A
    lock file's transitive entries are no dependency of the project."""
    found: set[int] = set()
    for index, raw in enumerate(lines):
        if not raw.strip() or raw.lstrip().startswith(("#", "-")):
            continue
        sources: list[str] = []
        following = index + 1
        if following < len(lines) and lines[following].lstrip().startswith("# via"):
            while following < len(lines) and lines[following].lstrip().startswith("#"):
                note = VIA.match(lines[following])
                if note and note.group(1):
                    sources.append(note.group(1))
                following += 1
        elif "# via " in raw:
            sources.append(raw.split("# via ", 1)[1].strip())
        # ``-r requirements.in``, ``-c constraints.txt`` and ``app (pyproject.toml)`` are the project's own
        if sources and not any(
            s.startswith(("-r", "-c", "-e", ".", "/")) or "(" in s or normalize_pypi(s) in project
            for s in sources
        ):
            found.add(index + 1)
    return found


def project_names_beside(file: SourceFile) -> frozenset[str]:
    """The normalised name of the Python project whose ``pyproject.toml`` sits beside ``file``."""
    text = read_neighbour(file.path.with_name("pyproject.toml"), scan_root_of(file))
    declared = dict(OWN_NAME["pypi"])["pyproject.toml"].search(text) if text else None
    return frozenset({normalize_pypi(declared.group(1).strip())}) if declared else frozenset()


def _table_line(file: SourceFile, dependency: str) -> int:
    """1-based line of a TOML table that declares one dependency (``[dependencies.rmcp]``)."""
    pattern = re.compile(r"^\s*\[[\w.'\"()= -]*\." + re.escape(dependency) + r"\s*\]")
    return next((number for number, raw in enumerate(file.lines, start=1) if pattern.match(raw)), 0)


XML_COMMENT = linear(r"<!--.*?-->", re.DOTALL)


def without_xml_comments(text: str) -> str:
    """The XML with every comment blanked out (newlines kept, so offsets and lines still match): a
    commented-out dependency is not declared."""
    return XML_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def extra_package(name: str, extras: str | None) -> Package | None:
    """A component an extra of a general package installs (``ray[rllib]`` is RLlib; Ray itself is not)."""
    for extra in (extras or "").split(","):
        if extra.strip():
            package = lookup_package("pypi", f"{normalize_pypi(name)}[{extra.strip().lower()}]")
            if package:
                return package
    return None


# Swift packages: ``.package(url: "https://github.com/MacPaw/OpenAI.git", from: "0.4.0")`` (``name:`` first
# in old manifests), what follows the URL holding its version requirement
SWIFT_PACKAGE_URL = linear(
    r'\.package\(\s*(?:name:\s*"[^"\n]{0,100}"\s*,\s*)?url:\s*"([^"\n]{1,300})"([^)\n]{0,200})'
)
SWIFT_VERSION = linear(r'"(\d[\w.+-]{0,40})"')
SWIFT_PRODUCT = linear(r'\.product\(\s*name:\s*"([\w-]{1,100})"')
XCODE_PACKAGE_URL = linear(r'\brepositoryURL\s*=\s*"([^"\n]{1,300})"')
XCODE_VERSION = linear(r"\b(?:minimumVersion|version)\s*=\s*\"?(\d[\w.+-]{0,40})")
XCODE_PRODUCT = linear(r"\bproductName\s*=\s*\"?([\w-]{1,100})\"?;")
POD_DECLARATION = linear(r"""^\s*pod\s+['"]([\w./+-]{1,100})['"](?:\s*,\s*['"]([^'"\n]{1,40})['"])?""")
SCHEME_AND_USER = re.compile(r"^(?:[a-z+]+://)?(?:[^@/]+@)?")
LOCKED_POD = linear(r'^  - "?([\w./+-]{1,100}) \(([^)\n]{1,40})\)"?:?\s*$')


def swift_package_key(url: str) -> str:
    """How the catalog names a Swift package: its repository as host/owner/name, lower-case
    (``https://github.com/MacPaw/OpenAI.git`` and ``git@github.com:MacPaw/OpenAI`` are
    ``github.com/macpaw/openai``)."""
    key = SCHEME_AND_USER.sub("", url.strip().lower())
    host, _, path = key.partition("/")
    key = (
        f"{host.replace(':', '/')}/{path}" if path else host.replace(":", "/")
    )  # scp-like ``host:owner/name``
    return key.removeprefix("www.").rstrip("/").removesuffix(".git")


def _version_from_spec(spec: str) -> str | None:
    spec = spec.strip().strip(",")
    if not spec or spec == "*":
        return None
    exact = re.fullmatch(r"===?\s*([\w.!+-]+)", spec)
    return exact.group(1) if exact else spec


def _finding(
    detector: str, package: Package, file: SourceFile, line: int, version: str | None, declared: str
) -> Finding:
    return Finding(
        key=component_key(package.type, package.id),
        name=package.id,
        type=package.type,
        provider=package.provider,
        version=version,
        location=file.location(line),
        detector=detector,
        metadata={"manifests": [file.relpath], "declared_as": [declared]},
    )


# the last part of a VS Code setting's name that says it picks a model (``x.modelName``, ``x.chatModel``)
MODEL_SETTING = linear(r"(?i)model(?:[._-]?(?:name|id))?$")
MAX_MODEL_SETTINGS = 100  # located per manifest: an extension has a handful of model settings
JSON_KEY = linear(r'^\s*"((?:[^"\\\n]|\\.){1,300})"\s*:')


def _json_key_lines(lines: list[str]) -> dict[str, int]:
    """1-based line of each key's first line (``"x.modelName": {``) in a JSON file written a key a line,
    by the key lowered: what ``_key_line`` finds for a JSON key, for all keys in one pass."""
    found: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        key = JSON_KEY.match(raw) if '"' in raw else None
        if key:
            found.setdefault(key.group(1).lower(), number)
    return found


def contributed_settings(data: dict) -> Iterator[tuple[str, dict]]:
    """(name, schema) of each setting a VS Code extension's manifest contributes
    (``contributes.configuration``: one section or a list of them)."""
    contributes = data.get("contributes")
    configuration = contributes.get("configuration") if isinstance(contributes, dict) else None
    for section in configuration if isinstance(configuration, list) else [configuration]:
        properties = section.get("properties") if isinstance(section, dict) else None
        if isinstance(properties, dict):
            yield from ((k, v) for k, v in properties.items() if isinstance(k, str) and isinstance(v, dict))


def _json_object(file: SourceFile, report: FileReport) -> dict | None:
    """The file's JSON object; None (with a warning when it does not parse) for anything else."""
    try:
        data = parse_json(file.text)
    except (json.JSONDecodeError, RecursionError) as exc:
        report.warnings.append(f"invalid JSON: {str(exc)[:200]}")
        return None
    return data if isinstance(data, dict) else None


def nuget_package(name: str):
    """A NuGet package by its registry name, or by the catalog namespace it extends
    (``Microsoft.SemanticKernel.Connectors.OpenAI`` is Semantic Kernel's, as its C# namespace is)."""
    return lookup_package("nuget", name) or lookup_prefixed("csharp", name)


# conda environment files as projects name them: ``environment.yml``, ``environment-gpu.yaml``,
# ``conda_env.yml``, ``env.yml``; the file's ``dependencies:`` list is what makes it one
CONDA_ENVIRONMENT_STEMS = ("environment", "conda", "env")


def is_conda_environment_name(name: str) -> bool:
    """Plain string tests, not a regex: a file name need not be valid UTF-8 (surrogate escapes)."""
    lower = name.lower()
    if not lower.endswith((".yml", ".yaml")):
        return False
    stem = lower.rsplit(".", 1)[0]
    return any(
        stem == prefix or stem.startswith((f"{prefix}.", f"{prefix}-", f"{prefix}_"))
        for prefix in CONDA_ENVIRONMENT_STEMS
    )


class _ManifestDetector(Detector):
    """Shared plumbing: parse errors become warnings, never exceptions."""

    name = ""
    file_names: tuple[str, ...] = ()

    def applies_to(self, file: SourceFile) -> bool:
        return file.name in self.file_names

    def package(self, ecosystem: str, name: str) -> Package | None:
        return lookup_package(ecosystem, normalize_pypi(name) if ecosystem == "pypi" else name)


# a requirements file that records an environment rather than declaring it (``requirements-lock.txt``,
# ``requirements.lock.txt``, ``requirements-frozen.txt``: a ``conda list --export`` or ``pip freeze`` dump)
REQUIREMENTS_LOCK_STEM = linear(r"(?i)(?:^|[._-])(?:lock|locked|frozen|freeze)(?:[._-]|$)")
# the manifests such a record sits beside: what one of them declares is declared there, not again
REQUIREMENTS_SIBLINGS = ("requirements.txt", "requirements.in", "pyproject.toml")
# every Gradle script declares dependencies alike: ``build.gradle``, a variant a Dockerfile copies in its
# place (``build.cloud.gradle``), a script it applies (``gradle/dependencies.gradle``), the Kotlin forms
GRADLE_SCRIPTS = (".gradle", ".gradle.kts")


# pip requirement lists under another name (``libs.txt``, ``deps.txt``, ``pip-requirement.txt``): the name
# says dependencies, and only a file whose every line reads as a requirement or a pip option is one (a
# ``.txt`` of notes is not; Hugging Face Spaces' ``packages.txt`` lists apt packages, so it is not named)
OTHER_REQUIREMENT_WORDS = frozenset(
    {"libs", "libraries", "deps", "dependencies", "dependency", "reqs", "req", "requirement", "pip"}
)
REQUIREMENT_WORD_SPLIT = linear(r"[^a-z0-9]+")
PIP_VERSION_CLAUSE = r"(?:===?|[<>!~]=|[<>])[ \t]*[\w.*+!-]{1,60}"
PIP_REQUIREMENT_LINE = linear(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}[ \t]*(?:\[[\w ,.-]{0,200}\])?[ \t]*"
    rf"(?:{PIP_VERSION_CLAUSE}(?:[ \t]*,[ \t]*{PIP_VERSION_CLAUSE}){{0,5}})?"
    r"[ \t]*(?:;[^#]{0,300})?(?:[ \t]#.*)?$"
)
MAX_OTHER_REQUIREMENT_LINES = 2000  # a dependency list is short; a longer .txt is read as something else


def named_like_requirements(name: str) -> bool:
    """A ``.txt`` whose name says it lists dependencies without saying ``requirements``."""
    return name.endswith(".txt") and any(
        word in OTHER_REQUIREMENT_WORDS for word in REQUIREMENT_WORD_SPLIT.split(name[:-4].lower())
    )


def reads_as_requirements(lines: list[str]) -> bool:
    """Every line a requirement (``torch==2.5.1``, ``openai>=1``, ``langchain``), a pip option or URL line
    or a comment, and at least one requirement: prose has words apart on a line, which none of those has."""
    if len(lines) > MAX_OTHER_REQUIREMENT_LINES:
        return False
    requirements = 0
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith(("#", "-", "git+", "http://", "https://")):
            continue
        if not PIP_REQUIREMENT_LINE.match(line):
            return False
        requirements += 1
    return requirements > 0


def is_requirements_lock(name: str) -> bool:
    """A lock in requirements format written by pip-tools, uv or rye (``requirements.lock``,
    ``requirements-dev.lock``): ``name==version`` lines recording an environment."""
    return name.startswith("requirements") and name.endswith(".lock")


def sibling_requirement_keys(file: SourceFile) -> set[str]:
    """Keys of the packages the Python manifests beside ``file`` declare (none that is a symlink or too
    large is read)."""
    keys: set[str] = set()
    folder = file.relpath.rsplit("/", 1)[0] + "/" if "/" in file.relpath else ""
    for name in REQUIREMENTS_SIBLINGS:
        sibling = file.path.with_name(name)
        try:
            if sibling.is_symlink() or not sibling.is_file():
                continue
            size = sibling.stat().st_size
        except OSError:
            continue
        if size > MAX_SIBLING_BYTES:
            continue
        manifest = SourceFile(path=sibling, relpath=folder + name, size=size, scope=file.scope)
        keys.update(finding.key for finding in ManifestDetector().detect(manifest, FileReport()))
    return keys


class ManifestDetector(_ManifestDetector):
    name = "manifest"

    def package(self, ecosystem: str, name: str) -> Package | None:
        found = super().package(ecosystem, name)
        if found is None and ecosystem == "pypi":
            return integration_package(name)
        if found is None and ecosystem == "npm" and name.lower() not in MASTRA_SHARED_STORES:
            return npm_integration_package(name)
        return found

    def applies_to(self, file: SourceFile) -> bool:
        name = file.name
        return (
            name
            in {
                "pyproject.toml",
                "pixi.toml",
                "Pipfile",
                "setup.cfg",
                "setup.py",
                "package.json",
                "composer.json",
                "deno.json",
                "deno.jsonc",
                "go.mod",
                "Cargo.toml",
                "pom.xml",
                "build.gradle",
                "build.gradle.kts",
                "Gemfile",
                "Directory.Packages.props",
                "pnpm-workspace.yaml",
                "packages.config",
                "build.sbt",
                "langgraph.json",
                "Package.swift",
                "Podfile",
            }
            or (("requirements" in name or "constraints" in name) and name.endswith((".txt", ".in")))
            or is_requirements_lock(name)
            or named_like_requirements(name)
            or (file.relpath.split("/")[-2:-1] == ["requirements"] and name.endswith((".txt", ".in")))
            or name.endswith((".csproj", ".fsproj", ".vbproj", ".gemspec"))
            or name.endswith(GRADLE_SCRIPTS)
            or name.endswith(".versions.toml")
            or name.endswith(".pbxproj")
            or is_conda_environment_name(name)
        )

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        name = file.name
        if name.endswith((".txt", ".in")) or is_requirements_lock(name):
            if not self.declared_requirements(file):
                return
            found = self.requirements(file)
            if is_requirements_lock(name) or (
                name not in REQUIREMENTS_SIBLINGS and REQUIREMENTS_LOCK_STEM.search(name.rsplit(".", 1)[0])
            ):
                declared = sibling_requirement_keys(file)  # the lock adds nothing to what they declare
                found = (finding for finding in found if finding.key not in declared)
            yield from found
        elif name == "pyproject.toml":
            yield from self.pyproject(file, report)
        elif name == "pixi.toml":
            data = self._toml(file, report)
            yield from self.toml_tables(file, "pypi", pixi_tables(data) if data else [])
        elif name == "Pipfile":
            yield from self.pipfile(file, report)
        elif name == "setup.cfg":
            yield from self.setup_cfg(file, report)
        elif name == "setup.py":
            yield from self.setup_py(file, report)
        elif name == "package.json":
            yield from self.package_json(file, report)
        elif name in ("deno.json", "deno.jsonc"):
            yield from self.deno_json(file, report)
        elif name == "composer.json":
            yield from self.composer_json(file, report)
        elif name == "go.mod":
            yield from self.go_mod(file)
        elif name == "Cargo.toml":
            yield from self.cargo(file, report)
        elif name == "pom.xml":
            yield from self.pom(file)
        elif name.endswith(GRADLE_SCRIPTS) or name.endswith(".versions.toml"):
            yield from self.gradle(file)  # a Gradle version catalog lists the same coordinates
        elif name == "Gemfile" or name.endswith(".gemspec"):
            yield from self.gemfile(file)
        elif name.endswith((".csproj", ".fsproj", ".vbproj")) or name == "Directory.Packages.props":
            yield from self.csproj(file)
        elif name == "pnpm-workspace.yaml":
            yield from self.pnpm_catalogs(file)
        elif name == "packages.config":
            yield from self.packages_config(file)
        elif name == "build.sbt":
            yield from self.sbt(file)
        elif name == "langgraph.json":
            yield from self.langgraph_json(file, report)
        elif name == "Package.swift":
            yield from self.swift_package(file)
        elif name == "Podfile":
            yield from self.podfile(file)
        elif name.endswith(".pbxproj"):
            yield from self.xcode_project(file)
        elif is_conda_environment_name(name):
            yield from self.conda_environment(file)

    @staticmethod
    def declared_requirements(file: SourceFile) -> bool:
        """A requirements file by its name, or one named otherwise whose lines read as requirements."""
        name = file.name
        if (
            "requirements" in name
            or "constraints" in name
            or file.relpath.split("/")[-2:-1] == ["requirements"]
        ):
            return True
        return not named_like_requirements(name) or reads_as_requirements(file.lines)

    def pypi_requirement(self, file: SourceFile, requirement: str, line: int | None = None) -> Finding | None:
        match = REQUIREMENT.match(requirement)
        if not match:
            return None
        package = self.package("pypi", match.group(1)) or extra_package(match.group(1), match.group(2))
        if not package:
            return None
        if line is None:
            line = _declared_line(file, match.group(1))
        return _finding(
            self.name, package, file, line, _version_from_spec(match.group(3)), requirement.strip()
        )

    def requirements(self, file: SourceFile) -> Iterator[Finding]:
        transitive = set()
        if "# via" in file.text:
            transitive = pip_compile_transitive_lines(file.lines, project_names_beside(file))
        for number, raw in enumerate(file.lines, start=1):
            if number in transitive:
                continue
            reference = self.direct_reference(raw)
            if reference:
                package = self.package("pypi", reference)
                if package:
                    yield _finding(self.name, package, file, number, None, raw.strip())
                continue
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith(("#", "-", "git+", "http")):
                continue
            finding = self.pypi_requirement(file, line, number)
            if finding:
                yield finding

    # pip's requirement-file forms that name the project in the URL rather than before it: a VCS or archive
    # URL with ``#egg=<name>`` (also after ``-e``/``--editable``), and a wheel file, whose name starts with
    # the distribution (``torch-2.1.0+cu118-cp310-…-linux_x86_64.whl``)
    EGG = linear(
        r"^\s*(?:(?:-e|--editable)\s+)?(?:[\w+]+://|git\+|hg\+|svn\+|bzr\+)\S*#(?:\S*&)?egg=([A-Za-z0-9][\w.-]*)"
    )
    WHEEL = linear(
        r"^\s*(?:https?://|file:)\S*/([A-Za-z0-9][A-Za-z0-9_.]*?)-\d[^/\s]*\.whl(?:[#?]\S*)?\s*(?:#.*)?$"
    )

    def direct_reference(self, raw: str) -> str | None:
        """The project a URL line of a requirements file installs, when the URL says it."""
        match = self.EGG.match(raw) or self.WHEEL.match(raw)
        return match.group(1) if match else vcs_repository(raw.strip())

    CONDA_ITEM = linear(r"^\s*-\s*(?:[\w.-]+::)?([A-Za-z0-9][\w.-]*)\s*(=?=?[^\s#]*)?\s*(?:#.*)?$")

    def conda_environment(self, file: SourceFile) -> Iterator[Finding]:
        """A conda ``environment.yml``: the ``dependencies`` list and its ``pip:`` sub-list name Python
        packages (conda pins with a single ``=``)."""
        in_dependencies = False
        for number, raw in enumerate(file.lines, start=1):
            if raw and not raw[0].isspace() and not raw.startswith("-"):
                in_dependencies = raw.split(":", 1)[0].strip() == "dependencies"
                continue
            item = self.CONDA_ITEM.match(raw) if in_dependencies else None
            if not item or item.group(1) in ("pip", "python"):
                continue
            package = self.package("pypi", item.group(1))
            if package:
                version = (item.group(2) or "").lstrip("=") or None
                yield _finding(self.name, package, file, number, version, raw.strip())

    def _toml(self, file: SourceFile, report: FileReport) -> dict | None:
        try:
            return parse_toml(file.text)
        except tomllib.TOMLDecodeError as exc:
            report.warnings.append(f"invalid TOML: {exc}")
            return None

    def pyproject(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        data = self._toml(file, report)
        if data is None:
            return
        project = data.get("project", {})
        requirements = list(project.get("dependencies", []))
        for group in project.get("optional-dependencies", {}).values():
            requirements.extend(group)
        tool = data.get("tool", {})
        groups = [*data.get("dependency-groups", {}).values(), tool.get("uv", {}).get("dev-dependencies", [])]
        groups.append(tool.get("rye", {}).get("dev-dependencies", []))
        groups += tool.get("pdm", {}).get("dev-dependencies", {}).values()  # uv's, rye's and PDM's dev groups
        for environment in tool.get("hatch", {}).get("envs", {}).values():  # Hatch environments
            if isinstance(environment, dict):
                groups += [environment.get("dependencies", []), environment.get("extra-dependencies", [])]
        for group in groups:
            requirements.extend(r for r in group if isinstance(r, str))
        for requirement in requirements:
            finding = self.pypi_requirement(file, requirement)
            if finding:
                yield finding
        poetry = tool.get("poetry", {})
        tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
        tables.extend(group.get("dependencies", {}) for group in poetry.get("group", {}).values())
        tables.extend(pixi_tables(tool.get("pixi", {})))
        yield from self.toml_tables(file, "pypi", tables)

    def toml_tables(self, file: SourceFile, ecosystem: str, tables: list[dict]) -> Iterator[Finding]:
        for table in tables:
            for dependency, spec in table.items():
                # Cargo's ``alias = { package = "real-name" }`` depends on the package it names
                renamed = spec.get("package") if isinstance(spec, dict) else None
                package = self.package(ecosystem, renamed if isinstance(renamed, str) else dependency)
                if not package:
                    continue
                version = spec.get("version") if isinstance(spec, dict) else spec
                line = _declared_line(file, dependency) or _table_line(file, dependency)
                yield _finding(
                    self.name,
                    package,
                    file,
                    line,
                    _version_from_spec(str(version or "")),
                    file.lines[line - 1].strip() if line else dependency,
                )

    def pipfile(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        data = self._toml(file, report)
        if data is not None:
            yield from self.toml_tables(
                file, "pypi", [data.get("packages", {}), data.get("dev-packages", {})]
            )

    def setup_cfg(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(file.text)
        except configparser.Error as exc:
            report.warnings.append(f"invalid setup.cfg: {str(exc)[:200]}")
            return
        values = []
        if parser.has_option("options", "install_requires"):
            values.append(parser.get("options", "install_requires"))
        if parser.has_section("options.extras_require"):
            values.extend(value for _, value in parser.items("options.extras_require"))
        for value in values:
            for requirement in value.splitlines():
                if requirement.strip():
                    finding = self.pypi_requirement(file, requirement.strip())
                    if finding:
                        yield finding

    def setup_py(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        try:
            tree = parse_python(file.text, file.relpath)
        except SyntaxError as exc:
            report.warnings.append(f"setup.py: cannot parse ({exc.msg}, line {exc.lineno})")
            return
        # ``install_requires=REQUIREMENTS`` names a list the module assigns first
        lists = {
            target.id: node.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.List | ast.Tuple | ast.Dict)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.keyword) or node.arg not in (
                "install_requires",
                "extras_require",
                "tests_require",
            ):
                continue
            value = lists.get(node.value.id, node.value) if isinstance(node.value, ast.Name) else node.value
            for inner in ast.walk(value):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                    finding = self.pypi_requirement(file, inner.value, inner.lineno)
                    if finding:
                        yield finding

    def package_json(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        data = _json_object(file, report)
        if data is None:
            return
        aliased: dict[str, int] = {}  # findings per aliased package
        for section in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
            dependencies = data.get(section)
            if not isinstance(dependencies, dict):
                continue
            for dependency, spec in dependencies.items():
                # an alias installs another package: ``"oai": "npm:openai@^4"``
                alias = NPM_ALIAS.match(spec) if isinstance(spec, str) else None
                package = self.package("npm", alias.group(1) if alias else dependency)
                if package and alias:
                    # names are unique keys, aliases are not: thousands of aliases of one package, each
                    # located by a pass over the file's lines, would make the file quadratic
                    aliased[package.id] = aliased.get(package.id, 0) + 1
                    if aliased[package.id] > MAX_ALIAS_FINDINGS:
                        continue
                if package:
                    line = _declared_line(file, dependency)
                    yield _finding(
                        self.name, package, file, line, _version_from_spec(str(spec)), f"{dependency}@{spec}"
                    )

        yield from self.extension_setting_models(file, data)

    def extension_setting_models(self, file: SourceFile, data: dict) -> Iterator[Finding]:
        """A VS Code extension's setting that picks a model, with a catalog model id as its default: the
        extension runs that model until its user picks another (a config default, as in code). The lines of
        the manifest's keys are indexed once, and at most ``MAX_MODEL_SETTINGS`` settings are located: a
        search of every line for each setting's key cost time quadratic in the settings (46 s for
        10,000 in 400 KB)."""
        key_lines: dict[str, int] | None = None
        located = 0
        for name, schema in contributed_settings(data):
            default = schema.get("default")
            if not isinstance(default, str) or not MODEL_SETTING.search(name.rpartition(".")[2]):
                continue
            if located == MAX_MODEL_SETTINGS:
                return
            located += 1
            if key_lines is None:
                key_lines = _json_key_lines(file.lines)
            key_line = key_lines.get(name.lower(), 0)
            line = _line_of(file, default, key_line) if key_line else 0
            found = model_finding(default, line, strong=False, hf_context=False) if line else None
            if found:
                yield self.model_at(file, line, found)

    def composer_json(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        """PHP's Composer manifest: ``require`` and ``require-dev`` map ``vendor/package`` to a constraint."""
        data = _json_object(file, report)
        if data is None:
            return
        for section in ("require", "require-dev"):
            dependencies = data.get(section)
            if not isinstance(dependencies, dict):
                continue
            for dependency, spec in dependencies.items():
                package = self.package("composer", dependency)
                if package:
                    line = _declared_line(file, dependency)
                    yield _finding(
                        self.name, package, file, line, _version_from_spec(str(spec)), f"{dependency}:{spec}"
                    )

    def deno_json(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        """Deno's import map: ``"fastmcp": "npm:fastmcp@^1.0.0"``; an ``npm:`` specifier names the npm
        package (``jsr:`` packages are Deno's own registry, looked up under the same name)."""
        from common.scanner.detectors.mcp_config import load_jsonc

        try:
            data = load_jsonc(file.text)
        except (ValueError, RecursionError) as exc:
            report.warnings.append(f"invalid JSON: {str(exc)[:200]}")
            return
        imports = data.get("imports") if isinstance(data, dict) else None
        if not isinstance(imports, dict):
            return
        for alias, target in imports.items():
            if not isinstance(target, str):
                continue
            specifier = DENO_SPECIFIER.match(target)
            dependency, version = (specifier.group(1), specifier.group(2)) if specifier else (alias, None)
            package = self.package("npm", dependency) or self.package("npm", alias)
            if package:
                line = _line_of(file, alias)
                yield _finding(self.name, package, file, line, _version_from_spec(version or ""), target)

    def langgraph_json(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        """The LangGraph CLI's deployment config: ``dependencies`` are what the image installs (pip
        requirement strings, or npm packages when ``node_version`` marks a JS deployment); local paths
        (``"."``, ``"./agent"``) are the project itself."""
        data = _json_object(file, report)
        dependencies = data.get("dependencies") if data else None
        if not isinstance(dependencies, list):
            return
        ecosystem = "npm" if "node_version" in data else "pypi"
        for dependency in dependencies:
            if not isinstance(dependency, str) or dependency.startswith((".", "/")):
                continue
            if ecosystem == "pypi":
                found = self.pypi_requirement(file, dependency, _line_of(file, dependency.strip()))
            elif package := self.package("npm", dependency):
                found = _finding(self.name, package, file, _line_of(file, dependency), None, dependency)
            else:
                found = None
            if found:
                yield found

    def go_mod(self, file: SourceFile) -> Iterator[Finding]:
        requirement = linear(r"^\s*(?:require\s+)?([\w.~-]+\.[\w./~-]+)\s+(v[\w.+-]+)")
        required = [(n, raw) for n, raw in enumerate(file.lines, start=1) if requirement.match(raw)]
        # ``// indirect`` marks a dependency of a dependency once ``go mod tidy`` has run, which leaves the
        # module's own imports unmarked; a go.mod with every requirement marked was never tidied, and its
        # marks say nothing
        tidied = any(not GO_INDIRECT.search(raw) for _, raw in required)
        for number, raw in required:
            match = requirement.match(raw)
            if tidied and GO_INDIRECT.search(raw):
                continue
            package = lookup_prefixed("go", match.group(1), "/") or go_provider_client(match.group(1))
            if package:
                yield _finding(self.name, package, file, number, match.group(2), raw.strip())

    def cargo(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        data = self._toml(file, report)
        if data is None:
            return
        sections = ("dependencies", "dev-dependencies", "build-dependencies")
        # ``[target.'cfg(...)'.dependencies]`` tables declare platform-specific dependencies
        scopes = [data, *(t for t in data.get("target", {}).values() if isinstance(t, dict))]
        tables = [scope.get(key, {}) for scope in scopes for key in sections]
        tables.append(data.get("workspace", {}).get("dependencies", {}))
        # a crate this tree builds, taken by path (directly or through the workspace), is no dependency
        if local := own_packages(file, "cargo"):
            tables = [
                {name: spec for name, spec in table.items() if not self.local_crate(name, spec, local)}
                for table in tables
                if isinstance(table, dict)
            ]
        yield from self.toml_tables(file, "cargo", tables)

    def local_crate(self, name: str, spec: object, local: frozenset[str]) -> bool:
        if not isinstance(spec, dict) or not ("path" in spec or spec.get("workspace") is True):
            return False
        renamed = spec.get("package")
        package = self.package("cargo", renamed if isinstance(renamed, str) else name)
        return package is not None and package.id in local

    def pom(self, file: SourceFile) -> Iterator[Finding]:
        text = without_xml_comments(file.text)
        for block in linear(r"<dependency>(.*?)</dependency>", re.DOTALL).finditer(text):
            body = block.group(1)
            if linear(r"<scope>\s*import\s*</scope>").search(body):
                continue  # a BOM imported into dependencyManagement pins versions, it adds no dependency
            group = linear(r"<groupId>\s*([^<\s]+)\s*</groupId>").search(body)
            artifact = linear(r"<artifactId>\s*([^<\s]+)\s*</artifactId>").search(body)
            if not group or not artifact:
                continue
            package = lookup_package("maven", f"{group.group(1)}:{artifact.group(1)}")
            if not package:
                continue
            version = linear(r"<version>\s*([^<\s]+)\s*</version>").search(body)
            line = line_at(text, block.start(1) + body.find("<artifactId>"))
            yield _finding(
                self.name,
                package,
                file,
                line,
                version.group(1) if version else None,
                f"{group.group(1)}:{artifact.group(1)}",
            )

    def gradle(self, file: SourceFile) -> Iterator[Finding]:
        coordinate = linear(r"""["']([\w.-]+):([\w.-]+)(?::([\w.+\-${}]+))?["']""")
        named = linear(
            r"""group\s*[:=]\s*["']([\w.-]+)["']\s*,\s*name\s*[:=]\s*["']([\w.-]+)["']"""
            r"""(?:\s*,\s*version\s*[:=]\s*["']([\w.+-]+)["'])?"""
        )
        catalogs = version_catalogs(file) if file.name.endswith(GRADLE_SCRIPTS) else {}
        accessor = (
            linear(r"\b(" + "|".join(map(re.escape, catalogs)) + r")\.([A-Za-z][\w.]*)") if catalogs else None
        )
        for number, raw in enumerate(file.lines, start=1):
            if raw.lstrip().startswith(("//", "*", "/*")):
                continue
            for match in (*coordinate.finditer(raw), *named.finditer(raw)):
                package = maven_package(match.group(1), match.group(2))
                if package:
                    yield _finding(self.name, package, file, number, match.group(3), raw.strip())
            for match in accessor.finditer(raw) if accessor else ():
                module = catalogs[match.group(1)].get(match.group(2).lower())
                package = maven_package(*module.split(":")[:2]) if module else None
                if package:
                    yield _finding(self.name, package, file, number, None, raw.strip())

    def packages_config(self, file: SourceFile) -> Iterator[Finding]:
        text = without_xml_comments(file.text)
        for match in NUGET_PACKAGES_CONFIG.finditer(text):
            package = nuget_package(match.group(1))
            if package:
                version = re.search(r"""\bversion\s*=\s*["']([^"']+)["']""", match.group(0))
                line = line_at(text, match.start())
                yield _finding(
                    self.name, package, file, line, version.group(1) if version else None, match.group(1)
                )

    def sbt(self, file: SourceFile) -> Iterator[Finding]:
        for number, raw in enumerate(file.lines, start=1):
            if raw.lstrip().startswith("//"):
                continue
            for match in SBT_MODULE.finditer(raw):
                artifact = re.sub(r"_[23](?:\.\d+)?$", "", match.group(2))  # a cross-built Scala artifact
                package = maven_package(match.group(1), artifact)
                if package:
                    yield _finding(self.name, package, file, number, match.group(3), raw.strip())

    def pnpm_catalogs(self, file: SourceFile) -> Iterator[Finding]:
        """A pnpm workspace's catalogs pin the versions its packages then declare as ``catalog:``."""
        for number, name, version in _pnpm_catalog_lines(file.lines):
            package = self.package("npm", name)
            if package:
                yield _finding(self.name, package, file, number, _version_from_spec(version), name)

    def gemfile(self, file: SourceFile) -> Iterator[Finding]:
        for number, raw in enumerate(file.lines, start=1):
            match = GEM_DECLARATION.match(raw)
            if match:
                package = lookup_package("gem", match.group(1))
                if package:
                    yield _finding(
                        self.name,
                        package,
                        file,
                        number,
                        _version_from_spec(match.group(2) or ""),
                        raw.strip(),
                    )

    def swift_package(self, file: SourceFile) -> Iterator[Finding]:
        """A Swift package's ``.package(url: "https://github.com/MacPaw/OpenAI.git", from: "0.4.0")``, and a
        product it uses by name from a package that is more than an AI SDK (``.product(name: "FirebaseAI",
        package: "firebase-ios-sdk")``)."""
        if ".package" not in file.text:
            return
        seen: set[str] = set()
        for match in SWIFT_PACKAGE_URL.finditer(file.text):
            package = self.package("swiftpm", swift_package_key(match.group(1)))
            if package and package.id not in seen:
                seen.add(package.id)
                version = SWIFT_VERSION.search(match.group(2) or "")
                line = line_at(file.text, match.start())
                yield _finding(
                    self.name, package, file, line, version.group(1) if version else None, match.group(1)
                )
        yield from self.swift_products(file, SWIFT_PRODUCT, seen)

    def swift_products(self, file: SourceFile, pattern, seen: set[str]) -> Iterator[Finding]:
        for match in pattern.finditer(file.text):
            package = lookup_package("swift", match.group(1))
            if package and package.id not in seen:
                seen.add(package.id)
                yield _finding(
                    self.name, package, file, line_at(file.text, match.start()), None, match.group(1)
                )

    def xcode_project(self, file: SourceFile) -> Iterator[Finding]:
        """An Xcode project's Swift packages (``XCRemoteSwiftPackageReference``'s ``repositoryURL``, with
        its ``minimumVersion``) and the products its targets link (``productName = FirebaseAI;``)."""
        if "repositoryURL" not in file.text:
            return
        seen: set[str] = set()
        for match in XCODE_PACKAGE_URL.finditer(file.text):
            package = self.package("swiftpm", swift_package_key(match.group(1)))
            if package and package.id not in seen:
                seen.add(package.id)
                version = XCODE_VERSION.search(file.text, match.end(), match.end() + 300)
                line = line_at(file.text, match.start())
                yield _finding(
                    self.name, package, file, line, version.group(1) if version else None, match.group(1)
                )
        yield from self.swift_products(file, XCODE_PRODUCT, seen)

    def podfile(self, file: SourceFile) -> Iterator[Finding]:
        """CocoaPods: ``pod 'ChatGPTSwift', '~> 2.5.0'`` (a subspec, ``'FirebaseAI/Core'``, is its pod's)."""
        for number, raw in enumerate(file.lines, start=1):
            match = POD_DECLARATION.match(raw)
            package = lookup_package("cocoapods", match.group(1).split("/")[0]) if match else None
            if package:
                version = _version_from_spec(match.group(2) or "")
                yield _finding(self.name, package, file, number, version, raw.strip())

    def csproj(self, file: SourceFile) -> Iterator[Finding]:
        """``<PackageReference>`` of a project, and ``<PackageVersion>`` of central package management
        (``Directory.Packages.props``), whose versions the projects' references then leave out."""
        text = without_xml_comments(file.text)
        for match in linear(
            r"<Package(?:Reference|Version)\s+([^>]*?)(/?)>([^<]*)(?:</Package(?:Reference|Version)>)?"
        ).finditer(text):
            attributes = match.group(1)
            include = linear(r"""Include\s*=\s*["']([^"']+)["']""").search(attributes)
            if not include:
                continue
            package = nuget_package(include.group(1))
            if not package:
                continue
            version = linear(r"""Version\s*=\s*["']([^"']+)["']""").search(attributes) or re.search(
                r"<Version>\s*([^<\s]+)\s*</Version>", match.group(3)
            )
            line = line_at(text, match.start())
            yield _finding(
                self.name, package, file, line, version.group(1) if version else None, include.group(1)
            )


# A Gemfile's ``gem "x"`` and a gemspec's ``spec.add_dependency "x"`` (runtime or development)
GEM_DECLARATION = lazy_re(
    r"""^\s*(?:gem|\w+\.add_(?:runtime_|development_)?dependency)\s*\(?\s*["']([\w.-]+)["']"""
    r"""(?:\s*,\s*["']([^"']+)["'])?"""
)
NPM_ALIAS = lazy_re(r"^npm:((?:@[\w.-]+/)?[\w.-]+)(?:@|$)")
# sbt: ``"group" % "artifact" % "version"``, ``%%`` for a Scala artifact (its name then has a suffix)
SBT_MODULE = lazy_re(r"""["']([\w.-]+)["']\s*%%?\s*["']([\w.-]+)["'](?:\s*%\s*["']([\w.+-]+)["'])?""")
# the pre-SDK-style NuGet manifest: ``<package id="X" version="1.0" />``. RE2: backtracking, each
# ``<package `` of a file without ``>`` tried every ``id=`` after it against the rest of the file (cubic)
NUGET_PACKAGES_CONFIG = linear(r"""<package\s+[^>]*?\bid\s*=\s*["']([^"']+)["'][^>]*>""")
PNPM_CATALOG_ENTRY = lazy_re(r"""^[ \t]+['"]?((?:@[\w.-]+/)?[\w.-]+)['"]?[ \t]*:[ \t]*['"]?([^'"\s#]+)""")
PNPM_DEPENDENCY_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
PNPM_ENTRY = linear(r"""^['"]?((?:@[\w.-]+/)?[\w.-]+)['"]?:[ \t]*['"]?([^'"\s#]*)""")


# The artifacts of the MCP SDKs for the JVM; a JitPack build of a fork (``com.github.<user>[.<repo>]``)
# of one of them is that fork, named by its own coordinate.
MCP_JVM_ARTIFACT = linear(r"(?:mcp-)?kotlin-sdk(?:-jvm|-client|-server|-core)?|[\w-]*\bmcp\b[\w-]*")


def _pnpm_catalog_lines(lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """(line, package, version) of the ``catalog:`` and named ``catalogs:`` of a pnpm workspace."""
    section = ""
    for number, raw in enumerate(lines, start=1):
        if raw and not raw[0].isspace() and not raw.startswith("#"):
            section = raw.split(":", 1)[0].strip()
            continue
        entry = PNPM_CATALOG_ENTRY.match(raw) if section in ("catalog", "catalogs") else None
        if entry and entry.group(2) and not raw.rstrip().endswith(":"):
            yield number, entry.group(1), entry.group(2)


def pixi_tables(pixi: object) -> list[dict]:
    """Pixi's dependency tables (``[tool.pixi.dependencies]``, ``pypi-dependencies``, and both again per
    ``[tool.pixi.feature.<name>]``): conda-forge names Python packages as PyPI does."""
    if not isinstance(pixi, dict):
        return []
    scopes = [pixi, *(f for f in pixi.get("feature", {}).values() if isinstance(f, dict))]
    return [
        table
        for scope in scopes
        for key in ("dependencies", "pypi-dependencies")
        if isinstance(table := scope.get(key), dict)
    ]


def maven_package(group: str, artifact: str) -> Package | None:
    """A catalog package by its Maven coordinate, or a JitPack fork of an MCP SDK."""
    package = lookup_package("maven", f"{group}:{artifact}")
    if package is None and group.lower().startswith("com.github.") and MCP_JVM_ARTIFACT.fullmatch(artifact):
        upstream = lookup_package("id", "mcp")
        if upstream:
            return Package(f"{group}:{artifact}", upstream.type, upstream.provider)
    return package


def version_catalogs(file: SourceFile) -> dict[str, dict[str, str]]:
    """Gradle version catalogs (``gradle/<name>.versions.toml``) a build script in ``file``'s folder or a
    parent folder inside the scan can reach: ``{name: {accessor: "group:artifact"}}``, where the alias
    ``langchain4j-openai`` is the accessor ``langchain4j.openai`` (Gradle maps ``-`` and ``_`` to ``.``)."""
    depth = file.relpath.count("/")
    folder = file.path.parent
    root = scan_root_of(file)
    for _ in range(depth + 1):
        found = _catalogs_in(folder / "gradle", root)
        if found:
            return found
        folder = folder.parent
    return {}


@per_scan(stopped={})
def _catalogs_in(folder: Path, root: str) -> dict[str, dict[str, str]]:
    """The version catalogs of one ``gradle`` folder, parsed once per scan however many build scripts
    below it ask (``version_catalogs``)."""
    catalogs: dict[str, dict[str, str]] = {}
    try:
        candidates = sorted(folder.glob("*.versions.toml"))
    except OSError:
        return catalogs
    for path in candidates:
        text = read_neighbour(path, root, MAX_SIBLING_BYTES)
        try:
            data = parse_toml(text) if text is not None else None
        except ValueError:
            continue
        if data is None:
            continue
        libraries = data.get("libraries") if isinstance(data.get("libraries"), dict) else {}
        entries: dict[str, str] = {}
        for alias, spec in libraries.items():
            if isinstance(spec, str):
                module = ":".join(spec.split(":")[:2])
            elif isinstance(spec, dict) and isinstance(spec.get("module"), str):
                module = spec["module"]
            elif (
                isinstance(spec, dict)
                and isinstance(spec.get("group"), str)
                and isinstance(spec.get("name"), str)
            ):
                module = f"{spec['group']}:{spec['name']}"
            else:
                continue
            entries[re.sub(r"[-_]", ".", alias).lower()] = module
        catalogs[path.name.removesuffix(".versions.toml")] = entries
    return catalogs


def pnpm_direct_dependencies(lines: list[str]) -> list[tuple[int, str, str | None]] | None:
    """(line, package, version) of every dependency a pnpm lock lists for its importers (or, before
    lock format 6, for the single project); None when the lock has no such section."""
    direct: list[list] = []
    found = False
    top = ""
    section_indent: int | None = None
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip())
        key = stripped.split(":", 1)[0].strip("'\"")
        if indent == 0:
            top = key
            section_indent = 0 if key in PNPM_DEPENDENCY_SECTIONS else None
            found = found or section_indent is not None
        elif top == "importers" and indent <= 4:
            section_indent = 4 if indent == 4 and key in PNPM_DEPENDENCY_SECTIONS else None
            found = found or section_indent is not None
        elif section_indent is not None and indent == section_indent + 2:
            entry = PNPM_ENTRY.match(stripped)
            if entry:
                direct.append([number, entry.group(1), entry.group(2) or None])
        elif section_indent is not None and indent == section_indent + 4 and direct and key == "version":
            direct[-1][2] = stripped.split(":", 1)[1].strip().strip("'\"") or None
    if not found:
        return None
    return [(number, name, version.split("(", 1)[0] if version else None) for number, name, version in direct]


_LOCK_PACKAGE_NAME = linear(r"""(?m)^[ \t]*["']?name["']?[ \t]*=[ \t]*["']([^"'\n]+)["']""")

# a basic string no TOML reader refuses (no quote, backslash or control character), and an integer. No
# single quote either: an unclosed literal string fails at the next one in the text, wherever it is
_LOCK_STRING = r'"[^"\'\\\x00-\x1f\x7f]+"'
_LOCK_INTEGER = r"(?:0|[1-9][0-9]{0,17})"
# a line that is one inline table of a poetry/uv lock's file, wheel or dependency lists, each a fixed
# order of distinct keys (so the table is valid TOML wherever it stands): group 1 its indent, 2 its comma
_LOCK_LIST_TABLE = linear(
    r"(?m)^([ \t]*)\{ ?(?:"
    rf"file = {_LOCK_STRING}, hash = {_LOCK_STRING}"
    rf"|url = {_LOCK_STRING}, hash = {_LOCK_STRING}(?:, size = {_LOCK_INTEGER})?"
    rf"(?:, upload-time = {_LOCK_STRING})?"
    rf"|name = {_LOCK_STRING}(?:, marker = {_LOCK_STRING})?(?:, specifier = {_LOCK_STRING})?"
    r") ?\}(,?)[ \t]*$"
)
# a uv package's ``sdist = {…}`` or ``source = {…}`` line, its table (group 1) of fixed distinct keys
_LOCK_KEYED_TABLE = linear(
    r"(?m)^[ \t]*(?:sdist = (\{ ?"
    rf"url = {_LOCK_STRING}, hash = {_LOCK_STRING}(?:, size = {_LOCK_INTEGER})?"
    rf"(?:, upload-time = {_LOCK_STRING})?"
    r" ?\})|source = (\{ ?(?:registry|editable|virtual|git|path|url) = "
    rf"{_LOCK_STRING}"
    r" ?\}))[ \t]*$"
)


def lock_packages_toml(text: str) -> dict:
    """``parse_toml``'s answer for what a poetry/uv lock reader takes (each ``[[package]]``'s name and
    version), most of the parse saved: the file, wheel and dependency tables that fill a lock's lines
    (and most of ``tomllib``'s time) are read empty. A line of one such inline table, fixed keys, is
    read as ``{}``: it is a valid list element, and begins with the same ``{`` at the same column, so the
    text is valid exactly where the lock is, and an error is reported at the same line and column. A
    ``sdist``/``source`` table is read as ``{`` and blanks up to its ``}``: an error about its key is
    reported after its value, which keeps its place. Only a multi-line string could hold such a line
    as text of a value: a lock with one is read whole."""
    refuse_long_toml_keys(text)
    if '"""' in text or "'''" in text:
        return tomllib.loads(text)
    pieces = []
    done = 0
    for table in _LOCK_LIST_TABLE.finditer(text):
        pieces += (text[done : table.start()], table.group(1), "{}", table.group(2))
        done = table.end()
    pieces.append(text[done:])
    lists_read = "".join(pieces)
    pieces = []
    done = 0
    for line in _LOCK_KEYED_TABLE.finditer(lists_read):
        group = 1 if line.group(1) is not None else 2
        start, end = line.span(group)
        pieces += (lists_read[done:start], "{", " " * (end - start - 2), "}")
        done = end
    pieces.append(lists_read[done:])
    return tomllib.loads("".join(pieces))


# a Cargo.lock ``[[package]]`` entry: ``name = "async-openai"`` and the ``version`` line after it
_CARGO_LOCK_PACKAGE = linear(r'(?m)^name = "([\w-]{1,100})"\r?\nversion = "([^"\r\n]{1,100})"')


class LockfileDetector(_ManifestDetector):
    """Resolved versions: poetry.lock, package-lock.json, pnpm-lock.yaml, yarn.lock, Cargo.lock."""

    name = "lockfile"
    file_names = (
        "poetry.lock",
        "package-lock.json",
        "pnpm-lock.yaml",
        "yarn.lock",
        "uv.lock",
        "Pipfile.lock",
        "Package.resolved",
        "Podfile.lock",
        "Cargo.lock",
    )

    SIBLING_MANIFESTS = {
        "poetry.lock": "pyproject.toml",
        "uv.lock": "pyproject.toml",
        "Pipfile.lock": "Pipfile",
        "package-lock.json": "package.json",
        "pnpm-lock.yaml": "package.json",
        "yarn.lock": "package.json",
        "Package.resolved": "Package.swift",
        "Podfile.lock": "Podfile",
        "Cargo.lock": "Cargo.toml",
    }

    def detect(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        """The resolved version of every catalog package the manifest next to the lock file declares,
        placed at the manifest's line (the lock adds its version, not a second place). What only the
        lock names is pulled in by those packages: no dependency of the project. A lock with no
        manifest beside it is the only record of what the project installs; all of it counts."""
        declared = self.sibling_declarations(file)
        for finding in self.locked(file, report):
            if declared is None:
                yield finding
                continue
            location = declared.get(finding.key)
            if location is not None:
                finding.location = location
                yield finding

    def sibling_declarations(self, file: SourceFile) -> dict | None:
        """{key: location} of what the sibling manifest declares; None when there is none to read."""
        sibling = file.path.with_name(self.SIBLING_MANIFESTS[file.name])
        try:
            size = sibling.stat().st_size
        except OSError:
            return None
        if size > MAX_SIBLING_BYTES:
            return None
        relpath = file.relpath.rsplit("/", 1)[0] + "/" + sibling.name if "/" in file.relpath else sibling.name
        manifest = SourceFile(path=sibling, relpath=relpath, size=size, scope=file.scope)
        declarations: dict = {}
        for finding in ManifestDetector().detect(manifest, FileReport()):
            declarations.setdefault(finding.key, finding.location)
        return declarations

    def locked(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        name = file.name
        if name in ("poetry.lock", "uv.lock"):
            yield from self.toml_lock(file, report)
        elif name == "package-lock.json":
            yield from self.npm_lock(file, report)
        elif name == "Pipfile.lock":
            yield from self.pipfile_lock(file, report)
        elif name == "pnpm-lock.yaml":
            yield from self.pnpm_lock(file)
        elif name == "Package.resolved":
            yield from self.swift_resolved(file, report)
        elif name == "Podfile.lock":
            yield from self.podfile_lock(file)
        elif name == "Cargo.lock":
            yield from self.cargo_lock(file)
        else:
            yield from self.yarn_lock(file)

    def toml_lock(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        # a lock file's hashes and wheel lists make it the slowest file of a scan to parse: only
        # one that names an AI package is parsed
        names = (match.group(1) for match in _LOCK_PACKAGE_NAME.finditer(file.text))
        if not any(self.package("pypi", name) for name in names):
            return
        try:
            data = lock_packages_toml(file.text)
        except tomllib.TOMLDecodeError as exc:
            report.warnings.append(f"invalid TOML: {exc}")
            return
        for entry in data.get("package", []):
            package = self.package("pypi", entry.get("name", ""))
            if package:
                line = _line_of(file, f'name = "{entry["name"]}"')
                yield _finding(self.name, package, file, line, entry.get("version"), entry["name"])

    def cargo_lock(self, file: SourceFile) -> Iterator[Finding]:
        """Every ``[[package]]`` whose name is a catalog crate, with the version it is locked at: one
        linear scan of the ``name``/``version`` line pairs, no TOML parse (a workspace's lock runs to
        tens of thousands of lines). A crate locked at several versions has no single resolved one."""
        text = file.text
        found: dict[str, tuple[Package, int, set[str]]] = {}
        line, counted = 1, 0
        for match in _CARGO_LOCK_PACKAGE.finditer(text):
            package = self.package("cargo", match.group(1))
            if not package:
                continue
            line += text.count("\n", counted, match.start())
            counted = match.start()
            entry = found.setdefault(match.group(1), (package, line, set()))
            entry[2].add(match.group(2))
        for name, (package, number, versions) in found.items():
            version = next(iter(versions)) if len(versions) == 1 else None
            yield _finding(self.name, package, file, number, version, f"{name} {version or ''}".strip())

    def npm_lock(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        data = _json_object(file, report)
        if data is None:
            return
        entries: dict[str, str] = {}
        for path, entry in (data.get("packages") or {}).items():
            if path and isinstance(entry, dict) and entry.get("version"):
                entries.setdefault(path.rsplit("node_modules/", 1)[-1], entry["version"])
        for dependency, entry in (data.get("dependencies") or {}).items():
            if isinstance(entry, dict) and entry.get("version"):
                entries.setdefault(dependency, entry["version"])
        for dependency, version in sorted(entries.items()):
            package = self.package("npm", dependency)
            if package:
                line = _line_of(file, f"node_modules/{dependency}") or _line_of(file, dependency)
                yield _finding(self.name, package, file, line, version, f"{dependency}@{version}")

    def pipfile_lock(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        data = _json_object(file, report)
        if data is None:
            return
        for section in ("default", "develop"):
            for dependency, entry in (data.get(section) or {}).items():
                package = self.package("pypi", dependency)
                if package and isinstance(entry, dict):
                    yield _finding(
                        self.name,
                        package,
                        file,
                        _line_of(file, dependency),
                        _version_from_spec(entry.get("version", "")),
                        dependency,
                    )

    def swift_resolved(self, file: SourceFile, report: FileReport) -> Iterator[Finding]:
        """SwiftPM's resolved pins: ``object.pins[].repositoryURL`` (version 1), ``pins[].location``
        (versions 2 and 3). An Xcode app's (``xcshareddata/swiftpm/Package.resolved``) has no Package.swift
        beside it: it is the project's record of its packages."""
        data = _json_object(file, report)
        if data is None:
            return
        holder = data.get("object") if isinstance(data.get("object"), dict) else data
        pins = holder.get("pins")
        for pin in pins if isinstance(pins, list) else ():
            if not isinstance(pin, dict):
                continue
            url = pin.get("location") or pin.get("repositoryURL")
            package = self.package("swiftpm", swift_package_key(url)) if isinstance(url, str) else None
            if package:
                state = pin.get("state") if isinstance(pin.get("state"), dict) else {}
                version = state.get("version") if isinstance(state.get("version"), str) else None
                yield _finding(self.name, package, file, _line_of(file, url), version, url)

    def podfile_lock(self, file: SourceFile) -> Iterator[Finding]:
        """The pods CocoaPods installed (``PODS:``, ``  - ChatGPTSwift (2.5.0)``)."""
        in_pods = False
        for number, raw in enumerate(file.lines, start=1):
            if not raw.startswith(" "):
                in_pods = raw.rstrip() == "PODS:"
                continue
            match = LOCKED_POD.match(raw) if in_pods else None
            package = lookup_package("cocoapods", match.group(1).split("/")[0]) if match else None
            if package:
                yield _finding(self.name, package, file, number, match.group(2), raw.strip().rstrip(":"))

    def pnpm_lock(self, file: SourceFile) -> Iterator[Finding]:
        """The project's own dependencies where the lock records them (``importers:`` since lock
        format 6, top-level ``dependencies:`` before); every package only in an older lock without
        them. A package another package pulls in is not one the project chose to use."""
        direct = pnpm_direct_dependencies(file.lines)
        if direct is not None:
            for number, name, version in direct:
                package = self.package("npm", name)
                if package:
                    yield _finding(self.name, package, file, number, version, f"{name}@{version}")
            return
        pattern = linear(r"""^\s+['"]?/?((?:@[\w.-]+/)?[\w.-]+)@(\d[\w.+-]*)""")
        for number, raw in enumerate(file.lines, start=1):
            match = pattern.match(raw)
            if match:
                package = self.package("npm", match.group(1))
                if package:
                    yield _finding(self.name, package, file, number, match.group(2), raw.strip().rstrip(":"))

    def yarn_lock(self, file: SourceFile) -> Iterator[Finding]:
        header = linear(r"""^"?((?:@[\w.-]+/)?[\w.-]+)@""")
        lines = file.lines
        for number, raw in enumerate(lines, start=1):
            if raw.startswith((" ", "#")) or not raw.strip():
                continue
            match = header.match(raw)
            package = self.package("npm", match.group(1)) if match else None
            if not package:
                continue
            version = None
            for following in lines[number : number + 4]:
                found = linear(r"""^\s+version:?\s+"?([^"\s]+)"?""").match(following)
                if found:
                    version = found.group(1)
                    break
            yield _finding(self.name, package, file, number, version, raw.strip().rstrip(":"))

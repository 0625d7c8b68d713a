"""Score the trusera engine and ai-bom 3.6.0 against the hand labels of the real-world corpus.

    .venv/bin/python bench/realworld/score.py [--repos DIR ...] [--trees DIR] [--half tune|holdout]
                                              [--reveal-holdout] [--skip-aibom] [--update-readme]

Both tools run through their CLIs on the same trees (rebuild them first with rebuild.py). Every reported
component is expanded into one report per file it was located in, so reports and labels are both
(file, component) units, and they are matched one-to-one per file (bench/realworld/README.md, "Scoring").
ai-bom is installed and its CSV rows mapped onto engine naming by bench/bench_scanner.py.

Tuning discipline: per-repository rows and the lists of misses and false positives are printed for the
"tune" half only, unless --reveal-holdout is given; holdout totals are always printed.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scanner import (  # noqa: E402
    AIBOM_VERSION,
    WORK,
    _package_for,
    compile_engine,
    ensure_aibom,
    map_aibom_row,
    measure,
)

from common.scanner.catalog import lookup_package, lookup_prefixed, normalize_pypi, route_forms  # noqa: E402
from common.scanner.detectors.python_code import AWS_AI_SERVICES, GENERIC_AWS_SDKS  # noqa: E402

DEFAULT_REPOS = HERE / "repos"
DEFAULT_TREES = Path("/work/corpus-trees")
# Labellers who never changed a detector: their holdout repositories are the cleanest held-out set.
NEVER_TUNED = ("B", "C", "D", "E", "H", "I")
START, END = "<!-- realworld:start -->", "<!-- realworld:end -->"

PACKAGE_TYPES = {"llm_provider", "agent_framework", "ml_framework", "vector_db"}
FAMILIES = {
    **{kind: "package" for kind in PACKAGE_TYPES},
    "mcp_server": "mcp",
    "mcp_client": "mcp",
    "tool": "mcp",
}
STANDARD_EXCLUDES = (
    "node_modules/",
    "vendor/",
    "third_party/",
    ".venv/",
    "venv/",
    "site-packages/",
    "dist/",
    "build/",
    "target/",
    ".git/",
)
GENERATED = ("*.min.js", "*_pb2.py", "*.pb.go", "*.generated.*")
LANGUAGES = {
    ".py": "Python",
    ".ipynb": "Python",
    ".ts": "TypeScript/JS",
    ".tsx": "TypeScript/JS",
    ".js": "TypeScript/JS",
    ".mjs": "TypeScript/JS",
    ".go": "Go",
    ".rs": "Rust",
    ".rb": "Ruby",
    ".java": "Java/Kotlin",
    ".kt": "Java/Kotlin",
    ".kts": "Java/Kotlin",
    ".cs": "C#",
    ".php": "PHP",
    ".swift": "Swift",
}
MANIFESTS = {
    "requirements.txt",
    "pyproject.toml",
    "package.json",
    "go.mod",
    "cargo.toml",
    "gemfile",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "deno.json",
    "composer.json",
    "package.swift",
    "podfile",
}
PROVIDER_ALIASES = {
    "amazonwebservices": "aws",
    "awsbedrock": "aws",
    "amazon": "aws",
    "bedrock": "aws",
    "microsoftazure": "azure",
    "azureopenai": "azure",
    "googlecloud": "google",
    "googlevertexai": "google",
    "vertexai": "google",
    "gemini": "google",
    "modelcontextprotocol": "mcp",
    "mistralai": "mistral",
    "togetherai": "together",
    "fireworksai": "fireworks",
}


def norm_provider(value: str | None) -> str | None:
    if not value:
        return None
    key = re.sub(r"[^a-z0-9]", "", value.lower())
    return PROVIDER_ALIASES.get(key, key) or None


IMPORT_NAMESPACES = (
    ("python", "."),
    ("java", "."),
    ("csharp", "."),
    ("go", "/"),
    ("rust", "::"),
    ("ruby", "/"),
    ("php", "\\"),
    ("swift", "."),
)


# The registry and import namespace of a source file's own language: a label's package name is read in
# them first, so Python's ``llama_cpp`` is llama-cpp-python, not the Rust crate of the same name.
SOURCE_ECOSYSTEMS = {
    ".py": ("pypi", "python", "."),
    ".ipynb": ("pypi", "python", "."),
    ".rs": ("cargo", "rust", "::"),
    ".go": ("go", "go", "/"),
    ".rb": ("gem", "ruby", "/"),
    ".java": ("maven", "java", "."),
    ".kt": ("maven", "java", "."),
    ".cs": ("nuget", "csharp", "."),
    ".php": ("composer", "php", "\\"),
    ".swift": ("cocoapods", "swift", "."),
}


def norm_package(name: str, path: str = "") -> str:
    """Catalog id of a package as a label writes it: a registry name, or an import namespace
    (``langchain_core``, ``io.modelcontextprotocol.kotlin.sdk``, ``Microsoft.SemanticKernel.Connectors``),
    read in the labelled file's own ecosystem first when it has one."""
    cleaned = re.split(r"[\[<>=~^ @]", name.strip(), maxsplit=1)[0] if not name.startswith("@") else name
    own = SOURCE_ECOSYSTEMS.get(Path(path).suffix.lower())
    if own:
        registry, namespace, separator = own
        spelt = normalize_pypi(cleaned) if registry == "pypi" else cleaned.lower()
        package = lookup_package(registry, spelt) or lookup_prefixed(namespace, cleaned, separator)
        if package:
            return package.id
    package = _package_for(cleaned)
    for ecosystem, separator in IMPORT_NAMESPACES:
        package = package or lookup_prefixed(ecosystem, cleaned, separator)
    return package.id if package else cleaned.lower()


def model_keys(identifier: str) -> set[str]:
    """The identifier and its forms without route prefixes, by the engine's own provider grammar."""
    return {form.lower() for form in route_forms(identifier.strip()) if form}


def endpoint_key(value: str) -> str:
    text = value.strip().lower()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    return parts.netloc or value.lower()


def container_key(value: str) -> str:
    image = value.strip().lower().split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        image = image[: len(image) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        image = image.removeprefix(prefix)
    return image


def keys_for(category: str, name: str, identifier: str | None = None, path: str = "") -> set[str]:
    """The normalised names a (category, name) unit answers to; ``path`` is the labelled file of a label
    (reports name catalog ids already)."""
    value = identifier or name
    if category in PACKAGE_TYPES:
        package = norm_package(name, path)
        if package in GENERIC_AWS_SDKS:
            # the policy's "boto3 used for a Bedrock/SageMaker client": the package as written stands for
            # the AWS AI-service client the engine names by its catalog id (``aws-bedrock``)
            return set(AWS_AI_SERVICES.values())
        return {package}
    if category == "model":
        return model_keys(value) | model_keys(name)
    if category == "endpoint":
        return {endpoint_key(value), endpoint_key(name)}
    if category == "container":
        return {container_key(name)}
    if category == "model_file":
        return {name.lower(), name.lower().rsplit("/", 1)[-1]}
    return {name.strip().lower()}


def family(category: str) -> str:
    return FAMILIES.get(category, category)


def mcp_kind(category: str) -> str | None:
    """An MCP server, client and tool of one name in one file are three components (an rmcp test serves
    the crate's server, named ``rmcp``, and connects the ``rmcp`` client): their units stay apart."""
    return category if family(category) == "mcp" else None


@dataclass
class Unit:
    file: str
    category: str
    name: str
    keys: set[str]
    provider: str | None
    lines: set[int] = field(default_factory=set)


def language_of(path: str) -> str:
    lowered = path.lower()
    name = lowered.rsplit("/", 1)[-1]
    if name in MANIFESTS or name.endswith(".csproj"):
        return "manifest"
    if lowered.endswith((".tf", ".tfvars", ".bicep")) or "cloudformation" in lowered:
        return "IaC"
    if ".github/workflows/" in lowered:
        return "GitHub Actions"
    for suffix, language in LANGUAGES.items():
        if lowered.endswith(suffix):
            return language
    return "config/other"


def excluded(path: str, extra: list[str]) -> bool:
    wrapped = "/" + path
    if any("/" + part in wrapped for part in STANDARD_EXCLUDES):
        return True
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(name, pattern) for pattern in GENERATED) or any(
        fnmatch.fnmatch(path, pattern) for pattern in extra
    )


# JVM build files, where a labeller may name a dependency by its artifact alone (``<artifactId>`` of a pom)
JVM_BUILD_FILES = ("pom.xml", ".gradle", ".gradle.kts", "libs.versions.toml")
POM_GROUP = re.compile(r"<groupId>\s*([\w.-]+)\s*</groupId>")


def maven_coordinate(tree: Path | None, label: dict) -> str:
    """A JVM build file's label named by its artifact alone, as ``group:artifact`` with the group its
    file gives that artifact (in the pom's dependency block around the label's line, or the Gradle
    ``group:artifact`` string); the name as written elsewhere or when the file does not say."""
    name, file = label["name"], label["file"]
    if tree is None or ":" in name or not file.endswith(JVM_BUILD_FILES):
        return name
    try:
        lines = (tree / file).read_text(errors="replace").split("\n")
    except OSError:
        return name
    line = max(label["line"], 1)
    if file.endswith("pom.xml"):
        block = "\n".join(lines[max(line - 4, 0) : line + 3])
        group = POM_GROUP.search(block)
        return f"{group.group(1)}:{name}" if group and f">{name}<" in block else name
    gradle = re.search(rf"([\w.-]+):{re.escape(name)}\b", "\n".join(lines[line - 1 : line + 1]))
    return f"{gradle.group(1)}:{name}" if gradle else name


def label_units(repo: dict, tree: Path | None = None) -> list[Unit]:
    """Labels deduplicated per (file, family, normalised name): three langchain-* imports of one catalog
    package in one file are one component. ``tree``, when given, completes bare Maven artifact names."""
    units: dict[tuple, Unit] = {}
    for label in repo["labels"]:
        category = label["category"]
        name = maven_coordinate(tree, label) if category in PACKAGE_TYPES else label["name"]
        keys = keys_for(category, name, label.get("identifier"), label["file"])
        if category == "api_key":
            keys = {norm_package(label["name"])}
        key = (label["file"], family(category), min(keys), mcp_kind(category))
        unit = units.setdefault(
            key, Unit(label["file"], category, label["name"], keys, norm_provider(label.get("provider")))
        )
        unit.lines.add(label["line"])
    return list(units.values())


def report_units(reports: list[tuple[str, str, str, str | None, set[int], list[str]]]) -> list[Unit]:
    units: dict[tuple, Unit] = {}
    for file, category, name, provider, lines, flags in reports:
        entries = [(category, {norm_package(name)} if category == "api_key" else keys_for(category, name))]
        if "hardcoded_api_key" in flags:
            entries.append(("api_key", {norm_package(name)}))
        for kind, keys in entries:
            unit = units.setdefault(
                (file, family(kind), min(keys), mcp_kind(kind)),
                Unit(file, kind, name, keys, norm_provider(provider)),
            )
            unit.lines |= lines
    return list(units.values())


def strict_match(label: Unit, report: Unit) -> bool:
    if family(label.category) != family(report.category):
        return False
    if label.category in {"mcp_server", "mcp_client", "tool"} and label.category != report.category:
        return False
    return bool(label.keys & report.keys)


def lenient_match(label: Unit, report: Unit) -> bool:
    if strict_match(label, report) or label.keys & report.keys:
        return True
    return (
        family(label.category) == family(report.category)
        and label.provider is not None
        and label.provider == report.provider
    )


@dataclass
class Tally:
    reported: int = 0
    true_positives: int = 0
    expected: int = 0
    found: int = 0

    def add(self, other: Tally) -> None:
        self.reported += other.reported
        self.true_positives += other.true_positives
        self.expected += other.expected
        self.found += other.found

    @property
    def precision(self) -> float:
        return self.true_positives / self.reported if self.reported else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def match_file(labels: list[Unit], reports: list[Unit], strict: bool) -> tuple[set[int], dict[int, int]]:
    """One-to-one matching inside one file: exact matches first, then (lenient mode) provider matches."""
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    passes = [strict_match] if strict else [strict_match, lenient_match]
    for predicate in passes:
        for li, label in enumerate(labels):
            if li in pairs:
                continue
            for ri, report in enumerate(reports):
                if ri not in taken and predicate(label, report):
                    pairs[li] = ri
                    taken.add(ri)
                    break
    return taken, pairs


def score_repo(labels: list[Unit], reports: list[Unit], strict: bool) -> dict:
    """Tallies by total, category and language, plus the misses and false positives."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    missed, false_positives = [], []
    miss_kinds: dict[str, int] = defaultdict(int)
    files = {u.file for u in labels} | {u.file for u in reports}
    for file in sorted(files):
        file_labels = [u for u in labels if u.file == file]
        file_reports = [u for u in reports if u.file == file]
        taken, pairs = match_file(file_labels, file_reports, strict)
        language = language_of(file)
        for li, label in enumerate(file_labels):
            hit = li in pairs
            for bucket in ("total", f"category:{label.category}", f"language:{language}"):
                tallies[bucket].expected += 1
                tallies[bucket].found += hit
            if not hit:
                missed.append(f"{file}:{min(label.lines)} {label.category} {label.name}")
                miss_kinds[f"{label.category}|{miss_kind(label, file_reports)}"] += 1
        for ri, report in enumerate(file_reports):
            hit = ri in taken
            category = report.category
            if hit:
                category = file_labels[next(li for li, r in pairs.items() if r == ri)].category
            for bucket in ("total", f"category:{category}", f"language:{language}"):
                tallies[bucket].reported += 1
                tallies[bucket].true_positives += hit
            if not hit:
                false_positives.append(
                    f"{file}:{min(report.lines) if report.lines else 0} {report.category} {report.name}"
                )
    return {
        "tallies": tallies,
        "missed": missed,
        "false_positives": false_positives,
        "miss_kinds": miss_kinds,
    }


MISS_KINDS = ("file not reported", "other name, same kind", "other kinds only")


def miss_kind(label: Unit, file_reports: list[Unit]) -> str:
    """Where a missed label sits: in a file the engine reported nothing for (a blind spot: a language,
    file type or form never read), beside a report of its own kind under another name (naming or
    identifier grammar), or beside reports of other kinds only (the file was read, the form was not)."""
    if not file_reports:
        return MISS_KINDS[0]
    same_kind = (r for r in file_reports if family(r.category) == family(label.category))
    if any(mcp_kind(r.category) == mcp_kind(label.category) for r in same_kind):
        return MISS_KINDS[1]
    return MISS_KINDS[2]


ENGINE_SOURCE: Path | None = None  # --engine-src: score another checkout of the engine (e.g. the "before")


def trusera_command(*args: str) -> list[str]:
    if ENGINE_SOURCE is None:
        return [sys.executable, "-m", "common.cli", *args]
    # the scan's workers are fresh interpreters (``python -c``) whose first import path is the working
    # directory: run from a checkout, they scanned with the checkout's engine, not the one named here
    source = str(ENGINE_SOURCE)
    runner = (
        f"import os, sys, runpy; os.chdir({source!r}); sys.path.insert(0, {source!r}); "
        "sys.argv[0] = 'trusera'; runpy.run_module('common.cli', run_name='__main__')"
    )
    return [sys.executable, "-c", runner, *args]


def run_trusera(tree: Path, scratch: Path, repo: dict) -> tuple[list, float]:
    output = scratch / "trusera.json"
    command = trusera_command("scan", str(tree), "--format", "json", "-o", str(output), "--quiet")
    timing = measure(command)
    data = json.loads(output.read_text())
    return trusera_reports(data, repo), timing["seconds"]


def trusera_reports(data: dict, repo: dict) -> list[tuple[str, str, str, str | None, set[int], list[str]]]:
    """One report per (component, file) of a trusera JSON result, outside the repository's exclusions."""
    reports = []
    for component in data["components"]:
        by_file: dict[str, set[int]] = defaultdict(set)
        for location in component["locations"]:
            by_file[location["file"]].add(location["line"])
        credentials = credential_lines(component)
        for file, lines in by_file.items():
            if excluded(file, repo.get("excluded", [])):
                continue
            category, flags = component["type"], component["flags"]
            if credentials is not None and "hardcoded_api_key" in flags:
                # the key is a unit of the files that hold it; a file where it is all the component
                # shows (a .env line) declares no package
                if not credentials.get(file):
                    flags = [flag for flag in flags if flag != "hardcoded_api_key"]
                elif lines <= credentials[file]:
                    category, flags = "api_key", []
            reports.append((file, category, component["name"], component.get("provider"), lines, flags))
    return reports


def credential_lines(component: dict) -> dict[str, set[int]] | None:
    """{file: lines} of the component's hard-coded keys, or None from an engine that does not say."""
    located = component.get("metadata", {}).get("credential_locations")
    if located is None:
        return None
    lines: dict[str, set[int]] = defaultdict(set)
    for location in located:
        lines[location["file"]].add(location["line"])
    return lines


def run_aibom(binary: Path, tree: Path, scratch: Path, repo: dict, labels: list[Unit]) -> tuple[list, float]:
    output = scratch / "aibom.csv"
    timing = measure([str(binary), "scan", str(tree), "-f", "csv", "-o", str(output), "-q"])
    with output.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = {"components": [{"type": u.category, "name": u.name} for u in labels]}
    manifests = {
        path.relative_to(tree).as_posix(): path.read_text(encoding="utf-8", errors="replace").lower()
        for path in tree.rglob("*")
        if path.is_file()
        and (path.name.lower() in MANIFESTS or re.fullmatch(r"requirements.*\.txt", path.name))
        and ".git" not in path.parts
    }
    reports = []
    for row in rows:
        kind, name, flags = map_aibom_row(row, expected)
        path = row.get("file_path") or ""
        line = int(row["line_number"]) if (row.get("line_number") or "").isdigit() else 0
        if path.startswith("/"):
            files = [Path(path).resolve().relative_to(tree.resolve()).as_posix()]
        else:  # "dependency files": credit every manifest of the tree that names the package
            files = [m for m, text in manifests.items() if row["name"].lower() in text]
        for file in files:
            if not excluded(file, repo.get("excluded", [])):
                reports.append((file, kind, name, row.get("provider"), {line}, flags))
    return reports, timing["seconds"]


def load_repos(directories: list[Path]) -> list[dict]:
    repos: dict[str, dict] = {}
    for directory in directories:
        for path in sorted(directory.glob("*.json")):
            repo = json.loads(path.read_text(encoding="utf-8"))
            repos.setdefault(repo["id"], repo)
    return [repos[key] for key in sorted(repos)]


def evaluate(repos: list[dict], trees: Path, binary: Path | None) -> dict:
    tools = ["trusera"] + (["ai-bom"] if binary else [])
    results: dict = {"repos": {}, "seconds": {tool: 0.0 for tool in tools}}
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for repo in repos:
            tree = trees / repo["id"]
            if not tree.is_dir():
                raise SystemExit(f"missing tree {tree}: run bench/realworld/rebuild.py first")
            labels = label_units(repo, tree)
            entry = {"half": repo["half"], "labelled_by": repo["labelled_by"], "labels": len(labels)}
            runs = {"trusera": run_trusera(tree, scratch, repo)}
            if binary:
                runs["ai-bom"] = run_aibom(binary, tree, scratch, repo, labels)
            for tool, (reports, seconds) in runs.items():
                results["seconds"][tool] += seconds
                units = report_units(reports)
                entry[tool] = {
                    mode: score_repo(labels, units, mode == "strict") for mode in ("strict", "lenient")
                }
            results["repos"][repo["id"]] = entry
    return results


def measure_speed(repos: list[dict], trees: Path, binary: Path) -> dict:
    """Both tools once over one directory holding every tree (without .git), so start-up costs count once."""
    combined = WORK / "realworld-all"
    shutil.rmtree(combined, ignore_errors=True)
    for repo in repos:
        shutil.copytree(
            trees / repo["id"], combined / repo["id"], ignore=shutil.ignore_patterns(".git"), symlinks=True
        )
    with tempfile.TemporaryDirectory() as scratch:
        ours = measure(
            trusera_command(
                "scan", str(combined), "--format", "json", "-o", str(Path(scratch) / "o.json"), "--quiet"
            )
        )
        theirs = measure(
            [str(binary), "scan", str(combined), "-f", "csv", "-o", str(Path(scratch) / "a.csv"), "-q"]
        )
    return {"trusera": ours["seconds"], "ai-bom": theirs["seconds"]}


def aggregate(
    results: dict, tool: str, mode: str, half: str | None, labelled_by: tuple[str, ...] = ()
) -> dict[str, Tally]:
    totals: dict[str, Tally] = defaultdict(Tally)
    for entry in results["repos"].values():
        if (half and entry["half"] != half) or (labelled_by and entry["labelled_by"] not in labelled_by):
            continue
        for bucket, tally in entry[tool][mode]["tallies"].items():
            totals[bucket].add(tally)
    return totals


def fmt(tally: Tally) -> str:
    return f"{tally.precision:.2f} / {tally.recall:.2f} / {tally.f1:.2f}"


def miss_kind_table(results: dict) -> list[str]:
    """Counts of trusera's strict misses by category and by where they sit (``miss_kind``): aggregates
    only, so the holdout's shape of misses is known without any of its files being read."""
    counts: dict[str, dict[str, int]] = {"tune": defaultdict(int), "holdout": defaultdict(int)}
    for entry in results["repos"].values():
        for key, count in entry["trusera"]["strict"]["miss_kinds"].items():
            counts[entry["half"]][key] += count
    categories = sorted({key.split("|")[0] for half in counts.values() for key in half})
    halves = ("tune", "holdout")
    lines = ["", "Trusera's strict misses, counted by where they sit:", ""]
    lines += [
        "| category | " + " | ".join(f"{kind} ({half})" for kind in MISS_KINDS for half in halves) + " |"
    ]
    lines += ["|---|" + "---:|" * (len(MISS_KINDS) * len(halves))]
    for category in [*categories, "all"]:
        cells = [
            str(
                sum(
                    count
                    for key, count in counts[half].items()
                    if key.endswith("|" + kind) and category in ("all", key.split("|")[0])
                )
            )
            for kind in MISS_KINDS
            for half in halves
        ]
        lines.append(f"| {category} | " + " | ".join(cells) + " |")
    return lines


def markdown(results: dict, tools: list[str], repos: list[dict]) -> str:
    halves = {
        "tune": [r for r in repos if r["half"] == "tune"],
        "holdout": [r for r in repos if r["half"] == "holdout"],
    }
    lines = [
        START,
        "## Real-world corpus (hand-labelled public repositories)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} by `bench/realworld/score.py` on {len(repos)} repositories "
        f"({len(halves['tune'])} tune, {len(halves['holdout'])} holdout; "
        f"{sum(r['files_reviewed'] for r in repos)} files reviewed, "
        f"{sum(len(r['labels']) for r in repos)} labels, "
        f"{sum(len(r['negatives']) for r in repos)} negatives; ai-bom {AIBOM_VERSION}). "
        f"Policy, sampling rule and scoring: `bench/realworld/README.md`. Cells are precision / recall / F1 "
        f"over (file, component) units.",
        "",
        "| half | mode | " + " | ".join(tools) + " |",
        "|---|---|" + "---:|" * len(tools),
    ]
    for half, labellers, label in (
        ("tune", (), "tune"),
        ("holdout", (), "holdout"),
        ("holdout", NEVER_TUNED, "holdout, labelled by B, C, D, E, H or I only (never seen while tuning)"),
        (None, (), "all"),
    ):
        for mode in ("strict", "lenient"):
            cells = [fmt(aggregate(results, tool, mode, half, labellers)["total"]) for tool in tools]
            lines.append(f"| {label} | {mode} | " + " | ".join(cells) + " |")
    model = {
        h: aggregate(results, "trusera", "strict", h).get("category:model", Tally())
        for h in ("tune", "holdout")
    }
    lines += [
        "",
        "Model-identifier recall (strict, trusera): "
        + ", ".join(f"{h} {t.recall:.2f} (n={t.expected})" for h, t in model.items())
        + ".",
    ]
    for dimension in ("category", "language"):
        buckets = sorted(
            {
                b
                for entry in results["repos"].values()
                for b in entry["trusera"]["strict"]["tallies"]
                if b.startswith(dimension + ":")
            }
        )
        lines += ["", f"Strict, per {dimension} (tune | holdout):", ""]
        lines += ["| " + dimension + " | " + " | ".join(f"{t} tune | {t} holdout" for t in tools) + " |"]
        lines += ["|---|" + "---:|" * (2 * len(tools))]
        for bucket in buckets:
            cells = []
            for tool in tools:
                for half in ("tune", "holdout"):
                    tally = aggregate(results, tool, "strict", half).get(bucket, Tally())
                    cells.append(
                        fmt(tally) + f" (n={tally.expected})" if tally.expected or tally.reported else "-"
                    )
            lines.append(f"| {bucket.split(':', 1)[1]} | " + " | ".join(cells) + " |")
    lines += miss_kind_table(results)
    seconds = results["seconds"]
    lines += [
        "",
        "Scan time, one CLI run per tree (start-up included each time): "
        + ", ".join(f"{tool} {seconds[tool]:.1f} s" for tool in tools)
        + (f" ({seconds['ai-bom'] / seconds['trusera']:.1f}x)." if "ai-bom" in seconds else "."),
    ]
    if "combined" in results:
        combined = results["combined"]
        lines += [
            f"One run over all trees together: trusera {combined['trusera']:.1f} s, ai-bom "
            f"{combined['ai-bom']:.1f} s ({combined['ai-bom'] / combined['trusera']:.1f}x)."
        ]
    lines.append(END)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repos", type=Path, action="append", help="directory of repository files (repeatable)"
    )
    parser.add_argument(
        "--trees", type=Path, default=DEFAULT_TREES, help="rebuilt trees (default /work/corpus-trees)"
    )
    parser.add_argument("--half", choices=("tune", "holdout"), help="score only one half")
    parser.add_argument(
        "--reveal-holdout", action="store_true", help="print per-repo holdout rows and misses"
    )
    parser.add_argument("--skip-aibom", action="store_true", help="score the trusera engine only")
    parser.add_argument("--update-readme", action="store_true", help="write the table into bench/README.md")
    parser.add_argument(
        "--engine-src", type=Path, help="a directory holding another version of common/ to score"
    )
    args = parser.parse_args()
    global ENGINE_SOURCE
    ENGINE_SOURCE = args.engine_src.resolve() if args.engine_src else None
    repos = load_repos(args.repos or [DEFAULT_REPOS])
    if args.half:
        repos = [r for r in repos if r["half"] == args.half]
    WORK.mkdir(parents=True, exist_ok=True)
    binary = None if args.skip_aibom else ensure_aibom()
    compile_engine(ENGINE_SOURCE or ROOT)
    args.trees = args.trees.resolve()  # the scan may run from another directory (``--engine-src``)
    results = evaluate(repos, args.trees, binary)
    if binary:
        results["combined"] = measure_speed(repos, args.trees, binary)
    tools = ["trusera"] + ([] if args.skip_aibom else ["ai-bom"])
    for repo_id, entry in results["repos"].items():
        if entry["half"] == "holdout" and not args.reveal_holdout:
            continue
        for tool in tools:
            strict = entry[tool]["strict"]
            print(f"{repo_id} [{entry['half']}] {tool} strict {fmt(strict['tallies']['total'])}")
            if tool == "trusera":
                for line in strict["missed"]:
                    print("   missed", line)
                for line in strict["false_positives"]:
                    print("   false+", line)
    section = markdown(results, tools, repos)
    print(section)
    serialisable = {
        repo_id: {
            tool: {
                mode: {b: vars(t) for b, t in entry[tool][mode]["tallies"].items()}
                for mode in ("strict", "lenient")
            }
            for tool in tools
        }
        | {"half": entry["half"]}
        for repo_id, entry in results["repos"].items()
    }
    (WORK / "realworld-results.json").write_text(
        json.dumps({"repos": serialisable, "seconds": results["seconds"]}, indent=1)
    )
    if args.update_readme:
        update_readme_section(section)
    return 0


def update_readme_section(section: str) -> None:
    """bench_scanner.update_readme writes its own markers; this one replaces the real-world section."""
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text(encoding="utf-8")
    if START in text and END in text:
        text = text[: text.index(START)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())

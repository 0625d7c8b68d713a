"""``scan_path``: walk once, detect in parallel, merge, resolve, flag, score.

Findings from every detector and every line merge by key into one
``Component``; its id is a fingerprint of the key (sha256, first 32 hex digits
laid out as a UUID) so the same component gets the same id in every scan of
the same tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from functools import partial
from itertools import chain
from pathlib import Path

from common.scanner import deep as deep_resolution
from common.scanner import model_constants
from common.scanner.catalog import (
    MASTRA_SHARED_STORES,
    PACKAGE_TYPES,
    USE_GATED_PACKAGES,
    is_pinned,
    lifecycle_flags,
    looks_like_hf_id,
    match_model,
    registry_names,
)
from common.scanner.detectors.base import FileReport, Finding
from common.scanner.display import utf8_clean
from common.scanner.facts import FileFacts
from common.scanner.model import Component, Location, Relationship, ScanResult, ScanWarning
from common.scanner.redaction import mask_value
from common.scanner.risk import score_component
from common.scanner.test_data import is_test_data, stubbed_test
from common.scanner.textutil import one_scan
from common.scanner.walker import WalkEntry, iter_walk
from common.scanner.worker import (
    DEFAULT_FILE_BUDGET_SECONDS,
    DEFAULT_SCAN_BUDGET_SECONDS,
    DEFAULT_SCAN_MEMORY_BYTES,
    ScanBudget,
    budget_enforceable,
    memory_cap,
    scan_chunk,
)

Progress = Callable[[str, int, int], None]


class TargetMoved(ValueError):
    """A folder on the confined target's way was replaced (by a link elsewhere) after it was confined."""


DECLARING_DETECTORS = frozenset({"manifest", "lockfile"})
CODE_DETECTORS = frozenset(
    {"python", "notebook", "javascript", "go", "java", "ruby", "csharp", "rust", "swift"}
)
VERSION_PRIORITY = {"lockfile": 3, "manifest": 2}
MAX_LOCATIONS = 100
MAX_LOCATION_FILES = 1000
CHUNK_TARGET_BYTES = 2 * 1024 * 1024
CHUNK_MAX_FILES = 200
# a worker process costs an interpreter start and the detectors' imports (~0.3 s of CPU each), more
# than a thousand typical files take to scan (bench/README.md, "Detection engine")
IN_PROCESS_BELOW_FILES = 1000
# the isolated workers are forks of a zygote spoken to over Linux's AF_UNIX SOCK_SEQPACKET; elsewhere
# (the CLI on macOS) a scan that can enforce its per-file budget stays in-process whatever its size
ISOLATION_AVAILABLE = sys.platform.startswith("linux")
MAX_VERSION_CHARS = 200
MAX_PROVIDER_CHARS = 100
MAX_MODEL_NAME_CHARS = 300
# where a warning about the scan as a whole is filed, as "(repository)" is for a clone's
SCAN_WARNING_FILE = "(scan)"


def fingerprint(key: str) -> str:
    # keys carry file names (undecodable bytes as surrogate escapes) and JSON keys (lone surrogates)
    digest = hashlib.sha256(key.lower().encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def _chunks(entries: Iterable[WalkEntry]) -> Iterator[list[tuple[str, int, str]]]:
    current: list[tuple[str, int, str]] = []
    current_bytes = 0
    for entry in entries:
        current.append((entry.relpath, entry.size, entry.scope))
        current_bytes += min(entry.size, CHUNK_TARGET_BYTES)
        if current_bytes >= CHUNK_TARGET_BYTES or len(current) >= CHUNK_MAX_FILES:
            yield current
            current, current_bytes = [], 0
    if current:
        yield current


def _walked(
    walking: Iterator[WalkEntry], entries: list[WalkEntry], progress: Progress | None
) -> Iterator[WalkEntry]:
    """The walk's entries, each appended to ``entries`` as it is found (so the whole walk is there
    once this is exhausted), with the walk's progress."""
    for entry in walking:
        entries.append(entry)
        if progress and len(entries) % 500 == 0:
            progress("walking", len(entries), 0)
        yield entry


def _detect(
    base: Path,
    walked: Iterator[WalkEntry],
    entries: list[WalkEntry],
    jobs: int,
    max_file_bytes: int,
    budget_seconds: float,
    progress: Progress | None,
    scan_budget: ScanBudget | None = None,
    memory_bytes: int | None = DEFAULT_SCAN_MEMORY_BYTES,
) -> tuple[list[tuple[str, FileReport]], int]:
    """Detection over the entries ``walked`` appends to ``entries``. A tree that turns out large enough
    for the isolated workers starts them as soon as it does, and the rest of the walk feeds them
    while they work (the walk of a large tree is a few tenths of a second the workers need not wait).
    In-process, the scanning process may grow by ``memory_bytes`` (``memory_cap``) as an isolated worker
    may not pass its own limit: a small tree is no less hostile than a large one."""
    in_process = budget_enforceable()
    threshold = None if jobs == 1 or not ISOLATION_AVAILABLE else IN_PROCESS_BELOW_FILES
    if in_process:
        for _ in walked:
            if threshold is not None and len(entries) >= threshold:
                in_process = False
                break
    done = 0
    walk_finished = in_process

    def advance(files: int) -> None:
        nonlocal done
        done += files
        if progress and walk_finished:
            progress("detecting", done, len(entries))

    def chunk_source() -> Iterator[list[tuple[str, int, str]]]:
        nonlocal walk_finished
        yield from _chunks(chain(list(entries), walked))
        walk_finished = True
        if progress:
            progress("detecting", done, len(entries))

    if in_process:
        # in-process only where the per-file CPU budget can be enforced (a main thread) and the tree
        # is small; everything else goes to isolated workers, whose watchdog also stops what a
        # signal cannot
        reports: list[tuple[str, FileReport]] = []
        bytes_read = 0
        if progress:
            progress("detecting", 0, len(entries))
        real_root = str(base)
        with one_scan(), memory_cap(memory_bytes):
            for chunk in _chunks(entries):
                for entry in chunk:  # one at a time: the scan's budget is looked at before each file
                    if scan_budget is not None and scan_budget.over():
                        scan_budget.not_scanned += 1
                        continue
                    file_reports, file_bytes = scan_chunk(
                        str(base), [entry], max_file_bytes, budget_seconds, real_root
                    )
                    reports.extend(
                        (relpath, report if scan_budget is None else scan_budget.admit(report))
                        for relpath, report in file_reports
                    )
                    bytes_read += file_bytes
                advance(len(chunk))
        reports.sort(key=lambda item: item[0])  # the order isolated workers report in
        return reports, bytes_read

    from common.scanner.isolation import detect_isolated  # processes and pipes: only scans that use them

    return detect_isolated(
        str(base),
        chunk_source(),
        jobs,
        max_file_bytes,
        budget_seconds,
        advance,
        scan_budget=scan_budget,
        real_root=str(base),
    )


def _merge_metadata(target: dict, extra: dict, seen_items: dict[str, set[str]] | None = None) -> None:
    """Merge ``extra`` into ``target``: a list value gains the items it does not hold yet. ``seen_items``
    keeps each merged list's item markers between calls on one ``target`` (only this function appends
    to its lists), so a component of many findings does not re-encode its lists for every finding."""
    seen_items = {} if seen_items is None else seen_items
    for key, value in extra.items():
        if key not in target:
            target[key] = list(value) if isinstance(value, list) else value
        elif isinstance(value, list) and isinstance(target[key], list):
            seen = seen_items.get(key)
            if seen is None:
                seen = seen_items[key] = {
                    json.dumps(item, sort_keys=True, default=str) for item in target[key]
                }
            for item in value:
                marker = json.dumps(item, sort_keys=True, default=str)
                if marker not in seen:
                    seen.add(marker)
                    target[key].append(item)


def _fits(value: str | None, limit: int) -> bool:
    """A file can declare a version or model name of any length; one longer than any real one
    is dropped (unknown), not stored, so it cannot fail the platform's ingest."""
    return bool(value) and len(value) <= limit


def _is_exact(version: str | None) -> bool:
    return (bool(version) and version[0].isdigit()) or (version or "").startswith("v")


def _capped_locations(ordered: list[Location]) -> list[Location]:
    """Every file where the component appears keeps its first location (the inventory is per file);
    only the extra lines inside files are dropped to stay under MAX_LOCATIONS, unless the files
    alone exceed MAX_LOCATION_FILES."""
    first_per_file: dict[str, Location] = {}
    for location in ordered:
        first_per_file.setdefault(location.file, location)
    kept = list(first_per_file.values())[:MAX_LOCATION_FILES]
    room = MAX_LOCATIONS - len(kept)
    if room > 0:
        chosen = {id(loc) for loc in kept}
        kept += [loc for loc in ordered if id(loc) not in chosen][:room]
    return sorted(kept, key=lambda loc: (loc.file, loc.line, loc.snippet))


def merge_findings(findings: Iterable[Finding], scopes: dict[str, str]) -> tuple[list[Component], dict]:
    """Group findings by key into components; returns components and {key: [findings]}."""
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        grouped[finding.key.lower()].append(finding)
    components = []
    for key in sorted(grouped):
        group = grouped[key]
        first = group[0]
        component = Component(id=fingerprint(key), name=first.name, type=first.type)
        versioned = [f for f in group if _fits(f.version, MAX_VERSION_CHARS)]
        if versioned:
            best = max(versioned, key=lambda f: (VERSION_PRIORITY.get(f.detector, 1), _is_exact(f.version)))
            component.version = best.version
        component.provider = next((f.provider for f in group if _fits(f.provider, MAX_PROVIDER_CHARS)), None)
        component.model_name = next(
            (f.model_name for f in group if _fits(f.model_name, MAX_MODEL_NAME_CHARS)), None
        )
        component.confidence = max(f.confidence for f in group)
        component.detector = ",".join(sorted({f.detector for f in group}))
        flags: set[str] = set()
        locations = {}
        metadata: dict = {}
        seen_items: dict[str, set[str]] = {}
        for finding in group:
            flags |= finding.flags
            location = finding.location
            locations.setdefault((location.file, location.line, location.snippet), location)
            _merge_metadata(metadata, mask_value("", finding.metadata), seen_items)
        ordered = [locations[k] for k in sorted(locations)]
        if len(ordered) > MAX_LOCATIONS:
            metadata["location_count"] = len(ordered)
            ordered = _capped_locations(ordered)
        credentials = sorted(
            {(f.location.file, f.location.line) for f in group if "hardcoded_api_key" in f.flags}
        )
        if credentials:  # which of the locations hold the key, not only that one does
            metadata["credential_locations"] = [{"file": file, "line": line} for file, line in credentials]
        component.locations = ordered
        component.flags = sorted(flags)
        component.metadata = metadata
        test_only = all(scopes.get(f.location.file, "production") == "test" for f in group)
        component.scope = "test" if test_only else "production"
        components.append(component)
    return components, grouped


CODE_ECOSYSTEMS = {
    "python": "python",
    "notebook": "python",
    "javascript": "npm",
    "go": "go",
    "java": "jvm",
    "ruby": "ruby",
    "csharp": "dotnet",
    "rust": "rust",
    "swift": "swift",
}
MANIFEST_ECOSYSTEMS = (
    (
        "python",
        (
            "requirements",
            "pyproject.toml",
            "pixi.toml",
            "setup.py",
            "setup.cfg",
            "pipfile",
            "poetry.lock",
            "uv.lock",
            "environment",
            "conda",
            "constraints",
        ),
    ),
    (
        "npm",
        (
            "package.json",
            "package-lock.json",
            "yarn.lock",
            "pnpm-lock.yaml",
            "pnpm-workspace.yaml",
            "deno.json",
            "bun.lock",
        ),
    ),
    ("go", ("go.mod", "go.sum")),
    ("jvm", ("pom.xml", "build.gradle", "build.gradle.kts", "libs.versions.toml", "build.sbt")),
    ("ruby", ("gemfile", "gemfile.lock", ".gemspec")),
    ("dotnet", (".csproj", "packages.config", "directory.packages.props", ".fsproj", ".vbproj")),
    ("rust", ("cargo.toml", "cargo.lock")),
    ("php", ("composer.json", "composer.lock")),
    ("swift", ("package.swift", "package.resolved", "podfile", "podfile.lock", ".pbxproj")),
)


def _manifest_ecosystem(path: str) -> str | None:
    name = path.rsplit("/", 1)[-1].lower()
    for ecosystem, markers in MANIFEST_ECOSYSTEMS:
        if any(name.startswith(m) or name.endswith(m) for m in markers):
            return ecosystem
    return None


def _declared_ids(grouped: dict) -> dict[str, set[str]]:
    """Ecosystem -> ids of the packages its manifests declare."""
    declared: dict[str, set[str]] = defaultdict(set)
    for group in grouped.values():
        for finding in group:
            if finding.detector in DECLARING_DETECTORS and finding.type in PACKAGE_TYPES:
                ecosystem = _manifest_ecosystem(finding.location.file)
                if ecosystem:
                    declared[ecosystem].add(finding.name)
    return declared


# the registries a Swift dependency is declared through (Package.swift and Xcode projects, CocoaPods)
SWIFT_REGISTRIES = ("swiftpm", "cocoapods")
REGISTRY_OF_ECOSYSTEM = {
    "python": "pypi",
    "npm": "npm",
    "go": "go",
    "jvm": "maven",
    "ruby": "gem",
    "dotnet": "nuget",
    "rust": "cargo",
}


def _declares(declared: str, used: str, ecosystem: str) -> bool:
    """Whether declaring ``declared`` declares ``used`` too: a framework its registry lists by a
    wildcard (Maven's ``org.springframework.ai:*``) stands for each of its integrations that the
    registry names no other way (``spring-ai-openai``, used through ``org.springframework.ai.openai``),
    and an integration of that framework declared by its own name (``spring-ai-pgvector-store``) depends
    on, so declares, the framework."""
    registry = REGISTRY_OF_ECOSYSTEM.get(ecosystem)
    if not registry:
        return False
    if used.startswith(f"{declared}-") and not registry_names(used, registry):
        return any(name.endswith(":*") for name in registry_names(declared, registry))
    if declared.startswith(f"{used}-"):
        groups = tuple(name[:-1] for name in registry_names(used, registry) if name.endswith(":*"))
        return bool(groups) and any(name.startswith(groups) for name in registry_names(declared, registry))
    return False


def _undeclared_ecosystems(group: list[Finding], declared_ids: dict[str, set[str]] | None = None) -> set[str]:
    """Ecosystems whose code uses the package while none of their manifests declares it: a Python
    import of ``anthropic`` is shadow AI even when package.json declares ``@anthropic-ai/sdk``. A package
    that is a vector store only by the classes the code imports (``@mastra/pg``) is no AI component in its
    manifest, so that manifest cannot show it undeclared."""
    if group and group[0].name in MASTRA_SHARED_STORES:
        return set()
    used = {CODE_ECOSYSTEMS[f.detector] for f in group if f.detector in CODE_ECOSYSTEMS}
    if "swift" in used and not any(registry_names(group[0].name, r) for r in SWIFT_REGISTRIES):
        used.discard("swift")  # a framework the OS ships (FoundationModels, Core ML): no manifest declares it
    if declared_ids and group:
        name = group[0].name
        used = {e for e in used if not any(_declares(i, name, e) for i in declared_ids.get(e, ()))}
    declared: set[str] = set()
    for finding in group:
        if finding.detector in DECLARING_DETECTORS:
            ecosystem = _manifest_ecosystem(finding.location.file)
            if ecosystem is None:  # a manifest we cannot place declares it for every ecosystem
                return set()
            declared.add(ecosystem)
    return used - declared


def _apply_cross_file_flags(components: list[Component], grouped: dict, today: date) -> None:
    by_id = {c.id: c for c in components}
    declared_ids = _declared_ids(grouped)
    for key, group in grouped.items():
        component = by_id[fingerprint(key)]
        flags = set(component.flags)
        if component.type in PACKAGE_TYPES and _undeclared_ecosystems(group, declared_ids):
            flags.add("shadow_ai")
        if component.type == "model":
            info = match_model(component.name)
            lifecycle = lifecycle_flags(info, today) if info else []
            flags.update(lifecycle)
            # one unpinned use is enough: the same model pinned elsewhere does not pin this call
            floating = (info or looks_like_hf_id(component.name)) and any(
                not is_pinned(component.name, f.metadata.get("revision")) for f in group
            )
            if floating and "retired_model" not in lifecycle:
                flags.add("unpinned_model")
            if info:
                if info.catalog_id:
                    component.metadata.setdefault(
                        "lifecycle",
                        {
                            "catalog_id": info.catalog_id,
                            "family": info.family,
                            "released": info.released,
                            "released_source": info.released_source,
                            "deprecated": info.deprecated,
                            "retired": info.retired,
                            "deprecated_source": info.deprecated_source,
                            "retired_source": info.retired_source,
                        },
                    )
                component.provider = component.provider or info.provider
        component.flags = sorted(flags)


def _relationships(components: list[Component], grouped: dict) -> list[Relationship]:
    """The graph's edges, sorted by source, target and relation. Collected as plain tuples (those fields,
    in that order), each distinct one built into a ``Relationship`` once: a frozen dataclass costs more to
    build and hash than a tuple, and most findings repeat an edge of their file."""
    ids = {key: fingerprint(key) for key in grouped}
    edges: set[tuple[str, str, str]] = set()
    for key, group in grouped.items():
        component_id = ids[key]
        for finding in group:
            relation = "declares" if finding.detector in DECLARING_DETECTORS else "contains"
            if finding.type == "endpoint" and finding.detector in CODE_DETECTORS:
                relation = "calls"
            edges.add((f"file:{finding.location.file}", component_id, relation))
            for relation_name, target in finding.relations:
                if target.startswith("file:"):
                    edges.add((component_id, target, relation_name))
                elif target.lower() in ids and target.lower() != key:
                    edges.add((component_id, ids[target.lower()], relation_name))
    return [Relationship(*edge) for edge in sorted(edges)]


def scan_path(
    root,
    *,
    deep: bool = False,
    jobs: int | None = None,
    progress: Progress | None = None,
    max_file_bytes: int = 5 * 1024 * 1024,
    finding_filter: Callable[[list[Finding]], list[Finding]] | None = None,
    file_budget_seconds: float = DEFAULT_FILE_BUDGET_SECONDS,
    scan_budget_seconds: float | None = DEFAULT_SCAN_BUDGET_SECONDS,
    resolves_to: str | None = None,
    scan_memory_bytes: int | None = DEFAULT_SCAN_MEMORY_BYTES,
) -> ScanResult:
    """Scan a directory (or a single file) and return every AI component found in it.

    Each file gets at most ``file_budget_seconds`` of CPU time; a file that needs more is stopped and
    reported as a warning, and the rest of the scan goes on. Files not started within
    ``scan_budget_seconds`` of wall-clock time from the scan's start (None: no limit) are not scanned,
    and one warning says how many; past ``MAX_FINDINGS_PER_FILE`` findings of a file and
    ``MAX_FINDINGS_PER_SCAN`` of the scan the rest are dropped, with a warning (``worker.ScanBudget``).
    A file that takes a scan in this process past ``scan_memory_bytes`` of growth (None: no cap), or an
    isolated worker past its own limit, is stopped with a warning (``worker.memory_cap``).
    ``finding_filter`` sees every finding before they merge into components (the CLI's inline
    suppressions), so a silenced finding leaves no flag or score behind.

    The target is resolved once, here, and every read is confined to that real path: resolving it
    again later would follow a folder on its way replaced by a link since. ``resolves_to`` is the real
    path a caller confined the target to (the platform's scan roots); a target that no longer resolves
    there is refused (``TargetMoved``) before anything is read.
    """
    started = time.monotonic()
    root_path = Path(root).expanduser().resolve()
    if resolves_to is not None and str(root_path) != resolves_to:
        raise TargetMoved("The target no longer resolves to the path it was confined to; not scanned.")
    if not root_path.exists():
        raise FileNotFoundError(f"scan target does not exist: {root}")
    jobs = max(1, jobs or os.cpu_count() or 1)
    warnings: list[ScanWarning] = []

    def warn(file: str, message: str) -> None:
        warnings.append(ScanWarning(file=file, message=message))

    if progress:
        progress("walking", 0, 0)
    entries: list[WalkEntry] = []
    walked = _walked(iter_walk(root_path, warn, real_root=str(root_path)), entries, progress)
    base = root_path.parent if root_path.is_file() else root_path
    scan_budget = ScanBudget.starting_at(started, scan_budget_seconds)
    reports, bytes_read = _detect(
        base,
        walked,
        entries,
        jobs,
        max_file_bytes,
        file_budget_seconds,
        progress,
        scan_budget,
        scan_memory_bytes,
    )
    for message in scan_budget.warnings(len(entries)):
        warn(SCAN_WARNING_FILE, message)

    findings: list[Finding] = []
    facts: dict[str, FileFacts] = {}
    for relpath, report in reports:
        findings.extend(report.findings)
        warnings.extend(ScanWarning(file=relpath, message=message) for message in report.warnings)
        if report.facts:
            facts[relpath] = report.facts

    if progress:
        progress("resolving", 0, len(facts))
    test_files = frozenset(entry.relpath for entry in entries if entry.scope == "test")
    findings.extend(
        model_constants.referenced_constants(
            base,
            [entry.relpath for entry in entries],
            facts,
            skip=partial(stubbed_test, test_files, str(base)),
            real_base=str(base),
        )
    )
    findings = model_constants.without_unsupported_catalog_literals(findings)
    if deep:
        findings.extend(deep_resolution.resolve(facts, findings))
    if progress:
        progress("resolving", len(facts), len(facts))
    if finding_filter is not None:
        findings = finding_filter(findings)
    scopes = {entry.relpath: entry.scope for entry in entries}
    return build_result(
        findings,
        scopes,
        warnings=sorted(warnings, key=lambda w: (w.file, w.message)),
        files_scanned=len(entries),
        bytes_scanned=bytes_read,
        started=started,
        progress=progress,
    )


def _declaration_only(finding: Finding) -> bool:
    return finding.detector in DECLARING_DETECTORS or "installed_by" in finding.metadata


def _without_unused_declarations(findings: list[Finding]) -> list[Finding]:
    """A use-gated library (``USE_GATED_PACKAGES``) that manifests or install lines declare while no
    code of the scan uses it is a dependency of a dependency or a leftover, not a component."""
    gated = {f.key.lower() for f in findings if f.key.lower() in USE_GATED_PACKAGES}
    if not gated:
        return findings
    used = {f.key.lower() for f in findings if f.key.lower() in gated and not _declaration_only(f)}
    return [f for f in findings if f.key.lower() not in gated - used or not _declaration_only(f)]


MCP_PROVIDER = "Model Context Protocol"


def _without_own_local_servers(findings: list[Finding]) -> list[Finding]:
    """A client in code reaching an MCP server at an address of this machine (``local_address``) reaches
    the project's own server when the project builds one (it defines MCP tools): that server is listed
    where it is built, so the address is dropped. A project that builds none reaches another program's
    server (an n8n instance's MCP trigger, a desktop app's), which is listed by its address."""
    local = [f for f in findings if f.type == "mcp_server" and f.metadata.get("local_address")]
    if not local or not any(f.type == "tool" and f.provider == MCP_PROVIDER for f in findings):
        return findings
    return [f for f in findings if not (f.type == "mcp_server" and f.metadata.get("local_address"))]


def build_result(
    findings: list[Finding],
    scopes: dict[str, str],
    *,
    warnings: list[ScanWarning],
    files_scanned: int,
    bytes_scanned: int,
    started: float,
    progress: Progress | None = None,
) -> ScanResult:
    """Merge findings into components, flag, relate and score them: the one assembly every
    source of findings (a file tree, a live n8n instance) goes through. A finding without a name
    (a detector that could not resolve one) is dropped with a warning instead of becoming a
    nameless component the platform would reject."""
    named = []
    for finding in _without_own_local_servers(_without_unused_declarations(findings)):
        if is_test_data(finding, scopes):
            continue
        if isinstance(finding.name, str) and finding.name.strip():
            named.append(finding)
        else:
            warnings = [
                *warnings,
                ScanWarning(
                    file=finding.location.file,
                    message=f"{finding.type} at line {finding.location.line} has no name; not reported",
                ),
            ]
    components, grouped = merge_findings(named, scopes)
    _apply_cross_file_flags(components, grouped, date.today())
    relationships = _relationships(components, grouped)
    if progress:
        progress("scoring", 0, len(components))
    for component in components:
        score_component(component)
    if progress:
        progress("scoring", len(components), len(components))
    return ScanResult(
        components=components,
        relationships=relationships,
        warnings=warnings,
        files_scanned=files_scanned,
        bytes_scanned=bytes_scanned,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def summarize(result_or_components) -> dict:
    """The scan summary the platform stores: counts by type and severity, highest score, files."""
    if isinstance(result_or_components, ScanResult):
        # the three fields counted, as ``to_dict`` renders them (not every component's whole dict)
        components = [
            {"type": utf8_clean(c.type), "severity": utf8_clean(c.severity), "risk_score": c.risk_score}
            for c in result_or_components.components
        ]
        files_scanned = result_or_components.files_scanned
    elif isinstance(result_or_components, dict):
        components = result_or_components.get("components", [])
        files_scanned = result_or_components.get("files_scanned", 0)
    else:
        components = [c.to_dict() if isinstance(c, Component) else c for c in result_or_components]
        files_scanned = 0
    return {
        "total_components": len(components),
        "by_type": dict(sorted(Counter(c["type"] for c in components).items())),
        "by_severity": dict(sorted(Counter(c["severity"] for c in components).items())),
        "highest_risk_score": max((c["risk_score"] for c in components), default=0),
        "files_scanned": files_scanned,
    }

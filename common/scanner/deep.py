"""Deep mode: cross-file resolution over the facts the detectors left behind.

Normal mode sees one file at a time. Deep mode joins them: a model argument
that names a constant imported from another module, an ``os.getenv("X")``
whose value sits in a ``.env``/config file (or whose default sits in the
module that reads it), a loaded config read by key path (``cfg["llm"]["model"]``
resolved against the YAML/JSON/TOML files that hold exactly one value there),
and agents wired to tools defined elsewhere. It only
adds findings, so deep mode is a superset of normal mode; every added model id
still passes the same acceptance rule as a literal would.
"""

from __future__ import annotations

from common.scanner.detectors.base import Finding, model_sighting
from common.scanner.facts import FileFacts, ModelReference
from common.scanner.keys import split_component_key
from common.scanner.model import Location
from common.scanner.textutil import model_finding


def _module_index(facts: dict[str, FileFacts]) -> dict[str, FileFacts]:
    """Module facts addressable by every dotted suffix (``src.app.config`` is also ``app.config``)."""
    index: dict[str, FileFacts] = {}
    for file_facts in facts.values():
        if not file_facts.module:
            continue
        parts = file_facts.module.split(".")
        for start in range(len(parts)):
            index.setdefault(".".join(parts[start:]), file_facts)
    return index


def _env_values(facts: dict[str, FileFacts]) -> dict[str, str]:
    values: dict[str, str] = {}
    for relpath in sorted(facts):
        for var, value in facts[relpath].env.items():
            if value:
                values.setdefault(var, value)
    return values


def _config_values(facts: dict[str, FileFacts]) -> dict[str, tuple[str, str]]:
    """Key path → (value, first file) across the project's config files; paths whose files
    disagree are left out, since the code could be reading either."""
    values: dict[str, tuple[str, str]] = {}
    conflicting: set[str] = set()
    for relpath in sorted(facts):
        for path, value in facts[relpath].config_values.items():
            if path in values and values[path][0] != value:
                conflicting.add(path)
            values.setdefault(path, (value, relpath))
    return {path: found for path, found in values.items() if path not in conflicting}


def _lookup_constant(
    modules: dict[str, FileFacts], env: dict[str, str], module: str, name: str
) -> str | None:
    target = modules.get(module)
    if target is None:
        return None
    if name in target.constants:
        return target.constants[name]
    env_ref = target.env_constants.get(name)
    if env_ref:
        var, default = env_ref
        return env.get(var) or default
    return None


def _referenced_value(
    ref: ModelReference,
    modules: dict[str, FileFacts],
    env: dict[str, str],
    config: dict[str, tuple[str, str]],
) -> tuple[str | None, str]:
    """The value ``ref`` points at (None when the project does not hold it) and where it came from."""
    if ref.kind == "env":
        return env.get(ref.var), f"env {ref.var}"
    if ref.kind == "config":
        value, source = config.get(ref.path) or (None, None)
        return value, f"config {source}: {ref.path}"
    return _lookup_constant(modules, env, ref.module, ref.name), f"{ref.module}.{ref.name}"


def _relation(source_key: str, location: Location, detector: str, relation: str, target: str) -> Finding:
    """A sighting of ``source_key``'s component that only adds the edge ``relation`` -> ``target``."""
    source_type, source_name = split_component_key(source_key)
    return Finding(
        key=source_key,
        name=source_name,
        type=source_type,
        location=location,
        detector=detector,
        relations=[(relation, target)],
    )


def resolve(facts: dict[str, FileFacts], findings: list[Finding]) -> list[Finding]:
    modules = _module_index(facts)
    env = _env_values(facts)
    config = _config_values(facts)
    tools_by_path: dict[str, str] = {}
    for file_facts in facts.values():
        for local, key in file_facts.tools.items():
            tools_by_path[f"{file_facts.module}.{local}"] = key
    added: list[Finding] = []
    for relpath, file_facts in sorted(facts.items()):
        detector = file_facts.detector
        for ref in file_facts.unresolved_models:
            value, origin = _referenced_value(ref, modules, env, config)
            model = model_finding(value, ref.line, strong=ref.strong, hf_context=ref.hf)
            if not model:
                continue
            location = Location(file=relpath, line=ref.line, snippet=ref.snippet)
            added.append(model_sighting(model, location, detector, resolved_from=origin))
            if ref.relation_from:
                added.append(_relation(ref.relation_from, location, detector, "uses_model", model[0]))
        for tool_ref in file_facts.agent_tool_refs:
            tool_key = tools_by_path.get(tool_ref.target) or next(
                (key for path, key in tools_by_path.items() if path.endswith("." + tool_ref.target)), None
            )
            if not tool_key:
                continue
            location = Location(file=relpath, line=tool_ref.line, snippet=tool_ref.snippet)
            added.append(_relation(tool_ref.agent_key, location, detector, "uses_tool", tool_key))
    return added

"""n8n workflows: exported workflow JSON files (this detector) and live instances (``n8n_client``).

Component model (families and mappings are in ``data/n8n.yaml``):

* the workflow itself -> ``workflow`` named by the workflow name; it ``has_node`` every component below;
* agents (AI Agent, Agent Tool, OpenAI Assistant) -> ``agent_framework`` named ``<workflow>/<node>`` (a
  node name is only unique inside its workflow); chains (one fixed call of their model) are no component
  of their own, the model and provider attached to them are;
* chat models, LLMs, embeddings and the classic ``n8n-nodes-base.openAi`` node -> the ``llm_provider``
  (catalog id, e.g. ``openai``) plus a ``model`` when the node names one (plain string or the
  ``{"__rl": true, "value": …}`` resource locator; expressions are not model ids);
* vector stores -> ``vector_db`` (catalog id, e.g. ``pinecone``);
* memories, output parsers, retrievers, document loaders and text splitters are not components (plumbing
  of the agent or chain they hang off, never a tool the model calls);
* tools -> ``tool`` named as the agent sees it: the name the node declares, else the node's name (the
  same tool in several workflows is one component with a location in each); the LangChain Code node and
  LangChain nodes of no known family only when an ``ai_tool`` connection hands them to an agent
  (otherwise they are steps); MCP client tools -> ``mcp_client`` (plus the remote ``mcp_server`` it
  connects to, named by host); MCP server triggers -> ``mcp_server``;
* triggers are not components: an unauthenticated webhook / form / public chat / MCP trigger flags the
  workflow ``webhook_no_auth``.

Edges follow ``connections`` in both directions: a sub-node attached by an ``ai_*`` connection is used
by the node at the other end (agent ``uses_model`` / ``uses_tool`` / ``uses_memory`` …). Agent flags:
``code_http_tools`` (a code or HTTP tool is attached), ``multi_agent_no_trust`` (an agent is attached to
another agent as a tool), ``agent_chain_no_validation`` (an agent's output reaches another agent through
pass-through nodes only, and the first agent has no output parser). ``dangerous_code`` (shell, eval …
in Code nodes, Execute Command/SSH nodes) and ``hardcoded_api_key`` (literal credentials in parameters,
masked) go on the node's component, or on the workflow when the node is not a component.
"""

from __future__ import annotations

import bisect
import fnmatch
import json
import re
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from urllib.parse import urlsplit

from common.scanner.catalog import load_yaml
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile, stripped_line
from common.scanner.detectors.mcp_config import load_data as mcp_data
from common.scanner.detectors.mcp_config import safe_url, secret_record, secret_rules
from common.scanner.keys import component_key
from common.scanner.limits import linear, parse_json
from common.scanner.model import Location
from common.scanner.redaction import clip

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "n8n.yaml"
MAX_BYTES = 20 * 1024 * 1024
MAX_PARAMETER_DEPTH = 32
# exports shipped as templates or examples to import (``workflow.json.template``)
EXPORT_TEMPLATE_SUFFIXES = (".json.template", ".json.example", ".json.sample", ".json.dist")
NAME_RE = linear(r'"name"\s*:\s*("(?:[^"\\]|\\.)*")')


@cache
def load_rules() -> dict:
    data = load_yaml(DATA_FILE)
    data["code_patterns"] = [linear(p) for p in data["dangerous_code_patterns"]]
    return data


def family_of(node_type: str) -> str | None:
    for entry in load_rules()["families"]:
        if any(fnmatch.fnmatchcase(node_type, pattern) for pattern in entry["types"]):
            return entry["family"]
    return None


def short_type(node_type: str) -> str:
    return node_type.rsplit(".", 1)[-1]


def provider_of(node_type: str) -> dict | None:
    short = short_type(node_type)
    for entry in load_rules()["providers"]:
        if any(fnmatch.fnmatchcase(short, pattern) for pattern in entry["match"]):
            return entry
    return None


def model_value(parameters: dict) -> str | None:
    """The model a node names, if it is a literal (not an ``={{ … }}`` expression)."""
    rules = load_rules()
    for key in rules["model_parameters"]:
        value = parameters.get(key)
        if isinstance(value, dict) and value.get("__rl"):
            value = value.get("value")
        if not isinstance(value, str):
            continue
        value = value.strip()
        if not value or value.startswith("=") or "{{" in value:
            continue
        for prefix in rules["model_prefixes"]:
            value = value.removeprefix(prefix)
        return value
    return None


def strings_in(value: object, path: str = "", depth: int = 0) -> Iterator[tuple[str, str, str]]:
    """(path, name, string) for every string in a parameter tree; ``{"name", "value"}`` pairs (HTTP
    headers, query parameters) report the pair's ``name`` as the name of the value."""
    if depth > MAX_PARAMETER_DEPTH:
        return
    if isinstance(value, dict):
        pair_name = value.get("name") if isinstance(value.get("name"), str) else None
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else str(key)
            if isinstance(child, str):
                yield child_path, (pair_name if key == "value" and pair_name else str(key)), child
            else:
                yield from strings_in(child, child_path, depth + 1)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            if isinstance(child, str):
                yield f"{path}[{index}]", path.rsplit(".", 1)[-1], child
            else:
                yield from strings_in(child, f"{path}[{index}]", depth + 1)


# ---------------------------------------------------------------------------------------------------
# Locating nodes in the exported text
# ---------------------------------------------------------------------------------------------------


class TextIndex:
    """Line numbers of node names and secrets in the file the workflow came from (none for the API)."""

    def __init__(self, text: str | None):
        self.text = text or ""
        self.lines = self.text.splitlines()
        self.line_starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        self.names: dict[str, list[int]] = {}  # every "name": "<value>" in the text, by value
        for match in NAME_RE.finditer(self.text):
            try:
                value = json.loads(match.group(1))
            except ValueError:
                continue
            self.names.setdefault(value, []).append(match.start())

    def line_at(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def name_line(self, name: str, start: int = 0) -> tuple[int, int]:
        """(line, offset) of the first ``"name": "<name>"`` at or after ``start``; (0, start) if absent."""
        offset = next((at for at in self.names.get(name, []) if at >= start), None)
        return (self.line_at(offset), offset) if offset is not None else (0, start)

    def value_line(self, value: str, span: tuple[int, int], near: int) -> int:
        """Line of the occurrence of ``value`` inside ``span`` closest to offset ``near``."""
        needle = json.dumps(value)[1:-1]
        hits = []
        index = self.text.find(needle, span[0], span[1])
        while index >= 0 and len(hits) < 50:
            hits.append(index)
            index = self.text.find(needle, index + 1, span[1])
        return self.line_at(min(hits, key=lambda hit: abs(hit - near))) if hits else 0

    def snippet(self, line: int, fallback: str) -> str:
        return stripped_line(self.lines[line - 1]) if 0 < line <= len(self.lines) else fallback


# ---------------------------------------------------------------------------------------------------
# Workflow analysis
# ---------------------------------------------------------------------------------------------------


@dataclass
class NodeInfo:
    name: str
    type: str
    parameters: dict
    family: str | None
    disabled: bool
    line: int = 0
    offset: int = 0  # where the node's name is in the file text
    span: tuple[int, int] = (0, 0)  # text between the neighbouring nodes' names: holds its parameters
    findings: list[Finding] = field(default_factory=list)  # the node's own components

    @property
    def primary(self) -> Finding | None:
        return self.findings[0] if self.findings else None


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # connection type: main, ai_tool, ai_languageModel …


def parse_edges(connections: object, known: set[str]) -> list[Edge]:
    edges = []
    if not isinstance(connections, dict):
        return edges
    for source, outputs in connections.items():
        if not isinstance(outputs, dict):
            continue
        for kind, groups in outputs.items():
            for group in groups if isinstance(groups, list) else []:
                for link in group if isinstance(group, list) else []:
                    target = link.get("node") if isinstance(link, dict) else None
                    if source in known and target in known:
                        edges.append(Edge(source, target, str(link.get("type") or kind)))
    return edges


class WorkflowAnalysis:
    """Findings for one workflow object; ``relpath`` is the file (or ``n8n:<host>/workflows/<id>``)."""

    def __init__(self, workflow: dict, relpath: str, detector: str, text: str | None = None):
        self.workflow = workflow
        self.relpath = relpath
        self.detector = detector
        self.index = TextIndex(text)
        self.rules = load_rules()
        self.warnings: list[str] = []
        self.evidence: list[Finding] = []  # extra locations (trigger, secret lines) of components
        self.name = str(workflow.get("name") or workflow.get("id") or Path(relpath).stem)

    def location(self, line: int, fallback: str, secrets: Iterable[str] = ()) -> Location:
        snippet = clip(self.index.snippet(line, fallback), known=[*self.workflow_secrets, *secrets])
        return Location(file=self.relpath, line=line, snippet=snippet)

    @cached_property
    def workflow_secrets(self) -> list[str]:
        """Every literal credential in the workflow's nodes: a minified workflow is one line, so the
        snippet of any node or of the workflow itself can hold any node's secret."""
        rules = secret_rules()
        nodes = self.workflow.get("nodes")
        return [
            value
            for node in (nodes if isinstance(nodes, list) else [])
            if isinstance(node, dict) and isinstance(node.get("parameters"), dict)
            for _, name, value in strings_in(node["parameters"])
            if rules.is_secret(name, value)
        ]

    def run(self) -> list[Finding]:
        raw_nodes = self.workflow.get("nodes")
        if not isinstance(raw_nodes, list):
            self.warnings.append(f"n8n: workflow {self.name!r} has no node list")
            return []
        line, _ = self.index.name_line(self.name)
        workflow = Finding(
            key=component_key("workflow", self.name.lower()),
            name=self.name,
            type="workflow",
            location=self.location(line, f"workflow {self.name}"),
            detector=self.detector,
            provider="n8n",
            metadata={
                "workflow_id": self.workflow.get("id"),
                "active": self.workflow.get("active"),
                "node_count": len(raw_nodes),
            },
        )
        nodes = self.read_nodes(raw_nodes)
        edges = parse_edges(self.workflow.get("connections"), set(nodes))
        as_tools = {name for edge in edges if edge.kind == "ai_tool" for name in (edge.source, edge.target)}
        for node in nodes.values():
            if not node.disabled:
                node.findings = self.node_findings(node, node.name in as_tools)
        if not any(node.findings for node in nodes.values()):
            return []  # a workflow with no AI node is scanned, not listed
        findings = [workflow]
        for node in nodes.values():
            for finding in node.findings:
                workflow.relations.append(("has_node", finding.key))
            findings.extend(node.findings)
            if not node.disabled:
                self.check_trigger(node, workflow)
                self.check_code(node, workflow)
            self.check_secrets(node, workflow)
        self.link(nodes, edges)
        self.flag_agents(nodes, edges)
        workflow.relations = sorted(set(workflow.relations))
        return findings + self.evidence

    def read_nodes(self, raw_nodes: list) -> dict[str, NodeInfo]:
        nodes: dict[str, NodeInfo] = {}
        search_from = self.index.text.find('"nodes"')
        for raw in raw_nodes:
            if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
                continue
            name = str(raw.get("name") or raw.get("id") or raw["type"])
            parameters = raw.get("parameters") if isinstance(raw.get("parameters"), dict) else {}
            node = NodeInfo(name, raw["type"], parameters, family_of(raw["type"]), bool(raw.get("disabled")))
            node.line, node.offset = self.index.name_line(name, max(search_from, 0))
            nodes[name] = node
        located = sorted((n for n in nodes.values() if n.line), key=lambda n: n.offset)
        for index, node in enumerate(located):
            start = located[index - 1].offset + 1 if index else max(search_from, 0)
            end = located[index + 1].offset if index + 1 < len(located) else len(self.index.text)
            node.span = (start, end)
        return nodes

    def add_evidence(self, component: Finding, location: Location, flag: str) -> None:
        """Another location of ``component`` (merged into it by key) that shows why it carries ``flag``."""
        self.evidence.append(
            Finding(
                key=component.key,
                name=component.name,
                type=component.type,
                location=location,
                detector=self.detector,
                flags={flag},
            )
        )

    def node_location(self, node: NodeInfo) -> Location:
        return self.location(node.line, f"{node.name} ({node.type})")

    def node_findings(self, node: NodeInfo, attached_as_tool: bool = False) -> list[Finding]:
        family = node.family
        when_attached = node.type in self.rules["tools_when_attached"] or (
            family in self.rules["tool_families_when_attached"]
        )
        if when_attached and not attached_as_tool:
            return []
        if family in ("chat_model", "llm", "embeddings"):
            return self.model_findings(node, family)
        if family == "vector_store":
            store = self.rules["vector_stores"].get(short_type(node.type))
            ident = store["id"] if store else short_type(node.type).removeprefix("vectorStore").lower()
            findings = [
                Finding(
                    key=component_key("vector_db", ident),
                    name=ident,
                    type="vector_db",
                    location=self.node_location(node),
                    detector=self.detector,
                    provider=store["provider"] if store else None,
                    metadata={"n8n_node_types": [node.type]},
                )
            ]
            if node.parameters.get("mode") == "retrieve-as-tool":
                findings.append(self.store_tool(node))
            return findings
        component_type = self.rules["component_types"].get(family)
        if component_type is None:
            return []
        # a tool is named as the agent sees it: the name its node declares, else the node's own name
        # (what n8n hands the model); an agent node is ``<workflow>/<node>``
        if component_type == "tool":
            name = self.declared_tool_name(node) or node.name
        else:
            name = f"{self.name}/{node.name}"
        metadata = {"family": family, "node_type": node.type, "workflow": self.name}
        finding = Finding(
            key=component_key(component_type, name.lower()),
            name=name,
            type=component_type,
            location=self.node_location(node),
            detector=self.detector,
            provider="n8n",
            metadata=metadata,
        )
        findings = [finding]
        if family == "mcp_client" and (server := self.mcp_server_of(node)):
            metadata["endpoint"] = server.metadata["url"]
            finding.relations.append(("connects_to", server.key))
            if str(node.parameters.get("authentication") or "none").lower() == "none":
                finding.flags.add("mcp_no_auth")  # the tool reaches its server without credentials
                server.flags.add("mcp_no_auth")
            findings.append(server)
        return findings

    def declared_tool_name(self, node: NodeInfo) -> str | None:
        """The name the model is given for a tool node that declares one in its parameters."""
        parameter = self.rules["declared_tool_names"].get(node.type)
        declared = node.parameters.get(parameter) if parameter else None
        return declared.strip() if isinstance(declared, str) and declared.strip() else None

    def store_tool(self, node: NodeInfo) -> Finding:
        """A vector store node in ``retrieve-as-tool`` mode is a tool the agent calls, by its ``toolName``
        (the name the model sees), or the node's name when the export has none."""
        tool_name = node.parameters.get("toolName")
        name = tool_name if isinstance(tool_name, str) and tool_name.strip() else node.name
        return Finding(
            key=component_key("tool", name.lower()),
            name=name,
            type="tool",
            location=self.node_location(node),
            detector=self.detector,
            provider="n8n",
            metadata={"family": "vector_store", "node_type": node.type, "workflow": self.name},
        )

    def mcp_server_of(self, node: NodeInfo) -> Finding | None:
        """The remote MCP server an MCP client tool connects to, named by its host."""
        endpoint = next(
            (
                value
                for key in ("sseEndpoint", "endpointUrl", "url")
                if isinstance(value := node.parameters.get(key), str)
                and value.startswith(("http://", "https://"))
            ),
            None,
        )
        if endpoint is None:
            return None
        host = (urlsplit(endpoint).hostname or "").lower()
        if not host:
            return None
        data = mcp_data()
        flags = set()
        if host not in data["local_hosts"]:
            flags.add("mcp_remote_server")
            if host not in data["known_remote_hosts"]:
                flags.add("mcp_unknown_server")
        return Finding(
            key=component_key("mcp_server", host),
            name=host,
            type="mcp_server",
            provider="Model Context Protocol",
            location=self.node_location(node),
            detector=self.detector,
            flags=flags,
            metadata={"transport": "sse" if "sse" in endpoint else "http", "url": safe_url(endpoint)},
        )

    def model_findings(self, node: NodeInfo, family: str) -> list[Finding]:
        provider = provider_of(node.type)
        findings = []
        model = model_value(node.parameters)
        if provider:
            findings.append(
                Finding(
                    key=component_key("llm_provider", provider["id"]),
                    name=provider["id"],
                    type="llm_provider",
                    location=self.node_location(node),
                    detector=self.detector,
                    provider=provider["provider"],
                    metadata={"n8n_node_types": [node.type]},
                )
            )
        if model:
            line = self.index.value_line(model, node.span, node.offset)
            findings.insert(
                0,
                Finding(
                    key=component_key("model", model.lower()),
                    name=model.lower(),
                    type="model",
                    location=self.location(line or node.line, f"{node.name}: {model}"),
                    detector=self.detector,
                    provider=provider["provider"] if provider else None,
                    model_name=model,
                    metadata={"family": family, "n8n_node_types": [node.type]},
                ),
            )
        return findings

    # --- flags ---------------------------------------------------------------------------------

    def check_trigger(self, node: NodeInfo, workflow: Finding) -> None:
        trigger = self.rules["webhook_triggers"].get(node.type)
        if trigger is None:
            return
        if trigger.get("only_when") and node.parameters.get(trigger["only_when"]) is not True:
            return
        auth = node.parameters.get(trigger["auth"])
        if auth in (None, "", "none"):
            workflow.flags.add("webhook_no_auth")
            workflow.metadata.setdefault("unauthenticated_triggers", []).append(node.name)
            if node.line:
                self.add_evidence(workflow, self.node_location(node), "webhook_no_auth")

    def check_code(self, node: NodeInfo, workflow: Finding) -> None:
        target = node.primary or workflow
        if node.type in self.rules["command_nodes"]:
            target.flags.add("dangerous_code")
            target.metadata.setdefault("dangerous_code", []).append(f"{node.name}: runs shell commands")
            return
        if node.type not in self.rules["code_nodes"]:
            return
        for _, _, text in strings_in(node.parameters):
            for pattern in self.rules["code_patterns"]:
                if match := pattern.search(text):
                    target.flags.add("dangerous_code")
                    target.metadata.setdefault("dangerous_code", []).append(
                        f"{node.name}: {clip(match.group(0), 80)}"
                    )
                    return

    def check_secrets(self, node: NodeInfo, workflow: Finding) -> None:
        rules = secret_rules()
        found = [
            (path, value) for path, name, value in strings_in(node.parameters) if rules.is_secret(name, value)
        ]
        if not found:
            return
        target = node.primary or workflow
        target.flags.add("hardcoded_api_key")
        records = target.metadata.setdefault("secrets", [])
        records.extend(secret_record(f"{node.name}.{path}", value) for path, value in found)
        for _, value in found:
            line = self.index.value_line(value, node.span, node.offset)
            if line:
                self.add_evidence(target, self.location(line, "", [value]), "hardcoded_api_key")

    # --- graph ---------------------------------------------------------------------------------

    def link(self, nodes: dict[str, NodeInfo], edges: list[Edge]) -> None:
        connections = self.rules["ai_connections"]
        for edge in edges:
            rule = connections.get(edge.kind)
            if rule is None:
                continue
            user, used = nodes[edge.target], nodes[edge.source]
            if self.sub_node_rank(user, rule) > self.sub_node_rank(used, rule):
                user, used = used, user  # the edge is written from the user to the sub-node
            if user.primary is None or used.primary is None:
                continue
            user.primary.relations.append((rule["relation"], used.primary.key))

    @staticmethod
    def sub_node_rank(node: NodeInfo, rule: dict) -> int:
        """How surely ``node`` is the sub-node of a connection: tools/models over agent tools over agents."""
        if node.family not in rule["families"]:
            return 0
        if node.family != "agent":
            return 3
        return 2 if node.type.endswith("agentTool") else 1

    def flag_agents(self, nodes: dict[str, NodeInfo], edges: list[Edge]) -> None:
        neighbours: dict[str, set[tuple[str, str]]] = defaultdict(set)
        downstream: dict[str, set[str]] = defaultdict(set)
        for edge in edges:
            neighbours[edge.source].add((edge.target, edge.kind))
            neighbours[edge.target].add((edge.source, edge.kind))
            if edge.kind == "main":
                downstream[edge.source].add(edge.target)
        agents = [n for n in nodes.values() if n.family == "agent" and not n.disabled and n.primary]
        for agent in agents:
            attached = [(nodes[name], kind) for name, kind in neighbours[agent.name]]
            tools = [n for n, kind in attached if kind == "ai_tool"]
            if any(t.type in self.rules["code_http_tools"] and not t.disabled for t in tools):
                agent.primary.flags.add("code_http_tools")
            peers = [t for t in tools if t.family == "agent" and not t.disabled and t.primary]
            for peer in peers:
                agent.primary.flags.add("multi_agent_no_trust")
                peer.primary.flags.add("multi_agent_no_trust")
            validated = any(kind == "ai_outputParser" for _, kind in attached) or bool(
                agent.parameters.get("hasOutputParser")
            )
            if validated:
                continue
            for reached in self.reached_agents(agent.name, nodes, downstream):
                agent.primary.flags.add("agent_chain_no_validation")
                reached.primary.flags.add("agent_chain_no_validation")

    def reached_agents(
        self, start: str, nodes: dict[str, NodeInfo], downstream: dict[str, set[str]]
    ) -> Iterator[NodeInfo]:
        """Agents reached from ``start`` through pass-through nodes only (main connections)."""
        passing = set(self.rules["pass_through_nodes"])
        queue, seen = deque(downstream[start]), {start}
        while queue:
            name = queue.popleft()
            if name in seen:
                continue
            seen.add(name)
            node = nodes[name]
            if node.family == "agent" and node.primary and not node.disabled:
                yield node
            elif node.type in passing:
                queue.extend(downstream[name])


def workflows_in(document: object) -> Iterator[dict]:
    """A workflow, a list of workflows (``n8n export:workflow --all``) or an API page ``{"data": [...]}``."""
    if isinstance(document, dict) and isinstance(document.get("nodes"), list):
        yield document
    elif isinstance(document, dict) and isinstance(document.get("data"), list):
        yield from (w for w in document["data"] if isinstance(w, dict) and isinstance(w.get("nodes"), list))
    elif isinstance(document, list):
        yield from (w for w in document if isinstance(w, dict) and isinstance(w.get("nodes"), list))


def analyze_workflow(
    workflow: dict, relpath: str, detector: str = "n8n", text: str | None = None
) -> tuple[list[Finding], list[str]]:
    """Findings and warnings for one workflow; ``text`` (the exported file) gives line numbers."""
    analysis = WorkflowAnalysis(workflow, relpath, detector, text)
    return analysis.run(), analysis.warnings


class N8nWorkflowDetector(Detector):
    name = "n8n"

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix == ".json" or file.name.lower().endswith(EXPORT_TEMPLATE_SUFFIXES)

    def detect(self, file: SourceFile, report: FileReport) -> Iterable[Finding]:
        text = file.text
        if '"nodes"' not in text or '"connections"' not in text or "n8n-nodes-" not in text:
            return []
        if file.size > MAX_BYTES:
            report.warnings.append(f"n8n: {file.relpath} is larger than {MAX_BYTES} bytes")
            return []
        try:
            document = parse_json(text)
        except (ValueError, RecursionError) as exc:
            report.warnings.append(f"n8n: {file.relpath} is not valid JSON ({type(exc).__name__})")
            return []
        findings: list[Finding] = []
        for workflow in workflows_in(document):
            workflow_findings, warnings = analyze_workflow(workflow, file.relpath, self.name, text)
            findings.extend(workflow_findings)
            report.warnings.extend(warnings)
        return findings

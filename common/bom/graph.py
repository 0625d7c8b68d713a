"""The dependency graph of a scan, shaped for drawing: named node types and edge relations.

Nodes are the components plus the files and manifests that relationships point from
(``file:<path>``). Big graphs are capped at ``limit`` nodes, keeping the riskiest components
first, so a UI never receives a graph it cannot draw; ``truncated`` and the totals say so.
"""

from __future__ import annotations

from collections import Counter

FILE_PREFIX = "file:"


def _file_node(node_id: str, manifests: set[str]) -> dict:
    return {
        "id": node_id,
        "type": "manifest" if node_id in manifests else "file",
        "label": node_id.removeprefix(FILE_PREFIX),
    }


def _component_node(component: dict) -> dict:
    return {
        "id": component["id"],
        "type": component["type"],
        "label": component["name"],
        "severity": component.get("severity") or "info",
    }


def build_graph(components: list[dict], relationships: list[dict], *, limit: int = 2000) -> dict:
    """{"nodes", "edges", "truncated", "total_nodes", "total_edges"}; same input, same output.

    Edges whose ends are neither a component nor a file are dropped (they point at nothing
    drawable). When capped, nodes are kept by priority: components by risk score (highest
    first), then files by how many edges touch them; only edges between kept nodes remain.
    """
    by_id = {c["id"]: c for c in components}
    edges = sorted(
        {
            (r["source"], r["target"], r["relation"])
            for r in relationships
            if (r["source"] in by_id or r["source"].startswith(FILE_PREFIX))
            and (r["target"] in by_id or r["target"].startswith(FILE_PREFIX))
        }
    )
    manifests = {source for source, _, relation in edges if relation == "declares"}
    degree = Counter(end for source, target, _ in edges for end in (source, target))
    files = sorted(
        {end for edge in edges for end in edge[:2] if end.startswith(FILE_PREFIX)},
        key=lambda f: (-degree[f], f),
    )
    ranked = sorted(
        by_id.values(), key=lambda c: (-(c.get("risk_score") or 0), c["type"], c["name"], c["id"])
    )
    nodes = [_component_node(c) for c in ranked] + [_file_node(f, manifests) for f in files]
    kept = nodes[: max(limit, 0)]
    kept_ids = {node["id"] for node in kept}
    return {
        "nodes": kept,
        "edges": [
            {"source": source, "target": target, "relation": relation}
            for source, target, relation in edges
            if source in kept_ids and target in kept_ids
        ],
        "truncated": len(kept) < len(nodes),
        "total_nodes": len(nodes),
        "total_edges": len(edges),
    }

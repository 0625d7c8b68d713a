"""Dependency graph: typed nodes, named relations, deterministic order and a clear cap."""

from __future__ import annotations

import random

from common.bom.graph import build_graph
from tests.factories import component
from tests.unit.test_export_bundle import HOSTILE_WORKFLOW, by_name, make_bundle


def graph_of(bundle: dict, **kwargs) -> dict:
    return build_graph(bundle["components"], bundle["relationships"], **kwargs)


def test_nodes_are_components_files_and_manifests():
    bundle = make_bundle()
    graph = graph_of(bundle)
    types = {node["id"]: node["type"] for node in graph["nodes"]}
    assert types["file:requirements.txt"] == "manifest"
    assert types["file:src/app.py"] == "file"
    openai = by_name(bundle["components"], "openai")
    assert {"id": openai["id"], "type": "llm_provider", "label": "openai", "severity": "high"} in graph[
        "nodes"
    ]
    assert all("severity" not in node for node in graph["nodes"] if node["type"] in ("file", "manifest"))
    assert graph["truncated"] is False
    files = {r["source"] for r in bundle["relationships"] if r["source"].startswith("file:")}
    assert graph["total_nodes"] == len(graph["nodes"]) == len(bundle["components"]) + len(files)
    assert graph["total_edges"] == len(graph["edges"]) == len(bundle["relationships"])


def test_edges_keep_their_relation_and_dangling_edges_are_dropped():
    bundle = make_bundle()
    ids = {c["name"]: c["id"] for c in bundle["components"]}
    bundle["relationships"].append(
        {"source": ids["gpt-4o"], "target": "not-a-component", "relation": "uses_tool"}
    )
    graph = graph_of(bundle)
    assert {"source": ids[HOSTILE_WORKFLOW], "target": ids["gpt-4o"], "relation": "uses_model"} in graph[
        "edges"
    ]
    assert all(edge["target"] != "not-a-component" for edge in graph["edges"])
    assert graph["total_edges"] == len(bundle["relationships"]) - 1


def test_output_does_not_depend_on_input_order():
    bundle = make_bundle()
    shuffled = {
        **bundle,
        "components": list(bundle["components"]),
        "relationships": list(bundle["relationships"]),
    }
    random.Random(7).shuffle(shuffled["components"])
    random.Random(7).shuffle(shuffled["relationships"])
    assert graph_of(shuffled) == graph_of(bundle)


def test_big_graphs_are_capped_keeping_the_riskiest_components():
    components = [component("model", f"m{n:03}", risk=n % 100) for n in range(300)]
    relationships = [
        {"source": f"file:src/f{n % 50}.py", "target": c["id"], "relation": "contains"}
        for n, c in enumerate(components)
    ]
    graph = build_graph(components, relationships, limit=120)
    assert graph["truncated"] is True
    assert len(graph["nodes"]) == 120
    assert graph["total_nodes"] == 350 and graph["total_edges"] == 300
    assert {n["id"] for n in graph["nodes"]} == {c["id"] for c in components if c["risk_score"] >= 60}
    kept = {n["id"] for n in graph["nodes"]}
    assert all(e["source"] in kept and e["target"] in kept for e in graph["edges"])


def test_a_limit_above_the_size_keeps_everything_and_zero_keeps_nothing():
    bundle = make_bundle()
    assert graph_of(bundle, limit=10_000) == graph_of(bundle)
    empty = graph_of(bundle, limit=0)
    assert empty["nodes"] == [] and empty["edges"] == [] and empty["truncated"] is True

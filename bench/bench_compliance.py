"""Benchmark: 4 frameworks + 50 custom rules + 20 policies on 20,000 synthetic components, one core.

The frameworks run under a high-risk provider's AI system profile (so every obligation is judged),
and the read-time step is timed too: attestations applied to the manual controls, scores recounted.

Run: .venv/bin/python bench/bench_compliance.py [--components N] [--repeat R]
Target: the whole evaluation (frameworks, custom rules and policies) under 2 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.compliance import ComponentTable, evaluate_frameworks, evaluate_policies, load_frameworks
from common.compliance.evidence import apply_evidence
from common.compliance.metrics import summarize
from common.scanner.model import COMPONENT_TYPES, SEVERITIES

FLAGS = (
    "hardcoded_api_key",
    "shadow_ai",
    "deprecated_model",
    "retired_model",
    "unpinned_model",
    "mcp_unknown_server",
    "mcp_remote_server",
    "internet_facing",
    "webhook_no_auth",
    "code_http_tools",
    "multi_agent_no_trust",
    "agent_chain_no_validation",
    "dangerous_code",
    "unsafe_model_format",
    "large_model_file",
    "gpu_instance",
)
PROVIDERS = ("openai", "anthropic", "google", "meta", "mistral", "deepseek", "cohere", None)
FOLDERS = ("src", "app", "services/api", "tests", "workflows", "infra", "notebooks")


def synthetic_scan(count: int, rng: random.Random) -> tuple[list[dict], list[dict]]:
    components = []
    for number in range(count):
        component_type = rng.choice(COMPONENT_TYPES)
        provider = rng.choice(PROVIDERS)
        components.append(
            {
                "id": f"c{number:06d}",
                "name": f"{component_type}-{provider or 'local'}-{number % 500}",
                "type": component_type,
                "provider": provider,
                "version": rng.choice((None, "1.2.3", "0.4.0", "2024-08-06")),
                "model_name": f"{provider}/model-{number % 50}" if component_type == "model" else None,
                "locations": [
                    {"file": f"{rng.choice(FOLDERS)}/module_{number % 997}.py", "line": rng.randint(1, 400)}
                    for _ in range(rng.randint(1, 3))
                ],
                "flags": rng.sample(FLAGS, rng.choice((0, 0, 1, 1, 2, 3))),
                "risk_score": rng.randint(0, 100),
                "severity": rng.choice(SEVERITIES),
                "risk_factors": [],
                "detector": rng.choice(("python", "manifest", "javascript", "n8n", "docker")),
                "confidence": round(rng.random(), 2),
                "scope": rng.choice(("production", "production", "test")),
                "metadata": {},
            }
        )
    relationships = [
        {
            "source": components[i]["id"],
            "target": components[rng.randrange(count)]["id"],
            "relation": "uses_tool",
        }
        for i in range(0, count, 3)
    ]
    return components, relationships


def synthetic_condition(rng: random.Random, depth: int = 0) -> dict:
    if depth < 2 and rng.random() < 0.4:
        combinator = rng.choice(("all", "any", "not"))
        if combinator == "not":
            return {"not": synthetic_condition(rng, depth + 1)}
        return {combinator: [synthetic_condition(rng, depth + 1) for _ in range(rng.randint(2, 3))]}
    leaves = (
        {"field": "flags", "operator": "contains", "value": rng.choice(FLAGS)},
        {"field": "type", "operator": "in", "value": rng.sample(COMPONENT_TYPES, 3)},
        {"field": "provider", "operator": "equals", "value": rng.choice(PROVIDERS[:-1])},
        {"field": "severity", "operator": "gte", "value": rng.choice(SEVERITIES)},
        {"field": "risk_score", "operator": "gt", "value": rng.randint(0, 100)},
        {"field": "file_path", "operator": "starts_with", "value": rng.choice(FOLDERS)},
        {"field": "name", "operator": "contains", "value": rng.choice(("model", "openai", "tool", "-4"))},
        {"field": "name", "operator": "matches", "value": rng.choice((r"^model-\w+-\d{2}$", r"(?i)deep\w*"))},
        {"field": "version", "operator": "exists", "value": rng.random() < 0.5},
        {"field": "confidence", "operator": "lt", "value": round(rng.random(), 2)},
    )
    return rng.choice(leaves)


def synthetic_policies(count: int, rng: random.Random) -> list[dict]:
    policies = []
    for number in range(count):
        # Policies target a finding (a flag) narrowed by another condition, as real ones do.
        rules = [
            {
                "condition": {
                    "all": [
                        {"field": "flags", "operator": "contains", "value": rng.choice(FLAGS)},
                        synthetic_condition(rng),
                    ]
                }
            }
            for _ in range(rng.randint(1, 3))
        ]
        rules.append(
            rng.choice(
                (
                    {"metric": "by_severity.critical", "operator": "gt", "value": 0},
                    {"metric": "highest_risk_score", "operator": "gte", "value": 70},
                    {"metric": "count(type=model, provider=deepseek)", "operator": "gt", "value": 0},
                )
            )
        )
        action = rng.choice(("warn", "block"))
        policies.append({"id": f"p{number}", "name": f"policy {number}", "action": action, "rules": rules})
    return policies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    rng = random.Random(args.seed)
    components, relationships = synthetic_scan(args.components, rng)
    summary = summarize(components, files_scanned=997)
    custom_rules = [
        {
            "id": f"r{n}",
            "name": f"rule {n}",
            "severity": rng.choice(SEVERITIES),
            "condition": synthetic_condition(rng),
        }
        for n in range(50)
    ]
    policies = synthetic_policies(20, rng)
    frameworks = load_frameworks()
    profile = {"role": "provider", "risk_class": "high_risk", "places_gpai_model": False}
    attestations = [
        {
            "id": f"a-{framework.id}-{control.id}-{n}",
            "framework_id": framework.id,
            "control_id": control.id,
            "note": "attested",
            "attested_by": "auditor@example.com",
            "attested_at": "2026-01-01T00:00:00+00:00",
            "expires_at": f"{2025 + n}-06-01T00:00:00+00:00",
        }
        for framework in frameworks
        for control in framework.controls
        if control.assessment == "manual"
        for n in range(3)
    ]

    timings: dict[str, list[float]] = {
        "frameworks + custom rules": [],
        "policies": [],
        "total": [],
        "evidence applied (read)": [],
    }
    for _ in range(args.repeat):
        started = time.perf_counter()
        table = ComponentTable(components)
        result = evaluate_frameworks(
            components, summary, relationships, frameworks, custom_rules, table=table, profile=profile
        )
        middle = time.perf_counter()
        evaluations = evaluate_policies(policies, components, summary, table=table)
        finished = time.perf_counter()
        timings["frameworks + custom rules"].append(middle - started)
        timings["policies"].append(finished - middle)
        timings["total"].append(finished - started)
        apply_evidence(result, attestations)
        timings["evidence applied (read)"].append(time.perf_counter() - finished)

    controls = sum(len(f["controls"]) for f in result["frameworks"])
    violations = sum(len(e["violations"]) for e in evaluations)
    print(
        f"{args.components} components, {len(relationships)} relationships, {len(frameworks)} frameworks "
        f"({controls} controls), {len(custom_rules)} custom rules, {len(policies)} policies; "
        f"{violations} policy violations; one core, {args.repeat} runs"
    )
    for label, values in timings.items():
        print(f"  {label:<26} median {statistics.median(values):.3f} s   best {min(values):.3f} s")
    verdict = "PASS" if statistics.median(timings["total"]) < 2.0 else "FAIL"
    print(f"target total < 2 s: {verdict}")


if __name__ == "__main__":
    main()

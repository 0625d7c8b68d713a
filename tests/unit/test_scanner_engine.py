import json
import multiprocessing
import os
import pickle
import random
import re
from datetime import date

from common.scanner import fingerprint, scan_path, summarize
from common.scanner.catalog import is_pinned, lifecycle_flags, match_model
from common.scanner.model import Component
from common.scanner.risk import score_component
from common.scanner.worker import die_with_parent
from tests.unit.scanner_helpers import component, keys, scan_tree, write_tree

PROJECT = {
    "requirements.txt": "anthropic==0.40.0\n",
    "app/chat.py": "import anthropic\nimport openai\n"
    "anthropic.Anthropic().messages.create(model='claude-2.1')\n",
    "app/more.py": "import openai\nopenai.OpenAI().chat.completions.create(model='gpt-4o')\n",
    "tests/test_chat.py": "import cohere\ncohere.Client().chat(model='command-r-plus-08-2024')\n",
    "web/index.ts": 'import OpenAI from "openai";\nnew OpenAI();\n',
    "node_modules/openai/index.js": 'import x from "groq-sdk";\n',
    ".venv/lib/site.py": "import mistralai\n",
    "build/gen.py": "import replicate\n",
    "secret/keep.py": "import together\n",
    ".gitignore": "build/\n",
    ".truseraignore": "secret/\n",
}


def test_fingerprint_is_a_stable_uuid_shaped_hash_of_the_key():
    assert fingerprint("model:GPT-4o") == fingerprint("model:gpt-4o")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", fingerprint("x"))


def test_walk_skips_dependencies_and_ignored_paths_and_marks_tests(tmp_path):
    result = scan_tree(tmp_path, PROJECT)
    assert keys(result) == {
        "llm_provider:anthropic",
        "llm_provider:openai",
        "llm_provider:cohere",
        "model:claude-2.1",
        "model:gpt-4o",
        "model:command-r-plus-08-2024",
    }
    assert component(result, "llm_provider:cohere").scope == "test"
    assert component(result, "model:command-r-plus-08-2024").scope == "test"
    assert component(result, "llm_provider:openai").scope == "production"


def test_cross_file_flags(tmp_path):
    result = scan_tree(tmp_path, PROJECT)
    assert "shadow_ai" in component(result, "llm_provider:openai").flags
    assert "shadow_ai" not in component(result, "llm_provider:anthropic").flags
    assert component(result, "model:claude-2.1").flags == ["retired_model"]
    assert component(result, "model:gpt-4o").flags == ["unpinned_model"]
    assert component(result, "model:command-r-plus-08-2024").flags == []
    lifecycle = component(result, "model:claude-2.1").metadata["lifecycle"]
    assert lifecycle["retired"] == "2025-07-21" and lifecycle["retired_source"].startswith("https://")


def test_same_tree_same_ids_and_parallel_equals_in_process(tmp_path):
    write_tree(tmp_path, PROJECT)
    for index in range(200):
        write_tree(
            tmp_path, {f"pkg/m{index}.py": f"import openai\nopenai.OpenAI(model='gpt-4.1-mini')  # {index}\n"}
        )
    serial = scan_path(tmp_path, jobs=1).to_dict()
    parallel = scan_path(tmp_path, jobs=2).to_dict()
    for result in (serial, parallel):
        result.pop("duration_ms")
    assert serial == parallel
    assert len({c["id"] for c in serial["components"]}) == len(serial["components"])


def test_progress_reports_every_stage(tmp_path):
    write_tree(tmp_path, PROJECT)
    calls = []
    scan_path(tmp_path, jobs=1, progress=lambda stage, done, total: calls.append((stage, done, total)))
    stages = [stage for stage, _, _ in calls]
    assert stages[0] == "walking" and stages[-1] == "scoring"
    assert {"walking", "detecting", "resolving", "scoring"} <= set(stages)
    detecting = [(done, total) for stage, done, total in calls if stage == "detecting"]
    assert detecting[-1][0] == detecting[-1][1] > 0


def test_summary_shape(tmp_path):
    result = scan_tree(tmp_path, PROJECT)
    summary = summarize(result)
    assert summary["total_components"] == 6
    assert summary["by_type"] == {"llm_provider": 3, "model": 3}
    assert sum(summary["by_severity"].values()) == 6
    assert summary["highest_risk_score"] == max(c.risk_score for c in result.components)
    assert summary["files_scanned"] == result.files_scanned
    assert summarize(result.to_dict()) == summary
    assert summarize(result.components)["by_type"] == summary["by_type"]


def test_deep_mode_is_a_superset(tmp_path):
    files = {
        "cfg.py": "LLM_MODEL = 'acme-support-model-2'\n",  # an in-house id the catalog does not know
        "main.py": "import anthropic\nfrom cfg import LLM_MODEL\n"
        "anthropic.Anthropic().messages.create(model=LLM_MODEL)\n",
    }
    normal = scan_tree(tmp_path, files)
    deep = scan_path(tmp_path, deep=True, jobs=1)
    assert keys(normal) < keys(deep)
    assert keys(deep) - keys(normal) == {"model:acme-support-model-2"}


def test_risk_counts_each_factor_once_and_retired_supersedes_deprecated():
    item = Component(
        id="x", name="m", type="model", flags=["retired_model", "deprecated_model", "unpinned_model"]
    )
    score_component(item)
    factors = [f.factor for f in item.risk_factors]
    assert factors == ["component_type", "retired_model", "unpinned_model"]
    assert item.risk_score == sum(f.points for f in item.risk_factors)


def test_hardcoded_key_is_at_least_high_even_in_tests():
    item = Component(id="x", name="p", type="llm_provider", flags=["hardcoded_api_key"], scope="test")
    score_component(item)
    assert item.severity == "high" and item.risk_score >= 60


def test_catalog_lifecycle_and_pinning():
    assert lifecycle_flags(match_model("claude-3-opus-20240229"), date(2025, 7, 1)) == ["deprecated_model"]
    assert lifecycle_flags(match_model("claude-3-opus-20240229"), date(2026, 1, 5)) == ["retired_model"]
    assert lifecycle_flags(match_model("gpt-4o"), date(2026, 1, 1)) == []
    assert (
        match_model("us.anthropic.claude-3-5-sonnet-20240620-v1:0").catalog_id == "claude-3-5-sonnet-20240620"
    )
    assert match_model("openai/gpt-4o").catalog_id == "gpt-4o"
    assert match_model("resnet-50") is None and match_model("meta-llama/Llama-3.1-8B-Instruct") is not None
    assert (
        is_pinned("gpt-4o-2024-08-06") and is_pinned("gemini-1.5-pro-002") and is_pinned("ft:gpt-4o:acme::1")
    )
    assert not is_pinned("gpt-4o") and not is_pinned("claude-3-5-sonnet-latest") and not is_pinned("org/m")
    assert is_pinned("org/m", revision="abc")


def test_deep_mode_reads_env_values_from_compose_files_and_env_defaults_from_other_modules(tmp_path):
    files = {
        "docker-compose.yml": "services:\n  api:\n    environment:\n"
        "      - SUMMARY_MODEL=acme-summarizer-v2\n",
        "settings.py": "import os\nFALLBACK_MODEL = os.getenv('FALLBACK_LLM', 'gpt-4.1-nano')\n",
        "svc.py": "import os\nimport mistralai\nfrom settings import FALLBACK_MODEL\n"
        "m = mistralai.Mistral()\n"
        "m.chat.complete(model=os.environ.get('SUMMARY_MODEL'))\n"
        "m.chat.complete(model=FALLBACK_MODEL)\n",
    }
    normal = scan_tree(tmp_path, files)
    deep = scan_path(tmp_path, deep=True, jobs=1)
    assert keys(deep) - keys(normal) == {"model:acme-summarizer-v2"}
    assert component(deep, "model:acme-summarizer-v2").metadata["resolved_from"] == "env SUMMARY_MODEL"
    # the literal default configures the model where it is written; deep mode also finds the call using it
    assert {loc.file for loc in component(normal, "model:gpt-4.1-nano").locations} == {"settings.py"}
    assert {loc.file for loc in component(deep, "model:gpt-4.1-nano").locations} == {"settings.py", "svc.py"}


def test_deep_mode_reads_loaded_configs_by_key_path(tmp_path):
    files = {
        "config.yaml": "assistant:\n  name: claude-3-5-haiku-20241022\n"
        "embeddings:\n  engine: text-embedding-3-small\n",
        "settings.toml": "[ranker]\nbackend = 'acme-ranker-v3'\n",
        "a.json": '{"route": {"default": "o3-mini-2025-01-31"}}',
        "b.json": '{"route": {"default": "o1-2024-12-17"}}',
        ".env": "CHAT_MODEL=gpt-4o-mini\n",
        "app.py": "import os, tomllib, yaml\nfrom openai import OpenAI\n"
        "cfg = yaml.safe_load(open('config.yaml'))\nsettings = tomllib.load(open('settings.toml', 'rb'))\n"
        "routes = {}\nc = OpenAI()\n"
        "c.chat.completions.create(model=cfg['assistant']['name'], messages=[])\n"
        "c.embeddings.create(model=cfg.get('embeddings', {}).get('engine'), input=[])\n"
        "c.chat.completions.create(model=settings['ranker']['backend'], messages=[])\n"
        "c.chat.completions.create(model=routes['route']['default'], messages=[])\n"
        "c.chat.completions.create(model=os.environ['CHAT_MODEL'], messages=[])\n",
    }
    normal = scan_tree(tmp_path, files)
    deep = scan_path(tmp_path, deep=True, jobs=1)
    # the key "name" and "backend" name no model, so only the code's read of them reveals one;
    # "route.default" has two values in two files, so neither is claimed
    assert keys(deep) - keys(normal) == {"model:claude-3-5-haiku-20241022", "model:acme-ranker-v3"}
    haiku = component(deep, "model:claude-3-5-haiku-20241022")
    assert haiku.metadata["resolved_from"] == "config config.yaml: assistant.name"
    assert [(loc.file, loc.line) for loc in haiku.locations] == [("app.py", 7)]
    embedding = component(deep, "model:text-embedding-3-small")
    assert {(loc.file, loc.line) for loc in embedding.locations} == {("config.yaml", 4), ("app.py", 8)}
    assert ("app.py", 11) in {(loc.file, loc.line) for loc in component(deep, "model:gpt-4o-mini").locations}


def test_code_calling_an_endpoint_is_a_calls_edge(tmp_path):
    result = scan_tree(
        tmp_path, {"raw.py": "import requests\nrequests.post('https://api.x.ai/v1/chat/completions')\n"}
    )
    endpoint = component(result, "endpoint:api.x.ai")
    assert [(r.source, r.relation) for r in result.relationships if r.target == endpoint.id] == [
        ("file:raw.py", "calls")
    ]


def _scan_keys_into(queue, path) -> None:
    queue.put(sorted(keys(scan_path(path, jobs=2))))


def test_a_daemonic_parent_scans_in_process(tmp_path):
    write_tree(tmp_path, {f"m{i}.py": "import openai\n" for i in range(200)})
    context = multiprocessing.get_context("spawn")  # never fork this multi-threaded test process
    queue = context.Queue()
    process = context.Process(target=_scan_keys_into, args=(queue, tmp_path), daemon=True)
    process.start()
    process.join(60)
    assert queue.get(timeout=5) == ["llm_provider:openai"]


def test_binary_files_warn_only_when_no_detector_could_read_them(tmp_path):
    blob = pickle.dumps({"weights": [0.0] * 8}, protocol=4) + b"\0" * 16
    result = scan_tree(tmp_path, {"models/weights.ckpt": blob, "config/settings.env": b"KEY=\0\0binary"})
    assert keys(result) == {"model_file:models/weights.ckpt"}
    assert [w.file for w in result.warnings] == ["config/settings.env"]
    assert "binary content" in result.warnings[0].message


def test_a_worker_whose_parent_is_already_gone_exits_at_once():
    """The pool initializer catches a parent that died before PDEATHSIG was armed."""
    context = multiprocessing.get_context("spawn")
    for parent_pid, exit_code in ((os.getpid(), 0), (os.getpid() + 10_000_000, 1)):
        worker = context.Process(target=die_with_parent, args=(parent_pid,))
        worker.start()
        worker.join(30)
        assert worker.exitcode == exit_code


def _merged_one_call_at_a_time(extras: list[dict]) -> dict:
    """``_merge_metadata`` as it was: every list's markers worked out again on each call."""
    target: dict = {}
    for extra in extras:
        for key, value in extra.items():
            if key not in target:
                target[key] = list(value) if isinstance(value, list) else value
            elif isinstance(value, list) and isinstance(target[key], list):
                seen = {json.dumps(item, sort_keys=True, default=str) for item in target[key]}
                for item in value:
                    marker = json.dumps(item, sort_keys=True, default=str)
                    if marker not in seen:
                        seen.add(marker)
                        target[key].append(item)
    return target


def test_merged_metadata_equals_a_fresh_merge_per_finding():
    from common.scanner.engine import _merge_metadata

    rng = random.Random(7)
    values = [{"name": "a"}, {"name": "b", "n": 1}, {"n": 1, "name": "b"}, "x", 2, ["l"], None]
    for _ in range(300):
        extras = []
        for _ in range(rng.randint(1, 8)):
            extra = {}
            for key in rng.sample(["tools", "models", "mode", "env"], rng.randint(0, 3)):
                extra[key] = rng.choice([rng.choices(values, k=rng.randint(0, 4)), rng.choice(values)])
            extras.append(extra)
        merged: dict = {}
        seen_items: dict = {}
        for extra in extras:
            _merge_metadata(merged, extra, seen_items)
        assert merged == _merged_one_call_at_a_time(extras)


def test_a_component_of_many_findings_encodes_each_list_item_once(monkeypatch):
    from common.scanner import engine
    from common.scanner.detectors.base import Finding
    from common.scanner.model import Location

    encoded = []
    real_dumps = json.dumps
    monkeypatch.setattr(engine.json, "dumps", lambda *a, **k: encoded.append(1) or real_dumps(*a, **k))
    findings = [
        Finding(
            key="tool:search",
            name="search",
            type="tool",
            location=Location(file=f"f{index}.py", line=1),
            detector="python",
            metadata={"agents": [{"name": f"agent{index}"}]},
        )
        for index in range(60)
    ]
    [component], _ = engine.merge_findings(findings, {})
    assert len(component.metadata["agents"]) == 60
    assert len(encoded) <= 2 * 60  # re-encoding the list for each finding was 1,829

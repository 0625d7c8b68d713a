"""bench/realworld: the scorer's matching rules and the rebuild from pins, on small hand-made inputs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "realworld"


def load(name: str):
    sys.path.insert(0, str(BENCH.parent))
    spec = importlib.util.spec_from_file_location(f"realworld_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through the module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def score():
    return load("score")


def label(file, category, name, provider=None, identifier=None, line=1):
    return {
        "file": file,
        "line": line,
        "category": category,
        "name": name,
        "provider": provider,
        "identifier": identifier,
    }


def test_misses_are_counted_by_where_they_sit(score):
    """A miss in a file with no report, beside a report of its kind under another name, and beside
    reports of other kinds only: the three counts the README's aggregate table shows per half."""
    labels = score.label_units(
        {
            "labels": [
                label("blind.swift", "model", "gpt-4o"),
                label("app.py", "model", "gpt-4o-mini"),
                label("app.py", "tool", "search"),
                label("server.ts", "mcp_server", "notes"),
            ]
        }
    )
    reports = score.report_units(
        [
            ("app.py", "model", "gpt-4o", "OpenAI", {3}, []),
            ("server.ts", "mcp_client", "notes", None, {1}, []),
        ]
    )
    kinds = score.score_repo(labels, reports, strict=True)["miss_kinds"]
    assert kinds == {
        "model|file not reported": 1,
        "model|other name, same kind": 1,
        "tool|other kinds only": 1,
        "mcp_server|other kinds only": 1,
    }
    table = score.miss_kind_table(
        {"repos": {"r": {"half": "tune", "trusera": {"strict": {"miss_kinds": kinds}}}}}
    )
    assert "| all | 1 | 0 | 1 | 0 | 2 | 0 |" in table


def test_strict_needs_the_identifier_lenient_takes_the_provider(score):
    labels = score.label_units(
        {"labels": [label("app.py", "model", "gpt-4o-mini", "OpenAI", "openai/gpt-4o-mini")]}
    )
    exact = score.report_units([("app.py", "model", "gpt-4o-mini", "OpenAI", {3}, [])])
    other = score.report_units([("app.py", "model", "gpt-4o", "OpenAI", {3}, [])])
    # the route prefix is optional in the identifier
    assert score.score_repo(labels, exact, strict=True)["tallies"]["total"].found == 1
    assert score.score_repo(labels, other, strict=True)["tallies"]["total"].found == 0
    lenient = score.score_repo(labels, other, strict=False)["tallies"]["total"]
    assert (lenient.found, lenient.true_positives) == (1, 1)


def test_a_bedrock_arn_label_answers_to_the_model_it_names(score):
    arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"
    profile = (
        "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0"
    )
    labels = score.label_units(
        {
            "labels": [
                label("main.tf", "model", arn, None, arn),
                label("app.py", "model", profile, None, profile),
            ]
        }
    )
    reports = score.report_units(
        [
            ("main.tf", "model", "amazon.titan-embed-text-v2:0", None, {3}, []),
            ("app.py", "model", "eu.anthropic.claude-3-haiku-20240307-v1:0", None, {5}, []),
        ]
    )
    assert score.score_repo(labels, reports, strict=True)["tallies"]["total"].found == 2
    assert score.model_keys("arn:aws:s3:::models/gpt-4o") == {"arn:aws:s3:::models/gpt-4o"}


def test_a_label_package_is_read_in_its_file_ecosystem_first(score):
    # ``llama_cpp`` is the Python import of llama-cpp-python and also a Rust crate's name
    python = score.label_units({"labels": [label("model.py", "ml_framework", "llama_cpp")]})
    rust = score.label_units({"labels": [label("src/main.rs", "ml_framework", "llama_cpp")]})
    report = score.report_units([("model.py", "ml_framework", "llama-cpp-python", None, {2}, [])])
    assert python[0].keys == {"llama-cpp-python"}
    assert rust[0].keys == {"llama-cpp-rs"}
    assert score.score_repo(python, report, strict=True)["tallies"]["total"].found == 1


def test_a_swift_label_is_read_as_a_module_name_and_swift_is_a_language(score):
    units = score.label_units({"labels": [label("App/Chat.swift", "llm_provider", "FoundationModels")]})
    assert units[0].keys == {"apple-foundation-models"}
    assert score.language_of("App/Chat.swift") == "Swift"


def test_one_unit_per_file_and_catalog_package(score):
    labels = score.label_units(
        {
            "labels": [
                label("requirements.txt", "agent_framework", "langchain", line=1),
                label("requirements.txt", "agent_framework", "langchain-core", line=2),
                label("Server.kt", "agent_framework", "io.modelcontextprotocol.kotlin.sdk"),
            ]
        }
    )
    assert len(labels) == 2  # langchain and langchain-core are one catalog package
    reports = score.report_units(
        [
            ("requirements.txt", "agent_framework", "langchain", "LangChain", {1, 2}, []),
            ("Server.kt", "agent_framework", "mcp", "Model Context Protocol", {1}, []),
            ("other.py", "llm_provider", "openai", "OpenAI", {1}, []),
        ]
    )
    tally = score.score_repo(labels, reports, strict=True)["tallies"]["total"]
    assert (tally.expected, tally.found, tally.reported, tally.true_positives) == (2, 2, 3, 2)


def test_a_server_and_a_client_of_one_name_in_one_file_are_two_units(score):
    labels = score.label_units(
        {
            "labels": [
                label("tests/test_tools.rs", "mcp_server", "rmcp", "Model Context Protocol", line=28),
                label("tests/test_tools.rs", "mcp_client", "rmcp", "Model Context Protocol", line=308),
            ]
        }
    )
    reports = score.report_units(
        [
            ("tests/test_tools.rs", "mcp_client", "rmcp", "Model Context Protocol", {290}, []),
            ("tests/test_tools.rs", "mcp_server", "rmcp", "Model Context Protocol", {28}, []),
        ]
    )
    tally = score.score_repo(labels, reports, strict=True)["tallies"]["total"]
    assert (tally.expected, tally.found, tally.reported, tally.true_positives) == (2, 2, 2, 2)


def test_a_generic_aws_sdk_label_is_the_ai_service_client_made_with_it(score):
    labels = score.label_units(
        {
            "labels": [
                label("bedrock.py", "llm_provider", "boto3", "Amazon Web Services"),
                label("endpoint.py", "llm_provider", "boto3", "Amazon Web Services"),
                label("requirements.txt", "llm_provider", "boto3", "Amazon Web Services"),
            ]
        }
    )
    reports = score.report_units(
        [
            ("bedrock.py", "llm_provider", "aws-bedrock", "Amazon Web Services", {4}, []),
            ("endpoint.py", "llm_provider", "aws-sagemaker-runtime", "Amazon Web Services", {7}, []),
            ("requirements.txt", "llm_provider", "openai", "OpenAI", {2}, []),
        ]
    )
    tally = score.score_repo(labels, reports, strict=True)["tallies"]["total"]
    assert (tally.expected, tally.found, tally.reported, tally.true_positives) == (3, 2, 3, 2)


def test_a_hardcoded_key_flag_answers_an_api_key_label(score):
    labels = score.label_units({"labels": [label(".env", "api_key", "anthropic", "Anthropic", "sk-")]})
    flagged = score.report_units(
        [(".env", "llm_provider", "anthropic", "Anthropic", {1}, ["hardcoded_api_key"])]
    )
    plain = score.report_units([(".env", "llm_provider", "anthropic", "Anthropic", {1}, [])])
    assert score.score_repo(labels, flagged, strict=True)["tallies"]["category:api_key"].found == 1
    assert score.score_repo(labels, plain, strict=True)["tallies"]["category:api_key"].found == 0


def test_a_key_counts_in_the_files_that_hold_it_and_a_key_only_line_declares_no_package(score):
    component = {
        "type": "llm_provider",
        "name": "openai",
        "provider": "OpenAI",
        "flags": ["hardcoded_api_key"],
        "locations": [
            {"file": ".env", "line": 1},
            {"file": "package.json", "line": 19},
            {"file": "src/route.ts", "line": 2},
        ],
        "metadata": {"credential_locations": [{"file": ".env", "line": 1}]},
    }
    labels = score.label_units(
        {
            "labels": [
                label(".env", "api_key", "openai", "OpenAI", "sk-"),
                label("package.json", "llm_provider", "openai", "OpenAI"),
                label("src/route.ts", "llm_provider", "openai", "OpenAI"),
            ]
        }
    )
    reports = score.report_units(score.trusera_reports({"components": [component]}, {}))
    tallies = score.score_repo(labels, reports, strict=True)["tallies"]["total"]
    assert (tallies.reported, tallies.true_positives, tallies.found) == (3, 3, 3)
    del component["metadata"]  # an engine that does not locate the key: every file carries it
    reports = score.report_units(score.trusera_reports({"components": [component]}, {}))
    assert score.score_repo(labels, reports, strict=True)["tallies"]["total"].reported == 6


def test_standard_exclusions(score):
    assert score.excluded("web/node_modules/openai/index.js", [])
    assert score.excluded("static/app.min.js", [])
    assert score.excluded("docs/guide.py", ["docs/*"])
    assert not score.excluded("src/app.py", [])


def test_rebuild_checks_out_the_pinned_commit_from_a_local_clone(tmp_path):
    rebuild = load("rebuild")
    source = tmp_path / "mirror" / "acme+demo" / "repo"
    source.mkdir(parents=True)
    git = ["git", "-C", str(source), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(source)], check=True)
    (source / "app.py").write_text("import openai\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    pinned = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    (source / "app.py").write_text("import anthropic\n")
    subprocess.run([*git, "commit", "-qam", "two"], check=True)
    pin = {"id": "acme__demo", "url": "https://github.com/acme/demo", "commit": pinned}
    dest = tmp_path / "trees"
    assert rebuild.rebuild(pin, dest, tmp_path / "mirror") == "checked out"
    assert (dest / "acme__demo" / "app.py").read_text() == "import openai\n"
    assert rebuild.rebuild(pin, dest, tmp_path / "mirror") == "up to date"
    with pytest.raises(RuntimeError):
        rebuild.rebuild(
            {**pin, "id": "acme__missing", "url": "https://github.com/acme/missing"},
            dest,
            tmp_path / "mirror",
        )


def test_rebuild_leaves_out_files_whose_blobs_the_mirror_lacks(tmp_path):
    rebuild = load("rebuild")
    source = tmp_path / "mirror" / "acme+big" / "repo"
    source.mkdir(parents=True)
    git = ["git", "-C", str(source), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(source)], check=True)
    (source / "app.py").write_text("import openai\n")
    (source / "weights.bin").write_bytes(b"large model weights")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    pinned = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    blob = subprocess.run(
        [*git, "rev-parse", "HEAD:weights.bin"], capture_output=True, text=True
    ).stdout.strip()
    (source / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    pin = {"id": "acme__big", "url": "https://github.com/acme/big", "commit": pinned}
    outcome = rebuild.rebuild(pin, tmp_path / "trees", tmp_path / "mirror")
    assert outcome == "checked out without 1 file(s) absent from the source: weights.bin"
    assert (tmp_path / "trees" / "acme__big" / "app.py").read_text() == "import openai\n"
    assert not (tmp_path / "trees" / "acme__big" / "weights.bin").exists()
    assert rebuild.rebuild(pin, tmp_path / "trees", tmp_path / "mirror") == "up to date"


def test_every_committed_repository_file_follows_the_schema():
    for path in sorted((BENCH / "repos").glob("*.json")):
        repo = json.loads(path.read_text())
        assert repo["id"] == path.stem and len(repo["commit"]) == 40 and repo["half"] in ("tune", "holdout")
        for entry in repo["labels"]:
            assert {"file", "line", "category", "name"} <= set(entry)
            assert entry["category"] in score_categories(), entry


def score_categories() -> set[str]:
    from common.scanner.model import COMPONENT_TYPES

    return {*COMPONENT_TYPES, "api_key"}


def test_a_bare_maven_artifact_is_read_with_the_group_its_build_file_gives_it(score, tmp_path):
    (tmp_path / "pom.xml").write_text(
        "<dependency>\n  <groupId>org.springframework.ai</groupId>\n"
        "  <artifactId>spring-ai-starter-model-openai</artifactId>\n</dependency>\n"
    )
    (tmp_path / "build.gradle.kts").write_text('implementation("dev.langchain4j:langchain4j-open-ai:1.0")\n')
    repo = {
        "labels": [
            label("pom.xml", "agent_framework", "spring-ai-starter-model-openai", line=3),
            label("build.gradle.kts", "agent_framework", "langchain4j-open-ai"),
        ]
    }
    completed = {unit.file: unit.keys for unit in score.label_units(repo, tmp_path)}
    assert completed["pom.xml"] == {"spring-ai"}
    bare = {unit.file: unit.keys for unit in score.label_units(repo)}
    assert bare["pom.xml"] == {"spring-ai-starter-model-openai"}


def test_engine_source_scans_from_its_own_directory(score, tmp_path, monkeypatch):
    """A scan's workers are ``python -c`` interpreters, whose first import path is the working directory:
    the engine named by ``--engine-src`` must run from there, or its workers import the checkout's."""
    engine = tmp_path / "before"
    (engine / "common").mkdir(parents=True)
    (engine / "common" / "__init__.py").write_text("")
    (engine / "common" / "cli.py").write_text("import os, sys\nopen(sys.argv[-1], 'w').write(os.getcwd())\n")
    record = tmp_path / "cwd.txt"
    monkeypatch.setattr(score, "ENGINE_SOURCE", engine)
    subprocess.run(score.trusera_command("scan", str(record)), cwd=tmp_path, check=True)
    assert record.read_text() == str(engine)

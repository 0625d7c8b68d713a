"""The synthetic export bundle every exporter test uses, and tests of the shared helpers.

The bundle looks like a real scan of a polyglot AI service: SDKs declared in seven
ecosystems' manifests, one SDK used without being declared, models (one retired, one
from Hugging Face), endpoints, an MCP server, a container, a cloud resource, a pickle
model file, a leaked key, an n8n workflow, and names crafted to break naive exporters.
"""

from __future__ import annotations

import pytest
from packageurl import PackageURL

from common.exporters import FORMATS, UnknownFormatError, render
from common.exporters.bundle import findings, summary
from common.exporters.purl import purl_for
from tests.factories import component

HOSTILE_TOOL = '=HYPERLINK("https://evil.example","open")'
HOSTILE_WORKFLOW = "Support <img src=x onerror=alert(1)> | triage"


def make_components() -> list[dict]:
    return [
        component(
            "llm_provider",
            "openai",
            provider="openai",
            version="1.52.0",
            risk=75,
            severity="high",
            flags=["hardcoded_api_key"],
            locations=[
                ("requirements.txt", 3, "openai==1.52.0"),
                ("src/app.py", 12, 'client = OpenAI(api_key="sk-proj-****Xy9Q")'),
            ],
            metadata={"manifests": ["requirements.txt"], "declared_as": ["openai"]},
        ),
        component(
            "llm_provider",
            "anthropic",
            provider="anthropic",
            version="0.30.1",
            locations=[("web/package.json", 14, '"@anthropic-ai/sdk": "0.30.1"')],
            metadata={"manifests": ["web/package.json"], "declared_as": ["@anthropic-ai/sdk"]},
        ),
        component(
            "agent_framework",
            "langchain",
            provider="langchain",
            version=">=0.2",
            risk=15,
            locations=[
                ("pyproject.toml", 9, 'langchain = ">=0.2"'),
                ("src/agent.py", 4, "from langchain import hub"),
            ],
            metadata={"manifests": ["pyproject.toml"], "declared_as": ["langchain[openai]"]},
        ),
        component(
            "llm_provider",
            "go-openai",
            provider="openai",
            version="v1.32.0",
            locations=[("svc/go.mod", 5, "github.com/sashabaranov/go-openai v1.32.0")],
            metadata={"manifests": ["svc/go.mod"], "declared_as": ["github.com/sashabaranov/go-openai"]},
        ),
        component(
            "agent_framework",
            "langchain4j",
            provider="langchain4j",
            version="0.35.0",
            locations=[("jvm/pom.xml", 31, "<artifactId>langchain4j-open-ai</artifactId>")],
            metadata={"manifests": ["jvm/pom.xml"], "declared_as": ["dev.langchain4j:langchain4j-open-ai"]},
        ),
        component(
            "vector_db",
            "qdrant",
            provider="qdrant",
            version="1.12.0",
            locations=[("rs/Cargo.toml", 8, 'qdrant-client = "1.12.0"')],
            metadata={"manifests": ["rs/Cargo.toml"], "declared_as": ["qdrant-client"]},
        ),
        component(
            "llm_provider",
            "ruby-openai",
            provider="openai",
            version="7.3.1",
            locations=[("rb/Gemfile", 6, "gem 'ruby-openai', '7.3.1'")],
            metadata={"manifests": ["rb/Gemfile"], "declared_as": ["ruby-openai"]},
        ),
        component(
            "llm_provider",
            "azure-openai",
            provider="microsoft",
            version="2.0.0",
            locations=[
                ("dotnet/Api.csproj", 11, '<PackageReference Include="Azure.AI.OpenAI" Version="2.0.0" />')
            ],
            metadata={"manifests": ["dotnet/Api.csproj"], "declared_as": ["Azure.AI.OpenAI"]},
        ),
        component(
            "llm_provider",
            "cohere",
            provider="cohere",
            flags=["shadow_ai"],
            risk=25,
            severity="low",
            locations=[("src/rank.py", 2, "import cohere")],
        ),
        component(
            "model",
            "gpt-4o",
            provider="openai",
            model_name="gpt-4o",
            flags=["unpinned_model"],
            risk=10,
            locations=[("src/app.py", 20, 'model="gpt-4o"'), ("tests/test_app.py", 7, 'model="gpt-4o"')],
            metadata={
                "lifecycle": {
                    "catalog_id": "gpt-4o",
                    "family": "gpt-4o",
                    "released": "2024-05-13",
                    "deprecated": None,
                    "retired": None,
                }
            },
        ),
        component(
            "model",
            "gpt-3.5-turbo-0301",
            provider="openai",
            model_name="gpt-3.5-turbo-0301",
            flags=["retired_model"],
            risk=35,
            severity="medium",
            locations=[("src/legacy.py", 41, 'model = "gpt-3.5-turbo-0301"')],
            metadata={
                "lifecycle": {
                    "catalog_id": "gpt-3.5-turbo-0301",
                    "family": "gpt-3.5",
                    "released": "2023-03-01",
                    "deprecated": "2023-06-13",
                    "retired": "2024-06-13",
                    "retired_source": "https://platform.openai.com/docs/deprecations",
                }
            },
        ),
        component(
            "model",
            "meta-llama/llama-3.1-8b-instruct",
            provider="huggingface",
            risk=5,
            severity="info",
            locations=[("src/local.py", 9, 'AutoModel.from_pretrained("meta-llama/Llama-3.1-8B-Instruct")')],
        ),
        component(
            "endpoint",
            "api.openai.com",
            provider="openai",
            risk=10,
            locations=[
                ("src/http_client.py", 17, 'requests.post("https://api.openai.com/v1/chat/completions")')
            ],
            metadata={"url": "https://api.openai.com/v1/chat/completions"},
        ),
        component(
            "endpoint",
            "localhost:11434",
            provider="ollama",
            risk=10,
            locations=[(".env", 2, "OLLAMA_HOST=http://localhost:11434")],
            metadata={"url": "http://localhost:11434"},
        ),
        component(
            "mcp_server",
            "remote-files",
            flags=["mcp_remote_server", "mcp_unknown_server"],
            risk=50,
            severity="medium",
            locations=[(".cursor/mcp.json", 4, '"remote-files": {"url": "https://mcp.example.com/sse"}')],
            metadata={"transport": "sse"},
        ),
        component(
            "container",
            "ollama/ollama",
            provider="ollama",
            version="0.3.12",
            risk=5,
            severity="info",
            locations=[("docker-compose.yml", 5, "image: ollama/ollama:0.3.12")],
        ),
        component(
            "cloud_resource",
            "aws_sagemaker_endpoint.llm",
            provider="aws",
            flags=["gpu_instance"],
            risk=20,
            locations=[("infra/main.tf", 22, 'resource "aws_sagemaker_endpoint" "llm" {')],
        ),
        component(
            "model_file",
            "models/classifier.pkl",
            flags=["unsafe_model_format"],
            risk=40,
            severity="medium",
            locations=[("models/classifier.pkl", 0, "")],
            metadata={"format": "pickle", "size_bytes": 1048576, "sha256": "ab" * 32},
        ),
        component(
            "workflow",
            HOSTILE_WORKFLOW,
            flags=["webhook_no_auth"],
            risk=45,
            severity="medium",
            locations=[("n8n/support.json", 1, "")],
        ),
        component(
            "tool",
            HOSTILE_TOOL,
            flags=["code_http_tools"],
            risk=35,
            severity="medium",
            locations=[("n8n/support.json", 57, '"type": "n8n-nodes-base.code"')],
        ),
        component(
            "model",
            "claude-3-5-sonnet-20241022",
            provider="anthropic",
            risk=5,
            severity="info",
            scope="test",
            locations=[("tests/fixtures/llm.py", 3, 'model="claude-3-5-sonnet-20241022"')],
        ),
    ]


def by_name(components: list[dict], name: str) -> dict:
    return next(c for c in components if c["name"] == name)


def make_relationships(components: list[dict]) -> list[dict]:
    ids = {c["name"]: c["id"] for c in components}
    edges = [
        ("file:requirements.txt", ids["openai"], "declares"),
        ("file:src/app.py", ids["openai"], "contains"),
        ("file:src/app.py", ids["gpt-4o"], "contains"),
        ("file:pyproject.toml", ids["langchain"], "declares"),
        ("file:src/agent.py", ids["langchain"], "contains"),
        (ids["langchain"], ids["gpt-4o"], "uses_model"),
        ("file:web/package.json", ids["anthropic"], "declares"),
        ("file:svc/go.mod", ids["go-openai"], "declares"),
        ("file:src/http_client.py", ids["api.openai.com"], "calls"),
        ("file:.cursor/mcp.json", ids["remote-files"], "contains"),
        ("file:docker-compose.yml", ids["ollama/ollama"], "contains"),
        (ids["ollama/ollama"], ids["meta-llama/llama-3.1-8b-instruct"], "uses_model"),
        ("file:n8n/support.json", ids[HOSTILE_WORKFLOW], "contains"),
        (ids[HOSTILE_WORKFLOW], ids[HOSTILE_TOOL], "has_node"),
        (ids[HOSTILE_WORKFLOW], ids["gpt-4o"], "uses_model"),
        ("file:infra/main.tf", ids["aws_sagemaker_endpoint.llm"], "contains"),
    ]
    return [{"source": s, "target": t, "relation": r} for s, t, r in edges]


def make_compliance(components: list[dict]) -> dict:
    key_holder = by_name(components, "openai")["id"]
    return {
        "frameworks": [
            {
                "id": "owasp-llm-top10",
                "name": "OWASP Top 10 for LLM Applications",
                "version": "2025",
                "score": 50,
                "counts": {"pass": 1, "fail": 1, "warning": 1, "not_applicable": 1},
                "controls": [
                    {
                        "id": "LLM02",
                        "title": "Sensitive Information Disclosure",
                        "reference": "https://genai.owasp.org",
                        "status": "fail",
                        "evidence": [key_holder],
                        "message": "A provider key is committed",
                        "remediation": "Revoke the key and load it from a secret store",
                        "limitations": "",
                    },
                    {
                        "id": "LLM03",
                        "title": "Supply Chain",
                        "reference": "",
                        "status": "warning",
                        "evidence": [],
                        "message": "1 SDK is not declared",
                        "remediation": "",
                        "limitations": "",
                    },
                    {
                        "id": "LLM05",
                        "title": "Improper Output Handling",
                        "reference": "",
                        "status": "pass",
                        "evidence": [],
                        "message": "",
                        "remediation": "",
                        "limitations": "",
                    },
                    {
                        "id": "LLM08",
                        "title": "Vector and Embedding Weaknesses",
                        "reference": "",
                        "status": "not_applicable",
                        "evidence": [],
                        "message": "No RAG pipeline found",
                        "remediation": "",
                        "limitations": "",
                    },
                ],
            }
        ],
        "custom_rules": [
            {
                "id": "r1",
                "name": "No hardcoded keys",
                "severity": "critical",
                "status": "fail",
                "matched": [key_holder],
            },
        ],
    }


def make_policies(components: list[dict]) -> list[dict]:
    return [
        {
            "policy_id": "p-keys",
            "name": "Block leaked keys",
            "action": "block",
            "passed": False,
            "violations": [
                {
                    "rule_index": 0,
                    "component_id": by_name(components, "openai")["id"],
                    "message": "hardcoded_api_key on openai",
                    "severity": "critical",
                }
            ],
        },
        {
            "policy_id": "p-retired",
            "name": "Warn on retired models",
            "action": "warn",
            "passed": False,
            "violations": [
                {
                    "rule_index": 0,
                    "component_id": None,
                    "message": "1 retired model in scan",
                    "severity": "medium",
                }
            ],
        },
        {
            "policy_id": "p-gpu",
            "name": "No GPU without owner",
            "action": "warn",
            "passed": True,
            "violations": [],
        },
    ]


def make_bundle(components: list[dict] | None = None, *, with_results: bool = True) -> dict:
    """The realistic scan; ``components`` replaces its components (and drops its graph and results)."""
    realistic = components is None
    components = make_components() if realistic else components
    return {
        "scan": {
            "id": "5f0c1a9e-2b7d-4c1e-9f3a-8d2e6b1c4a70",
            "organization_id": "org-acme",
            "target": "github.com/acme/support-bot",
            "status": "completed",
            "deep": True,
            "created_at": "2025-03-01T10:00:00+00:00",
            "started_at": "2025-03-01T10:00:02+00:00",
            "finished_at": "2025-03-01T10:00:09+00:00",
            "summary": None,
        },
        "components": components,
        "relationships": make_relationships(components) if realistic else [],
        "compliance": make_compliance(components) if with_results and realistic else None,
        "policies": make_policies(components) if with_results and realistic else None,
        "tool": {"name": "trusera", "version": "0.1.0"},
    }


def test_formats_cover_the_seven_api_formats():
    assert set(FORMATS) == {"cyclonedx", "sarif", "spdx3", "html", "csv", "markdown", "junit"}
    assert all(set(meta) == {"content_type", "extension"} for meta in FORMATS.values())


def test_unknown_format_is_refused():
    with pytest.raises(UnknownFormatError, match="pdf"):
        render("pdf", make_bundle())


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_is_deterministic_and_handles_missing_results(name):
    bundle = make_bundle()
    assert render(name, bundle) == render(name, make_bundle())
    assert render(name, make_bundle(with_results=False))
    assert render(name, make_bundle([]))


def test_purls_follow_each_ecosystem_rules():
    components = make_components()
    purls = {c["name"]: purl_for(c) for c in components}
    assert {name: str(p) for name, p in purls.items() if p is not None} == {
        "openai": "pkg:pypi/openai@1.52.0",
        "anthropic": "pkg:npm/%40anthropic-ai/sdk@0.30.1",
        "langchain": "pkg:pypi/langchain",
        "go-openai": "pkg:golang/github.com/sashabaranov/go-openai@v1.32.0",
        "langchain4j": "pkg:maven/dev.langchain4j/langchain4j-open-ai@0.35.0",
        "qdrant": "pkg:cargo/qdrant-client@1.12.0",
        "ruby-openai": "pkg:gem/ruby-openai@7.3.1",
        "azure-openai": "pkg:nuget/Azure.AI.OpenAI@2.0.0",
        "meta-llama/llama-3.1-8b-instruct": "pkg:huggingface/meta-llama/llama-3.1-8b-instruct",
        "ollama/ollama": "pkg:docker/ollama/ollama@0.3.12",
    }
    for purl in purls.values():
        if purl is not None:
            assert PackageURL.from_string(str(purl)) == purl


def test_findings_are_component_by_flag_by_location():
    components = make_components()
    expected = sum(len(c["flags"]) * max(len(c["locations"]), 1) for c in components)
    produced = list(findings(components))
    assert len(produced) == expected
    openai = [f for f in produced if f.component["name"] == "openai"]
    assert [(f.flag, f.file, f.line) for f in openai] == [
        ("hardcoded_api_key", "requirements.txt", 3),
        ("hardcoded_api_key", "src/app.py", 12),
    ]


def test_summary_is_computed_when_the_scan_has_none():
    bundle = make_bundle()
    totals = summary(bundle)
    assert totals["total_components"] == len(bundle["components"])
    assert totals["by_severity"]["high"] == 1
    assert totals["highest_risk_score"] == 75

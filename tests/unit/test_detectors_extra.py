"""Containers, IaC, MCP configs, model files and n8n workflows: each detector on real-looking input,
hard negatives next to the positives, and bad input that must turn into warnings."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import struct
import zipfile
from pathlib import Path

import pytest

from common.scanner.detectors import model_files
from common.scanner.detectors.base import FileReport, SourceFile
from common.scanner.detectors.containers import ContainerDetector
from common.scanner.detectors.iac import IacDetector
from common.scanner.detectors.mcp_config import McpConfigDetector
from common.scanner.detectors.model_files import ModelFileDetector
from common.scanner.detectors.n8n import N8nWorkflowDetector

OPENAI_KEY = "sk-proj-Abcdefghijklmnopqrstuvwxyz0123456789"
GITHUB_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


def write(root: Path, relpath: str, content: str | bytes) -> SourceFile:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return SourceFile(path=path, relpath=relpath, size=path.stat().st_size)


def run(detector, root: Path, relpath: str, content: str | bytes):
    source = write(root, relpath, content)
    report = FileReport()
    findings = list(detector.detect(source, report)) if detector.applies_to(source) else []
    return findings, report


def by_key(findings) -> dict:
    merged: dict = {}
    for finding in findings:
        entry = merged.setdefault(finding.key, {"flags": set(), "lines": set(), "findings": []})
        entry["flags"] |= finding.flags
        entry["lines"].add(finding.location.line)
        entry["findings"].append(finding)
    return merged


def dump(findings) -> str:
    return json.dumps(
        [
            {
                "name": f.name,
                "loc": f.location.to_dict(),
                "meta": f.metadata,
                "version": f.version,
                "model": f.model_name,
            }
            for f in findings
        ],
        default=str,
    )


# ---------------------------------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------------------------------

DOCKERFILE = """\
ARG BASE=nvidia/cuda:12.4.1-runtime-ubuntu22.04
FROM ${BASE} AS runtime
RUN apt-get update && \\
    pip install vllm
# RUN ollama pull commented-out-model
FROM ollama/ollama:0.3.12 AS models
RUN ollama serve & sleep 5 && \\
    ollama pull llama3.1:8b && ollama pull nomic-embed-text
FROM runtime
CMD ["python", "-m", "vllm.entrypoints.openai.api_server", "--model", "meta-llama/Llama-3.1-8B-Instruct"]
"""


def test_dockerfile_images_and_pulled_models(tmp_path):
    findings, report = run(ContainerDetector(), tmp_path, "docker/Dockerfile", DOCKERFILE)
    found = by_key(findings)
    # the CUDA base image only provides a GPU runtime: not an AI component on its own; what the
    # image installs on it is
    assert set(found) == {
        "container:ollama/ollama",
        "ml_framework:vllm",
        "model:llama3.1:8b",
        "model:nomic-embed-text",
        "model:meta-llama/llama-3.1-8b-instruct",
    }
    assert found["ml_framework:vllm"]["lines"] == {4}
    assert found["container:ollama/ollama"]["findings"][0].version == "0.3.12"
    assert found["model:llama3.1:8b"]["lines"] == {8}
    assert found["model:nomic-embed-text"]["flags"] == {"unpinned_model"}
    assert found["model:llama3.1:8b"]["flags"] == set()
    assert report.warnings == []


def test_dockerfile_without_ai_is_silent(tmp_path):
    content = (
        "FROM python:3.12-slim AS build\nRUN pip install -r requirements.txt\nFROM build\nCMD python app.py\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "Dockerfile", content)
    assert findings == []


COMPOSE = """\
services:
  ollama:
    image: docker.io/ollama/ollama:latest
    ports:
      - "11434:11434"
    volumes:
      - ollama:/root/.ollama
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: all
              capabilities: [gpu]
  vllm:
    image: vllm/vllm-openai:v0.6.3
    command: --model mistralai/Mistral-7B-Instruct-v0.3 --port 8000
    ports:
      - "127.0.0.1:8000:8000"
  web:
    image: nginx:1.27
    ports: ["80:80"]
  trainer:
    image: acme/trainer:1.0
    runtime: nvidia
  api:
    build: .
    ports: ["8080:8080"]
volumes:
  ollama: {}
"""


def test_compose_services_gpu_ports_and_volumes(tmp_path):
    findings, report = run(ContainerDetector(), tmp_path, "docker-compose.yml", COMPOSE)
    found = by_key(findings)
    assert set(found) == {
        "container:ollama/ollama",
        "container:vllm/vllm-openai",
        "model:mistralai/mistral-7b-instruct-v0.3",
    }
    ollama = found["container:ollama/ollama"]
    assert ollama["flags"] == {"gpu_instance", "internet_facing"}
    assert ollama["lines"] == {3}
    assert ollama["findings"][0].metadata["model_volumes"] == ["ollama:/root/.ollama"]
    # published on loopback only: not internet facing; the image is GPU-only
    assert found["container:vllm/vllm-openai"]["flags"] == {"gpu_instance"}
    # an unknown image that merely asks for a GPU is not an AI component
    assert report.warnings == []


@pytest.mark.parametrize(
    ("port", "public"),
    [
        ('"8000:8000"', True),
        ('"8000"', True),
        ('"0.0.0.0:8000:8000"', True),
        ('"127.0.0.1:8000:8000"', False),
        ('"[::1]:8000:8000"', False),
        ("{target: 8000, published: 8000, host_ip: 127.0.0.1}", False),
        ("{target: 8000, published: 8000}", True),
        ("{target: 8000}", False),
    ],
)
def test_compose_port_exposure(tmp_path, port, public):
    content = f"services:\n  llm:\n    image: ollama/ollama:0.4.0\n    ports:\n      - {port}\n"
    findings, _ = run(ContainerDetector(), tmp_path, "compose.yaml", content)
    assert ("internet_facing" in findings[0].flags) is public


KUBERNETES = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: tgi
spec:
  template:
    metadata:
      labels: {app: tgi}
    spec:
      containers:
        - name: tgi
          image: ghcr.io/huggingface/text-generation-inference:2.4.0
          args: ["--model-id", "meta-llama/Llama-3.1-8B-Instruct"]
          resources:
            limits:
              nvidia.com/gpu: 1
          volumeMounts:
            - {name: cache, mountPath: /data/models}
        - name: sidecar
          image: busybox:1.36
---
apiVersion: v1
kind: Service
metadata: {name: tgi}
spec:
  type: LoadBalancer
  selector: {app: tgi}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: embed}
spec:
  jobTemplate:
    spec:
      template:
        metadata:
          labels: {app: embed}
        spec:
          containers:
            - name: embed
              image: ghcr.io/huggingface/text-embeddings-inference:cpu-1.5
---
apiVersion: v1
kind: Service
metadata: {name: embed}
spec:
  type: ClusterIP
  selector: {app: embed}
"""


def test_kubernetes_gpu_limits_services_and_volumes(tmp_path):
    findings, report = run(ContainerDetector(), tmp_path, "k8s/deploy.yaml", KUBERNETES)
    found = by_key(findings)
    assert set(found) == {
        "container:ghcr.io/huggingface/text-generation-inference",
        "container:ghcr.io/huggingface/text-embeddings-inference",
        "model:meta-llama/llama-3.1-8b-instruct",
    }
    tgi = found["container:ghcr.io/huggingface/text-generation-inference"]
    assert tgi["flags"] == {"gpu_instance", "internet_facing"}
    assert tgi["lines"] == {12}
    assert tgi["findings"][0].metadata["model_volumes"] == ["/data/models"]
    assert tgi["findings"][0].metadata["workload"] == "Deployment/tgi"
    assert found["container:ghcr.io/huggingface/text-embeddings-inference"]["flags"] == set()
    assert report.warnings == []


def test_kubernetes_ingress_exposes_selected_workload(tmp_path):
    content = """\
apiVersion: v1
kind: Pod
metadata: {name: ollama, labels: {app: ollama}}
spec:
  containers: [{name: ollama, image: ollama/ollama:0.4.0}]
---
apiVersion: v1
kind: Service
metadata: {name: ollama-svc}
spec: {selector: {app: ollama}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
    - http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: ollama-svc, port: {number: 11434}}}}
"""
    findings, _ = run(ContainerDetector(), tmp_path, "pod.yaml", content)
    assert findings[0].flags == {"internet_facing"}


def test_broken_manifest_warns_and_falls_back_to_image_lines(tmp_path):
    content = """\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: ollama
          image: ollama/ollama:{{ .Values.tag }}
        - name: api
          image: "vllm/vllm-openai:v0.6.0"
      {{- if .Values.gpu }}
"""
    findings, report = run(ContainerDetector(), tmp_path, "chart/templates/deploy.yaml", content)
    assert [f.key for f in findings] == ["container:vllm/vllm-openai"]
    assert findings[0].location.line == 10
    assert report.warnings and "not valid YAML" in report.warnings[0]


def test_yaml_that_is_neither_compose_nor_kubernetes_is_ignored(tmp_path):
    content = "image: ollama/ollama:latest\nmodel: llama3\n"
    findings, report = run(ContainerDetector(), tmp_path, "config/settings.yaml", content)
    assert findings == [] and report.warnings == []


def test_deep_nesting_does_not_hide_the_rest_of_the_file(tmp_path):
    content = "services:\n  x: " + "[" * 5000 + "]" * 5000 + "\n  llm:\n    image: ollama/ollama:0.4.0\n"
    findings, _ = run(ContainerDetector(), tmp_path, "docker-compose.yaml", content)
    assert [f.key for f in findings] == ["container:ollama/ollama"]


def test_shell_script_ollama_pull(tmp_path):
    content = "#!/bin/sh\n# ollama pull not-this-one\nollama pull qwen2.5:7b\necho done\n"
    findings, _ = run(ContainerDetector(), tmp_path, "scripts/setup.sh", content)
    assert [(f.key, f.location.line) for f in findings] == [("model:qwen2.5:7b", 3)]


# ---------------------------------------------------------------------------------------------------
# Infrastructure as code
# ---------------------------------------------------------------------------------------------------

TERRAFORM = """\
variable "agent_model" {
  type    = string
  default = "anthropic.claude-3-5-sonnet-20240620-v1:0"
}

locals {
  prefix = "acme" # a comment with a { brace
}

/* a disabled resource
resource "aws_bedrockagent_agent" "commented" {}
*/

resource "aws_bedrockagent_agent" "support" {
  agent_name       = "${local.prefix}-support"
  foundation_model = var.agent_model
  instruction      = <<-EOT
    You are helpful { and this brace is text
  EOT
}

resource "aws_sagemaker_model" "llm" {
  name = "llm"
  primary_container {
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1"
    environment = {
      HF_MODEL_ID = "meta-llama/Meta-Llama-3-8B-Instruct"
      SM_NUM_GPUS = "1"
    }
  }
}

resource "aws_sagemaker_endpoint_configuration" "llm" {
  production_variants {
    variant_name  = "main"
    model_name    = aws_sagemaker_model.llm.name
    instance_type = "ml.g5.2xlarge"
  }
}

resource "aws_sagemaker_endpoint" "llm" {
  endpoint_config_name = aws_sagemaker_endpoint_configuration.llm.name
}

resource "aws_sagemaker_notebook_instance" "lab" {
  instance_type          = "ml.t3.medium"
  direct_internet_access = "Disabled"
}

resource "azurerm_cognitive_account" "openai" {
  kind                          = "OpenAI"
  public_network_access_enabled = true
}

resource "azurerm_cognitive_deployment" "gpt4o" {
  cognitive_account_id = azurerm_cognitive_account.openai.id
  model {
    format  = "OpenAI"
    name    = "gpt-4o"
    version = "2024-08-06"
  }
  sku { name = "Standard" }
}

resource "google_vertex_ai_endpoint" "private" {
  name    = "private"
  network = "projects/1/global/networks/vpc"
}

resource "google_vertex_ai_endpoint" "public" {
  name = "public"
}

resource "aws_s3_bucket" "data" {
  bucket = "acme-openai-data"
}
"""


def test_terraform_ai_resources(tmp_path):
    findings, report = run(IacDetector(), tmp_path, "infra/main.tf", TERRAFORM)
    found = by_key(findings)
    assert set(found) == {
        "cloud_resource:aws_bedrockagent_agent.support",
        "model:anthropic.claude-3-5-sonnet-20240620-v1:0",
        "cloud_resource:aws_sagemaker_model.llm",
        "model:meta-llama/meta-llama-3-8b-instruct",
        "cloud_resource:aws_sagemaker_endpoint_configuration.llm",
        "cloud_resource:aws_sagemaker_endpoint.llm",
        "cloud_resource:aws_sagemaker_notebook_instance.lab",
        "cloud_resource:azurerm_cognitive_account.openai",
        "cloud_resource:azurerm_cognitive_deployment.gpt4o",
        "model:gpt-4o",
        "cloud_resource:google_vertex_ai_endpoint.private",
        "cloud_resource:google_vertex_ai_endpoint.public",
    }
    flags = {key: entry["flags"] for key, entry in found.items()}
    assert flags["cloud_resource:aws_sagemaker_endpoint_configuration.llm"] == {"gpu_instance"}
    assert flags["cloud_resource:aws_sagemaker_endpoint.llm"] == {"internet_facing"}
    assert flags["cloud_resource:aws_sagemaker_model.llm"] == set()
    assert flags["cloud_resource:aws_sagemaker_notebook_instance.lab"] == set()
    assert flags["cloud_resource:azurerm_cognitive_account.openai"] == {"internet_facing"}
    assert flags["cloud_resource:google_vertex_ai_endpoint.public"] == {"internet_facing"}
    assert flags["cloud_resource:google_vertex_ai_endpoint.private"] == set()
    agent = found["cloud_resource:aws_bedrockagent_agent.support"]["findings"][0]
    assert agent.location.line == 14 and agent.name == "aws_bedrockagent_agent.support"
    assert agent.relations == [("uses_model", "model:anthropic.claude-3-5-sonnet-20240620-v1:0")]
    gpt = found["model:gpt-4o"]["findings"][0]
    assert gpt.version == "2024-08-06" and gpt.location.line == 59
    assert (
        found["cloud_resource:azurerm_cognitive_account.openai"]["findings"][0].provider == "Microsoft Azure"
    )
    assert report.warnings == []


def test_terraform_private_azure_and_gpu_compute(tmp_path):
    content = """\
resource "azurerm_cognitive_account" "locked" {
  kind = "OpenAI"
  public_network_access_enabled = false
}
resource "azurerm_machine_learning_compute_cluster" "train" {
  vm_size = "Standard_NC24ads_A100_v4"
}
resource "azurerm_machine_learning_compute_cluster" "cpu" {
  vm_size = "Standard_D4s_v3"
}
"""
    findings, _ = run(IacDetector(), tmp_path, "azure.tf", content)
    flags = {f.name: f.flags for f in findings}
    assert flags == {
        "azurerm_cognitive_account.locked": set(),
        "azurerm_machine_learning_compute_cluster.train": {"gpu_instance"},
        "azurerm_machine_learning_compute_cluster.cpu": set(),
    }


def test_terraform_without_ai_resources_and_unbalanced_file(tmp_path):
    findings, report = run(
        IacDetector(), tmp_path, "s3.tf", 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n'
    )
    assert findings == [] and report.warnings == []
    broken = 'resource "aws_bedrock_guardrail" "g" {\n  name = "g"\n  content_policy_config {\n'
    findings, _ = run(IacDetector(), tmp_path, "broken.tf", broken)
    assert [f.name for f in findings] == ["aws_bedrock_guardrail.g"]


CLOUDFORMATION = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ModelName: {Type: String}
Resources:
  Agent:
    Type: AWS::Bedrock::Agent
    Properties:
      AgentName: support
      FoundationModel: anthropic.claude-3-haiku-20240307-v1:0
      AgentResourceRoleArn: !GetAtt AgentRole.Arn
  KnowledgeBase:
    Type: AWS::Bedrock::KnowledgeBase
    Properties:
      KnowledgeBaseConfiguration:
        VectorKnowledgeBaseConfiguration:
          EmbeddingModelArn: !Sub arn:aws:bedrock:${AWS::Region}::foundation-model/cohere.embed-v3
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      PrimaryContainer:
        Image: !Ref ImageUri
        Environment:
          HF_MODEL_ID: mistralai/Mistral-7B-Instruct-v0.3
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - ModelName: !GetAtt Model.ModelName
          InstanceType: ml.p4d.24xlarge
          VariantName: main
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointConfigName: !GetAtt Config.EndpointConfigName
  Bucket:
    Type: AWS::S3::Bucket
"""


def test_cloudformation_yaml_with_intrinsic_tags(tmp_path):
    findings, report = run(IacDetector(), tmp_path, "template.yaml", CLOUDFORMATION)
    found = by_key(findings)
    assert set(found) == {
        "cloud_resource:aws::bedrock::agent.agent",
        "model:anthropic.claude-3-haiku-20240307-v1:0",
        "cloud_resource:aws::bedrock::knowledgebase.knowledgebase",
        "cloud_resource:aws::sagemaker::model.model",
        "model:mistralai/mistral-7b-instruct-v0.3",
        "cloud_resource:aws::sagemaker::endpointconfig.config",
        "cloud_resource:aws::sagemaker::endpoint.endpoint",
    }
    assert found["cloud_resource:aws::sagemaker::endpointconfig.config"]["flags"] == {"gpu_instance"}
    assert found["cloud_resource:aws::sagemaker::endpoint.endpoint"]["flags"] == {"internet_facing"}
    assert found["cloud_resource:aws::bedrock::agent.agent"]["lines"] == {5}
    assert found["model:anthropic.claude-3-haiku-20240307-v1:0"]["lines"] == {9}
    assert report.warnings == []


def test_cloudformation_json_and_broken_templates(tmp_path):
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Guard": {"Type": "AWS::Bedrock::Guardrail", "Properties": {"Name": "g"}},
            "Nb": {
                "Type": "AWS::SageMaker::NotebookInstance",
                "Properties": {"InstanceType": "ml.g4dn.xlarge", "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}},
            },
        },
    }
    findings, _ = run(IacDetector(), tmp_path, "stack.json", json.dumps(template, indent=2))
    assert {f.name: f.flags for f in findings} == {
        "AWS::Bedrock::Guardrail.Guard": set(),
        "AWS::SageMaker::NotebookInstance.Nb": {"gpu_instance", "internet_facing"},
    }
    findings, report = run(
        IacDetector(), tmp_path, "bad.json", '{"Resources": {"X": {"Type": "AWS::Bedrock::Agent"'
    )
    assert findings == [] and report.warnings


def test_json_without_cloudformation_markers_is_ignored(tmp_path):
    findings, report = run(IacDetector(), tmp_path, "package.json", '{"name": "sagemaker-docs"}')
    assert findings == [] and report.warnings == []


# ---------------------------------------------------------------------------------------------------
# MCP client configs
# ---------------------------------------------------------------------------------------------------

CURSOR_MCP = {
    "mcpServers": {
        "github": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-github@2025.4.8"],
            "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": GITHUB_TOKEN},
        },
        "fetch": {"command": "uvx", "args": ["mcp-server-fetch"]},
        "weird": {"command": "npx", "args": ["-y", "totally-legit-mcp"], "env": {"API_KEY": "${API_KEY}"}},
        "db": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-postgres", "postgresql://admin:s3cretpass@db/app"],
        },
        "linear": {"url": "https://mcp.linear.app/sse"},
        "shady": {"command": "npx", "args": ["mcp-remote", "https://mcp.shady.example/mcp"]},
        "git-src": {"command": "uvx", "args": ["--from", "git+https://github.com/x/y", "y-mcp"]},
        "mine": {"command": "node", "args": ["./server/index.js"]},
        "local-http": {"url": "http://localhost:3001/mcp"},
        "placeholder": {"command": "npx", "args": ["@playwright/mcp"], "env": {"TOKEN": "your-token-here"}},
    }
}


def test_cursor_config_servers_flags_and_masked_secrets(tmp_path):
    text = json.dumps(CURSOR_MCP, indent=2)
    findings, report = run(McpConfigDetector(), tmp_path, ".cursor/mcp.json", text)
    found = by_key(findings)
    flags = {
        key.split(":", 1)[1]: entry["flags"] for key, entry in found.items() if key.startswith("mcp_server:")
    }
    assert flags == {
        "github": {"hardcoded_api_key"},
        "fetch": set(),
        "weird": {"mcp_unknown_server"},
        "db": {"hardcoded_api_key"},
        "linear": {"mcp_remote_server"},
        "shady": {"mcp_remote_server", "mcp_unknown_server"},
        "git-src": {"mcp_unknown_server"},
        "mine": set(),
        "local-http": set(),
        "placeholder": set(),
    }
    github = found["mcp_server:github"]
    assert github["lines"] == {3, 10}  # the server and the line holding its token
    assert github["findings"][0].version == "2025.4.8"
    assert github["findings"][0].metadata["package"] == "@modelcontextprotocol/server-github"
    client = found["mcp_client:cursor"]["findings"][0]
    assert ("connects_to", "mcp_server:github") in client.relations
    serialized = dump(findings)
    assert GITHUB_TOKEN not in serialized and "s3cretpass" not in serialized
    assert report.warnings == []


def test_vscode_settings_jsonc_and_claude_desktop(tmp_path):
    settings = """{
  // editor settings
  "editor.fontSize": 14,
  /* MCP */
  "mcp": {
    "servers": {
      "gh": {
        "command": "docker",
        "args": ["run", "-i", "--rm", "-e", "GITHUB_TOKEN", "ghcr.io/github/github-mcp-server"],
        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${input:github_token}"},
      },
    },
  },
}"""
    findings, report = run(McpConfigDetector(), tmp_path, ".vscode/settings.json", settings)
    assert [(f.key, f.flags, f.location.line) for f in findings] == [
        ("mcp_server:gh", set(), 7),
        ("mcp_client:vscode", set(), 0),
    ]
    assert report.warnings == []
    desktop = {"mcpServers": {"notes": {"command": "/opt/bin/notes-mcp", "args": []}}}
    findings, _ = run(McpConfigDetector(), tmp_path, "claude_desktop_config.json", json.dumps(desktop))
    assert [(f.key, f.flags) for f in findings] == [
        ("mcp_server:notes", {"mcp_unknown_server"}),
        ("mcp_client:claude-desktop", set()),
    ]


def test_remote_server_headers_with_key(tmp_path):
    config = {
        "servers": {
            "search": {
                "type": "http",
                "url": "https://mcp.example.ai/mcp",
                "headers": {"Authorization": f"Bearer {OPENAI_KEY}"},
            }
        }
    }
    findings, _ = run(McpConfigDetector(), tmp_path, ".vscode/mcp.json", json.dumps(config, indent=1))
    server = by_key(findings)["mcp_server:search"]
    assert server["flags"] == {"mcp_remote_server", "mcp_unknown_server", "hardcoded_api_key"}
    assert OPENAI_KEY not in dump(findings)


def test_mcp_negatives_and_bad_input(tmp_path):
    detector = McpConfigDetector()
    assert not detector.applies_to(write(tmp_path, "package.json", "{}"))
    assert not detector.applies_to(write(tmp_path, "docs/mcp.md", "mcp.json"))
    findings, report = run(detector, tmp_path, "mcp.json", '{"mcpServers": {"a": ')
    assert findings == [] and "not valid JSON" in report.warnings[0]
    findings, report = run(detector, tmp_path, "deep/mcp.json", "[" * 100_000 + "]" * 100_000)
    assert findings == [] and report.warnings
    findings, _ = run(detector, tmp_path, "other/mcp.json", '{"mcpServers": {}, "servers": []}')
    assert findings == []


# ---------------------------------------------------------------------------------------------------
# Model files
# ---------------------------------------------------------------------------------------------------


class _Shell:
    def __reduce__(self):
        return (os.system, ("echo owned",))


def gguf_bytes() -> bytes:
    def text(value: str) -> bytes:
        raw = value.encode()
        return struct.pack("<Q", len(raw)) + raw

    kv = (
        text("general.architecture") + struct.pack("<I", 8) + text("llama")
        + text("general.name") + struct.pack("<I", 8) + text("TinyLlama")
        + text("llama.context_length") + struct.pack("<I", 4) + struct.pack("<I", 2048)
    )  # fmt: skip
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 3) + kv + b"\0" * 64


def safetensors_bytes() -> bytes:
    header = json.dumps(
        {"__metadata__": {"format": "pt"}, "w": {"dtype": "F16", "shape": [4, 8], "data_offsets": [0, 64]}}
    ).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 64


def torch_zip(path: Path, payload: object) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(payload, protocol=2))
        archive.writestr("archive/version", "3\n")


def detect_model(tmp_path: Path, relpath: str, content: bytes | None = None):
    source = (
        SourceFile(path=tmp_path / relpath, relpath=relpath, size=(tmp_path / relpath).stat().st_size)
        if (content is None)
        else write(tmp_path, relpath, content)
    )
    detector = ModelFileDetector()
    report = FileReport()
    assert detector.applies_to(source)
    return list(detector.detect(source, report)), report


@pytest.mark.parametrize(
    ("relpath", "content", "format_", "flags"),
    [
        ("models/tiny.gguf", gguf_bytes(), "gguf", set()),
        ("models/tiny-gguf.bin", gguf_bytes(), "gguf", set()),
        ("models/model.safetensors", safetensors_bytes(), "safetensors", set()),
        (
            "models/model.onnx",
            bytes([8, 7, 0x12, 7]) + b"pytorch" + b"\x1a\x052.1.0" + b"\0" * 40,
            "onnx",
            set(),
        ),
        ("models/weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "hdf5", set()),
        ("models/m.tflite", b"\x1c\0\0\0TFL3" + b"\0" * 100, "tflite", set()),
        (
            "models/clf.pkl",
            pickle.dumps({"weights": [1, 2, 3]}, protocol=4),
            "pickle",
            {"unsafe_model_format"},
        ),
        ("models/old.pkl", pickle.dumps({"weights": [1, 2]}, protocol=0), "pickle", {"unsafe_model_format"}),
        (
            "models/payload.bin",
            pickle.dumps(_Shell(), protocol=4),
            "pickle",
            {"unsafe_model_format", "dangerous_code"},
        ),
        (
            "models/clf.joblib",
            b"\x78\x9c" + b"\x01" * 80,
            "compressed pickle (zlib)",
            {"unsafe_model_format"},
        ),
    ],
)
def test_model_formats_from_header(tmp_path, relpath, content, format_, flags):
    findings, report = detect_model(tmp_path, relpath, content)
    assert len(findings) == 1, report.warnings
    finding = findings[0]
    assert finding.key == f"model_file:{relpath}" and finding.type == "model_file"
    assert finding.metadata["format"] == format_
    assert finding.flags == flags
    assert finding.metadata["size_bytes"] == len(content)
    assert finding.metadata["sha256"] == hashlib.sha256(content).hexdigest()


def test_gguf_header_metadata_and_safetensors_details(tmp_path):
    findings, _ = detect_model(tmp_path, "a.gguf", gguf_bytes())
    assert findings[0].metadata["architecture"] == "llama" and findings[0].model_name == "TinyLlama"
    findings, _ = detect_model(tmp_path, "b.safetensors", safetensors_bytes())
    assert findings[0].metadata["parameters"] == 32 and findings[0].metadata["dtypes"] == ["F16"]


def test_pytorch_zip_and_keras_v3(tmp_path):
    torch_zip(tmp_path / "pytorch_model.bin", {"layer.weight": [0.1]})
    findings, _ = detect_model(tmp_path, "pytorch_model.bin")
    assert findings[0].metadata["format"] == "pytorch (zip+pickle)"
    assert findings[0].flags == {"unsafe_model_format"}
    with zipfile.ZipFile(tmp_path / "model.keras", "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("metadata.json", "{}")
        archive.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")
    findings, _ = detect_model(tmp_path, "model.keras")
    assert findings[0].metadata["format"] == "keras_v3" and findings[0].flags == set()


@pytest.mark.parametrize(
    ("relpath", "content"),
    [
        ("data/random.bin", os.urandom(4096)),
        ("data/notes.pkl", b"hello, this is text and not a pickle"),
        ("data/firmware.bin", b"\x7fELF" + b"\0" * 200),
        ("data/assets.pt", b""),
        ("data/compressed.bin", b"\x78\x9c" + b"\x01" * 80),
        ("data/fake.onnx", b"ONNX model goes here"),
    ],
)
def test_files_that_are_not_models(tmp_path, relpath, content):
    findings, report = detect_model(tmp_path, relpath, content)
    assert findings == [] and report.warnings == []


def test_zip_without_pickle_is_not_a_model(tmp_path):
    with zipfile.ZipFile(tmp_path / "bundle.pt", "w") as archive:
        archive.writestr("readme.txt", "hello")
    findings, _ = detect_model(tmp_path, "bundle.pt")
    assert findings == []


def test_large_model_file_threshold_and_streamed_hash(tmp_path, monkeypatch):
    monkeypatch.setitem(model_files.load_config(), "large_model_file_bytes", 3 * 1024 * 1024)
    content = gguf_bytes() + b"\x01" * (4 * 1024 * 1024)
    findings, _ = detect_model(tmp_path, "big.gguf", content)
    assert findings[0].flags == {"large_model_file"}
    assert findings[0].metadata["sha256"] == hashlib.sha256(content).hexdigest()


def test_unreadable_model_file_is_a_warning(tmp_path):
    source = SourceFile(path=tmp_path / "gone.gguf", relpath="gone.gguf", size=10)
    report = FileReport()
    assert list(ModelFileDetector().detect(source, report)) == []
    assert "cannot read" in report.warnings[0]


def test_model_file_detector_reads_binaries_itself():
    assert ModelFileDetector.text_only is False


# ---------------------------------------------------------------------------------------------------
# n8n workflows
# ---------------------------------------------------------------------------------------------------


def node(name, type_, parameters=None, **extra):
    return {
        "parameters": parameters or {},
        "id": name,
        "name": name,
        "type": type_,
        "typeVersion": 1,
        **extra,
    }


def link(target, kind="main"):
    return {kind: [[{"node": target, "type": kind, "index": 0}]]}


def support_workflow() -> dict:
    header_key = [{"name": "Authorization", "value": f"Bearer {OPENAI_KEY}"}]
    return {
        "name": "Support Agent",
        "nodes": [
            node("Webhook", "n8n-nodes-base.webhook", {"httpMethod": "POST", "path": "support"}),
            node("AI Agent", "@n8n/n8n-nodes-langchain.agent", {"text": "={{ $json.body.q }}"}),
            node(
                "OpenAI Chat Model",
                "@n8n/n8n-nodes-langchain.lmChatOpenAi",
                {"model": {"__rl": True, "value": "gpt-4o-mini", "mode": "list"}},
                credentials={"openAiApi": {"id": "1", "name": "OpenAi account"}},
            ),
            node(
                "Shell Tool",
                "@n8n/n8n-nodes-langchain.toolCode",
                {"jsCode": "const { execSync } = require('child_process');\nreturn execSync(q).toString();"},
            ),
            node(
                "Search API",
                "@n8n/n8n-nodes-langchain.toolHttpRequest",
                {"url": "https://api.example.com/search", "headerParameters": {"parameters": header_key}},
            ),
            node("Memory", "@n8n/n8n-nodes-langchain.memoryBufferWindow", {"sessionKey": "={{ $json.id }}"}),
            node("Set", "n8n-nodes-base.set"),
            node("Reviewer", "@n8n/n8n-nodes-langchain.agent"),
            node(
                "Claude", "@n8n/n8n-nodes-langchain.lmChatAnthropic", {"model": "claude-3-5-sonnet-20241022"}
            ),
            node("Store", "@n8n/n8n-nodes-langchain.vectorStorePinecone", {"mode": "retrieve-as-tool"}),
            node(
                "Embeddings", "@n8n/n8n-nodes-langchain.embeddingsOpenAi", {"model": "text-embedding-3-small"}
            ),
            node("Legacy", "n8n-nodes-base.openAi", {"modelId": {"__rl": True, "value": "gpt-4-turbo"}}),
            node("Dynamic", "@n8n/n8n-nodes-langchain.lmChatOpenAi", {"model": "={{ $json.model }}"}),
        ],
        "connections": {
            "Webhook": link("AI Agent"),
            "OpenAI Chat Model": link("AI Agent", "ai_languageModel"),
            "Shell Tool": link("AI Agent", "ai_tool"),
            # written from the agent to the tool: must still count as the agent's tool
            "AI Agent": {**link("Set"), **link("Search API", "ai_tool")},
            "Memory": link("AI Agent", "ai_memory"),
            "Set": link("Reviewer"),
            "Claude": link("Reviewer", "ai_languageModel"),
            "Store": link("Reviewer", "ai_tool"),
            "Embeddings": link("Store", "ai_embedding"),
        },
        "active": True,
        "id": "wf1",
    }


def test_n8n_workflow_components_flags_and_edges(tmp_path):
    text = json.dumps(support_workflow(), indent=2)
    findings, report = run(N8nWorkflowDetector(), tmp_path, "workflows/support.json", text)
    found = by_key(findings)
    assert set(found) == {
        "workflow:support agent",
        "agent_framework:support agent/ai agent",
        "agent_framework:support agent/reviewer",
        "llm_provider:openai",
        "llm_provider:anthropic",
        "model:gpt-4o-mini",
        "model:claude-3-5-sonnet-20241022",
        "model:text-embedding-3-small",
        "model:gpt-4-turbo",
        "tool:support agent/shell tool",
        "tool:support agent/search api",
        "tool:support agent/memory",
        "vector_db:pinecone",
    }
    flags = {key: entry["flags"] for key, entry in found.items()}
    assert flags["workflow:support agent"] == {"webhook_no_auth"}
    assert flags["agent_framework:support agent/ai agent"] == {"code_http_tools", "agent_chain_no_validation"}
    assert flags["agent_framework:support agent/reviewer"] == {"agent_chain_no_validation"}
    assert flags["tool:support agent/shell tool"] == {"dangerous_code"}
    assert flags["tool:support agent/search api"] == {"hardcoded_api_key"}
    assert OPENAI_KEY not in dump(findings)

    agent = found["agent_framework:support agent/ai agent"]["findings"][0]
    assert set(agent.relations) == {
        ("uses_model", "model:gpt-4o-mini"),
        ("uses_tool", "tool:support agent/shell tool"),
        ("uses_tool", "tool:support agent/search api"),
        ("uses_memory", "tool:support agent/memory"),
    }
    store = found["vector_db:pinecone"]["findings"][0]
    assert store.relations == [("uses_model", "model:text-embedding-3-small")]
    reviewer = found["agent_framework:support agent/reviewer"]["findings"][0]
    assert ("uses_tool", "vector_db:pinecone") in reviewer.relations
    workflow = found["workflow:support agent"]["findings"][0]
    assert ("has_node", "agent_framework:support agent/reviewer") in workflow.relations
    lines = text.splitlines()
    model_line = found["model:gpt-4o-mini"]["findings"][0].location.line
    assert '"gpt-4o-mini"' in lines[model_line - 1]
    assert '"name": "AI Agent"' in lines[agent.location.line - 1]
    assert report.warnings == []


def test_n8n_guarded_workflow_has_no_flags(tmp_path):
    workflow = {
        "name": "Guarded",
        "nodes": [
            node("Hook", "n8n-nodes-base.webhook", {"path": "x", "authentication": "headerAuth"}),
            node("Chat", "@n8n/n8n-nodes-langchain.chatTrigger", {"public": False}),
            node("Writer", "@n8n/n8n-nodes-langchain.agent", {"hasOutputParser": True}),
            node("Parser", "@n8n/n8n-nodes-langchain.outputParserStructured"),
            node("Check", "n8n-nodes-base.if"),
            node("Editor", "@n8n/n8n-nodes-langchain.agent"),
            node("Wiki", "@n8n/n8n-nodes-langchain.toolWikipedia"),
            node(
                "Transform",
                "n8n-nodes-base.code",
                {"jsCode": "return items.map(i => ({json: {n: i.json.n + 1}}));"},
            ),
            node("Old Shell", "n8n-nodes-base.executeCommand", {"command": "rm -rf /"}, disabled=True),
            node(
                "Key From Env",
                "n8n-nodes-base.httpRequest",
                {
                    "headerParameters": {
                        "parameters": [
                            {"name": "Authorization", "value": "={{ 'Bearer ' + $env.OPENAI_API_KEY }}"}
                        ]
                    }
                },
            ),
        ],
        "connections": {
            "Writer": link("Check"),
            "Check": link("Editor"),
            "Parser": link("Writer", "ai_outputParser"),
            "Wiki": link("Editor", "ai_tool"),
        },
    }
    findings, _ = run(N8nWorkflowDetector(), tmp_path, "guarded.json", json.dumps(workflow, indent=2))
    assert all(f.flags == set() for f in findings), [(f.key, f.flags) for f in findings]
    assert "tool:guarded/wiki" in {f.key for f in findings}


def test_n8n_multi_agent_and_public_chat(tmp_path):
    workflow = {
        "name": "Team",
        "nodes": [
            node("Chat", "@n8n/n8n-nodes-langchain.chatTrigger", {"public": True}),
            node("Boss", "@n8n/n8n-nodes-langchain.agent"),
            node("Researcher", "@n8n/n8n-nodes-langchain.agentTool"),
            node(
                "Py",
                "n8n-nodes-base.code",
                {"pythonCode": "import subprocess\nsubprocess.run(cmd, shell=True)"},
            ),
            node(
                "Docs",
                "@n8n/n8n-nodes-langchain.mcpClientTool",
                {"sseEndpoint": "https://mcp.example.com/sse"},
            ),
        ],
        "connections": {
            "Chat": link("Boss"),
            "Researcher": link("Boss", "ai_tool"),
            "Docs": link("Researcher", "ai_tool"),
        },
    }
    findings, _ = run(N8nWorkflowDetector(), tmp_path, "team.json", json.dumps(workflow, indent=2))
    found = by_key(findings)
    assert found["workflow:team"]["flags"] == {"webhook_no_auth", "dangerous_code"}
    assert found["agent_framework:team/boss"]["flags"] == {"multi_agent_no_trust"}
    assert found["agent_framework:team/researcher"]["flags"] == {"multi_agent_no_trust"}
    docs = found["mcp_client:team/docs"]["findings"][0]
    assert docs.metadata["endpoint"] == "https://mcp.example.com/sse"
    assert docs.relations == [("connects_to", "mcp_server:mcp.example.com")]
    # the MCP client tool has no authentication parameter: it reaches the server without credentials
    server_flags = found["mcp_server:mcp.example.com"]["flags"]
    assert server_flags == {"mcp_no_auth", "mcp_remote_server", "mcp_unknown_server"}
    researcher = found["agent_framework:team/researcher"]["findings"][0]
    assert ("uses_tool", "mcp_client:team/docs") in researcher.relations


def test_n8n_export_list_and_non_workflow_json(tmp_path):
    workflows = [support_workflow(), {**support_workflow(), "name": "Copy"}]
    findings, _ = run(N8nWorkflowDetector(), tmp_path, "export.json", json.dumps(workflows))
    assert {f.key for f in findings if f.type == "workflow"} == {"workflow:support agent", "workflow:copy"}
    community_node_package = {
        "name": "n8n-nodes-acme",
        "description": "Acme nodes: manages connections to the Acme API",
        "n8n": {"nodes": ["dist/nodes/Acme.node.js"], "credentials": []},
        "peerDependencies": {"n8n-nodes-base": "*"},
    }
    findings, report = run(
        N8nWorkflowDetector(), tmp_path, "package.json", json.dumps(community_node_package)
    )
    assert findings == [] and report.warnings == []
    findings, report = run(N8nWorkflowDetector(), tmp_path, "tsconfig.json", '{"compilerOptions": {}}')
    assert findings == [] and report.warnings == []


def test_n8n_bad_input(tmp_path):
    broken = '{"name": "x", "nodes": [{"type": "n8n-nodes-base.webhook"}], "connections": {'
    findings, report = run(N8nWorkflowDetector(), tmp_path, "broken.json", broken)
    assert findings == [] and "not valid JSON" in report.warnings[0]
    deep = (
        '{"nodes": [], "connections": {}, "x": "n8n-nodes-base", "y": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    findings, report = run(N8nWorkflowDetector(), tmp_path, "deep.json", deep)
    assert findings == [] and report.warnings
    odd = {
        "name": "Odd",
        "nodes": [5, {"name": "no type"}, node("A", "@n8n/n8n-nodes-langchain.agent")],
        "connections": {"A": {"main": "not a list"}, "ghost": link("A")},
    }
    findings, report = run(N8nWorkflowDetector(), tmp_path, "odd.json", json.dumps(odd))
    assert {f.key for f in findings} == {"workflow:odd", "agent_framework:odd/a"}

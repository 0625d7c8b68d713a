"""The container detector: Dockerfiles, Compose files, Kubernetes manifests and shell scripts,
with hard negatives next to the positives and bad input that must turn into warnings."""

from __future__ import annotations

import pytest

from common.scanner.detectors.containers import ContainerDetector, helm_rendered, is_helm_template
from tests.unit.detector_helpers import by_key, run
from tests.unit.scanner_helpers import scan_tree

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
        - name: web
          image: quay.io/acme/web:1.0
        - name: api
          image: "vllm/vllm-openai:v0.6.0"
      - {unclosed
"""
    findings, report = run(ContainerDetector(), tmp_path, "k8s/deploy.yaml", content)
    assert [f.key for f in findings] == ["container:vllm/vllm-openai"]
    assert findings[0].location.line == 10
    assert report.warnings and "not valid YAML" in report.warnings[0]


def test_a_helm_template_the_parser_refuses_is_read_rendered(tmp_path):
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
    assert [(f.key, f.location.line) for f in findings] == [
        ("container:ollama/ollama", 8),
        ("container:vllm/vllm-openai", 10),
    ]
    assert report.warnings == []


def test_an_image_whose_tag_the_deployment_chooses_is_still_that_image(tmp_path):
    """A tag from a variable without a default or from the chart's values leaves the repository written:
    the image is known, its version is not; a repository from the values is no image."""
    compose = (
        "services:\n  tgi:\n    image: ghcr.io/huggingface/text-generation-inference:${TGI_VERSION}\n"
        "  llm:\n    image: ollama/ollama:$OLLAMA_TAG\n"
        "  other:\n    image: ${REGISTRY}/vllm-openai:latest\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "docker-compose.yml", compose)
    assert [(f.key, f.version, f.location.line) for f in findings] == [
        ("container:ghcr.io/huggingface/text-generation-inference", None, 3),
        ("container:ollama/ollama", None, 5),
    ]
    template = (
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
        '        - image: "vllm/vllm-openai:{{ .Values.image.tag }}"\n'
        '        - image: "{{ .Values.ui.repository }}:{{ .Values.ui.tag }}"\n'
    )
    findings, _ = run(ContainerDetector(), tmp_path, "chart/templates/deployment.yaml", template)
    assert [(f.key, f.version, f.location.line) for f in findings] == [
        ("container:vllm/vllm-openai", None, 7)
    ]


def test_other_yaml_counts_only_the_ai_images_it_names(tmp_path):
    content = "image: ollama/ollama:latest\nmodel: llama3\nproxy:\n  image: nginx:1.27\n"
    findings, report = run(ContainerDetector(), tmp_path, "config/settings.yaml", content)
    assert [(f.key, f.location.line) for f in findings] == [("container:ollama/ollama", 1)]
    assert report.warnings == []
    findings, _ = run(ContainerDetector(), tmp_path, "config/other.yaml", "model: llama3\nreplicas: 2\n")
    assert findings == []


def test_helm_values_image_mapping_and_variable_defaults(tmp_path):
    content = (
        "server:\n  image:\n    registry: docker.io\n    repository: vllm/vllm-openai\n    tag: v0.6.3\n"
        "ui:\n  image:\n    registry: ghcr.io\n    repository: open-webui/open-webui\n"
        "metrics:\n  image:\n    repository: nvidia/dcgm-exporter\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "chart/values.yaml", content)
    assert [(f.key, f.version, f.location.line) for f in findings] == [
        ("container:vllm/vllm-openai", "v0.6.3", 4),
        ("container:ghcr.io/open-webui/open-webui", None, 9),
    ]
    compose = "services:\n  llm:\n    image: ${LLM_IMAGE:-ollama/ollama:0.3.12}\n"
    findings, _ = run(ContainerDetector(), tmp_path, "deploy/stack.yml", compose)
    assert [(f.key, f.version) for f in findings] == [("container:ollama/ollama", "0.3.12")]


def test_unlisted_image_counts_by_its_own_name_but_not_a_placeholder_or_a_shell_word(tmp_path):
    compose = (
        "services:\n  app:\n    image: ghcr.io/acme/rag-chatbot:1.4\n"
        "  tmpl:\n    image: your-user/llm-assistant\n  mon:\n    image: grafana/agent:v0.40\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "docker-compose.yml", compose)
    assert [(f.key, f.provider, f.confidence) for f in findings] == [
        ("container:ghcr.io/acme/rag-chatbot", None, 0.6)
    ]
    findings, _ = run(ContainerDetector(), tmp_path, "run.sh", "docker run ghcr.io/acme/rag-chatbot:1.4\n")
    assert findings == []


def test_deep_nesting_does_not_hide_the_rest_of_the_file(tmp_path):
    content = "services:\n  x: " + "[" * 5000 + "]" * 5000 + "\n  llm:\n    image: ollama/ollama:0.4.0\n"
    findings, _ = run(ContainerDetector(), tmp_path, "docker-compose.yaml", content)
    assert [f.key for f in findings] == ["container:ollama/ollama"]


def test_shell_script_ollama_pull(tmp_path):
    content = "#!/bin/sh\n# ollama pull not-this-one\nollama pull qwen2.5:7b\necho done\n"
    findings, _ = run(ContainerDetector(), tmp_path, "scripts/setup.sh", content)
    assert [(f.key, f.location.line) for f in findings] == [("model:qwen2.5:7b", 3)]


def test_shell_script_model_server_and_download_commands(tmp_path):
    content = (
        "#!/bin/sh\n"
        "vllm serve mistralai/Mistral-7B-Instruct-v0.3 --port 8000\n"
        "hf download TheBloke/Llama-2-7B-GGUF llama-2-7b.Q4_K_M.gguf\n"
        "llama-cli -hf ggml-org/SmolLM3-3B-GGUF -p hello\n"
        "python serve.py --model-path lmsys/vicuna-7b-v1.5 --model models/local-7b\n"
        "python eval.py --model-path runs/exp1/weights --model_name_or_path out/best.pt\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "serve.sh", content)
    assert [(f.key, f.location.line) for f in findings] == [
        ("model:mistralai/mistral-7b-instruct-v0.3", 2),
        ("model:thebloke/llama-2-7b-gguf", 3),
        ("model:ggml-org/smollm3-3b-gguf", 4),
        ("model:lmsys/vicuna-7b-v1.5", 5),
    ]


def test_a_vllm_containers_first_argument_is_the_model_it_serves(tmp_path):
    """vLLM takes the model as its first argument: a vLLM image's command (after ``vllm`` / ``serve``),
    or the command after an entrypoint that runs ``vllm serve``; a local path, another image's first
    argument and an option are no model."""
    compose = (
        "services:\n"
        "  a:\n    image: vllm/vllm-openai:${VLLM_TAG:-latest}\n"
        "    command: serve Qwen/Qwen2.5-7B-Instruct --port 8000\n"
        '  b:\n    image: vllm/vllm-openai:v0.8.5\n    command: ["microsoft/phi-4", "--max-model-len", "8"]\n'
        "  c:\n    image: python:3.12\n    entrypoint: [vllm, serve]\n    command: [google/gemma-2-9b-it]\n"
        "  d:\n    image: vllm/vllm-openai:latest\n    command: serve models/local-7b\n"
        "  e:\n    image: acme/worker:1\n    command: acme/jobs --queue default\n"
        '  f:\n    image: vllm/vllm-openai:latest\n    command: ["--host", "0.0.0.0"]\n'
    )
    findings, _ = run(ContainerDetector(), tmp_path, "docker-compose.yml", compose)
    assert sorted((f.key, f.location.line) for f in findings if f.type == "model") == [
        ("model:google/gemma-2-9b-it", 11),
        ("model:microsoft/phi-4", 7),
        ("model:qwen/qwen2.5-7b-instruct", 4),
    ]
    pod = (
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - name: vllm\n          image: vllm/vllm-openai:v0.8.5\n"
        "          args:\n            - serve\n            - meta-llama/Llama-3.2-1B-Instruct\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "k8s/vllm.yaml", pod)
    assert [(f.key, f.location.line) for f in findings if f.type == "model"] == [
        ("model:meta-llama/llama-3.2-1b-instruct", 11)
    ]


def test_shell_script_without_model_commands_reports_nothing(tmp_path):
    content = '#!/bin/sh\n./gradlew build\nfirmware-flash --model "$BOARD_MODEL" --port /dev/ttyUSB0\n'
    findings, _ = run(ContainerDetector(), tmp_path, "flash.sh", content)
    assert findings == []


def test_an_unlisted_image_handed_an_llm_is_an_ai_app_but_not_an_official_image(tmp_path):
    manifest = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: trap\nspec:\n  template:\n    spec:\n"
        "      containers:\n"
        "        - name: trap\n          image: acme/honeypot:1.2\n"
        "          env:\n            - name: LLM_API_KEY\n              value: from-secret\n"
        "        - name: db\n          image: acme/billing:2.0\n"
        "          env:\n            - name: DATABASE_URL\n              value: postgres://db\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "k8s/trap.yaml", manifest)
    assert [(f.key, f.metadata["kind"], f.confidence) for f in findings] == [
        ("container:acme/honeypot", "ai_app", 0.6)
    ]
    compose = (
        "services:\n"
        "  summarizer:\n    image: acme/summarizer:0.3\n    environment:\n      ANTHROPIC_API_KEY: x\n"
        "  worker:\n    image: python:3.12-slim\n    environment:\n      - OPENAI_API_KEY\n"
        "  search:\n    image: acme/search-api:1.0\n    environment:\n      - QDRANT_URL=http://qdrant:6333\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "docker-compose.yml", compose)
    assert [f.key for f in findings] == ["container:acme/summarizer"]


def test_model_flags_outside_pod_specs_and_in_task_definitions(tmp_path):
    isvc = (
        "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: chat\nspec:\n"
        "  predictor:\n    model:\n      args:\n        - --model_name=chat\n"
        "        - --model_id=mistralai/Mistral-7B-Instruct-v0.3\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "kserve/isvc.yaml", isvc)
    assert [f.key for f in findings] == ["model:mistralai/mistral-7b-instruct-v0.3"]
    task = (
        '{"containerDefinitions": [{"image": "vllm/vllm-openai:v0.6.3",\n'
        ' "command": ["--model", "Qwen/Qwen2.5-1.5B-Instruct"]}]}\n'
    )
    findings, _ = run(ContainerDetector(), tmp_path, "task.json", task)
    assert [f.key for f in findings] == ["container:vllm/vllm-openai", "model:qwen/qwen2.5-1.5b-instruct"]
    web = '{"containerDefinitions": [{"image": "nginx:1.27", "command": ["--model", "acme/storefront"]}]}\n'
    findings, _ = run(ContainerDetector(), tmp_path, "web.json", web)
    assert findings == []


def test_dockerfile_installs_from_every_registry_are_read_as_pip_installs_are(tmp_path):
    dockerfile = (
        "FROM node:20\n"
        "RUN npm ci && npm i -g pm2 \\\n"
        "    && npm install --prefix /opt/agent @anthropic-ai/sdk@0.32.1\n"
        "RUN yarn global add ai@4 && pnpm add @langchain/openai\n"
        "RUN gem install -v 7.3.1 ruby-openai && gem install bundler\n"
        "RUN cargo install --locked --version 0.4.3 sqlx-cli && cargo add async-openai@0.26\n"
        "RUN go install -v github.com/sashabaranov/go-openai@latest \\\n"
        "    && go install golang.org/x/tools/gopls@latest\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "Dockerfile", dockerfile)
    found = by_key(findings)
    assert set(found) == {
        "llm_provider:anthropic",
        "agent_framework:vercel-ai",
        "agent_framework:langchain-openai",
        "llm_provider:openai",
    }
    assert found["llm_provider:anthropic"]["lines"] == {3}
    assert found["llm_provider:openai"]["lines"] == {5, 6, 7}
    assert found["agent_framework:vercel-ai"]["lines"] == {4}


def test_a_set_up_script_installing_from_npm_or_gems_declares_nothing(tmp_path):
    script = (
        "#!/bin/sh\nnpm install -g @anthropic-ai/sdk\ngem install ruby-openai\ncargo install async-openai\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "scripts/setup.sh", script)
    assert findings == []


BICEP_CONTAINER_APPS = """\
resource llm 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'llm'
  properties: {
    template: {
      containers: [
        {
          name: 'tgi'
          image: 'ghcr.io/huggingface/text-generation-inference:2.4.0'
          args: [
            '--model-id'
            'mistralai/Mistral-7B-Instruct-v0.3'
          ]
        }
        {
          name: 'ui'
          image: 'ghcr.io/contoso/rag-chatbot:1.2.0'
        }
        {
          name: 'hello'
          image: 'mcr.microsoft.com/azuredocs/containerapps-helloworld:latest'
        }
      ]
    }
  }
}
"""


def test_bicep_workloads_run_images_as_compose_services_do(tmp_path):
    """A Container App's (container group's, AKS workload's) ``image:`` is read like a compose service's:
    a listed AI image, an image its own name calls an AI app, the model its one-per-line args serve."""
    findings, _ = run(ContainerDetector(), tmp_path, "infra/main.bicep", BICEP_CONTAINER_APPS)
    assert {key: found["lines"] for key, found in by_key(findings).items()} == {
        "container:ghcr.io/huggingface/text-generation-inference": {8},
        "model:mistralai/mistral-7b-instruct-v0.3": {11},
        "container:ghcr.io/contoso/rag-chatbot": {16},
    }


def test_arm_command_array_one_element_a_line_names_its_model(tmp_path):
    template = (
        '{"resources": [{"type": "Microsoft.ContainerInstance/containerGroups",\n'
        ' "properties": {"containers": [{"properties": {"image": "vllm/vllm-openai:v0.6.3",\n'
        '   "command": [\n'
        '     "--model",\n'
        '     "meta-llama/Llama-3.1-8B-Instruct"\n'
        "   ]}}]}}]}\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "azuredeploy.json", template)
    assert {key: found["lines"] for key, found in by_key(findings).items()} == {
        "container:vllm/vllm-openai": {2},
        "model:meta-llama/llama-3.1-8b-instruct": {5},
    }


def test_compose_image_built_from_an_ai_dockerfile_is_the_repositorys_own_ai_app(tmp_path):
    """``build: ./llm`` + ``image: acme/backend-engine``: the image is the one its Dockerfile builds, and a
    Dockerfile on an AI base (or installing an AI package) makes it an AI app whatever its name. The
    same-named build of a plain web server stays out."""
    result = scan_tree(
        tmp_path,
        {
            "docker-compose.yml": (
                "services:\n"
                "  engine:\n    build: ./llm\n    image: acme/backend-engine:1.0\n"
                "  gpu:\n    build:\n      context: ./llm\n      dockerfile: Dockerfile.agent\n"
                "    image: acme/backend-worker:1.0\n"
                "  web:\n    build: ./web\n    image: acme/storefront:2.3\n"
            ),
            "llm/Dockerfile": 'FROM vllm/vllm-openai:v0.6.3\nCMD ["--model", "Qwen/Qwen2.5-1.5B-Instruct"]\n',
            "llm/Dockerfile.agent": "FROM python:3.12-slim\nRUN pip install langgraph==0.2.60\n",
            "web/Dockerfile": "FROM python:3.12-slim\nRUN pip install fastapi uvicorn\n",
        },
    )
    containers = {
        (c.name, loc.file, loc.line)
        for c in result.components
        if c.type == "container"
        for loc in c.locations
    }
    assert containers == {
        ("acme/backend-engine", "docker-compose.yml", 4),
        ("acme/backend-worker", "docker-compose.yml", 9),
        ("vllm/vllm-openai", "llm/Dockerfile", 1),
    }


def test_bicep_image_handed_to_a_module_or_a_parameter_default(tmp_path):
    """Bicep passes a workload's image on by a camelCase name: a module call's ``containerImage:`` and a
    ``param ...Image string = '...'`` default; a plain image and other keys' values stay out."""
    bicep = (
        "param inferenceImage string = 'vllm/vllm-openai:v0.6.3'\n"
        "param webImage string = 'nginx:1.27'\n"
        "module chat 'container-app.bicep' = {\n"
        "  params: {\n"
        "    containerImage: 'ghcr.io/contoso/rag-chatbot:main'\n"
        "    containerName: 'ollama/ollama'\n"
        "  }\n"
        "}\n"
    )
    findings, _ = run(ContainerDetector(), tmp_path, "infra/main.bicep", bicep)
    assert {key: found["lines"] for key, found in by_key(findings).items()} == {
        "container:vllm/vllm-openai": {1},
        "container:ghcr.io/contoso/rag-chatbot": {5},
    }


def test_a_helm_template_is_read_as_it_renders_with_the_values_defaults():
    template = (
        'metadata:\n  name: {{ include "app.fullname" . }}\n'
        "  {{- with .Values.labels }}\n"
        '      image: "ollama/ollama:{{ .Values.image.tag | default "0.3.12" }}"\n'
        "      replicas: {{ .Values.replicas }}\n"
    )
    assert is_helm_template(template)
    assert helm_rendered(template).split("\n") == [
        "metadata:",
        "  name: ${helm}",
        "",
        '      image: "ollama/ollama:0.3.12"',
        "      replicas: ${helm}",
        "",
    ]
    assert not is_helm_template("steps:\n  - run: echo ${{ github.sha }}\n")


def test_a_helm_templates_model_server_image_and_arguments(tmp_path):
    template = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        '  name: {{ include "server.fullname" . }}\n'
        "spec:\n  template:\n    spec:\n      containers:\n"
        "        - name: {{ .Chart.Name }}\n"
        '          image: "vllm/vllm-openai:{{ .Values.tag | default "v0.6.3" }}"\n'
        '          args: ["--model", {{ .Values.model | default "Qwen/Qwen2.5-7B-Instruct" | quote }}]\n'
    )
    findings, report = run(ContainerDetector(), tmp_path, "chart/templates/deployment.yaml", template)
    assert {(f.type, f.name) for f in findings} == {
        ("container", "vllm/vllm-openai"),
        ("model", "qwen/qwen2.5-7b-instruct"),
    }
    assert report.warnings == []

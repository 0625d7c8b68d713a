"""The operator files: the Grafana dashboard and the Prometheus rules ask only for metrics the platform
exposes, the rules pass ``promtool`` (syntax and their own unit tests), and the Kubernetes manifests pass
the Kubernetes schemas and stay in step with the queues and docker-compose.yml."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import ValidationError
from prometheus_client.parser import text_string_to_metric_families

from common.tasks import QUEUES
from tests.helpers import metrics_headers

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "ops" / "grafana" / "trusera.json"
RULES = ROOT / "ops" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "ops" / "prometheus" / "alerts.test.yml"
KUBERNETES = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.31"

METRIC_NAME = re.compile(r"\btrusera_[a-z0-9_]+")
SAMPLE_SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def exposed_metric_names(client) -> set[str]:
    """Every sample name the metrics endpoint can produce (a histogram's _bucket/_count/_sum, ...)."""
    text = client.get("/api/v1/metrics", headers=metrics_headers()).get_data(as_text=True)
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(family.name + suffix for suffix in SAMPLE_SUFFIXES)
    return names


def dashboard_queries() -> list[str]:
    return [
        target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for target in panel["targets"]
    ]


def rule_queries() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


@pytest.mark.parametrize("source", ["dashboard", "rules"])
def test_every_query_names_a_metric_the_endpoint_exposes(client, source):
    queries = dashboard_queries() if source == "dashboard" else rule_queries()
    assert queries
    exposed = exposed_metric_names(client)
    for query in queries:
        used = set(METRIC_NAME.findall(query))
        assert used, query
        assert used <= exposed, f"{query!r} asks for {sorted(used - exposed)}"


def test_the_dashboard_is_a_loadable_grafana_dashboard():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["schemaVersion"] >= 36
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"]


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is required (scripts/ensure_services.sh promtool installs Debian's prometheus)")
    return path


def test_the_alert_rules_pass_promtool_and_their_own_unit_tests(promtool):
    checked = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [promtool, "test", "rules", RULE_TESTS.name], cwd=RULE_TESTS.parent, capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def manifests() -> list[dict]:
    return [
        document
        for path in sorted(KUBERNETES.glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def test_every_kubernetes_object_passes_the_kubernetes_schema():
    built_in = [doc for doc in manifests() if not doc["apiVersion"].startswith("keda.sh/")]
    assert {doc["kind"] for doc in built_in} >= {"Deployment", "Service", "ConfigMap", "Job"}
    for document in built_in:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    broken = copy.deepcopy(next(doc for doc in built_in if doc["kind"] == "Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["comand"] = ["typo"]
    with pytest.raises(ValidationError):  # the validator is strict: a misspelt field is caught
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def worker_deployments() -> dict[str, dict]:
    return {
        doc["metadata"]["name"]: doc
        for doc in manifests()
        if doc["kind"] == "Deployment" and doc["metadata"]["name"].startswith("trusera-worker-")
    }


def compose_worker_commands() -> dict[str, list[str]]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return {
        name.removeprefix("worker-"): s["command"]
        for name, s in services.items()
        if name.startswith("worker-")
    }


def option(command: list[str], flag: str) -> str | None:
    return command[command.index(flag) + 1] if flag in command else None


def test_one_worker_deployment_per_queue_with_the_pools_of_docker_compose():
    deployments = worker_deployments()
    assert set(deployments) == {f"trusera-worker-{queue}" for queue in QUEUES}
    compose = compose_worker_commands()
    for queue in QUEUES:
        command = deployments[f"trusera-worker-{queue}"]["spec"]["template"]["spec"]["containers"][0][
            "command"
        ]
        assert option(command, "-Q") == queue
        for flag in ("--pool", "--concurrency", "--max-tasks-per-child"):
            assert option(command, flag) == option(compose[queue], flag), (queue, flag)


@pytest.mark.parametrize("variant", ["keda.yaml", "keda-rabbitmq.yaml"])
def test_keda_scales_each_worker_on_its_own_queue(variant):
    deployments = worker_deployments()
    scaled = [doc for doc in yaml.safe_load_all((KUBERNETES / variant).read_text()) if doc]
    objects = [doc for doc in scaled if doc["kind"] == "ScaledObject"]
    assert len(objects) == len(QUEUES)
    for scaled_object in objects:
        assert scaled_object["apiVersion"] == "keda.sh/v1alpha1"
        target = scaled_object["spec"]["scaleTargetRef"]["name"]
        assert target in deployments
        queue = target.removeprefix("trusera-worker-")
        [trigger] = scaled_object["spec"]["triggers"]
        assert trigger["type"] in ("redis", "rabbitmq")
        listed = trigger["metadata"].get("listName") or trigger["metadata"].get("queueName")
        assert listed == queue
        assert 1 <= scaled_object["spec"]["minReplicaCount"] <= scaled_object["spec"]["maxReplicaCount"]
        if trigger["type"] == "redis":  # KEDA reads the address from the target container's environment
            config = next(doc for doc in manifests() if doc["kind"] == "ConfigMap")
            assert trigger["metadata"]["addressFromEnv"] in config["data"]

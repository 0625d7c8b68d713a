"""``make run``'s thread-pool worker imports only the task modules of its queues (``WORKER_TASK_MODULES``):
it must still register every task routed to those queues, and must not load the ingest, scanning or export
code (and their libraries), which in that process no other process shares."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from common.tasks import TASK_QUEUES
from workers.app import TASK_MODULES, included_modules

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from workers.app import app
app.loader.import_default_modules()
print(json.dumps({"tasks": sorted(app.tasks), "modules": sorted(sys.modules)}))
"""


def _run_local():
    spec = importlib.util.spec_from_file_location("run_local", ROOT / "scripts" / "run_local.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _worker_imports(modules: str | None) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "WORKER_TASK_MODULES"}
    if modules is not None:
        env["WORKER_TASK_MODULES"] = modules
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_the_io_worker_registers_its_queues_tasks_without_the_cpu_families():
    run_local = _run_local()
    queues, _pool, _concurrency = run_local.WORKERS["io"]
    env = run_local.child_env("worker-io", {"WORKER_TASK_MODULES": "workers.scans"})
    loaded = _worker_imports(env["WORKER_TASK_MODULES"])
    expected = {name for name, queue in TASK_QUEUES.items() if queue in queues}
    assert expected and expected <= set(loaded["tasks"])
    heavy = ("workers.ingest", "workers.scans", "workers.exports", "workers.compliance", "psycopg")
    assert not [name for name in loaded["modules"] if name.startswith(heavy)]


def test_the_cpu_worker_and_compose_workers_load_every_task_module():
    run_local = _run_local()
    assert "WORKER_TASK_MODULES" not in run_local.child_env("worker-cpu", {"WORKER_TASK_MODULES": "x"})
    loaded = _worker_imports(None)
    assert set(TASK_QUEUES) <= set(loaded["tasks"])


def test_an_unknown_task_module_is_refused():
    assert included_modules(None) == TASK_MODULES
    assert included_modules(" workers.alerts ,") == ["workers.alerts"]
    with pytest.raises(ValueError, match=r"workers\.nope"):
        included_modules("workers.alerts,workers.nope")


def test_make_run_runs_beat_once_embedded_in_the_prefork_worker():
    """Beat forked from the prefork worker shares its imports; a standalone beat cost ~45 MB of its own."""
    commands = _run_local().commands("8000")
    beats = [name for name, argv in commands.items() if "beat" in argv or "--beat" in argv or "-B" in argv]
    assert beats == ["worker-cpu"]
    argv = commands["worker-cpu"]
    assert argv[argv.index("--pool") + 1] == "prefork"


def test_every_launch_replaces_a_scans_pool_process_left_holding_memory():
    """A small tree's scan runs in the pool process itself (capped while it runs, ``SCAN_MEMORY_BYTES``);
    compose and Kubernetes replaced such a process after 50 scans whatever it held, ``make run`` never."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["worker-scans"]["command"]
    deployments = yaml.safe_load_all((ROOT / "deploy" / "kubernetes" / "workers.yaml").read_text())
    [kubernetes] = [d for d in deployments if d and d["metadata"]["name"] == "trusera-worker-scans"]
    [scans_local] = [argv for argv in _run_local().commands("8000").values() if "scans" in " ".join(argv)]
    for argv in (compose, kubernetes["spec"]["template"]["spec"]["containers"][0]["command"], scans_local):
        assert int(argv[argv.index("--max-memory-per-child") + 1]) <= 409600

"""Private services for operations tests: a Redis the test may kill, and the product's own processes
(gunicorn API and WebSocket servers, Celery workers, Flower) started as subprocesses with their own
environment, so a test can point them at a private broker without touching the session's app.

Every process writes to a log file under the test's temporary directory; a failing test shows its tail.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
import requests
import yaml

from tests.helpers import PASSWORD, wait_for
from tests.services import PG_ADMIN_URL, use_services

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"


def pytest_configure(config):
    use_services(config)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def compose_services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def compose_gunicorn_command(service: str, port: int) -> list[str]:
    """The compose service's own gunicorn command, bound to a loopback port of this machine."""
    command = list(compose_services()[service]["command"])
    assert command[0] == "gunicorn", command
    bind = command.index("--bind")
    command[bind + 1] = f"127.0.0.1:{port}"
    return [sys.executable, "-m", *command]


class Process:
    """A product process with its output in a log file; stopped (and its children killed) at teardown."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}-{secrets.token_hex(3)}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return f"--- {self.name} ({self.log_path}) ---\n" + "\n".join(text[-lines:])

    def alive(self) -> bool:
        return self.popen.poll() is None

    def terminate(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)

    def stop(self, timeout: float = 5) -> None:
        self.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=timeout)
        # Whatever is left of the process group (pool children, scanner engine processes).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)
        self._log.close()


class PrivateRedis:
    """A redis-server of this test alone, without persistence, that the test may kill and restart."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with (self.workdir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.workdir)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        with redis.Redis(port=self.port, socket_connect_timeout=0.5) as client:
            wait_for(lambda: self._ping(client), timeout=10, interval=0.05)

    @staticmethod
    def _ping(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """An abrupt loss: SIGKILL, nothing saved, every client connection reset."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def private_database() -> Iterator[str]:
    """A migrated database of this module alone: a stack whose reconciler runs with a bound of seconds
    must not touch the scans other tests left queued in the session's database."""
    name = f"trusera_ops_{os.getpid()}_{secrets.token_hex(3)}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Stack:
    """Product processes sharing one environment: the session's database, plus the test's overrides."""

    def __init__(self, log_dir: Path, **overrides: str) -> None:
        self.log_dir = log_dir
        self.api_port = free_port()
        self.env = {
            **os.environ,
            "PORT": str(self.api_port),
            "INTERNAL_API_URL": f"http://127.0.0.1:{self.api_port}/api/v1",
            "PYTHONUNBUFFERED": "1",
            **overrides,
        }
        self.processes: list[Process] = []

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api/v1"

    def spawn(self, name: str, argv: list[str]) -> Process:
        process = Process(name, argv, self.env, self.log_dir)
        self.processes.append(process)
        return process

    def start_api(self) -> Process:
        """The compose ``api`` service: gunicorn with threads."""
        return self.spawn("api", compose_gunicorn_command("api", self.api_port))

    def start_ws(self, port: int) -> Process:
        """The compose ``ws`` service: gunicorn with gevent."""
        return self.spawn("ws", compose_gunicorn_command("ws", port))

    def start_worker(
        self, name: str, queues: list[str], pool: str = "prefork", concurrency: int = 1
    ) -> Process:
        nodename = f"{name}-{os.getpid()}-{secrets.token_hex(2)}"
        process = self.spawn(
            f"worker-{name}",
            [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "-Q", ",".join(queues),
             "-n", f"{nodename}@%h", "--pool", pool, "--concurrency", str(concurrency),
             "--loglevel", "INFO", "--without-mingle", "--without-gossip"],
        )  # fmt: skip
        process.hostname = f"{nodename}@{socket.gethostname()}"
        return process

    def wait_http(self, url: str, timeout: float = 60) -> None:
        def up():
            for process in self.processes:
                assert process.alive(), "a process exited early\n" + self.logs()
            try:
                return requests.get(url, timeout=2).status_code < 500
            except requests.RequestException:
                return False

        wait_for(up, timeout=timeout, interval=0.2)

    def logs(self) -> str:
        return "\n".join(process.tail() for process in self.processes)

    def stop(self) -> None:
        """All at once: the test is over, there is no work left to drain."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.stop(timeout=3)


class ApiUser:
    """A user registered over HTTP against a running API process."""

    def __init__(self, api: str) -> None:
        self.api = api
        email = f"ops-{secrets.token_hex(6)}@example.com"
        response = requests.post(
            f"{api}/auth/register", json={"email": email, "password": PASSWORD, "name": "Ops"}, timeout=10
        )
        assert response.status_code == 201, response.text
        body = response.json()
        self.token = body["access_token"]
        self.org_id = body["user"]["personal_organization_id"]

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(f"{self.api}{path}", headers=self.headers, timeout=10, **kwargs)

    def post(self, path: str, json: dict) -> requests.Response:
        return requests.post(f"{self.api}{path}", json=json, headers=self.headers, timeout=10)

    def create_scan(self, target: Path) -> str:
        response = self.post("/scans", {"target": str(target)})
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def scan(self, scan_id: str) -> dict:
        response = self.get(f"/scans/{scan_id}")
        assert response.status_code == 200, response.text
        return response.json()


def write_ai_project(root: Path, files: int = 1) -> Path:
    """A small target with an LLM SDK import and a model name the scanner reports."""
    root.mkdir(parents=True, exist_ok=True)
    for index in range(files):
        (root / f"agent_{index}.py").write_text(
            "import openai\n\nclient = openai.OpenAI()\n"
            f"reply = client.chat.completions.create(model='gpt-4o', messages=[{index}])\n"
        )
    return root

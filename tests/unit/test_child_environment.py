"""A process the platform starts gets no secret of the server's environment.

The API and the workers keep ``SECRET_KEY``, ``ENCRYPTION_KEY``, ``INTERNAL_API_KEY`` and
``DATABASE_URL`` (with its password) in their environment, and the children here face hostile input:
git talks to a server a tenant chose, the scanner's isolated workers parse a hostile repository.
Before, the scanner's zygote (and so every worker forked from it) was started with a copy of the whole
environment; code run by a parser could read every secret from ``/proc/self/environ``.
"""

from __future__ import annotations

import ctypes
import ipaddress
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from common import netguard, repositories
from common.child_env import PASSED_NAMES
from common.repositories import CloneLimits, RepositoryAuth, RepositoryError
from common.scanner import isolation
from tests.unit.scanner_helpers import environment_recording_worker_command, write_tree

CANARY = "canary-secret-0b7f1e"
SERVER_SECRETS = {
    "SECRET_KEY": CANARY,
    "ENCRYPTION_KEY": CANARY,
    "INTERNAL_API_KEY": CANARY,
    "DATABASE_URL": f"postgresql://trusera:{CANARY}@db/trusera",
    "OIDC_CLIENT_SECRET": CANARY,
    "AWS_SECRET_ACCESS_KEY": CANARY,
    "SSH_AUTH_SOCK": "/run/user/1000/ssh-agent.sock",  # the host's agent would sign for a tenant's clone
    # git reads these: set in the server's environment they would reconfigure every clone
    "GIT_CONFIG_PARAMETERS": "'core.sshCommand=touch pwned'",
    "GIT_SSH_COMMAND": "touch pwned",
    "GIT_EXEC_PATH": "/tmp/evil",
}


@pytest.fixture
def server_secrets(monkeypatch):
    for name, value in SERVER_SECRETS.items():
        monkeypatch.setenv(name, value)


def _environment(raw: bytes) -> dict[str, str]:
    pairs = (entry.decode().split("=", 1) for entry in raw.split(b"\0") if entry)
    return dict(pairs)


def _assert_no_secret(env: dict[str, str], own: set[str]) -> None:
    assert CANARY not in repr(env)
    unexpected = {
        name for name in env if name not in PASSED_NAMES and name not in own and not name.startswith("LC_")
    }
    assert not unexpected, unexpected


def test_a_scanner_worker_sees_no_secret_of_the_server(tmp_path, monkeypatch, server_secrets):
    record = tmp_path / "environ"
    monkeypatch.setattr(isolation, "WORKER_COMMAND", environment_recording_worker_command(record))
    root = write_tree(tmp_path / "repo", {"app.py": "import openai\n"})
    isolation.detect_isolated(str(root), [[("app.py", 14, "production")]], 1, 1 << 20, 2.0)
    env = _environment(record.read_bytes())
    assert str(Path(isolation.PACKAGE_ROOT)) in env["PYTHONPATH"]  # the worker still finds its code
    _assert_no_secret(env, {name for name in env if name.startswith("PYTHON")})


@pytest.mark.parametrize(
    ("url", "auth"),
    [
        ("https://git.evil.example/acme/repo.git", RepositoryAuth("https_token", "ghp_" + "x" * 36)),
        ("ssh://git@git.evil.example/acme/repo.git", None),
    ],
)
def test_git_sees_no_secret_of_the_server(url, auth, tmp_path, monkeypatch, server_secrets):
    """``git`` here is a stand-in first on PATH that writes down the environment it was started with."""
    record = tmp_path / "environ"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_git = bin_dir / "git"
    fake_git.write_text(f"#!/bin/sh\ncat /proc/$$/environ > {record}\nexit 128\n")
    fake_git.chmod(fake_git.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setattr(netguard, "resolve", lambda _host, _port: [ipaddress.ip_address("93.184.215.14")])
    destination = tmp_path / "clone"
    destination.mkdir()
    with pytest.raises(RepositoryError):
        repositories.clone_repository(
            repositories.parse_repository_url(url),
            "main",
            auth,
            destination,
            CloneLimits(max_bytes=10**6, max_files=10, timeout_seconds=5),
        )
    env = _environment(record.read_bytes())
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["GIT_TERMINAL_PROMPT"] == "0"
    assert "GIT_CONFIG_PARAMETERS" not in env and "GIT_EXEC_PATH" not in env
    assert env.get("GIT_SSH_COMMAND", "").startswith("ssh ") or "GIT_SSH_COMMAND" not in env
    _assert_no_secret(
        env,
        {"HOME", "LC_ALL", "PWD", "SHLVL", "_", "OLDPWD"}
        | {n for n in env if n.startswith("GIT_") or n == "SSH_ASKPASS"},
    )


PR_CAPBSET_DROP = 24


def _without_capabilities() -> None:
    """As the Docker image runs the platform (an ordinary uid): root here would pass every check on
    another process's /proc files through its capabilities. Dropped from the bounding set, no program
    this process runs has any."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in range(int(Path("/proc/sys/kernel/cap_last_cap").read_text()) + 1):
            if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), f"cannot drop capability {capability}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl are Linux's")
def test_a_scanner_worker_cannot_read_the_scanning_process_through_proc(tmp_path):
    """The worker's own environment is clean, but its parent's (the Celery worker, the CLI) holds the
    secrets: a worker of the same uid could read them from ``/proc/<pid>/environ`` unless the scanning
    process and the zygote are not dumpable."""
    record = tmp_path / "seen.json"
    root = write_tree(tmp_path / "repo", {"app.py": "import openai\n"})
    scan = (
        "from common.scanner import isolation\n"
        "from tests.unit.scanner_helpers import neighbour_probing_worker_command\n"
        f"isolation.WORKER_COMMAND = neighbour_probing_worker_command({str(record)!r})\n"
        f"isolation.detect_isolated({str(root)!r}, [[('app.py', 14, 'production')]], 1, 1 << 20, 2.0)\n"
    )
    subprocess.run(
        [sys.executable, "-c", scan],
        env={**os.environ, **SERVER_SECRETS, "PYTHONPATH": isolation.PACKAGE_ROOT},
        preexec_fn=_without_capabilities,
        check=True,
        timeout=120,
    )
    assert json.loads(record.read_text()) == {"zygote": "denied", "scan": "denied"}

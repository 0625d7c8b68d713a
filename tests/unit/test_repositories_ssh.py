"""Clones over SSH from a real ``sshd`` on loopback: deploy key, host key checked under the host's name."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from common import netguard
from common.repositories import (
    CloneLimits,
    RepositoryAuth,
    RepositoryError,
    clone_repository,
    parse_repository_url,
    probe_repository,
)
from tests.git_server import SSHD, SshGitServer, make_repository

pytestmark = pytest.mark.skipif(
    not os.access(SSHD, os.X_OK), reason="sshd is not installed (make test installs it)"
)

LIMITS = CloneLimits(max_bytes=10_000_000, max_files=1000, timeout_seconds=60)
ALLOWLIST = netguard.Allowlist.from_entries(["localhost"])
OTHER_HOST_KEY = "localhost ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


@pytest.fixture(scope="module")
def sshd():
    root = Path(tempfile.mkdtemp(prefix="trusera-ssh-unit-"))
    make_repository(root, "team.git", [{"app.py": "import openai\n"}])
    server = SshGitServer(root).start()
    yield server
    server.stop()


def test_a_deploy_key_clones_when_the_host_key_matches(sshd, tmp_path):
    url = parse_repository_url(sshd.url("team.git"), ALLOWLIST)
    auth = RepositoryAuth("ssh_key", sshd.deploy_key, known_hosts=sshd.known_hosts)
    clone = clone_repository(url, "main", auth, tmp_path, LIMITS, allowlist=ALLOWLIST)
    assert (tmp_path / "app.py").read_text() == "import openai\n" and clone.warnings == []


def test_a_different_host_key_is_refused(sshd, tmp_path):
    url = parse_repository_url(sshd.url("team.git"), ALLOWLIST)
    auth = RepositoryAuth("ssh_key", sshd.deploy_key, known_hosts=OTHER_HOST_KEY)
    with pytest.raises(RepositoryError, match="host key of localhost does not match"):
        clone_repository(url, "main", auth, tmp_path, LIMITS, allowlist=ALLOWLIST)
    assert not (tmp_path / "app.py").exists()


def test_without_known_hosts_the_clone_warns_and_without_a_key_it_is_unauthorized(sshd, tmp_path):
    url = parse_repository_url(sshd.url("team.git"), ALLOWLIST)
    clone = clone_repository(
        url, "main", RepositoryAuth("ssh_key", sshd.deploy_key), tmp_path, LIMITS, allowlist=ALLOWLIST
    )
    assert any("was not verified" in warning for warning in clone.warnings)
    assert (
        probe_repository(url, "main", None, timeout_seconds=30, allowlist=ALLOWLIST)["status"]
        == "unauthorized"
    )

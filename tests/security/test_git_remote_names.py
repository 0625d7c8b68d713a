"""A repository URL's host name reaches the shell: git runs ``GIT_SSH_COMMAND`` through ``sh -c``, and
the SSH command carries ``HostKeyAlias=<host>`` so the host key is checked under the name given.

Before, a URL-form host was checked only for a leading '-' and for being a literal address, so
``ssh://git@x$(>pwned).evil.example/acme/repo.git`` was accepted, and once the attacker's DNS answered
for that name with a public address, the scans worker ran ``$(>pwned)``: any command, as the worker.
Now a host is a DNS name of letters, digits, '-' and '_' (or a literal address), and the SSH command
is quoted for the shell whatever it holds.
"""

from __future__ import annotations

import ipaddress

import pytest

from common import netguard, repositories
from common.repositories import CloneLimits, RepositoryError, RepositoryUrl

INJECTIONS = [
    "ssh://git@x$(>pwned).evil.example/acme/repo.git",
    "ssh://git@x`>pwned`.evil.example/acme/repo.git",
    "ssh://git@x;>pwned;.evil.example/acme/repo.git",
    "ssh://git@x|tee>pwned.evil.example/acme/repo.git",
    "https://x$(>pwned).evil.example/acme/repo.git",
    "https://x'\"&>pwned.evil.example/acme/repo.git",
]


@pytest.fixture
def attacker_dns(monkeypatch):
    """The attacker's name server answers every name under its domain with a public address."""
    monkeypatch.setattr(netguard, "resolve", lambda _host, _port: [ipaddress.ip_address("93.184.215.14")])


@pytest.mark.parametrize("url", INJECTIONS)
def test_a_host_name_with_shell_syntax_is_refused(url, attacker_dns):
    with pytest.raises(RepositoryError, match="host"):
        repositories.parse_repository_url(url)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("ssh://git@git.example.com/acme/repo.git", "git.example.com"),
        ("git@git-1.example.com:acme/repo.git", "git-1.example.com"),
        ("https://GIT_internal.Example.COM:8443/acme/repo.git", "git_internal.example.com"),
        ("https://xn--bcher-kva.example/acme/repo.git", "xn--bcher-kva.example"),
    ],
)
def test_ordinary_host_names_are_still_accepted(url, host):
    assert repositories.parse_repository_url(url).host == host


def test_the_ssh_command_is_quoted_for_the_shell_whatever_the_host_holds(attacker_dns, tmp_path):
    """Even a stored URL that never went through the check (a row from before) cannot reach the shell."""
    url = RepositoryUrl("ssh", "x$(>pwned).evil.example", None, "git", "acme/repo.git")
    destination = tmp_path / "clone"
    destination.mkdir()
    with pytest.raises(RepositoryError):
        repositories.clone_repository(
            url, "main", None, destination, CloneLimits(max_bytes=10**6, max_files=10, timeout_seconds=3)
        )
    assert not (destination / "pwned").exists()
    assert not list(tmp_path.rglob("pwned"))

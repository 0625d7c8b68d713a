"""Hostile git remotes. A repository URL's host name reaches the shell: git runs ``GIT_SSH_COMMAND``
through ``sh -c``, and the SSH command carries ``HostKeyAlias=<host>`` so the host key is checked under
the name given.

Before, a URL-form host was checked only for a leading '-' and for being a literal address, so
``ssh://git@x$(>pwned).evil.example/acme/repo.git`` was accepted, and once the attacker's DNS answered
for that name with a public address, the scans worker ran ``$(>pwned)``: any command, as the worker.
Now a host is a DNS name of letters, digits, '-' and '_' (or a literal address), and the SSH command
is quoted for the shell whatever it holds.

And the server at the other end says what it likes: git copies its "remote:" messages to stderr, which
was kept in a file for the whole clone, however much there was.
"""

from __future__ import annotations

import contextlib
import ipaddress
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


def pkt_line(data: bytes) -> bytes:
    return f"{len(data) + 4:04x}".encode() + data


class ChattyGitServer(BaseHTTPRequestHandler):
    """Git's smart HTTP (protocol v2): one branch, then a fetch answered by "remote:" messages only."""

    protocol_version = "HTTP/1.1"
    limit = 40 * 1024 * 1024  # so the run before the fix ends: the server gives up here

    def log_message(self, *_args):
        pass

    def _answer(self, content_type: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        capabilities = (b"version 2\n", b"agent=git/2.39\n", b"ls-refs\n", b"fetch=shallow\n")
        body = b"".join(pkt_line(line) for line in capabilities) + b"0000"
        self._answer("application/x-git-upload-pack-advertisement", body)

    def do_POST(self):
        request = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if b"command=ls-refs" in request:
            self._answer(
                "application/x-git-upload-pack-result", pkt_line(b"1" * 40 + b" refs/heads/main\n") + b"0000"
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-git-upload-pack-result")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        messages = pkt_line(b"\x02" + b"x" * 60_000 + b"\n") * 16
        with contextlib.suppress(OSError):  # the client hung up
            self.wfile.write(b"%x\r\n%s\r\n" % (len(pkt_line(b"packfile\n")), pkt_line(b"packfile\n")))
            for _ in range(self.limit // len(messages)):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(messages), messages))


@pytest.fixture
def chatty_git_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChattyGitServer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/acme/repo.git"
    server.shutdown()
    server.server_close()


def test_a_server_sending_endless_messages_does_not_fill_the_workers_disk(
    chatty_git_server, tmp_path, monkeypatch
):
    """Before, every "remote:" line went to git's stderr file, kept whole for the clone's five minutes."""
    kept = tmp_path / "git-output"
    kept.mkdir()
    monkeypatch.setattr(  # files git writes to, kept to be measured; the clone closes them
        repositories.tempfile,
        "TemporaryFile",
        lambda: tempfile.NamedTemporaryFile(dir=kept, delete=False),  # noqa: SIM115
    )
    loopback = netguard.Allowlist.from_entries(["127.0.0.1"])
    url = repositories.parse_repository_url(chatty_git_server, loopback)
    destination = tmp_path / "clone"
    destination.mkdir()
    limits = CloneLimits(max_bytes=10**8, max_files=1000, timeout_seconds=30)
    with pytest.raises(RepositoryError, match="more output than a repository needs"):
        repositories.clone_repository(url, "main", None, destination, limits, allowlist=loopback)
    largest = max(path.stat().st_size for path in kept.iterdir())
    assert largest < 2 * repositories.GIT_STDERR_BYTES

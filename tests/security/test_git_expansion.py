"""A git server chooses how big the objects it sends become. A pack stores a blob as a delta: a base and
instructions that copy from it, each three bytes naming up to 64 KiB, the result's size declared up front.
git must expand a delta whole to hash it, in index-pack (or unpack-objects) during the fetch, before the
clone's tree size is ever checked. A 200-byte pack made the scans worker's git fill 388 MB for a clone
limited to 1 MB; a kilobyte makes gigabytes, enough to have the host's OOM killer take other tenants'
scans. git now runs under an address-space limit sized by the clone's own limits.

The tree's size was checked blob by blob, then checkout wrote each blob through the repository's own
``.gitattributes``: ``ident`` turns every 4-byte ``$Id$`` into 47 bytes and ``eol=crlf`` doubles a file of
newlines, so 3 MB checked (a few kilobytes of pack) wrote 14.75 MB, unwatched. The clone's own
``info/attributes`` now unsets them: every file is written as stored, as the size check counted it.

A connection test (``ls-remote``, in the API process) kept up to 64 MiB of listing: a server advertising a
million refs named like the one asked for cost the API 120 MB per test. It reads 64 KiB now.
"""

from __future__ import annotations

import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from common import netguard, repositories
from common.repositories import (
    CloneLimits,
    RepositoryTooLarge,
    clone_repository,
    parse_repository_url,
    probe_repository,
)
from tests.git_server import GitServer, make_delta_bomb_repository, make_repository

LOOPBACK_ALLOWED = netguard.Allowlist.from_entries(["127.0.0.0/8"])
BOMB_BYTES = 192 * 1024 * 1024
LIMITS = CloneLimits(max_bytes=1_000_000, max_files=100, timeout_seconds=60)


@pytest.fixture(scope="module")
def server():
    root = Path(tempfile.mkdtemp(prefix="trusera-git-bomb-"))
    make_delta_bomb_repository(root, "bomb.git", BOMB_BYTES)
    make_repository(root, "honest.git", [{"app.py": "import openai\n", "big.txt": "x" * 500_000}])
    make_repository(
        root,
        "attributes.git",
        [
            {"ids.txt": "$Id$" * 100_000, "lines.txt": "\n" * 400_000},
            {".gitattributes": "* ident\nlines.txt text eol=crlf\n"},
        ],
    )
    git_server = GitServer(root).start()
    yield git_server
    git_server.stop()


@pytest.fixture
def small_base_allowance(monkeypatch):
    """What git may map beside its objects, lowered so the test's bomb stays cheap to build."""
    monkeypatch.setattr(repositories, "GIT_BASE_ADDRESS_SPACE_BYTES", 96 * 1024 * 1024)


def test_a_delta_expanding_past_what_the_clone_allows_stops_the_fetch_not_the_host(
    server, tmp_path, small_base_allowance
):
    url = parse_repository_url(server.url("bomb.git"), LOOPBACK_ALLOWED)
    with pytest.raises(RepositoryTooLarge, match=r"memory it may use while fetching 'main'"):
        clone_repository(url, "main", None, tmp_path, LIMITS, allowlist=LOOPBACK_ALLOWED)
    assert not (tmp_path / "bomb.bin").exists()


def test_a_repository_within_the_limits_clones_under_the_same_allowance(
    server, tmp_path, small_base_allowance
):
    url = parse_repository_url(server.url("honest.git"), LOOPBACK_ALLOWED)
    clone = clone_repository(url, "main", None, tmp_path, LIMITS, allowlist=LOOPBACK_ALLOWED)
    assert (tmp_path / "big.txt").stat().st_size == 500_000 and clone.files == 2


def test_the_repositorys_attributes_do_not_make_checkout_write_more_than_was_checked(server, tmp_path):
    url = parse_repository_url(server.url("attributes.git"), LOOPBACK_ALLOWED)
    clone = clone_repository(url, "main", None, tmp_path, LIMITS, allowlist=LOOPBACK_ALLOWED)
    assert (tmp_path / "ids.txt").read_text() == "$Id$" * 100_000
    assert (tmp_path / "lines.txt").stat().st_size == 400_000
    written = sum(path.stat().st_size for path in tmp_path.iterdir() if path.is_file())
    assert written == clone.bytes <= LIMITS.max_bytes


def _packet(text: str) -> bytes:
    return b"%04x" % (len(text) + 4) + text.encode()


def advertising(refs: int):
    """A server answering every ref advertisement with ``refs`` refs named ``main``."""
    commit = "1" * 40
    body = (
        _packet("# service=git-upload-pack\n")
        + b"0000"
        + _packet(f"{commit} HEAD\0multi_ack\n")
        + _packet(f"{commit} refs/heads/main\n") * refs
        + b"0000"
    )

    class Advertisement(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/x-git-upload-pack-advertisement")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Advertisement)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    return http


@pytest.fixture
def server_advertising():
    started = []

    def start(refs: int) -> str:
        started.append(advertising(refs))
        return f"http://127.0.0.1:{started[-1].server_address[1]}/repository.git"

    yield start
    for http in started:
        http.shutdown()
        http.server_close()


def test_a_connection_test_reads_a_bounded_listing_of_refs(server_advertising):
    """3,000 refs: 171 KB of ``ls-remote`` output."""
    url = parse_repository_url(server_advertising(3_000), LOOPBACK_ALLOWED)
    outcome = probe_repository(url, "main", None, timeout_seconds=30, allowlist=LOOPBACK_ALLOWED)
    assert outcome["status"] == "unreachable"
    assert "more output than a repository needs (over 65536 bytes of listing" in outcome["detail"]


def test_a_connection_tests_git_holds_a_bounded_advertisement(server_advertising, monkeypatch):
    """git keeps every advertised ref before it prints one: 1.1 million refs (70 MB) took 347 MB of the
    API pod's memory in the test's git, whatever it then printed. Scaled down: 200,000 refs (11 MB)
    against a 48 MiB allowance."""
    monkeypatch.setattr(repositories, "PROBE_ADDRESS_SPACE_BYTES", 48 * 1024 * 1024)
    url = parse_repository_url(server_advertising(200_000), LOOPBACK_ALLOWED)
    outcome = probe_repository(url, "main", None, timeout_seconds=30, allowlist=LOOPBACK_ALLOWED)
    assert outcome["status"] == "unreachable"
    assert "memory it may use while listing refs" in outcome["detail"]

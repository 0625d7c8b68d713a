"""A remote the server calls on a tenant's behalf (an n8n instance, an SSO provider, a webhook receiver)
is chosen by whoever configures it, so it answers as slowly and as much as it likes.

Before, each call's ``timeout`` bounded one socket read only and the answer was read whole: a server that
dripped a byte every few seconds held the calling thread for ever (the n8n connection test and the
anonymous SSO login run in the API's 16 request threads), and an endless or gzip-bombed answer was kept
in memory whole. Now the whole exchange has a deadline and the answer a size limit
(``common/netguard.py``).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import socketserver
import threading
import time
import tracemalloc

import pytest
import requests

from common import netguard, sso
from common.scanner.n8n_client import check_n8n_connection

LOOPBACK = netguard.Allowlist.from_entries(["127.0.0.1"])
READ_TIMEOUT = 0.5  # each drip below comes well within one read's timeout
DRIP_SECONDS = 0.1
BOUND = netguard.EXCHANGE_SECONDS_PER_TIMEOUT * READ_TIMEOUT


class HostileRemote:
    """A loopback server whose answer ``behaviour`` writes; stops writing when the test ends."""

    def __init__(self, behaviour) -> None:
        self.stopped = threading.Event()
        self.sent = 0
        remote = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.recv(65536)
                with contextlib.suppress(OSError):  # the client hung up: what the guard is meant to do
                    behaviour(remote, self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def write(self, sock: socket.socket, data: bytes) -> None:
        sock.sendall(data)
        self.sent += len(data)

    def drip(self, sock: socket.socket, data: bytes) -> None:
        for byte in data:
            if self.stopped.wait(DRIP_SECONDS):
                return
            self.write(sock, bytes([byte]))

    def close(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


def drip_headers(remote: HostileRemote, sock) -> None:
    remote.write(sock, b"HTTP/1.1 200 OK\r\n")
    while not remote.stopped.is_set():
        remote.drip(sock, b"X-Padding: slow\r\n")


def drip_body(remote: HostileRemote, sock) -> None:
    remote.write(sock, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    remote.drip(sock, b'{"data": [' + b" " * 99_988 + b"]}")


def fast_then_drip(remote: HostileRemote, sock) -> None:
    """The first answer at once on a kept-alive connection, the next one dripped."""
    page = b'{"data": [], "nextCursor": "2"}'
    remote.write(sock, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(page), page))
    sock.recv(65536)
    drip_headers(remote, sock)


ENDLESS_LIMIT = 3 * netguard.MAX_RESPONSE_BYTES  # the remote gives up here, so the unguarded run ends


def endless_body(remote: HostileRemote, sock) -> None:
    remote.write(sock, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    remote.write(sock, b'{"data": [], "padding": "')
    chunk = b"a" * 65536
    while remote.sent < ENDLESS_LIMIT and not remote.stopped.is_set():
        remote.write(sock, chunk)
    remote.write(sock, b'"}')


GZIP_BOMB = gzip.compress(b'{"data": [], "padding": "' + b"a" * ENDLESS_LIMIT + b'"}', compresslevel=9)


def gzip_bomb(remote: HostileRemote, sock) -> None:
    remote.write(
        sock,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        + f"Content-Length: {len(GZIP_BOMB)}\r\n\r\n".encode()
        + GZIP_BOMB,
    )


EMPTY_LISTS = 500_000  # 1.5 MB of ``[],``: tens of megabytes once decoded into Python lists


def many_empty_lists(remote: HostileRemote, sock) -> None:
    """A JSON object, as asked, whose one member is an array of empty arrays."""
    body = b'{"data": [' + b"[]," * (EMPTY_LISTS - 1) + b"[]]}"
    remote.write(sock, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    remote.write(sock, f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)


def discovery_past_a_megabyte(remote: HostileRemote, sock) -> None:
    """A discovery document naming the right issuer, padded past a megabyte with empty arrays."""
    issuer = f"http://127.0.0.1:{remote.server.server_address[1]}"
    document = json.dumps({"issuer": issuer, "padding": [[]] * 400_000}).encode()
    remote.write(sock, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    remote.write(sock, f"Content-Length: {len(document)}\r\nConnection: close\r\n\r\n".encode() + document)


@pytest.fixture
def remote(request):
    server = HostileRemote(request.param)
    yield server
    server.close()


def in_a_thread(call, wait: float):
    """``call()``'s outcome, or ``"still running"`` after ``wait`` seconds (the test then fails)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except Exception as exc:  # the outcome under test
            outcome["value"] = exc

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(wait)
    return outcome.get("value", "still running"), time.monotonic() - started


@pytest.mark.parametrize("remote", [drip_headers, drip_body], indirect=True, ids=["headers", "body"])
def test_a_remote_dripping_its_answer_cannot_hold_the_n8n_connection_test(remote):
    session = netguard.pinned_session(remote.url, allowlist=LOOPBACK)
    outcome, took = in_a_thread(
        lambda: check_n8n_connection(remote.url, "key", timeout=READ_TIMEOUT, session=session), BOUND + 5
    )
    assert outcome != "still running", "the dripping remote held the call"
    assert outcome[0] == "unreachable"
    assert took < BOUND + 2


@pytest.mark.parametrize("remote", [fast_then_drip], indirect=True, ids=["kept-alive"])
def test_a_kept_alive_connection_is_watched_by_the_next_exchange_too(remote):
    """An n8n scan reads page after page on one connection: the second page is the one dripped."""
    session = netguard.pinned_session(remote.url, allowlist=LOOPBACK)
    assert session.get(remote.url + "/api/v1/workflows", timeout=READ_TIMEOUT).json()["nextCursor"] == "2"
    outcome, took = in_a_thread(
        lambda: session.get(remote.url + "/api/v1/workflows?cursor=2", timeout=READ_TIMEOUT), BOUND + 5
    )
    assert outcome != "still running", "the dripping remote held the call"
    assert isinstance(outcome, netguard.ExchangeTooSlow)
    assert took < BOUND + 2


@pytest.mark.parametrize("remote", [drip_headers, drip_body], indirect=True, ids=["headers", "body"])
def test_a_webhook_receiver_dripping_its_answer_cannot_hold_the_delivery(remote):
    outcome, took = in_a_thread(
        lambda: netguard.post(remote.url + "/hook", b"{}", {}, timeout=READ_TIMEOUT, allowlist=LOOPBACK),
        BOUND + 5,
    )
    assert outcome != "still running", "the dripping receiver held the delivery"
    assert isinstance(outcome, netguard.ExchangeTooSlow)
    assert took < BOUND + 2


@pytest.mark.parametrize("remote", [endless_body, gzip_bomb], indirect=True, ids=["endless", "gzip"])
def test_an_answer_past_the_size_limit_is_refused_without_being_kept(remote):
    session = netguard.pinned_session(remote.url, allowlist=LOOPBACK)
    outcome, _took = in_a_thread(
        lambda: session.get(remote.url + "/api/v1/workflows", timeout=READ_TIMEOUT), BOUND + 30
    )
    assert isinstance(outcome, netguard.ResponseTooLarge), outcome
    assert isinstance(outcome, requests.RequestException)  # every caller's "unreachable" branch
    assert "limit" in str(outcome)
    assert remote.sent < ENDLESS_LIMIT  # the client stopped reading; it did not take it all


@pytest.mark.parametrize("remote", [endless_body], indirect=True, ids=["endless"])
def test_the_n8n_connection_test_reports_an_oversized_answer_as_unreachable(remote):
    session = netguard.pinned_session(remote.url, allowlist=LOOPBACK)
    status, detail = check_n8n_connection(remote.url, "key", timeout=READ_TIMEOUT, session=session)
    assert (status, detail) == ("unreachable", "n8n instance unreachable: ResponseTooLarge")


@pytest.mark.parametrize("remote", [many_empty_lists], indirect=True, ids=["empty-lists"])
def test_the_n8n_connection_test_checks_the_answers_shape_without_building_it(remote):
    """The test runs in the API: a 32 MiB answer of ``[]`` (within the size limit) decoded into 770 MB
    of the API process and 6.8 s of its CPU, past the pod's 1 GiB. Here 1.5 MB, which cost 40 MB."""
    session = netguard.pinned_session(remote.url, allowlist=LOOPBACK)
    tracemalloc.start()
    try:
        status, _detail = check_n8n_connection(remote.url, "key", timeout=5, session=session)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == "reachable"
    assert peak < 8 * 1024 * 1024  # the answer's bytes and their copies, nothing decoded


@pytest.mark.parametrize("remote", [discovery_past_a_megabyte], indirect=True, ids=["padded"])
def test_an_identity_providers_answer_past_a_megabyte_is_refused(remote):
    """The anonymous login decoded the document in the API and kept it in Redis for every login after."""
    with pytest.raises(sso.SsoError) as refused:
        sso.discover(f"http://127.0.0.1:{remote.server.server_address[1]}")
    assert (refused.value.status, refused.value.reason) == (502, "idp_unreachable")

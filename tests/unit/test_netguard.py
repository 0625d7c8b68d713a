"""Outbound URLs: refused at creation, refused at delivery, connections pinned to the checked address."""

from __future__ import annotations

import ipaddress
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from common import netguard
from common.netguard import Allowlist, UnsafeDestination

NO_ALLOWLIST = Allowlist.from_entries([])
LOOPBACK_ALLOWED = Allowlist.from_entries(["127.0.0.1", "localhost", "10.1.0.0/16"])


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "file:///etc/passwd",
        "gopher://hooks.example.com",
        "http://10.0.0.1/hook",
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://\uff11\uff12\uff17.0.0.1/",  # fullwidth digits: IDNA-encoded, as the resolver does, 127.0.0.1
        "http://①⑥⑨.②⑤④.①⑥⑨.②⑤④/",
        "https://8.8.8.8/hook",
        "http://user:password@hooks.example.com/",
        "http:///no-host",
        "http://hooks.example.com:99999/",
        "not a url",
    ],
)
def test_refused_at_creation(url):
    assert netguard.url_errors(url, NO_ALLOWLIST)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/x?y=1",
        "http://not-resolvable-yet.invalid/hook",
        "HTTPS://Hooks.Example.com:8443/",
        "http://localhost:9000/hook",
    ],
)
def test_host_names_accepted_at_creation(url):
    assert netguard.url_errors(url, NO_ALLOWLIST) == []


def test_allowlisted_literals_are_accepted_at_creation():
    assert netguard.url_errors("http://127.0.0.1:9000/hook", LOOPBACK_ALLOWED) == []
    assert netguard.url_errors("http://10.1.2.3/hook", LOOPBACK_ALLOWED) == []
    assert netguard.url_errors("http://10.2.0.1/hook", LOOPBACK_ALLOWED)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.2.3.4", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00:ec2::254", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("ff02::1", False),
        # NAT64 (RFC 6052) is judged by the IPv4 address it wraps; local-use NAT64 (RFC 8215) never passes
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::a9fe:a9fe", False),
        ("64:ff9b::10.0.0.1", False),
        ("64:ff9b::5db8:d822", True),
        ("64:ff9b:1::5db8:d822", False),
        # 6to4 (RFC 3056): the IPv4 address in bits 16-47
        ("2002:7f00:1::1", False),
        ("2002:a9fe:a9fe::", False),
        ("2002:c0a8:101::1", False),
        ("2002:5db8:d822::1", True),
        # IPv4-compatible (deprecated) and site-local (deprecated) never pass
        ("::127.0.0.1", False),
        ("::169.254.169.254", False),
        ("::93.184.216.34", False),
        ("fec0::1", False),
        ("feff:ffff::1", False),
        # outside the global unicast 2000::/3: SIIT's IPv4-translated form (RFC 2765), which a site's
        # translator takes to the IPv4 address it carries, RFC 9780's dummy prefix, SRv6 SIDs (RFC 9602)
        ("::ffff:0:7f00:1", False),
        ("::ffff:0:169.254.169.254", False),
        ("::ffff:0:5db8:d822", False),
        ("100:0:0:1::a9fe:a9fe", False),
        ("5f00::1", False),
    ],
)
def test_public_addresses(address, public):
    assert netguard.is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "literal",
    ["[64:ff9b::a9fe:a9fe]", "[2002:a9fe:a9fe::1]", "[::7f00:1]", "[fec0::1]", "[::ffff:0:a9fe:a9fe]"],
)
def test_wrapped_and_deprecated_ipv6_literals_are_refused_at_creation_and_delivery(literal):
    assert netguard.url_errors(f"https://{literal}/hook", NO_ALLOWLIST)
    with pytest.raises(UnsafeDestination):
        netguard.checked_addresses(literal.strip("[]"), 443, NO_ALLOWLIST)


def test_the_allowlist_is_outbound_allowlist_and_webhook_allowlist_still_works(monkeypatch):
    from common.config import load_settings

    monkeypatch.delenv("OUTBOUND_ALLOWLIST", raising=False)
    monkeypatch.setenv("WEBHOOK_ALLOWLIST", "hooks.internal.test, 10.0.0.0/8")
    assert load_settings().outbound_allowlist == ["hooks.internal.test", " 10.0.0.0/8"]
    monkeypatch.setenv("OUTBOUND_ALLOWLIST", "idp.internal.test")
    assert load_settings().outbound_allowlist == ["idp.internal.test"]
    monkeypatch.delenv("OUTBOUND_ALLOWLIST")
    monkeypatch.delenv("WEBHOOK_ALLOWLIST")
    assert load_settings().outbound_allowlist == []  # nothing is allowlisted unless an operator says so


def _resolver(mapping):
    return lambda host, _port: [ipaddress.ip_address(a) for a in mapping[host]]


def test_delivery_refuses_a_name_resolving_to_an_internal_address(monkeypatch):
    monkeypatch.setattr(netguard, "resolve", _resolver({"evil.example": ["93.184.216.34", "10.0.0.5"]}))
    with pytest.raises(UnsafeDestination, match="non-public"):
        netguard.checked_addresses("evil.example", 443, NO_ALLOWLIST)


def test_delivery_allows_allowlisted_hosts_and_networks(monkeypatch):
    monkeypatch.setattr(
        netguard, "resolve", _resolver({"localhost": ["127.0.0.1"], "internal.example": ["10.1.4.4"]})
    )
    assert [str(a) for a in netguard.checked_addresses("localhost", 80, LOOPBACK_ALLOWED)] == ["127.0.0.1"]
    assert [str(a) for a in netguard.checked_addresses("internal.example", 80, LOOPBACK_ALLOWED)] == [
        "10.1.4.4"
    ]


@pytest.fixture
def loopback_server():
    """A loopback HTTP server that records each request's Host and path; POST answers a redirect
    to the metadata address (never to be followed), GET an empty n8n-style page."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, headers: dict) -> None:
            seen.append({"host": self.headers["Host"], "path": self.path})
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self._answer(302, b"no", {"Location": "http://169.254.169.254/"})

        def do_GET(self):
            self._answer(200, b'{"data": []}', {"Content-Type": "application/json"})

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def test_post_connects_to_the_checked_address_with_the_original_host(monkeypatch, loopback_server):
    port, seen = loopback_server
    calls = []

    def resolve_once(host, _port):
        calls.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(netguard, "resolve", resolve_once)
    allow = Allowlist.from_entries(["rebind.example"])
    result = netguard.post(
        f"http://rebind.example:{port}/hook?x=1",
        b"{}",
        {"Content-Type": "application/json"},
        timeout=5,
        allowlist=allow,
    )
    assert calls == ["rebind.example"]  # resolved once; the connection used that answer
    assert seen == [{"host": f"rebind.example:{port}", "path": "/hook?x=1"}]
    assert result.status == 302 and result.address == "127.0.0.1"  # redirects are not followed
    assert len(seen) == 1


def test_post_refuses_before_connecting(monkeypatch, loopback_server):
    port, seen = loopback_server
    monkeypatch.setattr(netguard, "resolve", _resolver({"rebind.example": ["127.0.0.1"]}))
    with pytest.raises(UnsafeDestination):
        netguard.post(f"http://rebind.example:{port}/", b"{}", {}, timeout=5, allowlist=NO_ALLOWLIST)
    assert seen == []


def test_pinned_session_uses_the_address_checked_when_it_was_made(monkeypatch, loopback_server):
    port, seen = loopback_server
    answers = iter([[ipaddress.ip_address("127.0.0.1")], [ipaddress.ip_address("169.254.169.254")]])
    monkeypatch.setattr(netguard, "resolve", lambda _host, _port: next(answers))
    allow = Allowlist.from_entries(["127.0.0.1"])
    with netguard.pinned_session(f"http://rebind.example:{port}", allowlist=allow) as session:
        first = session.get(f"http://rebind.example:{port}/api/v1/workflows?limit=1", timeout=5)
        second = session.get(f"http://rebind.example:{port}/api/v1/workflows", timeout=5)
    assert first.json() == {"data": []} and second.status_code == 200
    assert seen == [
        {"host": f"rebind.example:{port}", "path": "/api/v1/workflows?limit=1"},
        {"host": f"rebind.example:{port}", "path": "/api/v1/workflows"},
    ]


def test_pinned_session_refuses_internal_names_and_other_hosts(monkeypatch, loopback_server):
    port, seen = loopback_server
    monkeypatch.setattr(netguard, "resolve", _resolver({"n8n.corp.example": ["10.0.0.7"]}))
    with pytest.raises(UnsafeDestination):
        netguard.pinned_session("http://n8n.corp.example", allowlist=NO_ALLOWLIST)
    monkeypatch.setattr(netguard, "resolve", _resolver({"n8n.example": ["127.0.0.1"]}))
    allow = Allowlist.from_entries(["127.0.0.1"])
    session = netguard.pinned_session(f"http://n8n.example:{port}", allowlist=allow)
    with session, pytest.raises(UnsafeDestination):
        session.get(f"http://elsewhere.example:{port}/", timeout=5)
    assert seen == []


def test_lookups_that_never_answer_leave_a_bounded_number_of_threads(monkeypatch):
    """A receiver whose DNS never answers: each delivery gives its lookup up, and the lookup's thread stays
    until the resolver's own timeout. Past ``MAX_PENDING_LOOKUPS`` such threads a lookup fails at once,
    as a timeout, instead of leaving one more; answered, the slots serve lookups again."""
    answer = threading.Event()

    def silent(_host, _port):
        answer.wait(30)
        return [ipaddress.ip_address("93.184.216.34")]

    monkeypatch.setattr(netguard, "resolve", silent)
    limit = netguard.MAX_PENDING_LOOKUPS
    try:
        for _ in range(limit + 20):
            with pytest.raises(netguard.ExchangeTooSlow):
                netguard.resolve_within("silent.example", 443, 0.001)
        assert len([t for t in threading.enumerate() if t.name == "resolve"]) <= limit
        started = time.monotonic()
        with pytest.raises(netguard.ExchangeTooSlow, match="pending"):
            netguard.resolve_within("silent.example", 443, 5)
        assert time.monotonic() - started < 1  # refused at once, not after its 5 seconds
    finally:
        answer.set()
    deadline = time.monotonic() + 10
    while any(t.name == "resolve" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert netguard.resolve_within("silent.example", 443, 5) == [ipaddress.ip_address("93.184.216.34")]

"""Outbound URLs chosen by users (webhooks, n8n instances): refuse internal destinations, without a
DNS-rebinding window.

Two checks, at two moments:

- at creation, :func:`url_errors` refuses a non-http(s) scheme, credentials in the URL and a literal IP
  address (including the numeric forms a resolver would accept, such as ``2130706433`` or ``127.1``);
  a host name is accepted even if it does not resolve yet;
- at each delivery, :func:`post` resolves the host once, refuses it if any address is loopback,
  private, link-local (cloud metadata), multicast, reserved or otherwise not globally routable, and
  then connects to that very address while sending the original ``Host`` header and TLS server name,
  so a second DNS answer can never redirect the request; :func:`pinned_session` gives a ``requests``
  session with the same guarantee for API clients (the n8n connector and n8n scans).

The remote is the tenant's choice too, so it answers as slowly and as much as it likes. A ``timeout``
bounds one socket read only: every exchange (connecting, the headers, the body) must also end within
:data:`EXCHANGE_SECONDS_PER_TIMEOUT` times it, or its sockets are shut down (:class:`ExchangeTooSlow`), and
an answer of a guarded session is read up to :data:`MAX_RESPONSE_BYTES` once decoded
(:class:`ResponseTooLarge`). Before, a byte every few seconds held a request thread of the API for ever
(the n8n connection test, the anonymous SSO login), and an endless or gzip-bombed answer was kept whole.

Hosts (exact names or literal addresses) and networks (CIDR) in ``OUTBOUND_ALLOWLIST`` (formerly
``WEBHOOK_ALLOWLIST``, still read) are exempt: that is how an operator allows an internal receiver, and how
the tests reach their loopback identity provider. Nothing is allowlisted by default.

Every call the server makes on a tenant's behalf goes through this module: webhooks (:func:`post`), n8n
(:func:`pinned_session`) and SSO discovery, key set, token and userinfo calls (:func:`guard_session` and
:func:`pin_origin` on Authlib's ``OAuth2Session``, which is a ``requests.Session``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from common.config import get_settings

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

EXCHANGE_SECONDS_PER_TIMEOUT = 3
DEFAULT_TIMEOUT_SECONDS = 10  # a guarded call that names no timeout
MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # a page of 100 n8n workflows is a few MiB
READ_CHUNK_BYTES = 64 * 1024

# Lookups of one process running at once (``resolve_within``), those whose callers gave up included: well
# above a webhook worker's 16 threads, so only lookups left hanging by unanswering resolvers fill it.
MAX_PENDING_LOOKUPS = 64

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


_lookup_slots = threading.BoundedSemaphore(MAX_PENDING_LOOKUPS)


class UnsafeDestination(Exception):
    """The URL points (or now resolves) somewhere a webhook must not reach."""


class ExchangeTooSlow(requests.exceptions.Timeout):
    """The remote did not finish its answer within the exchange's deadline."""


class ResponseTooLarge(requests.RequestException):
    """The remote's answer is larger than :data:`MAX_RESPONSE_BYTES`."""


@dataclass(frozen=True)
class Allowlist:
    hosts: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def from_entries(cls, entries: list[str]) -> Allowlist:
        hosts, networks = set(), []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry)
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return _normal_host(host) in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


def current_allowlist() -> Allowlist:
    return Allowlist.from_entries(get_settings().outbound_allowlist)


def _normal_host(host: str) -> str:
    return host.strip().lower().rstrip(".")


def literal_address(host: str) -> IPAddress | None:
    """The address a host string denotes by itself, in any form a resolver would accept: a name in other
    than ASCII is taken as the resolver takes it, IDNA-encoded (fullwidth digits are plain digits)."""
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
# RFC 4291: the only IPv6 space the internet routes. Outside it lie translators' prefixes Python's
# ``is_global`` does not know (SIIT's IPv4-translated ``::ffff:0:a.b.c.d``, local-use NAT64, RFC 9780's
# dummy prefix) that a site's own translator turns into the internal IPv4 address they carry, and
# deprecated forms still routed inside some sites (IPv4-compatible ``::a.b.c.d``, site-local ``fec0::/10``).
GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries and a translator or relay would reach (mapped, NAT64, 6to4)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast only: loopback, private, link-local, CGNAT, reserved... are not.

    IPv6 forms that wrap an IPv4 address are judged by that address; any other IPv6 address must also
    lie in the global unicast space ``2000::/3``.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            address = embedded
        elif address not in GLOBAL_UNICAST:
            return False
    return address.is_global and not address.is_multicast


def url_errors(url: str, allowlist: Allowlist | None = None) -> list[str]:
    """Why ``url`` cannot be a webhook destination (empty when it can), checked at creation."""
    allowlist = allowlist or current_allowlist()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return [f"Not a valid URL: {exc}."]
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return ["Only http and https URLs are allowed."]
    host = parts.hostname
    if not host:
        return ["The URL needs a host name."]
    if parts.username is not None or parts.password is not None:
        return ["Credentials in the URL are not allowed; sign deliveries with the webhook secret instead."]
    if port == 0:
        return ["Port 0 is not a valid destination."]
    address = literal_address(host)
    if address is not None and not (allowlist.allows_host(host) or allowlist.allows_address(address)):
        return ["Use a host name, not an IP address."]
    return []


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in resolver order, without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, IPAddress] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        seen.setdefault(sockaddr[0], ipaddress.ip_address(sockaddr[0].split("%", 1)[0]))
    return list(seen.values())


def resolve_within(host: str, port: int, seconds: float) -> list[IPAddress]:
    """:func:`resolve`, given up after ``seconds``: ``getaddrinfo`` takes no timeout, and a send whose
    lookup outlasts its deadline could outlast the claim that keeps a second worker from sending it too.

    The lookup runs in a daemon thread that ends with the resolver's own timeout; raises
    :class:`ExchangeTooSlow` when it has not answered in time, or at once when
    :data:`MAX_PENDING_LOOKUPS` lookups are still running: a receiver whose DNS never answers left a
    thread behind per call, without bound, until the process ran out of threads or memory."""
    if not _lookup_slots.acquire(blocking=False):
        raise ExchangeTooSlow(f"{host} not resolved: {MAX_PENDING_LOOKUPS} lookups are still pending")
    outcome: list = []
    lookup = threading.Thread(target=_resolve_into, args=(host, port, outcome), name="resolve", daemon=True)
    try:
        lookup.start()
    except BaseException:
        _lookup_slots.release()
        raise
    lookup.join(max(seconds, 0.0))
    if not outcome:
        raise ExchangeTooSlow(f"{host} did not resolve within {seconds:g} seconds")
    addresses, error = outcome[0]
    if error is not None:
        raise error
    return addresses


def _resolve_into(host: str, port: int, outcome: list) -> None:
    try:
        outcome.append((resolve(host, port), None))
    except Exception as exc:  # handed to the caller, which raises it as resolve would have
        outcome.append(([], exc))
    finally:
        _lookup_slots.release()


def checked_addresses(
    host: str, port: int, allowlist: Allowlist | None = None, *, within: float | None = None
) -> list[IPAddress]:
    """Resolve now and keep the answer; refuse when any address is internal and the host is not allowed.
    ``within`` bounds the lookup (seconds; None waits for the resolver).

    Raises :class:`UnsafeDestination`, :class:`ExchangeTooSlow`, or ``socket.gaierror`` when the name does
    not resolve.
    """
    allowlist = allowlist or current_allowlist()
    literal = literal_address(host)
    if literal is not None:
        addresses = [literal]
    elif within is None:
        addresses = resolve(host, port)
    else:
        addresses = resolve_within(host, port, within)
    if allowlist.allows_host(host):
        return addresses
    refused = [a for a in addresses if not (is_public(a) or allowlist.allows_address(a))]
    if refused:
        raise UnsafeDestination(
            f"{host} resolves to a non-public address ({refused[0]}); OUTBOUND_ALLOWLIST can allow it"
        )
    return addresses


@dataclass
class PostResult:
    status: int
    headers: dict[str, str]
    body_excerpt: bytes
    address: str


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    max_excerpt_bytes: int = 4096,
    allowlist: Allowlist | None = None,
) -> PostResult:
    """POST ``body`` to ``url`` through a connection pinned to a checked address; never follows redirects.

    Raises :class:`UnsafeDestination`, ``socket.gaierror`` or a ``urllib3`` error for network failures.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES or not parts.hostname:
        raise UnsafeDestination(f"not an http(s) URL: {url}")
    host = parts.hostname
    port = parts.port or DEFAULT_PORTS[scheme]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_headers = {**headers, "Host": parts.netloc}
    last_error: Exception | None = None
    with _Deadline(EXCHANGE_SECONDS_PER_TIMEOUT * timeout) as deadline:
        # the lookup is part of the exchange: its deadline is what the webhook claim is sized on
        addresses = checked_addresses(host, port, allowlist, within=deadline.seconds_left())
        for address in addresses:
            deadline.check()
            pool = _pinned_pool(scheme, host, str(address), port, timeout)
            try:
                response = pool.urlopen(
                    "POST",
                    path,
                    body=body,
                    headers=request_headers,
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    assert_same_host=False,
                )
                try:
                    excerpt = response.read(max_excerpt_bytes)
                finally:
                    response.release_conn()
                deadline.check()  # a shut-down socket reads as a short answer
                return PostResult(response.status, dict(response.headers), excerpt, str(address))
            except (NewConnectionError, ConnectTimeoutError) as exc:
                last_error = exc  # this address refuses connections: try the next checked one
            except urllib3.exceptions.HTTPError:
                deadline.check()
                raise
            finally:
                pool.close()
        deadline.check()
    assert last_error is not None
    raise last_error


def _pinned_pool(
    scheme: str, host: str, address: str, port: int, timeout: float
) -> urllib3.HTTPConnectionPool:
    common = {
        "host": address,
        "port": port,
        "timeout": urllib3.Timeout(connect=timeout, read=timeout),
        "retries": False,
        "maxsize": 1,
    }
    if scheme == "https":
        return _WatchedHTTPSPool(
            **common, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED"
        )
    return _WatchedHTTPPool(**common)


_current_deadline = threading.local()


class _Deadline:
    """Shuts down every socket the exchange opens once its time is up, whatever the socket waits for
    (a TLS handshake, a header line, the body), so no remote can stretch the exchange past it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._ends = time.monotonic() + self.seconds
        self._outer = getattr(_current_deadline, "value", None)
        _current_deadline.value = self
        self._timer.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._timer.cancel()
        _current_deadline.value = self._outer
        with self._lock:
            for duplicate in self._sockets:
                duplicate.close()
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> None:
        """Keep a duplicate of ``sock``'s descriptor: shutting it down stops the original, in TLS or not."""
        try:
            duplicate = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except OSError:
            return  # closed already: nothing can wait on it
        with self._lock:
            self._sockets.append(duplicate)
            if self.expired:
                _shut(duplicate)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for duplicate in self._sockets:
                _shut(duplicate)

    def seconds_left(self) -> float:
        return max(self._ends - time.monotonic(), 0.0)

    def check(self) -> None:
        if self.expired:
            raise ExchangeTooSlow(f"the remote did not finish answering within {self.seconds:g} seconds")


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedConnection:
    """A connection whose socket the thread's current :class:`_Deadline` can shut down."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        deadline = getattr(_current_deadline, "value", None)
        if deadline is not None:
            deadline.watch(sock)
        return sock


class _WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedPool:
    """A pool whose kept-alive connections are watched again by the exchange that reuses them."""

    def _get_conn(self, timeout=None):
        conn = super()._get_conn(timeout)
        deadline = getattr(_current_deadline, "value", None)
        if deadline is not None and conn.sock is not None:
            deadline.watch(conn.sock)
        return conn


class _WatchedHTTPPool(_WatchedPool, urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(_WatchedPool, urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def _exchange_seconds(timeout) -> float:
    """The deadline of a whole exchange, from the per-read ``timeout`` requests was given."""
    if isinstance(timeout, urllib3.Timeout):
        timeout = (timeout.connect_timeout, timeout.read_timeout)
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    longest = max((v for v in values if isinstance(v, int | float)), default=DEFAULT_TIMEOUT_SECONDS)
    return EXCHANGE_SECONDS_PER_TIMEOUT * longest


def _read_bounded(response: requests.Response, deadline: _Deadline, limit: int) -> bytes:
    """The decoded body, refused past ``limit`` bytes (urllib3 inflates it chunk by chunk)."""
    body = bytearray()
    try:
        for chunk in response.raw.stream(READ_CHUNK_BYTES, decode_content=True):
            body += chunk
            if len(body) > limit:
                raise ResponseTooLarge(f"the answer is larger than the limit of {limit} bytes")
    except urllib3.exceptions.HTTPError as exc:
        deadline.check()
        raise requests.ConnectionError(exc) from exc
    finally:
        response.close()
    deadline.check()
    return bytes(body)


class _PinnedAdapter(HTTPAdapter):
    """Sends every request for ``host`` to one checked address; any other host is refused."""

    def __init__(self, host: str, address: str, max_response_bytes: int) -> None:
        super().__init__(max_retries=0)
        self._host = host
        self._address = address
        self._max_response_bytes = max_response_bytes

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = WATCHED_POOLS

    def send(self, request, stream=False, timeout=None, **kwargs) -> requests.Response:
        """The whole answer, read within the exchange's deadline and size limit (``stream`` is not kept)."""
        with _Deadline(_exchange_seconds(timeout)) as deadline:
            try:
                response = super().send(request, stream=True, timeout=timeout, **kwargs)
            except requests.RequestException:
                deadline.check()
                raise
            response._content = _read_bounded(response, deadline, self._max_response_bytes)
            response._content_consumed = True
        return response

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if (host_params.get("host") or "").lower() != self._host:
            raise UnsafeDestination(f"{host_params.get('host')} is not the checked host {self._host}")
        if host_params["scheme"] == "https":
            pool_kwargs = {**pool_kwargs, "server_hostname": self._host, "assert_hostname": self._host}
        return {**host_params, "host": self._address}, pool_kwargs

    def add_headers(self, request, **kwargs) -> None:
        request.headers.setdefault("Host", urlsplit(request.url).netloc)


class _RefusingAdapter(HTTPAdapter):
    """The fallback of a guarded session: a host that no :func:`pin_origin` checked is never called."""

    def send(self, request, **kwargs):
        raise UnsafeDestination(f"{urlsplit(request.url).hostname} was not checked for this session")


def guard_session(session: requests.Session) -> requests.Session:
    """Make ``session`` follow no redirect, ignore environment proxies and call only pinned origins."""
    session.max_redirects = 0
    session.trust_env = False  # a proxy from the environment would connect by name, past the check
    refusing = _RefusingAdapter()
    session.mount("http://", refusing)
    session.mount("https://", refusing)
    return session


def pin_origin(
    session: requests.Session,
    url: str,
    allowlist: Allowlist | None = None,
    *,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> None:
    """Let a guarded ``session`` call ``url``'s origin, at an address checked now and pinned, reading
    answers of at most ``max_response_bytes``.

    Raises :class:`UnsafeDestination`, or ``socket.gaierror`` when the name does not resolve.
    """
    parts, adapter = _checked_adapter(url, allowlist, max_response_bytes)
    session.mount(f"{parts.scheme.lower()}://{parts.netloc.lower()}/", adapter)


def _checked_adapter(url: str, allowlist: Allowlist | None, max_response_bytes: int = MAX_RESPONSE_BYTES):
    """``url``'s parts and an adapter pinned to its host's address, checked now."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES or not parts.hostname:
        raise UnsafeDestination(f"not an http(s) URL: {url}")
    host = _normal_host(parts.hostname)
    address = checked_addresses(host, parts.port or DEFAULT_PORTS[scheme], allowlist)[0]
    return parts, _PinnedAdapter(host, str(address), max_response_bytes)


def pinned_session(url: str, allowlist: Allowlist | None = None) -> requests.Session:
    """A session whose requests reach ``url``'s host only, at an address checked now; no redirects.

    Raises :class:`UnsafeDestination`, or ``socket.gaierror`` when the name does not resolve.
    """
    _parts, adapter = _checked_adapter(url, allowlist)
    session = guard_session(requests.Session())
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session

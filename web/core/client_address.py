"""The client a request is counted for, where only its address identifies it (rate limits of requests
without a verified credential, the login lockout, the anonymous SSO sign-ins' share of remote calls).

An IPv4 address counts as itself. An IPv6 client counts as its /64: a host is given a whole /64 (SLAAC,
temporary privacy addresses) and can send each request from a new address in it, so counted by address
every request had a rate-limit window and a lockout of its own. As for an IPv4 client behind a NAT, the
hosts of one /64 share them. 6to4 and Teredo addresses count as the IPv4 address they carry, and so do
those of the NAT64 well-known prefix: an IPv6-only server behind a stateless translator (SIIT-DC, RFC 7755)
sees every IPv4 client as ``64:ff9b::a.b.c.d``, all of them in one /64. A translator in the local-use
prefix (``64:ff9b:1::/48``, RFC 8215) puts the IPv4 address where its own prefix length says (RFC 6052:
/48 to /96), which the address does not tell; each of its addresses is one IPv4 client, so counts alone.
"""

from __future__ import annotations

import functools
import ipaddress

from flask import request

from common.netguard import NAT64_WELL_KNOWN

IPV6_CLIENT_PREFIX = 64
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215; no host is given one of these


@functools.lru_cache(maxsize=4096)  # parsing costs 3 to 20 µs; a busy API sees the same clients again
def client_of(address: str | None) -> str | None:
    """``address`` as a client: itself for IPv4, its /64 for IPv6, except an IPv6 address that carries the
    client's IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo), which counts as that, and a local-use NAT64
    one, which counts as itself; anything that is not an address (a Unix socket's peer) as it is. A 6to4
    host holds a /48 (65536 /64s), a Teredo /64 is its relay server's, shared by all of that server's
    clients, and the NAT64 /64 every translated IPv4 client's."""
    try:
        parsed = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        carried = (
            parsed.ipv4_mapped
            or (ipaddress.IPv4Address(int(parsed) & 0xFFFFFFFF) if parsed in NAT64_WELL_KNOWN else None)
            or parsed.sixtofour
            or (parsed.teredo or (None, None))[1]
        )
        if carried is not None:
            return str(carried)
        if parsed in NAT64_LOCAL_USE:
            return str(parsed)
        return str(ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False))
    return str(parsed)


def request_client() -> str | None:
    """The current request's client (``request.remote_addr``, which ``TRUSTED_PROXIES`` may set)."""
    return client_of(request.remote_addr)

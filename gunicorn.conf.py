"""gunicorn settings shared by ``make run`` and the Docker image (gunicorn reads ``./gunicorn.conf.py``).

- The access log never records query strings: a WebSocket client that still sends ``?token=`` must
  not leave its credential in the log.
- A server reachable beyond loopback needs secrets from the environment: secrets generated into the
  data directory belong to one host, and a published development value must never face a network.
"""

from __future__ import annotations

import ipaddress

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def _is_loopback(address) -> bool:
    if isinstance(address, str):
        return True  # a Unix socket is reachable only through the file system
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposed_addresses(addresses) -> list[str]:
    return [f"{a[0]}:{a[1]}" for a in addresses if not _is_loopback(a)]


def on_starting(server) -> None:
    from common.config import secrets_missing_from_environment

    exposed = exposed_addresses(server.cfg.address)
    missing = secrets_missing_from_environment()
    if exposed and missing:
        raise SystemExit(
            f"Refusing to serve on {', '.join(exposed)} without {', '.join(missing)} in the environment: "
            "a server reachable from the network needs random secrets shared by every process of the "
            "deployment (e.g. `openssl rand -base64 32`), or bind to 127.0.0.1."
        )

"""gunicorn settings shared by ``make run`` and the Docker image (gunicorn reads ``./gunicorn.conf.py``).

- The access log never records query strings: a WebSocket client that still sends ``?token=`` must
  not leave its credential in the log.
- Each worker opens its broker connections once it has loaded the app, not inside its first requests.
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


def post_worker_init(worker) -> None:
    """Warm the broker connections a worker sends tasks through, as many as it serves requests at once (up to
    the database pool's size), in the background: opened inside requests, they made the first burst of
    ``POST /scans`` the slowest requests of all (``common.celery_client.warm_broker_connections``)."""
    import threading

    from common.celery_client import warm_broker_connections
    from common.config import DB_POOL_SIZE

    gevent_worker = "gevent" in worker.cfg.worker_class_str
    concurrency = worker.cfg.worker_connections if gevent_worker else worker.cfg.threads
    threading.Thread(
        target=warm_broker_connections,
        args=(min(concurrency, DB_POOL_SIZE),),
        name="broker-warm-up",
        daemon=True,
    ).start()

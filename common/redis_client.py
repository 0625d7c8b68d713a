"""One Redis connection pool per process for pub/sub, blocklists, counters and locks."""

from __future__ import annotations

import os

import redis

from common.config import get_settings

_client: redis.Redis | None = None
_client_pid: int | None = None


def get_redis() -> redis.Redis:
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        _client = redis.Redis.from_url(
            get_settings().redis_url,
            decode_responses=True,
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=15,
            retry_on_timeout=True,
        )
        _client_pid = os.getpid()
    return _client


def reset_redis() -> None:
    global _client
    _client = None

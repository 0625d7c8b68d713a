"""One Redis connection pool per process for pub/sub, blocklists, counters and locks."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import redis
from redis.commands.core import Script
from redis.exceptions import NoScriptError

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


def run_script(script: Script, keys: Sequence[str], args: Sequence[str | bytes | int | float] = ()) -> Any:
    """``script(keys, args)``: one ``EVALSHA`` on a pooled connection of the script's own client, without
    redis-py's command machinery around it (retry wrapper, event dispatch, response callbacks, and a
    packer that checks every argument's type twice), which was about a third of the CPU of the Redis round
    trip every authenticated request makes. The connection is the pool's, health check included; its
    parser answers as the client does (text or bytes). An answer this path cannot take as it comes (the
    script not loaded: a restarted or flushed Redis; a connection lost or timed out) goes through
    ``script(keys, args)`` itself, which loads the script and retries as the client is configured to."""
    pool = script.registered_client.connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command([packed("EVALSHA", script.sha, len(keys), *keys, *args)])
        return connection.read_response()
    except NoScriptError:
        pass
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        connection.disconnect()
    finally:
        pool.release(connection)
    return script(keys, args)


def packed(*arguments: str | bytes | int | float) -> bytes:
    """A command in Redis's protocol, each argument encoded as redis-py encodes it (a number by its
    ``repr``, text as UTF-8)."""
    parts = [b"*%d\r\n" % len(arguments)]
    for argument in arguments:
        if isinstance(argument, bool):
            raise redis.DataError("a bool is not a Redis argument")
        if isinstance(argument, bytes):
            data = argument
        else:
            data = (argument if isinstance(argument, str) else repr(argument)).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)

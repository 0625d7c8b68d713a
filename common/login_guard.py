"""Per-account throttling of password guesses.

The ``auth`` rate limit counts per client address, which a botnet spreads thin; this counts failed
logins per email address (hashed, existing or not, so the answer reveals nothing about accounts) and
refuses further attempts for that address once ``LOGIN_FAILURE_LIMIT`` failures fall within
``LOGIN_LOCKOUT_SECONDS``. A successful login clears the count. When Redis cannot answer, logins
go on (the address limit still applies) rather than locking everybody out.
"""

from __future__ import annotations

import hashlib

import redis

from common.config import get_settings
from common.redis_client import get_redis


def _key(email: str) -> str:
    return "trusera:login-failures:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def locked_for(email: str) -> int | None:
    """Seconds until this address may try again, or None when it may try now."""
    settings = get_settings()
    try:
        pipe = get_redis().pipeline()
        pipe.get(_key(email))
        pipe.ttl(_key(email))
        failures, ttl = pipe.execute()
    except redis.RedisError:
        return None
    if failures is None or int(failures) < settings.login_failure_limit:
        return None
    return max(int(ttl), 1)


def record_failure(email: str) -> None:
    """Count one failure; the window starts at the first failure and is not extended by later ones."""
    try:
        pipe = get_redis().pipeline()
        pipe.incr(_key(email))
        pipe.expire(_key(email), get_settings().login_lockout_seconds, nx=True)
        pipe.execute()
    except redis.RedisError:
        return


def clear(email: str) -> None:
    try:
        get_redis().delete(_key(email))
    except redis.RedisError:
        return

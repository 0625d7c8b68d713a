"""Throttling of password guesses that an attacker cannot turn against the account's owner.

The ``auth`` rate limit counts per client address across accounts; this counts failed logins per
(email address, client address), as Auth0's brute-force protection does: ``LOGIN_FAILURE_LIMIT``
failures within ``LOGIN_LOCKOUT_SECONDS`` lock that pair only, so the owner signing in from another
address is never locked out by someone else's guesses. An account-wide ceiling
(``LOGIN_ACCOUNT_FAILURE_LIMIT``, far above what one address may try) caps guessing spread over
many addresses. Emails are hashed, existing or not, so the answer reveals nothing about accounts.
A successful login clears its own pair's count. When Redis cannot answer, logins go on (the
address limit still applies) rather than locking everybody out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import redis

from common.config import get_settings
from common.redis_client import get_redis

PREFIX = "trusera:login-failures:"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _account_key(email: str) -> str:
    return PREFIX + "account:" + _digest(email.strip().lower())


def _pair_key(email: str, address: str | None) -> str:
    return PREFIX + "pair:" + _digest(f"{email.strip().lower()}\0{address or '-'}")


def locked_for(email: str, address: str | None) -> int | None:
    """Seconds until this address may try this email again, or None when it may try now."""
    settings = get_settings()
    keys = [
        (_pair_key(email, address), settings.login_failure_limit),
        (_account_key(email), settings.login_account_failure_limit),
    ]
    try:
        pipe = get_redis().pipeline()
        for key, _limit in keys:
            pipe.get(key)
            pipe.ttl(key)
        answers = pipe.execute()
    except redis.RedisError:
        return None
    waits = [
        max(int(ttl), 1)
        for (_key, limit), failures, ttl in zip(keys, answers[::2], answers[1::2], strict=True)
        if failures is not None and int(failures) >= limit
    ]
    return max(waits) if waits else None


def record_failure(email: str, address: str | None) -> None:
    """Count one failure; each window starts at its first failure and is not extended by later ones."""
    window = get_settings().login_lockout_seconds
    try:
        pipe = get_redis().pipeline()
        for key in (_pair_key(email, address), _account_key(email)):
            pipe.incr(key)
            pipe.expire(key, window, nx=True)
        pipe.execute()
    except redis.RedisError:
        return


def clear(email: str, address: str | None) -> None:
    """The owner got in from this address; the account-wide count stays, it bounds everyone's guesses."""
    try:
        get_redis().delete(_pair_key(email, address))
    except redis.RedisError:
        return


class Locked(Exception):
    """This address may not guess this account's password for ``wait`` more seconds."""

    def __init__(self, wait: int):
        super().__init__(wait)
        self.wait = wait


def guess(email: str, address: str | None, correct: Callable[[], bool]) -> bool:
    """Whether a password guess for ``email`` from ``address`` is right, counted as a login counts it:
    ``Locked`` while the pair or the account is locked (``correct`` is not called), a wrong guess counted,
    a right one clearing the pair's count. Every place that takes a password goes through here, so a
    second door (re-authentication, SSO linking) is never an unthrottled one."""
    wait = locked_for(email, address)
    if wait is not None:
        raise Locked(wait)
    if not correct():
        record_failure(email, address)
        return False
    clear(email, address)
    return True

"""Slots: how many of one kind of call an organization has in flight at once, across every process.

The calls counted wait on a remote that a tenant chose (a webhook's receiver, an n8n instance, a git
server, an identity provider), which may answer as slowly as the exchange's deadline allows
(``netguard.EXCHANGE_SECONDS_PER_TIMEOUT`` times the timeout). The threads that make them are shared by
every organization: without a cap, one organization's slow remotes held them all. A slot is a lease in a
Redis sorted set, so a process lost mid-call frees its slots once their leases lapse. A call over the cap
is not refused: it goes back on its queue and looks again after ``turn_wait``.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
import uuid

import redis

from common.redis_client import get_redis

log = logging.getLogger(__name__)

PREFIX = "trusera:slots:"
TURN_WAIT_SECONDS = 1.0  # a call waiting for its organization's turn looks again after this, doubled
TURN_WAIT_MAX_SECONDS = 60.0  # each time up to this: a long backlog costs a message a minute each

# KEYS[1]: the organization's calls of one kind (token -> lease expiry). ARGV: now, lease expiry, token,
# cap (negative: none). 1 when the organization already has ``cap`` of them in flight; else the slot is
# taken (or, already the token's, its lease extended): 0.
_TAKE = """
local now = tonumber(ARGV[1])
local cap = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if cap >= 0 and not redis.call('ZSCORE', KEYS[1], ARGV[3]) and redis.call('ZCARD', KEYS[1]) >= cap then
  return 1
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) - now) + 1)
return 0
"""


def turn_wait(waits: int) -> float:
    """Seconds before a call that found its organization's slots taken looks again, its ``waits``-th time:
    doubling, with up to 25 % jitter so the waiting ones spread out."""
    return min(TURN_WAIT_MAX_SECONDS, TURN_WAIT_SECONDS * 2**waits) * random.uniform(1, 1.25)


class Slot:
    """One call of ``kind`` for an organization: ``take`` it before the call, ``release`` it after.
    Redis down: the call goes on uncounted (the broker and the sessions' checks are down with it).

    ``token`` names the call: a second take of the same token (a redelivered message of a scan whose lost
    worker still holds its slot) takes the slot it already holds instead of waiting for it to lapse."""

    def __init__(self, kind: str, token: str | None = None) -> None:
        self.kind = kind
        self._token = token or uuid.uuid4().hex
        self._key: str | None = None

    def take(self, organization_id: str, cap: int | None, lease_seconds: float) -> bool:
        """False when the organization already has ``cap`` calls of this kind in flight. ``cap`` None: the
        slot is taken whatever the count (a turn borrowed while no other organization wants one), and
        counted, so the organization's next calls wait until it is back under its cap."""
        now = time.time()
        key = f"{PREFIX}{self.kind}:{organization_id}"
        try:
            if get_redis().eval(
                _TAKE, 1, key, now, now + lease_seconds, self._token, -1 if cap is None else cap
            ):
                return False
        except redis.RedisError as exc:
            log.warning("%s calls of %s not counted (Redis: %s)", self.kind, organization_id, exc)
            return True
        self._key = key
        return True

    def renew(self, lease_seconds: float) -> None:
        """Extend a held slot's lease: a long call keeps its slot while its process lives, and a lost one
        frees it ``lease_seconds`` after its last renewal. A slot released meanwhile stays released."""
        if self._key is not None:
            with contextlib.suppress(redis.RedisError):
                get_redis().zadd(self._key, {self._token: time.time() + lease_seconds}, xx=True)

    def release(self) -> None:
        key, self._key = self._key, None
        if key is not None:
            with contextlib.suppress(redis.RedisError):
                get_redis().zrem(key, self._token)

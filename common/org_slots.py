"""Slots: how many of one kind of call an organization (or one person, across their organizations) has in
flight at once, across every process.

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
wall_clock = time.time  # what leases are measured with (tests move it on to make a lease lapse)

# KEYS[1]: the organization's calls of one kind (token -> lease expiry); KEYS[2]: the holders of this
# call's token (holder -> lease expiry). ARGV: now, lease expiry, token, cap (negative: none), holder. 1 when
# the organization already has ``cap`` of them in flight; else the slot is taken (or, already the token's,
# joined): 0.
_TAKE = """
local now = tonumber(ARGV[1])
local cap = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZSCORE', KEYS[1], ARGV[3])
if cap >= 0 and not held and redis.call('ZCARD', KEYS[1]) >= cap then
  return 1
end
if not held then
  redis.call('DEL', KEYS[2])
end
local ttl = math.ceil(tonumber(ARGV[2]) - now) + 1
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[5])
redis.call('EXPIRE', KEYS[2], ttl)
if not held or tonumber(held) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
end
if redis.call('TTL', KEYS[1]) < ttl then
  redis.call('EXPIRE', KEYS[1], ttl)
end
return 0
"""

# Same keys; ARGV: now, lease expiry, token, holder. Extends the holder's lease and the slot's, and the
# keys' own expiry with them (without it, both keys vanished ``lease + 1`` seconds after the take however
# often the lease was renewed, and the organization's next scan ran past its cap), unless the slot or the
# holder was released (or lapsed) meanwhile: a released slot stays released.
_RENEW = """
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) or not redis.call('ZSCORE', KEYS[2], ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
local latest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
redis.call('ZADD', KEYS[1], latest, ARGV[3])
local ttl = math.ceil(tonumber(latest) - tonumber(ARGV[1])) + 1
redis.call('EXPIRE', KEYS[2], ttl)
if redis.call('TTL', KEYS[1]) < ttl then
  redis.call('EXPIRE', KEYS[1], ttl)
end
return 1
"""

# Same keys; ARGV: now, token, holder. The holder leaves; the slot is given back once no holder whose
# lease still runs is left (two deliveries of one scan running at once hold one slot, until both end).
_RELEASE = """
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local latest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
if latest then
  if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
    redis.call('ZADD', KEYS[1], latest, ARGV[2])
  end
else
  redis.call('ZREM', KEYS[1], ARGV[2])
  redis.call('DEL', KEYS[2])
end
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
    worker still holds its slot) joins the slot it already holds instead of waiting for it to lapse. Each
    ``Slot`` is one holder of its token's slot, and the slot is given back when the last holder whose
    lease runs releases it: a duplicate delivery that ends first no longer frees the slot of the delivery
    still running, which let the organization start another scan over its cap."""

    def __init__(self, kind: str, token: str | None = None) -> None:
        self.kind = kind
        self._token = token or uuid.uuid4().hex
        self._holder = uuid.uuid4().hex
        self._keys: tuple[str, str] | None = None

    def take(self, organization_id: str, cap: int | None, lease_seconds: float) -> bool:
        """False when the organization already has ``cap`` calls of this kind in flight. ``cap`` None: the
        slot is taken whatever the count (a turn borrowed while no other organization wants one), and
        counted, so the organization's next calls wait until it is back under its cap."""
        now = wall_clock()
        key = f"{PREFIX}{self.kind}:{organization_id}"
        keys = (key, f"{key}:holders:{self._token}")
        try:
            if get_redis().eval(
                _TAKE,
                2,
                *keys,
                now,
                now + lease_seconds,
                self._token,
                -1 if cap is None else cap,
                self._holder,
            ):
                return False
        except redis.RedisError as exc:
            log.warning("%s calls of %s not counted (Redis: %s)", self.kind, organization_id, exc)
            return True
        self._keys = keys
        return True

    def renew(self, lease_seconds: float) -> None:
        """Extend a held slot's lease: a long call keeps its slot while its process lives, and a lost one
        frees it ``lease_seconds`` after its last renewal. A slot released meanwhile stays released."""
        if self._keys is not None:
            with contextlib.suppress(redis.RedisError):
                now = wall_clock()
                get_redis().eval(_RENEW, 2, *self._keys, now, now + lease_seconds, self._token, self._holder)

    def release(self) -> None:
        keys, self._keys = self._keys, None
        if keys is not None:
            with contextlib.suppress(redis.RedisError):
                get_redis().eval(_RELEASE, 2, *keys, wall_clock(), self._token, self._holder)


def owner_holder(user_id: str) -> str:
    """The key of a user's own share of a kind of call, across every organization they act in (an
    organization's id is a UUID, so no organization's key is one)."""
    return f"user:{user_id}"


class Share:
    """One call's slot in its organization's share and in its owner's: the user who asked for it (the
    scan's creator, an API key's owner, the webhook's creator). Organizations cost an account nothing
    (``ORGANIZATIONS_PER_USER`` team organizations, besides the personal workspace), so a per-organization
    cap alone gave one person that many shares of the workers every tenant uses. A call without an owner
    (its account deleted) is counted in its organization's share only."""

    def __init__(self, kind: str, token: str | None = None) -> None:
        self._organization = Slot(kind, token)
        self._owner = Slot(kind, token)

    def take(self, organization_id: str, owner_id: str | None, cap: int | None, lease_seconds: float) -> bool:
        """False when the organization or the owner already has ``cap`` calls of this kind in flight;
        nothing is then held. ``cap`` None takes both whatever the counts (a borrowed turn)."""
        if not self._organization.take(organization_id, cap, lease_seconds):
            return False
        if owner_id is None or self._owner.take(owner_holder(owner_id), cap, lease_seconds):
            return True
        self._organization.release()
        return False

    def renew(self, lease_seconds: float) -> None:
        self._organization.renew(lease_seconds)
        self._owner.renew(lease_seconds)

    def release(self) -> None:
        self._organization.release()
        self._owner.release()

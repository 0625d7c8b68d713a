"""The reference's rate-limit table. Grouped limits are shared by every endpoint of the group.

Endpoints of a group are exempt from the general 200/minute application limit,
so each request counts against exactly one row of the table.

Counting a request costs one Redis round trip (``OneTripMovingWindow``): the moving window's entry is
taken, the window read back for the ``X-RateLimit-*`` headers and the token's revocation checked in one
script, where Flask-Limiter's moving window made two round trips and the revocation check a third.
"""

from __future__ import annotations

import dataclasses
import time
from contextlib import suppress

from flask import current_app, g, has_app_context, request
from flask_limiter import Limiter
from limits import RateLimitItem
from limits.storage import RedisStorage
from limits.strategies import STRATEGIES, MovingWindowRateLimiter, WindowStats

from common import login_guard
from common.redis_client import run_script
from web.core.access import AUTHENTICATED, PUBLIC, wanted_organization
from web.core.client_address import request_client
from web.core.principal import (
    AuthenticationError,
    bearer_token,
    cache_keys,
    rate_limit_key,
    unchecked_request_credential,
    verified_claims,
)
from web.core.tokens import is_current_refresh

GROUP_LIMITS = {
    "auth": "30 per minute",
    "scan-create": "10 per minute",
    "webhook-test": "5 per minute",
    "api-key-create": "5 per minute",
}
GENERAL_LIMIT = "200 per minute"
# The WebSocket's upgrade (endpoint ``__flask_sock.ws``) is counted like any request, by the client address:
# it authenticates after the limit, so past it a made-up key costs no lookup and no socket is held open.
UNLIMITED_ENDPOINTS = {"health.health", "health.metrics_endpoint", "internal.submit_result", "static"}
STRATEGY = "moving-window-one-trip"

# KEYS[1]: the window of the request's key; KEYS[2]: the window counted instead when one of KEYS[3..]
# (a revoked token's markers) exists. ARGV: now, limit, expiry (seconds), cost. The entry is taken as
# limits' acquire_moving_window.lua takes it, and the window read as its moving_window.lua reads it.
# ARGV[5]: how many of the last KEYS are a cached principal's (0, or 3: its entry, its user's version and
# every entry's), read as ``web.core.principal.CACHED_PRINCIPAL_SCRIPT`` reads them.
# Returns {revoked, acquired, entries in the window, oldest entry's timestamp or "", versions, entry or ""}.
ONE_TRIP_SCRIPT = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local expiry = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local cached = tonumber(ARGV[5])
local versions, cached_entry = '', ''
if cached == 3 then
    local entry_at = #KEYS - 2
    local user_version = redis.call('get', KEYS[entry_at + 1]) or '0'
    versions = user_version .. ':' .. (redis.call('get', KEYS[entry_at + 2]) or '0')
    local entry = redis.call('get', KEYS[entry_at])
    if entry and string.sub(entry, 1, #versions + 1) == versions .. '|' then
        cached_entry = string.sub(entry, #versions + 2)
    end
end
local revoked = 0
for i = 3, #KEYS - cached do
    if redis.call('exists', KEYS[i]) == 1 then
        revoked = 1
        break
    end
end
local key = KEYS[1]
if revoked == 1 then
    key = KEYS[2]
end
local acquired = 0
if cost <= limit then
    local entry = redis.call('lindex', key, limit - cost)
    if not (entry and tonumber(entry) >= now - expiry) then
        for i = 1, cost do
            redis.call('lpush', key, now)
        end
        redis.call('ltrim', key, 0, limit - 1)
        redis.call('expire', key, expiry)
        acquired = 1
    end
end
local low, high, found = 0, limit - 1, nil
while low <= high do
    local mid = math.floor((low + high) / 2)
    local value = tonumber(redis.call('lindex', key, mid))
    if value and value >= now - expiry then
        found = mid
        low = mid + 1
    else
        high = mid - 1
    end
end
if found then
    return {revoked, acquired, found + 1, redis.call('lindex', key, found), versions, cached_entry}
end
return {revoked, acquired, 0, '', versions, cached_entry}
"""


class OneTripMovingWindow(MovingWindowRateLimiter):
    """limits' moving window, whose ``hit`` also returns the window and answers the request's pending
    ``RevocationQuestion``: the window is kept on ``g`` for the response headers, the answer for
    ``current_credential``. Any storage other than a single Redis works as the plain moving window."""

    def __init__(self, storage) -> None:
        super().__init__(storage)
        self._script = (
            storage.get_connection().register_script(ONE_TRIP_SCRIPT)
            if type(storage) is RedisStorage
            else None
        )

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        if self._script is None or not has_app_context():
            return super().hit(item, *identifiers, cost=cost)
        question = g.pop("revocation_question", None)
        fallback = identifiers
        if question is not None and question.rate_key in identifiers:
            fallback = tuple(
                question.fallback_key if part == question.rate_key else part for part in identifiers
            )
        else:
            question = None
        window_key = item.key_for(*identifiers)
        keys = [self.storage.prefixed_key(window_key), self.storage.prefixed_key(item.key_for(*fallback))]
        cached = question.principal_keys if question is not None else ()
        keys += (*question.keys, *cached) if question is not None else ()
        now = time.time()
        answer = run_script(self._script, keys, [now, item.amount, item.get_expiry(), cost, len(cached)])
        revoked, acquired, entries, oldest, versions, entry = answer
        if question is not None:
            g.revocation_answer = (question.keys, bool(revoked))
            if cached:  # the limiter's connection answers bytes, the application's text
                g.principal_answer = (cached, _text(versions), _text(entry))
        start = float(oldest) if entries else now
        g.setdefault("rate_windows", {})[window_key] = WindowStats(
            start + item.get_expiry(), item.amount - entries
        )
        return bool(acquired)

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        windows = g.get("rate_windows") if has_app_context() else None
        known = windows.get(item.key_for(*identifiers)) if windows else None
        return known if known is not None else super().get_window_stats(item, *identifiers)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


STRATEGIES[STRATEGY] = OneTripMovingWindow


def limit_group(group: str):
    def decorator(view):
        limited = limiter.shared_limit(GROUP_LIMITS[group], scope=group)(view)
        limited.rate_group = group
        return limited

    return decorator


def exempt_from_general_limit() -> bool:
    endpoint = request.endpoint
    if endpoint is None or endpoint in UNLIMITED_ENDPOINTS or endpoint.startswith(("api-docs.", "internal.")):
        return True
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "rate_group", None) is not None


def request_rate_key() -> str:
    """The principal's key, except on an endpoint open to anyone (login, register, refresh, SSO): there a
    bearer header proves nothing, and an invented ``tsk_`` key per request would give every attempt a
    window of its own, so those requests are counted by the client address. So is an API key nobody has
    yet seen verify (only the database can say, after the request was counted): a flood of made-up keys
    on an authenticated endpoint meets the address's limit, and its 429s cost no query."""
    address_key = f"ip:{request_client()}"
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    role = getattr(view, "required_role", None)
    if role == PUBLIC:
        return _signed_in_before_key(request.endpoint) or address_key
    key = rate_limit_key()
    if key.startswith(API_KEY_RATE_PREFIX) and key not in _verified_api_keys:
        return address_key
    question = g.get("revocation_question")
    if question is not None and role is not None and role != AUTHENTICATED:
        path_org_id = (request.view_args or {}).get(getattr(view, "org_arg", None) or "")
        wanted = wanted_organization(unchecked_request_credential(), path_org_id)
        keys = cache_keys(unchecked_request_credential(), wanted) if wanted is not None else None
        if keys is not None:
            g.revocation_question = dataclasses.replace(question, principal_keys=keys)
    return key


def _signed_in_before_key(endpoint: str | None) -> str | None:
    """The window of a public auth request that proves an earlier sign-in, which someone else at the
    same address (a shared NAT) cannot fill: a refresh by its user, as the user's other requests, when it
    is its live session's current refresh token (the signature checked, and Redis's record of the current
    token, no query: a revoked, ended or rotated-out token filled the user's window, and every refresh of
    the owner answered 429), a login by its email and address when it brings a
    device token issued for that email (``login_guard.device_window``: its email's signature, no query;
    the lockout checks the account's and password's against the row the view loads). Before, 30 made-up logins
    a minute from one address answered 429 to every other person's login and refresh there. Not a window
    per session or per token: every sign-in starts a session and hands out a token, so each gave one more
    window. Anything else is counted by its address."""
    if endpoint == "auth.refresh":
        try:
            claims = verified_claims(bearer_token() or "")
        except AuthenticationError:
            return None
        if claims.get("type") != "refresh" or not claims.get("sub") or not is_current_refresh(claims):
            return None
        return f"user:{claims['sub']}"
    if endpoint == "auth.login":
        device = request.cookies.get(login_guard.DEVICE_COOKIE)
        body = request.get_json(silent=True) if device else None
        email = body.get("email") if isinstance(body, dict) else None
        if isinstance(email, str):
            return login_guard.device_window(email, device, request_client())
    return None


API_KEY_RATE_PREFIX = "key:"
VERIFIED_API_KEYS = 4096  # API keys remembered per process as verified, the oldest forgotten first
_verified_api_keys: dict[str, None] = {}


def note_api_key_outcome(response):
    """After a request that presented an API key: its rate key remembered when it verified (the principal
    loaded), forgotten when it was refused (revoked or expired since), so it is counted by the address."""
    key = g.get("rate_key")
    if not key or not key.startswith(API_KEY_RATE_PREFIX):
        return response
    if response.status_code == 401:
        _verified_api_keys.pop(key, None)
    elif g.get("principal") is not None and key not in _verified_api_keys:
        if len(_verified_api_keys) >= VERIFIED_API_KEYS:
            # Another thread evicting at the same time costs one more key forgotten, not the request.
            with suppress(RuntimeError, StopIteration, KeyError):
                _verified_api_keys.pop(next(iter(_verified_api_keys)))
        _verified_api_keys[key] = None
    return response


limiter = Limiter(
    key_func=request_rate_key,
    headers_enabled=True,
    strategy=STRATEGY,
    application_limits=[GENERAL_LIMIT],
    application_limits_exempt_when=exempt_from_general_limit,
    swallow_errors=True,
)

"""Throttling of password guesses that an attacker cannot turn against the account's owner.

The ``auth`` rate limit counts per client address across accounts; this counts failed logins per
(email address, client address), as Auth0's brute-force protection does: ``LOGIN_FAILURE_LIMIT``
failures within ``LOGIN_LOCKOUT_SECONDS`` lock that pair only, so the owner signing in from another
address is never locked out by someone else's guesses. An account-wide ceiling
(``LOGIN_ACCOUNT_FAILURE_LIMIT``, far above what one address may try) caps guessing spread over
many addresses. Emails are hashed, existing or not, so the answer reveals nothing about accounts.
A successful login clears its own pair's count. When Redis cannot answer, logins go on (the
address limit still applies) rather than locking everybody out.

A client address may be shared: an office or a carrier's NAT puts many people behind one. Guesses at a
colleague's address from there locked that colleague out of it too. A browser that signed in to an
account before therefore brings a device token (OWASP's "device cookie"): its guesses for that account
are counted against the device, not the address (``login_client``), so someone else's guesses from the
same address lock the address, not the owner's browser. The token is signed with the server's secret
twice: for the account's email, which the rate limit checks without a query (``device_window``), and for
the account's id and current password hash, which the lockout checks against the row the login loads
(``login_client``). It proves only that this browser knew the account's present password: a password
change, or the account's deletion (a new account at the same email has another id), leaves its holder
counted by the address again, and it counts guesses for no other account.

Such a browser is not held by the account-wide ceiling either, only by its own count: the ceiling bounds
guessing spread over many addresses, which a token (one per sign-in with the present password) is not, and
it locked every client of the account, so anyone with a few dozen addresses (an IPv6 /58 holds 64 /64s)
kept the owner out for good with one burst of guesses every ``LOGIN_LOCKOUT_SECONDS``.

An IPv6 client counts as its /64, and a common allocation is a /48: 65536 /64s, each with ten guesses of
its own. Failures from the /64s of one /48 therefore also count together per account
(``LOGIN_NETWORK_FAILURE_LIMIT``, ten /64s' worth), which locks the /48's clients counted by their address,
never a device token's, so the owner's own browser signs in whoever shares the /48.

A re-authentication (password change, account deletion) is counted against its session, wherever its
requests come from: a stolen session got ten guesses per address before, and the account-wide ceiling's
500 from many. Its count holds that session only, as a device token's does its browser, so nobody else's
guesses keep the owner from changing the password from their own session; its failures still count at
the address and toward the ceiling, for sign-ins.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import redis

from common.config import get_settings
from common.redis_client import get_redis

if TYPE_CHECKING:
    from common.models import User

PREFIX = "trusera:login-failures:"
DEVICE_COOKIE = "trusera_device"
DEVICE_CLIENT = "device:"  # a ``login_client`` that is a browser's device token, not an address
SESSION_CLIENT = "session:"  # a re-authentication's client: its signed-in session, not an address
SIGNED_IN_CLIENTS = (DEVICE_CLIENT, SESSION_CLIENT)  # held by their own count only
IPV6_NETWORK_PREFIX = 48  # a common allocation to one site: 65536 /64s
DEVICE_DAYS = 180  # a browser unused for this long counts its guesses by its address again
ISSUED_DIGITS = 12  # a token's issue date, in seconds since 1970: ten digits until the year 2286


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _canonical(email: str) -> str:
    return email.strip().lower()


def _pair(email: str, address: str | None) -> str:
    """One (account email, client) pair, hashed: the lockout's and the device window's unit."""
    return _digest(f"{_canonical(email)}\0{address or '-'}")


def _account_key(email: str) -> str:
    return PREFIX + "account:" + _digest(_canonical(email))


def _pair_key(email: str, address: str | None) -> str:
    return PREFIX + "pair:" + _pair(email, address)


def _network_key(email: str, client: str | None) -> str | None:
    """The count of failures for ``email`` from the /48 of an IPv6 client (a /64, as the web layer counts
    one); None for any other client."""
    try:
        network = ipaddress.ip_network(client or "")
    except ValueError:
        return None
    if network.version != 6 or network.prefixlen != 64:
        return None
    return PREFIX + "network:" + _pair(email, str(network.supernet(new_prefix=IPV6_NETWORK_PREFIX)))


def locked_for(email: str, client: str | None) -> int | None:
    """Seconds until this client may try this email again, or None when it may try now; a device token's
    or a session's client is held by its own count only, not by the /48's or the account-wide one."""
    settings = get_settings()
    keys = [(_pair_key(email, client), settings.login_failure_limit)]
    if not (client or "").startswith(SIGNED_IN_CLIENTS):
        keys.append((_account_key(email), settings.login_account_failure_limit))
        network = _network_key(email, client)
        if network is not None:
            keys.append((network, settings.login_network_failure_limit))
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


def record_failure(email: str, *clients: str | None) -> None:
    """Count one failure against each client (and its /48) and the account; each window starts at its
    first failure and is not extended by later ones."""
    window = get_settings().login_lockout_seconds
    keys = {_account_key(email)}
    for client in clients:
        keys.update(key for key in (_pair_key(email, client), _network_key(email, client)) if key)
    try:
        pipe = get_redis().pipeline()
        for key in sorted(keys):
            pipe.incr(key)
            pipe.expire(key, window, nx=True)
        pipe.execute()
    except redis.RedisError:
        return


def clear(email: str, client: str | None) -> None:
    """The owner got in from this client; the /48's and the account-wide counts stay, they bound
    everyone's guesses."""
    try:
        get_redis().delete(_pair_key(email, client))
    except redis.RedisError:
        return


class Locked(Exception):
    """This address may not guess this account's password for ``wait`` more seconds."""

    def __init__(self, wait: int):
        super().__init__(wait)
        self.wait = wait


def guess(
    email: str, client: str | None, correct: Callable[[], bool], *, also_counted_at: str | None = None
) -> bool:
    """Whether a password guess for ``email`` from ``client`` is right, counted as a login counts it:
    ``Locked`` while the client, its /48 or the account is locked (``correct`` is not called), a wrong guess
    counted (at ``also_counted_at`` too: a session's address), a right one clearing the client's count.
    Every place that takes a password goes through here, so a second door (re-authentication, SSO linking)
    is never an unthrottled one."""
    wait = locked_for(email, client)
    if wait is not None:
        raise Locked(wait)
    if not correct():
        record_failure(email, client, *((also_counted_at,) if also_counted_at is not None else ()))
        return False
    clear(email, client)
    return True


def session_client(session_id: str) -> str:
    """Whom a re-authentication in a signed-in session is counted against: the session, from any address."""
    return f"{SESSION_CLIENT}{session_id}"


def device_token(user: User) -> str:
    """A new device token for a browser that has just signed in to ``user`` with its password."""
    nonce, issued = secrets.token_urlsafe(16), str(int(time.time()))
    email_signature = _signature("login-device", _canonical(user.email), nonce, issued)
    account_signature = _account_signature(user.id, user.password_hash, nonce, issued)
    return f"{nonce}.{issued}.{email_signature}.{account_signature}"


def login_client(user: User | None, device: str | None, address: str | None) -> str | None:
    """Whom a password guess for ``user`` (None: no account has the email) is counted against: the device,
    when the request brings a token this server issued less than ``DEVICE_DAYS`` ago for that very account
    while it had its present password; else the address. The signature is computed for no account too, so
    the answer takes as long either way."""
    nonce, issued, _email_signature, account_signature = _parts(device)
    if not _current(nonce, issued, account_signature):
        return address
    expected = _account_signature(
        user.id if user else "", user.password_hash if user else None, nonce, issued
    )
    bound = hmac.compare_digest(account_signature.encode(), expected.encode())
    return f"{DEVICE_CLIENT}{nonce}" if bound and user is not None and user.password_hash else address


def device_window(email: str, device: str | None, address: str | None) -> str | None:
    """The rate-limit window of a login for ``email`` from ``address`` that brings a device token of that
    email, or None. One per email and address, not per token: each sign-in hands out a new token, so a
    window per token gave whoever signs in to their own account one more window per sign-in. The address
    keeps an old token's holder elsewhere (the email's former owner) from filling the owner's window.
    Checked without a query, so against the email only: a token spent by a password change still has this
    window, while its guesses count against the address (``login_client``)."""
    nonce, issued, email_signature, _account_signature = _parts(device)
    if not _current(nonce, issued, email_signature):
        return None
    expected = _signature("login-device", _canonical(email), nonce, issued)
    if not hmac.compare_digest(email_signature.encode(), expected.encode()):
        return None
    return "device-account:" + _pair(email, address)


def _current(nonce: str, issued: str, signature: str) -> bool:
    """Whether a token's parts are well formed and it was issued less than ``DEVICE_DAYS`` ago."""
    # Python converts at most 4300 digits (ValueError past them); a real issue date has ten.
    if not (nonce and issued.isascii() and issued.isdigit() and len(issued) <= ISSUED_DIGITS and signature):
        return False
    return time.time() - int(issued) <= DEVICE_DAYS * 86400


def _parts(device: str | None) -> tuple[str, str, str, str]:
    parts = (device or "").split(".")
    return (parts[0], parts[1], parts[2], parts[3]) if len(parts) == 4 else ("", "", "", "")


def _account_signature(user_id: str, password_hash: str | None, nonce: str, issued: str) -> str:
    """Signed over the password hash, which a new salt changes at every password change."""
    return _signature("login-device-account", f"{user_id}\0{password_hash or ''}", nonce, issued)


def _signature(purpose: str, subject: str, nonce: str, issued: str) -> str:
    message = f"{purpose}\0{subject}\0{nonce}\0{issued}".encode()
    return hmac.new(get_settings().secret_key.encode(), message, hashlib.sha256).hexdigest()

"""Requests that wait on a remote a tenant chose hold a bounded share of the API's threads.

A connection test (n8n, repository), a webhook's test send and an SSO sign-in (discovery, token, keys)
call a host that an organization's member or admin named, from the request's own thread. That host may
answer as slowly as the exchange's deadline allows (``netguard.EXCHANGE_SECONDS_PER_TIMEOUT`` times the
timeout: 15 to 30 s per call), so a few dozen such requests a minute, well inside the rate limits (and
the SSO login is anonymous), held every thread of the API (2 processes of 8 in the image) and nobody's
request was answered. Now each API process gives at most ``OUTBOUND_REQUESTS_PER_PROCESS`` threads to
such requests (503 past it), and one organization has at most ``OUTBOUND_REQUESTS_PER_ORG`` of them in
flight across the API (429 past it), so one organization's remotes leave the others theirs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from flask_smorest import abort

from common.config import get_settings
from common.org_slots import Slot

RETRY_AFTER_SECONDS = 5
LEASE_SECONDS = 300  # longer than any such request (an SSO callback makes up to four calls of 15 s)

_process_lock = threading.Lock()
_process_calls = 0


@contextmanager
def outbound_request(
    organization_id: str,
    *,
    user_id: str | None = None,
    anonymous_client: str | None = None,
    rejected_lately: bool = False,
) -> Iterator[None]:
    """Around the part of a request that waits on a tenant's remote; aborts 429 (the organization's share,
    or the caller's, is taken) or 503 (this process's) at once rather than wait for a thread to free up.

    The caller has a share as well as the organization. A signed-in ``user_id`` holds at most
    ``OUTBOUND_REQUESTS_PER_ORG`` across every organization: one user admin of many organizations (up to
    ``ORGANIZATIONS_PER_USER``) held that many shares. An ``anonymous_client`` (the client address of an
    SSO login or callback, which anyone may send) holds at most all but one of the organization's slots:
    one address's callbacks with made-up codes, each held at a slow token endpoint, kept the whole share
    and the members' own sign-ins answered 429. And the clients ``rejected_lately`` (whose codes the
    provider rejected: made-up ones) hold that many together: made-up codes from two addresses held every
    slot, so one is kept for the clients whose codes the provider has not rejected."""
    settings = get_settings()
    per_org = settings.outbound_requests_per_org
    if user_id is not None:
        caller_share = _share(f"user:{user_id}", per_org, f"You already have {per_org} requests waiting")
    else:
        per_client = max(1, per_org - 1)
        caller_share = _share(
            f"{organization_id}:{anonymous_client}",
            per_client,
            f"This client has {per_client} sign-ins waiting",
        )
    organization_share = _share(
        organization_id, per_org, f"This organization already has {per_org} requests waiting"
    )
    rejected_share = (
        _share(
            f"{organization_id}:rejected",
            max(1, per_org - 1),
            "Sign-ins from clients whose codes the identity provider rejected are already waiting",
        )
        if rejected_lately
        else nullcontext()
    )
    with (
        organization_share,
        caller_share,
        rejected_share,
        _process_share(settings.outbound_requests_per_process),
    ):
        yield


@contextmanager
def _share(holder: str, cap: int, waiting: str) -> Iterator[None]:
    slot = Slot("api-outbound")
    if not slot.take(holder, cap, LEASE_SECONDS):
        abort(
            429,
            message=f"{waiting} on remote hosts (OUTBOUND_REQUESTS_PER_ORG); retry shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    try:
        yield
    finally:
        slot.release()


@contextmanager
def _process_share(limit: int) -> Iterator[None]:
    global _process_calls
    with _process_lock:
        admitted = _process_calls < limit
        if admitted:
            _process_calls += 1
    if not admitted:
        abort(
            503,
            message="Too many requests are waiting on remote hosts; retry shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    try:
        yield
    finally:
        with _process_lock:
            _process_calls -= 1

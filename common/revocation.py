"""Revocation notices: whenever a credential or a membership ends, open WebSockets hear of it at once.

A session listener notices, in any unit of work, a login session or API key being revoked or
deleted, a membership or a user being deleted, and after the commit publishes each affected user id
on one Redis channel. The WebSocket relay re-checks that user's sockets on the notice (and every
``WS_RECHECK_SECONDS`` anyway, so a lost notice only delays the close). Publishing never fails the
caller's work: Redis being down only means the periodic re-check does the job.
"""

from __future__ import annotations

import logging

import redis
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from common.models import ApiKey, AuthSession, Membership, User
from common.redis_client import get_redis

log = logging.getLogger(__name__)

CHANNEL = "trusera:revocations"
_PENDING = "revoked_user_ids"


def publish(user_ids: set[str]) -> None:
    try:
        client = get_redis()
        for user_id in sorted(user_ids):
            client.publish(CHANNEL, user_id)
    except redis.RedisError as exc:
        log.warning("revocation notice not published (Redis: %s); sockets re-check on their own", exc)


def _revoked(obj) -> bool:
    return isinstance(obj, ApiKey | AuthSession) and bool(inspect(obj).attrs.revoked_at.history.added)


def _affected_user(obj) -> str | None:
    if isinstance(obj, User):
        return obj.id
    if isinstance(obj, ApiKey | AuthSession | Membership):
        return obj.user_id
    return None


def _collect(session: Session, _flush_context, _instances) -> None:
    ended = [o for o in session.deleted if _affected_user(o)] + [o for o in session.dirty if _revoked(o)]
    if ended:
        session.info.setdefault(_PENDING, set()).update(_affected_user(o) for o in ended)


def _after_commit(session: Session) -> None:
    user_ids = session.info.pop(_PENDING, None)
    if user_ids:
        publish(user_ids)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def install() -> None:
    """Listen on every session of this process (idempotent)."""
    if not event.contains(Session, "before_flush", _collect):
        event.listen(Session, "before_flush", _collect)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)

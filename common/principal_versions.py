"""Versions that invalidate the API's cached principals (``web.core.principal``) after every write that can
change who a user is or where they may act.

A cached principal is valid only while the versions it was built under are current. A session listener
notices, in any unit of work, a user changed or deleted, a membership added, changed or deleted, a login
session changed, or an organization changed or deleted, and after the commit bumps the version of each
user concerned, or the version every entry carries (an organization's change, and a bulk ``UPDATE`` or
``DELETE`` whose rows are unknown). Bumping after the commit is what makes it safe: a request that read
the old rows before the commit cached them under the old version, which no longer matches.

If Redis refuses the bump the entries it should have ended live out their ``ENTRY_SECONDS``.
"""

from __future__ import annotations

import logging
import re

import redis
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from common.models import AuthSession, Membership, Organization, User
from common.redis_client import get_redis

log = logging.getLogger(__name__)

ENTRY_SECONDS = 60  # the longest a missed bump can leave a cached principal standing
VERSION_SECONDS = 86_400  # far longer than an entry: a version key that expired reads 0 again
EVERYONE = "trusera:principal-version:all"
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what may go into a key; anything else is not cached
OWN = "~own"  # the personal organization: "~" is not in SAFE_ID, so no organization id can name it
_PENDING = "principal_versions"
_EVERYONE_MARK = object()
_BULK_TABLES = frozenset({"users", "memberships", "organizations", "auth_sessions"})


def user_version_key(user_id: str) -> str:
    return f"trusera:principal-version:user:{user_id}"


def entry_key(user_id: str, organization: str) -> str:
    return f"trusera:principal:{user_id}:{organization}"


def bump(user_ids: set[str], everyone: bool) -> None:
    try:
        pipe = get_redis().pipeline(transaction=False)
        for key in sorted(user_version_key(user_id) for user_id in user_ids) + (
            [EVERYONE] if everyone else []
        ):
            pipe.incr(key)
            pipe.expire(key, VERSION_SECONDS)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("cached principals not invalidated (Redis: %s); they expire on their own", exc)


def _concerned(obj) -> object | None:
    """The user whose principal ``obj``'s change may alter, ``_EVERYONE_MARK`` for an organization."""
    if isinstance(obj, User):
        return obj.id
    if isinstance(obj, Membership | AuthSession):
        return obj.user_id
    if isinstance(obj, Organization):
        return _EVERYONE_MARK
    return None


def _collect(session: Session, _flush_context, _instances) -> None:
    # A new row changes no cached principal, except a membership: its user may now act in one more place.
    changed = [*(obj for obj in session.new if isinstance(obj, Membership)), *session.dirty, *session.deleted]
    concerned = {_concerned(obj) for obj in changed} - {None}
    if concerned:
        session.info.setdefault(_PENDING, set()).update(concerned)


def _collect_bulk(state: ORMExecuteState) -> None:
    table = getattr(state.statement, "table", None)
    if (state.is_update or state.is_delete) and getattr(table, "name", None) in _BULK_TABLES:
        state.session.info.setdefault(_PENDING, set()).add(_EVERYONE_MARK)


def _after_commit(session: Session) -> None:
    concerned = session.info.pop(_PENDING, None)
    if concerned:
        everyone = _EVERYONE_MARK in concerned
        bump({user_id for user_id in concerned if user_id is not _EVERYONE_MARK}, everyone)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def install() -> None:
    """Listen on every session of this process (idempotent)."""
    if not event.contains(Session, "before_flush", _collect):
        event.listen(Session, "before_flush", _collect)
        event.listen(Session, "do_orm_execute", _collect_bulk)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)

"""Access/refresh token pairs bound to a login session, with rotation and revocation."""

from __future__ import annotations

import contextlib
import time
from datetime import datetime, timedelta

import redis
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import select

from common.config import get_settings
from common.models import ApiKey, AuthSession, User
from common.models.base import as_utc, new_id, utcnow
from common.redis_client import get_redis
from web.core.database import db


def _pair(user: User, session: AuthSession) -> dict:
    """Both tokens carry the session's organization binding (``org``) when it has one."""
    settings = get_settings()
    expires = timedelta(minutes=settings.access_token_minutes)
    bound = {"org": session.organization_id} if session.organization_id else {}
    access = create_access_token(
        identity=user.id, additional_claims={"sid": session.id, **bound}, expires_delta=expires
    )
    refresh = create_refresh_token(
        identity=user.id,
        additional_claims={"sid": session.id, "jti": session.refresh_jti, **bound},
        expires_delta=timedelta(days=settings.refresh_token_days),
    )
    with contextlib.suppress(redis.RedisError):  # unrecorded, the token's refreshes count by their address
        get_redis().set(
            current_refresh_key(session.id), session.refresh_jti, ex=settings.refresh_token_days * 86400
        )
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(expires.total_seconds()),
    }


def start_session(
    user: User, *, organization_id: str | None = None, sso_signed_in_at: datetime | None = None
) -> dict:
    """A new login: a session row whose current refresh token is the only valid one.

    ``organization_id`` binds the session (an SSO sign-in): its tokens act in that organization only, and
    refresh until ``SSO_SESSION_HOURS`` after ``sso_signed_in_at``, when the IdP last vouched for the user.
    """
    session = AuthSession(
        user_id=user.id,
        refresh_jti=new_id(),
        organization_id=organization_id,
        sso_signed_in_at=sso_signed_in_at,
    )
    db().add(session)
    db().flush()
    return _pair(user, session)


def sso_session_over(session: AuthSession) -> bool:
    """Whether an SSO session outlived its IdP sign-in: without a new one the platform would never hear
    that the IdP disabled the person or changed their role, as a rotated refresh token lives on for ever."""
    if session.organization_id is None:
        return False
    signed_in = as_utc(session.sso_signed_in_at or session.created_at)
    return utcnow() - signed_in > timedelta(hours=get_settings().sso_session_hours)


def current_refresh_key(session_id: str) -> str:
    """The Redis record of a live session's current refresh token id, which the rate limiter checks
    without a query (``is_current_refresh``)."""
    return f"trusera:refresh-jti:{session_id}"


def is_current_refresh(claims: dict) -> bool:
    """Whether verified refresh-token claims are their live session's current token, as far as Redis knows:
    a revoked, ended or rotated-out one is not, nor is any token when Redis cannot answer."""
    session_id, jti = claims.get("sid"), claims.get("jti")
    if not (isinstance(session_id, str) and isinstance(jti, str)):
        return False
    try:
        return get_redis().get(current_refresh_key(session_id)) == jti
    except redis.RedisError:
        return False


def forget_refresh(session_id: str | None) -> None:
    """A refresh the view refused: its session has no current token any more (deleted with its
    organization, revoked, reused), so the next presentation is counted by its address."""
    if session_id:
        with contextlib.suppress(redis.RedisError):  # its next refresh is refused again, and forgotten then
            get_redis().delete(current_refresh_key(session_id))


def rotate(user: User, session: AuthSession) -> dict:
    session.refresh_jti = new_id()
    return _pair(user, session)


def revoke_access_token(jti: str, exp: int | None) -> None:
    ttl = max(1, int((exp or time.time()) - time.time()) + 1)
    get_redis().set(f"trusera:revoked:jti:{jti}", "1", ex=ttl)


def revoke_sessions(sessions: list[AuthSession]) -> None:
    """End sessions: refresh tokens die in the DB (and in the rate limiter's record of the current one),
    live access tokens via the Redis blocklist."""
    if not sessions:
        return
    ttl = get_settings().access_token_minutes * 60 + 5
    pipe = get_redis().pipeline()
    for session in sessions:
        session.revoked_at = session.revoked_at or utcnow()
        pipe.set(f"trusera:revoked:sid:{session.id}", "1", ex=ttl)
        pipe.delete(current_refresh_key(session.id))
    pipe.execute()


def user_sessions(user_id: str, *, except_session: str | None = None) -> list[AuthSession]:
    query = select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if except_session:
        query = query.where(AuthSession.id != except_session)
    return list(db().scalars(query))


def end_password_sessions(organization_id: str, user_ids: list[str]) -> int:
    """End the users' sessions that no SSO started (those not bound to an organization), and their API keys
    for ``organization_id`` minted in such a session: an organization that now requires its SSO of them
    would refuse the password sign-in these came from. A key so minted outlived the policy before, and let
    its holder in whatever the IdP said of them later."""
    if not user_ids:
        return 0
    sessions = list(
        db().scalars(
            select(AuthSession).where(
                AuthSession.user_id.in_(user_ids),
                AuthSession.organization_id.is_(None),
                AuthSession.revoked_at.is_(None),
            )
        )
    )
    revoke_sessions(sessions)
    # One by one, as ``POST /auth/api-key/:id/revoke`` does, so the revocation listeners see each key.
    for key in db().scalars(
        select(ApiKey).where(
            ApiKey.organization_id == organization_id,
            ApiKey.user_id.in_(user_ids),
            ApiKey.sso_session.is_(False),
            ApiKey.revoked_at.is_(None),
        )
    ):
        key.revoked_at = utcnow()
    return len(sessions)


def end_sso_sessions(organization_id: str) -> int:
    """End what an organization's IdP vouched for: every session its SSO started (or a password change
    carried on from one: both are bound to the organization) and the API keys minted in them.

    Called when the IdP is withdrawn or replaced (SSO disabled or deleted, another issuer, client or
    secret, other role or domain rules): its sessions must not outlive its authority. Returns how many
    sessions ended."""
    sessions = list(
        db().scalars(
            select(AuthSession).where(
                AuthSession.organization_id == organization_id, AuthSession.revoked_at.is_(None)
            )
        )
    )
    revoke_sessions(sessions)
    # One by one, as ``POST /auth/api-key/:id/revoke`` does, so the revocation listeners see each key.
    for key in db().scalars(
        select(ApiKey).where(
            ApiKey.organization_id == organization_id,
            ApiKey.sso_session.is_(True),
            ApiKey.revoked_at.is_(None),
        )
    ):
        key.revoked_at = utcnow()
    return len(sessions)

"""Who is calling: a user via JWT, or a user acting through an API key bound to one organization."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import g, request
from flask_jwt_extended import decode_token
from jwt import PyJWTError
from sqlalchemy import select

from common.models import ApiKey, User
from common.models.base import as_utc, utcnow
from common.redis_client import get_redis
from common.security import API_KEY_PREFIX, hash_api_key
from web.database import db


class AuthenticationError(Exception):
    """The credentials are missing, malformed, expired or revoked."""


class ServiceUnavailable(Exception):
    """A dependency needed to authenticate (Redis) is down."""


@dataclass
class Principal:
    user: User
    api_key_id: str | None = None
    api_key_org_id: str | None = None
    session_org_id: str | None = None  # an SSO session's organization
    session_id: str | None = None
    token_jti: str | None = None
    token_exp: int | None = None

    @property
    def user_id(self) -> str:
        return self.user.id

    @property
    def bound_org_id(self) -> str | None:
        """The only organization this credential may act in (an API key's, an SSO session's), if any."""
        return self.api_key_org_id or self.session_org_id

    @property
    def rate_key(self) -> str:
        return f"key:{self.api_key_id}" if self.api_key_id else f"user:{self.user.id}"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_revoked(jti: str | None, session_id: str | None) -> bool:
    keys = [f"trusera:revoked:jti:{jti}"] + ([f"trusera:revoked:sid:{session_id}"] if session_id else [])
    try:
        return bool(get_redis().exists(*keys))
    except redis.RedisError as exc:
        raise ServiceUnavailable("token revocation list unavailable") from exc


def decode_jwt(token: str, expected_type: str) -> dict:
    try:
        claims = decode_token(token)
    except PyJWTError as exc:
        raise AuthenticationError("The token is invalid or expired.") from exc
    except Exception as exc:  # flask-jwt-extended raises its own hierarchy for malformed tokens
        raise AuthenticationError("The token is invalid or expired.") from exc
    if claims.get("type") != expected_type:
        raise AuthenticationError(f"An {expected_type} token is required.")
    if is_revoked(claims.get("jti"), claims.get("sid")):
        raise AuthenticationError("The token has been revoked.")
    return claims


def _principal_from_api_key(token: str) -> Principal:
    key = db().scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(token)))
    now = utcnow()
    if key is None or key.revoked_at is not None:
        raise AuthenticationError("The API key is invalid or revoked.")
    if key.expires_at is not None and as_utc(key.expires_at) <= now:
        raise AuthenticationError("The API key has expired.")
    user = db().get(User, key.user_id)
    if user is None:
        raise AuthenticationError("The API key is invalid or revoked.")
    key.last_used_at = now
    return Principal(user=user, api_key_id=key.id, api_key_org_id=key.organization_id)


def _principal_from_jwt(token: str) -> Principal:
    claims = decode_jwt(token, "access")
    user = db().get(User, claims["sub"])
    if user is None:
        raise AuthenticationError("The account no longer exists.")
    return Principal(
        user=user,
        session_id=claims.get("sid"),
        session_org_id=claims.get("org"),
        token_jti=claims.get("jti"),
        token_exp=claims.get("exp"),
    )


def authenticate(token: str | None) -> Principal:
    if not token:
        raise AuthenticationError(
            "Authentication is required: send 'Authorization: Bearer <token or API key>'."
        )
    if token.startswith(API_KEY_PREFIX):
        return _principal_from_api_key(token)
    return _principal_from_jwt(token)


def current_principal() -> Principal:
    """Authenticate the request once and cache it on ``g``."""
    if "principal" not in g:
        g.principal = authenticate(bearer_token())
    return g.principal


def rate_limit_key() -> str:
    """Per principal: API key, else user, else client IP. Never fails the request itself."""
    if "rate_key" in g:
        return g.rate_key
    key = f"ip:{request.remote_addr}"
    token = bearer_token()
    if token:
        try:
            key = current_principal().rate_key
        except (AuthenticationError, ServiceUnavailable):
            key = f"ip:{request.remote_addr}"
    g.rate_key = key
    return key

"""Who is calling: a user via JWT, or a user acting through an API key bound to one organization."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

import redis
from flask import g, request
from flask_jwt_extended import decode_token
from jwt import PyJWTError
from sqlalchemy import Select, and_, bindparam, select, update

from common import fastjson, principal_versions
from common.models import ApiKey, Organization, User
from common.models import Membership as MembershipRow
from common.models.base import as_utc, utcnow
from common.redis_client import get_redis, run_script
from common.security import API_KEY_PREFIX, hash_api_key
from web.core.client_address import request_client
from web.core.database import db

log = logging.getLogger(__name__)

LAST_USED_RESOLUTION = timedelta(minutes=1)
VERIFIED_TOKENS = 4096  # signatures remembered per process: a token polled every second is verified once

_verified_claims: dict[str, dict] = {}


class AuthenticationError(Exception):
    """The credentials are missing, malformed, expired or revoked."""


class ServiceUnavailable(Exception):
    """A dependency needed to authenticate (Redis) is down."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, built from one Core row: its ``User`` is loaded only when a view asks.

    Most requests need the user's id alone; hydrating the ORM object on every request cost more than the
    view. ``user`` returns the session's object, so a view may modify it and commit.
    """

    user_id: str
    api_key_id: str | None = None
    api_key_org_id: str | None = None
    session_org_id: str | None = None  # an SSO session's organization
    session_id: str | None = None
    token_jti: str | None = None
    token_exp: int | None = None
    loaded_user: User | None = field(default=None, compare=False, repr=False)  # when the query read it

    @property
    def user(self) -> User:
        user = self.loaded_user if self.loaded_user is not None else db().get(User, self.user_id)
        if user is None:
            raise AuthenticationError("The account no longer exists.")
        return user

    @property
    def bound_org_id(self) -> str | None:
        """The only organization this credential may act in (an API key's, an SSO session's), if any."""
        return self.api_key_org_id or self.session_org_id

    @property
    def rate_key(self) -> str:
        return f"key:{self.api_key_id}" if self.api_key_id else f"user:{self.user_id}"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def revocation_keys(jti: str | None, session_id: str | None) -> tuple[str, ...]:
    """The Redis markers of a revoked access token and of its revoked login session."""
    return (f"trusera:revoked:jti:{jti}",) + ((f"trusera:revoked:sid:{session_id}",) if session_id else ())


def any_exists(keys: tuple[str, ...]) -> bool:
    try:
        return bool(get_redis().exists(*keys))
    except redis.RedisError as exc:
        raise ServiceUnavailable("token revocation list unavailable") from exc


def is_revoked(jti: str | None, session_id: str | None) -> bool:
    return any_exists(revocation_keys(jti, session_id))


def verified_claims(token: str) -> dict:
    """The claims of a token whose signature this process already checked, until the token expires.

    Keyed by the whole token, signature included, so a cached answer is exactly as valid as a new
    check; expiry is checked on every use, revocation by the caller.
    """
    claims = _verified_claims.get(token)
    if claims is not None and claims.get("exp", 0) > time.time():
        return claims
    try:
        claims = decode_token(token)
    except PyJWTError as exc:
        raise AuthenticationError("The token is invalid or expired.") from exc
    except Exception as exc:  # flask-jwt-extended raises its own hierarchy for malformed tokens
        raise AuthenticationError("The token is invalid or expired.") from exc
    if len(_verified_claims) >= VERIFIED_TOKENS:
        try:  # another thread may be evicting too: losing this race only forgets one more token
            _verified_claims.pop(next(iter(_verified_claims)), None)
        except (RuntimeError, StopIteration):
            _verified_claims.clear()
    _verified_claims[token] = claims
    return claims


def decode_jwt(token: str, expected_type: str) -> dict:
    claims = verified_claims(token)
    if claims.get("type") != expected_type:
        raise AuthenticationError(f"An {expected_type} token is required.")
    if is_revoked(claims.get("jti"), claims.get("sid")):
        raise AuthenticationError("The token has been revoked.")
    return claims


@dataclass(frozen=True)
class Credential:
    """What a bearer token proves before the database is asked: whose it is and how it is bound.

    Checking it costs no query (a JWT's signature and the Redis revocation list, or an API key's hash),
    so the rate limiter can key on it and the one query that loads the principal can also fetch the
    membership the view needs.
    """

    api_key_hash: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    session_org_id: str | None = None
    token_jti: str | None = None
    token_exp: int | None = None

    @property
    def rate_key(self) -> str:
        return f"key:{self.api_key_hash[:32]}" if self.api_key_hash else f"user:{self.user_id}"

    @property
    def revocation_keys(self) -> tuple[str, ...]:
        """What Redis must not hold for this credential to be valid (none for an API key: its row says)."""
        return () if self.api_key_hash else revocation_keys(self.token_jti, self.session_id)


@dataclass(frozen=True)
class RevocationQuestion:
    """A credential's revocation check handed to the rate limiter, which answers it in the round trip
    that counts the request: ``rate_key``'s window when valid, ``fallback_key``'s (the client address,
    as for any unauthenticated request) when revoked."""

    keys: tuple[str, ...]
    rate_key: str
    fallback_key: str
    principal_keys: tuple[str, ...] = ()  # the cached principal's entry and versions, read in the same trip


def unchecked_credential_of(token: str | None) -> Credential:
    """The credential a token carries, its signature and expiry checked but not its revocation."""
    if not token:
        raise AuthenticationError(
            "Authentication is required: send 'Authorization: Bearer <token or API key>'."
        )
    if token.startswith(API_KEY_PREFIX):
        return Credential(api_key_hash=hash_api_key(token))
    claims = verified_claims(token)
    if claims.get("type") != "access":
        raise AuthenticationError("An access token is required.")
    return Credential(
        user_id=claims["sub"],
        session_id=claims.get("sid"),
        session_org_id=claims.get("org"),
        token_jti=claims.get("jti"),
        token_exp=claims.get("exp"),
    )


def credential_of(token: str | None) -> Credential:
    """The credential a token carries, revocation included."""
    credential = unchecked_credential_of(token)
    if credential.revocation_keys and any_exists(credential.revocation_keys):
        raise AuthenticationError("The token has been revoked.")
    return credential


def unchecked_request_credential() -> Credential:
    """The request's credential, its signature checked but not yet its revocation (cached on ``g``)."""
    if "unchecked_credential" not in g:
        g.unchecked_credential = unchecked_credential_of(bearer_token())
    return g.unchecked_credential


def _answered_revocation(keys: tuple[str, ...]) -> bool | None:
    """Whether the rate limiter's round trip found ``keys`` revoked (``RevocationQuestion``); None: not
    asked."""
    answered = g.pop("revocation_answer", None)
    return answered[1] if answered is not None and answered[0] == keys else None


def current_credential() -> Credential:
    """The request's credential, checked once and cached on ``g``. Its revocation was answered by the
    rate limiter's round trip when the request was counted (``RevocationQuestion``), else it is asked here."""
    if "credential" not in g:
        credential = unchecked_request_credential()
        keys = credential.revocation_keys
        if keys:
            revoked = _answered_revocation(keys)
            if revoked if revoked is not None else any_exists(keys):
                raise AuthenticationError("The token has been revoked.")
        g.credential = credential
    return g.credential


@dataclass(frozen=True)
class Membership:
    """The principal's role in an organization, with what hot views read of that organization."""

    role: str
    organization_id: str
    scan_roots: list[str] | None  # the organization's narrowed scan roots (``POST /scans`` reads them)


Loaded = tuple[Principal, Membership | None]  # the principal and its membership where it acts, if any
OWN_ORGANIZATION = object()  # the credential's own organization: an API key's, else the personal one


@functools.cache
def _principal_statement(by_api_key: bool, organization: str | None) -> Select:
    """The one query of ``load_principal``, built once per shape; the values are bound at execution.

    Plain columns, no ORM entity: the user's id, the API key's state, the membership's role and
    organization and that organization's scan roots. ``organization``: None (no membership wanted),
    "own" (the credential's own organization), or "given" (bound as ``organization_id``).
    """
    # Without an organization (``/auth/*``, which read the user) the ``User`` itself, into the session's
    # identity map, where ``Principal.user`` finds it without a second query.
    user = User if organization is None else User.id
    if by_api_key:
        statement = select(
            user,
            ApiKey.id,
            ApiKey.organization_id,
            ApiKey.revoked_at,
            ApiKey.expires_at,
            ApiKey.last_used_at,
        ).join(ApiKey, ApiKey.user_id == User.id)
        statement = statement.where(ApiKey.key_hash == bindparam("key_hash"))
    else:
        statement = select(user).where(User.id == bindparam("user_id"))
    if organization is None:
        return statement
    if organization == "own":
        wanted = ApiKey.organization_id if by_api_key else User.personal_org_id
    else:
        wanted = bindparam("organization_id")
    statement = statement.add_columns(
        MembershipRow.role, MembershipRow.organization_id, Organization.scan_roots
    ).outerjoin(
        MembershipRow, and_(MembershipRow.user_id == User.id, MembershipRow.organization_id == wanted)
    )
    return statement.outerjoin(Organization, Organization.id == MembershipRow.organization_id)


def _shape_of(organization_id) -> str | None:
    if organization_id is None:
        return None
    return "own" if organization_id is OWN_ORGANIZATION else "given"


def load_principal(credential: Credential, organization_id: str | object | None = None) -> Loaded:
    """The principal and, when ``organization_id`` is given, its membership there: one query.

    ``organization_id`` may be ``OWN_ORGANIZATION`` (the personal organization, an API key's), so acting
    in the default organization costs no extra round trip. Without a membership there, the role and
    membership is None.
    """
    by_api_key = credential.api_key_hash is not None
    shape = _shape_of(organization_id)
    params = {"key_hash": credential.api_key_hash} if by_api_key else {"user_id": credential.user_id}
    if shape == "given":
        params["organization_id"] = organization_id
    row = db().execute(_principal_statement(by_api_key, shape), params).one_or_none()
    membership = None
    if row is not None and shape is not None and row[-3] is not None:
        membership = Membership(role=row[-3], organization_id=row[-2], scan_roots=row[-1])
    if by_api_key:
        return _api_key_principal(row), membership
    if row is None:
        raise AuthenticationError("The account no longer exists.")
    principal = Principal(
        user_id=_user_id(row[0]),
        loaded_user=_loaded_user(row[0]),
        session_id=credential.session_id,
        session_org_id=credential.session_org_id,
        token_jti=credential.token_jti,
        token_exp=credential.token_exp,
    )
    return principal, membership


# KEYS: a token's revocation markers, then its cached principal's entry, its user's version and the version
# of every entry. Returns {revoked, the versions now ("user:everyone"), the entry's membership or ""}: the
# entry counts only when it was written under exactly these versions.
CACHED_PRINCIPAL_SCRIPT = """
local entry_at = #KEYS - 2
local revoked = 0
for i = 1, entry_at - 1 do
    if redis.call('exists', KEYS[i]) == 1 then
        revoked = 1
        break
    end
end
local user_version = redis.call('get', KEYS[entry_at + 1]) or '0'
local versions = user_version .. ':' .. (redis.call('get', KEYS[entry_at + 2]) or '0')
local entry = redis.call('get', KEYS[entry_at])
if entry and string.sub(entry, 1, #versions + 1) == versions .. '|' then
    return {revoked, versions, string.sub(entry, #versions + 2)}
end
return {revoked, versions, ''}
"""
_cached_principal_script = None


def cache_keys(credential: Credential, organization_id) -> tuple[str, str, str] | None:
    """The entry of a user's token acting in ``organization_id``, and the versions it holds under.

    None (not cached) for an API key (its user is not known before the query, so no version could be read
    before it) and for an id that is not plainly an id: a crafted header cannot shape another key.
    """
    if credential.user_id is None or not principal_versions.SAFE_ID.fullmatch(credential.user_id):
        return None
    organization = principal_versions.OWN if organization_id is OWN_ORGANIZATION else organization_id
    if organization is not principal_versions.OWN and not principal_versions.SAFE_ID.fullmatch(organization):
        return None
    return (
        principal_versions.entry_key(credential.user_id, organization),
        principal_versions.user_version_key(credential.user_id),
        principal_versions.EVERYONE,
    )


def _cached_lookup(revocation: tuple[str, ...], keys: tuple[str, str, str]) -> tuple[bool, str, str]:
    global _cached_principal_script
    try:
        if _cached_principal_script is None:
            _cached_principal_script = get_redis().register_script(CACHED_PRINCIPAL_SCRIPT)
        revoked, versions, entry = run_script(_cached_principal_script, [*revocation, *keys])
    except redis.RedisError as exc:
        raise ServiceUnavailable("token revocation list unavailable") from exc
    return bool(revoked), versions, entry


def _membership_of_entry(entry: str, organization_id) -> Membership | None:
    role, entry_org_id, scan_roots = fastjson.loads(entry)
    if organization_id is not OWN_ORGANIZATION and entry_org_id != organization_id:
        return None
    return Membership(role=role, organization_id=entry_org_id, scan_roots=scan_roots)


def _store(keys: tuple[str, str, str], versions: str, membership: Membership) -> None:
    entry = fastjson.dumps([membership.role, membership.organization_id, membership.scan_roots])
    try:
        get_redis().set(keys[0], f"{versions}|{entry}", ex=principal_versions.ENTRY_SECONDS)
    except redis.RedisError as exc:
        log.warning("principal not cached (Redis: %s)", exc)


def load_acting_principal(organization_id) -> Loaded:
    """The request's credential checked and its principal and membership in ``organization_id`` loaded:
    for a user's token, one Redis round trip (its revocation and the cached membership) and no query while
    the cache holds (``common.principal_versions``); else ``current_credential`` and ``load_principal``.

    Only a membership is cached, never its absence: a refusal always asks the database again.
    """
    credential = unchecked_request_credential()
    keys = None if "credential" in g else cache_keys(credential, organization_id)
    if keys is None:
        return load_principal(current_credential(), organization_id)
    revocation = credential.revocation_keys
    answered = _answered_revocation(revocation) if revocation else None
    read = g.pop("principal_answer", None)  # the rate limiter's round trip read the entry
    if read is not None and read[0] == keys and answered is not None:
        revoked, versions, entry = False, read[1], read[2]
    else:
        revoked, versions, entry = _cached_lookup(revocation if answered is None else (), keys)
    if revoked or answered:
        raise AuthenticationError("The token has been revoked.")
    g.credential = credential
    membership = _membership_of_entry(entry, organization_id) if entry else None
    if membership is not None:
        principal = Principal(
            user_id=credential.user_id,
            session_id=credential.session_id,
            session_org_id=credential.session_org_id,
            token_jti=credential.token_jti,
            token_exp=credential.token_exp,
        )
        return principal, membership
    principal, membership = load_principal(credential, organization_id)
    if membership is not None:
        _store(keys, versions, membership)
    return principal, membership


def _api_key_principal(row) -> Principal:
    now = utcnow()
    if row is None or row[3] is not None:
        raise AuthenticationError("The API key is invalid or revoked.")
    user, key_id, key_org_id, _revoked_at, expires_at, last_used_at = row[:6]
    if expires_at is not None and as_utc(expires_at) <= now:
        raise AuthenticationError("The API key has expired.")
    _note_use(key_id, last_used_at, now)
    return Principal(
        user_id=_user_id(user), api_key_id=key_id, api_key_org_id=key_org_id, loaded_user=_loaded_user(user)
    )


def _user_id(user: User | str) -> str:
    return user if isinstance(user, str) else user.id


def _loaded_user(user: User | str) -> User | None:
    return None if isinstance(user, str) else user


def _note_use(key_id: str, last_used_at, now) -> None:
    """``last_used_at`` to the minute, written in its own short transaction: a key polled every second
    costs one write a minute, and a read-only request does not leave it unsaved."""
    if last_used_at is not None and now - as_utc(last_used_at) < LAST_USED_RESOLUTION:
        return
    session = db()
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
    session.commit()


def current_principal() -> Principal:
    """Authenticate the request once and cache it on ``g``."""
    if "principal" not in g:
        g.principal = load_principal(current_credential())[0]
    return g.principal


def rate_limit_key() -> str:
    """Per principal: API key, else user, else client IP. Never fails the request itself.

    A token whose revocation is not yet known is counted by its user, with a ``RevocationQuestion`` on
    ``g``: the limiter's round trip answers it and counts the request by the client address instead when
    the token is revoked, as a request without valid credentials is counted.
    """
    if "rate_key" in g:
        return g.rate_key
    address_key = f"ip:{request_client()}"
    key = address_key
    if bearer_token():
        try:
            credential = g.credential if "credential" in g else unchecked_request_credential()
        except (AuthenticationError, ServiceUnavailable):
            credential = None
        if credential is not None:
            key = credential.rate_key
            if credential.revocation_keys and "credential" not in g:
                g.revocation_question = RevocationQuestion(credential.revocation_keys, key, address_key)
    g.rate_key = key
    return key

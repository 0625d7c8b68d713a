"""OpenID Connect sign-in for an organization, with Authlib: discovery, PKCE authorization requests,
code exchange and ID-token validation against the provider's published keys.

Nothing is cached between sign-ins: the provider's metadata and keys are fetched for the configuration
in force at each step, so an admin's change applies to the very next request. A pending sign-in (state,
nonce, PKCE verifier) lives in Redis for a few minutes, can be used once, and only by the browser that
started it: the login sets a random cookie whose hash the pending sign-in keeps, so a callback URL
planted in another browser (login CSRF) is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingKeyError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.config import get_settings
from common.models import ROLE_RANK, Membership, Organization
from common.models.sso import SsoConfig
from common.redis_client import get_redis
from common.security import decrypt_secret

REQUEST_TIMEOUT_SECONDS = 5
PENDING_LOGIN_TTL_SECONDS = 600
CLOCK_LEEWAY_SECONDS = 60
DISCOVERY_PATH = "/.well-known/openid-configuration"
PENDING_LOGIN_KEY = "trusera:sso:pending:{}"
# Only public-key signatures: a shared-secret (HS*) token could be minted by anyone holding the client secret.
SIGNING_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
CLAIM_REASONS = {"iss": "issuer_mismatch", "aud": "audience_mismatch", "nonce": "nonce_mismatch"}


class SsoError(Exception):
    """A refused sign-in: ``status`` for the HTTP answer, ``reason`` a stable word for the audit trail."""

    def __init__(self, status: int, reason: str, message: str):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class ClientSettings:
    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class PendingLogin:
    organization_id: str
    config_version: int
    redirect_uri: str
    nonce: str
    code_verifier: str
    browser_hash: str

    def started_by(self, browser_binding: str | None) -> bool:
        """Whether the callback comes from the browser that holds the login's cookie."""
        return bool(browser_binding) and hmac.compare_digest(self.browser_hash, binding_hash(browser_binding))


def new_browser_binding() -> str:
    """The secret for the login's cookie: the callback must present it."""
    return secrets.token_urlsafe(32)


def binding_hash(browser_binding: str) -> str:
    return hashlib.sha256(browser_binding.encode()).hexdigest()


def outbound_url_problem(url: str) -> str | None:
    """Why the platform must not call ``url``: https only, except the hosts of WEBHOOK_ALLOWLIST."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return "has no host"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and host in {h.strip().lower() for h in get_settings().webhook_allowlist}:
        return None
    return "must use https"


def _checked_url(url: object, what: str) -> str:
    if not isinstance(url, str) or not url:
        raise SsoError(502, "idp_bad_response", f"The identity provider publishes no {what}.")
    problem = outbound_url_problem(url)
    if problem:
        raise SsoError(502, "idp_misconfigured", f"The identity provider's {what} {problem}.")
    return url


def _get_json(url: str, what: str) -> dict:
    try:
        response = requests.get(
            url,
            timeout=REQUEST_TIMEOUT_SECONDS,
            allow_redirects=False,
            headers={"Accept": "application/json"},
        )
    except requests.RequestException as exc:
        raise SsoError(
            502, "idp_unreachable", f"The identity provider could not be reached ({type(exc).__name__})."
        ) from exc
    if response.status_code != 200:
        raise SsoError(
            502, "idp_unreachable", f"The identity provider's {what} answered HTTP {response.status_code}."
        )
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise SsoError(502, "idp_bad_response", f"The identity provider's {what} is not a JSON object.")
    return data


def discover(issuer: str) -> dict:
    """The provider's metadata, which must name exactly the configured issuer (OIDC Discovery §4.3)."""
    url = _checked_url(issuer.rstrip("/") + DISCOVERY_PATH, "discovery document")
    metadata = _get_json(url, "discovery document")
    if metadata.get("issuer") != issuer:
        raise SsoError(
            401,
            "issuer_mismatch",
            f"The identity provider calls itself {metadata.get('issuer')!r}, "
            f"not the configured issuer {issuer!r}.",
        )
    return metadata


def _oauth_session(client: ClientSettings, redirect_uri: str, metadata: dict) -> OAuth2Session:
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth_method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    return OAuth2Session(
        client.client_id,
        client.client_secret,
        scope=" ".join(client.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
    )


def begin_login(
    client: ClientSettings,
    *,
    organization_id: str,
    config_version: int,
    redirect_uri: str,
    browser_binding: str,
) -> str:
    """The provider's authorization URL for a new sign-in, with state, nonce and a PKCE S256 challenge."""
    metadata = discover(client.issuer)
    authorization_endpoint = _checked_url(metadata.get("authorization_endpoint"), "authorization endpoint")
    pending = PendingLogin(
        organization_id=organization_id,
        config_version=config_version,
        redirect_uri=redirect_uri,
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        browser_hash=binding_hash(browser_binding),
    )
    state = secrets.token_urlsafe(32)
    with _oauth_session(client, redirect_uri, metadata) as session:
        url, _ = session.create_authorization_url(
            authorization_endpoint, state=state, nonce=pending.nonce, code_verifier=pending.code_verifier
        )
    try:
        get_redis().set(
            PENDING_LOGIN_KEY.format(state), json.dumps(asdict(pending)), ex=PENDING_LOGIN_TTL_SECONDS
        )
    except RedisError as exc:
        raise _state_store_down() from exc
    return url


def _state_store_down() -> SsoError:
    return SsoError(503, "state_store_unavailable", "Sign-in is temporarily unavailable; retry shortly.")


def consume_pending_login(state: str) -> PendingLogin | None:
    """The sign-in this state was issued for, removed in the same step so it can never be replayed."""
    if not state or len(state) > 200:
        return None
    pipe = get_redis().pipeline(transaction=True)
    pipe.get(PENDING_LOGIN_KEY.format(state))
    pipe.delete(PENDING_LOGIN_KEY.format(state))
    try:
        raw, _ = pipe.execute()
    except RedisError as exc:
        raise _state_store_down() from exc
    return PendingLogin(**json.loads(raw)) if raw else None


def complete_login(client: ClientSettings, pending: PendingLogin, code: str) -> dict:
    """Exchange the code and return the verified identity claims (ID token, completed by userinfo)."""
    metadata = discover(client.issuer)
    token_endpoint = _checked_url(metadata.get("token_endpoint"), "token endpoint")
    with _oauth_session(client, pending.redirect_uri, metadata) as session:
        try:
            token = session.fetch_token(
                token_endpoint,
                code=code,
                code_verifier=pending.code_verifier,
                grant_type="authorization_code",
                timeout=REQUEST_TIMEOUT_SECONDS,
            )
        except OAuthError as exc:
            raise SsoError(
                401, "code_rejected", f"The identity provider rejected the authorization code ({exc.error})."
            ) from exc
        except ValueError as exc:  # requests' JSONDecodeError is also a RequestException: catch it first
            raise SsoError(
                502, "idp_bad_response", "The identity provider's token response is not valid."
            ) from exc
        except requests.RequestException as exc:
            raise SsoError(
                502, "idp_unreachable", f"The identity provider could not be reached ({type(exc).__name__})."
            ) from exc
        if not token.get("id_token"):
            raise SsoError(401, "missing_id_token", "The identity provider returned no ID token.")
        jwks = _get_json(_checked_url(metadata.get("jwks_uri"), "key set (jwks_uri)"), "key set")
        claims = validate_id_token(
            token["id_token"],
            jwks=jwks,
            issuer=client.issuer,
            client_id=client.client_id,
            nonce=pending.nonce,
            access_token=token.get("access_token"),
            algorithms=metadata.get("id_token_signing_alg_values_supported"),
        )
        if "email" not in claims and metadata.get("userinfo_endpoint"):
            claims = {**_userinfo(session, metadata["userinfo_endpoint"], claims["sub"]), **claims}
    return claims


def validate_id_token(
    id_token: str,
    *,
    jwks: dict,
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str | None = None,
    algorithms: list[str] | None = None,
    now: int | None = None,
) -> dict:
    """Signature by one of the provider's keys, then iss, aud, exp, nonce (and at_hash when present)."""
    allowed = [alg for alg in (algorithms or SIGNING_ALGORITHMS) if alg in SIGNING_ALGORITHMS]
    try:
        key_set = KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise SsoError(502, "idp_bad_response", "The identity provider's key set cannot be read.") from exc
    try:
        token = jwt.decode(
            id_token, key_set, registry=JWSRegistry(algorithms=allowed, strict_check_header=False)
        )
    except BadSignatureError as exc:
        raise SsoError(401, "bad_signature", "The ID token's signature does not verify.") from exc
    except (InvalidKeyIdError, MissingKeyError) as exc:
        raise SsoError(
            401, "unknown_key", "The ID token is signed with a key the identity provider does not publish."
        ) from exc
    except (JoseError, ValueError, TypeError) as exc:
        raise SsoError(
            401, "malformed_id_token", "The ID token is malformed or uses a refused algorithm."
        ) from exc
    claims = CodeIDToken(
        token.claims,
        token.header,
        {"iss": {"essential": True, "value": issuer}, "aud": {"essential": True, "value": client_id}},
        {"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    try:
        claims.validate(now=now, leeway=CLOCK_LEEWAY_SECONDS)
    except ExpiredTokenError as exc:
        raise SsoError(401, "token_expired", "The ID token has expired.") from exc
    except ClaimError as exc:
        reason = CLAIM_REASONS.get(exc.claim, "invalid_claims")
        raise SsoError(401, reason, f"The ID token's '{exc.claim}' claim is missing or wrong.") from exc
    return dict(claims)


def _userinfo(session: OAuth2Session, url: str, subject: str) -> dict:
    _checked_url(url, "userinfo endpoint")
    try:
        response = session.get(url, timeout=REQUEST_TIMEOUT_SECONDS, allow_redirects=False)
        data = response.json() if response.status_code == 200 else None
    except ValueError:  # requests' JSONDecodeError is also a RequestException: catch it first
        data = None
    except requests.RequestException as exc:
        raise SsoError(
            502, "idp_unreachable", f"The identity provider could not be reached ({type(exc).__name__})."
        ) from exc
    if not isinstance(data, dict):
        raise SsoError(502, "idp_bad_response", "The identity provider's userinfo answer is not usable.")
    if data.get("sub") != subject:
        raise SsoError(
            401, "userinfo_mismatch", "The userinfo answer is about another subject than the ID token."
        )
    return data


def client_settings(config: SsoConfig) -> ClientSettings:
    """The OAuth client as configured right now (the secret decrypted only for this sign-in step)."""
    try:
        client_secret = decrypt_secret(config.client_secret_encrypted)
    except ValueError as exc:
        raise SsoError(
            409,
            "secret_unreadable",
            "The stored client secret cannot be decrypted; an admin must save it again.",
        ) from exc
    return ClientSettings(
        issuer=config.issuer,
        client_id=config.client_id,
        client_secret=client_secret,
        scopes=tuple(config.scopes),
    )


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def domain_allowed(email: str, allowed_domains: list[str]) -> bool:
    return "@" in email and email_domain(email) in {d.lower() for d in allowed_domains}


def mapped_role(claims: dict, config: SsoConfig) -> str:
    """The highest role the mapping grants for the claim's value(s); the default role otherwise."""
    value = claims.get(config.role_claim) if config.role_claim else None
    values = value if isinstance(value, list) else [value]
    roles = [config.role_values[v] for v in values if isinstance(v, str) and v in config.role_values]
    return max(roles, key=ROLE_RANK.__getitem__) if roles else config.default_role


def organizations_requiring_sso(session: Session, user_id: str) -> list[Organization]:
    """Where the user is a non-admin member and an enabled SSO configuration forbids password login.

    Admins keep password login so an organization is never locked out by a broken identity provider.
    """
    return list(
        session.scalars(
            select(Organization)
            .join(Membership, Membership.organization_id == Organization.id)
            .join(SsoConfig, SsoConfig.organization_id == Organization.id)
            .where(
                Membership.user_id == user_id,
                Membership.role != "admin",
                SsoConfig.enabled.is_(True),
                SsoConfig.allow_password_login.is_(False),
            )
            .order_by(Organization.slug)
        )
    )

"""OpenID Connect sign-in for an organization, with Authlib: discovery, PKCE authorization requests,
code exchange and ID-token validation against the provider's published keys.

Only the provider's discovery document is kept between sign-ins, for ``DISCOVERY_SECONDS`` and for one
version and issuer of the organization's configuration, so an admin's change applies to the very next
request: the login (anonymous) then makes no call to the provider, and a flood of logins at a slow
provider no longer takes the organization's share of outbound requests from its members' sign-ins. The
callback fetches the document and keys afresh. A pending sign-in (state,
nonce, PKCE verifier) lives in Redis for a few minutes, can be used once, and only by the browser that
started it: the login sets a random cookie whose hash the pending sign-in keeps, so a callback URL
planted in another browser (login CSRF) is refused.

Every call to the provider goes through :mod:`common.netguard`: the address is resolved, checked (no
private, loopback or link-local destination unless OUTBOUND_ALLOWLIST names it), pinned, and redirects
are never followed. A signed-in identity is the (organization, issuer, subject) triple of
:class:`SsoIdentity`, never the asserted email: see :func:`sign_in_identity` and docs/security.md.
"""

from __future__ import annotations

import contextlib
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
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common import login_guard, schedule_owner
from common.accounts import create_user, find_user_by_email, lock_organization
from common.config import get_settings
from common.models import ROLE_RANK, Membership, Organization, User
from common.models.sso import SsoConfig, SsoIdentity
from common.netguard import (
    UnsafeDestination,
    current_allowlist,
    guard_session,
    literal_address,
    pin_origin,
    url_errors,
)
from common.redis_client import get_redis
from common.scanner.display import visible_only
from common.security import decrypt_secret, verify_password

REQUEST_TIMEOUT_SECONDS = 5
PENDING_LOGIN_TTL_SECONDS = 600
CLOCK_LEEWAY_SECONDS = 60
DISCOVERY_PATH = "/.well-known/openid-configuration"
PENDING_LOGIN_KEY = "trusera:sso:pending:{}"
PENDING_LINK_KEY = "trusera:sso:link:{}"
PENDING_LINK_TTL_SECONDS = 600
DISCOVERY_KEY = "trusera:sso:discovery:{}:{}:{}"  # organization, configuration version, issuer's digest
DISCOVERY_SECONDS = 300
# What the provider may answer (discovery document, key set, token, userinfo), decoded: each is a few
# kilobytes. The guard's 32 MiB for n8n pages let an admin's provider answer a discovery document of
# 32 MiB of ``[]``, which the anonymous login decoded into 770 MB of the API process, kept in Redis and
# decoded again at every login while it was kept.
MAX_ANSWER_BYTES = 1024 * 1024
MAX_SUBJECT_LENGTH = 255  # OIDC Core §2: a subject identifier is at most 255 ASCII characters
MAX_EMAIL_LENGTH = 320  # users.email
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

    def __init__(self, status: int, reason: str, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after  # seconds, for a 429


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
    """Why the platform must not call ``url``: https only, except the hosts of OUTBOUND_ALLOWLIST."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return "has no host"
    if parts.scheme not in ("https", "http"):
        return "must use https"
    if url_errors(url):
        return "must name a public host, not an IP address"
    if parts.scheme == "https":
        return None
    allowlist = current_allowlist()
    literal = literal_address(host)
    if allowlist.allows_host(host) or (literal is not None and allowlist.allows_address(literal)):
        return None
    return "must use https"


def _checked_url(url: object, what: str) -> str:
    if not isinstance(url, str) or not url:
        raise SsoError(502, "idp_bad_response", f"The identity provider publishes no {what}.")
    problem = outbound_url_problem(url)
    if problem:
        raise SsoError(502, "idp_misconfigured", f"The identity provider's {what} {problem}.")
    return url


def _unreachable() -> SsoError:
    """The same answer for a refused address, a DNS failure, a timeout or an error status: nothing of the
    provider's network or answer is echoed, so SSO cannot be used to probe what the server can reach."""
    return SsoError(502, "idp_unreachable", "The identity provider could not be reached.")


def _pin(session: requests.Session, url: str) -> None:
    """Allow ``session`` to call ``url``'s origin at a checked, pinned, public address, for answers of at
    most ``MAX_ANSWER_BYTES``."""
    try:
        pin_origin(session, url, max_response_bytes=MAX_ANSWER_BYTES)
    except (UnsafeDestination, OSError) as exc:
        raise _unreachable() from exc


def _get_json(url: str, what: str) -> dict:
    with guard_session(requests.Session()) as session:
        _pin(session, url)
        try:
            response = session.get(
                url,
                timeout=REQUEST_TIMEOUT_SECONDS,
                allow_redirects=False,
                headers={"Accept": "application/json"},
            )
        except (requests.RequestException, UnsafeDestination) as exc:
            raise _unreachable() from exc
    if response.status_code != 200:
        raise _unreachable()
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
            f"The identity provider's discovery document names another issuer than {issuer!r}.",
        )
    return metadata


def _discovery_key(issuer: str, organization_id: str, config_version: int) -> str:
    """A configuration deleted and made again starts its versions over: the issuer tells them apart."""
    digest = hashlib.sha256(issuer.encode()).hexdigest()[:32]
    return DISCOVERY_KEY.format(organization_id, config_version, digest)


def remembered_discovery(issuer: str, organization_id: str, config_version: int) -> dict | None:
    """The discovery document fetched for this version of the organization's configuration, if still kept."""
    try:
        kept = get_redis().get(_discovery_key(issuer, organization_id, config_version))
    except RedisError:
        return None
    return json.loads(kept) if kept else None


CODE_REJECTED = "code_rejected"  # the reason of a sign-in whose code the provider rejected
REJECTED_CODE_SECONDS = 3600  # how long a client whose code the provider rejected counts as such


def _rejected_code_key(organization_id: str, client: str | None) -> str:
    return f"trusera:sso-rejected:{organization_id}:{client or '-'}"


def note_rejected_code(organization_id: str, client: str | None) -> None:
    """The provider rejected a code this client brought to the organization's callback: a made-up one,
    or a real one brought twice or too late, which a person's browser rarely does."""
    with contextlib.suppress(RedisError):
        get_redis().set(_rejected_code_key(organization_id, client), "1", ex=REJECTED_CODE_SECONDS)


def rejected_a_code_lately(organization_id: str, client: str | None) -> bool:
    """Whether the provider rejected a code this client brought in the last ``REJECTED_CODE_SECONDS``
    (Redis down: no)."""
    try:
        return bool(get_redis().exists(_rejected_code_key(organization_id, client)))
    except RedisError:
        return False


def discover_and_remember(issuer: str, organization_id: str, config_version: int) -> dict:
    """``discover``, and keep the document for the next logins of this configuration version."""
    metadata = discover(issuer)
    with contextlib.suppress(RedisError):  # not kept: the next login fetches it again
        get_redis().set(
            _discovery_key(issuer, organization_id, config_version),
            json.dumps(metadata),
            ex=DISCOVERY_SECONDS,
        )
    return metadata


def _oauth_session(client: ClientSettings, redirect_uri: str, metadata: dict) -> OAuth2Session:
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth_method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    session = OAuth2Session(
        client.client_id,
        client.client_secret,
        scope=" ".join(client.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
    )
    return guard_session(session)  # no origin is callable until _pin checks it


def begin_login(
    client: ClientSettings,
    metadata: dict,
    *,
    organization_id: str,
    config_version: int,
    redirect_uri: str,
    browser_binding: str,
) -> str:
    """The provider's authorization URL for a new sign-in, with state, nonce and a PKCE S256 challenge;
    ``metadata`` is the provider's discovery document."""
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


def _take_once(key: str) -> str | None:
    """Read and delete ``key`` in one transaction, so two requests can never both get its value."""
    pipe = get_redis().pipeline(transaction=True)
    pipe.get(key)
    pipe.delete(key)
    try:
        raw, _ = pipe.execute()
    except RedisError as exc:
        raise _state_store_down() from exc
    return raw


def pending_login(state: str) -> PendingLogin | None:
    """The sign-in this state was issued for, left in place: the callback checks it before it takes a
    share of the organization's outbound calls, and spends it only then."""
    if not state or len(state) > 200:
        return None
    try:
        raw = get_redis().get(PENDING_LOGIN_KEY.format(state))
    except RedisError as exc:
        raise _state_store_down() from exc
    return PendingLogin(**json.loads(raw)) if raw else None


def consume_pending_login(state: str) -> PendingLogin | None:
    """The sign-in this state was issued for, removed in the same step so it can never be replayed."""
    if not state or len(state) > 200:
        return None
    raw = _take_once(PENDING_LOGIN_KEY.format(state))
    return PendingLogin(**json.loads(raw)) if raw else None


def complete_login(client: ClientSettings, pending: PendingLogin, code: str) -> dict:
    """Exchange the code and return the verified identity claims (ID token, completed by userinfo)."""
    metadata = discover(client.issuer)
    token_endpoint = _checked_url(metadata.get("token_endpoint"), "token endpoint")
    with _oauth_session(client, pending.redirect_uri, metadata) as session:
        _pin(session, token_endpoint)
        try:
            token = session.fetch_token(
                token_endpoint,
                code=code,
                code_verifier=pending.code_verifier,
                grant_type="authorization_code",
                timeout=REQUEST_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except OAuthError as exc:
            raise SsoError(
                401, CODE_REJECTED, "The identity provider rejected the authorization code."
            ) from exc
        except ValueError as exc:  # requests' JSONDecodeError is also a RequestException: catch it first
            raise SsoError(
                502, "idp_bad_response", "The identity provider's token response is not valid."
            ) from exc
        except (requests.RequestException, UnsafeDestination) as exc:
            raise _unreachable() from exc
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
    _pin(session, url)
    try:
        response = session.get(url, timeout=REQUEST_TIMEOUT_SECONDS, allow_redirects=False)
        data = response.json() if response.status_code == 200 else None
    except ValueError:  # requests' JSONDecodeError is also a RequestException: catch it first
        data = None
    except (requests.RequestException, UnsafeDestination) as exc:
        raise _unreachable() from exc
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
    """Where the user is a non-admin member that the organization's identity provider provisioned or
    linked, and an enabled SSO configuration forbids password login.

    Admins keep password login so an organization is never locked out by a broken identity provider; an
    account that was merely added (invited) keeps it too: an organization governs only its own accounts.
    """
    return list(
        session.scalars(
            select(Organization)
            .join(Membership, Membership.organization_id == Organization.id)
            .join(SsoConfig, SsoConfig.organization_id == Organization.id)
            .where(
                Membership.user_id == user_id,
                Membership.role != "admin",
                Membership.sso_managed.is_(True),
                SsoConfig.enabled.is_(True),
                SsoConfig.allow_password_login.is_(False),
            )
            .order_by(Organization.slug)
        )
    )


def members_requiring_sso(session: Session, organization_id: str) -> list[str]:
    """The users whom this organization's policy keeps from password login, when it is in force: its
    non-admin members that its IdP provisioned or linked (:func:`organizations_requiring_sso`)."""
    return list(
        session.scalars(
            select(Membership.user_id).where(
                Membership.organization_id == organization_id,
                Membership.role != "admin",
                Membership.sso_managed.is_(True),
            )
        )
    )


# ---------------------------------------------------------------- identities and account linking


@dataclass(frozen=True)
class PendingLink:
    """A verified identity waiting for the owner of the account with its email to prove that account."""

    organization_id: str
    config_version: int
    issuer: str
    subject: str
    user_id: str
    role: str


@dataclass(frozen=True)
class SignInOutcome:
    """Either a user to start an organization-bound session for, or a link token to offer instead."""

    user: User | None = None
    role: str | None = None
    joined: bool = False
    link_token: str | None = None
    claimed_role: str | None = None  # what the IdP's claim maps to; ``role`` differs for a kept last admin


def verified_email(claims: dict, config: SsoConfig) -> str:
    """The email the provider asserts, only if it says it verified it (or the admin trusts it to)."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SsoError(401, "missing_email", "The identity provider shared no email address (scope 'email').")
    if len(email) > MAX_EMAIL_LENGTH:
        raise SsoError(401, "invalid_email", "The identity provider's email address is too long.")
    verified = claims.get("email_verified")
    if verified is None and config.trust_email_without_verified_claim:
        verified = True
    if verified is not True:
        raise SsoError(403, "email_unverified", "The identity provider has not verified this email address.")
    if not domain_allowed(email, config.allowed_domains):
        raise SsoError(
            403,
            "domain_not_allowed",
            f"Accounts of {email_domain(email)} may not sign in to this organization.",
        )
    return email


def find_identity(session: Session, organization_id: str, issuer: str, subject: str) -> SsoIdentity | None:
    return session.scalar(
        select(SsoIdentity).where(
            SsoIdentity.organization_id == organization_id,
            SsoIdentity.issuer == issuer,
            SsoIdentity.subject == subject,
        )
    )


def attach_identity(
    session: Session,
    organization: Organization,
    issuer: str,
    subject: str,
    user: User,
    role: str,
    *,
    adopt_role: bool = False,
) -> tuple[str, bool]:
    """Link (issuer, subject) to ``user`` and give the user an SSO-managed membership: (role, joined).

    ``adopt_role``: the existing membership was the IdP's own (created before identities were recorded),
    so its role follows the claim from now on too."""
    session.add(SsoIdentity(organization_id=organization.id, issuer=issuer, subject=subject, user_id=user.id))
    return _sso_membership(session, organization, user, role, adopt_role=adopt_role)


def _sso_membership(
    session: Session, organization: Organization, user: User, role: str, *, adopt_role: bool = False
) -> tuple[str, bool]:
    """The membership the IdP vouches for, with the claim's ``role`` if the IdP created it.

    A membership the IdP created follows the claim at every sign-in, down as well as up, so a person the
    IdP demoted (or a mapping that changed) loses the role at once; one an admin's invitation created keeps
    the role the admin chose. The last admin is never demoted: the organization would have nobody left to
    fix its SSO configuration."""
    membership = session.scalar(
        select(Membership).where(Membership.organization_id == organization.id, Membership.user_id == user.id)
    )
    joined = membership is None
    if joined:
        membership = Membership(
            organization_id=organization.id, user_id=user.id, role=role, role_from_idp=True
        )
        session.add(membership)
    else:
        membership.role_from_idp = membership.role_from_idp or adopt_role
        if membership.role_from_idp and membership.role != role:
            membership.role = role if _may_leave_admin(session, membership) else "admin"
    membership.sso_managed = True
    session.flush()
    schedule_owner.pause_schedules_of(session, organization.id, user.id)
    return membership.role, joined


def _may_leave_admin(session: Session, membership: Membership) -> bool:
    """Whether the member may give up (or never had) the admin role; counted under the organization's
    lock, so two admins demoted at once do not both go."""
    if membership.role != "admin":
        return True
    lock_organization(session, membership.organization_id)
    admins = session.scalar(
        select(func.count()).where(
            Membership.organization_id == membership.organization_id, Membership.role == "admin"
        )
    )
    return admins > 1


def sign_in_identity(
    session: Session, organization: Organization, config: SsoConfig, claims: dict
) -> SignInOutcome:
    """The user behind a verified ID token, found by its (issuer, subject), never by its email alone.

    Unknown identity and unknown email: a user is created just in time and linked. Unknown identity
    but an existing account with that email: nothing is linked; a one-time link token is returned,
    which the account's owner redeems with its password (:func:`redeem_link`).
    """
    subject = claims["sub"]
    if len(subject) > MAX_SUBJECT_LENGTH:  # a string: validate_id_token's checks refuse any other type
        raise SsoError(401, "invalid_subject", "The identity provider's subject identifier is too long.")
    email = verified_email(claims, config)  # the admin's domain policy applies to every sign-in
    claimed = mapped_role(claims, config)
    identity = find_identity(session, organization.id, config.issuer, subject)
    if identity is not None:
        user = session.get(User, identity.user_id)
        role, joined = _sso_membership(session, organization, user, claimed)
        return SignInOutcome(user=user, role=role, joined=joined, claimed_role=claimed)
    user = find_user_by_email(session, email)
    if user is None:
        name = claims.get("name") if isinstance(claims.get("name"), str) else ""
        # No workspace of its own where registration is not open: an organization's IdP (any admin may
        # configure one) would otherwise make accounts, each an organization with every share, at will.
        user = create_user(
            session,
            email,
            visible_only(name)[:200],
            None,
            personal_workspace=get_settings().registration == "open",
        )
        role, joined = attach_identity(session, organization, config.issuer, subject, user, claimed)
        return SignInOutcome(user=user, role=role, joined=joined, claimed_role=claimed)
    if _provisioned_before_identities(session, organization, user):
        role, joined = attach_identity(
            session, organization, config.issuer, subject, user, claimed, adopt_role=True
        )
        return SignInOutcome(user=user, role=role, joined=joined, claimed_role=claimed)
    pending = PendingLink(organization.id, config.version, config.issuer, subject, user.id, claimed)
    token = secrets.token_urlsafe(32)
    try:
        get_redis().set(
            PENDING_LINK_KEY.format(token), json.dumps(asdict(pending)), ex=PENDING_LINK_TTL_SECONDS
        )
    except RedisError as exc:
        raise _state_store_down() from exc
    return SignInOutcome(link_token=token)


def _provisioned_before_identities(session: Session, organization: Organization, user: User) -> bool:
    """An account this organization's SSO created before identities were recorded (migration 0008): no
    password, no identity anywhere, and a member here. It is adopted so an upgrade locks nobody out."""
    if user.password_hash is not None:
        return False
    if session.scalar(select(SsoIdentity.id).where(SsoIdentity.user_id == user.id).limit(1)) is not None:
        return False
    return (
        session.scalar(
            select(Membership.id).where(
                Membership.organization_id == organization.id, Membership.user_id == user.id
            )
        )
        is not None
    )


def consume_pending_link(token: str) -> PendingLink | None:
    """The link this token was issued for, removed in the same step: one password attempt per token."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    raw = _take_once(PENDING_LINK_KEY.format(token))
    return PendingLink(**json.loads(raw)) if raw else None


def redeem_link(
    session: Session,
    organization: Organization,
    config: SsoConfig,
    token: str,
    password: str,
    address: str | None = None,
) -> SignInOutcome:
    """Link the pending identity to its account once the account's password proves the owner.

    The password is a guess like one at ``POST /auth/login`` and is counted with those
    (``common.login_guard``, per account and client ``address``): each guess costs a sign-in at the
    identity provider, which costs nothing to whoever runs that provider.
    """
    pending = consume_pending_link(token)
    if pending is None or pending.organization_id != organization.id:
        raise SsoError(
            400, "invalid_link_token", "This link is unknown, expired or already used; sign in again."
        )
    if pending.config_version != config.version or pending.issuer != config.issuer:
        raise SsoError(409, "config_changed", "The SSO configuration changed during sign-in; start again.")
    user = session.get(User, pending.user_id)
    try:
        proven = user is not None and login_guard.guess(
            user.email, address, lambda: verify_password(user.password_hash, password)
        )
    except login_guard.Locked as locked:
        raise SsoError(
            429,
            "link_throttled",
            f"Too many failed sign-ins for this account from here; try again in {locked.wait} seconds.",
            retry_after=locked.wait,
        ) from None
    if not proven:
        raise SsoError(
            401, "link_password_rejected", "The password does not prove this account; sign in again to retry."
        )
    if find_identity(session, organization.id, pending.issuer, pending.subject) is not None:
        raise SsoError(409, "identity_linked", "This identity is already linked; sign in again.")
    role, joined = attach_identity(session, organization, pending.issuer, pending.subject, user, pending.role)
    return SignInOutcome(user=user, role=role, joined=joined, claimed_role=pending.role)

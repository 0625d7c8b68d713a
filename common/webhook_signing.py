"""Webhook signatures in the Standard Webhooks scheme (https://www.standardwebhooks.com).

Every delivery carries three headers:

- ``webhook-id``: the delivery id, identical on every retry of the same delivery
  (receivers use it to ignore a message they already processed);
- ``webhook-timestamp``: Unix seconds when the attempt was signed;
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">``;
  several space-separated signatures may appear (e.g. during a secret rotation).

How a receiver verifies a delivery:

1. Take the raw request body bytes (before any JSON parsing or re-serialisation).
2. Refuse the message if ``webhook-timestamp`` is more than five minutes from now (replay protection).
3. Compute ``base64(HMAC_SHA256(key, f"{id}.{timestamp}.".encode() + body))`` where ``key`` is the
   base64-decoded part after ``whsec_`` for a generated secret, or the UTF-8 bytes of a secret you chose.
4. Accept when it equals, in constant time, one of the ``v1,`` signatures in ``webhook-signature``.

:func:`verify` below does exactly this and is what the tests use as a receiver.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 5 * 60


class InvalidSignature(ValueError):
    """The message is not signed with the secret, is malformed, or is too old or too new."""


def generate_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def chosen_secret_problem(secret: str) -> str | None:
    """Why a secret an admin chose is refused, or None.

    Two forms are unambiguous: any string that does not start with ``whsec_`` (signed with its UTF-8
    bytes; receivers pass ``"whsec_" + base64(secret)`` to the Standard Webhooks libraries), and
    ``whsec_`` followed by strict, padded base64 of 24 to 64 bytes (passed to the libraries unchanged).
    A ``whsec_`` secret that is not strict base64 would be read one way here and another by the
    libraries, so it is refused.
    """
    if not secret.startswith(SECRET_PREFIX):
        return None
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:
        key = None
    if key is None or base64.b64encode(key).decode() != encoded:
        return "A secret starting with 'whsec_' must continue with standard, padded base64."
    if not 24 <= len(key) <= 64:
        return "A 'whsec_' secret must encode 24 to 64 bytes."
    return None


def signing_key(secret: str) -> bytes:
    """The HMAC key: the decoded bytes of a ``whsec_`` secret, else the secret's UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except ValueError:
            pass
    return secret.encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_headers(secret: str, message_id: str, body: bytes, timestamp: int | None = None) -> dict:
    """The three headers of one delivery attempt."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise :class:`InvalidSignature` unless ``body`` was signed with ``secret`` recently.

    ``headers`` may be any case-insensitive mapping (a Flask/requests header object) or a plain dict.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    message_id = lowered.get("webhook-id")
    raw_timestamp = lowered.get("webhook-timestamp")
    raw_signatures = lowered.get("webhook-signature")
    if not message_id or not raw_timestamp or not raw_signatures:
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(raw_timestamp)
    except ValueError as exc:
        raise InvalidSignature("webhook-timestamp is not an integer") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise InvalidSignature("webhook-timestamp is outside the tolerance window")
    expected = sign(secret, message_id, timestamp, body)
    for candidate in raw_signatures.split():
        if candidate.startswith(f"{SIGNATURE_VERSION},") and hmac.compare_digest(candidate, expected):
            return
    raise InvalidSignature("no matching v1 signature")

"""Password hashing, API key material and encryption of secrets at rest."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from common.config import get_settings

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

API_KEY_PREFIX = "tsk_"
_password_hasher = PasswordHasher()


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A real hash to verify against when the user does not exist, so login timing does not reveal which
    emails are registered. Made on the first check, not at import, where every process importing this
    module paid its ≈ 0.35 s of CPU (workers never check a password); every check asks for it first, so
    that first check's extra cost is the same whether the user exists or not."""
    return hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    dummy = _dummy_hash(_password_hasher)
    try:
        return _password_hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """API keys are high-entropy, so a fast keyed hash is enough and keeps lookups O(1)."""
    return hash_token(key)


def hash_token(token: str) -> str:
    """A keyed hash of a high-entropy token (an API key, an invitation code): stored instead of it."""
    return hmac.new(get_settings().secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


def api_key_prefix(key: str) -> str:
    return key[len(API_KEY_PREFIX) : len(API_KEY_PREFIX) + 8]


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _fernet() -> Fernet:
    # Imported here: a worker process that never decrypts a secret (most scans, every idle one) is spared
    # cryptography's ≈ 8 MB.
    from cryptography.fernet import Fernet

    return Fernet(get_settings().encryption_key.encode())


def encrypt_secret(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with the configured ENCRYPTION_KEY") from exc


MASK = "*" * 8
MASK_KEEPS_HIDDEN = 16


def mask_secret(value: str, visible: int = 4) -> str:
    """What members who may not read a secret see of it: its ends, only when at least ``MASK_KEEPS_HIDDEN``
    characters stay hidden between them (a 12-character password showed 8 of its 12), else nothing, not
    even its length."""
    if len(value) < 2 * visible + MASK_KEEPS_HIDDEN:
        return MASK
    return f"{value[:visible]}{MASK}{value[-visible:]}"

"""The decoy hash a login of an unknown email is checked against: made on the first check, not at import."""

from __future__ import annotations

import importlib.util

import argon2
import pytest

from common import security


@pytest.fixture
def hashes_made(monkeypatch) -> list[str]:
    """The passwords every ``PasswordHasher`` hashes from now on."""
    made: list[str] = []
    original = argon2.PasswordHasher.hash

    def counting(self, password, **kwargs):
        made.append(password)
        return original(self, password, **kwargs)

    monkeypatch.setattr(argon2.PasswordHasher, "hash", counting)
    return made


def _fresh_security():
    """A new copy of ``common.security``, executed now (the imported one ran long before the test)."""
    spec = importlib.util.spec_from_file_location("fresh_security", security.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module._password_hasher = argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)
    return module


def test_importing_the_module_hashes_nothing(hashes_made):
    _fresh_security()
    assert hashes_made == []


@pytest.mark.parametrize("user_exists", [True, False])
def test_the_first_check_makes_the_decoy_whether_the_user_exists_or_not(hashes_made, user_exists):
    """Unknown emails must not be the only first logins that pay for the decoy: timing would tell them."""
    fresh = _fresh_security()
    stored = fresh.hash_password("the right password") if user_exists else None
    hashes_made.clear()
    assert fresh.verify_password(stored, "the right password") is user_exists
    assert hashes_made == ["not-a-real-password"]
    assert fresh.verify_password(stored, "a wrong password") is False
    assert hashes_made == ["not-a-real-password"]  # made once

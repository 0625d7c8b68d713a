"""A device token counts guesses for the account and password it was issued for, and nothing else passes
for one."""

from __future__ import annotations

import time

from common import login_guard
from common.models import User
from common.security import hash_password

EMAIL = "owner@example.com"
ADDRESS = "192.0.2.1"


def account(email: str = EMAIL, user_id: str = "user-1", password: str = "the password") -> User:
    return User(id=user_id, email=email, password_hash=hash_password(password))


def test_a_device_token_names_its_device_for_its_own_account_only():
    owner = account()
    token = login_guard.device_token(owner)
    device = login_guard.login_client(owner, token, ADDRESS)
    assert device is not None and device.startswith("device:")
    assert login_guard.login_client(account("other@example.com", "user-2"), token, ADDRESS) == ADDRESS
    assert login_guard.login_client(None, token, ADDRESS) == ADDRESS


def test_a_device_token_is_bound_to_the_password_and_the_account():
    """A new password hash (a password change) or another account at the same email (deleted and
    registered again) is not the account the token was issued for."""
    owner = account()
    token = login_guard.device_token(owner)
    changed = User(id=owner.id, email=EMAIL, password_hash=hash_password("the password"))  # a new salt
    assert login_guard.login_client(changed, token, ADDRESS) == ADDRESS
    assert login_guard.login_client(account(user_id="user-2"), token, ADDRESS) == ADDRESS
    assert (
        login_guard.login_client(User(id=owner.id, email=EMAIL, password_hash=None), token, ADDRESS)
        == ADDRESS
    )


def test_a_forged_malformed_or_old_token_is_the_address(monkeypatch):
    owner = account()
    nonce, issued, by_email, by_account = login_guard.device_token(owner).split(".")
    for forged in (
        None,
        "",
        "made.123.up.here",
        f"{nonce}.{issued}.{by_email}",
        f"{nonce}.{issued}.{by_account}",
        f"{nonce}.{issued}.{by_email}.{by_account}.x",
        f"{nonce}.{int(issued) + 1}.{by_email}.{by_account}",  # a later issue date is not the one signed
        f"{nonce}.²³.{by_email}.{by_account}",
        f"{nonce}.{issued}.{by_account}.{by_email}",
    ):
        assert login_guard.login_client(owner, forged, ADDRESS) == ADDRESS, forged
        assert login_guard.device_window(EMAIL, forged, ADDRESS) is None, forged
    # Each check reads its own part: the window the email's (no query), the lockout the account's.
    assert login_guard.device_window(EMAIL, f"{nonce}.{issued}.é{by_email[1:]}.{by_account}", ADDRESS) is None
    assert (
        login_guard.login_client(owner, f"{nonce}.{issued}.{by_email}.é{by_account[1:]}", ADDRESS) == ADDRESS
    )
    later = time.time() + login_guard.DEVICE_DAYS * 86400 + 60
    monkeypatch.setattr(login_guard.time, "time", lambda: later)
    assert login_guard.login_client(owner, f"{nonce}.{issued}.{by_email}.{by_account}", ADDRESS) == ADDRESS


def test_an_issue_date_too_long_to_convert_is_no_token():
    owner = account()
    nonce, _issued, by_email, by_account = login_guard.device_token(owner).split(".")
    oversized = f"{nonce}.{'9' * 5000}.{by_email}.{by_account}"
    assert login_guard.login_client(owner, oversized, ADDRESS) == ADDRESS
    assert login_guard.device_window(EMAIL, oversized, ADDRESS) is None


def test_an_accounts_tokens_share_one_window_per_address():
    """Every sign-in hands out a new token; a window per token was one more window per sign-in. A window
    per account alone let an old token's holder elsewhere fill the owner's."""
    owner = account()
    first, second = login_guard.device_token(owner), login_guard.device_token(owner)
    window = login_guard.device_window(EMAIL, first, ADDRESS)
    assert window is not None
    assert login_guard.device_window(" Owner@Example.com", second, ADDRESS) == window
    assert login_guard.device_window(EMAIL, first, "198.51.100.2") not in (None, window)
    assert login_guard.device_window("other@example.com", first, ADDRESS) is None
    assert login_guard.device_window(EMAIL, "made.123.up.here", ADDRESS) is None

"""A device token counts guesses for the account it was issued for, and nothing else passes for one."""

from __future__ import annotations

import time

from common import login_guard

EMAIL = "owner@example.com"


def test_a_device_token_names_its_device_for_its_own_account_only():
    token = login_guard.device_token(EMAIL)
    device = login_guard.login_client(EMAIL, token, "192.0.2.1")
    assert device is not None and device.startswith("device:")
    assert login_guard.login_client(" Owner@Example.com", token, "192.0.2.1") == device
    assert login_guard.login_client("other@example.com", token, "192.0.2.1") == "192.0.2.1"


def test_a_forged_malformed_or_old_token_is_the_address(monkeypatch):
    nonce, issued, signature = login_guard.device_token(EMAIL).split(".")
    for forged in (
        None,
        "",
        "made.123.up",
        f"{nonce}.{issued}",
        f"{nonce}.{issued}.{signature}.x",
        f"{nonce}.{int(issued) + 1}.{signature}",  # a later issue date is not the one signed
        f"{nonce}.²³.{signature}",
        f"{nonce}.{issued}.é{signature[1:]}",
    ):
        assert login_guard.login_client(EMAIL, forged, "192.0.2.1") == "192.0.2.1", forged
    later = time.time() + login_guard.DEVICE_DAYS * 86400 + 60
    monkeypatch.setattr(login_guard.time, "time", lambda: later)
    assert login_guard.login_client(EMAIL, f"{nonce}.{issued}.{signature}", "192.0.2.1") == "192.0.2.1"


def test_an_issue_date_too_long_to_convert_is_no_token():
    nonce, _issued, signature = login_guard.device_token(EMAIL).split(".")
    assert login_guard.login_client(EMAIL, f"{nonce}.{'9' * 5000}.{signature}", "192.0.2.1") == "192.0.2.1"


def test_an_accounts_tokens_share_one_window_per_address():
    """Every sign-in hands out a new token; a window per token was one more window per sign-in. A window
    per account alone let an old token's holder elsewhere fill the owner's."""
    first, second = login_guard.device_token(EMAIL), login_guard.device_token(EMAIL)
    window = login_guard.device_window(EMAIL, first, "192.0.2.1")
    assert window is not None
    assert login_guard.device_window(" Owner@Example.com", second, "192.0.2.1") == window
    assert login_guard.device_window(EMAIL, first, "198.51.100.2") not in (None, window)
    assert login_guard.device_window("other@example.com", first, "192.0.2.1") is None
    assert login_guard.device_window(EMAIL, "made.123.up", "192.0.2.1") is None

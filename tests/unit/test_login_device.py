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

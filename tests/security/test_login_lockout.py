"""Brute-force protection that cannot be turned against the user (issue 12, item 7).

The attack: guess a known email's password ten times from one address; before, that locked the
account for everybody, its owner included, for 15 minutes. Now it locks that (account, address) pair;
guessing from many addresses meets an account-wide ceiling. Behind ``TRUSTED_PROXIES`` reverse
proxies the real client address (from X-Forwarded-For) is what the rate limit and the lockout count;
with ``TRUSTED_PROXIES=0`` that header is ignored, so it cannot be used to dodge them.
"""

from __future__ import annotations

import dataclasses
import secrets

import jwt
import pytest
import requests

from common.config import get_settings
from tests.helpers import PASSWORD, register_user
from tests.ops.conftest import ApiUser, Stack

ATTACKER, OWNER = "203.0.113.7", "198.51.100.2"


def login(client, email: str, password: str, address: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    ).status_code


def change_password(client, headers: dict, new_password: str, address: str = OWNER):
    """The owner's own password change from ``address``, with the current password."""
    return client.put(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


def test_an_attackers_failures_do_not_lock_the_owner_out(client, app):
    victim = register_user(client)
    answers = [login(client, victim.email, "wrong guess!", ATTACKER) for _ in range(10)]
    assert answers == [401] * 10
    assert login(client, victim.email, PASSWORD, ATTACKER) == 429  # the attacker's address is locked
    assert login(app.test_client(), victim.email, PASSWORD, OWNER) == 200  # the owner, elsewhere, is not
    assert (
        login(client, victim.email, "wrong guess!", ATTACKER) == 429
    )  # and the owner's login unlocked nothing


NAT = "192.0.2.99"  # an office's one public address: the owner and the attacker both sign in from it


def test_guesses_from_the_owners_own_address_do_not_lock_the_owners_browser_out(client, app):
    """Behind one NAT, ten wrong guesses at a colleague's account locked that (account, address) pair, and
    the colleague with it, signing in from the same address (429 before). Their browser signed in before
    and brings its device token: its sign-in is counted against the device."""
    victim = register_user(client)
    owners_browser = app.test_client()
    assert login(owners_browser, victim.email, PASSWORD, NAT) == 200
    assert [login(client, victim.email, "wrong guess!", NAT) for _ in range(10)] == [401] * 10
    assert login(client, victim.email, PASSWORD, NAT) == 429  # the guesser's browser is locked out
    assert login(owners_browser, victim.email, PASSWORD, NAT) == 200  # the owner's is not


def test_a_device_token_counts_guesses_for_its_own_account_only(client, app):
    """The converse: guessing still stops. The attacker's own device token (of their own account) counts
    nothing for the victim's, nor does a made-up one; a stolen token's guesses lock that token."""
    attacker, victim = register_user(client), register_user(client)
    attackers_browser = app.test_client()
    assert login(attackers_browser, attacker.email, PASSWORD, NAT) == 200
    attackers_browser.set_cookie("trusera_device", "made.123.up", path="/api/v1/auth/login")
    assert [login(attackers_browser, victim.email, "wrong!", NAT) for _ in range(5)] == [401] * 5
    assert login(attackers_browser, attacker.email, PASSWORD, NAT) == 200  # its own token back
    answers = [login(attackers_browser, victim.email, "wrong guess!", NAT) for _ in range(6)]
    assert answers == [401] * 5 + [429]  # ten at the address, whatever the tokens
    stolen = app.test_client()
    assert login(stolen, victim.email, PASSWORD, OWNER) == 200
    assert [login(stolen, victim.email, "wrong guess!", ATTACKER) for _ in range(10)] == [401] * 10
    assert login(stolen, victim.email, PASSWORD, ATTACKER) == 429


def test_made_up_logins_from_a_shared_address_leave_its_people_their_sign_ins(client, app):
    """30 made-up logins a minute from the NAT's address filled the address's ``auth`` window: every
    login and refresh of everyone behind it answered 429. A refresh is counted by its session, a login
    with a device token by the device; a login without one still by the address."""
    victim = register_user(client)
    owners_browser = app.test_client()
    signed_in = owners_browser.post(
        "/api/v1/auth/login",
        json={"email": victim.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": NAT},
    )
    assert signed_in.status_code == 200
    from web.core.ratelimits import limiter

    with client.application.app_context():
        limiter.reset()
    flood = [login(client, f"nobody-{secrets.token_hex(4)}@example.com", "x" * 10, NAT) for _ in range(31)]
    assert flood == [401] * 30 + [429]
    refreshed = client.post(
        "/api/v1/auth/refresh",
        headers={"Authorization": f"Bearer {signed_in.json['refresh_token']}"},
        environ_base={"REMOTE_ADDR": NAT},
    )
    assert refreshed.status_code == 200, refreshed.json
    assert login(owners_browser, victim.email, PASSWORD, NAT) == 200
    assert login(app.test_client(), victim.email, PASSWORD, NAT) == 429  # a browser never seen: the address


def test_the_default_account_ceiling_is_far_above_one_address():
    settings = get_settings()
    assert settings.login_account_failure_limit >= 20 * settings.login_failure_limit


@pytest.fixture
def low_account_ceiling(monkeypatch):
    import common.config as config

    monkeypatch.setattr(
        config, "_settings", dataclasses.replace(get_settings(), login_account_failure_limit=25)
    )


@pytest.mark.usefixtures("low_account_ceiling")
def test_guessing_spread_over_many_addresses_meets_the_account_ceiling(client):
    victim = register_user(client)
    for host in range(1, 9):
        answers = [login(client, victim.email, "wrong guess!", f"192.0.2.{host}") for _ in range(3)]
        assert answers == [401] * 3
    assert login(client, victim.email, "wrong guess!", "192.0.2.200") == 401  # the 25th reaches the ceiling
    response = client.post(
        "/api/v1/auth/login",
        json={"email": victim.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.201"},
    )
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


@pytest.mark.usefixtures("low_account_ceiling")
def test_guessing_spread_over_many_addresses_leaves_the_owners_browser_its_sign_in(client, app):
    """The ceiling locked every client of the account, the owner's own browser too (429 before): anyone
    with 25 addresses here, or a few dozen IPv6 /64s, kept the owner out with one burst of guesses every
    LOGIN_LOCKOUT_SECONDS. A browser that signed in with the present password is held by its own count."""
    victim, network = register_user(client), secrets.randbelow(200) + 1
    owners_browser = app.test_client()
    assert login(owners_browser, victim.email, PASSWORD, OWNER) == 200
    guesses = [login(client, victim.email, "wrong guess!", f"198.18.{network}.{host}") for host in range(25)]
    assert guesses == [401] * 25
    assert login(app.test_client(), victim.email, PASSWORD, OWNER) == 429  # a browser never signed in
    assert login(owners_browser, victim.email, PASSWORD, OWNER) == 200
    # its own guesses still lock it, ten as for an address
    assert [login(owners_browser, victim.email, "wrong guess!", OWNER) for _ in range(10)] == [401] * 10
    assert login(owners_browser, victim.email, PASSWORD, OWNER) == 429


@pytest.mark.usefixtures("low_account_ceiling")
def test_guessing_spread_over_many_addresses_leaves_the_owners_session_its_password_change(client):
    """Round 34: a re-authentication was held by the account-wide ceiling, so anyone with 25 addresses here
    (500 by default) kept the owner from changing the password in their own session (429 before), the way
    to end a stolen session. It is held by its session's own count only."""
    victim, network = register_user(client), secrets.randbelow(200) + 1
    guesses = [login(client, victim.email, "wrong guess!", f"198.18.{network}.{host}") for host in range(25)]
    assert guesses == [401] * 25
    changed = change_password(client, victim.headers(), "a brand new password")
    assert changed.status_code == 200, changed.json


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client):
    """Each guess claims a new client address in X-Forwarded-For: the lockout and the rate limit still
    see the one real peer."""
    victim = register_user(client)
    for n in range(10):
        assert login(client, victim.email, "wrong guess!", ATTACKER, f"10.9.8.{n}") == 401
    assert login(client, victim.email, PASSWORD, ATTACKER, "10.9.8.200") == 429
    from web.core.ratelimits import limiter

    with client.application.app_context():
        limiter.reset()
    # The auth group allows 30 per minute per client address; distinct emails keep the lockout out of it.
    answers = [
        login(client, f"nobody-{secrets.token_hex(4)}@example.com", "x" * 10, ATTACKER, f"10.7.{n}.1")
        for n in range(31)
    ]
    assert answers == [401] * 30 + [429]


@pytest.fixture(scope="module")
def proxied_api(tmp_path_factory):
    """The API under gunicorn with one trusted proxy hop: the test plays the proxy on loopback."""
    stack = Stack(tmp_path_factory.mktemp("proxied"), TRUSTED_PROXIES="1")
    stack.start_api()
    try:
        stack.wait_http(f"{stack.api}/health")
        yield stack.api
    finally:
        stack.stop()


def proxied_login(api: str, email: str, password: str, forwarded_for: str) -> int:
    return requests.post(
        f"{api}/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
        timeout=10,
    ).status_code


def fresh_address() -> str:
    """Addresses of their own: the rate-limit counters in Redis outlive a test."""
    return "198.18." + ".".join(str(secrets.randbelow(250) + 1) for _ in range(2))


def test_behind_a_trusted_proxy_the_lockout_sees_the_real_client(proxied_api):
    attacker, owner = fresh_address(), fresh_address()
    victim = ApiUser(proxied_api)
    email = requests.get(f"{proxied_api}/auth/me", headers=victim.headers, timeout=10).json()["email"]
    # The client may prepend anything; only the address the trusted proxy appended counts.
    for n in range(10):
        assert proxied_login(proxied_api, email, "wrong guess!", f"6.6.6.{n}, {attacker}") == 401
    assert proxied_login(proxied_api, email, PASSWORD, attacker) == 429
    assert proxied_login(proxied_api, email, PASSWORD, owner) == 200


def test_behind_a_trusted_proxy_each_client_has_its_own_rate_limit_bucket(proxied_api):
    def attempt(forwarded_for: str) -> int:
        return proxied_login(
            proxied_api, f"nobody-{secrets.token_hex(4)}@example.com", "x" * 10, forwarded_for
        )

    client_a, client_b = fresh_address(), fresh_address()
    answers = [attempt(f"6.6.6.{n}, {client_a}") for n in range(31)]
    assert answers == [401] * 30 + [429]
    assert attempt(client_b) == 401  # another client behind the same proxy is not throttled


def ipv6_network() -> str:
    """A /64 of its own per test (documentation space), so no window or lockout is shared between tests."""
    return f"2001:db8:{secrets.randbelow(0xFFFF):x}:{secrets.randbelow(0xFFFF):x}"


def test_guesses_from_new_addresses_of_one_ipv6_network_share_its_lockout(client):
    """An IPv6 host holds a whole /64 and may send each guess from a new address in it: counted by address,
    every guess had a lockout of its own, and ten guesses locked nothing."""
    victim, network = register_user(client), ipv6_network()
    answers = [login(client, victim.email, "wrong guess!", f"{network}::{n + 1:x}") for n in range(10)]
    assert answers == [401] * 10
    assert login(client, victim.email, PASSWORD, f"{network}::beef") == 429
    assert login(client, victim.email, PASSWORD, f"{ipv6_network()}::1") == 200  # another network is not


@pytest.fixture
def low_network_limit(monkeypatch):
    import common.config as config

    monkeypatch.setattr(
        config, "_settings", dataclasses.replace(get_settings(), login_network_failure_limit=20)
    )


@pytest.mark.usefixtures("low_network_limit")
def test_guesses_from_many_ipv6_networks_of_one_allocation_share_its_lockout(client, app):
    """Round 34: a site is commonly given a /48, 65536 /64s, and each /64 had ten guesses of its own: from
    a third /64 the owner's password got in (200 before). The /64s of one /48 now share a count per account,
    which holds the clients counted by their address, not the owner's browser with its device cookie."""
    victim, allocation = register_user(client), f"2001:db8:{secrets.randbelow(0xFFFF):x}"
    owners_browser = app.test_client()
    assert login(owners_browser, victim.email, PASSWORD, f"{allocation}:ffff::1") == 200
    for subnet in (1, 2):
        guesses = [
            login(client, victim.email, "wrong guess!", f"{allocation}:{subnet:x}::1") for _ in range(10)
        ]
        assert guesses == [401] * 10
    assert login(client, victim.email, PASSWORD, f"{allocation}:3::1") == 429
    assert login(owners_browser, victim.email, PASSWORD, f"{allocation}:ffff::1") == 200
    assert login(client, victim.email, PASSWORD, f"{ipv6_network()}::1") == 200  # another allocation


def test_one_ipv6_network_alone_never_reaches_its_allocations_lockout():
    settings = get_settings()
    assert settings.login_network_failure_limit >= 10 * settings.login_failure_limit


def test_requests_from_new_addresses_of_one_ipv6_network_share_its_rate_limit(client):
    from web.core.ratelimits import GROUP_LIMITS

    allowed, network = int(GROUP_LIMITS["auth"].split()[0]), ipv6_network()
    statuses = [
        client.post("/api/v1/auth/refresh", environ_base={"REMOTE_ADDR": f"{network}::{n + 1:x}"}).status_code
        for n in range(allowed + 1)
    ]
    assert set(statuses[:allowed]) == {401} and statuses[allowed] == 429, statuses


def test_the_tokens_a_browser_collects_by_signing_in_share_one_window(client, app):
    """Each sign-in hands out a new device token and each token had a window of its own: signing in to
    their own account, a client collected one more 30/min ``auth`` window per sign-in (31 logins in a
    minute, all answered, from one address). A token counts in its account's window, one per account."""
    from web.core.ratelimits import GROUP_LIMITS, limiter

    attacker, allowed = register_user(client), int(GROUP_LIMITS["auth"].split()[0])
    attackers_browser = app.test_client()
    with client.application.app_context():
        limiter.reset()
    assert login(attackers_browser, attacker.email, PASSWORD, NAT) == 200  # by the address, a token back
    answers = [login(attackers_browser, attacker.email, PASSWORD, NAT) for _ in range(allowed + 1)]
    assert answers == [200] * allowed + [429]


def test_an_oversized_device_token_is_counted_by_its_address(client, app):
    """A signed-looking token whose issue date has more digits than Python converts (4300) raised
    ValueError in the rate-limit key, which the limiter swallows: the login went uncounted, then the
    view raised it again (500). Such a token is no token."""
    from web.core.ratelimits import GROUP_LIMITS, limiter

    browser, allowed = app.test_client(), int(GROUP_LIMITS["auth"].split()[0])
    browser.set_cookie("trusera_device", f"nonce.{'9' * 5000}.signature", path="/api/v1/auth/login")
    with client.application.app_context():
        limiter.reset()
    answers = [login(browser, f"nobody-{n}@example.com", "x" * 10, NAT) for n in range(allowed + 1)]
    assert answers == [401] * allowed + [429]


def test_guesses_from_one_6to4_or_teredo_host_share_its_ipv4_lockout(client):
    """A 6to4 host (2002:a.b.c.d::/48) holds 65536 /64s and a Teredo client's /64 is its server's, not its
    own: counted by /64, each guess from a new 6to4 subnet had a lockout of its own. Both count as the IPv4
    address they carry."""
    victim, octet = register_user(client), secrets.randbelow(200) + 1
    sixtofour = [f"2002:cb00:71{octet:02x}:{n + 1:x}::1" for n in range(10)]  # 203.0.113.<octet>
    assert [login(client, victim.email, "wrong guess!", address) for address in sixtofour] == [401] * 10
    assert login(client, victim.email, PASSWORD, f"2002:cb00:71{octet:02x}:beef::1") == 429
    assert login(client, victim.email, PASSWORD, f"203.0.113.{octet}") == 429  # the same host by IPv4
    assert login(client, victim.email, PASSWORD, "2002:c633:6402::1") == 200  # 198.51.100.2, another host


def test_ipv4_clients_seen_through_a_nat64_translator_are_counted_apart(client):
    """An IPv6-only server behind a stateless translator (SIIT-DC, RFC 7755) sees each IPv4 client as
    64:ff9b::a.b.c.d (RFC 6052's well-known prefix), all of them in one /64: ten guesses from anyone locked
    every IPv4 client out of the account, its owner included. Each counts as the IPv4 address it carries."""
    victim, octet = register_user(client), secrets.randbelow(200) + 1
    attacker = f"64:ff9b::cb00:71{octet:02x}"  # 203.0.113.<octet>
    assert [login(client, victim.email, "wrong guess!", attacker) for _ in range(10)] == [401] * 10
    assert login(client, victim.email, PASSWORD, attacker) == 429
    assert login(client, victim.email, PASSWORD, f"203.0.113.{octet}") == 429  # the same client, untranslated
    assert login(client, victim.email, PASSWORD, "64:ff9b::c633:6403") == 200  # 198.51.100.3, the owner


def test_ipv4_clients_seen_through_a_local_use_nat64_translator_are_counted_apart(client):
    """A site's own translator may use the local-use prefix 64:ff9b:1::/48 (RFC 8215) with a /96 of its
    own: every IPv4 client again in one /64, ten guesses from anyone locked them all out. Where the IPv4
    address lies depends on the translator's prefix length, so each address counts alone."""
    victim, octet = register_user(client), secrets.randbelow(200) + 1
    attacker = f"64:ff9b:1:5::cb00:71{octet:02x}"  # 203.0.113.<octet>
    assert [login(client, victim.email, "wrong guess!", attacker) for _ in range(10)] == [401] * 10
    assert login(client, victim.email, PASSWORD, attacker) == 429
    assert login(client, victim.email, PASSWORD, "64:ff9b:1:5::c633:6403") == 200  # 198.51.100.3, the owner


def test_the_sessions_an_account_collects_share_its_refresh_window(client, app):
    """A refresh was counted by its session, and every sign-in starts one: two sessions of one account
    refreshed 32 times in a minute from one address, all answered; 1000 would refresh 30,000 times. A
    refresh counts in its user's window, as the user's authenticated requests do."""
    from web.core.ratelimits import GROUP_LIMITS, limiter

    attacker, allowed = register_user(client), int(GROUP_LIMITS["auth"].split()[0])
    refresh_tokens = []
    for address in (ATTACKER, OWNER):
        signed_in = app.test_client().post(
            "/api/v1/auth/login",
            json={"email": attacker.email, "password": PASSWORD},
            environ_base={"REMOTE_ADDR": address},
        )
        refresh_tokens.append(signed_in.json["refresh_token"])
    with client.application.app_context():
        limiter.reset()
    answers = []
    for turn in range(allowed + 2):
        refreshed = client.post(
            "/api/v1/auth/refresh",
            headers={"Authorization": f"Bearer {refresh_tokens[turn % 2]}"},
            environ_base={"REMOTE_ADDR": NAT},
        )
        answers.append(refreshed.status_code)
        if refreshed.status_code == 200:
            refresh_tokens[turn % 2] = refreshed.json["refresh_token"]
    assert answers == [200] * allowed + [429, 429]


def _end_without_the_marker(client, user, stolen_refresh: str, how: str) -> str:
    """End the session of ``stolen_refresh`` and return the owner's fresh refresh token. ``password``: the
    owner changes the password, which ends every session; the revocation marker lives as long as an access
    token, so it is deleted here as 15 minutes would. ``deleted``: the session's row goes, as a cascade
    deletes it, with no revocation."""
    from sqlalchemy import delete

    from common.db import session_scope
    from common.models import AuthSession
    from common.redis_client import get_redis

    session_id = jwt.decode(stolen_refresh, options={"verify_signature": False})["sid"]
    owners = app_login(client, user.email, OWNER)
    if how == "password":
        changed = change_password(
            client, {"Authorization": f"Bearer {owners['access_token']}"}, "a brand new password"
        )
        assert changed.status_code == 200, changed.json
        get_redis().delete(f"trusera:revoked:sid:{session_id}")
        return changed.json["refresh_token"]
    with session_scope() as session:
        session.execute(delete(AuthSession).where(AuthSession.id == session_id))
    return owners["refresh_token"]


def app_login(client, email: str, address: str) -> dict:
    signed_in = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": address},
    )
    assert signed_in.status_code == 200, signed_in.json
    return signed_in.json


@pytest.mark.parametrize("how", ["password", "deleted"])
def test_an_ended_sessions_refresh_token_does_not_fill_its_users_window(client, app, how):
    """Round 34: a refresh was counted in its user's window when its token's signature held and no
    revocation marker was found, which lives as long as an access token (15 minutes), not a refresh token
    (30 days), and was never set for a session deleted with its organization. Whoever kept a copy of an
    ended session's refresh token spent the user's window, and the owner's refreshes answered 429. Only
    the live session's current refresh token is counted by its user; any other, by its address."""
    from web.core.ratelimits import GROUP_LIMITS, limiter

    victim, allowed = register_user(client), int(GROUP_LIMITS["auth"].split()[0])
    stolen = app_login(app.test_client(), victim.email, ATTACKER)["refresh_token"]
    owners_refresh = _end_without_the_marker(client, victim, stolen, how)
    with client.application.app_context():
        limiter.reset()

    def refresh(token: str, address: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return client.post(
            "/api/v1/auth/refresh", headers=headers, environ_base={"REMOTE_ADDR": address}
        ).status_code

    # counted by the address (a deleted session's first refresh by its user, which forgets the session)
    answers = [refresh(stolen, ATTACKER) for _ in range(allowed + 2)]
    assert answers[:allowed] == [401] * allowed and answers[-1] == 429, answers
    assert refresh(owners_refresh, OWNER) == 200


def lock_the_address(client, email: str, address: str) -> None:
    """Ten wrong guesses for ``email`` from ``address`` by a browser without a device token."""
    assert [login(client, email, "wrong guess!", address) for _ in range(10)] == [401] * 10


def test_a_device_token_is_spent_by_a_password_change(client, app):
    """A laptop stolen after its owner signed in on it: the owner changes the password. The token named the
    email, so the laptop's guesses stayed counted against its own device, not the address it guesses from,
    which another browser's ten guesses had locked (401 before). It is bound to the credential now."""
    victim, thief_address = register_user(client), "203.0.113.41"
    stolen_laptop = app.test_client()
    assert login(stolen_laptop, victim.email, PASSWORD, OWNER) == 200
    changed = change_password(client, victim.headers(), "a new password!")
    assert changed.status_code == 200, changed.json
    lock_the_address(app.test_client(), victim.email, thief_address)
    assert login(stolen_laptop, victim.email, "wrong guess!", thief_address) == 429


def test_a_device_token_does_not_pass_to_the_next_account_of_its_email(client, app):
    """An account deleted and its address registered again by someone else: the former owner's token named
    the email, so it counted the former owner's guesses at the new account against their own device (401
    before, the address locked). It is bound to the account now."""
    former, guesser_address = register_user(client), "203.0.113.42"
    former_browser = app.test_client()
    assert login(former_browser, former.email, PASSWORD, OWNER) == 200
    deleted = client.delete(
        "/api/v1/auth/account",
        json={"password": PASSWORD},
        headers=former.headers(),
        environ_base={"REMOTE_ADDR": OWNER},
    )
    assert deleted.status_code == 204, deleted.json
    registered = client.post(
        "/api/v1/auth/register",
        json={"email": former.email, "password": "the new owner's password", "name": "New owner"},
        environ_base={"REMOTE_ADDR": OWNER},
    )
    assert registered.status_code == 201, registered.json
    lock_the_address(app.test_client(), former.email, guesser_address)
    assert login(former_browser, former.email, "wrong guess!", guesser_address) == 429


def test_a_device_token_of_a_deleted_account_is_no_token(client, app):
    """The same with the address left unregistered: no account, so the token counts nothing (401 before)."""
    former, guesser_address = register_user(client), "203.0.113.43"
    former_browser = app.test_client()
    assert login(former_browser, former.email, PASSWORD, OWNER) == 200
    deleted = client.delete("/api/v1/auth/account", json={"password": PASSWORD}, headers=former.headers())
    assert deleted.status_code == 204, deleted.json
    lock_the_address(app.test_client(), former.email, guesser_address)
    assert login(former_browser, former.email, PASSWORD, guesser_address) == 429

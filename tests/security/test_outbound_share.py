"""Requests that wait on a tenant's remote cannot take every thread of the API.

The attacker is any analyst (anyone may register and create an organization), or anyone at all through
an organization whose SSO issuer they run. They name a host of their own that answers each request just
inside the exchange's deadline (30 s for an n8n connection test) and send a request every two seconds,
well inside the rate limits: the API's 16 threads (2 processes of 8 in the image) all waited on that host,
and nobody else's request was answered. Now an organization has at most ``OUTBOUND_REQUESTS_PER_ORG``
such requests in flight (429 past it), and an API process gives them at most
``OUTBOUND_REQUESTS_PER_PROCESS`` threads (503 past it), both refused at once (``web/core/outbound.py``).
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from common.org_slots import Slot
from tests.helpers import settings_from, wait_for
from tests.integration.fake_idp import FakeIdentityProvider
from tests.security.test_outbound_guard import CLIENT, _org
from tests.sso_support import put_config, toggle

JOIN_SECONDS = 5  # a refusal comes at once; a request let through waits on the tarpit until released


class Tarpit:
    """A loopback HTTP server that holds every request until ``release``, then answers an empty page."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.held = 0
        self._lock = threading.Lock()
        tarpit = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.recv(65536)
                with tarpit._lock:
                    tarpit.held += 1
                tarpit.released.wait(timeout=20)
                body = b'{"data": []}'
                with contextlib.suppress(OSError):
                    self.request.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                        + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                    )
                    self.request.shutdown(socket.SHUT_WR)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


class Probe(threading.Thread):
    """One ``POST /connectors/n8n/test`` against the live API (or, given no user, an anonymous ``GET`` of
    ``url``), in a thread of its own."""

    def __init__(self, live_server: str, user, url: str, org_id: str | None = None) -> None:
        super().__init__(daemon=True)
        self.args = (live_server, user, url)
        self.org_id = org_id
        self.response: requests.Response | None = None
        self.start()

    def run(self) -> None:
        live_server, user, url = self.args
        if user is None:
            self.response = requests.get(url, allow_redirects=False, timeout=30)
            return
        self.response = requests.post(
            f"{live_server}/api/v1/connectors/n8n/test",
            json={"url": url, "api_key": "k"},
            headers=user.headers(self.org_id),
            timeout=30,
        )

    def refused(self) -> int:
        """The status of a request answered at once (it does not wait on the tarpit)."""
        self.join(JOIN_SECONDS)
        assert not self.is_alive(), "the request is waiting on the tarpit: it holds an API thread"
        return self.response.status_code


@pytest.fixture
def small_shares(monkeypatch):
    with settings_from(monkeypatch, OUTBOUND_REQUESTS_PER_ORG="2", OUTBOUND_REQUESTS_PER_PROCESS="3"):
        yield


def test_slow_remotes_hold_a_bounded_share_of_the_apis_threads(live_server, make_user, small_shares):
    attacker, other, third = make_user(), make_user(), make_user()
    tarpit = Tarpit()
    try:
        held = [Probe(live_server, attacker, tarpit.url) for _ in range(2)]
        wait_for(lambda: tarpit.held == 2, timeout=10, interval=0.05)
        over_its_share = Probe(live_server, attacker, tarpit.url)
        assert over_its_share.refused() == 429
        assert over_its_share.response.headers["Retry-After"].isdigit()
        held.append(Probe(live_server, other, tarpit.url))  # another organization still gets its turn
        wait_for(lambda: tarpit.held == 3, timeout=10, interval=0.05)
        assert Probe(live_server, third, tarpit.url).refused() == 503  # the process's share is taken
        assert tarpit.held == 3
    finally:
        tarpit.close()
    for probe in held:
        probe.join(10)
        assert probe.response.status_code == 200 and probe.response.json()["status"] == "reachable"
    again = Tarpit()  # every slot was given back when its request ended
    try:
        again.released.set()
        probes = [Probe(live_server, attacker, again.url) for _ in range(2)]
        for probe in probes:
            probe.join(10)
            assert probe.response.status_code == 200, probe.response.text
    finally:
        again.close()


def test_one_user_holds_one_share_whatever_the_number_of_their_organizations(
    live_server, make_user, small_shares
):
    """Each organization has its share, and a user may be admin of up to ``ORGANIZATIONS_PER_USER`` of
    them: before, their second organization's connection test was let through while the first held its
    whole share, so one user held as many shares as organizations. The caller's share is counted too."""
    user = make_user()
    tarpit = Tarpit()
    try:
        other_org = requests.post(
            f"{live_server}/api/v1/organizations", json={"name": "Second"}, headers=user.headers(), timeout=10
        ).json()["id"]
        held = [Probe(live_server, user, tarpit.url) for _ in range(2)]
        wait_for(lambda: tarpit.held == 2, timeout=10, interval=0.05)
        elsewhere = Probe(live_server, user, tarpit.url, org_id=other_org)
        assert elsewhere.refused() == 429
        assert "You already have" in elsewhere.response.json()["message"]
        assert tarpit.held == 2
    finally:
        tarpit.close()
    for probe in held:
        probe.join(10)


def test_anonymous_sso_logins_at_a_slow_issuer_hold_their_organizations_share_only(
    client, live_server, small_shares
):
    """The SSO login is anonymous: before, anyone could hold the API's threads with an organization whose
    issuer is a tarpit of theirs, one discovery call (15 s) per request, 30 requests a minute an address.
    One client address holds all but one of the organization's slots (here one of two)."""
    owner, org = _org(client)
    tarpit = Tarpit()
    try:
        put_config(client, owner, org, tarpit.url, allowed_domains=["example.com"], **CLIENT)
        toggle(client, owner, org, True)
        login = f"{live_server}/api/v1/sso/{org['slug']}/login"
        held = [Probe(live_server, None, login)]
        wait_for(lambda: tarpit.held == 1, timeout=10, interval=0.05)
        assert Probe(live_server, None, login).refused() == 429
        assert tarpit.held == 1
    finally:
        tarpit.close()
    for probe in held:
        probe.join(10)
        assert probe.response.status_code == 401  # let through: an empty page is no discovery document


def test_logins_flooding_a_slow_provider_leave_its_members_a_share(client, small_shares):
    """Anyone may start an organization's SSO login, and each one called the provider for its discovery
    document under the organization's share: at a provider slow enough, an anonymous flood kept the share
    full and its members' sign-ins answered 429. The document is kept per configuration version now, so a
    login finds it without calling out, share full or not; a changed configuration fetches it again."""
    owner, org = _org(client)
    with FakeIdentityProvider() as idp:
        fetched = []
        document = idp.metadata
        idp.metadata = lambda: fetched.append(1) or document()
        put_config(client, owner, org, idp.issuer, allowed_domains=["example.com"], **CLIENT)
        toggle(client, owner, org, True)
        login = f"/api/v1/sso/{org['slug']}/login"
        assert client.get(login).status_code == 302 and len(fetched) == 1
        flood = [Slot("api-outbound") for _ in range(2)]  # two logins held at the slow provider
        assert all(slot.take(org["id"], 2, 60) for slot in flood)
        try:
            answer = client.get(login)
            assert answer.status_code == 302, answer.json
            assert answer.headers["Location"].startswith(f"{idp.issuer}/authorize?")
            assert len(fetched) == 1
        finally:
            for slot in flood:
                slot.release()
        put_config(client, owner, org, idp.issuer, allowed_domains=["example.org"], **CLIENT)
        assert client.get(login).status_code == 302 and len(fetched) == 2
    # deleted and made again, a configuration counts its versions from the start: another provider's
    # configuration at the version of a kept document does not get that document
    with FakeIdentityProvider() as replacement:
        sso = f"/api/v1/organizations/{org['id']}/sso"
        assert client.delete(sso, headers=owner.headers()).status_code == 204
        put_config(client, owner, org, replacement.issuer, allowed_domains=["example.com"], **CLIENT)
        toggle(client, owner, org, True)
        answer = client.get(login)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith(f"{replacement.issuer}/authorize?")


ATTACKER, MEMBER = "203.0.113.7", "198.51.100.9"


def test_callbacks_with_made_up_codes_at_a_slow_token_endpoint_leave_the_members_their_sign_ins(
    client, small_shares
):
    """Each callback exchanges its code at the provider under the organization's share. Before, a made-up
    state took a slot before it was refused, and an anonymous client that started two logins and brought
    their callbacks with made-up codes held both slots at a slow token endpoint: every member's callback
    answered 429. Now the state is checked first (a made-up one takes no slot), and one client address
    holds at most all but one of the organization's slots, so a member elsewhere reaches the provider."""
    owner, org = _org(client)
    login, callback = f"/api/v1/sso/{org['slug']}/login", f"/api/v1/sso/{org['slug']}/callback"
    with FakeIdentityProvider() as idp:
        put_config(client, owner, org, idp.issuer, allowed_domains=["example.com"], **CLIENT)
        toggle(client, owner, org, True)
        held = [Slot("api-outbound") for _ in range(2)]
        assert all(slot.take(org["id"], 2, 60) for slot in held)
        try:
            made_up = client.get(callback, query_string={"state": "made-up", "code": "made-up"})
            assert made_up.status_code == 400, made_up.json  # refused for what it is, not for the share
        finally:
            for slot in held:
                slot.release()

        idp.token_gate = threading.Event()
        answers: dict[str, list[int]] = {ATTACKER: [], MEMBER: []}

        def sign_in(address: str) -> threading.Thread:
            browser = client.application.test_client()
            started = browser.get(login, environ_base={"REMOTE_ADDR": address})
            state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]

            def call_back() -> None:
                answer = browser.get(
                    callback,
                    query_string={"state": state, "code": "made-up"},
                    environ_base={"REMOTE_ADDR": address},
                )
                answers[address].append(answer.status_code)

            thread = threading.Thread(target=call_back, daemon=True)
            thread.start()
            return thread

        try:
            flood = [sign_in(ATTACKER), sign_in(ATTACKER)]
            wait_for(lambda: len(idp.token_requests) + len(answers[ATTACKER]) == 2, timeout=10, interval=0.05)
            assert answers[ATTACKER] == [429] and len(idp.token_requests) == 1
            member = sign_in(MEMBER)
            wait_for(
                lambda: len(idp.token_requests) == 2, timeout=10, interval=0.05
            )  # it reached the provider
        finally:
            idp.token_gate.set()
        for thread in [*flood, member]:
            thread.join(10)
    assert answers[MEMBER] == [401]  # the provider rejected the made-up code: the member was not held out
    assert sorted(answers[ATTACKER]) == [401, 429]


def test_made_up_codes_from_two_addresses_leave_the_members_a_slot(client, small_shares):
    """An address holds at most all but one slot, but two addresses held both: each started a login and
    brought its callback with a made-up code to a slow token endpoint, and every member's callback answered
    429. The provider rejects a made-up code; the addresses whose codes it rejected within the hour now hold
    all but one slot together, so one is kept for the addresses whose codes it has not rejected."""
    owner, org = _org(client)
    login, callback = f"/api/v1/sso/{org['slug']}/login", f"/api/v1/sso/{org['slug']}/callback"
    first, second = "203.0.113.21", "203.0.113.22"
    answers: dict[str, list[int]] = {first: [], second: [], MEMBER: []}

    def sign_in(address: str) -> threading.Thread:
        browser = client.application.test_client()
        started = browser.get(login, environ_base={"REMOTE_ADDR": address})
        state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]

        def call_back() -> None:
            answer = browser.get(
                callback,
                query_string={"state": state, "code": "made-up"},
                environ_base={"REMOTE_ADDR": address},
            )
            answers[address].append(answer.status_code)

        thread = threading.Thread(target=call_back, daemon=True)
        thread.start()
        return thread

    with FakeIdentityProvider() as idp:
        put_config(client, owner, org, idp.issuer, allowed_domains=["example.com"], **CLIENT)
        toggle(client, owner, org, True)
        for address in (first, second):  # the provider answers at once: each code is rejected
            sign_in(address).join(10)
        assert answers == {first: [401], second: [401], MEMBER: []}
        idp.token_gate = threading.Event()
        try:
            held = sign_in(first)
            wait_for(lambda: len(idp.token_requests) == 3, timeout=10, interval=0.05)  # held at the provider
            sign_in(second).join(JOIN_SECONDS)
            assert answers[second] == [401, 429]  # before: it took the organization's last slot
            member = sign_in(MEMBER)
            wait_for(
                lambda: len(idp.token_requests) == 4, timeout=10, interval=0.05
            )  # it reached the provider
        finally:
            idp.token_gate.set()
        for thread in (held, member):
            thread.join(10)
    assert answers[MEMBER] == [401] and answers[first] == [401, 401]

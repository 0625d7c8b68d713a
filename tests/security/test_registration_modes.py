"""An operator can make an account cost something: ``REGISTRATION`` = ``open`` | ``invite`` | ``closed``.

Every account came with a personal workspace, an organization with every per-organization share (2
outbound requests, 4 webhook sends, 1 running scan), and anyone could register: one person with a few
accounts filled an API process's outbound share, the webhook threads and the scans workers, which the
per-organization shares were meant to keep for everybody. With ``invite`` an account is created only with
the code of an invitation an admin sent to that address, and it joins that organization with no workspace
of its own, nor may it create organizations (an invited admin would otherwise make organizations and
invite new accounts into them, as cheap as open registration); with ``closed`` registration creates none
(SSO provisions its organization's people); an organization's IdP, which any admin may point anywhere,
provisions no workspace either.
"""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from common.config import InsecureConfiguration, load_settings
from common.db import session_scope
from common.models import Organization, User
from common.models.base import utcnow
from common.models.identity import MemberInvitation
from tests.helpers import (
    PASSWORD,
    PAUSE_SECONDS,
    add_member,
    in_thread,
    paused_once,
    register_user,
    settings_from,
    wait_for,
    waits_for_a_lock,
)
from tests.integration.fake_idp import FakeIdentityProvider
from tests.integration.test_sso_oidc import CLIENT, CLIENT_ID, begin, finish
from tests.sso_support import put_config, toggle


def _register(client, email: str, **extra):
    return client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, **extra})


def _address() -> str:
    return f"sybil-{secrets.token_hex(6)}@example.com"


def _organizations() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Organization))


@pytest.fixture
def team(client):
    """An admin and their team organization, made while registration was open."""
    admin = register_user(client)
    org = client.post("/api/v1/organizations", json={"name": "Team"}, headers=admin.headers()).json
    return admin, org


def _invite(client, admin, org, email: str, role: str = "analyst") -> str:
    answer = client.post(
        f"/api/v1/organizations/{org['id']}/members",
        json={"email": email, "role": role},
        headers=admin.headers(),
    )
    assert answer.status_code == 202, answer.json
    return answer.json["invitation_code"]


def test_closed_registration_creates_no_account(client, monkeypatch):
    email = _address()
    with settings_from(monkeypatch, REGISTRATION="closed"):
        refused = _register(client, email)
    assert refused.status_code == 403 and "closed" in refused.json["message"]
    with session_scope() as session:
        assert session.scalar(select(User).where(User.email == email)) is None


def test_invite_registration_takes_an_invitation_to_the_address_and_makes_no_workspace(
    client, monkeypatch, team
):
    admin, org = team
    invited, sybil = _address(), _address()
    with settings_from(monkeypatch, REGISTRATION="invite"):
        code = _invite(client, admin, org, invited)
        before = _organizations()
        attempts = [
            _register(client, sybil),  # no code
            _register(client, sybil, invitation_code=secrets.token_urlsafe(24)),
            _register(client, sybil, invitation_code=code),  # another address's code
            _register(client, admin.email),  # a taken address answers as any other: no 409 to tell it
        ]
        assert [a.status_code for a in attempts] == [403] * 4, [a.json for a in attempts]
        assert "invitation" in attempts[0].json["message"]

        joined = _register(client, invited, invitation_code=code)
        assert joined.status_code == 201, joined.json
        user = joined.json["user"]
        assert user["personal_organization_id"] is None
        assert [(o["id"], o["role"]) for o in user["organizations"]] == [(org["id"], "analyst")]
        assert _organizations() == before  # the account is no organization with shares of its own
        headers = {"Authorization": f"Bearer {joined.json['access_token']}", "X-Organization-Id": org["id"]}
        assert client.get("/api/v1/scans", headers=headers).status_code == 200

        again = _register(client, invited.upper(), invitation_code=code)  # the code is spent
        assert again.status_code == 403

        # nor does the account make organizations of its own, to invite more accounts into
        bearer = {"Authorization": f"Bearer {joined.json['access_token']}"}
        created = client.post("/api/v1/organizations", json={"name": "Sybil"}, headers=bearer)
        assert created.status_code == 403 and "invite you" in created.json["message"]
        assert _organizations() == before
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.email == sybil)) == 0


def test_an_invitation_to_an_address_lapses_with_its_admins_authority_and_in_time(client, monkeypatch, team):
    admin, org = team
    co_admin = register_user(client)
    add_member(client, admin, org["id"], co_admin, "admin")
    removed_admins, lapsed = _address(), _address()
    with settings_from(monkeypatch, REGISTRATION="invite"):
        removed_admins_code = _invite(client, co_admin, org, removed_admins)
        lapsed_code = _invite(client, admin, org, lapsed)
        gone = client.delete(
            f"/api/v1/organizations/{org['id']}/members/{co_admin.id}", headers=admin.headers()
        )
        assert gone.status_code == 204
        with session_scope() as session:
            session.execute(
                update(MemberInvitation)
                .where(MemberInvitation.email == lapsed)
                .values(created_at=utcnow() - timedelta(days=15))
            )
        assert _register(client, removed_admins, invitation_code=removed_admins_code).status_code == 403
        assert _register(client, lapsed, invitation_code=lapsed_code).status_code == 403


def test_an_organizations_idp_provisions_no_workspace_unless_registration_is_open(client, monkeypatch, team):
    owner, org = team
    with FakeIdentityProvider() as idp, settings_from(monkeypatch, REGISTRATION="invite"):
        put_config(client, owner, org, idp.issuer, allowed_domains=["fake.test"], role_mapping=None, **CLIENT)
        toggle(client, owner, org, True)
        before = _organizations()
        query = begin(client, org)
        idp.id_token = idp.sign(idp.claims(query["nonce"], CLIENT_ID))
        signed_in = finish(client, org, query["state"])
        assert signed_in.status_code == 200, signed_in.json
        assert signed_in.json["user"]["personal_organization_id"] is None
        assert _organizations() == before


def test_open_registration_is_unchanged(client):
    answer = _register(client, _address())
    assert answer.status_code == 201
    assert answer.json["user"]["personal_organization_id"] is not None


def test_an_address_longer_than_an_account_can_hold_is_refused_not_stored_half(client, monkeypatch, team):
    admin, org = team
    too_long = "a" * 300 + "@" + "b" * 20 + ".example.com"  # a valid address; users.email holds 320
    with settings_from(monkeypatch, REGISTRATION="invite"):
        answer = client.post(
            f"/api/v1/organizations/{org['id']}/members",
            json={"email": too_long, "role": "viewer"},
            headers=admin.headers(),
        )
    assert answer.status_code == 422, answer.json


@pytest.mark.parametrize("value", ["invitation", "opn", "none"])
def test_a_misspelt_registration_mode_is_refused_at_start(monkeypatch, value):
    """Read as ``open``, a typo would leave registration open on a server its operator meant to close."""
    monkeypatch.setenv("REGISTRATION", value)
    with pytest.raises(InsecureConfiguration, match="REGISTRATION"):
        load_settings()


def test_one_address_registering_twice_at_once_with_two_codes_gets_one_account(client, monkeypatch, team):
    """Each registration held its own invitation, then the first waited for the second's (the account
    takes every invitation of its address) and the second for the first's user row: a deadlock, a 500.
    The second now waits for the first and finds its code handed to the new account (403, as after it)."""
    from web.api import auth

    admin, org = team
    other = client.post("/api/v1/organizations", json={"name": "Other"}, headers=admin.headers()).json
    email = _address()
    reached, resume = threading.Event(), threading.Event()
    with settings_from(monkeypatch, REGISTRATION="invite"):
        codes = [_invite(client, admin, org, email), _invite(client, admin, other, email)]
        monkeypatch.setattr(
            auth, "hand_invitations_to", paused_once(auth.hand_invitations_to, reached, resume)
        )
        first, first_answer = in_thread(lambda: _register(client, email, invitation_code=codes[0]))
        assert reached.wait(PAUSE_SECONDS)
        second, second_answer = in_thread(lambda: _register(client, email, invitation_code=codes[1]))
        try:
            wait_for(
                lambda: (
                    waits_for_a_lock("SELECT member_invitations.id") or waits_for_a_lock("INSERT INTO users")
                ),
                timeout=PAUSE_SECONDS,
                interval=0.02,
            )
        finally:
            resume.set()
        for thread in (first, second):
            thread.join(PAUSE_SECONDS * 2)
    assert first_answer["result"].status_code == 201, first_answer["result"].json
    assert second_answer["result"].status_code == 403, second_answer["result"].json
    with session_scope() as session:
        user = session.scalar(select(User).where(User.email == email))
        handed = session.scalars(select(MemberInvitation).where(MemberInvitation.user_id == user.id)).all()
    assert [invitation.organization_id for invitation in handed] == [other["id"]]

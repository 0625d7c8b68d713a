"""What an organization's identity provider vouched for ends when its word changes or is withdrawn.

Played with the real `oidc-provider` (tests/integration/oidc_provider): a member the IdP made an admin
stays one after the IdP's role mapping demotes them, and the sessions (and API keys) an organization's SSO
handed out keep working after an admin disables or deletes it, or replaces its client secret, and for
ever after the IdP last saw the person, since a rotated refresh token never has to go back to it.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from common import config
from common.db import session_scope
from common.models import AuthSession
from tests.helpers import PASSWORD, TestUser, add_member, insert_organization, register_user, sqlite_migrator
from tests.security.test_revocation import POLICY_VIOLATION, close_code, open_socket
from tests.sso_support import (
    audit_rows,
    confidential_client,
    put_config,
    running_provider,
    sso_sign_in,
    toggle,
)

DOMAIN = "idp-word.test"
RUN = secrets.token_hex(3)
SLUGS = {
    name: f"{name}-{RUN}"
    for name in (
        *("demote", "last-admin", "by-hand", "withdrawn", "lifetime", "socket", "policy", "planner"),
        "linked-later",
    )
}
CLIENT = {"client_id": "platform", "client_secret": secrets.token_urlsafe(24)}
ENGINEER = {"id": "eng", "email": f"eng-{RUN}@{DOMAIN}", "password": "eng-pw", "groups": ["eng"]}
LEAD = {"id": "lead", "email": f"lead-{RUN}@{DOMAIN}", "password": "lead-pw", "groups": ["eng"]}
INVITEE = {"id": "invitee", "email": f"invitee-{RUN}@{DOMAIN}", "password": "inv-pw", "groups": ["eng"]}
ROAMER = {"id": "roamer", "email": f"roamer-{RUN}@{DOMAIN}", "password": "roamer-pw", "groups": []}
OWNER = {"id": "owner", "email": f"owner-{RUN}@{DOMAIN}", "password": "owner-pw", "groups": []}
WATCHER = {"id": "watcher", "email": f"watcher-{RUN}@{DOMAIN}", "password": "watcher-pw", "groups": []}
MEMBER = {"id": "member", "email": f"member-{RUN}@{DOMAIN}", "password": "member-pw", "groups": []}
STAFF = {"id": "staff", "email": f"staff-{RUN}@{DOMAIN}", "password": "staff-pw", "groups": []}
PLANNER = {"id": "planner", "email": f"planner-{RUN}@{DOMAIN}", "password": "plan-pw", "groups": ["eng"]}
LATECOMER = {"id": "latecomer", "email": f"latecomer-{RUN}@{DOMAIN}", "password": "late-pw", "groups": []}
ADMIN_MAPPING = {"claim": "groups", "values": {"eng": "admin"}}
VIEWER_MAPPING = {"claim": "groups", "values": {"eng": "viewer"}}


@pytest.fixture(scope="module")
def idp(live_server, tmp_path_factory):
    callbacks = [f"{live_server}/api/v1/sso/{slug}/callback" for slug in SLUGS.values()]
    with running_provider(
        tmp_path_factory.mktemp("idp"),
        clients=[confidential_client(CLIENT["client_id"], CLIENT["client_secret"], callbacks)],
        accounts=[ENGINEER, LEAD, INVITEE, STAFF, ROAMER, OWNER, WATCHER, MEMBER, PLANNER, LATECOMER],
    ) as issuer:
        yield issuer


def _org(client, owner: TestUser, slug: str, issuer: str, **config) -> dict:
    org = client.post("/api/v1/organizations", json={"name": slug, "slug": slug}, headers=owner.headers())
    assert org.status_code == 201, org.json
    _configure(client, owner, org.json, issuer, **config)
    toggle(client, owner, org.json, True)
    return org.json


def _configure(client, owner, org, issuer, **config) -> None:
    put_config(client, owner, org, issuer, allowed_domains=[DOMAIN], **{**CLIENT, **config})


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _role(client, token: str, org_id: str) -> str:
    answer = client.get(f"/api/v1/organizations/{org_id}", headers=_bearer(token))
    assert answer.status_code == 200, answer.json
    return answer.json["role"]


def _signed_in(live_server, slug: str, account: dict) -> dict:
    answer = sso_sign_in(live_server, slug, account)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_idp_demotes_the_admin_it_made(live_server, client, idp):
    owner = register_user(client)
    org = _org(client, owner, SLUGS["demote"], idp, role_mapping=ADMIN_MAPPING)
    promoted = _signed_in(live_server, org["slug"], ENGINEER)
    assert _role(client, promoted["access_token"], org["id"]) == "admin"

    _configure(client, owner, org, idp, role_mapping=VIEWER_MAPPING)
    demoted = _signed_in(live_server, org["slug"], ENGINEER)

    assert _role(client, demoted["access_token"], org["id"]) == "viewer"
    grab = client.post(
        f"/api/v1/organizations/{org['id']}/sso/toggle",
        json={"enabled": False},
        headers=_bearer(demoted["access_token"]),
    )
    assert grab.status_code == 403
    # and back up when the IdP says so again
    _configure(client, owner, org, idp, role_mapping=ADMIN_MAPPING)
    assert _role(client, _signed_in(live_server, org["slug"], ENGINEER)["access_token"], org["id"]) == "admin"


def test_the_idps_demotion_pauses_the_schedules_the_member_created(live_server, client, idp):
    """A role claim lowering a member below editor pauses their schedules at that sign-in, as removal
    does, instead of at each schedule's next due run (``common.schedule_owner``)."""
    owner = register_user(client)
    org = _org(client, owner, SLUGS["planner"], idp, role_mapping=ADMIN_MAPPING)
    planner = _signed_in(live_server, org["slug"], PLANNER)
    body = {"name": "nightly", "cron": "0 3 1 * *", "repository_url": "https://git.example.com/acme/app.git"}
    created = client.post(
        "/api/v1/schedules",
        json=body,
        headers={**_bearer(planner["access_token"]), "X-Organization-Id": org["id"]},
    )
    assert created.status_code == 201, created.json

    _configure(client, owner, org, idp, role_mapping=VIEWER_MAPPING)
    _signed_in(live_server, org["slug"], PLANNER)

    shown = client.get(f"/api/v1/schedules/{created.json['id']}", headers=owner.headers(org["id"])).json
    assert shown["enabled"] is False and shown["next_run_at"] is None
    assert "role is now 'viewer'" in shown["last_error"]


def test_the_idp_never_demotes_the_last_admin(live_server, client, idp):
    owner = register_user(client)
    org = _org(client, owner, SLUGS["last-admin"], idp, role_mapping=ADMIN_MAPPING)
    _signed_in(live_server, org["slug"], LEAD)
    left = client.delete(f"/api/v1/organizations/{org['id']}/membership", headers=owner.headers(org["id"]))
    assert left.status_code == 204  # the IdP's admin is now the only one
    lead = _signed_in(live_server, org["slug"], LEAD)
    # the lead, now the organization's only admin, maps itself to viewer
    answer = client.put(
        f"/api/v1/organizations/{org['id']}/sso",
        json={
            "issuer": idp,
            "allowed_domains": [DOMAIN],
            "role_mapping": VIEWER_MAPPING,
            "scopes": ["openid", "email", "profile", "groups"],
            **CLIENT,
        },
        headers=_bearer(lead["access_token"]),
    )
    assert answer.status_code == 200, answer.json

    kept = _signed_in(live_server, org["slug"], LEAD)

    assert _role(client, kept["access_token"], org["id"]) == "admin"
    login = audit_rows(org["id"], "sso.login")[-1].details
    assert (login["role"], login["claimed_role"]) == ("admin", "viewer")


def test_a_role_an_admin_gave_by_invitation_is_not_the_idps_to_change(live_server, client, idp):
    owner = register_user(client)
    org = _org(client, owner, SLUGS["by-hand"], idp, role_mapping=VIEWER_MAPPING)
    registered = client.post(
        "/api/v1/auth/register", json={"email": INVITEE["email"], "password": PASSWORD}
    ).json
    invitee = _bearer(registered["access_token"])
    code = client.post(
        f"/api/v1/organizations/{org['id']}/members",
        json={"email": INVITEE["email"], "role": "editor"},
        headers=owner.headers(org["id"]),
    ).json["invitation_code"]
    invitation = client.get("/api/v1/auth/invitations", headers=invitee).json["items"][0]
    assert (
        client.post(
            f"/api/v1/auth/invitations/{invitation['id']}/accept", json={"code": code}, headers=invitee
        ).status_code
        == 200
    )
    offered = sso_sign_in(live_server, org["slug"], INVITEE).json()
    linked = requests.post(
        offered["link_url"], json={"link_token": offered["link_token"], "password": PASSWORD}, timeout=10
    )
    assert linked.status_code == 200, linked.text

    again = _signed_in(live_server, org["slug"], INVITEE)

    assert _role(client, again["access_token"], org["id"]) == "editor"


def _works(client, token: str) -> bool:
    status = client.get("/api/v1/auth/me", headers=_bearer(token)).status_code
    assert status in (200, 401)
    return status == 200


def _refreshes(client, refresh_token: str) -> bool:
    return client.post("/api/v1/auth/refresh", headers=_bearer(refresh_token)).status_code == 200


def _sso_credentials(client, live_server, org) -> dict:
    session = _signed_in(live_server, org["slug"], STAFF)
    key = client.post(
        "/api/v1/auth/api-key", json={"name": "minted"}, headers=_bearer(session["access_token"])
    )
    assert key.status_code == 201, key.json
    return {"access": session["access_token"], "refresh": session["refresh_token"], "key": key.json["key"]}


def _all_ended(client, credentials: dict) -> bool:
    alive = (
        _works(client, credentials["access"]),
        _refreshes(client, credentials["refresh"]),
        _works(client, credentials["key"]),
    )
    assert len(set(alive)) == 1, f"some survive, some not: {alive}"
    return not alive[0]


def test_sso_sessions_end_when_the_idp_is_withdrawn_or_replaced(live_server, client, idp):
    owner = register_user(client)
    org = _org(client, owner, SLUGS["withdrawn"], idp, role_mapping=None)

    before = _sso_credentials(client, live_server, org)
    toggle(client, owner, org, False)
    assert _all_ended(client, before)
    assert _works(client, owner.token)  # the admin's own password session is not the IdP's
    assert audit_rows(org["id"], "sso.disable")[-1].details["sessions_ended"] == 1

    toggle(client, owner, org, True)
    before = _sso_credentials(client, live_server, org)
    _configure(client, owner, org, idp, role_mapping=None, scopes=["openid", "email"])
    assert _works(client, before["access"]) and _works(client, before["key"])  # the IdP's word is unchanged
    _configure(client, owner, org, idp, role_mapping=None, client_secret="rotated-" + CLIENT["client_secret"])
    assert _all_ended(client, before)

    _configure(client, owner, org, idp, role_mapping=None)
    before = _sso_credentials(client, live_server, org)
    assert client.delete(f"/api/v1/organizations/{org['id']}/sso", headers=owner.headers()).status_code == 204
    assert _all_ended(client, before)
    assert _works(client, owner.token)


def _age_sso_sessions(org_id: str, hours: int) -> None:
    """Move the organization's SSO sign-ins ``hours`` into the past."""
    with session_scope() as session:
        for row in session.scalars(select(AuthSession).where(AuthSession.organization_id == org_id)):
            row.sso_signed_in_at -= timedelta(hours=hours)


def test_an_sso_session_goes_back_to_the_idp_after_sso_session_hours(live_server, client, idp):
    """Past SSO_SESSION_HOURS (12) a refresh is refused, so a person the IdP disabled or demoted meanwhile
    does not stay signed in: only a new sign-in at the IdP goes on. A password change does not reset it."""
    owner = register_user(client)
    org = _org(client, owner, SLUGS["lifetime"], idp, role_mapping=None)
    roamer = _signed_in(live_server, org["slug"], ROAMER)
    rotated = client.post("/api/v1/auth/refresh", headers=_bearer(roamer["refresh_token"]))
    assert rotated.status_code == 200

    _age_sso_sessions(org["id"], 13)

    stale = client.post("/api/v1/auth/refresh", headers=_bearer(rotated.json["refresh_token"]))
    assert stale.status_code == 401 and "identity provider" in stale.json["message"]
    assert not _works(client, rotated.json["access_token"])
    again = _signed_in(live_server, org["slug"], ROAMER)
    assert client.post("/api/v1/auth/refresh", headers=_bearer(again["refresh_token"])).status_code == 200

    # an account with a password, linked to the IdP: changing the password in the SSO session keeps its age
    client.post("/api/v1/auth/register", json={"email": OWNER["email"], "password": PASSWORD})
    offered = sso_sign_in(live_server, org["slug"], OWNER).json()
    linked = requests.post(
        offered["link_url"], json={"link_token": offered["link_token"], "password": PASSWORD}, timeout=10
    ).json()
    _age_sso_sessions(org["id"], 13)
    changed = client.put(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": PASSWORD + "!"},
        headers=_bearer(linked["access_token"]),
    )
    assert changed.status_code == 200, changed.json
    assert (
        client.post("/api/v1/auth/refresh", headers=_bearer(changed.json["refresh_token"])).status_code == 401
    )


def test_an_sso_sessions_socket_closes_when_the_session_is_over(live_server, client, idp, monkeypatch):
    """A socket stands until someone ends its session: SSO_SESSION_HOURS ends an SSO session."""
    owner = register_user(client)
    org = _org(client, owner, SLUGS["socket"], idp, role_mapping=None)
    signed_in = _signed_in(live_server, org["slug"], WATCHER)
    monkeypatch.setattr(config, "_settings", dataclasses.replace(config.get_settings(), ws_recheck_seconds=1))
    ws = open_socket(live_server, signed_in["access_token"], org["id"])

    _age_sso_sessions(org["id"], 13)

    assert close_code(ws, within=6) == POLICY_VIOLATION


def test_password_sessions_end_when_the_organization_requires_its_sso(live_server, client, idp):
    """``allow_password_login: false`` refuses the password sign-ins of the members the IdP manages; a
    password session one of them opened just before must not outlive the policy."""
    owner = register_user(client)
    org = _org(client, owner, SLUGS["policy"], idp, role_mapping=None)
    client.post("/api/v1/auth/register", json={"email": MEMBER["email"], "password": PASSWORD})
    offered = sso_sign_in(live_server, org["slug"], MEMBER).json()
    by_sso = requests.post(
        offered["link_url"], json={"link_token": offered["link_token"], "password": PASSWORD}, timeout=10
    ).json()
    by_password = client.post(
        "/api/v1/auth/login", json={"email": MEMBER["email"], "password": PASSWORD}
    ).json
    assert _works(client, by_password["access_token"])
    keys = {
        name: client.post(
            "/api/v1/auth/api-key",
            json={"name": name},
            headers={**_bearer(tokens["access_token"]), "X-Organization-Id": org["id"]},
        ).json["key"]
        for name, tokens in (("minted signed in with the password", by_password), ("minted by sso", by_sso))
    }

    _configure(client, owner, org, idp, role_mapping=None, allow_password_login=False)

    assert not _works(client, by_password["access_token"])
    assert not _refreshes(client, by_password["refresh_token"])
    # A key minted in the password session is that sign-in's too: kept, it let the member in for good,
    # whatever the IdP says of them later. One minted in the SSO session ends with the IdP's authority.
    assert not _works(client, keys["minted signed in with the password"])
    assert _works(client, keys["minted by sso"])
    assert (
        client.post("/api/v1/auth/login", json={"email": MEMBER["email"], "password": PASSWORD}).status_code
        == 403
    )
    assert _works(client, by_sso["access_token"])  # the sign-in the policy asks for
    assert _works(client, owner.token)  # admins keep password sign-in


def test_a_member_the_idp_links_while_the_policy_is_in_force_keeps_no_password_sign_in(
    live_server, client, idp
):
    """The policy's password sessions and keys ended only when it came into force: a member an admin had
    invited, who signed in with the password and minted a key, kept both after linking the IdP's identity
    (the policy then governs them), and the IdP's later word (disabling them) never reached either."""
    owner = register_user(client)
    org = _org(client, owner, SLUGS["linked-later"], idp, role_mapping=None, allow_password_login=False)
    registered = client.post(
        "/api/v1/auth/register", json={"email": LATECOMER["email"], "password": PASSWORD}
    ).json
    latecomer = TestUser(
        registered["user"]["id"],
        LATECOMER["email"],
        registered["access_token"],
        registered["refresh_token"],
        registered["user"]["personal_organization_id"],
    )
    add_member(client, owner, org["id"], latecomer, "viewer")
    by_password = client.post(
        "/api/v1/auth/login", json={"email": LATECOMER["email"], "password": PASSWORD}
    ).json
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=latecomer.headers(org["id"])).json[
        "key"
    ]
    assert _works(client, by_password["access_token"]) and _works(client, key)

    offered = sso_sign_in(live_server, org["slug"], LATECOMER).json()
    linked = requests.post(
        offered["link_url"], json={"link_token": offered["link_token"], "password": PASSWORD}, timeout=10
    )
    assert linked.status_code == 200, linked.text

    assert not _works(client, by_password["access_token"]) and not _works(client, latecomer.token)
    assert not _refreshes(client, by_password["refresh_token"])
    assert not _works(client, key)
    assert _works(client, linked.json()["access_token"])  # the sign-in the policy asks for


def test_migration_0020_hands_the_role_to_the_idp_only_where_it_made_the_membership(tmp_path):
    """SSO-managed memberships of password-less accounts (all made by their IdP) follow it; one of an
    account with a password may have been invited first and keeps its role. Existing SSO sessions count
    their lifetime from their start."""
    import sqlite3

    path = tmp_path / "sso.db"
    upgrade = sqlite_migrator(path)
    upgrade("0019_credential_host")
    with sqlite3.connect(path) as db:
        insert_organization(db)
        for user_id, password_hash in (("jit", None), ("linked", "hash"), ("plain", None)):
            db.execute(
                "INSERT INTO users (id, email, name, password_hash, onboarding_completed, created_at,"
                " updated_at) VALUES (?, ?, '', ?, 0, '2026-12-06', '2026-12-06')",
                (user_id, f"{user_id}@example.test", password_hash),
            )
        for user_id, sso_managed in (("jit", 1), ("linked", 1), ("plain", 0)):
            db.execute(
                "INSERT INTO memberships (id, organization_id, user_id, role, sso_managed, created_at)"
                " VALUES (?, 'o', ?, 'editor', ?, '2026-12-06')",
                (f"m-{user_id}", user_id, sso_managed),
            )
        db.execute(
            "INSERT INTO auth_sessions (id, user_id, refresh_jti, organization_id, created_at)"
            " VALUES ('bound', 'jit', 'r1', 'o', '2026-12-06 10:00:00'),"
            " ('unbound', 'plain', 'r2', NULL, '2026-12-06 11:00:00')"
        )
    upgrade("0020_sec_sso8")
    with sqlite3.connect(path) as db:
        follows = dict(db.execute("SELECT user_id, role_from_idp FROM memberships"))
        signed_in = dict(db.execute("SELECT id, sso_signed_in_at FROM auth_sessions"))
    assert follows == {"jit": 1, "linked": 0, "plain": 0}
    assert signed_in == {"bound": "2026-12-06 10:00:00", "unbound": None}

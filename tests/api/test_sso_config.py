"""SSO configuration: admin-only writes, a write-only encrypted secret, validation, the public check,
and password login refused where an organization requires SSO (admins keep it)."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from common.db import session_scope
from common.models import AuditLog, Membership
from common.models.sso import SsoConfig
from common.security import decrypt_secret
from common.sso import mapped_role
from tests.helpers import PASSWORD, add_member

SECRET = "s3cr3t-client-secret-value"


def config_body(**overrides) -> dict:
    body = {
        "issuer": "https://idp.example.com",
        "client_id": "trusera-web",
        "client_secret": SECRET,
        "scopes": ["openid", "email", "groups"],
        "allowed_domains": ["Example.com"],
        "default_role": "viewer",
        "role_mapping": {"claim": "groups", "values": {"platform-admins": "admin", "eng": "editor"}},
        "allow_password_login": True,
    }
    body.update(overrides)
    return body


def team_org(client, owner) -> dict:
    response = client.post(
        "/api/v1/organizations", json={"name": f"Team {secrets.token_hex(3)}"}, headers=owner.headers()
    )
    assert response.status_code == 201
    return response.json


def configure(client, owner, org, **overrides):
    return client.put(
        f"/api/v1/organizations/{org['id']}/sso", json=config_body(**overrides), headers=owner.headers()
    )


def test_configuration_is_stored_with_the_secret_encrypted_and_never_returned(client, make_user):
    owner = make_user()
    org = team_org(client, owner)
    created = configure(client, owner, org)
    assert created.status_code == 201, created.json
    body = created.json
    assert SECRET not in created.get_data(as_text=True)
    assert "client_secret" not in body and body["client_secret_set"] is True
    assert body["enabled"] is False
    assert body["allowed_domains"] == ["example.com"]
    assert body["role_mapping"] == {
        "claim": "groups",
        "values": {"platform-admins": "admin", "eng": "editor"},
    }
    assert body["redirect_uri"].endswith(f"/api/v1/sso/{org['slug']}/callback")
    with session_scope() as session:
        row = session.scalar(select(SsoConfig).where(SsoConfig.organization_id == org["id"]))
        assert SECRET not in row.client_secret_encrypted
        assert decrypt_secret(row.client_secret_encrypted) == SECRET
    fetched = client.get(f"/api/v1/organizations/{org['id']}/sso", headers=owner.headers())
    assert fetched.status_code == 200
    assert SECRET not in fetched.get_data(as_text=True)
    assert fetched.json["client_id"] == "trusera-web"


def test_update_without_secret_keeps_the_stored_one_and_bumps_the_version(client, make_user):
    owner = make_user()
    org = team_org(client, owner)
    first = configure(client, owner, org).json
    body = config_body(client_id="renamed", role_mapping=None)
    del body["client_secret"]
    updated = client.put(f"/api/v1/organizations/{org['id']}/sso", json=body, headers=owner.headers())
    assert updated.status_code == 200, updated.json
    assert updated.json["client_id"] == "renamed" and updated.json["role_mapping"] is None
    assert updated.json["version"] == first["version"] + 1
    with session_scope() as session:
        row = session.scalar(select(SsoConfig).where(SsoConfig.organization_id == org["id"]))
        assert decrypt_secret(row.client_secret_encrypted) == SECRET


def test_first_configuration_needs_a_secret(client, make_user):
    owner = make_user()
    org = team_org(client, owner)
    body = config_body()
    del body["client_secret"]
    response = client.put(f"/api/v1/organizations/{org['id']}/sso", json=body, headers=owner.headers())
    assert response.status_code == 422
    assert "client_secret" in str(response.json["errors"])


def test_invalid_configurations_are_422(client, make_user):
    owner = make_user()
    org = team_org(client, owner)
    cases = {
        "issuer": {"issuer": "http://idp.example.com"},  # plain http outside the allowlist
        "scopes": {"scopes": ["email", "profile"]},
        "allowed_domains": {"allowed_domains": ["not a domain"]},
        "default_role": {"default_role": "owner"},
        "role_mapping": {"role_mapping": {"claim": "groups", "values": {"x": "superuser"}}},
    }
    for field, override in cases.items():
        response = configure(client, owner, org, **override)
        assert response.status_code == 422, (field, response.json)
        assert field in str(response.json["errors"]), (field, response.json)
    assert configure(client, owner, org, allowed_domains=[]).status_code == 422
    assert configure(client, owner, org, surprise=True).status_code == 422
    assert client.get(f"/api/v1/organizations/{org['id']}/sso", headers=owner.headers()).status_code == 404


def test_loopback_issuer_is_accepted_because_it_is_allowlisted(client, make_user):
    owner = make_user()
    org = team_org(client, owner)
    assert configure(client, owner, org, issuer="http://127.0.0.1:9999").status_code == 201


def test_personal_workspace_cannot_have_sso(client, make_user):
    owner = make_user()
    response = client.put(
        f"/api/v1/organizations/{owner.org_id}/sso", json=config_body(), headers=owner.headers()
    )
    assert response.status_code == 409


def test_only_admins_write_viewers_read_and_other_organizations_see_nothing(client, make_user):
    owner, editor, viewer, stranger = make_user(), make_user(), make_user(), make_user()
    org = team_org(client, owner)
    add_member(client, owner, org["id"], editor, "editor")
    add_member(client, owner, org["id"], viewer, "viewer")
    url = f"/api/v1/organizations/{org['id']}/sso"
    assert client.put(url, json=config_body(), headers=editor.headers()).status_code == 403
    assert configure(client, owner, org).status_code == 201
    assert client.get(url, headers=viewer.headers()).status_code == 200
    assert client.post(f"{url}/toggle", json={"enabled": True}, headers=editor.headers()).status_code == 403
    assert client.delete(url, headers=editor.headers()).status_code == 403
    assert client.get(url, headers=stranger.headers()).status_code == 404
    assert client.delete(url, headers=stranger.headers()).status_code == 404


def test_toggle_and_delete_are_audited_and_reflected_by_the_public_check(client, make_user):
    owner = make_user()
    org = team_org(client, owner)
    check_url = f"/api/v1/sso/{org['slug']}/check"
    assert client.get(check_url).status_code == 404
    configure(client, owner, org, allow_password_login=False)
    assert client.get(check_url).status_code == 404
    toggled = client.post(
        f"/api/v1/organizations/{org['id']}/sso/toggle", json={"enabled": True}, headers=owner.headers()
    )
    assert toggled.status_code == 200 and toggled.json["enabled"] is True
    check = client.get(check_url)
    assert check.status_code == 200
    assert check.json["enabled"] is True and check.json["password_login_allowed"] is False
    assert check.json["login_url"].endswith(f"/api/v1/sso/{org['slug']}/login")
    assert "client" not in check.get_data(as_text=True)
    assert (
        client.post(
            f"/api/v1/organizations/{org['id']}/sso/toggle", json={}, headers=owner.headers()
        ).status_code
        == 422
    )
    assert client.delete(f"/api/v1/organizations/{org['id']}/sso", headers=owner.headers()).status_code == 204
    assert client.get(check_url).status_code == 404
    assert client.delete(f"/api/v1/organizations/{org['id']}/sso", headers=owner.headers()).status_code == 404
    with session_scope() as session:
        actions = set(session.scalars(select(AuditLog.action).where(AuditLog.organization_id == org["id"])))
    assert {"sso.configure", "sso.enable", "sso.delete"} <= actions


def test_check_of_an_organization_without_sso_answers_as_an_unknown_slug(client, make_user):
    """Nobody learns from the public check that a slug's organization exists, nor its name, unless it signs
    in through its provider (its login page needs both)."""
    owner = make_user()
    org = team_org(client, owner)
    configure(client, owner, org)
    without_sso = client.get(f"/api/v1/sso/{org['slug']}/check")
    unknown = client.get(f"/api/v1/sso/nobody-{secrets.token_hex(4)}/check")
    assert without_sso.status_code == unknown.status_code == 404
    assert without_sso.get_data() == unknown.get_data()
    assert org["name"] not in without_sso.get_data(as_text=True)


def test_login_callback_and_link_of_an_organization_without_sso_answer_as_an_unknown_slug(client, make_user):
    """The check no longer tells a slug's organization exists; the other public SSO routes did (403 "not
    enabled for this organization" against 404 for a slug nobody has)."""
    owner = make_user()
    org = team_org(client, owner)
    configure(client, owner, org)
    unknown = f"nobody-{secrets.token_hex(4)}"
    link = {"link_token": "t", "password": "p"}
    answers = {
        slug: (
            client.get(f"/api/v1/sso/{slug}/login"),
            client.get(f"/api/v1/sso/{slug}/callback?state=s&code=c"),
            client.post(f"/api/v1/sso/{slug}/link", json=link),
        )
        for slug in (org["slug"], unknown)
    }
    for without_sso, nobody in zip(answers[org["slug"]], answers[unknown], strict=True):
        assert without_sso.status_code == nobody.status_code == 404
        assert without_sso.get_data() == nobody.get_data()
        assert without_sso.headers.get("Set-Cookie") == nobody.headers.get("Set-Cookie")


def test_check_of_an_unknown_slug_is_404_and_audited(client):
    slug = f"nobody-{secrets.token_hex(4)}"
    response = client.get(f"/api/v1/sso/{slug}/check")
    assert response.status_code == 404
    assert response.json["code"] == 404 and response.json["message"]
    with session_scope() as session:
        row = session.scalar(select(AuditLog).where(AuditLog.target_id == slug))
    assert row.action == "sso.check_failed" and row.details["reason"] == "unknown_organization"


def _password_login(client, user):
    return client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})


def test_password_login_is_refused_to_members_when_sso_is_required_but_admins_keep_it(client, make_user):
    owner, member = make_user(), make_user()
    org = team_org(client, owner)
    add_member(client, owner, org["id"], member, "editor")
    configure(client, owner, org, allow_password_login=False)
    # configured but not enabled: nothing changes yet
    assert _password_login(client, member).status_code == 200
    client.post(
        f"/api/v1/organizations/{org['id']}/sso/toggle", json={"enabled": True}, headers=owner.headers()
    )
    # a member who was merely added keeps password login: the organization governs its own accounts only
    assert _password_login(client, member).status_code == 200
    with session_scope() as session:  # as if the organization's IdP had linked the account
        session.scalar(
            select(Membership).where(Membership.organization_id == org["id"], Membership.user_id == member.id)
        ).sso_managed = True
    refused = _password_login(client, member)
    assert refused.status_code == 403
    assert org["slug"] in refused.json["message"]
    assert _password_login(client, owner).status_code == 200  # the break-glass admin
    # a wrong password still reads as wrong credentials, not as an SSO hint
    wrong = client.post("/api/v1/auth/login", json={"email": member.email, "password": "not-the-password"})
    assert wrong.status_code == 401
    with session_scope() as session:
        refusal = session.scalar(
            select(AuditLog).where(
                AuditLog.action == "auth.login_refused", AuditLog.actor_user_id == member.id
            )
        )
    assert refusal.organization_id == org["id"] and refusal.status_code == 403
    configure(client, owner, org, allow_password_login=True)
    assert _password_login(client, member).status_code == 200


def test_the_highest_mapped_role_wins_and_unmapped_values_fall_back_to_the_default():
    config = SsoConfig(
        default_role="analyst",
        role_claim="groups",
        role_values={"eng": "editor", "ops": "admin", "qa": "viewer"},
    )
    assert mapped_role({"groups": ["qa", "ops", "eng"]}, config) == "admin"
    assert mapped_role({"groups": "qa"}, config) == "viewer"
    assert mapped_role({"groups": ["sales"]}, config) == "analyst"
    assert mapped_role({}, config) == "analyst"
    assert (
        mapped_role({"groups": ["ops"]}, SsoConfig(default_role="viewer", role_claim=None, role_values={}))
        == "viewer"
    )

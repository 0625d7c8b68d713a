"""A session an organization's single sign-on started acts in that organization only, not on the account.

The attacker runs (or has taken over) the identity provider of an organization the victim belongs to, and
the victim linked their own password account to it. The provider signs in as the victim whenever it likes,
in a session bound to its organization. Before, that session created organizations in the victim's name
(each counted against the victim's ``ORGANIZATIONS_PER_USER``, so the victim could create none) and
renamed the victim, the name every other organization's members list shows: an API key, the other
credential bound to one organization, was refused both (``test_api_key_scope.py``).
"""

from __future__ import annotations

from common.models import User
from common.models.base import utcnow
from tests.helpers import add_member
from web.core.database import db
from web.core.tokens import start_session


def _bound_session(app, user_id: str, org_id: str) -> dict:
    """What the organization's IdP hands out for the user: an SSO session bound to ``org_id``."""
    with app.app_context():
        tokens = start_session(db().get(User, user_id), organization_id=org_id, sso_signed_in_at=utcnow())
        db().commit()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _made_by_the_idp(app, user_id: str) -> None:
    """An account the organization's IdP provisioned: it has no password, only that IdP's sessions."""
    with app.app_context():
        db().get(User, user_id).password_hash = None
        db().commit()


def test_an_sso_session_creates_no_organization_and_renames_nobody(app, client, make_user):
    admin, victim = make_user(), make_user(name="Dana Original")
    corp = client.post("/api/v1/organizations", json={"name": "idp corp"}, headers=admin.headers()).json
    add_member(client, admin, corp["id"], victim, "viewer")
    bound = _bound_session(app, victim.id, corp["id"])
    assert client.get("/api/v1/scans", headers=bound).status_code == 200  # it acts in its organization

    created = client.post("/api/v1/organizations", json={"name": "made by the idp"}, headers=bound)
    renamed = client.put("/api/v1/auth/profile", json={"name": "Security Team"}, headers=bound)

    assert created.status_code == 403 and renamed.status_code == 403
    names = [o["name"] for o in client.get("/api/v1/organizations", headers=victim.headers()).json["items"]]
    assert "made by the idp" not in names
    assert client.get("/api/v1/auth/me", headers=victim.headers()).json["name"] == "Dana Original"


def test_an_account_its_idp_made_keeps_its_name_in_its_own_hands(app, client, make_user):
    """An account with no password is the IdP's own: its SSO session is the only one it has, and its name
    shows only in that organization, so the session may still rename it."""
    admin, member = make_user(), make_user(name="Made By Idp")
    corp = client.post("/api/v1/organizations", json={"name": "idp own"}, headers=admin.headers()).json
    add_member(client, admin, corp["id"], member, "viewer")
    _made_by_the_idp(app, member.id)
    bound = _bound_session(app, member.id, corp["id"])
    renamed = client.put("/api/v1/auth/profile", json={"name": "Renamed Here"}, headers=bound)
    assert renamed.status_code == 200 and renamed.json["name"] == "Renamed Here"


def test_an_sso_admin_session_does_not_remove_the_password_admins_nor_delete_the_organization(
    app, client, make_user
):
    """The provider maps someone to admin (or signs in as an admin who linked their account): its session
    removed the admins who sign in with a password, the organization's way back in when the provider
    breaks, and could delete the organization."""
    keeper, idp_admin, idp_made = make_user(), make_user(), make_user()
    corp = client.post("/api/v1/organizations", json={"name": "break glass"}, headers=keeper.headers()).json
    add_member(client, keeper, corp["id"], idp_admin, "admin")
    add_member(client, keeper, corp["id"], idp_made, "admin")
    _made_by_the_idp(app, idp_made.id)
    bound = _bound_session(app, idp_admin.id, corp["id"])
    members = f"/api/v1/organizations/{corp['id']}/members"

    assert client.delete(f"{members}/{keeper.id}", headers=bound).status_code == 403
    assert client.delete(f"/api/v1/organizations/{corp['id']}", headers=bound).status_code == 403
    assert client.delete(f"{members}/{idp_made.id}", headers=bound).status_code == 204  # the provider's own
    assert client.delete(f"{members}/{idp_admin.id}", headers=keeper.headers()).status_code == 204
    assert client.get(f"/api/v1/organizations/{corp['id']}", headers=keeper.headers()).status_code == 200


def test_an_sso_session_does_not_make_a_password_admin_leave(app, client, make_user):
    """Removing a password admin is refused to the provider's sessions, but a provider that signs in as an
    admin who linked their account made that admin leave (``DELETE /organizations/:id/membership``): the
    same admin gone, the organization's way back in with them."""
    keeper, idp_made = make_user(), make_user()
    corp = client.post("/api/v1/organizations", json={"name": "linked"}, headers=keeper.headers()).json
    add_member(client, keeper, corp["id"], idp_made, "admin")
    _made_by_the_idp(app, idp_made.id)
    as_keeper = _bound_session(app, keeper.id, corp["id"])
    membership = f"/api/v1/organizations/{corp['id']}/membership"

    assert client.delete(membership, headers=as_keeper).status_code == 403
    assert client.get(f"/api/v1/organizations/{corp['id']}", headers=keeper.headers()).status_code == 200
    assert client.delete(membership, headers=_bound_session(app, idp_made.id, corp["id"])).status_code == 204

"""The stored OIDC client secret goes to the identity provider it was given for only.

The attacker is an admin of the organization (one of several) who cannot read the client secret: it is
write-only. Before, they changed the issuer to a provider of their own without giving a secret, the
stored one was kept, and the next sign-in sent it (HTTP basic, to the new provider's token endpoint).
"""

from __future__ import annotations

import base64
import secrets
from urllib.parse import parse_qs, urlsplit

from tests.helpers import add_member, register_user
from tests.integration.fake_idp import FakeIdentityProvider
from tests.sso_support import put_config, toggle

CLIENT = {
    "client_id": "platform",
    "client_secret": f"idp-secret-{secrets.token_hex(8)}",
    "role_mapping": None,
}


def _secrets_sent(idp: FakeIdentityProvider) -> list[str]:
    sent = []
    for request in idp.token_requests:
        header = request["authorization"] or ""
        if header.startswith("Basic "):
            sent.append(base64.b64decode(header[6:]).decode().partition(":")[2])
        sent.append(request["form"].get("client_secret", ""))
    return sent


def test_a_new_issuer_takes_a_new_client_secret(client):
    owner, rogue = register_user(client), register_user(client)
    org = client.post("/api/v1/organizations", json={"name": "Corp"}, headers=owner.headers()).json
    add_member(client, owner, org["id"], rogue, "admin")
    with FakeIdentityProvider() as corporate, FakeIdentityProvider() as attackers:
        put_config(client, owner, org, corporate.issuer, allowed_domains=["fake.test"], **CLIENT)
        toggle(client, owner, org, True)
        moved = client.put(
            f"/api/v1/organizations/{org['id']}/sso",
            json={"issuer": attackers.issuer, "client_id": "platform", "allowed_domains": ["fake.test"]},
            headers=rogue.headers(org["id"]),
        )
        started = client.get(f"/api/v1/sso/{org['slug']}/login")
        query = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["Location"]).query).items()}
        client.get(
            f"/api/v1/sso/{org['slug']}/callback", query_string={"code": "c0de", "state": query["state"]}
        )
        # The same change with a secret of the new provider's is an ordinary reconfiguration.
        reconfigured = client.put(
            f"/api/v1/organizations/{org['id']}/sso",
            json={
                "issuer": attackers.issuer,
                "client_id": "platform",
                "client_secret": "the-attackers-own-secret",
                "allowed_domains": ["fake.test"],
            },
            headers=rogue.headers(org["id"]),
        )
    assert moved.status_code == 422 and "client_secret" in str(moved.json["errors"]), moved.json
    assert CLIENT["client_secret"] not in _secrets_sent(attackers)
    assert reconfigured.status_code == 200, reconfigured.json

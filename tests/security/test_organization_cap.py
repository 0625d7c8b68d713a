"""One user cannot multiply the per-organization quotas and rate limits by creating organizations without
end: past ORGANIZATIONS_PER_USER team organizations held as admin, creation is refused."""

from __future__ import annotations

import dataclasses

from common import config
from tests.helpers import register_user


def _create(client, user, name: str):
    return client.post("/api/v1/organizations", json={"name": name}, headers=user.headers())


def test_a_user_cannot_create_organizations_past_the_cap(client, monkeypatch):
    monkeypatch.setattr(
        config, "_settings", dataclasses.replace(config.get_settings(), organizations_per_user=2)
    )
    hoarder = register_user(client)
    first = _create(client, hoarder, "quota one")
    assert first.status_code == 201, first.json
    assert _create(client, hoarder, "quota two").status_code == 201

    refused = _create(client, hoarder, "quota three")

    assert refused.status_code == 409, refused.json
    assert "limit per user (2)" in refused.json["message"]
    assert len(client.get("/api/v1/organizations", headers=hoarder.headers()).json["items"]) == 3
    # the cap counts what the user holds now: deleting one makes room, and others are not affected
    deleted = client.delete(f"/api/v1/organizations/{first.json['id']}", headers=hoarder.headers())
    assert deleted.status_code == 204
    assert _create(client, hoarder, "quota three").status_code == 201
    assert _create(client, register_user(client), "someone else's").status_code == 201

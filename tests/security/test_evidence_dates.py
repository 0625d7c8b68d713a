"""An evidence's expiry that UTC cannot hold is refused, not stored.

``expires_at`` took any aware date-time: ``9999-12-31T23:59:59-14:00`` passed "in the future", and
PostgreSQL stored it as 10000-01-01 13:59:59 UTC, which Python's ``datetime`` cannot hold. Every read of
the row failed from then on: the create answered 500 after its commit, and the organization's evidence
list, the row itself and its deletion answered 500, for every member, with no way to remove it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.helpers import insert_organization, postgres_migrator

EVIDENCE = "/api/v1/compliance/evidence"
GOOD = {"framework_id": "eu-ai-act", "control_id": "ART12", "note": "Logs are kept"}


@pytest.mark.parametrize("expires_at", ["9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59-23:59"])
def test_an_expiry_past_the_year_9999_in_utc_is_a_422_and_nothing_is_stored(client, make_user, expires_at):
    editor = make_user()
    created = client.post(EVIDENCE, json={**GOOD, "expires_at": expires_at}, headers=editor.headers())
    assert created.status_code == 422, created.json
    assert "expires_at" in created.json["errors"]
    listed = client.get(EVIDENCE, headers=editor.headers())
    assert listed.status_code == 200 and listed.json["total"] == 0, listed.json


def test_the_latest_expiry_utc_holds_is_kept_as_utc(client, make_user):
    editor = make_user()
    body = {**GOOD, "expires_at": "9999-12-31T10:00:00-13:00"}
    created = client.post(EVIDENCE, json=body, headers=editor.headers())
    assert created.status_code == 201, created.json
    assert created.json["expires_at"] == "9999-12-31T23:00:00.000Z"
    assert client.get(EVIDENCE, headers=editor.headers()).json["total"] == 1
    deleted = client.delete(f"{EVIDENCE}/{created.json['id']}", headers=editor.headers())
    assert deleted.status_code == 204


def test_migration_0032_brings_evidence_stored_past_the_year_9999_back_within_it_on_postgresql():
    import psycopg

    with postgres_migrator() as (upgrade, url):
        upgrade("0031_sec_baseline33")
        with psycopg.connect(url, autocommit=True) as db:
            insert_organization(db)
            for evidence_id, expires_at in [("past", "9999-12-31T23:59:59-14:00"), ("kept", "2030-01-01Z")]:
                db.execute(
                    "INSERT INTO control_evidence (id, organization_id, framework_id, control_id, note,"
                    " attested_by_email, attested_at, expires_at) VALUES (%s, 'o', 'eu-ai-act', 'ART12',"
                    " 'n', 'a@example.test', now(), %s::timestamptz)",
                    (evidence_id, expires_at),
                )
        upgrade("0032_review_sec34b")
        with psycopg.connect(url) as db:
            rows = dict(db.execute("SELECT id, expires_at FROM control_evidence").fetchall())
    assert rows["past"] == datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert rows["kept"] == datetime(2030, 1, 1, tzinfo=UTC)

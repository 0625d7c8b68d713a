"""The dashboard as ``make run`` serves it, on SQLite: the statement-by-statement path gives the very
numbers PostgreSQL's one statement gives (``tests/api/test_dashboard.py``), from the scans' components
before they are rolled up and from their rollups after."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session

from common.db import Base
from common.models import Organization, Scan
from common.models.base import utcnow
from common.models.scans import ScanRollup
from common.rollups import roll_up_organization
from tests.dashboard_data import (
    assert_known_numbers,
    assert_targets_of_every_kind,
    seed_known_data,
    seed_targets_of_every_kind,
)
from web.api.dashboard import document

ORGANIZATION, OTHER = "org-known", "org-other"


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    event.listen(engine, "connect", lambda connection, _record: connection.execute("PRAGMA foreign_keys=ON"))
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session


def test_known_numbers_on_sqlite_from_components_then_from_rollups(session):
    session.add_all(Organization(id=org_id, name=org_id, slug=org_id) for org_id in (ORGANIZATION, OTHER))
    seed_known_data(session, ORGANIZATION, OTHER)
    session.commit()
    connection = session.connection()
    from_components = document(connection, ORGANIZATION, utcnow().date())
    assert_known_numbers(from_components, ORGANIZATION)

    assert roll_up_organization(connection, ORGANIZATION) > 0
    assert roll_up_organization(connection, ORGANIZATION) == 0
    assert session.scalar(select(func.count()).select_from(ScanRollup)) > 0
    assert document(connection, ORGANIZATION, utcnow().date()) == from_components


def test_each_kind_of_target_is_its_own_target_on_sqlite(session):
    """The same target keys as PostgreSQL's (``tests/api/test_dashboard.py``), and the same counts."""
    session.add(Organization(id=ORGANIZATION, name=ORGANIZATION, slug=ORGANIZATION))
    ids = seed_targets_of_every_kind(session, ORGANIZATION)
    session.commit()
    keys = dict(session.execute(select(Scan.id, Scan.target_key)).all())
    assert {keys[scan_id]: scan_id for scan_id in ids.values()} == ids
    connection = session.connection()
    assert_targets_of_every_kind(document(connection, ORGANIZATION, utcnow().date()))
    roll_up_organization(connection, ORGANIZATION)
    assert_targets_of_every_kind(document(connection, ORGANIZATION, utcnow().date()))

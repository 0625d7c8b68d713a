"""``apply_filters`` and ``matching``: the one way a list endpoint narrows its list (SQLite in memory)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Boolean, DateTime, Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from web.core.filtering import (
    Filter,
    apply_filters,
    at_least,
    at_most,
    contains_text,
    equal_columns,
    equals,
    is_,
    matching,
    starts_with,
)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    enabled: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


ROWS = [
    Item(id=1, name="openai_client", kind="model", enabled=True, score=90, created_at=datetime(2026, 1, 1)),
    Item(id=2, name="openai%gateway", kind="model", enabled=False, score=40, created_at=datetime(2026, 2, 1)),
    Item(id=3, name="langchain", kind="framework", enabled=True, score=10, created_at=datetime(2026, 3, 1)),
    Item(id=4, name="openaixclient", kind="tool", enabled=False, score=70, created_at=datetime(2026, 4, 1)),
]

SPEC = {
    **equal_columns("kind"),
    "enabled": is_(),
    "prefix": starts_with("name", convert=str.lower),
    "search": contains_text("name"),
    "min_score": at_least("score"),
    "max_score": at_most("score"),
    "since": at_least("created_at"),
    "until": at_most("created_at"),
    "item": equals("id", convert=int),
    "top": Filter(lambda score, top: score >= 80 if top else score < 80, "score"),
}


@pytest.fixture(scope="module")
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(ROWS)
        session.commit()
        yield session


def ids(session, args, spec=SPEC) -> list[int]:
    query = apply_filters(select(Item), Item, args, spec).order_by(Item.id)
    return [item.id for item in session.scalars(query)]


def test_no_argument_narrows_nothing(session):
    assert ids(session, {}) == [1, 2, 3, 4]
    assert ids(session, {"page": 2, "per_page": 10}) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"kind": "model"}, [1, 2]),
        ({"kind": "nothing"}, []),
        ({"enabled": True}, [1, 3]),
        ({"enabled": False}, [2, 4]),
        ({"min_score": 40}, [1, 2, 4]),
        ({"max_score": 40}, [2, 3]),
        ({"min_score": 20, "max_score": 80}, [2, 4]),
        ({"since": datetime(2026, 2, 1)}, [2, 3, 4]),
        ({"until": datetime(2026, 2, 1)}, [1, 2]),
        ({"since": datetime(2026, 2, 1), "until": datetime(2026, 3, 1)}, [2, 3]),
        ({"item": "3"}, [3]),
        ({"top": True}, [1]),
        ({"top": False}, [2, 3, 4]),
        ({"kind": "model", "enabled": True}, [1]),
    ],
)
def test_each_given_argument_narrows_by_its_declared_rule(session, args, expected):
    assert ids(session, args) == expected


def test_a_search_is_case_insensitive_and_matches_anywhere(session):
    assert ids(session, {"search": "OPENAI"}) == [1, 2, 4]
    assert ids(session, {"search": "chain"}) == [3]


def test_wildcards_in_a_text_filter_are_matched_literally(session):
    assert ids(session, {"search": "%"}) == [2]
    assert ids(session, {"search": "openai_"}) == [1]
    assert ids(session, {"prefix": "openai_"}) == [1]
    assert ids(session, {"prefix": "OPENAI%"}) == [2]


def test_a_query_no_filter_applies_to_comes_back_unchanged():
    """Callers may keep a prebuilt statement for the unfiltered list and recognise it by identity."""
    query = select(Item)
    assert apply_filters(query, Item, {"page": 1, "per_page": 20}, SPEC) is query
    assert apply_filters(query, Item, {"kind": "model"}, SPEC) is not query


def test_arguments_the_spec_does_not_declare_are_ignored(session):
    assert ids(session, {"unknown": "x", "page": 1}) == [1, 2, 3, 4]
    assert ids(session, {"kind": "model"}, spec={}) == [1, 2, 3, 4]


def test_matching_applies_the_same_rule_to_lists_in_memory():
    items = [{"id": 1, "active": True, "severity": "high"}, {"id": 2, "active": False}]
    assert matching(items, {}, ["active"]) == items
    assert matching(items, {"active": False}, ["active"]) == [items[1]]
    assert matching(items, {"severity": "high", "page": 1}, ["severity"]) == [items[0]]
    assert matching(items, {"severity": "low"}, ["severity"]) == []
    assert matching(items, {"active": True}, ["severity"]) == items

"""Fixtures for the meetings tests (the root conftest gives clock, sessions, stack, pg_url …)."""
from __future__ import annotations

import pytest

from meeting_builders import Council
from domain.db import make_engine, make_session_factory


@pytest.fixture
def db(sessions):
    with sessions() as session:
        yield session


@pytest.fixture
def council(db, clock) -> Council:
    return Council.build(db, clock.now())


@pytest.fixture
def any_sessions(any_db_url):
    """A session factory on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""
    engine = make_engine(any_db_url)
    yield make_session_factory(engine)
    engine.dispose()

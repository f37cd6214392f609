"""The dispatcher claims on a connection of its own: on PostgreSQL pinned and in autocommit, on
SQLite with no WAL checkpoint on its commits. Its settings must never reach other work, and a
connection lost with the server is replaced."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.dispatcher import Dispatcher
from domain.clock import FixedClock
from domain.db import make_engine, make_session_factory
from migrations import load_all_models
from tests.queue.conftest import BASE, fill_outbox

NOW = BASE + timedelta(seconds=1)


@pytest.fixture
def engine(pg_url):
    engine = make_engine(pg_url, pool_size=2, max_overflow=0)
    with engine.begin() as connection:
        fill_outbox(connection, 40, 10)
    yield engine
    engine.dispose()


def planner_settings(connection) -> tuple:
    return tuple(connection.execute(text(
        "SELECT current_setting('enable_sort'), current_setting('enable_seqscan'), "
        "current_setting('enable_bitmapscan')")).one())


def test_the_pins_stay_on_the_dispatchers_connection(engine):
    dispatcher = Dispatcher(make_session_factory(engine), line_api=None, clock=FixedClock(NOW), concurrency=4)
    assert len(dispatcher._claim(NOW, 4)) == 4
    # Meanwhile the pool's other connection plans as usual, in transactions as usual.
    with engine.connect() as connection:
        assert planner_settings(connection) == ("on", "on", "on")
    dispatcher.close()
    # Closed, not given back: both connections the pool hands out now are unpinned.
    with engine.connect() as first, engine.connect() as second:
        assert planner_settings(first) == planner_settings(second) == ("on", "on", "on")


def test_a_claim_connection_lost_with_the_server_is_replaced(engine):
    dispatcher = Dispatcher(make_session_factory(engine), line_api=None, clock=FixedClock(NOW), concurrency=4)
    assert len(dispatcher._claim(NOW, 4)) == 4
    with engine.connect() as admin:
        pid = dispatcher._claim_connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(Exception):
        dispatcher._claim(NOW, 4)
    # The next round claims on a new connection: the other users' heads.
    again = dispatcher._claim(NOW, 4)
    assert len(again) == 4
    dispatcher.close()


def autocheckpoint(connection) -> int:
    # On the driver's connection: through SQLAlchemy's, the read would begin a write transaction.
    return connection.connection.driver_connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0]


def test_sqlite_claims_leave_the_checkpoints_to_other_commits(sqlite_url):
    engine = make_engine(sqlite_url)
    with engine.begin() as connection:
        fill_outbox(connection, 40, 10)
    dispatcher = Dispatcher(make_session_factory(engine), line_api=None, clock=FixedClock(NOW), concurrency=4)
    first = dispatcher._claim(NOW, 4)
    again = dispatcher._claim(NOW, 4)
    assert len(first) == len(again) == 4 and not {c.row.id for c in first} & {c.row.id for c in again}
    assert autocheckpoint(dispatcher._claim_connection) == 0
    # The pool's connections, which record outcomes, checkpoint as SQLite does by default.
    with engine.connect() as other:
        assert autocheckpoint(other) == 1000
    dispatcher.close()
    with engine.connect() as first_out, engine.connect() as second_out:
        assert autocheckpoint(first_out) == autocheckpoint(second_out) == 1000
    engine.dispose()


def test_an_in_memory_database_claims_through_the_session():
    engine = make_engine("sqlite://")
    load_all_models().metadata.create_all(engine)
    with engine.begin() as connection:
        fill_outbox(connection, 8, 4)
    dispatcher = Dispatcher(make_session_factory(engine), line_api=None, clock=FixedClock(NOW), concurrency=4)
    assert len(dispatcher._claim(NOW, 4)) == 4
    assert dispatcher._claim_connection is None
    engine.dispose()

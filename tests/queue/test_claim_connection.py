"""PostgreSQL: the dispatcher claims on a connection of its own, pinned and in autocommit. Its
settings must never reach other work, and a connection lost with the server is replaced."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.dispatcher import Dispatcher
from domain.clock import FixedClock
from domain.db import make_engine, make_session_factory
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

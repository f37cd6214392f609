"""Concurrent webhook requests share commits, and each still learns its own outcome."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from domain.db import make_engine
from bot.inbox import GroupCommit, InboundEvent
from tests.test_worker import text_event


def test_forty_concurrent_requests_each_get_their_count_and_every_event_is_stored(sqlite_url, clock):
    engine = make_engine(sqlite_url)
    writer = GroupCommit(engine, clock)
    results: dict[int, int] = {}

    def request(n: int) -> None:
        # Every other request repeats the previous one's event: a redelivery stores nothing.
        results[n] = writer.store("Udest", [text_event(n - n % 2)])

    threads = [threading.Thread(target=request, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(InboundEvent)).scalar() == 20
    assert sum(results.values()) == 20 and sorted(set(results.values())) == [0, 1]
    engine.dispose()


def test_a_failed_commit_fails_the_request_and_the_writer_goes_on(sqlite_url, clock):
    engine = make_engine(sqlite_url)
    writer = GroupCommit(engine, clock)
    broken = text_event(1)
    del broken["webhookEventId"]
    with pytest.raises(KeyError):
        writer.store("Udest", [broken])
    assert writer.store("Udest", [text_event(2)]) == 1
    engine.dispose()


@pytest.mark.postgres
def test_a_connection_the_server_closed_is_replaced_without_losing_the_request(pg_url, clock):
    from sqlalchemy import text

    from tests.test_worker import text_event as event

    engine = make_engine(pg_url, pool_size=1)
    writer = GroupCommit(engine, clock)
    assert writer.store("Udest", [event(1)]) == 1
    database = pg_url.rsplit("/", 1)[1]
    admin = make_engine(pg_url)
    with admin.connect() as conn:  # what a server restart does to the pooled connection
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database})
        conn.commit()
    assert writer.store("Udest", [event(2)]) == 1
    admin.dispose()
    engine.dispose()

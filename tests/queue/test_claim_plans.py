"""Issue 16: the claims read only their indexes, whatever the planner's statistics say.

Each test fills a fresh queue table in bulk without ANALYZE (or after an ANALYZE taken while
the table held only finished rows: statistics saying "nothing pending"), runs a real claim,
and EXPLAINs every statement the claim ran on that table, under the planner settings the
claim's transaction uses on PostgreSQL (bot/inbox.PIN_PLANS): index scans only — no
sequential scan, no sort, no join, no materialised subquery — on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from bot import inbox
from bot.dispatcher import Dispatcher
from bot.outbox import OutboxMessage
from domain.clock import FixedClock
from domain.db import make_engine, make_session_factory, transaction
from tests.queue.conftest import BASE, captured_statements, fill_events, fill_outbox, plan, user

PENDING_ROWS, SOURCES = 5_000, 200
BANNED_PG = ("Seq Scan", "Sort", "Nested Loop", "Materialize", "Hash", "SubPlan")
QUEUE_INDEXES = ("ix_inbound_events_pending_head", "ix_inbound_events_pending_fifo", "ix_outbox_messages_active")


def assert_index_only(connection, statements, table: str) -> int:
    if connection.dialect.name == "postgresql":
        # The plans below are those under the claim's own settings: it must have made them
        # (SET LOCAL in the event claim's transaction, SET on the dispatcher's own connection).
        assert any(s in (inbox.PIN_PLANS, inbox.PIN_SESSION) for s, _p in statements), statements
    checked = 0
    for statement, parameters in statements:
        if f"FROM {table}" not in statement and f"UPDATE {table}" not in statement:
            continue
        if "WITH RECURSIVE" in statement:
            checked += assert_loose_index_scan(connection, statement, parameters, table)
            continue
        shown = plan(connection, statement, parameters)
        if connection.dialect.name == "postgresql":
            assert not any(word in shown for word in BANNED_PG), f"{statement}\n{shown}"
            assert "Index" in shown, shown
            # A bitmap only over a handful of ids by primary key; a queue index read in order
            # and cut short by LIMIT, never walked whole.
            for line in shown.splitlines():
                if "Bitmap Index Scan" in line:
                    assert "pk_" in line, shown
            if any(name in shown for name in QUEUE_INDEXES):
                assert shown.startswith("Limit"), shown
        else:
            for line in shown.splitlines():
                # A SEARCH by key, or an index walked in order and cut short by LIMIT.
                walked = line.startswith("SCAN") and "USING INDEX" in line and "LIMIT" in statement
                assert line.startswith("SEARCH") or walked, f"{statement}\n{shown}"
                assert "INDEX" in line or "PRIMARY KEY" in line, shown
            assert "TEMP B-TREE" not in shown, shown
        checked += 1
    return checked


# The outbox's round over its users (bot/dispatcher._NEXT_HEADS): a recursive CTE whose every
# step is one seek for the next user and one by primary key. Its structure has nodes the plain
# statements must not (a nested loop over the CTE's few rows, subplans), never a table scan.
CTE_STRUCTURE_SQLITE = ("MATERIALIZE heads", "SETUP", "SCAN CONSTANT ROW", "RECURSIVE STEP", "SCAN heads")
BANNED_PG_IN_CTE = ("Seq Scan", "Sort", "Materialize", "Hash", "Bitmap")


def assert_loose_index_scan(connection, statement: str, parameters, table: str) -> int:
    shown = plan(connection, statement, parameters)
    if connection.dialect.name == "postgresql":
        assert not any(word in shown for word in BANNED_PG_IN_CTE), f"{statement}\n{shown}"
        scans = [line for line in shown.splitlines() if " Scan " in line and "Scan on heads" not in line
                 and "WorkTable Scan" not in line]
        assert scans and all("Index" in line for line in scans), shown
        # EXPLAIN does not print the plan of a subquery in a recursive step's output list: the
        # step's seek is explained on its own, as the claim runs it (the first user after a key).
        step = (f"SELECT x.id FROM {table} x WHERE x.status IN ('pending', 'sending') "
                "AND x.order_key > %(key)s ORDER BY x.order_key, x.id LIMIT 1")
        seek = plan(connection, step, {"key": "user:"})
        assert seek.startswith("Limit") and "Index" in seek and not any(w in seek for w in BANNED_PG), seek
    else:
        for line in shown.splitlines():
            if line.startswith(CTE_STRUCTURE_SQLITE) or "SCALAR SUBQUERY" in line:
                continue
            assert line.startswith("SEARCH") and ("INDEX" in line or "PRIMARY KEY" in line), f"{statement}\n{shown}"
        assert "TEMP B-TREE" not in shown, shown
    return 1


def stale(connection, how: str, fill_done) -> None:
    """Statistics that lie: none at all, or taken when nothing was pending."""
    if how == "analyzed_when_finished":
        fill_done(connection)
        connection.execute(text("ANALYZE"))


@pytest.fixture
def engine(any_db_url):
    engine = make_engine(any_db_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("how", ["never_analyzed", "analyzed_when_finished"])
def test_the_event_claim_uses_only_indexes_with_stale_statistics(engine, how):
    with engine.begin() as connection:
        stale(connection, how, lambda c: fill_events(c, 300, 10, status="done", start=10_000_000))
        fill_events(connection, PENDING_ROWS, SOURCES)
    sessions = make_session_factory(engine)
    cursor = inbox.SourceCursor()
    with captured_statements(engine) as statements:
        with transaction(sessions) as session:
            event = inbox.claim_next(session, BASE + timedelta(seconds=1), cursor)
            # The head of the first source in key order: its earliest event.
            assert event.source_key == f"user:{user(0)}" and event.webhook_event_id == f"E{0:025d}"
            event.status = inbox.DONE
        with transaction(sessions) as session:
            # Oldest first: the next event in arrival order, another user's.
            assert inbox.claim_next(session, BASE + timedelta(seconds=1), cursor).webhook_event_id == f"E{1:025d}"
        with transaction(sessions) as session:
            # With the oldest sources' heads all waiting out a retry, a round over the sources.
            session.execute(text("UPDATE inbound_events SET available_at = :later WHERE id IN "
                                 "(SELECT id FROM inbound_events WHERE status = 'pending' "
                                 "ORDER BY line_timestamp, id LIMIT 8)"),
                            {"later": BASE + timedelta(hours=1)})
        with transaction(sessions) as session:
            event = inbox.claim_next(session, BASE + timedelta(seconds=1), cursor)
            assert event.webhook_event_id not in {f"E{n:025d}" for n in range(1, 9)}
    with engine.connect() as connection:
        claims = [(st, prm) for st, prm in statements if "SET available_at" not in st]  # not the test's own UPDATE
        assert assert_index_only(connection, claims, "inbound_events") >= 6


@pytest.mark.parametrize("how", ["never_analyzed", "analyzed_when_finished"])
def test_the_outbox_claim_uses_only_indexes_with_stale_statistics(engine, how):
    with engine.begin() as connection:
        stale(connection, how, lambda c: fill_outbox(c, 300, 10, status="sent", start=10_000_000))
        fill_outbox(connection, PENDING_ROWS, SOURCES)
        # The first user's first message waits out a retry: it must not hold back the next one.
        connection.execute(text("UPDATE outbox_messages SET available_at = :later WHERE retry_key LIKE '%000000000000'"),
                           {"later": BASE + timedelta(hours=1)})
    sessions = make_session_factory(engine)
    dispatcher = Dispatcher(sessions, line_api=None, clock=FixedClock(BASE + timedelta(seconds=1)), concurrency=8,
                            random_start=False)
    with captured_statements(engine) as statements:
        claimed = dispatcher._claim(BASE + timedelta(seconds=1), 8)
    # One row per user: the first due one of each of the first eight users (in id order).
    assert [c.row.to_user for c in claimed] == [user(n) for n in range(1, 8)] + [user(0)]
    assert [int(c.row.retry_key[-12:]) for c in claimed] == list(range(1, 8)) + [SOURCES]
    with engine.connect() as connection:
        # Leases left by the dead, the round over the users, the look past user 0's head, the claim.
        assert assert_index_only(connection, statements, "outbox_messages") == 4
    with make_session_factory(engine)() as session:
        assert session.get(OutboxMessage, claimed[0].row.id).status == "sending"
    dispatcher.close()


def test_the_claim_leaves_the_planner_as_it_found_it_for_the_handler(any_db_url, clock):
    """The event is handled in the claim's transaction: its queries must plan normally."""
    engine = make_engine(any_db_url)
    try:
        with engine.begin() as connection:
            fill_events(connection, 3, 3)
        with transaction(make_session_factory(engine)) as session:
            assert inbox.claim_next(session, BASE + timedelta(seconds=1)) is not None
            if engine.dialect.name == "postgresql":
                settings = session.execute(text(
                    "SELECT current_setting('enable_sort'), current_setting('enable_seqscan'), "
                    "current_setting('enable_bitmapscan')")).one()
                assert tuple(settings) == ("on", "on", "on")
    finally:
        engine.dispose()

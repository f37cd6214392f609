"""Helpers for the queue tests: bulk-filled queue tables and the plans of a claim's queries."""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy import event, text

from bot.inbox import InboundEvent
from bot.outbox import OutboxMessage

BASE = datetime(2026, 11, 26, 0, 0, tzinfo=timezone.utc)


def user(n: int) -> str:
    return f"U{n:032x}"


def fill_events(connection, count: int, sources: int, status: str = "pending", start: int = 0) -> None:
    """`count` events spread over `sources` users, inserted in bulk (no ANALYZE)."""
    rows = [{
        "webhook_event_id": f"E{start + i:025d}", "destination": "Udest", "event_type": "message",
        "source_key": f"user:{user((start + i) % sources)}", "line_timestamp": 1_764_000_000_000 + start + i,
        "is_redelivery": False, "payload": json.dumps({"type": "message"}), "received_at": BASE,
        "status": status, "attempts": 0, "available_at": BASE,
    } for i in range(count)]
    connection.execute(InboundEvent.__table__.insert(), rows)


def fill_outbox(connection, count: int, users: int, status: str = "pending", start: int = 0) -> None:
    rows = [{
        "kind": "push", "to_user": user((start + i) % users), "messages": json.dumps([{"type": "text", "text": "x"}]),
        "retry_key": f"00000000-0000-4000-8000-{start + i:012d}", "order_key": f"user:{user((start + i) % users)}",
        "status": status, "attempts": 0, "reply_tries": 0, "available_at": BASE, "created_at": BASE,
    } for i in range(count)]
    connection.execute(OutboxMessage.__table__.insert(), rows)


@contextmanager
def captured_statements(engine):
    """Every SELECT/UPDATE the code runs inside the block, with its parameters."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if re.match(r"\s*(SELECT|UPDATE|SET|WITH)", statement, re.I) and not executemany:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan(connection, statement: str, parameters) -> str:
    """The plan of one statement as text: EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite."""
    if connection.dialect.name == "postgresql":
        from bot.inbox import PIN_PLANS

        cursor = connection.connection.driver_connection.cursor()
        cursor.execute("BEGIN")
        cursor.execute(PIN_PLANS)  # as the claim does, in its own transaction
        cursor.execute("EXPLAIN " + statement, parameters)
        shown = "\n".join(r[0] for r in cursor.fetchall())
        cursor.execute("ROLLBACK")
        return shown
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
    return "\n".join(r[-1] for r in cursor.fetchall())

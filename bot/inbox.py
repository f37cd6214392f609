"""Received LINE webhook events: stored before the webhook answers, then claimed by workers."""
from __future__ import annotations

import json
from functools import lru_cache
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, bindparam, literal_column, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.base import Base

PENDING, DONE, PARKED = "pending", "done", "parked"
# A row id that works as autoincrement on both SQLite (INTEGER) and PostgreSQL (BIGINT).
Id = BigInteger().with_variant(Integer(), "sqlite")


class InboundEvent(Base):
    __tablename__ = "inbound_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    destination: Mapped[str] = mapped_column(String(64), default="")
    event_type: Mapped[str] = mapped_column(String(40))
    # Events sharing a source key (one LINE user, group or room) are handled in order.
    source_key: Mapped[str] = mapped_column(String(80))
    line_timestamp: Mapped[int] = mapped_column(BigInteger, default=0)
    is_redelivery: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(80))
    handled_at: Mapped[datetime | None]

    __table_args__ = (
        # No index on status itself: with stale statistics the planner took it for the claim
        # ("one pending row") and sorted every pending row. Parked events, listed by hand, get
        # their own small index.
        Index("ix_inbound_events_parked", "id",
              postgresql_where=text("status = 'parked'"), sqlite_where=text("status = 'parked'")),
        Index("ix_inbound_events_pending_head", "source_key", "line_timestamp", "id",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
        # The pending events oldest first: its first entry is always some source's head, so the
        # claim usually takes the oldest event there is (first come, first answered).
        Index("ix_inbound_events_pending_fifo", "line_timestamp", "id",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.payload)


def source_key(event: dict[str, Any]) -> str:
    source = event.get("source") or {}
    for kind, field in (("user", "userId"), ("group", "groupId"), ("room", "roomId")):
        if source.get("type") == kind and source.get(field):
            return f"{kind}:{source[field]}"
    if source.get("userId"):
        return f"user:{source['userId']}"
    # No source (rare event kinds): order them by themselves.
    return f"event:{event.get('webhookEventId', '')}"


def store_events(session: Session | Connection, destination: str, events: Iterable[dict[str, Any]],
                 now: datetime) -> int:
    """Insert events, ignoring ones already stored (LINE redelivers); return how many were new.

    Takes a Core connection too: the webhook uses one, as the ORM session costs it time."""
    rows = []
    for event in events:
        rows.append({
            "webhook_event_id": event["webhookEventId"],
            "destination": destination,
            "event_type": str(event.get("type", ""))[:40],
            "source_key": source_key(event)[:80],
            "line_timestamp": int(event.get("timestamp") or 0),
            "is_redelivery": bool((event.get("deliveryContext") or {}).get("isRedelivery")),
            "payload": json.dumps(event, ensure_ascii=False, separators=(",", ":")),
            "received_at": now,
            "status": PENDING,
            "attempts": 0,
            "available_at": now,
        })
    if not rows:
        return 0
    connection = session.connection() if isinstance(session, Session) else session
    result = connection.execute(_insert_ignoring_duplicates(connection.dialect.name), rows)
    return len(result.all())


@lru_cache(maxsize=4)
def _insert_ignoring_duplicates(dialect: str):
    """One INSERT … ON CONFLICT DO NOTHING per dialect, built once so its compiled form is cached
    (a multi-row VALUES insert is compiled anew on every request)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = InboundEvent.__table__
    return insert(table).on_conflict_do_nothing(index_elements=["webhook_event_id"]).returning(table.c.id)


# The claim reads only this partial index: the pending events of each source, in handling
# order. Its first entry for a source is that source's head (the one event that may be handled
# next), so a claim is a handful of index seeks whatever the backlog and whatever the planner
# believes about the table (issue 16: with stale statistics, the former EXISTS shape was
# planned as a nested loop over every pending row). The status is written as a literal, not a
# parameter: SQLite matches a partial index only against the same literal term.
PENDING_HEAD_INDEX = "ix_inbound_events_pending_head"
_IS_PENDING = literal_column("status") == literal_column("'pending'")


# PostgreSQL only: for the claim's few statements the planner may not sort, build a bitmap or
# scan the table, whatever it believes about the row counts. With statistics saying "two
# pending rows" it otherwise reads the whole queue index into a bitmap and sorts it (seen with
# 5,000 rows never analysed), which costs more the longer the backlog. With these off, the only
# plan left is the index walked in order and cut short by LIMIT. Set LOCAL (this transaction)
# and put back before anything else runs in it.
PIN_PLANS = ("SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off; "
             "SET LOCAL enable_seqscan = off")
UNPIN_PLANS = ("SET LOCAL enable_sort TO DEFAULT; SET LOCAL enable_bitmapscan TO DEFAULT; "
               "SET LOCAL enable_seqscan TO DEFAULT")


def pin_plans(session: Session, on: bool) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(PIN_PLANS if on else UNPIN_PLANS)


@dataclass
class SourceCursor:
    """Where a worker's round over the sources with pending events stands.

    Sources take turns (round robin by source key), so one busy user cannot hold the others
    back and two workers rarely reach for the same head."""

    after: str = ""


_T = InboundEvent.__table__
# Built once, so SQLAlchemy reuses the compiled form (no per-claim statement building).
_NEXT_HEAD = (
    select(_T.c.id, _T.c.source_key, _T.c.available_at)
    .where(_IS_PENDING, _T.c.source_key > bindparam("after"))
    .order_by(_T.c.source_key, _T.c.line_timestamp, _T.c.id)
    .limit(1)
)
# By primary key alone (a status term would offer the planner other indexes); the status is
# checked after the lock: the head may have been finished meanwhile.
_LOCK = select(InboundEvent).where(InboundEvent.id == bindparam("id"))
_LOCK_SKIP_LOCKED = _LOCK.with_for_update(skip_locked=True)


# The oldest pending events. An entry whose source does not appear before it in this list is
# that source's head (nothing of its source is pending earlier).
_OLDEST = (
    select(_T.c.id, _T.c.source_key, _T.c.available_at)
    .where(_IS_PENDING)
    .order_by(_T.c.line_timestamp, _T.c.id)
    .limit(8)
)


def _next_head(session: Session, after: str):
    """The head (first pending event in handling order) of the first source after `after`."""
    return session.execute(_NEXT_HEAD, {"after": after}).first()


def claim_next(session: Session, now: datetime, cursor: SourceCursor | None = None) -> InboundEvent | None:
    """Lock the next event whose earlier same-source events are all finished.

    The oldest such event when it can (the first entries of the oldest-first index); else it
    walks the sources with pending events from the cursor on, one index seek each, and takes
    the first head that is due and not locked by another worker (SKIP LOCKED on PostgreSQL;
    SQLite's claim transaction holds the write lock, so there is one worker at a time). A head
    waiting out its retry delay holds its source back, as it must (per-source order).

    The lock lasts for the caller's transaction: the caller handles the event and marks it in
    that same transaction, so a worker that dies leaves the event pending for another.
    """
    cursor = cursor or SourceCursor()
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        pin_plans(session, True)
        try:
            return _claim(session, now, cursor, postgres)
        finally:
            pin_plans(session, False)
    return _claim(session, now, cursor, postgres)


def _claim(session: Session, now: datetime, cursor: SourceCursor, postgres: bool) -> InboundEvent | None:
    # First come, first served: the heads among the oldest pending events (bounded: 8 entries).
    seen: set[str] = set()
    for row in session.execute(_OLDEST).all():
        if row.source_key in seen:
            continue
        seen.add(row.source_key)
        if row.available_at > now:
            continue
        event = session.scalars(_LOCK_SKIP_LOCKED if postgres else _LOCK, {"id": row.id}).first()
        if event is not None and event.status == PENDING:
            return event
    # Those are taken by other workers or waiting out a retry: a round over the sources.
    start, wrapped = cursor.after, False
    while True:
        head = _next_head(session, cursor.after)
        if head is None:
            if wrapped or start == "":
                cursor.after = ""
                return None
            # End of the round: start again from the first source, once.
            wrapped, cursor.after = True, ""
            continue
        if wrapped and head.source_key > start:
            return None  # a whole round and nothing due
        cursor.after = head.source_key
        if head.available_at > now:
            continue
        event = session.scalars(_LOCK_SKIP_LOCKED if postgres else _LOCK, {"id": head.id}).first()
        if event is not None and event.status == PENDING:
            return event


REDACTED = "[消去済み]"


def redacted(payload: str) -> str:
    """The stored event without what the person wrote or where they were: once handled, what
    the service keeps is in the domain (and only with consent); the event log keeps the shape."""
    event = json.loads(payload)
    message = event.get("message")
    if isinstance(message, dict):
        for key in ("text", "address", "title", "latitude", "longitude", "emojis", "mention"):
            if key in message:
                message[key] = REDACTED if isinstance(message[key], str) else None
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def mark_done(event: InboundEvent, now: datetime, outcome: str) -> None:
    event.payload = redacted(event.payload)
    event.status = DONE
    event.outcome = outcome[:80]
    event.handled_at = now
    event.attempts += 1


def mark_failed(event: InboundEvent, now: datetime, error: str, max_attempts: int) -> None:
    """Back off and retry; after max_attempts park it so the source's later events go on."""
    event.attempts += 1
    event.last_error = error[-4000:]
    if event.attempts >= max_attempts:
        event.status = PARKED
        event.handled_at = now
    else:
        event.available_at = now + timedelta(seconds=min(2 ** event.attempts, 300))


def parked_events(session: Session, limit: int = 100) -> list[InboundEvent]:
    return list(session.scalars(
        select(InboundEvent).where(literal_column("status") == literal_column("'parked'"))
        .order_by(InboundEvent.id).limit(limit)))


def requeue(session: Session, event_id: int, now: datetime) -> bool:
    result = session.execute(
        update(InboundEvent)
        .where(InboundEvent.id == event_id, InboundEvent.status == PARKED)
        .values(status=PENDING, attempts=0, available_at=now, last_error=None, handled_at=None))
    return bool(result.rowcount)


class WebhookBodyError(ValueError):
    """A body that is not a LINE webhook; the message says what is wrong, for the 400."""


def parse_webhook_body(raw: bytes) -> tuple[str, list[dict[str, Any]]]:
    """Check the shape LINE promises (webhook.yml) and return (destination, events)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookBodyError("body is not UTF-8") from None
    try:
        body = json.loads(text)
    except ValueError:
        raise WebhookBodyError("body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise WebhookBodyError("not a LINE webhook: 'events' must be a list")
    destination = body.get("destination", "")
    if not isinstance(destination, str):
        raise WebhookBodyError("not a LINE webhook: 'destination' must be a string")
    for i, event in enumerate(body["events"]):
        if not isinstance(event, dict):
            raise WebhookBodyError(f"not a LINE webhook: events[{i}] is not an object")
        event_id = event.get("webhookEventId")
        if not isinstance(event_id, str) or not 0 < len(event_id) <= 64:
            raise WebhookBodyError(f"not a LINE webhook: events[{i}].webhookEventId is missing")
        if not isinstance(event.get("type"), str):
            raise WebhookBodyError(f"not a LINE webhook: events[{i}].type is missing")
    return destination, body["events"]


class GroupCommit:
    """Store the events of concurrent webhook requests in one transaction (group commit).

    Each request hands its events to a writer thread and waits until the transaction holding
    them has committed, so "stored before 200" still holds; under load one commit serves many
    requests. A failed commit fails every request in it (LINE then redelivers).
    """

    def __init__(self, engine, clock, max_batch: int = 64, timeout: float = 10.0):
        import queue
        import threading

        self._engine = engine
        self._clock = clock
        self._max_batch = max_batch
        self._timeout = timeout
        self._queue: "queue.Queue[tuple[str, list[dict[str, Any]], Any]]" = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
        self._thread.start()

    def store(self, destination: str, events: list[dict[str, Any]]) -> int:
        from concurrent.futures import Future

        done: Future = Future()
        self._queue.put((destination, events, done))
        return done.result(timeout=self._timeout)

    def _run(self) -> None:
        import queue

        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                counts = self._commit(batch)
            except Exception as exc:  # every waiting request answers 500; nothing half-stored
                for _d, _e, done in batch:
                    done.set_exception(exc)
                continue
            for (_d, _e, done), count in zip(batch, counts):
                done.set_result(count)

    def _commit(self, batch) -> list[int]:
        from sqlalchemy.exc import DBAPIError

        for attempt in (1, 2):
            try:
                counts = []
                with self._engine.begin() as connection:
                    now = self._clock.now()
                    for destination, events, _done in batch:
                        counts.append(store_events(connection, destination, events, now))
                return counts
            except DBAPIError as exc:
                # A pooled connection the server closed (restart, idle timeout): once more on a
                # fresh one, rather than a ping before every batch.
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

"""Received LINE webhook events: stored before the webhook answers, then claimed by workers."""
from __future__ import annotations

import json
import queue
import re
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Iterable

import structlog
from sqlalchemy import (
    BigInteger, Boolean, Connection, Index, Integer, String, Text, bindparam, literal_column,
    select, text, update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, StatementError
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.base import Base

log = structlog.get_logger(__name__)

PENDING, DONE, PARKED = "pending", "done", "parked"
SQLITE_BUSY_TIMEOUT_MS = 30_000  # what domain.db sets on every SQLite connection
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
PINNED_SETTINGS = ("enable_sort", "enable_bitmapscan", "enable_seqscan")
PIN_PLANS = "; ".join(f"SET LOCAL {name} = off" for name in PINNED_SETTINGS)
UNPIN_PLANS = "; ".join(f"SET LOCAL {name} TO DEFAULT" for name in PINNED_SETTINGS)
# For a connection that only ever claims (the outbox dispatcher's): pinned once, for its life.
PIN_SESSION = "; ".join(f"SET {name} = off" for name in PINNED_SETTINGS)


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


# The heads among the oldest pending events, locked together (PostgreSQL), for a worker that
# handles several events in one transaction.
_OLDEST_FOR_BATCH = _OLDEST.limit(bindparam("oldest"))
# LIMIT above the lock: rows another worker holds are skipped and the next ones taken, so two
# workers reading the same oldest events each get a batch.
_LOCK_MANY = (select(InboundEvent).where(InboundEvent.id.in_(bindparam("ids", expanding=True)))
              .order_by(InboundEvent.id).limit(bindparam("limit")).with_for_update(skip_locked=True))


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


def claim_heads(session: Session, now: datetime, cursor: SourceCursor, limit: int) -> list[InboundEvent]:
    """Lock up to `limit` events, each the head of its own source (PostgreSQL only).

    The due heads among the oldest pending events are locked in one statement; those another
    worker holds are skipped, and so is the rest of their source. When none can be had, the
    round over the sources gives one, as claim_next does. Every event returned is, like
    claim_next's, the next of its source to handle; their order is the order of arrival.
    """
    if session.get_bind().dialect.name != "postgresql":
        raise ValueError("claim_heads locks several rows with SKIP LOCKED: PostgreSQL only")
    pin_plans(session, True)
    try:
        seen: set[str] = set()
        due: list[int] = []
        # Enough of the oldest for another worker's batch and this one's.
        for row in session.execute(_OLDEST_FOR_BATCH, {"oldest": 4 * limit}).all():
            if row.source_key in seen:
                continue
            seen.add(row.source_key)
            if row.available_at <= now:
                due.append(row.id)
        if due:
            locked = [e for e in session.scalars(_LOCK_MANY, {"ids": due, "limit": limit})
                      if e.status == PENDING]
            if locked:
                return sorted(locked, key=lambda e: (e.line_timestamp, e.id))
        event = _claim(session, now, cursor, True)
        return [event] if event is not None else []
    finally:
        pin_plans(session, False)


def claim_one(session: Session, event_id: int, now: datetime) -> InboundEvent | None:
    """Lock this event again if it is still pending and due (a worker handling, one at a time,
    the events of a batch it could not finish together)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    event = session.scalars(_LOCK_SKIP_LOCKED if postgres else _LOCK, {"id": event_id}).first()
    if event is None or event.status != PENDING or event.available_at > now:
        return None
    return event


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


def redact_parked(event: InboundEvent) -> None:
    """A parked event keeps what an operator needs to retry it and see why it failed (who, what
    kind, the button pressed, the error's type and place), not what the person wrote or where
    they were (domain.personal_data.redact_event_payload). Called once the fail-safe hook has
    handed the words to a coordinator."""
    from domain.personal_data import redact_event_payload

    event.payload = redact_event_payload(event.payload)


def mark_parked(event: InboundEvent, now: datetime, reason: str, detail: str = "") -> None:
    """Park at once: no retry can handle this event (the reason first, then the detail)."""
    reason = reason[:1000]
    event.attempts += 1
    event.last_error = f"{reason}\n{detail[-(3999 - len(reason)):]}" if detail else reason
    event.status = PARKED
    event.handled_at = now


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


# Bounds of what one stored row can hold: the columns of InboundEvent, a timestamp that is a
# datetime (milliseconds up to the end of year 9999), and a nesting no LINE event comes near.
MAX_DEPTH = 32
MAX_ID = 64
MAX_TYPE = 40
MAX_TIMESTAMP = 253_402_300_799_999
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]')


def _too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """True when arrays and objects nest deeper than `limit` (strings skipped), checked before
    json.loads so a hostile body cannot make the parser recurse a thousand times."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def _reject_constant(name: str):
    raise WebhookBodyError(f"body has {name}, which is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise WebhookBodyError(f"number {literal[:20]} is out of range")
    return value


def _bad_string(value: Any, where: str) -> str | None:
    """Why a value cannot be stored as text (NUL, a lone surrogate), or None."""
    found = _BAD_CHARS.search(value)
    if found is None:
        return None
    what = "NUL" if found.group() == "\x00" else "a lone surrogate"
    return f"{where} contains {what}"


def _check_strings(value: Any, where: str) -> None:
    """Every key and string in the event is storable text (no recursion: the depth is bounded,
    but a wide tree is walked with a list)."""
    stack = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            reason = _bad_string(item, path)
            if reason:
                raise WebhookBodyError(reason)
        elif isinstance(item, dict):
            for key, child in item.items():
                reason = _bad_string(key, f"{path} (a key)")
                if reason:
                    raise WebhookBodyError(reason)
                stack.append((child, f"{path}.{key}"))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{n}]") for n, child in enumerate(item))


def _check_text(value: Any, where: str, max_len: int, *, required: bool = False) -> None:
    if value is None:
        if required:
            raise WebhookBodyError(f"not a LINE webhook: {where} is missing")
        return
    if not isinstance(value, str) or (required and not value):
        raise WebhookBodyError(f"{where} must be a {'non-empty ' if required else ''}string")
    if len(value) > max_len:
        raise WebhookBodyError(f"{where} is longer than {max_len} characters")


def _check_event(event: Any, where: str) -> None:
    """The fields a stored row is made of, each of the type and within the range it needs."""
    if not isinstance(event, dict):
        raise WebhookBodyError(f"not a LINE webhook: {where} is not an object")
    _check_text(event.get("webhookEventId"), f"{where}.webhookEventId", MAX_ID, required=True)
    _check_text(event.get("type"), f"{where}.type", MAX_TYPE, required=True)
    stamp = event.get("timestamp")
    if stamp is not None and (type(stamp) is not int or not 0 <= stamp <= MAX_TIMESTAMP):
        raise WebhookBodyError(f"{where}.timestamp must be an integer of milliseconds from 0 to {MAX_TIMESTAMP}")
    for key in ("mode", "replyToken"):
        _check_text(event.get(key), f"{where}.{key}", 255)
    source = event.get("source")
    if source is not None:
        if not isinstance(source, dict):
            raise WebhookBodyError(f"{where}.source must be an object")
        _check_text(source.get("type"), f"{where}.source.type", MAX_TYPE)
        for key in ("userId", "groupId", "roomId"):
            _check_text(source.get(key), f"{where}.source.{key}", MAX_ID)
    context = event.get("deliveryContext")
    if context is not None:
        if not isinstance(context, dict):
            raise WebhookBodyError(f"{where}.deliveryContext must be an object")
        if not isinstance(context.get("isRedelivery", False), bool):
            raise WebhookBodyError(f"{where}.deliveryContext.isRedelivery must be true or false")
    for key in ("message", "postback"):
        if event.get(key) is not None and not isinstance(event[key], dict):
            raise WebhookBodyError(f"{where}.{key} must be an object")
    _check_strings(event, where)


def parse_webhook_body(raw: bytes) -> tuple[str, list[dict[str, Any]]]:
    """Check the shape LINE promises (webhook.yml) and that every event can be stored as it
    is; return (destination, events). Anything else is a WebhookBodyError naming the field."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookBodyError("body is not UTF-8") from None
    if _too_deep(text):
        raise WebhookBodyError(f"body nests deeper than {MAX_DEPTH} levels")
    try:
        body = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except WebhookBodyError:
        raise
    except (ValueError, RecursionError):  # RecursionError: belt and braces behind _too_deep
        raise WebhookBodyError("body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise WebhookBodyError("not a LINE webhook: 'events' must be a list")
    destination = body.get("destination", "")
    _check_text(destination, "destination", MAX_ID, required=destination is None)
    reason = _bad_string(destination, "destination")
    if reason:
        raise WebhookBodyError(reason)
    for i, event in enumerate(body["events"]):
        _check_event(event, f"events[{i}]")
    return destination, body["events"]


def refused_as_data(exc: BaseException) -> bool:
    """True when storing failed for the data itself (a retry would fail the same way), rather
    than for the database being busy or away."""
    if isinstance(exc, (DataError, IntegrityError)):
        return True
    if isinstance(exc, DBAPIError):
        return False
    if isinstance(exc, StatementError):  # a value the driver could not bind
        return True
    return isinstance(exc, (KeyError, TypeError, ValueError, OverflowError))


class GroupCommit:
    """Store the events of concurrent webhook requests in one transaction (group commit).

    Each request hands its events to a writer thread and waits until the transaction holding
    them has committed, so "stored before 200" still holds; under load one commit serves many
    requests. When a shared commit fails, each request is stored again alone, so only the one
    at fault fails (the database refusing it, or the database being away: LINE redelivers).
    """

    def __init__(self, engine, clock, max_batch: int = 64, timeout: float = 10.0, *, start: bool = True):
        self._engine = engine
        self._clock = clock
        self._max_batch = max_batch
        self._timeout = timeout
        self._queue: "queue.Queue[tuple[str, list[dict[str, Any]], Any]]" = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
        if start:
            self.start()

    def start(self) -> None:
        """Start the writer thread (tests queue several requests first to share one commit)."""
        self._thread.start()

    def submit(self, destination: str, events: list[dict[str, Any]]):
        """Queue a request's events; the Future gives how many were new once committed."""
        done: Future = Future()
        self._queue.put((destination, events, done))
        return done

    def store(self, destination: str, events: list[dict[str, Any]]) -> int:
        return self.submit(destination, events).result(timeout=self._timeout)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                counts = self._commit(batch)
            except Exception as exc:
                if len(batch) == 1:  # that request answers for itself; nothing half-stored
                    batch[0][2].set_exception(exc)
                    continue
                # One request must not fail the others: each again, in its own transaction,
                # so only the one at fault fails.
                log.warning("webhook.group_commit_failed", requests=len(batch), error=type(exc).__name__)
                for item in batch:
                    try:
                        item[2].set_result(self._commit([item])[0])
                    except Exception as alone:
                        item[2].set_exception(alone)
                continue
            for (_d, _e, done), count in zip(batch, counts):
                done.set_result(count)

    def _commit(self, batch) -> list[int]:
        for attempt in (1, 2):
            try:
                with self._engine.connect() as connection:
                    if connection.dialect.name == "sqlite":
                        return self._store_sqlite(connection, batch)
                    with connection.begin():
                        return self._store(connection, batch)
            except DBAPIError as exc:
                # A pooled connection the server closed (restart, idle timeout): once more on a
                # fresh one, rather than a ping before every batch.
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def _store(self, connection, batch) -> list[int]:
        now = self._clock.now()
        return [store_events(connection, destination, events, now) for destination, events, _done in batch]

    def _store_sqlite(self, connection, batch) -> list[int]:
        """SQLite has one writer at a time, and its busy handler sleeps ever longer (up to 100 ms
        a try) while a busy worker takes the lock again and again: the webhook asks for the
        lock every half millisecond instead, so it gets in at the first gap between the worker's
        transactions (the worker leaves one, see EventWorker's pause)."""
        raw = connection.connection.dbapi_connection
        raw.execute("PRAGMA busy_timeout=0")
        deadline = time.monotonic() + self._timeout
        try:
            while True:
                try:
                    with connection.begin():
                        return self._store(connection, batch)
                except OperationalError as exc:
                    if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.0005)
        finally:
            raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

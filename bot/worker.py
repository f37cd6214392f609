"""Claim stored events and handle them: one transaction per event, or on PostgreSQL a few
events (each of its own source) per transaction, undone together and redone one by one if any
of them fails.

What can succeed later (the database busy, a race) is retried with a back-off; what no retry can
fix (a malformed event, data the database refuses) is parked at once with the reason.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any, Callable

import structlog
from sqlalchemy.exc import DataError, DBAPIError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from bot import inbox
from domain.clock import Clock
from domain.db import transaction
from domain.logs import error_summary

log = structlog.get_logger(__name__)

def name_os_thread(name: str) -> None:
    """Name the OS thread (Linux; best effort) so per-thread CPU shows in /proc (bench/soak.py)."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as comm:
            comm.write(name[:15])
    except OSError:
        pass


Handler = Callable[[Session, dict[str, Any], Any], str]
ParkedHook = Callable[[Session, inbox.InboundEvent], None]


class Unfixable(Exception):
    """An event that no retry can handle (malformed, from no LINE user): park it at once."""


def no_retry_can_fix(exc: BaseException) -> str | None:
    """Why handling this event again would fail the same way, or None when a retry may succeed
    (the database busy or away, a lost connection, a race on a unique key, an unknown error)."""
    if isinstance(exc, Unfixable):
        return "unfixable"
    if isinstance(exc, DataError):
        return "refused by the database"
    if isinstance(exc, DBAPIError):  # operational, integrity (a race), interface: try again
        return None
    if isinstance(exc, StatementError):
        return "a value the database driver cannot take"
    if isinstance(exc, (KeyError, IndexError, TypeError, AttributeError, ValueError, OverflowError)):
        return f"malformed data ({type(exc).__name__})"
    return None


AFTER_COMMIT = "sasaeai.after_commit"
# Set while a worker handles several events in one transaction with no savepoint of its own: a
# handler must then let every failure through (the worker undoes them all and handles each
# event again alone), never catch one and go on in a transaction it cannot partly undo.
WHOLE_OR_NOTHING = "sasaeai.whole_or_nothing"


AfterCommit = Callable[[sessionmaker[Session], datetime], None]


def after_commit(session: Session, job: AfterCommit) -> None:
    """Work to do once the event's transaction has committed (an HTTP call, say): the worker runs
    it outside any transaction, so no write lock is held while LINE answers."""
    session.info.setdefault(AFTER_COMMIT, []).append(job)


class EventWorker:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, handler: Handler,
                 *, max_attempts: int = 5, on_parked: ParkedHook | None = None, pause: float = 0.0,
                 batch: int = 1):
        self._sessions = session_factory
        # Seconds to leave the database free after each event (SQLite: one writer at a time, so
        # a worker taking the lock back to back would starve the webhook).
        self._pause = pause
        self._clock = clock
        self._handler = handler
        self._max_attempts = max_attempts
        self._on_parked = on_parked
        # This worker's place in the round over sources with pending events.
        self._cursor = inbox.SourceCursor()
        # Events per transaction (PostgreSQL; see _run_batch). 1: each alone, with a savepoint.
        self._batch = batch
        # Halved after a batch that had to be undone, doubled back after one that was not: a
        # run of events that fail (a flood of malformed ones) is then handled one by one instead
        # of each failure costing the whole batch twice.
        self._batch_now = batch

    def run_once(self) -> bool:
        """Handle the next due event (or, with a batch, events); False when there is none."""
        return self._step() > 0

    def _step(self) -> int:
        """How many events were taken (handled, or recorded as failed)."""
        if self._batch_now > 1:
            return self._run_batch()
        taken = int(self._run_one())
        self._batch_now = min(self._batch, self._batch_now * 2)
        return taken

    def _run_one(self, event_id: int | None = None) -> bool:
        """Claim one event (the next due, or this one) and handle it in its own transaction."""
        now = self._clock.now()
        with transaction(self._sessions) as session:
            if event_id is None:
                event = inbox.claim_next(session, now, self._cursor)
            else:
                event = inbox.claim_one(session, event_id, now)
            if event is None:
                return False
            later = self._handle(session, event, now)
        self._run_after_commit(later, event.id)
        return True

    def _handle(self, session: Session, event: inbox.InboundEvent, now: datetime) -> list[AfterCommit]:
        """Handle a claimed event and mark it; a failure is recorded, never raised."""
        try:
            # A savepoint: a failing handler's writes vanish, the failure record stays.
            with session.begin_nested():
                outcome = self._handler(session, event.data, now)
        except Exception as exc:
            session.info.pop(AFTER_COMMIT, None)  # the event's writes are undone: so is this
            self._record_failure(session, event, now, exc)
            return []
        inbox.mark_done(event, now, outcome)
        log.info("event.handled", event_id=event.id, event_type=event.event_type, outcome=outcome)
        return session.info.pop(AFTER_COMMIT, [])

    def _record_failure(self, session: Session, event: inbox.InboundEvent, now: datetime,
                        exc: Exception) -> None:
        unfixable = no_retry_can_fix(exc)
        # The stored error: type and place, never the message (it may carry values).
        if unfixable:
            # Unfixable carries our own words (what was malformed), never the person's.
            reason = f"{unfixable}: {exc}" if isinstance(exc, Unfixable) else unfixable
            inbox.mark_parked(event, now, reason, error_summary(exc))
        else:
            inbox.mark_failed(event, now, error_summary(exc), self._max_attempts)
        log.warning("event.failed", event_id=event.id, event_type=event.event_type,
                    attempts=event.attempts, parked=event.status == inbox.PARKED,
                    error=type(exc).__name__, unfixable=unfixable)
        if event.status == inbox.PARKED and self._on_parked:
            try:
                with session.begin_nested():
                    self._on_parked(session, event)
            except Exception:
                log.exception("event.parked_hook_failed", event_id=event.id)
        if event.status == inbox.PARKED:
            inbox.redact_parked(event)

    def _run_batch(self) -> int:
        """Several events (each its source's head) in one transaction, without savepoints: a
        claim, a commit and a savepoint per event are most of what an event costs the database.
        If anything fails once they are claimed, the whole transaction is undone and each event
        is handled again alone, the usual way, so that only the one at fault fails and is
        recorded as such."""
        now = self._clock.now()
        ids: list[int] = []
        try:
            with transaction(self._sessions) as session:
                events = inbox.claim_heads(session, now, self._cursor, self._batch_now)
                if not events:
                    return 0
                ids = [event.id for event in events]
                session.info[WHOLE_OR_NOTHING] = True
                try:
                    outcomes = [self._handler(session, event.data, now) for event in events]
                    for event, outcome in zip(events, outcomes):
                        inbox.mark_done(event, now, outcome)
                    session.flush()  # what the database refuses is refused here, not at commit
                finally:
                    session.info.pop(WHOLE_OR_NOTHING, None)
                later = session.info.pop(AFTER_COMMIT, [])
        except Exception as exc:
            if not ids:
                raise  # the claim itself failed (the database away): nothing was taken
            log.info("event.batch_undone", events=len(ids), error=type(exc).__name__)
            self._batch_now = max(1, self._batch_now // 2)
            return sum(self._run_one(event_id) for event_id in ids)
        self._batch_now = min(self._batch, self._batch_now * 2)
        for event, outcome in zip(events, outcomes):
            log.info("event.handled", event_id=event.id, event_type=event.event_type, outcome=outcome)
        self._run_after_commit(later, ids[0] if len(ids) == 1 else None)
        return len(ids)

    def _run_after_commit(self, later: list[AfterCommit], event_id: int | None) -> None:
        for job in later:  # committed; no transaction is open while these wait on the network
            try:
                job(self._sessions, self._clock.now())
            except Exception:  # the event is handled; this extra is lost, not the event
                log.exception("event.after_commit_failed", event_id=event_id)

    def run_until_idle(self, limit: int = 100_000) -> int:
        """Handle events until none is due; how many were taken."""
        handled = 0
        while handled < limit:
            taken = self._step()
            if not taken:
                break
            handled += taken
        return handled

    def run_forever(self, stop: threading.Event, idle: float = 0.2) -> None:
        name_os_thread("event-worker")
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # database gone for a moment: the event stays pending
                log.exception("event.worker_error")
                busy = False
            if not busy:
                stop.wait(idle)
            elif self._pause:
                time.sleep(self._pause)

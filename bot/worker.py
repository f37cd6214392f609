"""Claim stored events and handle them, one transaction per event."""
from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

import structlog
from sqlalchemy.orm import Session, sessionmaker

from bot import inbox
from domain.clock import Clock
from domain.db import transaction

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


class EventWorker:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, handler: Handler,
                 *, max_attempts: int = 5, on_parked: ParkedHook | None = None):
        self._sessions = session_factory
        self._clock = clock
        self._handler = handler
        self._max_attempts = max_attempts
        self._on_parked = on_parked
        # This worker's place in the round over sources with pending events.
        self._cursor = inbox.SourceCursor()

    def run_once(self) -> bool:
        """Handle the next due event; False when there is none."""
        now = self._clock.now()
        with transaction(self._sessions) as session:
            event = inbox.claim_next(session, now, self._cursor)
            if event is None:
                return False
            try:
                # A savepoint: a failing handler's writes vanish, the failure record stays.
                with session.begin_nested():
                    outcome = self._handler(session, event.data, now)
            except Exception as exc:
                inbox.mark_failed(event, now, "".join(traceback.format_exception(exc)), self._max_attempts)
                log.warning("event.failed", event_id=event.id, event_type=event.event_type,
                            attempts=event.attempts, parked=event.status == inbox.PARKED,
                            error=type(exc).__name__)
                if event.status == inbox.PARKED and self._on_parked:
                    try:
                        with session.begin_nested():
                            self._on_parked(session, event)
                    except Exception:
                        log.exception("event.parked_hook_failed", event_id=event.id)
                return True
            inbox.mark_done(event, now, outcome)
            log.info("event.handled", event_id=event.id, event_type=event.event_type, outcome=outcome)
            return True

    def run_until_idle(self, limit: int = 100_000) -> int:
        handled = 0
        while handled < limit and self.run_once():
            handled += 1
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

"""Run an event worker in its own process, for tests of crashes and of several workers.

usage: run_worker.py DATABASE_URL MODE [EVENTS_PER_TRANSACTION]
  die    handle one event with the real handler, then SIGKILL ourselves before commit
  count  handle events until none is left; each handling pushes one un-deduplicated
         message naming the event, so a double handling would show as two rows
"""
from __future__ import annotations

import os
import signal
import sys

from bot import outbox
from bot.handlers import handle_event
from bot.worker import EventWorker
from domain.clock import SystemClock
from domain.db import make_engine, make_session_factory


def dying_handler(session, raw, now):
    outcome = handle_event(session, raw, now)
    session.flush()  # the effects reach the database, uncommitted
    os.kill(os.getpid(), signal.SIGKILL)
    return outcome


def counting_handler(session, raw, now):
    user = raw["source"]["userId"]
    outbox.enqueue_push(session, user_id=user, messages=[{"type": "text", "text": raw["webhookEventId"]}], now=now)
    return "counted"


def main() -> int:
    url, mode = sys.argv[1], sys.argv[2]
    engine = make_engine(url)
    handler = dying_handler if mode == "die" else counting_handler
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    worker = EventWorker(make_session_factory(engine), SystemClock(), handler, batch=batch)
    handled = worker.run_until_idle()
    print(handled)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Stored events are handled once, in order per user, and survive a worker's death."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import inbox
from bot.handlers import handle_event
from bot.worker import EventWorker
from domain.db import make_engine, make_session_factory, transaction
from bot.inbox import InboundEvent
from bot.outbox import OutboxMessage

SCRIPT = Path(__file__).parent / "scripts" / "run_worker.py"


def text_event(n: int, user: str = "U" + "a" * 32, ts: int | None = None) -> dict:
    return {
        "type": "message", "mode": "active", "timestamp": ts if ts is not None else 1_764_000_000_000 + n,
        "source": {"type": "user", "userId": user}, "webhookEventId": f"01TEST{n:020d}",
        "deliveryContext": {"isRedelivery": False}, "replyToken": f"token{n}",
        "message": {"type": "text", "id": str(n), "quoteToken": "q", "text": "こんにちは"},
    }


def store(sessions, events, now):
    with transaction(sessions) as session:
        return inbox.store_events(session, "Udest", events, now)


@pytest.fixture
def db(any_db_url):
    engine = make_engine(any_db_url)
    yield any_db_url, make_session_factory(engine)
    engine.dispose()


@pytest.fixture(params=[("sqlite", 1), ("postgresql", 1), ("postgresql", 8)],
                ids=["sqlite", "postgresql", "postgresql-batch"])
def worker_db(request):
    """A database and the events per transaction: one, or (PostgreSQL) several people's."""
    engine_name, batch = request.param
    url = request.getfixturevalue("sqlite_url" if engine_name == "sqlite" else "pg_url")
    engine = make_engine(url)
    yield url, make_session_factory(engine), batch
    engine.dispose()


def test_an_event_stored_three_times_is_handled_once(worker_db, clock):
    _, sessions, batch = worker_db
    event = text_event(1)
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}
    assert [store(sessions, [e], clock.now()) for e in (event, event, redelivered)] == [1, 0, 0]
    worker = EventWorker(sessions, clock, handle_event, batch=batch)
    assert worker.run_until_idle() == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_events_of_one_user_are_handled_in_line_timestamp_order(worker_db, clock):
    _, sessions, batch = worker_db
    seen = []

    def recorder(session, raw, now):
        seen.append(raw["webhookEventId"])
        return "ok"

    # Stored out of order: the later-timestamped event arrives first.
    store(sessions, [text_event(2, ts=2000)], clock.now())
    store(sessions, [text_event(1, ts=1000)], clock.now())
    EventWorker(sessions, clock, recorder, batch=batch).run_until_idle()
    assert seen == [text_event(1)["webhookEventId"], text_event(2)["webhookEventId"]]


def test_a_failing_event_is_retried_then_parked_without_blocking_others(worker_db, clock):
    _, sessions, batch = worker_db
    bad_user, good_user = "U" + "b" * 32, "U" + "c" * 32
    store(sessions, [text_event(1, bad_user), text_event(2, good_user), text_event(3, bad_user)], clock.now())
    handled = []

    def flaky(session, raw, now):
        if raw["webhookEventId"] == text_event(1)["webhookEventId"]:
            raise RuntimeError("handler bug")
        handled.append(raw["webhookEventId"])
        return "ok"

    worker = EventWorker(sessions, clock, flaky, max_attempts=3, batch=batch)
    for _ in range(6):
        worker.run_until_idle()
        clock.advance(minutes=10)
    with sessions() as session:
        parked = inbox.parked_events(session)
    assert [p.webhook_event_id for p in parked] == [text_event(1)["webhookEventId"]]
    # The stored error names the exception's type and place, never its message (issue 13).
    assert parked[0].attempts == 3 and "RuntimeError at tests/test_worker.py" in parked[0].last_error
    assert "in flaky" in parked[0].last_error and "handler bug" not in parked[0].last_error
    # The good user went first; the bad user's next event waited for the parking, then ran.
    assert handled == [text_event(2)["webhookEventId"], text_event(3)["webhookEventId"]]


def test_a_failing_handler_leaves_no_partial_effects(worker_db, clock):
    _, sessions, batch = worker_db
    store(sessions, [text_event(1)], clock.now())

    def half_done(session, raw, now):
        handle_event(session, raw, now)  # enqueues a reply …
        raise RuntimeError("… then fails")

    EventWorker(sessions, clock, half_done, batch=batch).run_once()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert session.scalars(select(InboundEvent)).one().status == inbox.PENDING


def test_a_worker_killed_mid_event_leaves_it_for_the_next(db, clock):
    url, sessions = db
    store(sessions, [text_event(1)], clock.now() - timedelta(seconds=1))
    died = subprocess.run([sys.executable, str(SCRIPT), url, "die"], capture_output=True, timeout=60)
    assert died.returncode == -9, died.stderr.decode()[-2000:]
    with sessions() as session:
        assert session.scalars(select(InboundEvent)).one().status == inbox.PENDING
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert EventWorker(sessions, clock, handle_event).run_until_idle() == 1
    with sessions() as session:
        assert session.scalars(select(InboundEvent)).one().status == inbox.DONE
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("per_transaction", [1, 8])
def test_two_worker_processes_share_1000_events_each_handled_once_in_user_order(pg_url, clock, per_transaction):
    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    users = [f"U{n:032x}" for n in range(20)]
    events = [text_event(n, users[n % 20], ts=1_764_000_000_000 + n) for n in range(1000)]
    store(sessions, events, clock.now() - timedelta(seconds=1))
    procs = [subprocess.Popen([sys.executable, str(SCRIPT), pg_url, "count", str(per_transaction)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [p.communicate(timeout=240) for p in procs]
    counts = [int(out.decode().split()[-1]) for out, _ in outputs]
    assert all(p.returncode == 0 for p in procs), [err.decode()[-1000:] for _, err in outputs]
    assert sum(counts) == 1000 and min(counts) > 0, counts
    with sessions() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        statuses = set(session.scalars(select(InboundEvent.status)))
    handled_ids = [json.loads(r.messages)[0]["text"] for r in rows]
    assert len(handled_ids) == 1000 and len(set(handled_ids)) == 1000
    assert statuses == {inbox.DONE}
    per_user = defaultdict(list)
    for row, event_id in zip(rows, handled_ids):
        per_user[row.to_user].append(event_id)
    for user, ids in per_user.items():
        assert ids == sorted(ids), f"{user} handled out of order"
    engine.dispose()


def test_a_handled_event_keeps_no_words_or_place_of_the_person(worker_db, clock):
    _, sessions, batch = worker_db
    event = text_event(1)
    event["message"]["text"] = "母の通帳のことで相談したい"
    location = {**text_event(2), "message": {"type": "location", "id": "2", "title": "自宅",
                                             "address": "郡山市安積町荒井1-2", "latitude": 37.35, "longitude": 140.36}}
    store(sessions, [event, location], clock.now())
    EventWorker(sessions, clock, lambda s, raw, now: "ok", batch=batch).run_until_idle()
    with sessions() as session:
        payloads = [e.payload for e in session.scalars(select(InboundEvent))]
    assert all("通帳" not in p and "荒井" not in p and "37.35" not in p for p in payloads)
    assert all(json.loads(p)["webhookEventId"] for p in payloads)

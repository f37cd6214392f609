"""PostgreSQL: the event worker handles several people's events in one transaction, and undoes
them together (then handles each alone) when any of them fails."""
from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import event, func, select

from bot import inbox, outbox
from bot.inbox import InboundEvent
from bot.messages.resident import RESIDENT
from bot.outbox import OutboxMessage
from bot.worker import EventWorker
from domain.db import make_engine, make_session_factory, transaction
from domain.models import Person
from tests.bot.conftest import build_town, last
from tests.test_worker import text_event

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_url):
    engine = make_engine(pg_url)
    yield engine, make_session_factory(engine)
    engine.dispose()


def store(sessions, events, now):
    with transaction(sessions) as session:
        inbox.store_events(session, "Udest", events, now)


def users(n: int) -> list[str]:
    return [f"U{i:032x}" for i in range(n)]


def test_several_peoples_events_share_a_transaction_and_each_persons_stay_in_order(pg, clock):
    engine, sessions = pg
    people = users(6)
    # Person 0 wrote three times; the five others once each.
    events = [text_event(n, people[0], ts=1000 + n) for n in range(3)]
    events += [text_event(10 + n, people[n], ts=1000 + n) for n in range(1, 6)]
    store(sessions, events, clock.now())
    commits = []
    event.listen(engine, "commit", lambda conn: commits.append(1))
    handled: list[tuple[int, str, str]] = []  # (commits before it: the transaction, user, event id)

    def recorder(session, raw, now):
        handled.append((len(commits), raw["source"]["userId"], raw["webhookEventId"]))
        return "ok"

    worker = EventWorker(sessions, clock, recorder, batch=8)
    assert worker.run_once()
    first = {t for t, _u, _e in handled}
    assert len(first) == 1 and len(handled) == 6, "one transaction, one event of each of the six"
    assert worker.run_until_idle() == 2  # person 0's second and third
    assert len(commits) == 4, "three transactions for eight events, and the claim that found none"
    mine = [(t, e) for t, u, e in handled if u == people[0]]
    assert [e for _t, e in mine] == [text_event(n)["webhookEventId"] for n in range(3)]
    assert len({t for t, _e in mine}) == 3, "never two events of one person in one transaction"
    with sessions() as session:
        assert set(session.scalars(select(InboundEvent.status))) == {inbox.DONE}


def test_a_failure_undoes_the_batch_and_only_the_event_at_fault_fails(pg, clock):
    _engine, sessions = pg
    people = users(5)
    store(sessions, [text_event(n, people[n]) for n in range(5)], clock.now())
    calls: dict[str, int] = defaultdict(int)

    def third_fails(session, raw, now):
        user = raw["source"]["userId"]
        calls[user] += 1
        outbox.enqueue_push(session, user_id=user, messages=[{"type": "text", "text": "x"}], now=now)
        if user == people[2]:
            raise RuntimeError("handler bug")
        return "ok"

    assert EventWorker(sessions, clock, third_fails, batch=8).run_once()
    with sessions() as session:
        rows = {e.source_key.split(":")[1]: e for e in session.scalars(select(InboundEvent))}
        pushed = list(session.scalars(select(OutboxMessage.to_user)))
    failed = rows.pop(people[2])
    assert (failed.status, failed.attempts) == (inbox.PENDING, 1) and "RuntimeError" in failed.last_error
    assert {e.status for e in rows.values()} == {inbox.DONE} and all(e.attempts == 1 for e in rows.values())
    # Each of the others' messages once: the undone batch left nothing behind.
    assert sorted(pushed) == sorted(u for u in people if u != people[2])
    # In the batch up to the failure, then each alone.
    assert [calls[u] for u in people] == [2, 2, 2, 1, 1]


def test_a_malformed_event_in_a_batch_is_parked_and_the_others_are_done(pg, clock):
    _engine, sessions = pg
    people = users(3)
    bad = text_event(1, people[1])
    bad["message"] = "not an object"
    store(sessions, [text_event(0, people[0]), bad, text_event(2, people[2])], clock.now())
    from bot.handlers import handle_event
    EventWorker(sessions, clock, handle_event, batch=8).run_until_idle()
    with sessions() as session:
        statuses = {e.source_key.split(":")[1]: e.status for e in session.scalars(select(InboundEvent))}
        replies = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert statuses == {people[0]: inbox.DONE, people[1]: inbox.PARKED, people[2]: inbox.DONE}
    assert replies >= 2


def test_a_refusal_in_a_batch_is_answered_politely_and_no_one_else_is_answered_twice(pg_stack, monkeypatch):
    from bot import dialogue
    from domain import matches as match_rules

    stack = pg_stack
    town = build_town(stack)
    coordinator, resident = town.ids["asaka_coord"], stack.new_user("佐藤一郎")
    stack.settle()
    original = dialogue.step

    def refusing_for_the_coordinator(turn, state, inp):
        if turn.person.line_user_id == coordinator:
            turn.say({"type": "text", "text": "half way"})
            turn.person.display_name = "途中"  # a write the refusal must undo
            raise match_rules.NotApprovable("match 1 is declined, not accepted")
        return original(turn, state, inp)

    monkeypatch.setattr(dialogue, "step", refusing_for_the_coordinator)
    with stack.sessions() as s:
        before = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_user == resident))
    stack.sim.send_text(coordinator, "こんにちは")
    stack.sim.send_text(resident, "こんにちは")
    stack.settle()
    assert last(stack, coordinator)["text"] == RESIDENT["refused"]
    assert all(m.get("text") != "half way" for m in stack.sim.messages(coordinator))
    with stack.sessions() as s:
        after = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_user == resident))
        assert set(s.scalars(select(InboundEvent.status))) == {inbox.DONE}
        assert s.scalar(select(Person.display_name).where(Person.line_user_id == coordinator)) != "途中"
    assert after == before + 1


def test_two_workers_reading_the_same_oldest_events_each_get_a_batch(pg, clock):
    _engine, sessions = pg
    store(sessions, [text_event(n, user) for n, user in enumerate(users(20))], clock.now())
    with sessions() as first, sessions() as second:
        with first.begin(), second.begin():
            mine = inbox.claim_heads(first, clock.now(), inbox.SourceCursor(), 8)
            theirs = inbox.claim_heads(second, clock.now(), inbox.SourceCursor(), 8)
            assert len(mine) == len(theirs) == 8
            assert not {e.id for e in mine} & {e.id for e in theirs}
            first.rollback()
            second.rollback()


def test_after_an_undone_batch_the_next_takes_half_as_many_then_grows_back(pg, clock):
    engine, sessions = pg
    people = users(24)
    store(sessions, [text_event(n, user, ts=1000 + n) for n, user in enumerate(people)], clock.now())
    commits = []
    event.listen(engine, "commit", lambda conn: commits.append(1))
    batches: dict[int, list[str]] = defaultdict(list)

    def first_fails(session, raw, now):
        if session.info.get("sasaeai.whole_or_nothing"):
            batches[len(commits)].append(raw["source"]["userId"])
        if raw["source"]["userId"] == people[7]:
            raise RuntimeError("handler bug")
        return "ok"

    EventWorker(sessions, clock, first_fails, batch=8, max_attempts=1).run_until_idle()
    sizes = [len(users_in) for _, users_in in sorted(batches.items())]
    # 8 (undone at its last), then 4, then 8 again: the rest (24 - 8 - 4 = 12) in 8 and 4.
    assert sizes == [8, 4, 8, 4]

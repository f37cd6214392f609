"""The worker parks at once what no retry can fix, answers where it can, retries the rest; the
domain saying no is a polite answer; a coordinator's note is a note."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from bot import inbox
from bot.handlers import BotSettings, handle_event, make_handler, make_parked_hook
from bot.messages.coordinator import COORDINATOR
from bot.messages.resident import RESIDENT
from bot.outbox import OutboxMessage
from bot.worker import EventWorker, Unfixable, no_retry_can_fix
from domain import escalation as esc
from domain import matches as match_rules
from domain import needs as need_rules
from domain.db import make_engine, make_session_factory, transaction
from domain.models import Area, Match, Need, Person, URGENT
from tests.bot.conftest import build_town, last
from tests.test_worker import text_event

UID = "U" + "a" * 32


@pytest.fixture
def db(any_db_url):
    engine = make_engine(any_db_url)
    yield make_session_factory(engine)
    engine.dispose()


def stored(sessions, event, now) -> int:
    with transaction(sessions) as session:
        inbox.store_events(session, "Udest", [event], now)
        return session.scalar(select(inbox.InboundEvent.id).where(
            inbox.InboundEvent.webhook_event_id == event["webhookEventId"]))


def row(sessions, event_id) -> inbox.InboundEvent:
    with sessions() as session:
        return session.get(inbox.InboundEvent, event_id)


def outbox_rows(sessions) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage)))


@pytest.mark.parametrize("exc,why", [
    (Unfixable("x"), "unfixable"),
    (KeyError("message"), "malformed"),
    (TypeError("NoneType"), "malformed"),
    (ValueError("text"), "malformed"),
    (DataError("INSERT", {}, Exception("value too long")), "refused by the database"),
])
def test_what_no_retry_can_fix_is_named(exc, why):
    assert why in no_retry_can_fix(exc)


@pytest.mark.parametrize("exc", [
    OperationalError("BEGIN", {}, Exception("database is locked")),
    IntegrityError("INSERT", {}, Exception("duplicate key: a race")),
    RuntimeError("something else"),
    TimeoutError(),
])
def test_what_may_succeed_later_is_retried(exc):
    assert no_retry_can_fix(exc) is None


def test_a_malformed_event_is_parked_at_once_with_the_reason_and_answered_by_reply(db, clock):
    event = text_event(1)
    event["message"] = {"type": "text", "text": ["not", "text"]}  # the SDK's model refuses it
    event_id = stored(db, event, clock.now())
    worker = EventWorker(db, clock, make_handler(BotSettings()), max_attempts=5,
                         on_parked=make_parked_hook(BotSettings()))
    assert worker.run_until_idle() == 1
    parked = row(db, event_id)
    assert (parked.status, parked.attempts) == (inbox.PARKED, 1)
    assert "malformed message event" in parked.last_error
    [answer] = outbox_rows(db)
    assert (answer.kind, answer.reply_token) == ("reply", "token1")
    assert RESIDENT["not_received"] in answer.messages


def test_data_the_handler_cannot_take_is_parked_at_once(db, clock):
    event_id = stored(db, text_event(2), clock.now())

    def refusing(session, raw, now):
        raise ValueError("a value no retry changes")

    EventWorker(db, clock, refusing, max_attempts=5).run_until_idle()
    assert (row(db, event_id).status, row(db, event_id).attempts) == (inbox.PARKED, 1)


def test_a_locked_database_is_retried_not_parked(db, clock):
    event_id = stored(db, text_event(3), clock.now())

    def locked(session, raw, now):
        raise OperationalError("UPDATE", {}, Exception("database is locked"))

    EventWorker(db, clock, locked, max_attempts=5).run_until_idle()
    again = row(db, event_id)
    assert (again.status, again.attempts) == (inbox.PENDING, 1)
    assert again.available_at.replace(tzinfo=None) > clock.now().replace(tzinfo=None)


@pytest.mark.parametrize("junk", ["U" + "Z" * 32, "U" + "a" * 31, "x", "U" + "a" * 32 + "\n"])
def test_an_event_from_a_junk_user_id_is_parked_and_nothing_is_sent(db, clock, junk):
    event_id = stored(db, text_event(4, user=junk), clock.now())
    EventWorker(db, clock, make_handler(BotSettings()),
                on_parked=make_parked_hook(BotSettings())).run_until_idle()
    assert row(db, event_id).status == inbox.PARKED
    assert "not a LINE user id" in row(db, event_id).last_error
    assert outbox_rows(db) == []
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0


@pytest.mark.postgres
def test_a_user_id_the_database_refuses_is_parked_at_once(pg_url, clock):
    """What slipped past the webhook (stored raw here) and PostgreSQL refuses: parked, one try."""
    engine = make_engine(pg_url)
    try:
        parked_when_too_long(make_session_factory(engine), clock)
    finally:
        engine.dispose()


def parked_when_too_long(sessions, clock):

    def writes_too_long(session, raw, now):
        from domain import people
        people.get_or_create_person(session, "U" * 65, now)
        session.flush()
        return "never"

    event_id = stored(sessions, text_event(5), clock.now())
    EventWorker(sessions, clock, writes_too_long, max_attempts=5).run_until_idle()
    parked = row(sessions, event_id)
    assert (parked.status, parked.attempts) == (inbox.PARKED, 1)
    assert parked.last_error.startswith("refused by the database")


# -- through the whole stack ---------------------------------------------------------------------
def a_match(stack, town, status_path: tuple[str, ...]) -> int:
    """A shopping need in 安積地区 with 鈴木's match taken along `status_path`."""
    with transaction(stack.sessions) as s:
        resident = s.scalars(select(Person).where(Person.line_user_id == town.ids["takahashi"])).one()
        need = need_rules.create_need(s, person=resident, category="shopping", area=town.areas["asaka-arai"],
                                      now=stack.clock.now())
        volunteer = s.scalars(select(Person).where(Person.line_user_id == town.ids["suzuki"])).one()
        [match] = match_rules.ask_volunteers(s, need, [volunteer.id], stack.clock.now())
        for step in status_path:
            if step == "decline":
                match_rules.decline_match(s, match, stack.clock.now())
        return match.id


def test_approving_a_match_that_is_not_accepted_is_answered_politely(stack):
    town = build_town(stack)
    match_id = a_match(stack, town, ("decline",))
    stack.sim.send_postback(town.ids["asaka_coord"], f"v1|m|apv|{match_id}", display_text="承認する")
    stack.settle()
    assert last(stack, town.ids["asaka_coord"])["text"] == COORDINATOR["not_approvable"]
    with stack.sessions() as s:
        assert s.get(Match, match_id).approved_at is None
        assert s.scalar(select(func.count()).select_from(esc.Escalation)) == 0
        assert s.scalar(select(func.count()).where(inbox.InboundEvent.status == inbox.PARKED)
                        .select_from(inbox.InboundEvent)) == 0


def test_any_domain_refusal_undoes_the_step_and_answers_politely(stack, monkeypatch):
    """A refusal the dialogue did not foresee: the step's writes vanish, the event is done."""
    from bot import dialogue

    town = build_town(stack)

    def refusing_step(turn, state, inp):
        turn.say({"type": "text", "text": "half way"})
        turn.ctx.push(town.ids["suzuki"], {"type": "text", "text": "half way too"})
        raise match_rules.NotApprovable("match 1 is declined, not accepted")

    monkeypatch.setattr(dialogue, "step", refusing_step)
    before = len(stack.sim.messages(town.ids["suzuki"]))
    stack.sim.send_text(town.ids["asaka_coord"], "こんにちは")
    stack.settle()
    assert last(stack, town.ids["asaka_coord"])["text"] == RESIDENT["refused"]
    assert len(stack.sim.messages(town.ids["suzuki"])) == before
    with stack.sessions() as s:
        assert set(s.scalars(select(inbox.InboundEvent.status))) == {inbox.DONE}


def test_a_coordinators_note_with_alarm_words_is_a_note_not_an_urgent_case(stack):
    town = build_town(stack)
    with transaction(stack.sessions) as s:
        arai = s.get(Area, town.areas["asaka-arai"])
        need = need_rules.create_need(s, person=None, category="shopping", area=arai, now=stack.clock.now())
        case, _ = esc.escalate(s, need, esc.NO_MATCH, stack.clock.now())
    coordinator = town.ids["asaka_coord"]
    stack.sim.send_postback(coordinator, f"v1|esc|note|{case.id}", display_text="メモ")
    stack.settle()
    note = "本人が「死にたい」と話していたので、明日119番の件も含めて訪問します"
    stack.sim.send_text(coordinator, note)
    stack.settle()
    assert last(stack, coordinator)["text"] == COORDINATOR["noted"]
    with stack.sessions() as s:
        cases = s.scalars(select(esc.Escalation)).all()
        assert [c.id for c in cases] == [case.id]
        assert s.scalar(select(func.count()).select_from(Need).where(Need.urgency == URGENT)) == 0
        assert [n.text for n in esc.notes_of(s, case.id)] == [note]


def test_a_coordinators_parked_event_opens_no_case_about_the_coordinator(stack):
    town = build_town(stack)

    def broken(session, raw, now):
        raise Unfixable("a bug")

    worker = EventWorker(stack.sessions, stack.clock, broken,
                         on_parked=make_parked_hook(stack.services.bot_settings))
    stack.sim.send_text(town.ids["asaka_coord"], "かいものにいけない")
    worker.run_until_idle()
    stack.settle()
    assert last(stack, town.ids["asaka_coord"])["text"] == RESIDENT["not_received"]
    with stack.sessions() as s:
        assert s.scalar(select(func.count()).select_from(esc.Escalation)) == 0


def test_the_profile_is_asked_of_line_with_no_write_transaction_open(stack):
    """While LINE answers the profile call, the webhook could write at once (SQLite's lock free)."""
    from sqlalchemy import text

    seen = {}

    def lookup(user_id):
        with stack.services.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=0")
            conn.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: fails at once if a writer holds the lock
            seen["free"] = True
            conn.rollback()
        return "山田 ハナ"

    settings = BotSettings(profile_lookup=lookup)
    stack.worker = EventWorker(stack.sessions, stack.clock, make_handler(settings))
    user = stack.new_user("山田 ハナ")
    stack.settle()
    stack.sim.press(user, "同意する")
    stack.settle()
    assert seen == {"free": True}
    with stack.sessions() as s:
        assert s.scalars(select(Person.display_name).where(Person.line_user_id == user)).one() == "山田 ハナ"

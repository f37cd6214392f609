"""The volunteer's way: register an offer in taps, receive a card, accept once; races on PostgreSQL."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from bot import inbox
from bot.handlers import handle_event
from bot.worker import EventWorker
from domain.db import transaction
from domain import matches as match_rules
from domain import needs as need_rules
from domain.models import Match, Need, Offer, Person
from domain.resources import candidates
from bot.messages.resident import RESIDENT
from bot.messages.volunteer import VOLUNTEER
from tests.bot.conftest import build_town, buttons, last, press, resident_in


def test_a_volunteer_registers_an_offer_in_a_few_taps_and_can_pause_it(stack, town):
    user = resident_in(stack, "安積地区", "日出山", name="田中 一郎")
    press(stack, user, RESIDENT["menu_help"])
    stack.settle()
    for label in ("ゴミ出し", "見守り"):
        press(stack, user, label)
        stack.settle()
    labels = [label for label, _ in buttons(last(stack, user))]
    assert "✓ ゴミ出し" in labels and "✓ 見守り" in labels and "買い物" in labels
    press(stack, user, VOLUNTEER["next"])
    stack.settle()
    press(stack, user, VOLUNTEER["next"])  # the home district is already chosen
    stack.settle()
    for label in ("月曜", "木曜"):
        press(stack, user, label)
        stack.settle()
    press(stack, user, VOLUNTEER["next"])
    stack.settle()
    press(stack, user, "午前")
    stack.settle()
    press(stack, user, VOLUNTEER["next"])
    stack.settle()
    press(stack, user, VOLUNTEER["car_no"])
    stack.settle()
    summary = last(stack, user)["text"]
    assert "ゴミ出し・見守り" in summary and "月・木" in summary and "午前" in summary
    press(stack, user, VOLUNTEER["register"])
    stack.settle()
    assert VOLUNTEER["registered"] in last(stack, user)["text"]
    with stack.sessions() as session:
        person = session.scalars(select(Person).where(Person.line_user_id == user)).one()
        offer = session.scalars(select(Offer).where(Offer.person_id == person.id)).one()
        assert sorted(offer.categories) == ["garbage", "watch"] and "volunteer" in person.roles
        assert sorted((s.weekday, s.start_time.hour) for s in offer.slot_rows) == [(0, 9), (3, 9)]

    press(stack, user, RESIDENT["menu_mine"])
    stack.settle()
    press(stack, user, VOLUNTEER["pause"])
    stack.settle()
    assert VOLUNTEER["paused"] in last(stack, user)["text"]
    with stack.sessions() as session:
        assert session.scalars(select(Offer)).all()[-1].paused is True


def test_an_empty_step_is_not_accepted(stack, town):
    user = resident_in(stack, "安積地区", "日出山", name="田中 一郎")
    press(stack, user, RESIDENT["menu_help"])
    stack.settle()
    press(stack, user, VOLUNTEER["next"])
    stack.settle()
    assert VOLUNTEER["pick_one"] in stack.sim.texts(user)[-2:]


def test_a_residents_offer_of_a_place_becomes_a_candidate_for_the_coordinator(stack, town):
    user = resident_in(stack, "安積地区", "日出山", name="大槻 さん")
    stack.sim.send_text(user, "水曜日だったら、うちのスペースを使ってもいいですよ")
    stack.settle()
    assert last(stack, user)["text"].startswith(RESIDENT["space_offer_thanks"])
    with stack.sessions() as session:
        [candidate] = candidates(session)
        assert candidate.status == "candidate" and "スペース" in candidate.description


def test_a_volunteer_cannot_answer_a_card_sent_to_someone_else(stack, town):
    with transaction(stack.sessions) as s:
        suzuki = s.scalars(select(Person).where(Person.line_user_id == town.ids["suzuki"])).one()
        need = need_rules.create_need(s, person=suzuki, category="shopping", area=town.areas["asaka-arai"],
                                      now=stack.clock.now())
        takahashi = s.scalars(select(Person).where(Person.line_user_id == town.ids["takahashi"])).one()
        [match] = match_rules.ask_volunteers(s, need, [takahashi.id], stack.clock.now())
    stack.sim.send_postback(town.ids["suzuki"], f"v1|m|acc|{match.id}", display_text="引き受ける")
    stack.settle()
    assert last(stack, town.ids["suzuki"])["text"] == RESIDENT["not_yours"]
    with stack.sessions() as session:
        assert session.get(Match, match.id).status == "tentative"


@pytest.mark.postgres
def test_two_acceptances_at_the_same_moment_make_exactly_one_match(pg_stack, clock):
    """Two volunteers press 引き受ける together; two workers handle the two events at once."""
    stack = pg_stack
    town = build_town(stack)
    with transaction(stack.sessions) as s:
        resident = s.scalars(select(Person).where(Person.line_user_id == town.ids["asaka_coord"])).one()
        need = need_rules.create_need(s, person=resident, category="exercise", area=town.areas["asaka-arai"],
                                      now=stack.clock.now())
        volunteers = [s.scalars(select(Person).where(Person.line_user_id == town.ids[w])).one()
                      for w in ("suzuki", "takahashi")]
        matches = match_rules.ask_volunteers(s, need, [v.id for v in volunteers], stack.clock.now())
    for who, match in zip(("suzuki", "takahashi"), matches):
        event = {"type": "postback", "mode": "active", "timestamp": 1_764_100_000_000,
                 "source": {"type": "user", "userId": town.ids[who]}, "webhookEventId": f"01RACE{who:0>20}",
                 "deliveryContext": {"isRedelivery": False}, "replyToken": f"token-{who}",
                 "postback": {"data": f"v1|m|acc|{match.id}"}}
        with transaction(stack.sessions) as s:
            inbox.store_events(s, "Udest", [event], stack.clock.now())

    barrier = threading.Barrier(2, timeout=20)

    def together(session, raw, now):
        barrier.wait()  # both transactions are open and both events claimed before either accepts
        return handle_event(session, raw, now)

    workers = [EventWorker(stack.sessions, stack.clock, together) for _ in range(2)]
    threads = [threading.Thread(target=w.run_once) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with stack.sessions() as session:
        statuses = sorted(session.get(Match, m.id).status for m in matches)
        assert statuses == ["accepted", "expired"]
        assert session.get(Need, need.id).status == "matched"
        assert {e.status for e in session.scalars(select(inbox.InboundEvent))} == {"done"}


def test_a_new_volunteer_gets_the_volunteer_menu_once_the_registration_has_committed(stack, town):
    """The link is LINE's call: made after the commit, with no write transaction waiting on it."""
    from bot import richmenu
    from bot.handlers import BotSettings, make_handler
    from bot.line_api import LineApi
    from cli.commands.richmenu import deploy_all
    from tests.conftest import TEST_TOKEN

    line = LineApi(stack.sim_server.url, TEST_TOKEN)
    deployed = deploy_all(line, console_url="https://example.jp/console", say=lambda _line: None)
    seen = {}

    def link(user_id, roles):
        with stack.services.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=0")
            conn.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE: fails at once if a writer holds the lock
            conn.rollback()
        seen["roles"] = set(roles)
        return richmenu.link_for_roles(line, user_id, roles)

    stack.worker = EventWorker(stack.sessions, stack.clock, make_handler(BotSettings(role_menu=link)))
    user = resident_in(stack, "安積地区", "日出山", name="田中 一郎")
    press(stack, user, RESIDENT["menu_help"])
    stack.settle()
    for label in ("ゴミ出し", VOLUNTEER["next"], VOLUNTEER["next"], "月曜", VOLUNTEER["next"], "午前",
                  VOLUNTEER["next"], VOLUNTEER["car_no"]):
        press(stack, user, label)
        stack.settle()
    assert user not in stack.sim.richmenus().get("userLinks", {})
    press(stack, user, VOLUNTEER["register"])
    stack.settle()
    assert seen == {"roles": {"volunteer"}}
    assert stack.sim.richmenus()["userLinks"][user] == deployed["volunteer"].rich_menu_id
    line.close()

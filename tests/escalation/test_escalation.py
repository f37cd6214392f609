"""Unresolved needs reach the right coordinator, deadlines are kept, and nothing is doubled."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot import inbox
from bot.handlers import handle_event, make_parked_hook
from bot.worker import EventWorker
from domain.db import transaction
from domain import escalation as esc
from domain import needs as need_rules
from domain import people
from domain.models import Area, Need, Person
from bot.messages.coordinator import COORDINATOR
from bot.messages.resident import RESIDENT
from scheduler import case_jobs as jobs
from tests.bot.conftest import all_text, build_town, last, press, resident_in
from tests.jobs_support import job_deps


def wants_a_volunteer(stack, resident: str, words: str) -> None:
    """Write a need, confirm it, decline the suggestions, ask for a person, give no phone."""
    stack.sim.send_text(resident, words)
    stack.settle()
    for label in ("はい", "ほかの助けがほしい", RESIDENT["no_phone"]):
        press(stack, resident, label)
        stack.settle()


def inbox_count(stack, user: str) -> int:
    return len(stack.sim.messages(user))


def case_of(stack) -> esc.Escalation:
    with stack.sessions() as session:
        return session.scalars(select(esc.Escalation).order_by(esc.Escalation.id.desc())).first()


def test_asking_for_a_person_goes_to_the_district_coordinator_only(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    city_before = inbox_count(stack, town.ids["city"])
    press(stack, resident, RESIDENT["menu_person"], stack.sim.messages(resident)[-1]["message"])
    stack.settle()
    told = last(stack, resident)["text"]
    assert "安積地区" in told and "までにご連絡します" in told
    notice = all_text(last(stack, town.ids["asaka_coord"]))
    assert "住民が人との相談を希望" in notice and "安積地区 荒井" in notice
    assert inbox_count(stack, town.ids["city"]) == city_before
    assert case_of(stack).reason == esc.ASKED_FOR_PERSON


def test_a_district_without_a_coordinator_falls_back_to_the_city(stack, town):
    resident = resident_in(stack, "富田地区", "富田町")
    stack.sim.send_text(resident, "じょせつをてつだってほしい")
    stack.settle()
    press(stack, resident, "はい")
    stack.settle()
    # Nothing for 除雪 in 富田: no resource, no volunteer → the coordinator, who is the city's here.
    assert "までにご連絡します" in last(stack, resident)["text"]
    notice = all_text(last(stack, town.ids["city"]))
    assert "除雪" in notice and "合う資源も担い手も見つからない" in notice
    assert case_of(stack).reason == esc.NO_MATCH


def test_declining_the_suggestions_with_no_volunteer_left_escalates(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    with transaction(stack.sessions) as s:  # the volunteers are away
        for p in s.scalars(select(Person).where(Person.line_user_id.in_([town.ids["suzuki"], town.ids["takahashi"]]))):
            people.mark_unfollowed(p, stack.clock.now())
    wants_a_volunteer(stack, resident, "体操教室に行きたい")
    assert case_of(stack).reason == esc.DECLINED_SUGGESTIONS
    assert "「ほかの助けがほしい」" in all_text(last(stack, town.ids["asaka_coord"]))  # issue 14: not 住民が紹介を断った


def test_every_volunteer_declining_escalates_and_the_resident_is_told(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    wants_a_volunteer(stack, resident, "体操にいきたい")
    for who in ("suzuki", "takahashi"):
        press(stack, town.ids[who], "今回は見送る")
        stack.settle()
    assert case_of(stack).reason == esc.ALL_DECLINED
    assert "までにご連絡します" in last(stack, resident)["text"]


def test_nobody_accepting_in_time_escalates_once(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    wants_a_volunteer(stack, resident, "体操にいきたい")
    stack.clock.advance(hours=25)
    for _ in range(2):
        with transaction(stack.sessions) as s:
            jobs.escalate_unaccepted(s, stack.clock.now(), job_deps())
    stack.settle()
    assert case_of(stack).reason == esc.NO_ACCEPTANCE
    notices = [m for m in stack.sim.messages(town.ids["asaka_coord"]) if "期限内に担い手が決まらない" in all_text(m["message"])]
    assert len(notices) == 1


def broken_worker(stack, max_attempts: int) -> EventWorker:
    """A worker whose every turn fails (a bug in the dialogue), with the real parked hook."""
    def broken(session, raw, now):
        raise RuntimeError("a bug in the dialogue")

    return EventWorker(stack.sessions, stack.clock, broken, max_attempts=max_attempts,
                       on_parked=make_parked_hook(stack.services.bot_settings))


def test_a_message_the_bot_cannot_handle_goes_to_a_coordinator(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    worker = broken_worker(stack, max_attempts=2)
    stack.sim.send_text(resident, "かいものにいけない")
    for _ in range(3):
        worker.run_until_idle()
        stack.clock.advance(minutes=5)
    stack.settle()
    assert last(stack, resident)["text"] == RESIDENT["bot_failed"]
    notice = all_text(last(stack, town.ids["asaka_coord"]))
    assert "ボットが処理できなかったメッセージ" in notice and "かいものにいけない" in notice


def test_a_coordinators_postback_on_another_districts_case_is_refused_and_audited(stack, town):
    with transaction(stack.sessions) as s:
        tomita = s.get(Area, town.areas["tomita-1"])
        need = need_rules.create_need(s, person=None, category="snow", area=tomita, now=stack.clock.now())
        case, _ = esc.escalate(s, need, esc.NO_MATCH, stack.clock.now())
    stack.sim.send_postback(town.ids["asaka_coord"], f"v1|esc|ack|{case.id}", display_text="対応します")
    stack.settle()
    assert last(stack, town.ids["asaka_coord"])["text"] == COORDINATOR["not_yours"]
    with stack.sessions() as s:
        assert s.get(esc.Escalation, case.id).status == "open"
        refused = s.scalars(select(esc.AuditEntry).where(esc.AuditEntry.action == "refused")).all()
        assert len(refused) == 1


def test_a_missed_acknowledgement_renotifies_then_goes_to_the_city_and_never_twice(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    press(stack, resident, RESIDENT["menu_person"], stack.sim.messages(resident)[-1]["message"])
    stack.settle()
    case = case_of(stack)
    # Created Thursday 10:00 Tokyo: one business day to acknowledge.
    assert case.ack_due_at.astimezone(esc.TOKYO).strftime("%a %H:%M") == "Fri 10:00"
    coordinator, city = town.ids["asaka_coord"], town.ids["city"]
    before = (inbox_count(stack, coordinator), inbox_count(stack, city))

    def run_twice():
        for _ in range(2):
            with transaction(stack.sessions) as s:
                jobs.run_deadlines(s, stack.clock.now(), job_deps())
        stack.settle()

    stack.clock.set(case.ack_due_at)
    run_twice()
    assert inbox_count(stack, coordinator) == before[0] + 1
    assert COORDINATOR["notice_again"] in all_text(last(stack, coordinator))
    # The re-sent card is the recipient's own: it carries the contact, as the first one did.
    assert "山田 ハナ" in all_text(last(stack, coordinator))
    assert inbox_count(stack, city) == before[1]
    stack.clock.set(datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc))  # Monday 10:00 Tokyo: another business day
    run_twice()
    assert inbox_count(stack, city) == before[1] + 1
    assert COORDINATOR["notice_city"] in all_text(last(stack, city))
    assert "山田 ハナ" in all_text(last(stack, city))
    assert inbox_count(stack, coordinator) == before[0] + 1


def test_a_missed_resolution_reminds_the_owner_and_lists_the_case_for_the_city(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    press(stack, resident, RESIDENT["menu_person"], stack.sim.messages(resident)[-1]["message"])
    stack.settle()
    press(stack, town.ids["asaka_coord"], COORDINATOR["ack"])
    stack.settle()
    stack.clock.advance(days=15)
    for _ in range(2):
        with transaction(stack.sessions) as s:
            jobs.run_deadlines(s, stack.clock.now(), job_deps())
    stack.settle()
    overdue = [m for m in stack.sim.messages(town.ids["asaka_coord"]) if COORDINATOR["overdue_title"] in all_text(m["message"])]
    assert len(overdue) == 1
    expected = case_of(stack).id
    with stack.sessions() as s:
        assert [c.id for c in esc.overdue_cases(s)] == [expected]


def test_the_daily_summary_is_skipped_when_empty_and_on_holidays(stack, town):
    coordinator = town.ids["asaka_coord"]
    friday = datetime(2026, 12, 3, 23, 30, tzinfo=timezone.utc)  # Fri 4 Dec 08:30 Tokyo
    with transaction(stack.sessions) as s:
        empty = jobs.send_daily_summaries(s, friday, job_deps())
    assert empty.summaries == 0 and empty.skipped == ["nothing to say"]
    with transaction(stack.sessions) as s:
        need = need_rules.create_need(s, person=None, category="talk", area=town.areas["asaka-arai"], now=friday)
        esc.escalate(s, need, esc.NO_MATCH, friday)
    saturday = datetime(2026, 12, 4, 23, 30, tzinfo=timezone.utc)
    coming_of_age_day = datetime(2027, 1, 10, 23, 30, tzinfo=timezone.utc)  # Mon 11 Jan 2027, 成人の日
    for day_off in (saturday, coming_of_age_day):
        with transaction(stack.sessions) as s:
            report = jobs.send_daily_summaries(s, day_off, job_deps())
        assert report.summaries == 0 and "not a business day" in report.skipped[0]
    monday = datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc)  # Mon 7 Dec 08:30 Tokyo
    for _ in range(2):
        with transaction(stack.sessions) as s:
            jobs.send_daily_summaries(s, monday, job_deps())
    stack.clock.set(monday)
    stack.settle()
    summaries = [t for t in stack.sim.texts(coordinator) if t.startswith("【今日の相談】")]
    assert summaries == ["【今日の相談】12月7日\n・対応中：1件\n・期限超過：0件\n・新しい担い手：0人"]


def test_the_audit_trail_cannot_be_edited(stack, town):
    from sqlalchemy import text as sql

    with transaction(stack.sessions) as s:
        need = need_rules.create_need(s, person=None, category="talk", area=town.areas["asaka-arai"],
                                      now=stack.clock.now())
        esc.escalate(s, need, esc.NO_MATCH, stack.clock.now())
    with pytest.raises(Exception, match="audit trail"):
        with transaction(stack.sessions) as s:
            s.execute(sql("UPDATE audit_entries SET action = 'nothing'"))
    with pytest.raises(Exception, match="audit trail"):
        with transaction(stack.sessions) as s:
            s.execute(sql("DELETE FROM audit_entries"))


@pytest.mark.postgres
def test_two_coordinators_acknowledging_at_once_make_one_owner(pg_stack):
    stack = pg_stack
    town = build_town(stack)
    with transaction(stack.sessions) as s:
        second = town.person(s, "asaka_coord2", "安積 副コーディネーター", None)
        people.assign_coordinator(s, second, s.get(Area, town.areas["asaka"]), stack.clock.now())
        need = need_rules.create_need(s, person=None, category="talk", area=town.areas["asaka-arai"],
                                      now=stack.clock.now())
        case, _ = esc.escalate(s, need, esc.NO_MATCH, stack.clock.now())
    for who in ("asaka_coord", "asaka_coord2"):
        event = {"type": "postback", "mode": "active", "timestamp": 1_764_100_000_000,
                 "source": {"type": "user", "userId": town.ids[who]}, "webhookEventId": f"01ACK{who:0>21}",
                 "deliveryContext": {"isRedelivery": False}, "replyToken": f"token-{who}",
                 "postback": {"data": f"v1|esc|ack|{case.id}"}}
        with transaction(stack.sessions) as s:
            inbox.store_events(s, "Udest", [event], stack.clock.now())
    barrier = threading.Barrier(2, timeout=20)

    def together(session, raw, now):
        barrier.wait()
        return handle_event(session, raw, now)

    threads = [threading.Thread(target=EventWorker(stack.sessions, stack.clock, together).run_once) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    stack.settle()
    with stack.sessions() as s:
        owned = s.get(esc.Escalation, case.id)
        assert owned.status == "acknowledged" and owned.owner_id is not None
        acks = s.scalars(select(esc.AuditEntry).where(esc.AuditEntry.action == "acknowledged")).all()
        assert len(acks) == 1
    # The winner's answer is the acknowledgement, then (after a blank line) the resident's contact.
    answers = [last(stack, town.ids[w])["text"].split("\n\n", 1)[0] for w in ("asaka_coord", "asaka_coord2")]
    assert sorted(a == COORDINATOR["acknowledged"] for a in answers) == [False, True]
    loser = answers[0] if answers[0] != COORDINATOR["acknowledged"] else answers[1]
    assert "担当しています" in loser or "担当になりました" in loser


def test_a_coordinator_connects_a_volunteer_and_a_resource_from_line(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    press(stack, resident, RESIDENT["menu_person"], stack.sim.messages(resident)[-1]["message"])
    stack.settle()
    coordinator = town.ids["asaka_coord"]
    with transaction(stack.sessions) as s:  # the coordinator learned on the phone it is about shopping
        need = s.get(Need, case_of(stack).need_id)
        need.category = "shopping"
    notice = last(stack, coordinator)
    press(stack, coordinator, COORDINATOR["connect"], notice)
    stack.settle()
    offer = last(stack, coordinator)
    assert "鈴木 博" in offer["text"] and "移動販売 みどり号" in offer["text"]
    press(stack, coordinator, "担い手1に依頼", offer)
    stack.settle()
    asked = [who for who in ("suzuki", "takahashi")
             if any("お手伝いのお願い" in all_text(m["message"]) for m in stack.sim.messages(town.ids[who]))]
    assert len(asked) == 1
    press(stack, coordinator, "資源1を住民へ", offer)
    stack.settle()
    assert "移動販売 みどり号" in all_text(last(stack, resident))
    forged = stack.sim.send_postback(coordinator, f"v1|esc|askv|{case_of(stack).id}|999999", display_text="x")
    stack.settle()
    assert forged["status"] == 200 and last(stack, coordinator)["text"] == COORDINATOR["not_yours"]


def test_people_who_blocked_the_account_are_erased_after_the_retention_period(stack, town):
    from datetime import timedelta

    resident = resident_in(stack, "安積地区", "荒井")
    stack.sim.unfollow(resident)
    stack.settle()
    for days, expected in ((29, 1), (31, 0)):
        with transaction(stack.sessions) as s:
            jobs.purge_unfollowed(s, stack.clock.now() + timedelta(days=days), job_deps(retention=timedelta(days=30)))
        with stack.sessions() as s:
            assert len(s.scalars(select(Person).where(Person.line_user_id == resident)).all()) == expected


def test_a_cry_for_help_the_bot_fails_on_still_gets_the_119_guidance(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    worker = broken_worker(stack, max_attempts=1)
    stack.sim.send_text(resident, "主人が倒れて息をしてないみたい")
    worker.run_until_idle()
    stack.settle()
    [answer] = [m["message"] for m in stack.sim.messages(resident)][-2:-1]
    assert answer["text"].startswith("【命にかかわるときは、すぐに119番へ】")
    assert last(stack, resident)["text"] == RESIDENT["bot_failed"]


def test_the_other_coordinators_told_of_a_case_see_who_took_it(stack, town):
    with transaction(stack.sessions) as s:
        second = town.person(s, "asaka_coord2", "安積 二人目", None)
        people.assign_coordinator(s, second, s.get(Area, town.areas["asaka"]), stack.clock.now())
    resident = resident_in(stack, "安積地区", "荒井")
    press(stack, resident, RESIDENT["menu_person"], stack.sim.messages(resident)[-1]["message"])
    stack.settle()
    press(stack, town.ids["asaka_coord"], COORDINATOR["ack"])
    stack.settle()
    taken = COORDINATOR["owner_told"].split("{")[1].split("}")[1]  # 「さんが担当になりました」
    told = last(stack, town.ids["asaka_coord2"])["text"]
    assert told.startswith("安積 コーディネーター" + taken) and "安積地区" in told
    assert not any(taken in t for t in stack.sim.texts(town.ids["asaka_coord"]))  # not the owner

"""Reaching the resident: the contact on the card and after 対応します, the relay both ways, and
the audit trail of every view and every message — from LINE and from the console."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.messages import postback as postbacks
from bot.messages.coordinator import COORDINATOR
from domain import cases
from domain import escalation as esc
from domain import people
from domain.db import transaction
from domain.people import find_by_line_id
from tests.bot.conftest import all_text, buttons, last

FROM = "地区の生活支援コーディネーター（安積地区）より"


def audit_actions(stack, case_id: int) -> list[tuple[str, str]]:
    with stack.sessions() as s:
        return [(e.action, e.detail) for e in s.scalars(
            select(esc.AuditEntry).where(esc.AuditEntry.escalation_id == case_id).order_by(esc.AuditEntry.id))]


def test_the_notice_carries_the_contact_and_the_message_button(stack, console_town):
    from bot.cases import notify_coordinators

    class Ctx:
        def __init__(self, session):
            self.session, self.now, self.console_url, self.deadline_policy = session, stack.clock.now(), None, None
            self.pushed = []

        def push(self, user_id, *messages):
            self.pushed.append((user_id, messages))

    with transaction(stack.sessions) as s:
        ctx = Ctx(s)
        case = s.get(esc.Escalation, console_town.asaka_case)
        assert notify_coordinators(ctx, s, case) == 1
    [(to, (card,))] = ctx.pushed
    assert to == console_town.ids["asaka_coord"]
    shown = all_text(card)
    assert "山田 ハナ" in shown and "024-111-2222" in shown and "安積地区 荒井" in shown
    assert "買い物に行けなくて困っています" in shown
    labels = [label for label, _data in buttons(card)]
    assert COORDINATOR["message_resident"] in labels and COORDINATOR["call"] in labels
    assert ("contact_viewed", "line") in audit_actions(stack, console_town.asaka_case)


def test_relay_on_line_both_ways(stack, console_town):
    coordinator, resident = console_town.ids["asaka_coord"], console_town.ids["yamada"]
    case_id = console_town.asaka_case
    stack.sim.send_postback(coordinator, postbacks.encode("esc", "ack", case_id))
    stack.settle()
    answer = last(stack, coordinator)
    assert COORDINATOR["acknowledged"] in answer["text"]
    assert "山田 ハナ" in answer["text"] and "024-111-2222" in answer["text"] and "安積地区 荒井" in answer["text"]
    stack.sim.press(coordinator, COORDINATOR["message_resident"])
    stack.settle()
    assert "地区の生活支援コーディネーター（安積地区）より" in last(stack, coordinator)["text"]
    stack.sim.send_text(coordinator, "明日の10時ごろお電話します。")
    stack.settle()
    assert last(stack, coordinator)["text"] == COORDINATOR["message_sent"]
    received = last(stack, resident)["text"]
    assert received.startswith(FROM) and "明日の10時ごろお電話します。" in received

    stack.sim.send_text(resident, "はい、お待ちしています")
    stack.settle()
    from bot.messages.coordinator import RELAY
    assert last(stack, resident)["text"] == RELAY["answer_sent"]
    back = last(stack, coordinator)["text"]
    assert "住民からの返事" in back and "はい、お待ちしています" in back and "山田 ハナ" in back

    actions = [a for a, _ in audit_actions(stack, case_id)]
    assert actions.count("message_to_resident") == 1 and actions.count("message_from_resident") == 1
    # The audit trail records that a message went, never its words.
    assert all("お電話" not in d and "お待ち" not in d for _, d in audit_actions(stack, case_id))


def test_without_a_waiting_coordinator_the_residents_words_are_a_new_need(stack, console_town):
    resident = console_town.ids["yamada"]
    stack.sim.send_text(resident, "ゴミ出しを手伝ってほしい")
    stack.settle()
    assert all("住民からの返事" not in all_text(m["message"]) for m in stack.sim.messages(console_town.ids["asaka_coord"]))
    assert "ゴミ出し" in last(stack, resident)["text"]  # restated as a new 困りごと


def test_relay_from_the_console_arrives_and_the_answer_shows_on_the_case_page(browser, stack, console_town):
    browser.login(console_town.ids["asaka_coord"])
    case_id = console_town.asaka_case
    page = browser.get(f"/console/cases/{case_id}").get_data(as_text=True)
    assert "山田 ハナ" in page and "024-111-2222" in page and "買い物に行けなくて困っています" in page
    assert ("contact_viewed", "console") in audit_actions(stack, case_id)
    sent = browser.post(f"/console/cases/{case_id}/message", {"message": "コンソールから失礼します。"})
    assert sent.status_code == 302
    stack.settle()
    received = last(stack, console_town.ids["yamada"])["text"]
    assert received.startswith(FROM) and "コンソールから失礼します。" in received
    stack.sim.send_text(console_town.ids["yamada"], "ありがとうございます")
    stack.settle()
    page = browser.get(f"/console/cases/{case_id}").get_data(as_text=True)
    assert "コンソールから失礼します。" in page and "ありがとうございます" in page
    assert "住民からの返事" in last(stack, console_town.ids["asaka_coord"])["text"]


def test_erasing_the_resident_erases_the_relayed_messages(stack, console_town):
    from bot.notifier import OutboxNotifier

    with transaction(stack.sessions) as s:
        coordinator = find_by_line_id(s, console_town.ids["asaka_coord"])
        cases.message_resident(s, console_town.asaka_case, coordinator, "お元気ですか", stack.clock.now(),
                               OutboxNotifier())
    with transaction(stack.sessions) as s:
        people.erase_person(s, find_by_line_id(s, console_town.ids["yamada"]))
    with stack.sessions() as s:
        assert cases.messages_of(s, console_town.asaka_case) == []


def test_a_resident_who_blocked_the_account_cannot_be_messaged(stack, console_town):
    from bot.notifier import OutboxNotifier

    with transaction(stack.sessions) as s:
        people.mark_unfollowed(find_by_line_id(s, console_town.ids["yamada"]), stack.clock.now())
    with transaction(stack.sessions) as s:
        coordinator = find_by_line_id(s, console_town.ids["asaka_coord"])
        with pytest.raises(cases.CaseError):
            cases.message_resident(s, console_town.asaka_case, coordinator, "もしもし", stack.clock.now(),
                                   OutboxNotifier())

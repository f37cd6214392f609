"""Through the simulator: reminders with buttons, answers, tallies, notices, 1,200 members."""
from __future__ import annotations

import json

from linesim.server import state_of
from sqlalchemy import select

from meeting_builders import Council, tokyo
from bot.handlers import EventContext
from bot.meetings import handle_text
from domain.people import find_by_line_id
from domain.db import transaction
from domain import meetings as mtg
from bot.messages.council import COUNCIL
from bot.outbox import OutboxMessage
from scheduler.jobs import send_due_reminders
from tests.jobs_support import job_deps


def tick(stack) -> None:
    with transaction(stack.sessions) as s:
        send_due_reminders(s, stack.clock.now(), job_deps())
    stack.settle()


def setup_meetings(stack, n_members=3):
    organiser_uid = stack.new_user("佐藤コーディネーター")
    member_uids = [stack.new_user(f"委員{i + 1}") for i in range(n_members)]
    outsider_uid = stack.new_user("別地区の委員")
    stack.settle()
    with transaction(stack.sessions) as s:
        council = Council.build(s, stack.clock.now())
        organiser = council.coordinator(uid=organiser_uid)
        members = [council.person(f"委員{i + 1}", uid=uid) for i, uid in enumerate(member_uids)]
        outsider = council.person("別地区の委員", uid=outsider_uid)
        ours = council.meeting("2026-12-16 14:00", members=members, organiser=organiser,
                               agenda=["買い物支援の報告", "サロンの新設について"]).meeting.id
        theirs = council.meeting("2026-12-17 14:00", members=[outsider], area="tomita",
                                 title="富田地区 第2層協議体").meeting.id
    return organiser_uid, member_uids, outsider_uid, ours, theirs


def last_text(stack, uid) -> str:
    return stack.sim.texts(uid)[-1]


def answers(stack, meeting_id) -> dict[str, int]:
    with stack.sessions() as s:
        t = mtg.tally(s, mtg.get_meeting(s, meeting_id))
        return {**{c: len(v) for c, v in t.by_choice.items()}, "unanswered": len(t.unanswered)}


def test_a_reminder_arrives_with_buttons_and_answers_change_the_tally(stack):
    organiser, (m1, m2, m3), outsider, ours, theirs = setup_meetings(stack)
    stack.clock.set(tokyo("2026-12-09 09:00"))
    tick(stack)
    [card] = [m for m in stack.sim.messages(m1) if m["message"]["type"] == "flex"]
    assert card["via"] == "multicast"
    body = json.dumps(card["message"], ensure_ascii=False)
    assert "安積地区 第2層協議体" in body and "サロンの新設について" in body
    buttons = card["message"]["contents"]["footer"]["contents"][0]["contents"]
    assert [b["action"]["label"] for b in buttons] == ["出席", "欠席", "未定"]

    stack.sim.send_postback(m1, buttons[0]["action"]["data"])
    stack.sim.send_postback(m2, f"v1|mtg|ans|{ours}|absent")
    stack.settle()
    assert last_text(stack, m1).startswith("「出席」で承りました")
    assert answers(stack, ours) == {"attend": 1, "absent": 1, "undecided": 0, "unanswered": 1}

    stack.clock.advance(hours=3)
    stack.sim.send_postback(m1, f"v1|mtg|ans|{ours}|undecided")  # changed her mind
    stack.settle()
    assert "（前の回答「出席」から変更しました）" in last_text(stack, m1)
    assert answers(stack, ours) == {"attend": 0, "absent": 1, "undecided": 1, "unanswered": 1}

    # The organiser asks on LINE: the list, then the answers.
    stack.sim.send_postback(organiser, "v1|mtg|list")
    stack.settle()
    carousel = stack.sim.messages(organiser)[-1]["message"]
    assert carousel["type"] == "flex" and carousel["contents"]["type"] == "carousel"
    see = [c["action"] for c in carousel["contents"]["contents"][0]["footer"]["contents"]
           if c.get("action", {}).get("label") == COUNCIL["see_answers"]]
    assert see == [{"type": "postback", "label": "回答を見る", "data": f"v1|mtg|tally|{ours}",
                    "displayText": "回答を見る"}]
    stack.sim.send_postback(organiser, see[0]["data"])
    stack.settle()
    tally = last_text(stack, organiser)
    assert "欠席 1名：委員2" in tally and "未定 1名：委員1" in tally and "未回答 1名：委員3" in tally


def test_a_forged_answer_for_someone_elses_meeting_is_refused(stack):
    organiser, (m1, _m2, _m3), outsider, ours, theirs = setup_meetings(stack)
    for data in (f"v1|mtg|ans|{theirs}|attend", "v1|mtg|ans|999999|attend", f"v1|mtg|ans|{ours}|maybe",
                 "v1|mtg|ans|abc|attend", f"v1|mtg|ans|{ours}"):
        stack.sim.send_postback(m1, data)
        stack.settle()
        assert last_text(stack, m1) == COUNCIL["refuse_not_member"], data
    stack.sim.send_postback(outsider, f"v1|mtg|ans|{ours}|attend")
    stack.sim.send_postback(m1, f"v1|mtg|tally|{ours}")  # a member is not the organiser
    stack.settle()
    assert last_text(stack, outsider) == COUNCIL["refuse_not_member"]
    assert last_text(stack, m1) == COUNCIL["refuse_not_allowed"]
    assert answers(stack, theirs) == {"attend": 0, "absent": 0, "undecided": 0, "unanswered": 1}
    assert answers(stack, ours)["unanswered"] == 3


def test_an_answer_after_the_start_is_politely_refused(stack):
    organiser, (m1, _m2, _m3), outsider, ours, theirs = setup_meetings(stack)
    stack.sim.send_postback(m1, f"v1|mtg|ans|{ours}|attend")
    stack.settle()
    stack.clock.set(tokyo("2026-12-16 14:00"))
    stack.sim.send_postback(m1, f"v1|mtg|ans|{ours}|absent")
    stack.settle()
    assert last_text(stack, m1) == COUNCIL["refuse_closed"]
    assert answers(stack, ours)["attend"] == 1


def test_change_and_cancellation_notices_reach_members_through_the_simulator(stack):
    organiser, (m1, m2, m3), outsider, ours, theirs = setup_meetings(stack)
    with transaction(stack.sessions) as s:
        mtg.change_meeting(s, mtg.get_meeting(s, ours), stack.clock.now(), place="富田公民館 和室")
    tick(stack)
    for uid in (m1, m2, m3, organiser):
        notice = stack.sim.messages(uid)[-1]
        assert notice["via"] == "multicast"
        assert notice["message"]["altText"].startswith("【変更】会議の場所が変わりました")
        assert "場所：安積公民館 2階会議室 → 富田公民館 和室" in json.dumps(notice["message"], ensure_ascii=False)
    assert all("変更" not in t for t in stack.sim.texts(outsider))

    with transaction(stack.sessions) as s:
        mtg.cancel_meeting(s, mtg.get_meeting(s, ours), stack.clock.now(), "大雪のため")
    tick(stack)
    for uid in (m1, m2, m3, organiser):
        assert last_text(stack, uid).startswith("【中止】次の会議は中止になりました。")
    before = {uid: len(stack.sim.messages(uid)) for uid in (m1, m2, m3)}
    stack.clock.set(tokyo("2026-12-15 09:00"))
    tick(stack)
    assert {uid: len(stack.sim.messages(uid)) for uid in (m1, m2, m3)} == before
    stack.sim.send_postback(m1, f"v1|mtg|ans|{ours}|attend")
    stack.settle()
    assert last_text(stack, m1) == COUNCIL["refuse_cancelled"]


def test_1200_members_get_their_reminder_in_3_multicast_requests(stack):
    organiser_uid = stack.new_user("主催者")
    # The simulator's users, made in its state directly (1,200 control-API calls take seconds).
    state = state_of(stack.sim_server.server.app)
    uids = [state.add_user(f"委員{i}", None, following=True).userId for i in range(1200)]
    stack.settle()
    with transaction(stack.sessions) as s:
        council = Council.build(s, stack.clock.now())
        organiser = council.coordinator(uid=organiser_uid, area="koriyama")
        members = council.many(uids)
        council.meeting("2026-12-16 14:00", members=members, organiser=organiser, layer="city",
                        area="koriyama", title="郡山市 第1層協議体（全体会）")
    before = len(stack.sim.requests_log("multicast"))
    stack.clock.set(tokyo("2026-12-09 09:00"))
    tick(stack)
    requests = stack.sim.requests_log("multicast")[before:]
    assert len(requests) == 3
    assert sorted(r["recipients"] for r in requests) == [200, 500, 500]
    assert all(r["status"] == 200 for r in requests)
    assert stack.sim.messages(uids[0])[-1]["via"] == "multicast"
    assert stack.sim.messages(uids[-1])[-1]["via"] == "multicast"


def test_the_digest_button_shows_each_member_their_own_meetings(stack):
    organiser, (m1, m2, m3), outsider, ours, theirs = setup_meetings(stack)
    stack.sim.send_postback(m1, "v1|mtg|mine")
    stack.settle()
    carousel = stack.sim.messages(m1)[-1]["message"]
    bubbles = carousel["contents"]["contents"]
    assert len(bubbles) == 1 and "安積地区 第2層協議体" in json.dumps(bubbles[0], ensure_ascii=False)
    assert bubbles[0]["footer"]["contents"][0]["contents"][0]["action"]["data"] == f"v1|mtg|ans|{ours}|attend"


def test_the_opinion_of_a_written_meeting_is_taken_from_the_next_text(sessions, clock):
    with transaction(sessions) as s:
        council = Council.build(s, clock.now())
        organiser = council.coordinator()
        member = council.person("委員A")
        meeting = council.meeting("2026-12-16 10:00", members=[member], organiser=organiser,
                                  mode="written", place="", reply_deadline=tokyo("2026-12-11 17:00")).meeting
        uid, mid = member.line_user_id, meeting.id

    def ctx(session, kind="message"):
        return EventContext(session, clock.now(), {"type": kind, "replyToken": "r" * 32,
                                                   "source": {"type": "user", "userId": uid},
                                                   "webhookEventId": f"01EVENT{clock.now().timestamp()}"})

    def turn(session, fn, *args, kind="message"):
        c = ctx(session, kind)
        outcome = fn(c, *args)
        if hasattr(c, "flush"):  # the context queues its reply until the turn ends
            c.flush()
        return outcome

    from bot.dialogue.conversation import CONTEXT_VERBS
    with transaction(sessions) as s:
        assert turn(s, CONTEXT_VERBS["mtg"], ["ans", str(mid), "opinion"], kind="postback") == "mtg:ans:opinion"
    clock.advance(minutes=5)
    with transaction(sessions) as s:
        assert turn(s, handle_text, find_by_line_id(s, uid), "移動支援の担い手が足りません。") == "mtg:opinion"
        replies = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert replies[-1].message_list[0]["text"].startswith("ご意見を受け付けました")
        t = mtg.tally(s, mtg.get_meeting(s, mid))
        assert [(m.name, m.note) for m in t.by_choice[mtg.OPINION]] == [("委員A", "移動支援の担い手が足りません。")]
    clock.advance(minutes=1)
    with transaction(sessions) as s:
        assert turn(s, handle_text, find_by_line_id(s, uid), "ありがとう") is None  # only the one text after the button
        assert turn(s, handle_text, find_by_line_id(s, uid), "会議の予定") == "mtg:list"


def test_a_member_who_blocked_the_account_is_shown_unreachable_not_silent(stack):
    organiser, (m1, m2, m3), outsider, ours, theirs = setup_meetings(stack)
    stack.sim.unfollow(m3)
    stack.settle()
    stack.clock.set(tokyo("2026-12-09 09:00"))
    tick(stack)
    assert not any(m["message"]["type"] == "flex" for m in stack.sim.messages(m3))
    stack.sim.send_postback(organiser, f"v1|mtg|tally|{ours}")
    stack.settle()
    tally = last_text(stack, organiser)
    assert "未回答 2名：委員1、委員2" in tally
    assert "届かない（ブロック中・LINE未登録） 1名：委員3" in tally


def test_a_member_asks_for_the_meeting_list_by_typing_on_line(stack):
    organiser, (m1, _m2, _m3), _outsider, ours, _theirs = setup_meetings(stack)
    stack.sim.send_text(organiser, "かいぎのよていは？")
    stack.settle()
    listing = stack.sim.messages(organiser)[-1]["message"]
    assert "安積地区 第2層協議体" in json.dumps(listing, ensure_ascii=False)

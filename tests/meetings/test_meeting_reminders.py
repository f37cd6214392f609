"""Reminders: at the right Tokyo time, moved by changes, stopped by cancellation, sent once."""
from __future__ import annotations

import json
from datetime import datetime, time, timezone

import pytest
from sqlalchemy import select

from meeting_builders import tokyo
from domain import meetings as mtg
from domain.meetings import MeetingReminder, ReminderSpec
from bot.outbox import OutboxMessage
from scheduler.jobs import NO_DIGEST, send_due_reminders
from tests.jobs_support import job_deps

UTC = timezone.utc


def outbox(session, kind=None) -> list[OutboxMessage]:
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return [r for r in rows if kind is None or r.kind == kind]


def reminders(meeting, kind=mtg.REMIND) -> list[MeetingReminder]:
    return sorted((r for r in meeting.reminders if r.kind == kind), key=lambda r: r.due_at)


def test_default_reminders_are_7_and_1_days_before_at_9_tokyo_across_the_year_end(council, db):
    members = council.members(3)
    meeting = council.meeting("2027-01-06 14:00", members=members).meeting
    assert [r.due_at for r in reminders(meeting)] == [
        tokyo("2026-12-30 09:00"), tokyo("2027-01-05 09:00")]
    # 09:00 in Tokyo is midnight UTC: the UTC date is the same here, the time is not 09:00.
    assert reminders(meeting)[0].due_at == datetime(2026, 12, 30, 0, 0, tzinfo=UTC)

    assert send_due_reminders(db, tokyo("2026-12-30 08:59"), job_deps()).sent == 0
    report = send_due_reminders(db, tokyo("2026-12-30 09:00"), job_deps())
    assert (report.sent, report.late, report.recipients) == (1, 0, 3)
    [row] = outbox(db, "multicast")
    assert sorted(row.recipient_list) == sorted(m.line_user_id for m in members)
    card = row.message_list[0]
    assert card["type"] == "flex" and "2027年1月6日（水）14:00〜16:00" in json.dumps(card, ensure_ascii=False)
    data = [c["action"]["data"] for c in card["contents"]["footer"]["contents"][0]["contents"]]
    assert data == [f"v1|mtg|ans|{meeting.id}|attend", f"v1|mtg|ans|{meeting.id}|absent",
                    f"v1|mtg|ans|{meeting.id}|undecided"]
    assert send_due_reminders(db, tokyo("2027-01-05 08:59"), job_deps()).sent == 0
    assert send_due_reminders(db, tokyo("2027-01-05 09:00"), job_deps()).sent == 1
    assert "あす" in outbox(db, "multicast")[-1].message_list[0]["altText"]


def test_an_early_morning_reminder_falls_on_the_previous_utc_day_across_a_month(council, db):
    members = council.members(2)
    meeting = council.meeting("2026-12-02 10:00", members=members,
                              reminders=[ReminderSpec(1, time(8, 0), "明日は資料をお持ちください")]).meeting
    [row] = reminders(meeting)
    assert row.due_at == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 12月1日 08:00 in Tokyo
    assert send_due_reminders(db, datetime(2026, 11, 30, 22, 59, tzinfo=UTC), job_deps()).sent == 0
    assert send_due_reminders(db, datetime(2026, 11, 30, 23, 0, tzinfo=UTC), job_deps()).sent == 1
    messages = outbox(db, "multicast")[0].message_list
    assert messages[0] == {"type": "text", "text": "明日は資料をお持ちください"}


def test_a_meeting_on_a_holiday_is_flagged_to_the_organiser_and_reminded_as_usual(council, db):
    organiser = council.coordinator()
    members = council.members(2)
    created = council.meeting("2027-01-11 14:00", members=members, organiser=organiser)
    assert [(w.day.isoformat(), w.name) for w in created.warnings] == [("2027-01-11", "成人の日")]
    assert created.meeting.holiday_name == "成人の日"
    assert council.meeting("2027-01-13 14:00", members=members).warnings == []

    report = send_due_reminders(db, council.now, job_deps())
    assert report.by_kind["holiday"] == 1
    [push] = outbox(db, "push")
    assert push.to_user == organiser.line_user_id and "成人の日" in push.message_list[0]["text"]
    assert [r.due_at for r in reminders(created.meeting)] == [
        tokyo("2027-01-04 09:00"), tokyo("2027-01-10 09:00")]
    assert send_due_reminders(db, tokyo("2027-01-04 09:00"), job_deps()).sent == 1


def test_a_reminder_due_while_the_scheduler_was_down_is_sent_late_if_still_useful(council, db):
    meeting = council.meeting("2026-12-16 14:00", members=council.members(2)).meeting
    week_before, day_before = reminders(meeting)
    # Down from before 12月9日 09:00 until 12月11日 15:00: the week's reminder goes out late.
    report = send_due_reminders(db, tokyo("2026-12-11 15:00"), job_deps())
    assert (report.sent, report.late, report.dropped) == (1, 1, 0)
    assert week_before.status == mtg.SENT and day_before.status == mtg.PENDING


def test_two_reminders_due_at_once_send_only_the_later(council, db):
    meeting = council.meeting("2026-12-16 14:00", members=council.members(2)).meeting
    week_before, day_before = reminders(meeting)
    report = send_due_reminders(db, tokyo("2026-12-16 08:00"), job_deps())  # down for a week
    assert report.by_kind == {"remind": 1, "tally": 1} and report.dropped == 1
    assert week_before.status == mtg.DROPPED and "superseded" in week_before.status_reason
    assert day_before.status == mtg.SENT
    assert len(outbox(db, "multicast")) == 1


def test_a_reminder_whose_meeting_has_started_is_dropped_and_recorded(council, db):
    meeting = council.meeting("2026-12-16 14:00", members=council.members(2)).meeting
    report = send_due_reminders(db, tokyo("2026-12-16 14:30"), job_deps())
    assert report.sent == 0 and report.dropped == 3  # two reminders and the tally
    assert {r.status_reason for r in meeting.reminders if r.status == mtg.DROPPED} == {
        "too late: the meeting has started"}
    assert outbox(db) == []


def test_a_cancelled_meeting_gets_a_notice_and_its_reminders_never_fire(council, db):
    organiser = council.coordinator()
    members = council.members(3)
    meeting = council.meeting("2026-12-16 14:00", members=members, organiser=organiser).meeting
    assert mtg.cancel_meeting(db, meeting, council.now, "会場の工事のため")
    assert not mtg.cancel_meeting(db, meeting, council.now)  # twice: nothing more
    report = send_due_reminders(db, council.now, job_deps())
    assert report.by_kind == {"cancel": 1}
    [notice] = outbox(db, "multicast")
    assert set(notice.recipient_list) == {m.line_user_id for m in members} | {organiser.line_user_id}
    assert "中止" in notice.message_list[0]["text"] and "会場の工事のため" in notice.message_list[0]["text"]
    for moment in ("2026-12-09 09:00", "2026-12-15 09:00", "2026-12-15 17:00", "2026-12-20 09:00"):
        assert send_due_reminders(db, tokyo(moment), job_deps()).sent == 0
    assert {r.status for r in meeting.reminders if r.kind != mtg.CANCEL} == {mtg.SKIPPED}


def test_a_change_sends_a_notice_and_moves_the_reminders(council, db):
    members = council.members(2)
    meeting = council.meeting("2026-12-16 14:00", members=members).meeting
    send_due_reminders(db, tokyo("2026-12-09 09:00"), job_deps())  # the week's reminder is sent
    changed = mtg.change_meeting(db, meeting, tokyo("2026-12-10 12:00"),
                                 starts_at=tokyo("2026-12-23 10:00"), place="富田公民館")
    assert set(changed.changes) == {"starts_at", "ends_at", "place"}
    assert changed.warnings == []
    assert meeting.version == 2
    week_before, day_before = reminders(meeting)
    assert (week_before.due_at, week_before.status, week_before.version) == (
        tokyo("2026-12-16 09:00"), mtg.PENDING, 2)  # sent for the old date: again for the new one
    assert day_before.due_at == tokyo("2026-12-22 09:00")

    report = send_due_reminders(db, tokyo("2026-12-10 12:00"), job_deps())
    assert report.by_kind == {"change": 1}
    notice = outbox(db, "multicast")[-1]
    body = json.dumps(notice.message_list, ensure_ascii=False)
    assert "日時：2026年12月16日（水）14:00 → 2026年12月23日（水）10:00" in body
    assert "場所：安積公民館 2階会議室 → 富田公民館" in body
    # The old day passes quietly; the new days remind.
    assert send_due_reminders(db, tokyo("2026-12-15 09:00"), job_deps()).sent == 0
    assert send_due_reminders(db, tokyo("2026-12-16 09:00"), job_deps()).sent == 1
    keys = [r.dedupe_key for r in outbox(db, "multicast")]
    assert keys[0].endswith(":v1#0") and keys[-1].endswith(":v2#0") and len(set(keys)) == len(keys)


def test_two_changes_before_the_scheduler_runs_make_one_notice(council, db):
    meeting = council.meeting("2026-12-16 14:00", members=council.members(2)).meeting
    mtg.change_meeting(db, meeting, council.now, place="富田公民館")
    mtg.change_meeting(db, meeting, council.now, place="西田公民館")
    send_due_reminders(db, council.now, job_deps())
    [notice] = outbox(db, "multicast")
    assert "場所：安積公民館 2階会議室 → 西田公民館" in json.dumps(notice.message_list, ensure_ascii=False)


def test_moving_onto_a_holiday_warns_again(council, db):
    organiser = council.coordinator()
    meeting = council.meeting("2027-01-13 14:00", members=council.members(1), organiser=organiser).meeting
    changed = mtg.change_meeting(db, meeting, council.now, starts_at=tokyo("2027-01-11 14:00"))
    assert [w.name for w in changed.warnings] == ["成人の日"]
    report = send_due_reminders(db, council.now, job_deps())
    assert report.by_kind == {"change": 1, "holiday": 1}


def test_the_organiser_gets_the_tally_the_day_before_showing_blocked_members_as_unreachable(council, db):
    organiser = council.coordinator()
    a, b, c = council.members(3)
    meeting = council.meeting("2026-12-16 14:00", members=[a, b, c], organiser=organiser).meeting
    mtg.record_answer(db, meeting.id, a.id, mtg.ATTEND, council.now)
    c.active, c.unfollowed_at = False, council.now  # blocked the account
    assert send_due_reminders(db, tokyo("2026-12-15 16:59"), job_deps()).by_kind.get("tally") is None
    report = send_due_reminders(db, tokyo("2026-12-15 17:00"), job_deps())
    assert report.by_kind["tally"] == 1
    [push] = [r for r in outbox(db, "push") if "回答状況" in r.message_list[0]["text"]]
    text = push.message_list[0]["text"]
    assert push.to_user == organiser.line_user_id
    assert "出席 1名：委員1" in text and "未回答 1名：委員2" in text
    assert "届かない（ブロック中・LINE未登録） 1名：委員3" in text


def test_reminders_skip_members_who_blocked_the_account(council, db):
    a, b = council.members(2)
    b.active, b.unfollowed_at = False, council.now
    council.meeting("2026-12-16 14:00", members=[a, b])
    report = send_due_reminders(db, tokyo("2026-12-09 09:00"), job_deps())
    assert (report.recipients, report.unreachable) == (1, 1)
    assert outbox(db, "multicast")[0].recipient_list == [a.line_user_id]


def test_minutes_reminders_3_and_7_days_after_until_recorded(council, db):
    organiser = council.coordinator()
    meeting = council.meeting("2026-12-16 14:00", members=council.members(1), organiser=organiser).meeting
    assert [r.due_at for r in reminders(meeting, mtg.MINUTES)] == [
        tokyo("2026-12-19 09:00"), tokyo("2026-12-23 09:00")]
    send_due_reminders(db, tokyo("2026-12-16 13:00"), job_deps())  # reminders and tally before
    before = len(outbox(db, "push"))
    assert send_due_reminders(db, tokyo("2026-12-19 09:00"), job_deps()).by_kind == {"minutes": 1}
    pushes = outbox(db, "push")
    assert len(pushes) == before + 1 and "会議録" in pushes[-1].message_list[0]["text"]
    assert "活動内容報告書" in pushes[-1].message_list[0]["text"]
    mtg.mark_minutes(db, meeting, tokyo("2026-12-20 10:00"), "議事は3件")
    assert send_due_reminders(db, tokyo("2026-12-23 09:00"), job_deps()).sent == 0
    assert reminders(meeting, mtg.MINUTES)[-1].status_reason == "minutes recorded"


def test_a_run_is_idempotent_and_a_rolled_back_run_sends_nothing(council, db, sessions, clock):
    council.meeting("2026-12-16 14:00", members=council.members(2))
    db.commit()
    at = tokyo("2026-12-09 09:00")

    class Crash(Exception):
        pass

    with pytest.raises(Crash):  # a scheduler killed after enqueueing, before commit
        with sessions() as s, s.begin():
            assert send_due_reminders(s, at, job_deps()).sent == 1
            raise Crash
    with sessions() as s, s.begin():
        assert outbox(s) == []
        assert send_due_reminders(s, at, job_deps()).sent == 1
    with sessions() as s, s.begin():
        assert send_due_reminders(s, at, job_deps()).claimed == 0  # a second run: nothing left
        assert len(outbox(s, "multicast")) == 1


def test_the_outbox_dedupe_key_is_the_second_guard(council, db):
    meeting = council.meeting("2026-12-16 14:00", members=council.members(2)).meeting
    send_due_reminders(db, tokyo("2026-12-09 09:00"), job_deps())
    week_before = reminders(meeting)[0]
    week_before.status = mtg.PENDING  # as if a bug (or a restore) put it back
    report = send_due_reminders(db, tokyo("2026-12-09 09:01"), job_deps())
    assert report.sent == 1 and report.outbox_rows == 0
    assert len(outbox(db, "multicast")) == 1


def test_written_meetings_count_from_the_reply_deadline_and_ask_for_opinions(council, db):
    members = council.members(2)
    meeting = council.meeting("2026-12-16 10:00", members=members, mode="written", place="",
                              reply_deadline=tokyo("2026-12-11 17:00")).meeting
    assert [r.due_at for r in reminders(meeting)] == [tokyo("2026-12-04 09:00"), tokyo("2026-12-10 09:00")]
    send_due_reminders(db, tokyo("2026-12-04 09:00"), job_deps())
    card = outbox(db, "multicast")[0].message_list[0]
    labels = [c["action"]["label"] for c in card["contents"]["footer"]["contents"][0]["contents"]]
    assert labels == ["意見を送る", "意見なし"]
    assert "12月11日（金）17:00までに" in json.dumps(card, ensure_ascii=False)


def test_meeting_rules_refuse_what_cannot_work(council):
    with pytest.raises(mtg.MeetingError, match="URL"):
        council.meeting(mode="online")
    with pytest.raises(mtg.MeetingError, match="回答期限"):
        council.meeting(mode="written")
    with pytest.raises(mtg.MeetingError, match="city"):
        council.meeting(area="asaka", layer="city")
    with pytest.raises(mtg.MeetingError, match="終了"):
        council.meeting(ends_at=tokyo("2026-12-16 13:00"))


def test_the_digest_carries_many_small_meetings_in_one_message(council, db):
    from scheduler.jobs import DigestPolicy

    groups = [council.members(3, prefix=f"m{i}-") for i in range(4)]
    for i, members in enumerate(groups):
        council.meeting("2026-12-16 14:00", members=members, title=f"第2層協議体 {i}")
    big = council.meeting("2026-12-16 10:00", members=council.members(5, prefix="big"), title="大きい会議").meeting
    report = send_due_reminders(db, tokyo("2026-12-09 09:00"), job_deps(digest=DigestPolicy(min_meetings=3, max_members=5)))
    assert (report.sent, report.digests) == (5, 1)
    rows = outbox(db, "multicast")
    assert len(rows) == 2  # one digest for 4 meetings, one card for the big one
    digest = next(r for r in rows if r.dedupe_key.startswith("meeting-digest:"))
    assert len(digest.recipient_list) == 12
    assert digest.message_list[0]["contents"]["footer"]["contents"][0]["action"]["data"] == "v1|mtg|mine"
    assert {r.delivery for r in big.reminders if r.status == mtg.SENT} == {"multicast"}
    assert send_due_reminders(db, tokyo("2026-12-15 09:00"), job_deps(digest=NO_DIGEST)).outbox_rows == 5

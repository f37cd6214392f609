"""Recurring meetings: rules, occurrences as rows, holidays flagged, skipped and moved dates."""
from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from meeting_builders import tokyo
from domain import meetings as mtg
from domain.meetings.recurrence import LAST, Rule, RuleError, occurrences, parse_rule
from scheduler.jobs import extend_series, send_due_reminders
from tests.jobs_support import job_deps


@pytest.mark.parametrize("text, rule", [
    ("毎月第3水曜 14:00", Rule("monthly", 1, 2, 3, time(14, 0))),
    ("毎月第３水曜日　１４：００", Rule("monthly", 1, 2, 3, time(14, 0))),
    ("隔月第2火曜 10時", Rule("monthly", 2, 1, 2, time(10, 0))),
    ("毎月最終金曜 13時30分", Rule("monthly", 1, 4, LAST, time(13, 30))),
    ("毎週木曜 10:00", Rule("weekly", 1, 3, None, time(10, 0))),
    ("隔週月曜 9:30", Rule("weekly", 2, 0, None, time(9, 30))),
])
def test_rules_are_read(text, rule):
    assert parse_rule(text) == rule
    assert parse_rule(rule.describe()) == rule


@pytest.mark.parametrize("text", ["毎月水曜 14:00", "毎週第2水曜 10:00", "第3水曜", "毎月第3水曜 25:00", ""])
def test_unreadable_rules_say_what_is_expected(text):
    with pytest.raises(RuleError):
        parse_rule(text)


def test_occurrences_of_monthly_bimonthly_and_weekly_rules():
    third_wed = parse_rule("毎月第3水曜 14:00")
    assert list(occurrences(third_wed, date(2026, 12, 1), count=3)) == [
        date(2026, 12, 16), date(2027, 1, 20), date(2027, 2, 17)]
    every_other = parse_rule("隔月第2火曜 10:00")
    assert list(occurrences(every_other, date(2026, 12, 1), count=3)) == [
        date(2026, 12, 8), date(2027, 2, 9), date(2027, 4, 13)]
    weekly = parse_rule("毎週木曜 10:00")
    assert list(occurrences(weekly, date(2026, 12, 28), until=date(2027, 1, 14))) == [
        date(2026, 12, 31), date(2027, 1, 7), date(2027, 1, 14)]
    fifth = parse_rule("毎月第5水曜 10:00")  # months without one are skipped
    assert list(occurrences(fifth, date(2026, 12, 1), count=2)) == [date(2026, 12, 30), date(2027, 3, 31)]


def series(council, db, rule="毎月第3水曜 14:00", **kwargs):
    organiser = kwargs.pop("organiser", None) or council.coordinator()
    return mtg.create_series(db, rule=rule, starts_on=kwargs.pop("starts_on", date(2026, 12, 1)),
                             now=council.now, layer="district", area_id=council.areas["asaka"].id,
                             title="安積地区 第2層協議体", place="安積公民館", organiser_id=organiser.id,
                             member_ids=[m.id for m in council.members(2)], **kwargs)


def test_a_series_makes_meeting_rows_with_members_and_reminders(council, db):
    result = series(council, db, count=6)
    assert [m.starts_at for m in result.created[:2]] == [tokyo("2026-12-16 14:00"), tokyo("2027-01-20 14:00")]
    assert len(result.created) == 6
    assert all(len(m.member_ids) == 2 for m in result.created)
    assert [r.due_at for r in result.created[1].reminders if r.kind == mtg.REMIND] == [
        tokyo("2027-01-13 09:00"), tokyo("2027-01-19 09:00")]
    assert mtg.extend_series(db, result.series, council.now) == ([], [])  # idempotent


def test_a_series_on_a_holiday_is_flagged(council, db):
    result = series(council, db, rule="毎月第2月曜 10:00", count=3)  # 2027-01-11 is 成人の日
    assert [(w.day, w.name) for w in result.warnings] == [(date(2027, 1, 11), "成人の日")]
    report = send_due_reminders(db, council.now, job_deps())
    assert report.by_kind == {"holiday": 1}


def test_without_a_count_the_horizon_rolls_forward_daily(council, db):
    result = series(council, db, rule="毎月第3水曜 14:00")
    assert [m.occurrence_date for m in result.created] == [
        date(2026, 12, 16), date(2027, 1, 20), date(2027, 2, 17), date(2027, 3, 17)]
    assert extend_series(db, tokyo("2027-01-01 03:00"), job_deps()) == 1  # 2027-04-21 comes into the horizon
    assert extend_series(db, tokyo("2027-01-01 03:00"), job_deps()) == 0


def test_skipped_and_moved_dates(council, db):
    result = series(council, db, count=3)
    s, (_first, second, third) = result.series, result.created
    cancelled = mtg.skip_occurrence(db, s, date(2027, 1, 20), council.now, "新年会のため")
    assert cancelled is second and second.cancelled
    moved = mtg.move_occurrence(db, s, date(2027, 2, 17), tokyo("2027-02-24 14:00"), council.now)
    assert moved is third and third.starts_at == tokyo("2027-02-24 14:00")
    report = send_due_reminders(db, council.now, job_deps())
    assert report.by_kind == {"cancel": 1, "change": 1}
    with pytest.raises(mtg.MeetingError, match="開催日ではありません"):
        mtg.skip_occurrence(db, s, date(2027, 1, 21), council.now)


def test_exceptions_apply_to_occurrences_not_yet_made(council, db):
    result = series(council, db)
    s = result.series
    mtg.skip_occurrence(db, s, date(2027, 5, 19), council.now)
    mtg.move_occurrence(db, s, date(2027, 6, 16), tokyo("2027-06-23 10:00"), council.now)
    extend_series(db, tokyo("2027-03-01 03:00"), job_deps())
    dates = {m.occurrence_date: m.starts_at for m in db.scalars(
        select(mtg.Meeting).where(mtg.Meeting.series_id == s.id))}
    assert date(2027, 5, 19) not in dates
    assert dates[date(2027, 6, 16)] == tokyo("2027-06-23 10:00")


def test_proposals_join_the_next_agenda_once(council, db):
    city = council.areas["koriyama"]
    assert mtg.add_proposal_item(db, layer="city", area_id=city.id, proposal_id=7,
                                 title="移動支援の新設", now=council.now) is None  # no meeting yet
    meeting = council.meeting("2027-02-10 14:00", layer="city", area="koriyama",
                              members=council.members(1), agenda=["開会"]).meeting
    item = mtg.add_proposal_item(db, layer="city", area_id=city.id, proposal_id=7,
                                 title="移動支援の新設", now=council.now, detail="安積地区から")
    assert (item.source, item.source_ref, item.position) == ("proposal", "7", 1)
    assert mtg.add_proposal_item(db, layer="city", area_id=city.id, proposal_id=7,
                                 title="移動支援の新設", now=council.now) is None
    assert [a.title for a in meeting.agenda] == ["開会", "移動支援の新設"]

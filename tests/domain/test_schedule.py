"""Recurrence rules, in Tokyo time."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest

from domain.clock import TOKYO
from domain.schedule import (
    AFTERNOON, ALWAYS, IRREGULAR, LAST_WEEK, MONTHLY, MORNING, WEEKLY, Rule, ScheduleParseError,
    Wanted, describe_rules, next_occurrence, occurrences, parse_rule, parse_rules, parse_weekdays,
    weekday_mask,
)

TUE, WED = 1, 2
SECOND_TUESDAY = Rule(MONTHLY, weekdays=weekday_mask(TUE), weeks=1 << 1, start=time(13, 30),
                      end=time(15, 0))


def test_second_tuesday_after_this_months_has_passed_is_next_month():
    # 26 Nov 2026: the second Tuesday (10 Nov) is gone; next is 8 Dec.
    now = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
    occ = next_occurrence([SECOND_TUESDAY], now)
    assert occ.start == datetime(2026, 12, 8, 13, 30, tzinfo=TOKYO)
    assert occ.end == datetime(2026, 12, 8, 15, 0, tzinfo=TOKYO)


def test_second_tuesday_across_the_year_boundary():
    now = datetime(2026, 12, 8, 7, 0, tzinfo=timezone.utc)   # 16:00 in Tokyo, after the meeting
    assert next_occurrence([SECOND_TUESDAY], now).start == datetime(2027, 1, 12, 13, 30, tzinfo=TOKYO)


def test_the_utc_date_is_not_the_tokyo_date():
    # 23:30 UTC on Monday 7 Dec is 08:30 on Tuesday 8 Dec in Tokyo: the meeting is today.
    now = datetime(2026, 12, 7, 23, 30, tzinfo=timezone.utc)
    assert next_occurrence([SECOND_TUESDAY], now).start.date() == date(2026, 12, 8)


def test_an_ongoing_meeting_is_the_next_occurrence():
    now = datetime(2026, 12, 8, 14, 0, tzinfo=TOKYO)
    assert next_occurrence([SECOND_TUESDAY], now).start == datetime(2026, 12, 8, 13, 30, tzinfo=TOKYO)


def test_last_sunday_of_the_month():
    rule = parse_rule("毎月最終日曜 10:00-11:00")
    assert rule.weeks == LAST_WEEK
    now = datetime(2026, 11, 26, 10, 0, tzinfo=TOKYO)
    assert next_occurrence([rule], now).start.date() == date(2026, 11, 29)


def test_closures_are_skipped():
    rule = parse_rule("毎週水曜 10:00〜12:00")
    now = datetime(2026, 11, 26, 10, 0, tzinfo=TOKYO)
    occ = next_occurrence([rule], now, closures={date(2026, 12, 2)})
    assert occ.start.date() == date(2026, 12, 9)


def test_wanted_weekday_and_part_of_day():
    rules = parse_rules("毎週水曜 13:00-15:00;毎週金曜 9:30-11:30")
    now = datetime(2026, 11, 26, 10, 0, tzinfo=TOKYO)
    morning = next_occurrence(rules, now, wanted=Wanted(parts=MORNING))
    assert morning.start == datetime(2026, 11, 27, 9, 30, tzinfo=TOKYO)
    wed_afternoon = next_occurrence(rules, now, wanted=Wanted(weekdays=weekday_mask(WED),
                                                              parts=AFTERNOON))
    assert wed_afternoon.start == datetime(2026, 12, 2, 13, 0, tzinfo=TOKYO)
    assert next_occurrence(rules, now, wanted=Wanted(weekdays=weekday_mask(WED), parts=MORNING)) is None


def test_wanted_window():
    rule = parse_rule("平日 9:00-17:00")
    start = datetime(2026, 11, 28, 9, 0, tzinfo=TOKYO)   # Saturday
    window = Wanted(start=start, end=datetime(2026, 11, 30, 12, 0, tzinfo=TOKYO))
    occ = next_occurrence([rule], start, wanted=window)
    assert occ.start == datetime(2026, 11, 30, 9, 0, tzinfo=TOKYO)


def test_always_and_irregular():
    now = datetime(2026, 11, 26, 10, 0, tzinfo=TOKYO)
    assert next_occurrence([Rule(ALWAYS)], now).start == now
    assert next_occurrence([Rule(IRREGULAR)], now) is None


def test_occurrences_in_december():
    occ = occurrences([parse_rule("毎月第1・第3金曜 13時半から15時")],
                      datetime(2026, 12, 1, tzinfo=TOKYO), datetime(2026, 12, 31, tzinfo=TOKYO))
    assert [o.start.day for o in occ] == [4, 18]


@pytest.mark.parametrize("text, described", [
    ("毎週水曜 10:00-12:00", "毎週水曜 10:00〜12:00"),
    ("毎週水曜日 午前10時から正午", "毎週水曜 10:00〜12:00"),
    ("毎月第2火曜", "毎月第2火曜"),
    ("毎月第１・第３金曜　１３時半～１５時", "毎月第1・第3金曜 13:30〜15:00"),
    ("月～金 9:00-17:00", "平日 9:00〜17:00"),
    ("土日祝を除く", "平日"),
    ("月,水,金", "毎週月・水・金曜"),
    ("毎日", "毎日"),
    ("不定期", "不定期"),
    ("いつでも", "いつでも"),
])
def test_parse_and_describe(text, described):
    assert parse_rule(text).describe() == described


@pytest.mark.parametrize("text", ["", "毎月火曜", "第6火曜", "水曜 12:00-10:00", "きまぐれ"])
def test_unreadable_schedules_raise(text):
    with pytest.raises(ScheduleParseError):
        parse_rule(text)


def test_weekday_masks():
    assert parse_weekdays("月火水木金") == 0b11111
    assert parse_weekdays("日曜日") == 1 << 6
    assert describe_rules([]) == "日時は問い合わせ"
    assert Rule(WEEKLY, weekdays=1 << 2).short() == "毎週水曜"

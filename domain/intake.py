"""From what a resident wrote (or tapped) to a need draft: category, when, urgency.

Pure functions; the bot calls them and keeps the draft in the dialogue until the resident
confirms it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from domain.jp_calendar import weekday_name
from domain.clock import TOKYO
from domain.schedule import PART_BY_CODE, PARTS, Wanted, weekday_mask

# Choices offered as buttons when the resident corrects the time.
WHEN_CHOICES = ("today", "tomorrow", "this_week", "next_week", "any")


def _day_window(day: date, parts: int = 0, hour: int | None = None) -> tuple[datetime, datetime]:
    if hour is not None:
        start = datetime.combine(day, time(hour), TOKYO)
        return start, start + timedelta(hours=2)
    if parts and parts in PARTS:
        _code, _label, begin, end = PARTS[parts]
        return datetime.combine(day, begin, TOKYO), datetime.combine(day, end, TOKYO)
    return datetime.combine(day, time(0), TOKYO), datetime.combine(day + timedelta(days=1), time(0), TOKYO)


def wanted_from_when(when: Any) -> Wanted:
    """Turn understanding's `when` (a date, a weekday, a part of the day) into a Wanted."""
    if not when:
        return Wanted()
    if hasattr(when, "to_json_dict"):
        when = when.to_json_dict()
    parts = PART_BY_CODE.get(when.get("part_of_day") or "", 0)
    hour = when.get("hour")
    if when.get("date"):
        start, end = _day_window(date.fromisoformat(when["date"]), parts, hour)
        return Wanted(start=start, end=end)
    weekday = when.get("weekday")
    weekdays = weekday_mask(weekday) if isinstance(weekday, int) and 0 <= weekday <= 6 else 0
    return Wanted(weekdays=weekdays, parts=parts)


def wanted_from_choice(choice: str, now: datetime) -> Wanted:
    """A button: 今日 / 明日 / 今週中 / 来週 / いつでもよい."""
    today = now.astimezone(TOKYO).date()
    if choice == "today":
        return Wanted(*_day_window(today))
    if choice == "tomorrow":
        return Wanted(*_day_window(today + timedelta(days=1)))
    if choice == "this_week":
        days_left = 7 - today.weekday()  # up to and including Sunday
        return Wanted(start=datetime.combine(today, time(0), TOKYO),
                      end=datetime.combine(today + timedelta(days=days_left), time(0), TOKYO))
    if choice == "next_week":
        monday = today + timedelta(days=7 - today.weekday())
        return Wanted(start=datetime.combine(monday, time(0), TOKYO),
                      end=datetime.combine(monday + timedelta(days=7), time(0), TOKYO))
    if choice == "any":
        return Wanted()
    raise ValueError(f"unknown time choice: {choice}")


def wanted_to_json(wanted: Wanted) -> dict[str, Any]:
    return {"start": wanted.start.isoformat() if wanted.start else None,
            "end": wanted.end.isoformat() if wanted.end else None,
            "weekdays": wanted.weekdays, "parts": wanted.parts}


def wanted_from_json(data: dict[str, Any] | None) -> Wanted:
    if not data:
        return Wanted()
    start = datetime.fromisoformat(data["start"]) if data.get("start") else None
    end = datetime.fromisoformat(data["end"]) if data.get("end") else None
    return Wanted(start=start, end=end, weekdays=int(data.get("weekdays") or 0),
                  parts=int(data.get("parts") or 0))


def describe_wanted(wanted: Wanted) -> str:
    """Words for the restatement: whole days as dates (11月26日(木)〜11月29日(日)), else as is."""
    if wanted.start is None or wanted.end is None:
        return wanted.describe()
    start, end = wanted.start.astimezone(TOKYO), wanted.end.astimezone(TOKYO)
    for _code, label, begin, finish in PARTS.values():
        if start.date() == end.date() and start.time() == begin and end.time() == finish:
            return f"{start.month}月{start.day}日({weekday_name(start)}) {label}"
    if start.time() == time(0) and end.time() == time(0):
        last = (end - timedelta(days=1)).date()
        first_text = f"{start.month}月{start.day}日({weekday_name(start)})"
        if last == start.date():
            return first_text
        return f"{first_text}〜{last.month}月{last.day}日({weekday_name(last)})"
    return wanted.describe()


_PLACE_WORDS = ("スペース", "すぺーす", "場所", "ばしょ", "部屋", "へや", "座敷", "ざしき", "庭", "車庫",
                "ガレージ", "集会所", "空き家", "あきや", "うち", "家")
_OFFER_WORDS = ("使っていい", "つかっていい", "使ってもいい", "つかってもいい", "使ってください",
                "つかってください", "貸せる", "かせる", "貸します", "かします", "提供", "開放", "使って大丈夫")


def looks_like_space_offer(normalised: str) -> bool:
    """「水曜日ならうちのスペースを使っていい」: a resident offering a place, not asking for help."""
    return any(p in normalised for p in _PLACE_WORDS) and any(o in normalised for o in _OFFER_WORDS)

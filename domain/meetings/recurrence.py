"""Recurrence rules of council meetings, in Asia/Tokyo local dates. Pure functions.

    毎月第3水曜 14:00     the third Wednesday of every month at 14:00
    隔月第2火曜 10:00     the second Tuesday of every second month (from the first month)
    毎月最終金曜 13:30    the last Friday of every month
    毎週木曜 10:00        every Thursday;   隔週木曜 10:00   every second Thursday
Digits may be full-width; 14時, 14時30分 and 14:00 are all understood.
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Iterator
from domain.jp_calendar import WEEKDAYS

LAST = -1

_RULE = re.compile(
    r"^(?P<freq>毎月|隔月|毎週|隔週)\s*"
    r"(?:第(?P<nth>[1-5])|(?P<last>最終))?\s*"
    r"(?P<wd>[月火水木金土日])(?:曜日?)?\s*"
    r"(?P<h>\d{1,2})(?:[:時](?P<m>\d{2})?分?)?$"
)


class RuleError(ValueError):
    """A rule we cannot read; the message says what we expected."""


@dataclass(frozen=True)
class Rule:
    freq: str          # "monthly" | "weekly"
    interval: int      # 1, or 2 for 隔月 / 隔週
    weekday: int       # Monday = 0
    nth: int | None    # monthly: 1–5, or LAST
    at: time

    def describe(self) -> str:
        if self.freq == "monthly":
            head = "毎月" if self.interval == 1 else "隔月"
            which = "最終" if self.nth == LAST else f"第{self.nth}"
            return f"{head}{which}{WEEKDAYS[self.weekday]}曜 {self.at:%H:%M}"
        head = "毎週" if self.interval == 1 else "隔週"
        return f"{head}{WEEKDAYS[self.weekday]}曜 {self.at:%H:%M}"


def parse_rule(text: str) -> Rule:
    value = unicodedata.normalize("NFKC", text or "").strip().replace("　", " ")
    match = _RULE.match(value)
    if not match:
        raise RuleError(f"繰り返しの書き方が分かりません: {text!r}（例: 毎月第3水曜 14:00、隔月第2火曜 10:00、毎週木曜 10:00）")
    freq_word = match["freq"]
    monthly = freq_word in ("毎月", "隔月")
    nth = LAST if match["last"] else (int(match["nth"]) if match["nth"] else None)
    if monthly and nth is None:
        raise RuleError(f"毎月・隔月には「第n」か「最終」が要ります: {text!r}")
    if not monthly and nth is not None:
        raise RuleError(f"毎週・隔週に「第n」は付けられません: {text!r}")
    hour, minute = int(match["h"]), int(match["m"] or 0)
    if hour > 23 or minute > 59:
        raise RuleError(f"時刻が正しくありません: {text!r}")
    return Rule("monthly" if monthly else "weekly", 2 if freq_word in ("隔月", "隔週") else 1,
                WEEKDAYS.index(match["wd"]), nth, time(hour, minute))


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The nth (1–5, or LAST) given weekday of a month; None when the month has no 5th one."""
    days = calendar.monthrange(year, month)[1]
    if nth == LAST:
        last = date(year, month, days)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    return day if day.month == month else None


def occurrences(rule: Rule, start: date, until: date | None = None,
                count: int | None = None) -> Iterator[date]:
    """Dates of the rule on or after `start`, up to `until` (inclusive) and/or `count` dates."""
    if until is None and count is None:
        raise ValueError("give until or count: a rule has no end")
    produced = 0

    def more(day: date) -> bool:
        return (until is None or day <= until) and (count is None or produced < count)

    if rule.freq == "weekly":
        day = start + timedelta(days=(rule.weekday - start.weekday()) % 7)
        while more(day):
            yield day
            produced += 1
            day += timedelta(weeks=rule.interval)
        return
    year, month = start.year, start.month
    while True:
        day = nth_weekday(year, month, rule.weekday, rule.nth or 1)
        if day is not None and day >= start:
            if not more(day):
                return
            yield day
            produced += 1
        elif until is not None and date(year, month, 1) > until:
            return
        month += rule.interval
        while month > 12:
            month -= 12
            year += 1
        if year > start.year + 50:  # a rule whose 5th weekday never comes, or a bad bound
            return

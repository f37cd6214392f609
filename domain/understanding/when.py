"""When the resident wants help: 来週の火曜, 明日の午前中, 毎週水曜, 12月3日, 10時 …

Everything is resolved against an injected ``today`` (never the wall clock). Conventions:

- a weekday on its own (火曜) means the next one after today (said on a Tuesday: next week);
- 今週/来週/再来週 count Monday-to-Sunday weeks;
- a day of the month on its own (5日) is this month, or next month once it has passed;
  a month and day (12月3日, 12/3) is this year, or next year once it has passed;
- recurring expressions (毎週水曜, 毎月5日, 第3水曜, 毎日) give ``recurring`` (weekly, monthly,
  daily) and no ``date``, unless a start is said (明日から毎日);
- with several weekdays (月曜と木曜) ``weekday`` is the first; ``text`` keeps them all;
- an hour of 1 to 6 without 午前/朝 is read as afternoon (「3時に」 is 15:00 in daily speech);
- ``weekday`` is Monday=0 … Sunday=6, filled from ``date`` when a date is known;
- ``part_of_day`` is only what was said (午前中 → morning), not guessed from the hour.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from .normalize import to_hiragana

_WD = {"月": 0, "火": 1, "水": 2, "木": 3, "金": 4, "土": 5, "日": 6,
       "げつ": 0, "か": 1, "すい": 2, "もく": 3, "きん": 4, "ど": 5, "にち": 6}
_WEEKDAY = r"(?P<wd>[月火水木金土日]|げつ|か|すい|もく|きん|ど|にち)(?:曜|よう)(?:日|び)?"

_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_NUM = re.compile(r"[一二三四五六七八九十〇]{1,3}(?=[時日月])")


def _kanji_number(s: str) -> str:
    if "十" in s:
        tens, _, ones = s.partition("十")
        value = (_KANJI_DIGITS.get(tens, 1) if tens else 1) * 10 + (_KANJI_DIGITS.get(ones, 0) if ones else 0)
    else:
        value = 0
        for ch in s:
            value = value * 10 + _KANJI_DIGITS.get(ch, 0)
    return str(value)


def _digits(text: str) -> str:
    """Kanji numerals before 時/日/月 become digits (十時 → 10時, 三日 → 3日)."""
    return _KANJI_NUM.sub(lambda m: _kanji_number(m.group(0)), text)


# Each rule: (name, regex). Tried in this order; a character belongs to the first rule that
# takes it.
_RULES: list[tuple[str, re.Pattern[str]]] = [(n, re.compile(p)) for n, p in [
    ("monthly_day", r"(?:毎月|まいつき)(?:の)?(?P<d>3[01]|[12]\d|0?[1-9])(?:日|にち)"),
    ("nth_weekday", r"(?:毎月)?(?:の)?第(?P<n>[1-5])(?:週)?(?:の)?" + _WEEKDAY),
    ("weekly_weekday", r"(?:毎週|まいしゅう|隔週|かくしゅう)(?:の)?" + _WEEKDAY),
    ("week_weekday", r"(?P<rel>再来週|さらいしゅう|来週|らいしゅう|今週|こんしゅう|今度|こんど|次|つぎ)(?:の)?" + _WEEKDAY),
    ("weekday", _WEEKDAY),
    ("month_day", r"(?<!\d)(?P<m>1[0-2]|0?[1-9])(?:月|がつ)(?P<d>3[01]|[12]\d|0?[1-9])(?:日|にち)"),
    ("slash_date", r"(?<![\d/])(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?![\d/])"),
    ("rel_month_day", r"(?P<rel>来月|らいげつ|今月|こんげつ)(?:の)?(?P<d>3[01]|[12]\d|0?[1-9])(?:日|にち)"),
    ("days_later", r"(?<!\d)(?P<d>[1-9]|[12]\d)(?:日|にち)(?:後|ご)(?!ろ)"),
    ("day", r"(?<![\d月])(?P<d>3[01]|[12]\d|0?[1-9])(?:日|にち)(?!間|前|後|目|ぶり|分|かん|まえ|ほど|くらい|ぐらい|に1|1回|おき|置き|曜|中|じゅう)"),
    ("shiasatte", r"しあさって|明々後日|明明後日"),
    ("asatte", r"あさって|明後日"),
    ("tomorrow", r"明日|あした(?!ば)|あす(?=[のはにも、。])"),
    ("today", r"今日|本日|(?<![ぁ-ゖ])きょう(?=[はのにもじ中、。!?]|$)"),
    ("tonight", r"今夜|今晩|こんや|こんばん(?![はわ])"),
    ("this_morning", r"今朝"),
    ("weekend", r"週末|土日|しゅうまつ"),
    ("next_week", r"再来週|さらいしゅう|来週|らいしゅう|今週|こんしゅう"),
    ("next_month", r"再来月|来月|らいげつ|今月|こんげつ"),
    ("weekly", r"毎週|まいしゅう|週(?:に)?(?:1|一|2|二|3|三)(?:回|度|ぺん)?|隔週"),
    ("monthly", r"毎月|まいつき|月(?:に)?(?:1|一|2|二)(?:回|度|ぺん)"),
    ("daily", r"毎日|まいにち|毎朝|まいあさ|毎晩|まいばん|毎夕"),
    ("hour", r"(?:(?P<pre>午前|ごぜん|午後|ごご|朝|あさ|夜|よる|夕方|ゆうがた|昼|ひる)(?:の)?)?(?P<h>[01]?\d|2[0-3])(?:時|じ)(?!間|かん)(?P<half>半|30分)?"),
    ("morning", r"午前中|ごぜんちゅう|午前|ごぜん|朝|(?<!ま)(?<!け)あさ(?!っ|て|ひ|がお)|早い時間"),
    ("afternoon", r"午後|ごご|昼過ぎ|昼すぎ|ひるすぎ|お昼|おひる|昼間|ひるま|昼"),
    ("evening", r"夕方|ゆうがた|夕刻|夜|晩|ばんがた|日暮れ"),
]]

_PART = {"morning": "morning", "afternoon": "afternoon", "evening": "evening",
         "tonight": "evening", "this_morning": "morning"}
_EXPLICIT_DATE = {"month_day", "slash_date", "rel_month_day", "days_later", "shiasatte", "asatte",
                  "tomorrow", "today", "tonight", "this_morning"}
_REL_WEEK = {"再来週": 14, "さらいしゅう": 14, "来週": 7, "らいしゅう": 7, "今週": 0, "こんしゅう": 0}


@dataclass(frozen=True)
class When:
    text: str
    date: date | None
    weekday: int | None
    part_of_day: str | None
    recurring: str | None
    hour: int | None

    def to_json_dict(self) -> dict:
        return {
            "text": self.text,
            "date": self.date.isoformat() if self.date else None,
            "weekday": self.weekday,
            "part_of_day": self.part_of_day,
            "recurring": self.recurring,
            "hour": self.hour,
        }


def _next_weekday(today: date, wd: int) -> date:
    ahead = (wd - today.weekday()) % 7 or 7
    return today + timedelta(days=ahead)


def _day_this_or_next_month(today: date, day: int, months_ahead: int = 0) -> date | None:
    y, m = today.year, today.month
    for step in range(months_ahead, months_ahead + 3):
        mm = m + step
        yy = y + (mm - 1) // 12
        mm = (mm - 1) % 12 + 1
        if day <= calendar.monthrange(yy, mm)[1]:
            d = date(yy, mm, day)
            if months_ahead or d >= today:
                return d
    return None


def _month_day(today: date, month: int, day: int) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            d = date(year, month, day)
        except ValueError:
            continue
        if d >= today:
            return d
    return None


def extract_when(normalised: str, today: date) -> When | None:
    """Find the time expressions in a normalised message; None when no time is said."""
    text = _digits(normalised)
    hira = to_hiragana(text)
    taken = [False] * len(hira)
    found: list[tuple[int, int, str, re.Match[str]]] = []
    for name, pattern in _RULES:
        for m in pattern.finditer(hira):
            start, end = m.span()
            if start == end or any(taken[start:end]):
                continue
            for i in range(start, end):
                taken[i] = True
            found.append((start, end, name, m))
    if not found:
        return None
    found.sort(key=lambda f: f[0])

    when_date: date | None = None
    weekday: int | None = None
    part: str | None = None
    recurring: str | None = None
    hour: int | None = None
    week_offset: int | None = None

    for _start, _end, name, m in found:
        g = m.groupdict()
        wd = _WD[g["wd"]] if g.get("wd") else None
        if name == "monthly_day":
            recurring = "monthly"
        elif name == "nth_weekday":
            recurring, weekday = "monthly", wd
        elif name == "weekly_weekday":
            recurring, weekday = "weekly", wd
        elif name == "week_weekday":
            weekday = wd
            rel = g["rel"]
            if rel in _REL_WEEK:
                monday = today - timedelta(days=today.weekday()) + timedelta(days=_REL_WEEK[rel])
                when_date = when_date or monday + timedelta(days=wd)
            else:  # 今度の / 次の
                when_date = when_date or _next_weekday(today, wd)
        elif name == "weekday":
            weekday = wd if weekday is None else weekday  # 月曜と木曜: the first one said
            if recurring is None and when_date is None:
                if week_offset is not None:
                    monday = today - timedelta(days=today.weekday()) + timedelta(days=week_offset)
                    when_date = monday + timedelta(days=wd)
                else:
                    when_date = _next_weekday(today, wd)
        elif name in ("month_day", "slash_date"):
            when_date = when_date or _month_day(today, int(g["m"]), int(g["d"]))
        elif name == "rel_month_day":
            ahead = 1 if g["rel"] in ("来月", "らいげつ") else 0
            when_date = when_date or _day_this_or_next_month(today, int(g["d"]), ahead)
        elif name == "days_later":
            when_date = when_date or today + timedelta(days=int(g["d"]))
        elif name == "day":
            if recurring != "monthly":
                when_date = when_date or _day_this_or_next_month(today, int(g["d"]))
        elif name == "shiasatte":
            when_date = when_date or today + timedelta(days=3)
        elif name == "asatte":
            when_date = when_date or today + timedelta(days=2)
        elif name == "tomorrow":
            when_date = when_date or today + timedelta(days=1)
        elif name in ("today", "tonight", "this_morning"):
            when_date = when_date or today
            part = part or _PART.get(name)
        elif name == "weekend":
            weekday = 5 if weekday is None else weekday
            when_date = when_date or _next_weekday(today, 5)
        elif name == "next_week":
            week_offset = _REL_WEEK.get(m.group(0))
        elif name in ("weekly", "monthly", "daily"):
            recurring = recurring or name
        elif name == "hour":
            h = int(g["h"])
            pre = g.get("pre")
            if pre in ("午後", "ごご", "夜", "よる", "夕方", "ゆうがた") and h < 12:
                h += 12
            elif pre in ("昼", "ひる") and h < 6:
                h += 12
            elif pre is None and 1 <= h <= 6:
                h += 12
            hour = h
            if pre in ("午前", "ごぜん", "朝", "あさ"):
                part = part or "morning"
            elif pre in ("午後", "ごご", "昼", "ひる"):
                part = part or "afternoon"
            elif pre in ("夜", "よる", "夕方", "ゆうがた"):
                part = part or "evening"
        elif name in ("morning", "afternoon", "evening"):
            part = part or name

    if recurring is not None and not any(f[2] in _EXPLICIT_DATE for f in found):
        when_date = None  # 毎週水曜 has no single date; 「明日から毎日」 keeps its start
    if when_date is not None and (weekday is None or recurring is None):
        weekday = when_date.weekday()
    spans = _merge([(s, e) for s, e, _n, _m in found])
    return When(
        text=" ".join(text[s:e].strip() for s, e in spans),
        date=when_date,
        weekday=weekday,
        part_of_day=part,
        recurring=recurring,
        hour=hour,
    )


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out

"""Recurrence rules for resources and wanted times for needs, in Asia/Tokyo.

A rule is one of
  weekly     毎週水曜 10:00〜12:00, 平日 9:00〜17:00, 毎日 (weekdays as a bit mask, Monday = bit 0)
  monthly    毎月第2火曜, 毎月第1・第3金曜, 毎月最終日曜 (weeks as a bit mask, 第1 = bit 0, 最終 = bit 5)
  irregular  不定期 / 要相談 (no dates: by arrangement)
  always     いつでも (every day, all day: delivery windows, 見守り networks)
Times are local wall-clock times; dates are local dates. Closures are local dates.
Everything here is pure: `now` is passed in and may be in any zone.
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable

from domain.clock import TOKYO
from domain.jp_calendar import WEEKDAYS as WEEKDAY_JA

WEEKLY, MONTHLY, IRREGULAR, ALWAYS = "weekly", "monthly", "irregular", "always"
RULE_KINDS = (WEEKLY, MONTHLY, IRREGULAR, ALWAYS)

ALL_DAYS = 0b1111111
WEEKDAYS_MON_FRI = 0b0011111
WEEKEND = 0b1100000
LAST_WEEK = 1 << 5  # 最終○曜

# Parts of the day a resident can pick from buttons. bit -> (code, label, from, to)
MORNING, AFTERNOON, EVENING = 1, 2, 4
PARTS = {
    MORNING: ("morning", "午前", time(6, 0), time(12, 0)),
    AFTERNOON: ("afternoon", "午後", time(12, 0), time(17, 0)),
    EVENING: ("evening", "夕方", time(17, 0), time(21, 0)),
}
PART_BY_CODE = {code: bit for bit, (code, *_rest) in PARTS.items()}
# What a volunteer's "morning" slot means as hours (offers are stored as hour ranges).
PART_HOURS = {MORNING: (time(9, 0), time(12, 0)), AFTERNOON: (time(13, 0), time(17, 0)),
              EVENING: (time(17, 0), time(20, 0))}


def weekday_mask(*weekdays: int) -> int:
    mask = 0
    for day in weekdays:
        if not 0 <= day <= 6:
            raise ValueError(f"weekday out of range: {day}")
        mask |= 1 << day
    return mask


def weekdays_of(mask: int) -> list[int]:
    return [d for d in range(7) if mask & (1 << d)]


def to_tokyo(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass aware times")
    return moment.astimezone(TOKYO)


def _overlaps(a_start: time | None, a_end: time | None, b_start: time, b_end: time) -> bool:
    if a_start is None:
        return True
    end = a_end or time(23, 59, 59)
    return a_start < b_end and end > b_start


def _week_bits(day: date) -> int:
    """The 第n bit of a date, plus the 最終 bit when it is the last such weekday of its month."""
    bits = 1 << ((day.day - 1) // 7)
    if day.day + 7 > calendar.monthrange(day.year, day.month)[1]:
        bits |= LAST_WEEK
    return bits


@dataclass(frozen=True)
class Rule:
    kind: str
    weekdays: int = 0
    weeks: int = 0
    start: time | None = None
    end: time | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in RULE_KINDS:
            raise ValueError(f"unknown rule kind: {self.kind}")
        if self.kind in (WEEKLY, MONTHLY) and not self.weekdays & ALL_DAYS:
            raise ValueError(f"a {self.kind} rule needs at least one weekday")
        if self.kind == MONTHLY and not self.weeks & 0b111111:
            raise ValueError("a monthly rule needs at least one week (第1…第5 or 最終)")
        if self.end is not None and self.start is None:
            raise ValueError("an end time needs a start time")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("a rule must end after it starts")

    # -- dates -------------------------------------------------------------------------------
    def occurs_on(self, day: date) -> bool:
        if self.kind == ALWAYS:
            return True
        if self.kind == IRREGULAR:
            return False
        if not self.weekdays & (1 << day.weekday()):
            return False
        if self.kind == WEEKLY:
            return True
        return bool(self.weeks & _week_bits(day))

    def span_on(self, day: date) -> tuple[datetime, datetime]:
        """Local start and end of the occurrence on a day the rule occurs."""
        if self.start is None:
            begin = datetime.combine(day, time(0, 0), TOKYO)
            return begin, begin + timedelta(days=1)
        begin = datetime.combine(day, self.start, TOKYO)
        if self.end is None:
            return begin, begin + timedelta(hours=1)
        return begin, datetime.combine(day, self.end, TOKYO)

    # -- words -------------------------------------------------------------------------------
    def days_text(self) -> str:
        if self.kind == ALWAYS:
            return "いつでも"
        if self.kind == IRREGULAR:
            return self.note or "不定期"
        days = self.weekdays & ALL_DAYS
        if self.kind == WEEKLY:
            if days == ALL_DAYS:
                return "毎日"
            if days == WEEKDAYS_MON_FRI:
                return "平日"
            if days == WEEKEND:
                return "土日"
            return "毎週" + _days_join(days) + "曜"
        weeks = [f"第{n + 1}" for n in range(5) if self.weeks & (1 << n)]
        if self.weeks & LAST_WEEK:
            weeks.append("最終")
        return "毎月" + "・".join(weeks) + _days_join(days) + "曜"

    def describe(self) -> str:
        """The full rule: 毎週水曜 10:00〜12:00."""
        text = self.days_text()
        if self.kind in (WEEKLY, MONTHLY) and self.start is not None:
            text += f" {clock_text(self.start)}〜" + (clock_text(self.end) if self.end else "")
        if self.note and self.kind != IRREGULAR:
            text += f"（{self.note}）"
        return text

    def short(self) -> str:
        """For an explanation line: 毎週水曜 10時から."""
        if self.kind == IRREGULAR:
            return "日時は相談"
        text = self.days_text()
        if self.kind in (WEEKLY, MONTHLY) and self.start is not None:
            text += f" {hour_text(self.start)}から"
        return text


def _days_join(mask: int) -> str:
    """月・水・金, or 月〜土 for a run of three or more days."""
    days = weekdays_of(mask)
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return f"{WEEKDAY_JA[days[0]]}〜{WEEKDAY_JA[days[-1]]}"
    return "・".join(WEEKDAY_JA[d] for d in days)


def clock_text(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def hour_text(moment: time) -> str:
    if moment.minute == 0:
        return f"{moment.hour}時"
    if moment.minute == 30:
        return f"{moment.hour}時半"
    return f"{moment.hour}時{moment.minute}分"


@dataclass(frozen=True)
class Wanted:
    """When a resident wants help: a window, or weekdays and parts of the day (0 = any)."""

    start: datetime | None = None
    end: datetime | None = None
    weekdays: int = 0
    parts: int = 0

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("naive datetime: pass aware times")
        if (self.start is None) != (self.end is None):
            raise ValueError("a window needs both ends")
        if self.start is not None and self.end <= self.start:
            raise ValueError("a window must end after it starts")

    @property
    def is_any(self) -> bool:
        return self.start is None and not self.weekdays and not self.parts

    def could_fit(self, rule: Rule) -> bool:
        """A cheap test that rules out rules that never meet the wanted days or parts."""
        if rule.kind == IRREGULAR:
            return False
        if rule.kind == ALWAYS:
            return True
        if self.weekdays and not rule.weekdays & self.weekdays:
            return False
        if self.parts and not any(
                _overlaps(rule.start, rule.end, PARTS[bit][2], PARTS[bit][3])
                for bit in PARTS if self.parts & bit):
            return False
        return True

    def accepts(self, start: datetime, end: datetime) -> bool:
        start, end = to_tokyo(start), to_tokyo(end)
        if self.start is not None and not (start < self.end and end > self.start):
            return False
        if self.weekdays and not self.weekdays & (1 << start.weekday()):
            return False
        if self.parts:
            whole_day = end - start >= timedelta(hours=23)
            if not whole_day and not any(
                    _overlaps(start.time(), end.time() if end.date() == start.date() else None,
                              PARTS[bit][2], PARTS[bit][3])
                    for bit in PARTS if self.parts & bit):
                return False
        return True

    def describe(self) -> str:
        if self.start is not None:
            s, e = to_tokyo(self.start), to_tokyo(self.end)
            text = f"{s.month}月{s.day}日({WEEKDAY_JA[s.weekday()]}) {hour_text(s.time())}"
            if e.date() == s.date():
                return text + f"〜{hour_text(e.time())}"
            return text + f"〜{e.month}月{e.day}日({WEEKDAY_JA[e.weekday()]})"
        days = "・".join(WEEKDAY_JA[d] for d in weekdays_of(self.weekdays))
        parts = "・".join(PARTS[bit][1] for bit in PARTS if self.parts & bit)
        if days and parts:
            return f"{days}曜の{parts}"
        if days:
            return f"{days}曜"
        return parts or "いつでも"


@dataclass(frozen=True)
class Occurrence:
    start: datetime  # Asia/Tokyo
    end: datetime
    rule: Rule


def next_occurrence(rules: Iterable[Rule], now: datetime, closures: Iterable[date] = (),
                    wanted: Wanted | None = None, horizon_days: int | None = None
                    ) -> Occurrence | None:
    """The first occurrence that has not ended at `now`, skipping closures, fitting `wanted`."""
    local_now = to_tokyo(now)
    closed = closures if isinstance(closures, (set, frozenset)) else set(closures)
    best: Occurrence | None = None
    for rule in rules:
        if rule.kind == IRREGULAR:
            continue
        if wanted is not None and not wanted.could_fit(rule):
            continue
        horizon = horizon_days or (100 if rule.kind == MONTHLY else 36)
        first = local_now.date()
        last = first + timedelta(days=horizon)
        if wanted is not None and wanted.start is not None:
            first = max(first, to_tokyo(wanted.start).date())
            last = min(last, to_tokyo(wanted.end).date())
        day = first
        while day <= last:
            if best is not None and day > best.start.date():
                break
            if rule.occurs_on(day) and day not in closed:
                start, end = rule.span_on(day)
                if end > local_now:
                    if rule.kind == ALWAYS or rule.start is None:
                        start = max(start, local_now)
                    if wanted is not None and wanted.start is not None:
                        # A window clips all-day rules to the window itself.
                        if rule.kind == ALWAYS or rule.start is None:
                            start = max(start, to_tokyo(wanted.start))
                            end = min(end, to_tokyo(wanted.end))
                    if end > start and (wanted is None or wanted.accepts(start, end)):
                        if best is None or start < best.start:
                            best = Occurrence(start, end, rule)
                        break
            day += timedelta(days=1)
    return best


def occurrences(rules: Iterable[Rule], start: datetime, end: datetime,
                closures: Iterable[date] = ()) -> list[Occurrence]:
    """Every dated occurrence between two moments (for calendars and the console)."""
    closed = set(closures)
    s, e = to_tokyo(start), to_tokyo(end)
    found = []
    for rule in rules:
        if rule.kind == IRREGULAR:
            continue
        day = s.date()
        while day <= e.date():
            if rule.occurs_on(day) and day not in closed:
                a, b = rule.span_on(day)
                if b > s and a < e:
                    found.append(Occurrence(a, b, rule))
            day += timedelta(days=1)
    return sorted(found, key=lambda o: o.start)


def describe_rules(rules: Iterable[Rule]) -> str:
    texts = [rule.describe() for rule in rules]
    return "、".join(texts) if texts else "日時は問い合わせ"


# -- parsing Japanese schedule text ---------------------------------------------------------

_RANGE = r"\s*(?:〜|~|－|-|‐|–|—|から)\s*"
_TIME = r"(午前|午後)?\s*(\d{1,2})\s*(?:[:：]\s*(\d{2})|時\s*(半|\d{1,2}\s*分)?)"
_TIME_RANGE = re.compile(_TIME + r"(?:" + _RANGE + _TIME + r")?")
_DAY_RANGE = re.compile(r"([月火水木金土日])" + _RANGE + r"([月火水木金土日])")


class ScheduleParseError(ValueError):
    pass


def _time_of(ampm: str | None, hour: str, minute: str | None, jp_min: str | None) -> time:
    h = int(hour)
    m = int(minute) if minute else 0
    if jp_min:
        m = 30 if jp_min == "半" else int(jp_min.rstrip("分 "))
    if ampm == "午後" and h < 12:
        h += 12
    if h == 24 and m == 0:
        return time(23, 59)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ScheduleParseError(f"時刻が読めません: {hour}:{minute or jp_min or '00'}")
    return time(h, m)


def parse_times(text: str) -> tuple[time | None, time | None]:
    text = unicodedata.normalize("NFKC", text).replace("正午", "12時")
    match = _TIME_RANGE.search(text)
    if not match:
        return None, None
    g = match.groups()
    start = _time_of(g[0], g[1], g[2], g[3])
    end = _time_of(g[4] or g[0], g[5], g[6], g[7]) if g[5] else None
    if end is not None and end <= start:
        raise ScheduleParseError(f"終了が開始より前です: {match.group(0)}")
    return start, end


def parse_weekdays(text: str) -> int:
    """月火水木金 / 月〜金 / 月,水,金 / 平日 / 土日祝を除く / 毎日 → a weekday mask."""
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(_TIME_RANGE, " ", t)
    if re.search(r"(土日(祝日?)?|土・日(・祝日?)?|土曜日?・?日曜日?)(及び祝日)?を?除く", t):
        return WEEKDAYS_MON_FRI
    mask = 0
    if "平日" in t:
        mask |= WEEKDAYS_MON_FRI
    if re.search(r"毎日|全日|年中無休|無休|365日|全曜日", t):
        mask |= ALL_DAYS
    # Words with 月 or 日 in them that are not Monday or Sunday.
    t = re.sub(r"平日|毎日|全日|祝日|休日|日中|全曜日|365日|毎月|年中無休|無休|第\s*\d|祝", " ", t)
    t = re.sub(r"曜日|曜", "", t)
    for a, b in _DAY_RANGE.findall(t):
        i, j = WEEKDAY_JA.index(a), WEEKDAY_JA.index(b)
        k = i
        while True:
            mask |= 1 << k
            if k == j:
                break
            k = (k + 1) % 7
    t = _DAY_RANGE.sub(" ", t)
    for ch in re.findall(r"[月火水木金土日]", t):
        mask |= 1 << WEEKDAY_JA.index(ch)
    return mask


def parse_rule(text: str) -> Rule:
    """One rule from Japanese: 毎週水曜 10:00〜12:00 / 毎月第2火曜 13時半から / 不定期."""
    t = unicodedata.normalize("NFKC", text).strip()
    if not t:
        raise ScheduleParseError("空です")
    if re.search(r"不定期|要相談|応相談|相談|予約制|随時相談", t):
        return Rule(IRREGULAR, note=t if len(t) <= 40 and t != "不定期" else "")
    start, end = parse_times(t)
    if re.fullmatch(r"(いつでも|随時|常時|24時間)(対応|受付)?", t):
        return Rule(ALWAYS)
    monthly = re.findall(r"第\s*(\d)", t)
    last = re.search(r"最終|最後", t)
    if "毎月" in t or monthly or last:
        weeks = 0
        for n in monthly:
            if not 1 <= int(n) <= 5:
                raise ScheduleParseError(f"第{n}週はありません")
            weeks |= 1 << (int(n) - 1)
        if last:
            weeks |= LAST_WEEK
        days = parse_weekdays(re.sub(r"第\s*\d|最終|最後", " ", t))
        if not weeks or not days:
            raise ScheduleParseError(f"毎月の何週目の何曜日かが読めません: {text}")
        return Rule(MONTHLY, weekdays=days, weeks=weeks, start=start, end=end)
    days = parse_weekdays(t)
    if not days:
        if start is not None:
            days = ALL_DAYS
        else:
            raise ScheduleParseError(f"曜日が読めません: {text}")
    return Rule(WEEKLY, weekdays=days, start=start, end=end)


def parse_rules(text: str) -> list[Rule]:
    """Several rules separated by ; ／ or newlines."""
    parts = [p for p in re.split(r"[;；／\n]|、(?=毎)", text or "") if p.strip()]
    return [parse_rule(p) for p in parts]

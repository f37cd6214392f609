"""The Japanese calendar in one place: weekday names, public holidays, business days."""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

# Monday first, as date.weekday() counts.
WEEKDAYS = "月火水木金土日"


def weekday_name(day: date) -> str:
    return WEEKDAYS[day.weekday()]


@lru_cache(maxsize=64)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year, language="ja")


def holiday_name(day: date) -> str | None:
    """The Japanese public holiday (祝日・振替休日) on a local date, or None."""
    return _holidays(day.year).get(day)


def is_year_end(day: date) -> bool:
    """年末年始 (12/29–1/3): offices are closed."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_business_day(day: date) -> bool:
    """Weekdays that are not Japanese public holidays nor 年末年始."""
    return day.weekday() < 5 and holiday_name(day) is None and not is_year_end(day)


def next_business_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day

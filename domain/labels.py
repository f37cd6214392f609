"""Short Japanese labels of domain things, shared by every message builder."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from domain.clock import TOKYO
from domain import areas as area_rules
from domain import needs as need_rules
from domain.intake import describe_wanted
from domain.models import Area, Need
from domain.jp_calendar import WEEKDAYS



def area_label(session: Session, area_id: int | None) -> str:
    """「安積地区 日出山」: the district and, when there is one, the neighbourhood."""
    area = session.get(Area, area_id) if area_id is not None else None
    if area is None:
        return "—"
    district = area_rules.district_of(session, area)
    if district is not None and district.id != area.id:
        return f"{district.name} {area.name}"
    return area.name


def need_when_label(need: Need) -> str:
    return describe_wanted(need_rules.wanted_of(need))


def local_datetime_label(moment: datetime) -> str:
    """12月1日(火) 17時15分, in Tokyo time."""
    local = moment.astimezone(TOKYO)
    minutes = f"{local.minute:02d}分" if local.minute else ""
    return f"{local.month}月{local.day}日({WEEKDAYS[local.weekday()]}) {local.hour}時{minutes}"


def waited_label(since: datetime, now: datetime) -> tuple[int, str]:
    """(minutes, unit) for how long a case has waited."""
    minutes = max(int((now - since).total_seconds() // 60), 0)
    if minutes < 120:
        return minutes, "minutes"
    if minutes < 48 * 60:
        return minutes // 60, "hours"
    return minutes // (24 * 60), "days"

"""Needs and their status history. Every status a need has was made by a recorded transition.

    received ──▶ suggested ──▶ asking ──▶ matched ──▶ resolved
        │            │            │          │
        └────────────┴────────────┴──────────┴──▶ escalated ──▶ asking / matched / resolved

A resident may withdraw (cancelled) until the need is resolved.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.categories import category as check_category
from domain.models import (
    ASKING, CANCELLED, ESCALATED, MATCHED, NORMAL, RECEIVED, RESOLVED, SUGGESTED, URGENCIES, Area,
    Need, NeedTransition, Person,
)
from domain.schedule import Wanted

# from-status -> the statuses it may move to. The one place these rules are written.
NEED_TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({RECEIVED}),
    RECEIVED: frozenset({SUGGESTED, ASKING, ESCALATED, RESOLVED, CANCELLED}),
    SUGGESTED: frozenset({ASKING, RESOLVED, ESCALATED, CANCELLED}),
    ASKING: frozenset({MATCHED, ESCALATED, CANCELLED}),
    MATCHED: frozenset({RESOLVED, ASKING, ESCALATED, CANCELLED}),
    ESCALATED: frozenset({ASKING, MATCHED, RESOLVED, CANCELLED}),
    RESOLVED: frozenset(),
    CANCELLED: frozenset(),
}
OPEN_STATUSES = frozenset({RECEIVED, SUGGESTED, ASKING, MATCHED, ESCALATED})
CLOSED_STATUSES = frozenset({RESOLVED, CANCELLED})


class IllegalTransition(ValueError):
    def __init__(self, need_id: int | None, from_status: str | None, to_status: str):
        super().__init__(f"need {need_id}: {from_status} → {to_status} is not allowed")
        self.from_status = from_status
        self.to_status = to_status


def can_move(from_status: str | None, to_status: str) -> bool:
    return to_status in NEED_TRANSITIONS.get(from_status, frozenset())


def move(need: Need, to_status: str, now: datetime, by: Person | None = None,
         note: str = "") -> NeedTransition:
    """Change the status and record the transition; an illegal move raises IllegalTransition."""
    current = need.status
    if not can_move(current, to_status):
        raise IllegalTransition(need.id, current, to_status)
    need._status_token = to_status
    need.status = to_status
    need.updated_at = now
    if to_status in CLOSED_STATUSES:
        need.closed_at = now
    transition = NeedTransition(from_status=current, to_status=to_status, at=now,
                                by_person_id=by.id if by is not None else None, note=note[:300])
    need.transitions.append(transition)
    return transition


def create_need(session: Session, *, person: Person | None, category: str, area: Area | int,
                now: datetime, wanted: Wanted | None = None, words: str = "",
                urgency: str = NORMAL) -> Need:
    """A resident's 困りごと, status received, with its first transition."""
    check_category(category)
    if urgency not in URGENCIES:
        raise ValueError(f"unknown urgency: {urgency}")
    wanted = wanted or Wanted()
    area_id = area if isinstance(area, int) else area.id
    need = Need(person_id=person.id if person is not None else None, category=category,
                area_id=area_id, wanted_start=wanted.start, wanted_end=wanted.end,
                wanted_weekdays=wanted.weekdays, wanted_parts=wanted.parts, urgency=urgency,
                words=words[:4000], created_at=now, updated_at=now)
    move(need, RECEIVED, now, by=person)
    session.add(need)
    session.flush()
    return need


def wanted_of(need: Need) -> Wanted:
    return Wanted(start=need.wanted_start, end=need.wanted_end,
                  weekdays=need.wanted_weekdays or 0, parts=need.wanted_parts or 0)


def history(session: Session, need_id: int) -> list[NeedTransition]:
    return list(session.scalars(select(NeedTransition).where(NeedTransition.need_id == need_id)
                                .order_by(NeedTransition.id)))



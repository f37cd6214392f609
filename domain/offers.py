"""Volunteers' 申し出: categories, areas, weekly slots, car, paused."""
from __future__ import annotations

from datetime import datetime, time
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.categories import category as check_category
from domain.models import (
    VOLUNTEER, Offer, OfferArea, OfferCategory, OfferCoverage, OfferSlot, Person,
)
from domain.people import grant_role, require_consent
from domain.schedule import PART_HOURS, PARTS, weekdays_of

Slot = tuple[int, time, time]  # weekday (0 = Monday), local start, local end


def slots_from(weekdays: int, parts: int) -> list[Slot]:
    """月・水 × 午前 → [(0, 9:00, 12:00), (2, 9:00, 12:00)]."""
    slots = []
    for day in weekdays_of(weekdays):
        for bit in PARTS:
            if parts & bit:
                start, end = PART_HOURS[bit]
                slots.append((day, start, end))
    return slots


def _set_rows(offer: Offer, categories: Iterable[str], area_ids: Iterable[int],
              slots: Iterable[Slot]) -> None:
    cats = list(dict.fromkeys(categories))
    for code in cats:
        check_category(code)
    areas = list(dict.fromkeys(area_ids))
    if not cats or not areas:
        raise ValueError("an offer needs at least one category and one area")
    slot_list = list(dict.fromkeys(slots))
    for day, start, end in slot_list:
        if not 0 <= day <= 6 or end <= start:
            raise ValueError(f"bad slot: {day} {start}-{end}")
    current_cats = {row.category: row for row in offer.category_rows}
    offer.category_rows = [current_cats.get(c) or OfferCategory(category=c) for c in cats]
    current_areas = {row.area_id: row for row in offer.area_rows}
    offer.area_rows = [current_areas.get(a) or OfferArea(area_id=a) for a in areas]
    # The matching index: categories × areas.
    current_cover = {(row.category, row.area_id): row for row in offer.coverage_rows}
    offer.coverage_rows = [current_cover.get((c, a)) or OfferCoverage(category=c, area_id=a)
                           for c in cats for a in areas]
    offer.slot_rows = [OfferSlot(weekday=d, start_time=s, end_time=e) for d, s, e in slot_list]


def register_offer(session: Session, *, person: Person, categories: Iterable[str],
                   area_ids: Iterable[int], now: datetime, weekdays: int = 0, parts: int = 0,
                   slots: Iterable[Slot] = (), has_car: bool = False, note: str = "") -> Offer:
    """A new offer (the person becomes a volunteer). Slots: explicit hours, or weekdays × parts."""
    require_consent(person)
    grant_role(session, person, VOLUNTEER, now)
    offer = Offer(person_id=person.id, has_car=has_car, paused=False, note=note,
                  created_at=now, updated_at=now)
    _set_rows(offer, categories, area_ids, list(slots) + slots_from(weekdays, parts))
    session.add(offer)
    session.flush()
    return offer


def update_offer(session: Session, offer: Offer, *, now: datetime, categories: Iterable[str],
                 area_ids: Iterable[int], weekdays: int = 0, parts: int = 0,
                 slots: Iterable[Slot] = (), has_car: bool | None = None) -> Offer:
    _set_rows(offer, categories, area_ids, list(slots) + slots_from(weekdays, parts))
    if has_car is not None:
        offer.has_car = has_car
    offer.updated_at = now
    session.flush()
    return offer


def set_paused(offer: Offer, paused: bool, now: datetime) -> None:
    """しばらくお休み: a paused offer is never asked."""
    offer.paused = paused
    offer.updated_at = now


def offers_of(session: Session, person: Person) -> list[Offer]:
    return list(session.scalars(select(Offer).where(Offer.person_id == person.id)
                                .order_by(Offer.id)))

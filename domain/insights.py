"""見える化: needs against resources and volunteers, by district and category, over a period.

Everything is counted (no person appears here) and scoped: a district coordinator sees their
districts, a city coordinator all of them. Needs are counted in the district of their area
(a neighbourhood's parent); a resource or volunteer serving the whole city counts in every
district. The queries group in the database and fold areas into districts here, so the page
stays fast at tens of thousands of needs.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import escalation as esc
from domain.categories import CATEGORIES, CATEGORY_CODES
from domain.clock import TOKYO
from domain.models import (
    ACCEPTED, ASKING, CITY, DISTRICT, DONE, ESCALATED, NEED_STATUSES, RECEIVED, RESOURCE_ACTIVE, SUGGESTED,
    Area, Match, Need, Offer, OfferCoverage, Person, Resource, ResourceCoverage,
)
from domain.scope import Scope

UNMET_STATUSES = (RECEIVED, SUGGESTED, ASKING, ESCALATED)


@dataclass(frozen=True)
class Period:
    start: date  # local dates, inclusive
    end: date

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(0), TOKYO)

    @property
    def end_utc(self) -> datetime:  # exclusive
        return datetime.combine(self.end + timedelta(days=1), time(0), TOKYO)

    def label(self) -> str:
        return f"{self.start:%Y年%m月%d日}〜{self.end:%Y年%m月%d日}"

    @classmethod
    def parse(cls, start: str | None, end: str | None, today: date, default_days: int = 90) -> Period:
        try:
            end_d = date.fromisoformat(end) if end else today
        except ValueError:
            end_d = today
        try:
            start_d = date.fromisoformat(start) if start else end_d - timedelta(days=default_days - 1)
        except ValueError:
            start_d = end_d - timedelta(days=default_days - 1)
        if start_d > end_d:
            start_d, end_d = end_d, start_d
        if (end_d - start_d).days > 366 * 3:
            start_d = end_d - timedelta(days=366 * 3)
        return cls(start_d, end_d)


@dataclass
class Cell:
    needs: int = 0
    unmet: int = 0
    resources: int = 0
    volunteers: int = 0
    proposals: int = 0
    contact_hours: list[float] = field(default_factory=list)

    @property
    def resources_per_need(self) -> float | None:
        return round(self.resources / self.needs, 2) if self.needs else None

    @property
    def volunteers_per_need(self) -> float | None:
        return round(self.volunteers / self.needs, 2) if self.needs else None

    @property
    def median_contact_hours(self) -> float | None:
        return round(statistics.median(self.contact_hours), 1) if self.contact_hours else None


@dataclass
class Insights:
    period: Period
    districts: list[Area]
    categories: list[str]
    cells: dict[tuple[int, str], Cell]
    by_category: dict[str, Cell]
    by_district: dict[int, Cell]
    total: Cell
    outcomes: dict[str, int]
    statuses: dict[str, int]

    def cell(self, district_id: int, category: str) -> Cell:
        return self.cells.get((district_id, category)) or Cell()


def district_map(session: Session) -> tuple[dict[int, int], dict[int, Area], int | None]:
    """area id → its district id (a city area maps to itself), the districts, the city id."""
    areas = {a.id: a for a in session.scalars(select(Area))}
    city_id = next((a.id for a in areas.values() if a.layer == CITY), None)
    out: dict[int, int] = {}
    for area in areas.values():
        cursor, steps = area, 0
        while cursor is not None and cursor.layer not in (DISTRICT, CITY) and steps < 4:
            cursor, steps = areas.get(cursor.parent_id), steps + 1
        out[area.id] = cursor.id if cursor is not None else area.id
    districts = {a.id: a for a in areas.values() if a.layer == DISTRICT}
    return out, districts, city_id


def visible_districts(session: Session, scope: Scope, district_id: int | None = None) -> list[Area]:
    _map, districts, _city = district_map(session)
    chosen = [d for d in districts.values() if scope.city_wide or d.id in scope.district_ids
              or scope.covers(d.id)]
    if district_id is not None:
        chosen = [d for d in chosen if d.id == district_id]
    return sorted(chosen, key=lambda a: (a.sort_order, a.code))


def compute(session: Session, scope: Scope, period: Period, *, district_id: int | None = None,
            category: str | None = None) -> Insights:
    to_district, _all, city_id = district_map(session)
    districts = visible_districts(session, scope, district_id)
    wanted = {d.id for d in districts}
    categories = [c for c in CATEGORY_CODES if c in CATEGORIES and (category is None or c == category)]
    cats = set(categories)
    cells: dict[tuple[int, str], Cell] = defaultdict(Cell)
    start, end = period.start_utc, period.end_utc
    in_period = (Need.created_at >= start, Need.created_at < end, scope.where(Need.area_id))

    statuses: dict[str, int] = {s: 0 for s in NEED_STATUSES}
    for area_id, cat, status, count in session.execute(
            select(Need.area_id, Need.category, Need.status, func.count())
            .where(*in_period).group_by(Need.area_id, Need.category, Need.status)):
        d = to_district.get(area_id)
        if d not in wanted or cat not in cats:
            continue
        cell = cells[(d, cat)]
        cell.needs += count
        statuses[status] = statuses.get(status, 0) + count
        if status in UNMET_STATUSES:
            cell.unmet += count

    # First contact: a volunteer's acceptance or a coordinator's 対応します, whichever came first.
    accepted = (select(Match.need_id.label("need_id"), func.min(Match.responded_at).label("at"))
                .where(Match.status.in_((ACCEPTED, DONE)), Match.responded_at.is_not(None))
                .group_by(Match.need_id).subquery())
    acknowledged = (select(esc.Escalation.need_id.label("need_id"),
                           func.min(esc.Escalation.acknowledged_at).label("at"))
                    .where(esc.Escalation.acknowledged_at.is_not(None))
                    .group_by(esc.Escalation.need_id).subquery())
    for area_id, cat, created, a1, a2 in session.execute(
            select(Need.area_id, Need.category, Need.created_at, accepted.c.at, acknowledged.c.at)
            .outerjoin(accepted, accepted.c.need_id == Need.id)
            .outerjoin(acknowledged, acknowledged.c.need_id == Need.id)
            .where(*in_period, (accepted.c.at.is_not(None)) | (acknowledged.c.at.is_not(None)))):
        d = to_district.get(area_id)
        if d not in wanted or cat not in cats:
            continue
        first = min(x for x in (a1, a2) if x is not None)
        if first.tzinfo is None or created.tzinfo is None:
            first, created = first.replace(tzinfo=None), created.replace(tzinfo=None)
        cells[(d, cat)].contact_hours.append(max(0.0, (first - created).total_seconds() / 3600))

    # Resources and volunteers serving each district (city-wide ones count everywhere).
    resource_sets: dict[tuple[int, str], set[int]] = defaultdict(set)
    for cat, area_id, rid in session.execute(
            select(ResourceCoverage.category, ResourceCoverage.area_id, ResourceCoverage.resource_id)
            .join(Resource, Resource.id == ResourceCoverage.resource_id)
            .where(Resource.status == RESOURCE_ACTIVE, ResourceCoverage.category.in_(categories))):
        d = to_district.get(area_id)
        targets = wanted if d == city_id else ({d} & wanted)
        for t in targets:
            resource_sets[(t, cat)].add(rid)
    volunteer_sets: dict[tuple[int, str], set[int]] = defaultdict(set)
    for cat, area_id, pid in session.execute(
            select(OfferCoverage.category, OfferCoverage.area_id, Offer.person_id)
            .join(Offer, Offer.id == OfferCoverage.offer_id).join(Person, Person.id == Offer.person_id)
            .where(Offer.paused.is_(False), Person.active.is_(True), OfferCoverage.category.in_(categories))):
        d = to_district.get(area_id)
        targets = wanted if d == city_id else ({d} & wanted)
        for t in targets:
            volunteer_sets[(t, cat)].add(pid)
    for key, ids in resource_sets.items():
        cells[key].resources = len(ids)
    for key, ids in volunteer_sets.items():
        cells[key].volunteers = len(ids)

    for district, cat, count in session.execute(
            select(esc.Proposal.district_id, esc.Proposal.category, func.count())
            .where(esc.Proposal.raised_at >= start, esc.Proposal.raised_at < end,
                   scope.where(esc.Proposal.district_id))
            .group_by(esc.Proposal.district_id, esc.Proposal.category)):
        d = to_district.get(district, district)
        if d in wanted and cat in cats:
            cells[(d, cat)].proposals += count

    outcomes: dict[str, int] = {o: 0 for o in esc.OUTCOMES}
    for outcome, count in session.execute(
            select(esc.Escalation.outcome, func.count()).join(Need, Need.id == esc.Escalation.need_id)
            .where(*in_period, esc.Escalation.outcome.is_not(None),
                   Need.category.in_(categories), scope.where(esc.Escalation.area_id))
            .group_by(esc.Escalation.outcome)):
        if district_id is None:
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    if district_id is not None:  # the district filter needs the need's district: count per row
        for outcome, area_id in session.execute(
                select(esc.Escalation.outcome, Need.area_id).join(Need, Need.id == esc.Escalation.need_id)
                .where(*in_period, esc.Escalation.outcome.is_not(None), Need.category.in_(categories))):
            if to_district.get(area_id) in wanted:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

    by_category: dict[str, Cell] = {c: Cell() for c in categories}
    by_district: dict[int, Cell] = {d.id: Cell() for d in districts}
    total = Cell()
    for (d, cat), cell in cells.items():
        for target in (by_category[cat], by_district[d], total):
            target.needs += cell.needs
            target.unmet += cell.unmet
            target.proposals += cell.proposals
            target.contact_hours.extend(cell.contact_hours)
    for cat in categories:
        by_category[cat].resources = len(set().union(*[resource_sets.get((d.id, cat), set()) for d in districts]))
        by_category[cat].volunteers = len(set().union(*[volunteer_sets.get((d.id, cat), set()) for d in districts]))
    for d in districts:
        by_district[d.id].resources = len(set().union(*[resource_sets.get((d.id, c), set()) for c in categories]))
        by_district[d.id].volunteers = len(set().union(*[volunteer_sets.get((d.id, c), set()) for c in categories]))
    total.resources = len(set().union(*resource_sets.values())) if resource_sets else 0
    total.volunteers = len(set().union(*volunteer_sets.values())) if volunteer_sets else 0
    return Insights(period, districts, categories, dict(cells), by_category, by_district, total, outcomes, statuses)

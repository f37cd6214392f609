"""見える化: needs against resources and volunteers, by district and category, over a period.

Everything is counted (no person appears here) and scoped: a district coordinator sees their
districts, a city coordinator all of them. Needs are counted in the district of their area
(a neighbourhood's parent); a resource or volunteer serving the whole city counts in every
district. The queries group in the database and fold areas into districts here, so the page
stays fast at tens of thousands of needs.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, aliased

from domain import escalation as esc
from domain.categories import CATEGORIES, CATEGORY_CODES
from domain.clock import TOKYO
from domain.models import (
    ACCEPTED, ASKING, CITY, DISTRICT, DONE, ESCALATED, NEED_STATUSES, NEIGHBOURHOOD, RECEIVED, RESOURCE_ACTIVE,
    SUGGESTED,
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
    contact_total: float = 0.0  # hours to first contact, summed over the needs contacted
    contact_count: int = 0

    @property
    def resources_per_need(self) -> float | None:
        return round(self.resources / self.needs, 2) if self.needs else None

    @property
    def volunteers_per_need(self) -> float | None:
        return round(self.volunteers / self.needs, 2) if self.needs else None

    @property
    def mean_contact_hours(self) -> float | None:
        return round(self.contact_total / self.contact_count, 1) if self.contact_count else None


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


def _district_of(area):
    """SQL: the district of an area row (a neighbourhood's parent; a district or the city itself)."""
    return case((area.layer == NEIGHBOURHOOD, area.parent_id), else_=area.id)


def _hours_between(session: Session, later, earlier):
    """SQL: hours from earlier to later, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def compute(session: Session, scope: Scope, period: Period, *, district_id: int | None = None,
            category: str | None = None) -> Insights:
    _map, _all, city_id = district_map(session)
    districts = visible_districts(session, scope, district_id)
    wanted = {d.id for d in districts}
    categories = [c for c in CATEGORY_CODES if c in CATEGORIES and (category is None or c == category)]
    cats = set(categories)
    cells: dict[tuple[int, str], Cell] = defaultdict(Cell)
    start, end = period.start_utc, period.end_utc
    area = aliased(Area)
    district = _district_of(area)
    in_period = (Need.created_at >= start, Need.created_at < end, scope.where(Need.area_id),
                 Need.category.in_(categories))
    if district_id is not None:
        below = [a for a, d in _map.items() if d == district_id]
        in_period += (Need.area_id.in_(below),)

    statuses: dict[str, int] = {s: 0 for s in NEED_STATUSES}
    for d, cat, status, count in session.execute(
            select(district, Need.category, Need.status, func.count()).join(area, area.id == Need.area_id)
            .where(*in_period).group_by(district, Need.category, Need.status)):
        if d not in wanted or cat not in cats:
            continue
        cell = cells[(d, cat)]
        cell.needs += count
        statuses[status] = statuses.get(status, 0) + count
        if status in UNMET_STATUSES:
            cell.unmet += count

    # First contact: a volunteer's acceptance or a coordinator's 対応します, whichever came first.
    # Looked up per need by index (matches and escalations by need_id), so the plan is the same
    # whatever the planner's statistics say: a join on a grouped union planned with the stale
    # statistics of a freshly filled database took 13 s on PostgreSQL.
    accepted = (select(func.min(Match.responded_at))
                .where(Match.need_id == Need.id, Match.status.in_((ACCEPTED, DONE)), Match.responded_at.is_not(None))
                .scalar_subquery())
    acknowledged = (select(func.min(esc.Escalation.acknowledged_at))
                    .where(esc.Escalation.need_id == Need.id, esc.Escalation.acknowledged_at.is_not(None))
                    .scalar_subquery())
    # OFFSET 0 keeps the subquery whole: inlined, each use of a column would run its lookup again.
    per_need = (select(district.label("district"), Need.category.label("category"), Need.created_at.label("created"),
                       accepted.label("accepted"), acknowledged.label("acknowledged"))
                .join(area, area.id == Need.area_id).where(*in_period).offset(0).subquery())
    earliest = func.least if session.get_bind().dialect.name == "postgresql" else func.min
    at = earliest(func.coalesce(per_need.c.accepted, per_need.c.acknowledged),
                  func.coalesce(per_need.c.acknowledged, per_need.c.accepted))
    hours = _hours_between(session, at, per_need.c.created)
    for d, cat, total, count in session.execute(
            select(per_need.c.district, per_need.c.category, func.sum(hours), func.count())
            .where(or_(per_need.c.accepted.is_not(None), per_need.c.acknowledged.is_not(None)))
            .group_by(per_need.c.district, per_need.c.category)):
        if d in wanted and cat in cats and count:
            cells[(d, cat)].contact_total += max(0.0, float(total or 0))
            cells[(d, cat)].contact_count += count

    # Resources and volunteers serving each district (city-wide ones count everywhere).
    def supply(rows) -> tuple[dict, dict, int]:
        per_cell: dict[tuple[int, str], int] = {}
        for d, cat, count in rows:
            targets = wanted if d == city_id else ({d} & wanted)
            for t in targets:
                if cat in cats:
                    per_cell[(t, cat)] = per_cell.get((t, cat), 0) + count
        return per_cell

    r_area = aliased(Area)
    r_district = _district_of(r_area)
    resource_cells = supply(session.execute(
        select(r_district, ResourceCoverage.category, func.count(func.distinct(ResourceCoverage.resource_id)))
        .join(r_area, r_area.id == ResourceCoverage.area_id)
        .join(Resource, Resource.id == ResourceCoverage.resource_id)
        .where(Resource.status == RESOURCE_ACTIVE, ResourceCoverage.category.in_(categories))
        .group_by(r_district, ResourceCoverage.category)))
    volunteer_cells = supply(session.execute(
        select(r_district, OfferCoverage.category, func.count(func.distinct(Offer.person_id)))
        .join(r_area, r_area.id == OfferCoverage.area_id)
        .join(Offer, Offer.id == OfferCoverage.offer_id).join(Person, Person.id == Offer.person_id)
        .where(Offer.paused.is_(False), Person.active.is_(True), OfferCoverage.category.in_(categories))
        .group_by(r_district, OfferCoverage.category)))
    for key, count in resource_cells.items():
        cells[key].resources = count
    for key, count in volunteer_cells.items():
        cells[key].volunteers = count

    for d, cat, count in session.execute(
            select(esc.Proposal.district_id, esc.Proposal.category, func.count())
            .where(esc.Proposal.raised_at >= start, esc.Proposal.raised_at < end,
                   scope.where(esc.Proposal.district_id))
            .group_by(esc.Proposal.district_id, esc.Proposal.category)):
        if d in wanted and cat in cats:
            cells[(d, cat)].proposals += count

    outcomes: dict[str, int] = {o: 0 for o in esc.OUTCOMES}
    for d, outcome, count in session.execute(
            select(district, esc.Escalation.outcome, func.count()).join(Need, Need.id == esc.Escalation.need_id)
            .join(area, area.id == Need.area_id)
            .where(*in_period, esc.Escalation.outcome.is_not(None))
            .group_by(district, esc.Escalation.outcome)):
        if d in wanted:
            outcomes[outcome] = outcomes.get(outcome, 0) + count

    by_category: dict[str, Cell] = {c: Cell() for c in categories}
    by_district: dict[int, Cell] = {d.id: Cell() for d in districts}
    total = Cell()
    for (d, cat), cell in cells.items():
        for target in (by_category[cat], by_district[d], total):
            target.needs += cell.needs
            target.unmet += cell.unmet
            target.proposals += cell.proposals
            target.contact_total += cell.contact_total
            target.contact_count += cell.contact_count
            # Resources and volunteers serving several districts count once in each of them.
            target.resources += cell.resources
            target.volunteers += cell.volunteers
    return Insights(period, districts, categories, dict(cells), by_category, by_district, total, outcomes, statuses)

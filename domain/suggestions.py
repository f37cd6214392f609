"""Suggestions for a need: resources to show the resident, volunteers to ask.

Two steps, kept apart so the rules can be tested without a database:
  load  — indexed queries fetch candidates by category and area (resource_coverage by
          (category, area_id, resource_id), offer_coverage by (category, area_id, offer_id))
          plus a latitude/longitude box for resources just over a
          district border; schedules, closures and slots are loaded only for the candidates
          that are still in the running, names only for those shown;
  rank  — pure functions score each candidate and write one short Japanese line for it.

Resource score (higher first), out of 100:
  area      40 same neighbourhood, 30 same district, 20 city-wide, 0 another district nearby
            (other districts are looked at only when the own area has fewer than 20)
  time      30 meets at the time wanted, 10 by arrangement (不定期), 0 only at other times
  soon      up to 10: the sooner the next fitting occurrence (within 4 weeks)
  distance  up to 15: 15 next door … 0 at an hour's walk (80 m/min); 5 when unknown
  fresh     5 verified within 6 months, 2.5 within a year
  place     -10 for a bare place (a 公民館 as a building, an offered space): the activity
            held there is what the resident asked for, so activities come first
  Only resources whose kind can meet the category are candidates (KIND_FIT: a walking club
  tagged 外出 is no hospital escort), and those that meet only at other times than the one
  wanted are shown after all the others, saying so.
Volunteer score (only volunteers free at the time wanted are asked), out of 100:
  area      30 same neighbourhood, 25 same district, 15 city-wide
  load      up to 40: 40 when never asked, rising back from 0 over 14 days since last asked
  distance  up to 20 by home-area centroid (0 at 10 km); 8 when unknown
  car       10 for 通院・外出 when they have a car
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from math import cos, radians
from typing import Callable, Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from domain.areas import AreaScope, area_scope
from domain.categories import RESOURCE_KINDS
from domain.geo import distance_text, haversine_m, valid_lat_lon, walking_minutes
from domain.models import (
    CONSENT_GIVEN, RESOURCE_ACTIVE, Area, Match, Need, Offer, OfferCoverage, OfferSlot,
    Person, Resource, ResourceCategory, ResourceClosure, ResourceCoverage, ResourceSchedule,
)
from domain.needs import wanted_of
from domain.schedule import (
    ALWAYS, IRREGULAR, WEEKDAY_JA, WEEKLY, Occurrence, Rule, Wanted, hour_text, next_occurrence,
    to_tokyo,
)

FITS, ARRANGEMENT, OTHER_TIME = "fits", "arrangement", "other_time"
TIER_POINTS_RESOURCE = {3: 40.0, 2: 30.0, 1: 20.0, 0: 0.0}
TIER_POINTS_VOLUNTEER = {3: 30.0, 2: 25.0, 1: 15.0, 0: 0.0}
NEARBY_RADIUS_M = 3000
NEARBY_LIMIT = 50
NEARBY_WHEN_FEWER = 20
# Candidates loaded per query at most; far more than a city has for one category and area.
CANDIDATE_CAP = 5000
LOAD_SHARE_DAYS = 14
KIND_POINTS = {"public_facility": -10.0, "offered_space": -10.0}
# Which kinds of resource can meet each need category. A resource is tagged with categories by
# whoever entered it (a walking club tagged 外出), but a hospital escort is not met by a walking
# club: the kind must fit as well. Kinds that offer many things fit every category.
_GENERAL_KINDS = frozenset({"mutual_aid", "npo_service", "shakyo_service", "other"})
KIND_FIT: dict[str, frozenset[str]] = {code: _GENERAL_KINDS | frozenset(kinds) for code, kinds in {
    "shopping": {"shop_delivery", "transport", "silver_center", "care_provider"},
    "outing": {"transport", "silver_center", "care_provider"},
    "housework": {"silver_center", "care_provider"},
    "garbage": {"silver_center", "care_provider"},
    "meals": {"meal_delivery", "care_provider", "salon"},
    "watch": {"watch_network", "consultation", "care_provider"},
    "talk": {"salon", "watch_network", "consultation", "exercise_group"},
    "exercise": {"exercise_group", "salon", "public_facility", "offered_space", "care_provider"},
    "salon": {"salon", "exercise_group", "public_facility", "offered_space"},
    "garden": {"silver_center"},
    "snow": {"silver_center"},
    "digital": {"salon", "public_facility", "consultation", "offered_space"},
    "paperwork": {"consultation"},
}.items()}


def kind_fits(category: str, kind: str) -> bool:
    """Can a resource of this kind meet a need of this category? (unknown categories: yes)"""
    allowed = KIND_FIT.get(category)
    return allowed is None or kind in allowed


# -- data the ranking works on -------------------------------------------------------------------
@dataclass
class ResourceCandidate:
    id: int
    name: str
    kind: str
    tier: int
    venue: str = ""
    address: str = ""
    phone: str = ""
    url: str = ""
    lat: float | None = None
    lon: float | None = None
    last_verified_on: date | None = None
    rules: list[Rule] = field(default_factory=list)
    closures: frozenset[date] = frozenset()


@dataclass(frozen=True)
class ResourceSuggestion:
    resource_id: int
    name: str
    kind: str
    score: float
    explanation: str          # 毎週水曜 10時から・公民館・歩いて8分
    tier: int
    fit: str                  # fits / arrangement / other_time
    next_start: datetime | None   # Asia/Tokyo
    next_end: datetime | None
    when_text: str            # the full rule text: 毎週水曜 10:00〜12:00
    distance_m: float | None
    venue: str
    address: str
    phone: str
    url: str
    what: str = ""            # what it is, in a few words: 体操・通いの場（転倒予防の体操）
    distance_text: str = ""   # 歩いて8分 / 約4.2km / 市内全域

    @property
    def fits_time(self) -> bool:
        """False when it meets only at other times than the one wanted (shown last, saying so)."""
        return self.fit != OTHER_TIME


@dataclass
class VolunteerCandidate:
    person_id: int
    offer_id: int
    tier: int
    has_car: bool = False
    last_asked_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    area_name: str = ""
    slots: list[Rule] = field(default_factory=list)


@dataclass(frozen=True)
class VolunteerSuggestion:
    person_id: int
    offer_id: int
    score: float
    explanation: str          # 水曜 9時から・安積地区・車あり
    tier: int
    available: bool
    next_start: datetime | None
    distance_m: float | None
    last_asked_at: datetime | None
    has_car: bool


@dataclass(frozen=True)
class Query:
    """What is wanted, where, and from where distances are measured."""

    category: str
    wanted: Wanted
    origin: tuple[float, float] | None = None
    urgent: bool = False


# -- ranking (pure) ------------------------------------------------------------------------------
MAX_TIME_POINTS = 40.0
FILL_BATCH = 120  # the first batch; later ones grow, to keep round trips few
Fill = Callable[[list], None]


def _distance(origin: tuple[float, float] | None, lat: float | None, lon: float | None) -> float | None:
    if origin is None or lat is None or lon is None:
        return None
    return haversine_m(origin[0], origin[1], lat, lon)


def _freshness(verified: date | None, today: date) -> float:
    if verified is None:
        return 0.0
    age = (today - verified).days
    return 5.0 if age <= 183 else 2.5 if age <= 366 else 0.0


def _resource_base(c: ResourceCandidate, query: Query, today: date) -> tuple[float, float | None]:
    """Everything but the time: area, distance, freshness, kind."""
    metres = _distance(query.origin, c.lat, c.lon)
    if metres is None:
        distance_points = 5.0
    else:
        distance_points = 15.0 * max(0.0, 1 - walking_minutes(metres) / 60)
    return (TIER_POINTS_RESOURCE[c.tier] + distance_points + _freshness(c.last_verified_on, today)
            + KIND_POINTS.get(c.kind, 0.0)), metres


def _resource_time(c: ResourceCandidate, wanted: Wanted | None, now: datetime,
                   local_now: datetime) -> tuple[float, str, Occurrence | None]:
    occurrence = next_occurrence(c.rules, now, c.closures, wanted) if c.rules else None
    if occurrence is not None:
        days = max(0.0, (occurrence.start - local_now).total_seconds() / 86400)
        return 30.0 + 10.0 * max(0.0, 1 - days / 28), FITS, occurrence
    if not c.rules or any(r.kind == IRREGULAR for r in c.rules):
        return 10.0, ARRANGEMENT, None
    return 0.0, OTHER_TIME, None


def _rank_resources(candidates: Iterable[ResourceCandidate], query: Query, now: datetime,
                    limit: int, fill: Fill | None = None) -> list[tuple]:
    """Best first, timing only as many candidates as can still reach the top `limit`.

    The time of the next meeting is the costly part (and needs the schedule, which the
    database path loads in batches through `fill`); it adds at most MAX_TIME_POINTS, so once
    a candidate's other points plus that maximum cannot beat the current last place, neither
    can any candidate after it.
    """
    local_now = to_tokyo(now)
    today = local_now.date()
    wanted = None if query.wanted.is_any else query.wanted
    order = []
    for c in candidates:
        base, metres = _resource_base(c, query, today)
        order.append((base, metres, c))
    order.sort(key=lambda e: (-e[0], e[1] if e[1] is not None else 1e12, e[2].id))
    best: list[tuple] = []   # (sort key, score, metres, candidate, fit, occurrence)
    i = 0
    while i < len(order):
        if len(best) >= limit and order[i][0] + MAX_TIME_POINTS < best[-1][1]:
            break
        batch = order[i:i + FILL_BATCH * (1 + i // FILL_BATCH)]
        i += len(batch)
        if fill is not None:
            fill([c for _b, _m, c in batch])
        for base, metres, c in batch:
            if len(best) >= limit and base + MAX_TIME_POINTS < best[-1][1]:
                i = len(order)
                break
            points, fit, occurrence = _resource_time(c, wanted, now, local_now)
            score = base + points
            key = (-score, metres if metres is not None else 1e12, c.id)
            if len(best) < limit or key < best[-1][0]:
                bisect.insort(best, (key, score, metres, c, fit, occurrence), key=lambda e: e[0])
                del best[limit:]
    return best


def what_text(kind: str, description: str = "", limit: int = 30) -> str:
    """What it is in a few words: its own short description (食料品・日用品を積んだ車が来ます),
    else its kind (体操・通いの場)."""
    description = " ".join((description or "").split())
    if description and len(description) <= limit:
        return description
    return RESOURCE_KINDS.get(kind, "") or description[:limit]


def _far_text(c: ResourceCandidate, metres: float | None) -> str:
    if metres is not None:
        return distance_text(metres)
    return "市内全域" if c.tier == 1 else ""


def _resource_suggestions(best: list[tuple], now: datetime,
                          descriptions: dict[int, str] | None = None) -> list[ResourceSuggestion]:
    """Suggestions in rank order, except that those meeting only at other times come last."""
    out = []
    best = sorted(best, key=lambda e: e[4] == OTHER_TIME)  # stable: rank order otherwise
    for _key, score, metres, c, fit, occurrence in best:
        if occurrence is None and fit == OTHER_TIME:
            occurrence = next_occurrence(c.rules, now, c.closures)
        out.append(ResourceSuggestion(
            resource_id=c.id, name=c.name, kind=c.kind, score=round(score, 2),
            explanation=resource_line(c, fit, occurrence, metres), tier=c.tier, fit=fit,
            next_start=occurrence.start if occurrence else None,
            next_end=occurrence.end if occurrence else None,
            when_text="、".join(r.describe() for r in c.rules) or "日時は問い合わせ",
            distance_m=metres, venue=c.venue, address=c.address, phone=c.phone, url=c.url,
            what=what_text(c.kind, (descriptions or {}).get(c.id, "")), distance_text=_far_text(c, metres)))
    return out


def rank_resources(candidates: Iterable[ResourceCandidate], query: Query, now: datetime,
                   limit: int = 5) -> list[ResourceSuggestion]:
    """Score candidates (with their rules and closures) and explain the best `limit`."""
    return _resource_suggestions(_rank_resources(candidates, query, now, limit), now)


def resource_line(c: ResourceCandidate, fit: str, occurrence: Occurrence | None,
                  metres: float | None) -> str:
    """One short line: when · where · how far.  毎週水曜 10時から・公民館・歩いて8分"""
    if occurrence is not None:
        when = occurrence.rule.short()
    elif fit == ARRANGEMENT:
        when = "日時は相談" if c.rules else "日時は問い合わせ"
    else:
        when = c.rules[0].short() if c.rules else "日時は問い合わせ"
    place = c.venue or RESOURCE_KINDS.get(c.kind, "")
    return "・".join(p for p in (when, place, _far_text(c, metres)) if p)


def _volunteer_base(c: VolunteerCandidate, query: Query, now: datetime) -> tuple[float, float | None]:
    if c.last_asked_at is None:
        load = 40.0
    else:
        days = max(0.0, (now - c.last_asked_at).total_seconds() / 86400)
        load = 40.0 * min(1.0, days / LOAD_SHARE_DAYS)
    metres = _distance(query.origin, c.lat, c.lon)
    distance_points = 8.0 if metres is None else 20.0 * max(0.0, 1 - metres / 10_000)
    car = 10.0 if query.category == "outing" and c.has_car else 0.0
    return TIER_POINTS_VOLUNTEER[c.tier] + load + distance_points + car, metres


def rank_volunteers(candidates: Iterable[VolunteerCandidate], query: Query, now: datetime,
                    limit: int = 5, include_unavailable: bool = False,
                    fill: Fill | None = None) -> list[VolunteerSuggestion]:
    """The best `limit` volunteers free at the time wanted (others last, when asked for).

    Being free adds no points, it only admits; so candidates are taken in score order and the
    slots (loaded in batches through `fill` on the database path) are checked until enough are
    found. A volunteer with several offers counts once.
    """
    wanted = None if query.wanted.is_any else query.wanted
    order = []
    for c in candidates:
        base, metres = _volunteer_base(c, query, now)
        order.append((base, metres, c))
    order.sort(key=lambda e: (-e[0], e[1] if e[1] is not None else 1e12, e[2].person_id))
    chosen: list[tuple] = []
    unavailable: list[tuple] = []
    seen: set[int] = set()
    for i in range(0, len(order), FILL_BATCH):
        if len(chosen) >= limit:
            break
        batch = order[i:i + FILL_BATCH]
        if fill is not None:
            fill([c for _b, _m, c in batch])
        for base, metres, c in batch:
            if len(chosen) >= limit or c.person_id in seen:
                continue
            occurrence = next_occurrence(c.slots or [Rule(ALWAYS)], now, (), wanted,
                                         horizon_days=15)
            if occurrence is not None:
                seen.add(c.person_id)
                chosen.append((base, c, occurrence, metres))
            elif include_unavailable:
                unavailable.append((base, c, None, metres))
    if include_unavailable and len(chosen) < limit:
        for base, c, occurrence, metres in unavailable:
            if c.person_id not in seen and len(chosen) < limit:
                seen.add(c.person_id)
                chosen.append((base - 100.0, c, occurrence, metres))
    return [VolunteerSuggestion(
        person_id=c.person_id, offer_id=c.offer_id, score=round(score, 2),
        explanation=volunteer_line(c, occurrence), tier=c.tier,
        available=occurrence is not None, next_start=occurrence.start if occurrence else None,
        distance_m=metres, last_asked_at=c.last_asked_at, has_car=c.has_car)
        for score, c, occurrence, metres in chosen]


def volunteer_line(c: VolunteerCandidate, occurrence: Occurrence | None) -> str:
    if occurrence is None:
        when = "時間が合わない"
    elif occurrence.rule.kind == ALWAYS:
        when = "いつでも"
    else:
        start = occurrence.start
        when = f"{WEEKDAY_JA[start.weekday()]}曜 {hour_text(start.time())}から"
    parts = [when, c.area_name]
    if c.has_car:
        parts.append("車あり")
    return "・".join(p for p in parts if p)


# -- loading (indexed queries) -------------------------------------------------------------------
def _box(origin: tuple[float, float], metres: float) -> tuple[float, float, float, float]:
    dlat = metres / 111_000
    dlon = metres / (111_000 * max(0.1, cos(radians(origin[0]))))
    return origin[0] - dlat, origin[0] + dlat, origin[1] - dlon, origin[1] + dlon


_LEAN_COLUMNS = (Resource.id, Resource.kind, Resource.lat, Resource.lon, Resource.last_verified_on,
                 Resource.name, Resource.venue, Resource.address, Resource.phone, Resource.url)


def _ids(name: str):
    return bindparam(name, expanding=True)


# Statements are built once; each call only binds values (cheap on a hot path).
_CANDIDATES = (
    select(*_LEAN_COLUMNS, ResourceCoverage.area_id)
    .select_from(ResourceCoverage)
    .join(Resource, Resource.id == ResourceCoverage.resource_id)
    .where(ResourceCoverage.category == bindparam("category"),
           ResourceCoverage.area_id.in_(_ids("area_ids")),
           Resource.status == RESOURCE_ACTIVE)
    .limit(CANDIDATE_CAP))
_NEARBY = (
    select(*_LEAN_COLUMNS)
    .select_from(ResourceCategory)
    .join(Resource, Resource.id == ResourceCategory.resource_id)
    .where(ResourceCategory.category == bindparam("category"),
           Resource.status == RESOURCE_ACTIVE,
           Resource.lat.between(bindparam("lat0"), bindparam("lat1")),
           Resource.lon.between(bindparam("lon0"), bindparam("lon1")))
    .limit(bindparam("limit")))
# Rules with the coming closures joined on (closures are rare: few extra rows).
_RULES = (
    select(ResourceSchedule.resource_id, ResourceSchedule.kind, ResourceSchedule.weekdays,
           ResourceSchedule.weeks, ResourceSchedule.start_time, ResourceSchedule.end_time,
           ResourceSchedule.note, ResourceClosure.on_date)
    .outerjoin(ResourceClosure, (ResourceClosure.resource_id == ResourceSchedule.resource_id)
               & ResourceClosure.on_date.between(bindparam("first"), bindparam("last")))
    .where(ResourceSchedule.resource_id.in_(_ids("ids")))
    .order_by(ResourceSchedule.id))
_VOLUNTEERS = (
    select(Offer.id, Offer.person_id, Offer.has_car, OfferCoverage.area_id, Person.last_asked_at,
           Area.name, Area.lat, Area.lon)
    .select_from(OfferCoverage)
    .join(Offer, Offer.id == OfferCoverage.offer_id)
    .join(Person, Person.id == Offer.person_id)
    .outerjoin(Area, Area.id == Person.area_id)
    .where(OfferCoverage.category == bindparam("category"),
           OfferCoverage.area_id.in_(_ids("area_ids")),
           Offer.paused.is_(False), Person.active.is_(True), Person.consent == CONSENT_GIVEN)
    .limit(CANDIDATE_CAP))
_SLOTS = (
    select(OfferSlot.offer_id, OfferSlot.weekday, OfferSlot.start_time, OfferSlot.end_time)
    .where(OfferSlot.offer_id.in_(_ids("ids"))).order_by(OfferSlot.id))


@lru_cache(maxsize=4096)
def _rule(kind: str, weekdays: int, weeks: int, start, end, note: str) -> Rule:
    return Rule(kind, weekdays=weekdays or 0, weeks=weeks or 0, start=start, end=end, note=note or "")


def load_resource_candidates(session: Session, category: str, scope: AreaScope, now: datetime,
                             origin: tuple[float, float] | None = None,
                             nearby_radius_m: float = NEARBY_RADIUS_M,
                             with_rules: bool = True) -> list[ResourceCandidate]:
    """Active resources serving the category in the need's area tree, plus nearby ones.

    Without rules only the rows are loaded; `fill_rules` adds schedules and closures for the
    candidates that are still in the running (see _rank_resources).
    """
    found: dict[int, ResourceCandidate] = {}
    tier_of = scope.tier
    for rid, kind, lat, lon, verified, name, venue, address, phone, url, area_id in session.connection().execute(
            _CANDIDATES, {"category": category, "area_ids": scope.candidate_area_ids}):
        if not kind_fits(category, kind):
            continue
        tier = tier_of(area_id)
        c = found.get(rid)
        if c is None:
            found[rid] = ResourceCandidate(rid, name, kind, tier, venue or "", address or "",
                                           phone or "", url or "", lat, lon, verified)
        elif tier > c.tier:
            c.tier = tier
    # Over the border only when the own area offers little (a rural district, a rare service):
    # a latitude/longitude box is cheap when few rows fall in it, not in a dense city.
    if origin is not None and len(found) < NEARBY_WHEN_FEWER:
        lat0, lat1, lon0, lon1 = _box(origin, nearby_radius_m)
        for rid, kind, lat, lon, verified, name, venue, address, phone, url in session.connection().execute(
                _NEARBY, {"category": category, "lat0": lat0, "lat1": lat1, "lon0": lon0,
                          "lon1": lon1, "limit": NEARBY_LIMIT + len(found)}):
            if rid not in found and kind_fits(category, kind):
                found[rid] = ResourceCandidate(rid, name, kind, 0, venue or "", address or "",
                                               phone or "", url or "", lat, lon, verified)
    candidates = list(found.values())
    if with_rules and candidates:
        fill_rules(session, candidates, now)
    return candidates


def fill_rules(session: Session, candidates: list[ResourceCandidate], now: datetime) -> None:
    """Load the schedule rules and the coming closures of these candidates (one query)."""
    by_id = {c.id: c for c in candidates}
    rules: dict[int, list[Rule]] = {}
    closures: dict[int, set[date]] = {}
    seen: set[tuple] = set()
    today = to_tokyo(now).date()
    for rid, kind, weekdays, weeks, start, end, note, closed_on in session.connection().execute(
            _RULES, {"ids": list(by_id), "first": today, "last": today + timedelta(days=120)}):
        rule = _rule(kind, weekdays, weeks, start, end, note)
        if (rid, rule) not in seen:
            seen.add((rid, rule))
            rules.setdefault(rid, []).append(rule)
        if closed_on is not None:
            closures.setdefault(rid, set()).add(closed_on)
    for rid, c in by_id.items():
        c.rules = rules.get(rid, [])
        c.closures = frozenset(closures.get(rid, ()))


def load_volunteer_candidates(session: Session, category: str, scope: AreaScope,
                              exclude_person_ids: Iterable[int] = (),
                              with_slots: bool = True) -> list[VolunteerCandidate]:
    """Volunteers with an unpaused offer for the category in the need's area tree."""
    excluded = set(exclude_person_ids)
    found: dict[int, VolunteerCandidate] = {}
    tier_of = scope.tier
    for offer_id, person_id, has_car, offer_area_id, last_asked_at, home, lat, lon in session.connection().execute(
            _VOLUNTEERS, {"category": category, "area_ids": scope.candidate_area_ids}):
        if person_id in excluded:
            continue
        tier = tier_of(offer_area_id)
        c = found.get(offer_id)
        if c is None:
            c = found[offer_id] = VolunteerCandidate(
                person_id=person_id, offer_id=offer_id, tier=tier, has_car=bool(has_car),
                last_asked_at=last_asked_at, area_name=home or "")
            if valid_lat_lon(lat, lon):
                c.lat, c.lon = lat, lon
        elif tier > c.tier:
            c.tier = tier
    candidates = list(found.values())
    if with_slots:
        fill_slots(session, candidates)
    return candidates


def fill_slots(session: Session, candidates: list[VolunteerCandidate]) -> None:
    by_offer = {c.offer_id: c for c in candidates}
    for c in candidates:
        c.slots = []
    for offer_id, weekday, start, end in session.connection().execute(_SLOTS, {"ids": list(by_offer)}):
        by_offer[offer_id].slots.append(_rule(WEEKLY, 1 << weekday, 0, start, end, ""))


# -- what the bot calls --------------------------------------------------------------------------
def _origin(scope: AreaScope, origin: tuple[float, float] | None) -> tuple[float, float] | None:
    if origin is not None and valid_lat_lon(*origin):
        return origin
    if valid_lat_lon(scope.lat, scope.lon):
        return scope.lat, scope.lon
    return None


def suggest_resources_for(session: Session, *, category: str, area_id: int, now: datetime,
                          wanted: Wanted | None = None, limit: int = 5,
                          origin: tuple[float, float] | None = None) -> list[ResourceSuggestion]:
    """Resources for a category, area and time (before or without a stored need)."""
    scope = area_scope(session, area_id)
    where_from = _origin(scope, origin)
    candidates = load_resource_candidates(session, category, scope, now, where_from,
                                          with_rules=False)
    best = _rank_resources(candidates, Query(category, wanted or Wanted(), where_from), now,
                           limit, fill=lambda batch: fill_rules(session, batch, now))
    return _resource_suggestions(best, now, _descriptions(session, [e[3].id for e in best]))


def _descriptions(session: Session, ids: list[int]) -> dict[int, str]:
    """The descriptions of the few resources shown (not loaded for every candidate)."""
    if not ids:
        return {}
    return dict(session.execute(select(Resource.id, Resource.description).where(Resource.id.in_(ids))).all())


def suggest_resources(session: Session, need: Need, now: datetime, limit: int = 5,
                      origin: tuple[float, float] | None = None) -> list[ResourceSuggestion]:
    """The resources to show the resident for a need, best first."""
    return suggest_resources_for(session, category=need.category, area_id=need.area_id, now=now,
                                 wanted=wanted_of(need), limit=limit, origin=origin)


def suggest_volunteers(session: Session, need: Need, now: datetime, limit: int = 5,
                       include_unavailable: bool = False, exclude_asked: bool = True,
                       origin: tuple[float, float] | None = None) -> list[VolunteerSuggestion]:
    """Volunteers for a need, best first: free at the time, near, and not asked lately."""
    scope = area_scope(session, need.area_id)
    excluded: set[int] = {need.person_id} if need.person_id is not None else set()
    if exclude_asked and need.id is not None:
        excluded |= {v for v in session.scalars(
            select(Match.volunteer_id).where(Match.need_id == need.id)) if v is not None}
    candidates = load_volunteer_candidates(session, need.category, scope, excluded,
                                           with_slots=False)
    query = Query(need.category, wanted_of(need), _origin(scope, origin), need.urgency == "urgent")
    return rank_volunteers(candidates, query, now, limit, include_unavailable,
                           fill=lambda batch: fill_slots(session, batch))


def volunteers_to_ask(session: Session, need: Need, now: datetime,
                      limit: int = 3) -> list[VolunteerSuggestion]:
    """The next few volunteers to send a request card to (never those already asked)."""
    return suggest_volunteers(session, need, now, limit=limit)


__all__ = [
    "ResourceCandidate", "ResourceSuggestion", "VolunteerCandidate", "VolunteerSuggestion", "Query",
    "rank_resources", "rank_volunteers", "load_resource_candidates", "load_volunteer_candidates",
    "fill_rules", "fill_slots",
    "suggest_resources", "suggest_resources_for", "suggest_volunteers", "volunteers_to_ask",
    "FITS", "ARRANGEMENT", "OTHER_TIME", "KIND_FIT", "kind_fits", "what_text",
]

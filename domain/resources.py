"""社会資源: creating, scheduling, closing, and a resident's offered space as a candidate."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain.categories import PROVIDER_TYPES, RESOURCE_KINDS
from domain.categories import category as check_category
from domain.geo import valid_lat_lon
from domain.models import (
    RESOURCE_ACTIVE, RESOURCE_CANDIDATE, RESOURCE_INACTIVE, RESOURCE_STATUSES, Person, Resource, ResourceArea,
    ResourceCategory, ResourceClosure, ResourceCoverage, ResourceSchedule,
)
from domain.people import require_consent
from domain.schedule import Rule, to_tokyo

SOURCE_OFFER = "offer"
SOURCE_DEMO = "demo"
SOURCE_CONSOLE = "console"

# Plain fields a caller may set through create/update (everything but the associations).
FIELDS = ("name", "kana", "kind", "provider_type", "provider_name", "description", "venue",
          "address", "lat", "lon", "fee", "eligibility", "accessibility", "phone", "url",
          "status", "source", "external_id", "source_file", "last_verified_on", "offered_by_id")


def rule_row(rule: Rule) -> ResourceSchedule:
    return ResourceSchedule(kind=rule.kind, weekdays=rule.weekdays, weeks=rule.weeks,
                            start_time=rule.start, end_time=rule.end, note=rule.note[:100])


def rule_of(row: ResourceSchedule) -> Rule:
    return Rule(row.kind, weekdays=row.weekdays or 0, weeks=row.weeks or 0,
                start=row.start_time, end=row.end_time, note=row.note or "")


def rules_of(resource: Resource) -> list[Rule]:
    return [rule_of(row) for row in resource.schedule_rows]


def _check(values: dict) -> None:
    if not str(values.get("name") or "").strip():
        raise ValueError("a resource needs a name")
    if values.get("kind") not in RESOURCE_KINDS:
        raise ValueError(f"unknown resource kind: {values.get('kind')}")
    if values.get("provider_type", "other") not in PROVIDER_TYPES:
        raise ValueError(f"unknown provider type: {values.get('provider_type')}")
    if values.get("status", RESOURCE_ACTIVE) not in RESOURCE_STATUSES:
        raise ValueError(f"unknown status: {values.get('status')}")
    lat, lon = values.get("lat"), values.get("lon")
    if (lat is not None or lon is not None) and not valid_lat_lon(lat, lon):
        raise ValueError(f"bad latitude/longitude: {lat}, {lon}")


def apply(resource: Resource, now: datetime, *, categories: Iterable[str] | None = None,
          area_ids: Iterable[int] | None = None, rules: Iterable[Rule] | None = None,
          closures: Iterable[date] | None = None, **values) -> Resource:
    """Set fields and, when given, replace categories, areas, schedule rules and closures."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown resource fields: {sorted(unknown)}")
    merged = {f: getattr(resource, f) for f in FIELDS} | values
    merged.setdefault("provider_type", "other")
    _check({k: v for k, v in merged.items() if v is not None or k in ("lat", "lon")})
    for key, value in values.items():
        setattr(resource, key, value)
    if categories is not None:
        codes = list(dict.fromkeys(categories))
        for code in codes:
            check_category(code)
        current = {row.category: row for row in resource.category_rows}
        resource.category_rows = [current.get(c) or ResourceCategory(category=c) for c in codes]
    if area_ids is not None:
        current_areas = {row.area_id: row for row in resource.area_rows}
        resource.area_rows = [current_areas.get(a) or ResourceArea(area_id=a)
                              for a in dict.fromkeys(area_ids)]
    if rules is not None:
        wanted = [rule_row(r) for r in rules]
        have = [(r.kind, r.weekdays, r.weeks, r.start_time, r.end_time, r.note)
                for r in resource.schedule_rows]
        if have != [(r.kind, r.weekdays, r.weeks, r.start_time, r.end_time, r.note) for r in wanted]:
            resource.schedule_rows = wanted
    if categories is not None or area_ids is not None:
        _sync_coverage(resource)
    if closures is not None:
        current_closures = {row.on_date: row for row in resource.closure_rows}
        resource.closure_rows = [current_closures.get(d) or ResourceClosure(on_date=d)
                                 for d in sorted(set(closures))]
    resource.updated_at = now
    return resource


def _sync_coverage(resource: Resource) -> None:
    """Keep the matching index equal to categories × areas."""
    wanted = {(c.category, a.area_id) for c in resource.category_rows for a in resource.area_rows}
    kept = [row for row in resource.coverage_rows if (row.category, row.area_id) in wanted]
    have = {(row.category, row.area_id) for row in kept}
    kept.extend(ResourceCoverage(category=c, area_id=a) for c, a in sorted(wanted - have))
    resource.coverage_rows = kept


def create_resource(session: Session, now: datetime, *, categories: Iterable[str],
                    area_ids: Iterable[int], rules: Iterable[Rule] = (),
                    closures: Iterable[date] = (), **values) -> Resource:
    values.setdefault("source", SOURCE_CONSOLE)
    values.setdefault("status", RESOURCE_ACTIVE)
    values.setdefault("provider_type", "other")
    resource = Resource(created_at=now, updated_at=now)
    apply(resource, now, categories=categories, area_ids=area_ids, rules=rules,
          closures=closures, **values)
    session.add(resource)
    session.flush()
    return resource


def add_closure(session: Session, resource: Resource, on: date, note: str = "") -> None:
    if not any(row.on_date == on for row in resource.closure_rows):
        resource.closure_rows.append(ResourceClosure(on_date=on, note=note[:100]))
        session.flush()


def offer_space(session: Session, person: Person, *, name: str, area_id: int, now: datetime,
                rules: Iterable[Rule] = (), categories: Iterable[str] = ("salon", "exercise"),
                words: str = "", venue: str = "") -> Resource:
    """「水曜日ならうちのスペースを使っていい」: a candidate for the coordinator to confirm."""
    require_consent(person)
    return create_resource(
        session, now, categories=categories, area_ids=[area_id], rules=rules,
        name=name, kind="offered_space", provider_type="resident", description=words[:2000],
        venue=venue or name, status=RESOURCE_CANDIDATE, source=SOURCE_OFFER,
        offered_by_id=person.id)


def confirm_candidate(resource: Resource, now: datetime) -> None:
    """The coordinator visited and confirmed: the space becomes an active resource."""
    if resource.status != RESOURCE_CANDIDATE:
        raise ValueError(f"resource {resource.id} is {resource.status}, not a candidate")
    resource.status = RESOURCE_ACTIVE
    resource.last_verified_on = to_tokyo(now).date()
    resource.updated_at = now


def deactivate(resource: Resource, now: datetime) -> None:
    resource.status = RESOURCE_INACTIVE
    resource.updated_at = now


def mark_verified(resource: Resource, on: date, now: datetime) -> None:
    resource.last_verified_on = on
    resource.updated_at = now


def candidates(session: Session, area_ids: list[int] | None = None) -> list[Resource]:
    """Resident-offered spaces waiting for the coordinator."""
    from domain.models import ResourceArea as RA

    stmt = select(Resource).where(Resource.status == RESOURCE_CANDIDATE).order_by(Resource.id)
    if area_ids is not None:
        stmt = stmt.where(Resource.id.in_(select(RA.resource_id).where(RA.area_id.in_(area_ids))))
    return list(session.scalars(stmt))


# -- the console's side (issue 15): edit, candidates, verification ---------------------------------
def schedule_text(resource: Resource) -> str:
    """The schedule in the Japanese form the importer and the console's form read back."""
    return "；".join(rule_of(row).describe() for row in resource.schedule_rows)


def rules_from_words(words: str) -> list[Rule]:
    """The weekday and time a resident said while offering a place (水曜日なら…午後1時から).

    Only explicit 〇曜 / 平日 / 毎日 / 土日 count (a bare 日 or 月 in free text is not a day);
    nothing said gives no rule (the coordinator asks when they visit).
    """
    from domain.jp_calendar import WEEKDAYS as WEEKDAY_JA
    from domain.schedule import ALL_DAYS, WEEKDAYS_MON_FRI, WEEKEND, WEEKLY, ScheduleParseError, parse_times

    t = unicodedata.normalize("NFKC", words or "")
    mask = 0
    for ch in re.findall(r"([月火水木金土日])\s*(?:曜|よう)", t):
        mask |= 1 << WEEKDAY_JA.index(ch)
    for word, bits in (("平日", WEEKDAYS_MON_FRI), ("毎日", ALL_DAYS), ("土日", WEEKEND)):
        if word in t:
            mask |= bits
    if not mask:
        return []
    try:
        start, end = parse_times(t)
    except ScheduleParseError:
        start, end = None, None
    return [Rule(WEEKLY, weekdays=mask, start=start, end=end)]


def serves_scope(session: Session, resource: Resource, scope) -> bool:
    """Does the resource serve an area in the coordinator's scope? (the console's rule for one row)"""
    if scope.city_wide:
        return True
    return any(scope.covers(row.area_id) for row in resource.area_rows)


def update_resource(session: Session, resource: Resource, now: datetime, **changes) -> Resource:
    """Edit from the console: fields, categories, areas and schedule rules, checked as on create."""
    apply(resource, now, **changes)
    session.flush()
    return resource


def reject_candidate(resource: Resource, now: datetime) -> None:
    """The place offered cannot be used: the candidate is kept inactive (never suggested)."""
    if resource.status != RESOURCE_CANDIDATE:
        raise ValueError(f"resource {resource.id} is {resource.status}, not a candidate")
    deactivate(resource, now)


def not_verified_since(session: Session, area_condition, today: date, months: int, limit: int = 200
                       ) -> list[Resource]:
    """Active resources not checked for `months` months (or never), oldest first.

    `area_condition` is the scope's condition on ResourceArea.area_id (Scope.where).
    """
    year, month = today.year, today.month - months
    while month <= 0:
        year, month = year - 1, month + 12
    cutoff = date(year, month, min(today.day, 28))
    serves = select(ResourceArea.resource_id).where(area_condition)
    stmt = (select(Resource).where(Resource.status == RESOURCE_ACTIVE, Resource.id.in_(serves),
                                   or_(Resource.last_verified_on.is_(None), Resource.last_verified_on < cutoff))
            .order_by(Resource.last_verified_on.is_not(None), Resource.last_verified_on, Resource.id).limit(limit))
    return list(session.scalars(stmt))


def announce_candidate(session: Session, resource: Resource, notifier, now: datetime) -> int:
    """Tell the coordinators of the place's district (else the city's) that a place was offered."""
    from domain.people import coordinators_for_area

    told = 0
    area_ids = [row.area_id for row in resource.area_rows]
    seen: set[int] = set()
    for area_id in area_ids[:1]:
        for person in coordinators_for_area(session, area_id):
            if person.id in seen:
                continue
            seen.add(person.id)
            told += notifier.place_offered(session, resource, person, now,
                                           key=f"place-offered:{resource.id}:{person.id}")
    return told

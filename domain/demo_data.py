"""The demo city (郡山市, after seeds/003): areas, resources, coordinators, volunteers, residents.

`load_demo(session, now)` is idempotent: everything has a stable key (area code, resource
source + external id, LINE user id made from a key), so a second run updates and adds nothing.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import offers as offer_rules
from domain import people
from domain.areas import import_areas, read_area_file
from domain.models import (
    DISTRICT, RESIDENT, RESOURCE_ACTIVE, RESOURCE_CANDIDATE, Area, Offer, Resource,
)
from domain.resources import SOURCE_DEMO, SOURCE_OFFER, apply, create_resource
from domain.schedule import PART_BY_CODE, parse_rules, parse_weekdays, to_tokyo

DEMO_DIR = Path(__file__).resolve().parent / "data" / "demo"


def demo_line_user_id(key: str) -> str:
    """A deterministic LINE-shaped user id: U + 32 hex digits."""
    return "U" + hashlib.md5(f"sasaeai-demo:{key}".encode()).hexdigest()


@dataclass
class DemoReport:
    areas: int = 0
    resources: int = 0
    coordinators: int = 0
    volunteers: int = 0
    residents: int = 0
    candidates: int = 0

    def summary(self) -> str:
        return (f"地区 {self.areas}・資源 {self.resources}（候補 {self.candidates}）"
                f"・コーディネーター {self.coordinators}・担い手 {self.volunteers}"
                f"・住民 {self.residents}")

    __str__ = summary


def _yaml(name: str, directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / name).read_text(encoding="utf-8")) or {}


def _closures(values: list[Any], today: date) -> list[date]:
    days: list[date] = []
    for value in values or []:
        if value == "year_end":
            start = date(today.year, 12, 29)
            if start + timedelta(days=5) < today:
                start = date(today.year + 1, 12, 29)
            days.extend(start + timedelta(days=i) for i in range(6))
        else:
            days.append(date.fromisoformat(str(value)))
    return days


def _person(session: Session, key: str, name: str, area: Area | None, now: datetime):
    person = people.get_or_create_person(session, demo_line_user_id(key), now)
    if not person.consented:
        people.record_consent(person, True, now)
    people.set_profile(person, now, display_name=name)
    if area is not None:
        people.set_area(person, area, now)
    return person


def load_demo(session: Session, now: datetime, directory: Path = DEMO_DIR) -> DemoReport:
    report = DemoReport()
    today = to_tokyo(now).date()
    import_areas(session, read_area_file(directory / "areas.yaml"))
    areas = {a.code: a for a in session.scalars(select(Area))}
    report.areas = len(areas)

    # Resources: upsert by (demo, key).
    data = _yaml("resources.yaml", directory)
    existing = {r.external_id: r for r in session.scalars(
        select(Resource).where(Resource.source == SOURCE_DEMO))}
    for item in data.get("resources", []):
        values = dict(
            name=item["name"], kana=item.get("kana", ""), kind=item["kind"],
            provider_type=item.get("provider_type", "other"),
            provider_name=item.get("provider_name", ""), description=item.get("description", ""),
            venue=item.get("venue", ""), address=item.get("address", ""),
            lat=item.get("lat"), lon=item.get("lon"), fee=item.get("fee", ""),
            eligibility=item.get("eligibility", ""), accessibility=item.get("accessibility", ""),
            phone=item.get("phone", ""), url=item.get("url", ""), status=RESOURCE_ACTIVE,
            source=SOURCE_DEMO, external_id=item["key"],
            last_verified_on=today - timedelta(days=int(item.get("verified_days_ago", 30))))
        assoc = dict(categories=item["categories"],
                     area_ids=[areas[code].id for code in item["areas"]],
                     rules=parse_rules(item.get("schedule", "")),
                     closures=_closures(item.get("closures"), today))
        resource = existing.get(item["key"])
        if resource is None:
            create_resource(session, now, **assoc, **values)
        else:
            apply(resource, now, **assoc, **values)
        report.resources += 1

    # People.
    data = _yaml("people.yaml", directory)
    for item in data.get("city_coordinators", []):
        person = _person(session, item["key"], item["name"], areas[item["area"]], now)
        people.assign_coordinator(session, person, areas[item["area"]], now)
        report.coordinators += 1
    per_district = data.get("district_coordinators")
    if per_district:
        fmt = per_district.get("name_format", "{name} 生活支援コーディネーター")
        for area in sorted(areas.values(), key=lambda a: a.code):
            if area.layer == DISTRICT:
                person = _person(session, f"coord-{area.code}", fmt.format(name=area.name), area, now)
                people.assign_coordinator(session, person, area, now)
                report.coordinators += 1
    for item in data.get("volunteers", []):
        person = _person(session, item["key"], item["name"], areas[item["area"]], now)
        kwargs = dict(
            categories=item["categories"], area_ids=[areas[c].id for c in item["areas"]],
            now=now, weekdays=parse_weekdays(item.get("weekdays", "毎日")),
            parts=sum(PART_BY_CODE[p] for p in item.get("parts", ["morning", "afternoon"])),
            has_car=bool(item.get("has_car")))
        offer = session.scalar(select(Offer).where(Offer.person_id == person.id).order_by(Offer.id))
        if offer is None:
            offer = offer_rules.register_offer(session, person=person, **kwargs)
        else:
            offer_rules.update_offer(session, offer, **kwargs)
        offer_rules.set_paused(offer, bool(item.get("paused")), now)
        days = item.get("last_asked_days_ago")
        person.last_asked_at = now - timedelta(days=int(days)) if days else None
        report.volunteers += 1
    residents = {}
    for item in data.get("residents", []):
        person = _person(session, item["key"], item["name"], areas[item["area"]], now)
        people.grant_role(session, person, RESIDENT, now)
        residents[item["key"]] = person
        report.residents += 1
    for item in data.get("offered_spaces", []):
        key = f"demo:{item['key']}"
        found = session.scalar(select(Resource).where(Resource.source == SOURCE_OFFER,
                                                      Resource.external_id == key))
        if found is None:
            owner = residents[item["resident"]]
            create_resource(
                session, now, categories=item.get("categories", ["salon"]),
                area_ids=[areas[item["area"]].id], rules=parse_rules(item.get("schedule", "")),
                name=item["name"], kind="offered_space", provider_type="resident",
                description=item.get("words", ""), venue=item["name"], lat=item.get("lat"),
                lon=item.get("lon"), status=RESOURCE_CANDIDATE, source=SOURCE_OFFER,
                external_id=key, offered_by_id=owner.id)
        report.candidates += 1
    session.flush()
    return report



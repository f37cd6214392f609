"""Builders for the domain tests: a small 郡山市: one city, three districts, a few neighbourhoods."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import count

from domain import offers, people, resources
from domain.models import Area, Person
from domain.schedule import Rule

AREAS = [
    {"code": "koriyama", "name": "郡山市", "layer": "city", "lat": 37.4005, "lon": 140.3597},
    {"code": "asaka", "name": "安積地区", "layer": "district", "parent": "koriyama",
     "lat": 37.3530, "lon": 140.3640},
    {"code": "asaka-arai", "name": "荒井", "layer": "neighbourhood", "parent": "asaka",
     "lat": 37.3560, "lon": 140.3600},
    {"code": "asaka-hideyama", "name": "日出山", "layer": "neighbourhood", "parent": "asaka",
     "lat": 37.3480, "lon": 140.3700},
    {"code": "tomita", "name": "富田地区", "layer": "district", "parent": "koriyama",
     "lat": 37.4100, "lon": 140.3300},
    {"code": "tomita-1", "name": "富田町", "layer": "neighbourhood", "parent": "tomita",
     "lat": 37.4110, "lon": 140.3310},
    {"code": "nishita", "name": "西田地区", "layer": "district", "parent": "koriyama",
     "lat": 37.4450, "lon": 140.4300},
]


@dataclass
class World:
    session: object
    now: datetime
    areas: dict[str, Area]
    _ids = count(1)

    def area(self, code: str) -> Area:
        return self.areas[code]

    def person(self, *, roles=("resident",), area: str | None = "asaka-arai",
               consent: bool = True, name: str = "") -> Person:
        n = next(self._ids)
        p = people.get_or_create_person(self.session, f"U{n:032x}", self.now)
        if consent:
            people.record_consent(p, True, self.now)
            people.set_profile(p, self.now, display_name=name or f"住民{n}")
            if area:
                people.set_area(p, self.areas[area], self.now)
        for role in roles:
            people.grant_role(self.session, p, role, self.now)
        self.session.flush()
        return p

    def volunteer(self, *, categories=("talk",), areas=("asaka",), weekdays=0b1111111,
                  parts=0b111, home: str = "asaka-arai", has_car=False, paused=False):
        p = self.person(roles=(), area=home)
        offer = offers.register_offer(
            self.session, person=p, categories=categories,
            area_ids=[self.areas[a].id for a in areas], now=self.now, weekdays=weekdays,
            parts=parts, has_car=has_car)
        if paused:
            offers.set_paused(offer, True, self.now)
        self.session.flush()
        return p, offer

    def resource(self, name: str, *, categories=("exercise",), areas=("asaka",),
                 rules=(), kind="exercise_group", lat=None, lon=None, venue="", **kw):
        return resources.create_resource(
            self.session, self.now, categories=categories,
            area_ids=[self.areas[a].id for a in areas], rules=list(rules), name=name,
            kind=kind, lat=lat, lon=lon, venue=venue, source="test", **kw)




def weekly(weekday: int, start: str | None = None, end: str | None = None) -> Rule:
    from domain.schedule import WEEKLY, parse_times

    if start:
        s, e = parse_times(f"{start}-{end}" if end else start)
        return Rule(WEEKLY, weekdays=1 << weekday, start=s, end=e)
    return Rule(WEEKLY, weekdays=1 << weekday)

"""Builders for the meetings tests: 郡山市 with two districts, people with LINE ids, meetings."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from domain.clock import TOKYO
from domain import meetings as mtg
from domain import people
from domain.areas import import_areas
from domain.models import Area, Person

AREAS = [
    {"code": "koriyama", "name": "郡山市", "layer": "city"},
    {"code": "asaka", "name": "安積地区", "layer": "district", "parent": "koriyama"},
    {"code": "tomita", "name": "富田地区", "layer": "district", "parent": "koriyama"},
]


def tokyo(text: str) -> datetime:
    """'2026-12-16 14:00' in Asia/Tokyo."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TOKYO)


def line_id() -> str:
    return "U" + uuid.uuid4().hex


@dataclass
class Council:
    session: object
    now: datetime
    areas: dict[str, Area] = field(default_factory=dict)

    @classmethod
    def build(cls, session, now: datetime) -> "Council":
        if session.scalar(select(Area).where(Area.code == "koriyama")) is None:
            import_areas(session, AREAS)
            session.flush()
        return cls(session, now, {a.code: a for a in session.scalars(select(Area))})

    def person(self, name: str = "", uid: str | None = None, roles=()) -> Person:
        p = people.get_or_create_person(self.session, uid or line_id(), self.now)
        people.record_consent(p, True, self.now)
        if name:
            people.set_profile(p, self.now, display_name=name)
        for role in roles:
            people.grant_role(self.session, p, role, self.now)
        self.session.flush()
        return p

    def coordinator(self, name: str = "佐藤コーディネーター", area: str = "asaka", uid: str | None = None) -> Person:
        p = self.person(name, uid)
        people.assign_coordinator(self.session, p, self.areas[area], self.now)
        self.session.flush()
        return p

    def many(self, uids: list[str]) -> list[Person]:
        """Many consenting people at once (one INSERT), for the large-council tests."""
        self.session.execute(insert(Person), [
            {"line_user_id": uid, "display_name": f"委員{i + 1}", "consent": "given", "consent_at": self.now,
             "active": True, "created_at": self.now, "updated_at": self.now} for i, uid in enumerate(uids)])
        by_uid = {p.line_user_id: p for p in self.session.scalars(
            select(Person).where(Person.line_user_id.in_(uids)))}
        return [by_uid[uid] for uid in uids]

    def members(self, n: int, prefix: str = "委員") -> list[Person]:
        return [self.person(f"{prefix}{i + 1}") for i in range(n)]

    def meeting(self, start: str = "2026-12-16 14:00", *, members=(), organiser: Person | None = None,
                area: str = "asaka", layer: str = "district", **kwargs) -> mtg.Created:
        starts_at = tokyo(start)
        kwargs.setdefault("place", "安積公民館 2階会議室")
        return mtg.create_meeting(
            self.session, layer=layer, area_id=self.areas[area].id, title=kwargs.pop("title", "安積地区 第2層協議体"),
            starts_at=starts_at, ends_at=kwargs.pop("ends_at", starts_at + timedelta(hours=2)), now=self.now,
            organiser_id=organiser.id if organiser else None, member_ids=[m.id for m in members], **kwargs)

"""A small 郡山市 in the bot's database, with its people also known to the LINE simulator."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from linesim.client import SimulatorClient

from domain.db import transaction
from domain import offers, people, resources
from domain.areas import import_areas
from domain.models import Area
from domain.schedule import parse_rules
from tests.domain.domain_builders import AREAS


@dataclass
class Town:
    stack: Any
    areas: dict[str, int] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # who → LINE user id

    def line_user(self, who: str, name: str) -> str:
        user_id = self.stack.sim.create_user(name, following=True)["userId"]
        self.ids[who] = user_id
        return user_id

    def person(self, session, who: str, name: str, area: str | None, phone: str | None = None):
        person = people.get_or_create_person(session, self.line_user(who, name), self.stack.clock.now())
        people.record_consent(person, True, self.stack.clock.now())
        people.set_profile(person, self.stack.clock.now(), display_name=name, phone=phone)
        if area:
            people.set_area(person, session.get(Area, self.areas[area]), self.stack.clock.now())
        return person


@pytest.fixture
def town(stack) -> Town:
    return build_town(stack)


def build_town(stack) -> Town:
    """安積地区 has a coordinator and two shopping volunteers; 富田地区 has no coordinator."""
    t = Town(stack)
    now = stack.clock.now()
    with transaction(stack.sessions) as s:
        import_areas(s, AREAS)
        s.flush()
        t.areas = {a.code: a.id for a in s.query(Area)}
        city_coord = t.person(s, "city", "市 コーディネーター", None)
        people.assign_coordinator(s, city_coord, s.get(Area, t.areas["koriyama"]), now)
        asaka_coord = t.person(s, "asaka_coord", "安積 コーディネーター", None, "024-000-1111")
        people.assign_coordinator(s, asaka_coord, s.get(Area, t.areas["asaka"]), now)
        for who, name, phone in (("suzuki", "鈴木 博", "090-1111-2222"), ("takahashi", "高橋 恵子", None)):
            volunteer = t.person(s, who, name, "asaka-hideyama", phone)
            offers.register_offer(s, person=volunteer, categories=["shopping", "exercise"],
                                  area_ids=[t.areas["asaka"]], now=now, weekdays=0b1111111, parts=0b111)
        resources.create_resource(
            s, now, categories=["shopping"], area_ids=[t.areas["asaka"]],
            rules=parse_rules("毎週火曜 10:00-12:00"), name="移動販売 みどり号", kind="shop_delivery",
            venue="荒井集会所前", phone="024-555-0101", source="test", lat=37.356, lon=140.360)
        resources.create_resource(
            s, now, categories=["exercise"], area_ids=[t.areas["asaka-arai"]],
            rules=parse_rules("毎週水曜 10:00-11:30"), name="荒井いきいき百歳体操", kind="exercise_group",
            venue="荒井公民館", phone="024-555-0202", source="test", lat=37.3561, lon=140.3601)
    return t


def buttons(message: dict) -> list[tuple[str, str]]:
    """(label, postback data, text or uri) of every button in a message."""
    return [(label, action.get("data") or action.get("text") or action.get("uri", ""))
            for label, action in SimulatorClient.buttons(message)]


def press(stack, user: str, label: str, message: dict | None = None) -> dict:
    """Press the button with this label on the user's latest message (or the one given)."""
    return stack.sim.press(user, label, message)


def last(stack, user: str) -> dict:
    return stack.sim.messages(user)[-1]["message"]


def consented_resident(stack, name: str = "山田 ハナ") -> str:
    """A new friend who agreed and has not chosen an area yet (the bot is asking for it)."""
    user = stack.new_user(name)
    stack.settle()
    press(stack, user, "同意する")
    stack.settle()
    return user


def resident_in(stack, *labels: str, name: str = "山田 ハナ") -> str:
    """A new friend who agreed, then pressed `labels` (a district, a neighbourhood …)."""
    user = consented_resident(stack, name)
    for label in labels:
        press(stack, user, label)
        stack.settle()
    return user


def all_text(message: dict) -> str:
    """Every text in a message (text, altText and Flex texts), for assertions."""
    parts: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("text", "altText"):
                if isinstance(node.get(key), str):
                    parts.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message)
    return "\n".join(parts)

"""The console's pages of issue 15 on the town of tests/console: two districts, a coordinator each
(安積 and 富田), a city coordinator; here also a resource candidate, a meeting, a match waiting for
approval, a proposal and a reading in each district."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain import escalation as esc
from domain import matches as match_rules
from domain import meetings, offers, readings, resources
from domain.db import transaction
from domain.models import Area, Need
from domain.people import find_by_line_id
from domain.schedule import parse_rules
from tests.console.conftest import Browser, ConsoleTown, build_console_town  # noqa: F401
from tests.console.conftest import app, browser, console_town, other_browser  # noqa: F401


@dataclass
class District:
    candidate: int
    resource: int
    meeting: int
    match: int
    proposal: int
    reading: int
    volunteer: int
    offer: int
    need: int


@dataclass
class Town2:
    base: ConsoleTown
    asaka: District
    tomita: District

    @property
    def ids(self):
        return self.base.ids

    @property
    def areas(self):
        return self.base.areas


def _district(stack, t: ConsoleTown, code: str, hood: str, coord: str, who: str) -> District:
    now = stack.clock.now()
    with transaction(stack.sessions) as s:
        area, hood_id = t.areas[code], t.areas[hood]
        coordinator = find_by_line_id(s, t.ids[coord])
        resident = t.town.person(s, f"{who}_res", f"{code}住民 太郎", hood, "024-999-0000")
        candidate = resources.offer_space(s, resident, name=f"{code}さんの座敷", area_id=hood_id, now=now,
                                          words="水曜日ならうちの座敷を使っていい",
                                          rules=resources.rules_from_words("水曜日ならうちの座敷を使っていい"))
        resource = resources.create_resource(s, now, categories=["salon"], area_ids=[area],
                                             rules=parse_rules("毎週月曜 10:00-12:00"), name=f"{code}サロン",
                                             kind="salon", phone="024-777-0000", source="test")
        volunteer = t.town.person(s, f"{who}_vol", f"{code}担い手 花子", hood, "090-0000-1111")
        offer = offers.register_offer(s, person=volunteer, categories=["housework"], area_ids=[area], now=now,
                                      weekdays=0b11111, parts=0b1)
        from domain import needs as need_rules

        need = need_rules.create_need(s, person=resident, category="housework", area=hood_id, now=now,
                                      words="電球を替えてほしい")
        [match] = match_rules.ask_volunteers(s, need, [volunteer.id], now)
        match_rules.accept_match(s, match.id, now)
        case, _ = esc.escalate(s, need_rules.create_need(s, person=resident, category="snow", area=hood_id, now=now,
                                                         words="雪かき"), esc.NO_MATCH, now)
        proposal = esc.Proposal(escalation_id=case.id, district_id=area, category="snow",
                                text=f"{code}で除雪の担い手が足りない", raised_by_id=coordinator.id, raised_at=now)
        s.add(proposal)
        from datetime import timedelta

        meeting = meetings.create_meeting(s, layer="district", area_id=area, title=f"{code} 第2層協議体",
                                          starts_at=now + timedelta(days=10), now=now,
                                          organiser_id=coordinator.id).meeting
        reading = readings.record(s, person=resident, words="なんだか毎日さみしくて", category="talk", safety="none",
                                  confidence=0.2, now=now)
        s.flush()
        return District(candidate.id, resource.id, meeting.id, match.id, proposal.id, reading.id, volunteer.id,
                        offer.id, need.id)


def build_town2(stack) -> Town2:
    base = build_console_town(stack)
    asaka = _district(stack, base, "asaka", "asaka-arai", "asaka_coord", "asaka")
    tomita = _district(stack, base, "tomita", "tomita-1", "tomita_coord", "tomita")
    return Town2(base, asaka, tomita)


@pytest.fixture
def town2(stack) -> Town2:
    return build_town2(stack)


def area_of(stack, code: str) -> int:
    with stack.sessions() as s:
        return s.query(Area).filter(Area.code == code).one().id


__all__ = ["Need"]

"""The console against the whole stack: the bot's app with /console, the simulator's LINE Login.

`console_town` is the small 郡山市 of tests/bot with a coordinator for 富田地区 too and one open
case in each of 安積地区 and 富田地区, each from a resident the simulator knows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from domain import escalation as esc
from domain import needs as need_rules
from domain import people
from domain.db import transaction
from domain.models import Area
from tests.bot.conftest import Town, build_town

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class ConsoleTown:
    town: Town
    asaka_case: int
    tomita_case: int
    asaka_need: int
    tomita_need: int

    @property
    def ids(self) -> dict[str, str]:
        return self.town.ids

    @property
    def areas(self) -> dict[str, int]:
        return self.town.areas


def open_case(stack, town: Town, who: str, name: str, area: str, words: str, phone: str | None,
              category: str = "shopping") -> tuple[int, int]:
    now = stack.clock.now()
    with transaction(stack.sessions) as s:
        resident = town.person(s, who, name, area, phone)
        need = need_rules.create_need(s, person=resident, category=category, area=town.areas[area], now=now,
                                      words=words)
        case, _ = esc.escalate(s, need, esc.ASKED_FOR_PERSON, now)
        return case.id, need.id


def build_console_town(stack) -> ConsoleTown:
    town = build_town(stack)
    with transaction(stack.sessions) as s:
        tomita = town.person(s, "tomita_coord", "富田 コーディネーター", None)
        people.assign_coordinator(s, tomita, s.get(Area, town.areas["tomita"]), stack.clock.now())
        outsider = town.person(s, "resident_x", "ただの 住民", "asaka-arai")
        del outsider
    asaka_case, asaka_need = open_case(stack, town, "yamada", "山田 ハナ", "asaka-arai",
                                       "買い物に行けなくて困っています", "024-111-2222")
    tomita_case, tomita_need = open_case(stack, town, "sato", "佐藤 一郎", "tomita-1",
                                         "雪かきができません", "024-333-4444", category="snow")
    return ConsoleTown(town, asaka_case, tomita_case, asaka_need, tomita_need)


@pytest.fixture
def console_town(stack) -> ConsoleTown:
    return build_console_town(stack)


@pytest.fixture
def app(stack):
    from webhook import create_app

    return create_app(services=stack.services)


class Browser:
    """A logged-in (or not) coordinator driving the console through Flask's test client."""

    def __init__(self, app, stack):
        self.client = app.test_client()
        self.stack = stack

    def login(self, line_user_id: str):
        """LINE Login through the simulator: authorize as that user, come back with the code."""
        start = self.client.get("/console/login/line")
        assert start.status_code == 302, start.status_code
        params = dict(parse_qsl(urlsplit(start.headers["Location"]).query))
        chosen = requests.post(self.stack.sim_server.url + "/oauth2/v2.1/authorize",
                               data={**params, "userId": line_user_id}, allow_redirects=False, timeout=5)
        assert chosen.status_code == 302, chosen.text
        back = urlsplit(chosen.headers["Location"])
        return self.client.get(f"{back.path}?{back.query}")

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def csrf(self) -> str:
        page = self.client.get("/console/")
        found = CSRF_RE.search(page.get_data(as_text=True))
        assert found, "no CSRF token on the page"
        return found.group(1)

    def post(self, path: str, data: dict | None = None, with_csrf: bool = True):
        form = dict(data or {})
        if with_csrf:
            form["csrf_token"] = self.csrf()
        return self.client.post(path, data=form)


@pytest.fixture
def browser(app, stack):
    return Browser(app, stack)


@pytest.fixture
def other_browser(app, stack):
    return Browser(app, stack)

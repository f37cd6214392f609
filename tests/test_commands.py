"""Admin commands: a coordinator is made only here (or in the console), never by chatting."""
from __future__ import annotations

from sqlalchemy import select

from cli import main as sasaeai_cli
from domain.db import make_engine, make_session_factory, transaction
from domain.areas import import_areas
from domain.models import Person
from domain.people import can_see_area
from tests.domain.domain_builders import AREAS

LINE_ID = "U0123456789abcdef0123456789abcdef"


def test_coordinators_assign_makes_a_district_coordinator(sqlite_url, monkeypatch, capsys):
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        import_areas(s, AREAS)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setattr("cli.commands._common.configure_logging", lambda level: None)
    assert sasaeai_cli(["coordinators", "assign", LINE_ID, "asaka", "--name", "安積 太郎"]) == 0
    assert sasaeai_cli(["coordinators", "assign", LINE_ID, "nowhere"]) == 1
    assert "nowhere が見つかりません" in capsys.readouterr().out
    with sessions() as s:
        person = s.scalars(select(Person).where(Person.line_user_id == LINE_ID)).one()
        assert "coordinator" in person.roles and person.display_name == "安積 太郎"
        district = {a.code: a.id for a in s.query(type(person).area.property.mapper.class_)}
        assert can_see_area(s, person, district["asaka-arai"]) and not can_see_area(s, person, district["tomita-1"])
    engine.dispose()

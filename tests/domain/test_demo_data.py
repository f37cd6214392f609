"""The demo city loads, twice without duplicates, and holds the seeds' worked example."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from domain import needs, suggestions
from domain.areas import by_code
from domain.categories import RESOURCE_KINDS
from domain.demo_data import demo_line_user_id, load_demo
from domain.models import (
    Area, CoordinatorArea, Match, Offer, Person, PersonRole, Resource, ResourceSchedule,
)
from domain.people import coordinators_for_area
from domain.schedule import MORNING, Wanted, weekday_mask

TABLES = (Area, Person, PersonRole, CoordinatorArea, Resource, ResourceSchedule, Offer, Match)


def _counts(session) -> dict[str, int]:
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in TABLES}


def test_loading_twice_duplicates_nothing(db, clock):
    first = load_demo(db, clock.now())
    db.commit()
    before = _counts(db)
    load_demo(db, clock.now())
    db.commit()
    assert _counts(db) == before
    assert first.resources >= 60 and first.volunteers >= 30
    assert before["areas"] == first.areas == 1 + 36 + 15   # city, districts, neighbourhoods


def test_every_district_has_a_coordinator_and_the_city_one_too(db, clock):
    load_demo(db, clock.now())
    districts = db.scalars(select(Area).where(Area.layer == "district")).all()
    assert len(districts) == 36
    for district in districts:
        [coordinator] = coordinators_for_area(db, district.id)
        assert district.name in coordinator.display_name
    city = by_code(db, "koriyama")
    assert len(coordinators_for_area(db, city.id)) == 1


def test_demo_line_ids_are_line_shaped_and_stable(db, clock):
    load_demo(db, clock.now())
    ids = db.scalars(select(Person.line_user_id)).all()
    assert all(re.fullmatch(r"U[0-9a-f]{32}", i) for i in ids)
    assert demo_line_user_id("vol-01") == demo_line_user_id("vol-01") != demo_line_user_id("vol-02")


def test_resources_of_many_kinds_with_schedules(db, clock):
    load_demo(db, clock.now())
    kinds = set(db.scalars(select(Resource.kind)))
    assert len(kinds) >= 12 and kinds <= set(RESOURCE_KINDS)
    assert db.scalar(select(func.count()).select_from(ResourceSchedule)) >= 60


def test_the_seeds_worked_example(db, clock):
    # Bさん「みんなで運動したりできないかな？」 Cさん「公民館で体操をやっているグループがあるよ」
    load_demo(db, clock.now())
    arai = by_code(db, "asaka-arai")
    resident = db.scalar(select(Person).where(Person.line_user_id == demo_line_user_id("res-01")))
    need = needs.create_need(db, person=resident, category="exercise", area=arai,
                             wanted=Wanted(weekdays=weekday_mask(2), parts=MORNING),
                             words="みんなで運動したりできないかな", now=clock.now())
    [first, *_] = suggestions.suggest_resources(db, need, clock.now())
    assert first.name == "いきいき百歳体操 荒井の会"
    assert first.explanation.startswith("毎週水曜 10時から・荒井公民館・歩いて")
    # Eさん「水曜日だったら、うちのスペースを使ってもいいですよ」: a candidate, not yet suggested.
    space = db.scalar(select(Resource).where(Resource.kind == "offered_space"))
    assert space.status == "candidate" and "水曜日" in space.description
    assert space.id not in [s.resource_id for s in suggestions.suggest_resources(db, need, clock.now(), limit=50)]
    # …and there are volunteers to ask for exercise in 安積.
    assert db.scalar(select(func.count()).select_from(Offer)) >= 30

"""Matching, read as cases. The clock stands at Thursday 26 November 2026, 10:00 in Tokyo."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from domain.clock import TOKYO
from domain import needs, suggestions
from domain.categories import requires_approval
from domain.suggestions import (
    ResourceCandidate, VolunteerCandidate, Query, rank_resources, rank_volunteers,
)
from domain.resources import add_closure, offer_space
from domain.schedule import MORNING, Rule, WEEKLY, Wanted, parse_rule, weekday_mask

from domain_builders import weekly

WED, TUE, FRI = 2, 1, 4
WEDNESDAY_MORNING = Wanted(weekdays=weekday_mask(WED), parts=MORNING)
KOMINKAN = (37.3618, 140.3600)  # 荒井公民館, 640 m north of the 荒井 centroid


def test_wednesday_morning_exercise_in_asaka_finds_the_taiso_group_first(world):
    # 「水曜の午前に体操したい、安積地区」
    world.resource("いきいき百歳体操 荒井の会", rules=[weekly(WED, "10:00", "12:00")],
                   areas=("asaka-arai",), venue="公民館", lat=KOMINKAN[0], lon=KOMINKAN[1])
    world.resource("健康ウォーキング", rules=[weekly(FRI, "9:00", "11:00")], areas=("asaka",),
                   venue="運動公園", lat=37.36, lon=140.37)
    world.resource("介護予防教室 (市全域)", rules=[weekly(WED, "13:30", "15:00")],
                   areas=("koriyama",), venue="保健所")
    resident = world.person()
    need = needs.create_need(world.session, person=resident, category="exercise",
                             area=world.area("asaka-arai"), wanted=WEDNESDAY_MORNING,
                             words="水曜の午前に体操したい", now=world.now)

    found = suggestions.suggest_resources(world.session, need, world.now)

    assert found[0].name == "いきいき百歳体操 荒井の会"
    assert found[0].explanation == "毎週水曜 10時から・公民館・歩いて8分"
    assert found[0].next_start == datetime(2026, 12, 2, 10, 0, tzinfo=TOKYO)
    assert found[0].fit == suggestions.FITS
    assert [s.fit for s in found[1:]] == [suggestions.OTHER_TIME, suggestions.OTHER_TIME]


def test_a_closure_moves_the_next_meeting_to_the_week_after(world):
    group = world.resource("体操の会", rules=[weekly(WED, "10:00", "12:00")])
    add_closure(world.session, group, date(2026, 12, 2), "公民館の点検")
    found = suggestions.suggest_resources_for(world.session, category="exercise",
                                           area_id=world.area("asaka").id, now=world.now,
                                           wanted=WEDNESDAY_MORNING)
    assert found[0].next_start == datetime(2026, 12, 9, 10, 0, tzinfo=TOKYO)


def test_a_group_closed_on_every_wednesday_in_the_horizon_no_longer_fits(world):
    group = world.resource("体操の会", rules=[weekly(WED, "10:00", "12:00")])
    wednesday = date(2026, 12, 2)
    for week in range(8):
        add_closure(world.session, group, wednesday + timedelta(weeks=week))
    other = world.resource("水曜のサロン体操", rules=[weekly(WED, "10:00", "11:00")],
                           areas=("koriyama",))
    found = suggestions.suggest_resources_for(world.session, category="exercise",
                                           area_id=world.area("asaka").id, now=world.now,
                                           wanted=WEDNESDAY_MORNING)
    assert [s.resource_id for s in found] == [other.id, group.id]


def test_other_district_resources_rank_below_own_district(world):
    # The same group twice, one in 安積 and one over the border in 富田, both 500 m away.
    origin = (37.3560, 140.3600)
    near_lat = origin[0] + 0.0045
    own = world.resource("安積の体操", rules=[weekly(WED, "10:00")], areas=("asaka",),
                         lat=near_lat, lon=origin[1])
    other = world.resource("富田の体操", rules=[weekly(WED, "10:00")], areas=("tomita",),
                           lat=near_lat, lon=origin[1] + 0.0001)
    found = suggestions.suggest_resources_for(world.session, category="exercise",
                                           area_id=world.area("asaka-arai").id, now=world.now,
                                           wanted=WEDNESDAY_MORNING, origin=origin)
    assert [s.resource_id for s in found] == [own.id, other.id]
    assert found[1].tier == 0


def test_same_neighbourhood_beats_same_district_beats_city_wide(world):
    rules = [weekly(WED, "10:00", "11:30")]
    city = world.resource("市の体操", rules=rules, areas=("koriyama",))
    district = world.resource("地区の体操", rules=rules, areas=("asaka",))
    sibling = world.resource("日出山の体操", rules=rules, areas=("asaka-hideyama",))
    own = world.resource("荒井の体操", rules=rules, areas=("asaka-arai",))
    found = suggestions.suggest_resources_for(world.session, category="exercise",
                                           area_id=world.area("asaka-arai").id, now=world.now,
                                           wanted=WEDNESDAY_MORNING)
    assert found[0].resource_id == own.id
    assert {found[1].resource_id, found[2].resource_id} == {district.id, sibling.id}
    assert found[3].resource_id == city.id


def test_inactive_and_candidate_resources_are_not_suggested(world):
    resident = world.person()
    offer_space(world.session, resident, name="佐藤さん宅の離れ", area_id=world.area("asaka").id,
                now=world.now, rules=[parse_rule("毎週水曜")], words="水曜日ならうちのスペースを使っていい")
    gone = world.resource("休止中の体操", rules=[weekly(WED, "10:00")], status="inactive")
    found = suggestions.suggest_resources_for(world.session, category="exercise",
                                           area_id=world.area("asaka").id, now=world.now)
    assert found == []
    assert gone.status == "inactive"


def test_by_arrangement_ranks_between_fitting_and_other_times():
    cands = [
        ResourceCandidate(1, "金曜の会", "salon", tier=2, rules=[weekly(FRI, "10:00")]),
        ResourceCandidate(2, "不定期の会", "salon", tier=2, rules=[parse_rule("不定期")]),
        ResourceCandidate(3, "水曜の会", "salon", tier=2, rules=[weekly(WED, "10:00")]),
    ]
    now = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
    ranked = rank_resources(cands, Query("salon", WEDNESDAY_MORNING), now)
    assert [s.resource_id for s in ranked] == [3, 2, 1]
    assert ranked[1].explanation == "日時は相談・サロン・居場所"
    assert ranked[2].explanation.startswith("毎週金曜 10時から")


def test_delivery_every_weekday_fits_any_time_and_says_city_wide():
    meals = ResourceCandidate(7, "配食サービス", "meal_delivery", tier=1,
                              rules=[parse_rule("平日 11:00-13:00")])
    now = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
    [s] = rank_resources([meals], Query("meals", Wanted()), now)
    assert s.explanation == "平日 11時から・配食サービス・市内全域"
    assert s.next_start == datetime(2026, 11, 26, 11, 0, tzinfo=TOKYO)


# -- volunteers ----------------------------------------------------------------------------------
def _volunteer(pid, **kw):
    base = dict(person_id=pid, offer_id=pid, tier=2, area_name="荒井",
                slots=[Rule(WEEKLY, weekdays=weekday_mask(WED), start=weekly(WED, "9:00", "12:00").start,
                            end=weekly(WED, "9:00", "12:00").end)])
    base.update(kw)
    return VolunteerCandidate(**base)


def test_a_volunteer_asked_yesterday_ranks_below_an_equal_one_never_asked():
    now = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
    asked = _volunteer(1, last_asked_at=now - timedelta(days=1))
    fresh = _volunteer(2)
    ranked = rank_volunteers([asked, fresh], Query("talk", WEDNESDAY_MORNING), now)
    assert [v.person_id for v in ranked] == [2, 1]
    assert ranked[0].explanation == "水曜 9時から・荒井"


def test_volunteers_not_free_at_the_time_are_not_asked():
    now = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
    afternoon_only = _volunteer(1, slots=[weekly(WED, "13:00", "17:00")])
    assert rank_volunteers([afternoon_only], Query("talk", WEDNESDAY_MORNING), now) == []
    [v] = rank_volunteers([afternoon_only], Query("talk", WEDNESDAY_MORNING), now,
                          include_unavailable=True)
    assert not v.available


def test_paused_offers_are_excluded(world):
    _p1, _o1 = world.volunteer(categories=("talk",), paused=True)
    p2, _o2 = world.volunteer(categories=("talk",))
    resident = world.person()
    need = needs.create_need(world.session, person=resident, category="talk",
                             area=world.area("asaka-arai"), now=world.now)
    assert [v.person_id for v in suggestions.volunteers_to_ask(world.session, need, world.now)] == [p2.id]


def test_volunteers_from_db_share_the_load_and_skip_the_resident_and_the_already_asked(world):
    from domain.matches import ask_volunteers

    a, _ = world.volunteer(categories=("shopping",))
    b, _ = world.volunteer(categories=("shopping",))
    c, _ = world.volunteer(categories=("shopping",), areas=("tomita",))   # other district
    resident = world.person(roles=("resident", "volunteer"))
    need = needs.create_need(world.session, person=resident, category="shopping",
                             area=world.area("asaka-arai"), now=world.now)
    b.last_asked_at = world.now - timedelta(days=1)
    first = suggestions.volunteers_to_ask(world.session, need, world.now, limit=5)
    assert [v.person_id for v in first] == [a.id, b.id]
    ask_volunteers(world.session, need, [a.id], world.now)
    assert [v.person_id for v in suggestions.volunteers_to_ask(world.session, need, world.now)] == [b.id]
    assert c.id not in [v.person_id for v in first]


def test_car_helps_for_outings():
    now = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
    walker, driver = _volunteer(1), _volunteer(2, has_car=True)
    ranked = rank_volunteers([walker, driver], Query("outing", WEDNESDAY_MORNING), now)
    assert ranked[0].person_id == 2
    assert ranked[0].explanation.endswith("車あり")


def test_categories_entering_the_home_need_the_coordinators_approval():
    assert requires_approval("housework") and requires_approval("garden")
    assert requires_approval("snow") and requires_approval("watch")
    assert not requires_approval("exercise") and not requires_approval("salon")

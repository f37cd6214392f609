"""The model's rules: need transitions, first acceptance wins, consent, coordinators, areas."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from domain_builders import AREAS, World
from domain.db import make_engine, make_session_factory, transaction
from domain import matches, needs, people
from domain.areas import AreaError, area_scope, import_areas, nearest_area
from domain.models import (
    ACCEPTED, ASKING, ESCALATED, EXPIRED, MATCHED, RECEIVED, RESOLVED, SUGGESTED, Area, Match, Need,
    NeedTransition, Person,
)

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)


# -- need status ---------------------------------------------------------------------------------
def _need(world: World, category="talk") -> Need:
    return needs.create_need(world.session, person=world.person(), category=category,
                             area=world.area("asaka-arai"), now=world.now, words="話し相手がほしい")


def test_a_new_need_is_received_with_its_first_transition(world):
    need = _need(world)
    [first] = needs.history(world.session, need.id)
    assert (need.status, first.from_status, first.to_status) == (RECEIVED, None, RECEIVED)


def test_the_happy_path_records_every_step(world):
    need = _need(world)
    for status in (SUGGESTED, ASKING, MATCHED, RESOLVED):
        needs.move(need, status, world.now)
    world.session.flush()
    steps = [(t.from_status, t.to_status) for t in needs.history(world.session, need.id)]
    assert steps == [(None, RECEIVED), (RECEIVED, SUGGESTED), (SUGGESTED, ASKING),
                     (ASKING, MATCHED), (MATCHED, RESOLVED)]
    assert need.closed_at == world.now


@pytest.mark.parametrize("path, illegal", [
    ((), MATCHED),                       # received → matched skips asking
    ((SUGGESTED,), RECEIVED),            # no way back
    ((RESOLVED,), ESCALATED),            # resolved is final
    ((ESCALATED,), SUGGESTED),
])
def test_illegal_transitions_raise_and_leave_no_trace(world, path, illegal):
    need = _need(world)
    for status in path:
        needs.move(need, status, world.now)
    before = len(need.transitions)
    with pytest.raises(needs.IllegalTransition):
        needs.move(need, illegal, world.now)
    assert len(need.transitions) == before


def test_status_cannot_be_set_without_a_transition(world):
    need = _need(world)
    with pytest.raises(ValueError):
        need.status = RESOLVED
    assert need.status == RECEIVED


def test_unknown_category_or_urgency_is_refused(world):
    with pytest.raises(ValueError):
        needs.create_need(world.session, person=None, category="cooking",
                          area=world.area("asaka"), now=world.now)
    with pytest.raises(ValueError):
        needs.create_need(world.session, person=None, category="talk",
                          area=world.area("asaka"), now=world.now, urgency="asap")


# -- matches -------------------------------------------------------------------------------------
def test_first_acceptance_wins_and_the_others_expire(world):
    need = _need(world, "housework")
    a, _ = world.volunteer(categories=("housework",))
    b, _ = world.volunteer(categories=("housework",))
    ma, mb = matches.ask_volunteers(world.session, need, [a.id, b.id], world.now)
    assert need.status == ASKING and a.last_asked_at == world.now
    won = matches.accept_match(world.session, mb.id, world.now)
    lost = matches.accept_match(world.session, ma.id, world.now)
    assert won.won and not lost.won
    assert (mb.status, ma.status, need.status) == (ACCEPTED, EXPIRED, MATCHED)
    # housework enters the home: no contact until the coordinator approves.
    assert mb.requires_approval and not mb.contact_released
    coordinator = world.person(roles=("coordinator",))
    matches.approve_match(world.session, mb, coordinator, world.now)
    assert mb.contact_released
    matches.complete_match(world.session, mb, world.now)
    assert need.status == RESOLVED


def test_exercise_needs_no_approval(world):
    need = _need(world, "exercise")
    v, _ = world.volunteer(categories=("exercise",))
    [m] = matches.ask_volunteers(world.session, need, [v.id], world.now)
    assert matches.accept_match(world.session, m.id, world.now).won
    assert m.contact_released


def test_declines_leave_nobody_and_the_need_escalates(world):
    need = _need(world)
    v, _ = world.volunteer()
    [m] = matches.ask_volunteers(world.session, need, [v.id], world.now)
    matches.decline_match(world.session, m, world.now)
    assert matches.nobody_left(world.session, need)
    needs.move(need, ESCALATED, world.now, note="引き受け手なし")
    assert need.status == ESCALATED


def test_asking_the_same_volunteer_twice_creates_one_match(world):
    need = _need(world)
    v, _ = world.volunteer()
    matches.ask_volunteers(world.session, need, [v.id], world.now)
    assert matches.ask_volunteers(world.session, need, [v.id], world.now) == []


def test_the_database_refuses_a_second_accepted_match(any_db_url):
    engine = make_engine(any_db_url)
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as s:
            w = _world(s)
            need = _need(w)
            v1, _ = w.volunteer()
            v2, _ = w.volunteer()
            m1, m2 = matches.ask_volunteers(s, need, [v1.id, v2.id], w.now)
            ids = (m1.id, m2.id)
        with transaction(factory) as s:
            s.execute(update(Match).where(Match.id == ids[0]).values(status=ACCEPTED))
        with pytest.raises(IntegrityError):
            with transaction(factory) as s:
                s.execute(update(Match).where(Match.id == ids[1]).values(status=ACCEPTED))
    finally:
        engine.dispose()


def test_two_volunteers_accepting_at_once_one_wins(any_db_url):
    engine = make_engine(any_db_url)
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as s:
            w = _world(s)
            need = _need(w)
            vols = [w.volunteer()[0] for _ in range(4)]
            match_ids = [m.id for m in matches.ask_volunteers(s, need, [v.id for v in vols], w.now)]
            need_id = need.id
        results, errors = [], []
        barrier = threading.Barrier(len(match_ids))

        def accept(match_id):
            try:
                barrier.wait()
                with transaction(factory) as s:
                    results.append(matches.accept_match(s, match_id, NOW).won)
            except Exception as exc:  # pragma: no cover - shown in the assertion
                errors.append(exc)

        threads = [threading.Thread(target=accept, args=(mid,)) for mid in match_ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(results) == [False, False, False, True]
        with factory() as s:
            assert s.scalar(select(func.count()).select_from(Match).where(
                Match.need_id == need_id, Match.status == ACCEPTED)) == 1
            assert s.get(Need, need_id).status == MATCHED
            assert s.scalar(select(func.count()).select_from(NeedTransition).where(
                NeedTransition.need_id == need_id, NeedTransition.to_status == MATCHED)) == 1
    finally:
        engine.dispose()


def _world(session) -> World:
    import_areas(session, AREAS)
    session.flush()
    return World(session, NOW, {a.code: a for a in session.scalars(select(Area))})


# -- people --------------------------------------------------------------------------------------
def test_without_consent_nothing_but_the_line_id_is_kept(world):
    p = people.get_or_create_person(world.session, "U" + "a" * 32, world.now)
    with pytest.raises(people.ConsentRequired):
        people.set_profile(p, world.now, display_name="山田")
    people.record_consent(p, True, world.now)
    people.set_profile(p, world.now, display_name="山田", phone="024-000-0000")
    people.record_consent(p, False, world.now)
    assert (p.consent, p.display_name, p.phone) == ("withdrawn", "", None)
    assert people.get_or_create_person(world.session, "U" + "a" * 32, world.now) is p


def test_one_line_user_may_hold_several_roles(world):
    p = world.person(roles=("resident", "volunteer", "volunteer"))
    assert p.roles == {"resident", "volunteer"}


def test_erasing_a_person_keeps_anonymous_counts(world):
    need = _need(world)
    person_id = need.person_id
    people.erase_person(world.session, world.session.get(Person, person_id))
    world.session.expire_all()
    kept = world.session.get(Need, need.id)
    assert (kept.person_id, kept.words, kept.category) == (None, "", "talk")


def test_unfollowed_people_are_purged_after_the_retention(world):
    gone, stays = world.person(), world.person()
    people.mark_unfollowed(gone, world.now - timedelta(days=40))
    people.mark_unfollowed(stays, world.now - timedelta(days=5))
    assert people.purge_unfollowed(world.session, world.now, timedelta(days=30)) == 1
    assert world.session.get(Person, stays.id) is not None


def test_a_district_without_coordinator_falls_back_to_the_city(world):
    city_coord = world.person(roles=())
    asaka_coord = world.person(roles=())
    people.assign_coordinator(world.session, city_coord, world.area("koriyama"), world.now)
    people.assign_coordinator(world.session, asaka_coord, world.area("asaka"), world.now)
    assert people.coordinators_for_area(world.session, world.area("asaka-arai").id) == [asaka_coord]
    assert people.coordinators_for_area(world.session, world.area("tomita-1").id) == [city_coord]
    assert people.can_see_area(world.session, asaka_coord, world.area("asaka-hideyama").id)
    assert not people.can_see_area(world.session, asaka_coord, world.area("tomita").id)
    assert people.can_see_area(world.session, city_coord, world.area("tomita").id)


# -- areas ---------------------------------------------------------------------------------------
def test_area_scope_and_nearest(world):
    scope = area_scope(world.session, world.area("asaka-arai").id)
    assert scope.tier(world.area("asaka-arai").id) == 3
    assert scope.tier(world.area("asaka-hideyama").id) == 2
    assert scope.tier(world.area("koriyama").id) == 1
    assert scope.tier(world.area("tomita").id) == 0
    assert nearest_area(world.session, 37.3482, 140.3702).code == "asaka-hideyama"


def test_reimporting_areas_updates_and_bad_trees_are_refused(world):
    report = import_areas(world.session, [{"code": "asaka", "name": "安積", "layer": "district",
                                           "parent": "koriyama"}])
    assert (report.created, report.updated) == (0, 1)
    assert world.area("asaka").name == "安積"
    with pytest.raises(AreaError):
        import_areas(world.session, [{"code": "x", "name": "X", "layer": "neighbourhood",
                                      "parent": "koriyama"}])


def test_the_matching_index_follows_categories_and_areas(world):
    from domain.models import ResourceCoverage
    from domain.resources import apply

    r = world.resource("体操", categories=("exercise", "salon"), areas=("asaka", "tomita"))

    def coverage():
        world.session.flush()
        return sorted((c.category, c.area_id) for c in world.session.scalars(
            select(ResourceCoverage).where(ResourceCoverage.resource_id == r.id)))

    a, t = world.area("asaka").id, world.area("tomita").id
    assert coverage() == sorted([("exercise", a), ("exercise", t), ("salon", a), ("salon", t)])
    apply(r, world.now, categories=["exercise"])
    assert coverage() == sorted([("exercise", a), ("exercise", t)])
    apply(r, world.now, area_ids=[t])
    assert coverage() == [("exercise", t)]
    world.session.delete(r)
    assert coverage() == []


def test_the_offer_index_follows_an_updated_offer(world):
    from domain.models import OfferCoverage
    from domain.offers import update_offer

    _p, offer = world.volunteer(categories=("talk", "shopping"), areas=("asaka",))
    update_offer(world.session, offer, now=world.now, categories=["talk"],
                 area_ids=[world.area("asaka").id, world.area("tomita").id], weekdays=1, parts=1)
    world.session.flush()
    rows = sorted((c.category, c.area_id) for c in world.session.scalars(
        select(OfferCoverage).where(OfferCoverage.offer_id == offer.id)))
    assert rows == sorted([("talk", world.area("asaka").id), ("talk", world.area("tomita").id)])

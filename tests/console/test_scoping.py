"""A district coordinator sees and acts only on their district: every console page, every
console action, and every action of the LINE card. Another district's id is 404 (the same
answer as an id that does not exist) and leaves an audit row; city coordinators see all."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import outbox
from bot.messages import postback as postbacks
from bot.messages.coordinator import COORDINATOR
from domain import escalation as esc
from domain.cases import CaseMessage
from domain.scope import scope_of
from domain.people import find_by_line_id
from tests.bot.conftest import last

ACTIONS = {
    "acknowledge": {},
    "resolve": {"outcome": "resource"},
    "note": {"note": "メモ"},
    "raise": {"proposal": "提案"},
    "message": {"message": "こんにちは"},
    "connect/volunteer": {"person_id": "1"},
    "connect/resource": {"resource_id": "1"},
}


def out_of_scope_rows(stack) -> int:
    with stack.sessions() as s:
        return s.scalar(select(func.count()).select_from(esc.AuditEntry)
                        .where(esc.AuditEntry.action.in_(("out_of_scope", "refused"))))


def case_state(stack, case_id: int) -> tuple:
    with stack.sessions() as s:
        case = s.get(esc.Escalation, case_id)
        messages = s.scalar(select(func.count()).select_from(CaseMessage))
        pushes = s.scalar(select(func.count()).select_from(outbox.OutboxMessage))
        notes = s.scalar(select(func.count()).select_from(esc.AuditEntry).where(
            esc.AuditEntry.escalation_id == case_id, esc.AuditEntry.action.in_(("note", "acknowledged", "raised"))))
        return case.status, case.owner_id, messages, pushes, notes


def test_the_scope_of_a_district_a_city_and_someone_else(stack, console_town):
    with stack.sessions() as s:
        asaka = scope_of(s, find_by_line_id(s, console_town.ids["asaka_coord"]))
        city = scope_of(s, find_by_line_id(s, console_town.ids["city"]))
        nobody = scope_of(s, find_by_line_id(s, console_town.ids["resident_x"]))
    areas = console_town.areas
    assert asaka.covers(areas["asaka"]) and asaka.covers(areas["asaka-arai"]) and asaka.covers(areas["asaka-hideyama"])
    assert not asaka.covers(areas["tomita"]) and not asaka.covers(areas["tomita-1"]) and not asaka.covers(areas["koriyama"])
    assert city.city_wide and city.covers(areas["tomita-1"])
    assert nobody.empty and not nobody.covers(areas["asaka"])


def test_another_districts_case_page_is_404_and_audited(browser, stack, console_town):
    browser.login(console_town.ids["tomita_coord"])
    before = out_of_scope_rows(stack)
    other = browser.get(f"/console/cases/{console_town.asaka_case}")
    missing = browser.get("/console/cases/999999")
    assert other.status_code == missing.status_code == 404
    assert other.get_data(as_text=True) == missing.get_data(as_text=True)  # existence is not revealed
    assert "山田" not in other.get_data(as_text=True)
    assert out_of_scope_rows(stack) == before + 2
    assert browser.get(f"/console/cases/{console_town.tomita_case}").status_code == 200


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_case_action_on_another_districts_case_is_404_and_changes_nothing(browser, stack, console_town,
                                                                                  action):
    browser.login(console_town.ids["tomita_coord"])
    before_state, before_audit = case_state(stack, console_town.asaka_case), out_of_scope_rows(stack)
    response = browser.post(f"/console/cases/{console_town.asaka_case}/{action}", ACTIONS[action])
    assert response.status_code == 404
    stack.settle()
    assert case_state(stack, console_town.asaka_case) == before_state
    assert out_of_scope_rows(stack) == before_audit + 1
    assert stack.sim.messages(console_town.ids["yamada"]) == []


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_case_action_without_the_csrf_token_is_refused(browser, stack, console_town, action):
    browser.login(console_town.ids["asaka_coord"])
    before = case_state(stack, console_town.asaka_case)
    response = browser.post(f"/console/cases/{console_town.asaka_case}/{action}", ACTIONS[action], with_csrf=False)
    assert response.status_code == 400
    assert case_state(stack, console_town.asaka_case) == before


def test_the_owning_district_can_take_each_action(browser, stack, console_town):
    browser.login(console_town.ids["asaka_coord"])
    case_id = console_town.asaka_case
    assert browser.post(f"/console/cases/{case_id}/acknowledge").status_code == 302
    assert browser.post(f"/console/cases/{case_id}/note", {"note": "電話済み"}).status_code == 302
    page = browser.get(f"/console/cases/{case_id}").get_data(as_text=True)
    assert "電話済み" in page and "担当になった" in page
    assert browser.post(f"/console/cases/{case_id}/resolve", {"outcome": "volunteer"}).status_code == 302
    with stack.sessions() as s:
        case = s.get(esc.Escalation, case_id)
        assert case.status == esc.RESOLVED and case.outcome == "volunteer"
        assert case.owner_id == find_by_line_id(s, console_town.ids["asaka_coord"]).id


def test_raise_from_the_console_makes_a_proposal(browser, stack, console_town):
    browser.login(console_town.ids["asaka_coord"])
    browser.post(f"/console/cases/{console_town.asaka_case}/raise", {"proposal": "荒井に買い物支援がほしい"})
    with stack.sessions() as s:
        [proposal] = s.scalars(select(esc.Proposal)).all()
        assert proposal.text == "荒井に買い物支援がほしい" and s.get(esc.Escalation, console_town.asaka_case).status == "raised"


@pytest.mark.parametrize("path", ["/console/", "/console/cases", "/console/cases?status=all", "/console/needs",
                                  "/console/volunteers", "/console/resources"])
def test_every_list_shows_only_the_district(browser, other_browser, console_town, path):
    browser.login(console_town.ids["tomita_coord"])
    tomita = browser.get(path).get_data(as_text=True)
    other_browser.login(console_town.ids["city"])
    city = other_browser.get(path).get_data(as_text=True)
    asaka_marks = {"/console/": "買い物に行けなくて", "/console/cases": "買い物に行けなくて",
                   "/console/cases?status=all": "買い物に行けなくて", "/console/needs": "買い物に行けなくて",
                   "/console/volunteers": "鈴木 博", "/console/resources": "移動販売 みどり号"}
    assert asaka_marks[path] not in tomita
    assert asaka_marks[path] in city
    if path not in ("/console/volunteers", "/console/resources"):
        assert "雪かき" in tomita and "雪かき" in city


def test_a_district_filter_cannot_widen_the_scope(browser, console_town):
    browser.login(console_town.ids["tomita_coord"])
    page = browser.get(f"/console/cases?district={console_town.areas['asaka']}&status=all").get_data(as_text=True)
    assert "買い物に行けなくて" not in page


# -- the LINE card ----------------------------------------------------------------------------------
LINE_ACTIONS = [("ack",), ("res",), ("out", "resource"), ("conn",), ("askv", "1"), ("sendr", "1"), ("note",),
                ("raise",), ("msg",), ("card",)]


@pytest.mark.parametrize("action", LINE_ACTIONS, ids=lambda a: a[0])
def test_every_line_card_action_on_another_districts_case_is_refused(stack, console_town, action):
    tomita = console_town.ids["tomita_coord"]
    verb, *rest = action
    before_state, before_audit = case_state(stack, console_town.asaka_case), out_of_scope_rows(stack)
    stack.sim.send_postback(tomita, postbacks.encode("esc", verb, console_town.asaka_case, *rest))
    stack.settle()
    assert last(stack, tomita)["text"] == COORDINATOR["not_yours"]
    after_state = case_state(stack, console_town.asaka_case)
    assert after_state[:3] == before_state[:3] and after_state[4] == before_state[4]
    assert out_of_scope_rows(stack) == before_audit + 1
    assert stack.sim.messages(console_town.ids["yamada"]) == []


def test_a_resident_pressing_a_forged_card_button_is_refused(stack, console_town):
    outsider = console_town.ids["resident_x"]
    stack.sim.send_postback(outsider, postbacks.encode("esc", "msg", console_town.asaka_case))
    stack.settle()
    assert last(stack, outsider)["text"] == COORDINATOR["not_yours"]


def test_a_city_coordinator_may_act_on_any_district(stack, console_town):
    city = console_town.ids["city"]
    stack.sim.send_postback(city, postbacks.encode("esc", "ack", console_town.tomita_case))
    stack.settle()
    assert COORDINATOR["acknowledged"] in last(stack, city)["text"]
    assert "佐藤 一郎" in last(stack, city)["text"]

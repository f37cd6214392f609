"""Safety answers: every number said is a button that dials, and an urgent case names what it is."""
from __future__ import annotations

import re

from sqlalchemy import select

from bot.messages.resident import RESIDENT
from domain.models import Need
from tests.bot.conftest import all_text, buttons, last
from tests.dialogue.conftest import resident_in


def test_a_fall_reaches_the_coordinator_as_an_emergency_with_the_words_not_as_a_smartphone_question(stack, town):
    user = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(user, "夫が倒れて動かない")
    stack.settle()
    answer = last(stack, user)
    assert answer["text"].startswith("【命にかかわるときは、すぐに119番へ】")
    assert {"tel:119", "tel:%237119"} <= {link for _label, link in buttons(answer)}
    notice = all_text(last(stack, town.ids["asaka_coord"]))
    assert "【至急】緊急「夫が倒れて動かない」" in notice and "スマホ" not in notice
    with stack.sessions() as session:
        assert session.scalars(select(Need)).one().category == "other"


def test_an_urgent_case_keeps_a_category_that_is_clearly_read(stack, town):
    user = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(user, "ゴミ出しの時に転んで頭から血が止まらない")
    stack.settle()
    assert "【至急】ゴミ出し" in all_text(last(stack, town.ids["asaka_coord"]))


def test_the_crisis_answer_dials_each_consultation_line(stack, town):
    user = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(user, "もう死にたい")
    stack.settle()
    answer = last(stack, user)
    links = [link for _label, link in buttons(answer)]
    # despair: よりそいホットライン and こころの健康相談統一ダイヤル, and a button for every number said
    assert {"tel:0570064556", "tel:0120279338"} <= set(links)
    said = {"tel:" + n.replace("#", "%23").replace("-", "") for n in re.findall(r"#?\d[\d-]{2,}\d", answer["text"])}
    assert said <= set(links)

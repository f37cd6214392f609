"""Without consent a typed need gets the public information for the area the person names,
and nothing of it is stored."""
from __future__ import annotations

from sqlalchemy import func, select

from bot.messages.resident import RESIDENT
from bot.state import Conversation
from domain.models import Need, Person
from tests.bot.conftest import all_text, buttons, last, press


def declined(stack) -> str:
    user = stack.new_user("佐々木")
    stack.settle()
    press(stack, user, "同意しない")
    stack.settle()
    return user


def nothing_kept(stack, user: str, words: str) -> None:
    with stack.sessions() as session:
        person = session.scalars(select(Person).where(Person.line_user_id == user)).one()
        assert (person.consent, person.area_id, person.phone) == ("refused", None, None)
        assert session.scalar(select(func.count()).select_from(Need)) == 0
        convo = session.get(Conversation, user)
        assert convo is None or words not in convo.data


def test_a_need_naming_its_area_gets_that_areas_information_for_that_need(stack, city):
    user = declined(stack)
    words = "あらいで かいものに こまっています"  # read without the place: not でかい
    stack.sim.send_text(user, words)
    stack.settle()
    texts = stack.sim.texts(user)
    assert RESIDENT["public_only"] in texts[-3]
    assert "安積地区 荒井の「買い物」の情報です。" in texts[-2]
    cards = last(stack, user)
    assert "移動販売 みどり号" in all_text(cards) and "同意する" in [label for label, _ in buttons(cards)]
    nothing_kept(stack, user, words)


def test_a_need_naming_no_area_asks_for_one_and_then_shows_its_information(stack, town):
    user = declined(stack)
    words = "かいものにいけない"
    stack.sim.send_text(user, words)
    stack.settle()
    asked = last(stack, user)
    assert RESIDENT["public_only"] in asked["text"] and "安積地区" in [label for label, _ in buttons(asked)]
    press(stack, user, "安積地区")
    stack.settle()
    press(stack, user, "荒井")
    stack.settle()
    assert "移動販売 みどり号" in all_text(last(stack, user))
    nothing_kept(stack, user, words)

"""A city whose areas are not loaded yet (a fresh install, a wrong import): a cry for help still
gets the 119 guidance at once and the event is handled, not failed; only the case cannot be made.
Found by bench/soak.py, whose friends wrote 「こんにちは 119」 to a city without areas."""
from __future__ import annotations

from sqlalchemy import select

from bot import inbox
from domain.models import Area, Need
from tests.bot.conftest import last


def test_an_emergency_in_a_city_without_areas_gets_the_guidance_and_the_event_is_handled(stack):
    with stack.sessions() as s:
        assert s.scalars(select(Area)).all() == []
    user = stack.new_user()
    stack.settle()
    stack.sim.send_text(user, "夫が倒れて動かない")
    stack.settle()
    answer = last(stack, user)
    assert answer["text"].startswith("【命にかかわるときは、すぐに119番へ】")
    with stack.sessions() as s:
        assert s.scalars(select(Need)).all() == []
        statuses = set(s.scalars(select(inbox.InboundEvent.status)).all())
    assert statuses == {inbox.DONE}

"""The demo's people have distinct names: a coordinator choosing among them can tell them apart."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from domain.db import make_session_factory
from domain.demo_data import load_demo
from domain.models import Person


def test_no_two_demo_people_share_a_name(engine, clock):
    with make_session_factory(engine)() as session:
        load_demo(session, clock.now())
        session.flush()
        names = [n for n in session.scalars(select(Person.display_name)) if n]
    twice = [name for name, count in Counter(names).items() if count > 1]
    assert twice == [] and len(names) > 40

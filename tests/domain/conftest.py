"""Fixtures for the domain tests: a small 郡山市 (see domain_builders)."""
from __future__ import annotations

import pytest

from domain_builders import AREAS, World
from domain.areas import import_areas
from domain.models import Area


@pytest.fixture
def db(sessions):
    with sessions() as session:
        yield session


@pytest.fixture
def world(db, clock) -> World:
    import_areas(db, AREAS)
    db.flush()
    areas = {a.code: a for a in db.query(Area)}
    return World(db, clock.now(), areas)


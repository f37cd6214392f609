"""What a coordinator may see and act on: the one scoping rule.

A district coordinator sees their districts and everything under them (neighbourhoods);
a city coordinator sees all. Every console query and every case action, on LINE or in the
console, asks `Scope.where()` (as a SQL condition) or `Scope.covers()` (for one row already
loaded) — the same rule written once. Someone who is not a coordinator has an empty scope.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from domain.models import CITY, COORDINATOR, Area, CoordinatorArea, Person


@dataclass(frozen=True)
class Scope:
    person_id: int | None
    city_wide: bool
    district_ids: frozenset[int]
    # The districts and every area below them.
    area_ids: frozenset[int]

    def where(self, area_column: Any) -> ColumnElement[bool]:
        """The SQL condition: the row's area is one this coordinator may see."""
        if self.city_wide:
            return true()
        if not self.area_ids:
            return false()
        return area_column.in_(sorted(self.area_ids))

    def covers(self, area_id: int | None) -> bool:
        """The same rule for one area id already at hand."""
        if self.city_wide:
            return True
        return area_id is not None and area_id in self.area_ids

    @property
    def empty(self) -> bool:
        return not self.city_wide and not self.area_ids


NOBODY = Scope(None, False, frozenset(), frozenset())


def scope_of(session: Session, person: Person | None) -> Scope:
    """The scope of a person: nothing unless they hold the coordinator role."""
    if person is None or not person.has_role(COORDINATOR):
        return NOBODY
    assigned = list(session.execute(
        select(Area.id, Area.layer).join(CoordinatorArea, CoordinatorArea.area_id == Area.id)
        .where(CoordinatorArea.person_id == person.id)))
    if any(layer == CITY for _id, layer in assigned):
        return Scope(person.id, True, frozenset(), frozenset())
    districts = frozenset(area_id for area_id, _layer in assigned)
    seen, frontier = set(districts), set(districts)
    for _ in range(3):  # the tree is three layers deep; a guard against a cycle in bad data
        if not frontier:
            break
        below = set(session.scalars(select(Area.id).where(Area.parent_id.in_(sorted(frontier))))) - seen
        seen |= below
        frontier = below
    return Scope(person.id, False, districts, frozenset(seen))

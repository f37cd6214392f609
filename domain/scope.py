"""What a coordinator may see and act on: the one scoping rule.

A district coordinator sees their districts and everything under them (neighbourhoods);
a city coordinator sees all. Every console query and every case action, on LINE or in the
console, asks `Scope.where()` (as a SQL condition) or `Scope.covers()` (for one row already
loaded) — the same rule written once. Someone who is not a coordinator has an empty scope.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, event, false, select, true
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


# What is read once per transaction: the area tree, area labels, each coordinator's scope.
CACHED = ("area_tree", "area_labels", "scope")


def forget(session: Session) -> None:
    """Drop what this session cached (areas or assignments changed)."""
    for key in list(session.info):
        if key in CACHED or (isinstance(key, tuple) and key[:1] == ("scope",)):
            del session.info[key]


@event.listens_for(Session, "after_transaction_end")
def _forget_after_transaction(session: Session, transaction) -> None:
    if transaction.parent is None:
        forget(session)


def area_tree(session: Session) -> dict[int, tuple[int | None, str]]:
    """id → (parent id, layer) of every area, read once per session (a few hundred rows)."""
    tree = session.info.get("area_tree")
    if tree is None:
        tree = session.info["area_tree"] = {
            area_id: (parent_id, layer)
            for area_id, parent_id, layer in session.execute(select(Area.id, Area.parent_id, Area.layer))}
    return tree


def scope_of(session: Session, person: Person | None) -> Scope:
    """The scope of a person: nothing unless they hold the coordinator role."""
    if person is None or not person.has_role(COORDINATOR):
        return NOBODY
    key = ("scope", person.id)
    cached = session.info.get(key)
    if cached is not None:
        return cached
    assigned = list(session.scalars(select(CoordinatorArea.area_id).where(CoordinatorArea.person_id == person.id)))
    tree = area_tree(session)
    if any(tree.get(area_id, (None, ""))[1] == CITY for area_id in assigned):
        scope = Scope(person.id, True, frozenset(), frozenset())
    else:
        districts = frozenset(a for a in assigned if a in tree)
        children: dict[int, list[int]] = {}
        for area_id, (parent_id, _layer) in tree.items():
            if parent_id is not None:
                children.setdefault(parent_id, []).append(area_id)
        seen, frontier = set(districts), list(districts)
        while frontier:  # the districts and everything below them
            below = [c for a in frontier for c in children.get(a, ()) if c not in seen]
            seen.update(below)
            frontier = below
        scope = Scope(person.id, False, districts, frozenset(seen))
    session.info[key] = scope
    return scope

"""Helpers shared by the pages of issue 15 (resources, volunteers, meetings, 見える化, reports, review).

Every row a page shows or acts on is checked against `scope()`; a row outside it is answered
with 404 (the same as an id that does not exist) and an `out_of_scope` audit row, as for cases.
"""
from __future__ import annotations

from datetime import date

from flask import abort, g
from sqlalchemy import select

from console.blueprint import db, me, now, scope
from domain import escalation as esc
from domain.models import CITY, DISTRICT, NEIGHBOURHOOD, Area


def out_of_scope(what: str):
    """404, after keeping an audit row of the attempt (committed even though the request fails)."""
    esc.audit(db(), now(), "out_of_scope", actor=me(), detail=what[:200])
    db().commit()
    abort(404)


def int_arg(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def today() -> date:
    from domain.clock import TOKYO

    return now().astimezone(TOKYO).date()


def areas_in_scope(include_city: bool = True) -> list[Area]:
    """Areas a coordinator may pick (districts and neighbourhoods in scope; the city for city coordinators)."""
    s = scope()
    layers = (CITY, DISTRICT, NEIGHBOURHOOD) if include_city else (DISTRICT, NEIGHBOURHOOD)
    rows = db().scalars(select(Area).where(Area.layer.in_(layers), s.where(Area.id))
                        .order_by(Area.layer != CITY, Area.layer != DISTRICT, Area.sort_order, Area.code))
    return list(rows)


def districts_in_scope() -> list[Area]:
    s = scope()
    return list(db().scalars(select(Area).where(Area.layer == DISTRICT, s.where(Area.id))
                             .order_by(Area.sort_order, Area.code)))


def check_areas(area_ids: list[int]) -> list[int]:
    """Area ids from a form, each in scope; one outside is a 404."""
    s = scope()
    for area_id in area_ids:
        if not s.covers(area_id):
            out_of_scope(f"area {area_id}")
    return area_ids


def area_names() -> dict[int, str]:
    """「安積地区 日出山」 for every area, read once per request (instead of a query per row)."""
    if "console_area_names" not in g:
        areas = {a.id: a for a in db().scalars(select(Area))}
        names = {}
        for area in areas.values():
            parent = areas.get(area.parent_id) if area.layer == NEIGHBOURHOOD else None
            names[area.id] = f"{parent.name} {area.name}" if parent is not None else area.name
        g.console_area_names = names
    return g.console_area_names

"""見える化 (/console/insights) and the 協議体 reports (/console/export/…).

Charts are drawn by Chart.js served from console/static/vendor (no CDN) from numbers put in
the page as JSON; the same numbers are in tables beside them. Exports hold no name or phone
number, except the contact sheet of a coordinator's own district, asked for explicitly and
written to the audit trail.
"""
from __future__ import annotations

from time import monotonic

from flask import Response, abort, current_app, render_template, request
from markupsafe import Markup

import json

from console.blueprint import bp, db, me, now, scope
from console.common import int_arg, out_of_scope, today
from domain import escalation as esc
from domain import insights, reports
from domain.categories import CATEGORIES, label as category_label
from domain.models import Area

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period() -> insights.Period:
    return insights.Period.parse(request.args.get("start"), request.args.get("end"), today())


def _district_arg() -> int | None:
    district_id = int_arg(request.args.get("district"))
    if district_id is not None and not any(d.id == district_id for d in insights.visible_districts(db(), scope())):
        out_of_scope(f"district {district_id}")
    return district_id


CACHE_SECONDS = 120.0
CACHE_SIZE = 200


def _computed(period: insights.Period, district_id: int | None, category: str | None):
    """insights.compute, kept for two minutes per app (the same scope, period and filters).

    Counting 50,000 needs takes a noticeable moment; coordinators look at the same page again
    and again while they talk it through. 「最新にする」 (fresh=1) counts again at once.
    """
    s = scope()
    key = (s.person_id, s.city_wide, s.area_ids, period, district_id, category)
    cache = current_app.extensions.setdefault("sasaeai.console.insights", {})
    hit = cache.get(key)
    moment = monotonic()
    if hit is not None and moment - hit[0] < CACHE_SECONDS and request.args.get("fresh") != "1":
        return hit[1], hit[2]
    data = insights.compute(db(), s, period, district_id=district_id, category=category)
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = (moment, data, now())
    return data, now()


@bp.get("/insights")
def insights_page():
    period = _period()
    district_id = _district_arg()
    category = request.args.get("category") if request.args.get("category") in CATEGORIES else None
    data, counted_at = _computed(period, district_id, category)
    chart = {
        "categories": [category_label(c) for c in data.categories],
        "needs": [data.by_category[c].needs for c in data.categories],
        "unmet": [data.by_category[c].unmet for c in data.categories],
        "resourcesPerNeed": [data.by_category[c].resources_per_need or 0 for c in data.categories],
        "volunteersPerNeed": [data.by_category[c].volunteers_per_need or 0 for c in data.categories],
        "districts": [d.name for d in data.districts],
        "districtNeeds": [data.by_district[d.id].needs for d in data.districts],
        "districtUnmet": [data.by_district[d.id].unmet for d in data.districts],
        "outcomes": list(data.outcomes.values()),
        "outcomeKeys": list(data.outcomes.keys()),
    }
    payload = Markup(json.dumps(chart, ensure_ascii=False).replace("<", "\\u003c"))
    return render_template("console/insights.html", data=data, period=period, district_id=district_id,
                           category=category or "", districts=insights.visible_districts(db(), scope()),
                           chart_json=payload, counted_at=counted_at)


def _report_district() -> Area:
    district_id = int_arg(request.args.get("district"))
    visible = insights.visible_districts(db(), scope())
    if district_id is None and len(visible) == 1:
        district_id = visible[0].id
    chosen = next((d for d in visible if d.id == district_id), None)
    if chosen is None:
        out_of_scope(f"report district {district_id}")
    return chosen


def _contacts_wanted(district: Area) -> bool:
    """The contact sheet: only asked for explicitly, only for my own district, always audited."""
    if request.args.get("contacts") != "1":
        return False
    if district.id not in scope().district_ids:
        out_of_scope(f"contacts of district {district.id}")
    esc.audit(db(), now(), "export_contacts", actor=me(), detail=f"district {district.id} {_period().label()}")
    return True


def _filename(district: Area, period: insights.Period, ext: str) -> str:
    return f"report_{district.code}_{period.start:%Y%m%d}-{period.end:%Y%m%d}.{ext}"


@bp.get("/export")
def export_page():
    return render_template("console/export.html", districts=insights.visible_districts(db(), scope()),
                           own=scope().district_ids, period=_period(), sheets=reports.SHEETS,
                           names={k: reports.JA[k] for k in reports.SHEETS})


@bp.get("/export/report.xlsx")
def export_xlsx():
    district, period = _report_district(), _period()
    report = reports.build(db(), scope(), district, period, now(), contacts=_contacts_wanted(district))
    esc.audit(db(), now(), "export_report", actor=me(), detail=f"district {district.id} xlsx")
    return Response(reports.to_xlsx(report), mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{_filename(district, period, "xlsx")}"'})


@bp.get("/export/<sheet>.csv")
def export_csv(sheet: str):
    if sheet not in reports.SHEETS and sheet != "contacts":
        abort(404)
    district, period = _report_district(), _period()
    contacts = sheet == "contacts"
    if contacts:
        # The contact sheet as CSV: the same rule (explicit, own district, audited).
        if request.args.get("contacts") != "1":
            abort(404)
        _contacts_wanted(district)
    report = reports.build(db(), scope(), district, period, now(), contacts=contacts)
    esc.audit(db(), now(), "export_report", actor=me(), detail=f"district {district.id} {sheet}.csv")
    return Response(reports.to_csv(report, sheet), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{sheet}_{_filename(district, period, "csv")}"'})

"""社会資源: create and edit, candidates (a resident's offered place) confirmed or rejected,
deactivate, resources not verified for N months, and CSV import by upload (with a dry run)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from console.blueprint import bp, db, me, now, scope
from console.common import areas_in_scope, check_areas, districts_in_scope, int_arg, out_of_scope, today
from domain import escalation as esc
from domain import resources as rules
from domain.categories import CATEGORIES, PROVIDER_TYPES, RESOURCE_KINDS
from domain.importing import ImportFailed, import_resources
from domain.models import RESOURCE_CANDIDATE, Area, Person, Resource, ResourceArea
from domain.schedule import ScheduleParseError, describe_rules, parse_rules

TEXT_FIELDS = {"name": 200, "kana": 200, "provider_name": 200, "description": 2000, "venue": 100,
               "address": 300, "fee": 200, "eligibility": 300, "accessibility": 2000, "phone": 40, "url": 500}
MAX_UPLOAD = 20 * 1024 * 1024


def _resource_or_404(resource_id: int) -> Resource:
    resource = db().get(Resource, resource_id)
    if resource is None or not rules.serves_scope(db(), resource, scope()):
        out_of_scope(f"resource {resource_id}")
    return resource


def _form_values(resource: Resource | None) -> tuple[dict, list[str]]:
    """The form's values, and the problems found (as keys of the page's messages)."""
    form, errors = request.form, []
    values = {key: form.get(key, "").strip()[:limit] for key, limit in TEXT_FIELDS.items()}
    values["kind"] = form.get("kind", "")
    values["provider_type"] = form.get("provider_type", "other") or "other"
    if not values["name"]:
        errors.append("name")
    if values["kind"] not in RESOURCE_KINDS:
        errors.append("kind")
    if values["provider_type"] not in PROVIDER_TYPES:
        errors.append("provider_type")
    categories = [c for c in form.getlist("categories") if c in CATEGORIES]
    if not categories:
        errors.append("categories")
    submitted = [a for a in (int_arg(x) for x in form.getlist("areas")) if a is not None]
    check_areas(submitted)
    # Areas outside my scope that the resource already serves stay as they are.
    kept = [row.area_id for row in resource.area_rows if not scope().covers(row.area_id)] if resource else []
    area_ids = kept + submitted
    if not submitted:
        errors.append("areas")
    try:
        schedule = parse_rules(form.get("schedule", "")[:500])
    except ScheduleParseError:
        schedule = None
        errors.append("schedule")
    return {"values": values, "categories": categories, "area_ids": area_ids, "rules": schedule}, errors


def _render_form(resource: Resource | None, errors: list[str], status: int = 200):
    form = request.form if request.method == "POST" else None
    return render_template(
        "console/resource_form.html", resource=resource, errors=errors, form=form,
        kinds=RESOURCE_KINDS, providers=PROVIDER_TYPES, areas=areas_in_scope(),
        schedule=(form.get("schedule", "") if form else (rules.schedule_text(resource) if resource else "")),
        chosen_categories=(form.getlist("categories") if form else (resource.categories if resource else [])),
        chosen_areas=([int_arg(a) for a in form.getlist("areas")] if form else
                      ([r.area_id for r in resource.area_rows] if resource else [])),
        offered_by=(db().get(Person, resource.offered_by_id) if resource and resource.offered_by_id else None),
        schedule_described=describe_rules(rules.rules_of(resource)) if resource else ""), status


@bp.route("/resources/new", methods=["GET", "POST"])
def resource_new():
    if request.method == "GET":
        return _render_form(None, [])
    parsed, errors = _form_values(None)
    if errors:
        return _render_form(None, errors, 400)
    resource = rules.create_resource(db(), now(), categories=parsed["categories"], area_ids=parsed["area_ids"],
                                     rules=parsed["rules"], source=rules.SOURCE_CONSOLE,
                                     last_verified_on=today(), **parsed["values"])
    esc.audit(db(), now(), "resource_created", actor=me(), detail=f"resource {resource.id}")
    flash("resource_saved", "ok")
    return redirect(url_for("console.resource_detail", resource_id=resource.id))


@bp.route("/resources/<int:resource_id>", methods=["GET", "POST"])
def resource_detail(resource_id: int):
    resource = _resource_or_404(resource_id)
    if request.method == "GET":
        return _render_form(resource, [])
    parsed, errors = _form_values(resource)
    if errors:
        return _render_form(resource, errors, 400)
    rules.update_resource(db(), resource, now(), categories=parsed["categories"], area_ids=parsed["area_ids"],
                          rules=parsed["rules"], **parsed["values"])
    esc.audit(db(), now(), "resource_edited", actor=me(), detail=f"resource {resource.id}")
    flash("resource_saved", "ok")
    return redirect(url_for("console.resource_detail", resource_id=resource.id))


def _status_action(resource_id: int, action, key: str, audit: str):
    resource = _resource_or_404(resource_id)
    try:
        action(resource)
    except ValueError:
        db().rollback()
        flash("resource_not_candidate", "error")
    else:
        esc.audit(db(), now(), audit, actor=me(), detail=f"resource {resource.id}")
        flash(key, "ok")
    return redirect(url_for("console.resource_detail", resource_id=resource_id))


@bp.post("/resources/<int:resource_id>/confirm")
def resource_confirm(resource_id: int):
    return _status_action(resource_id, lambda r: rules.confirm_candidate(r, now()), "resource_confirmed",
                          "resource_confirmed")


@bp.post("/resources/<int:resource_id>/reject")
def resource_reject(resource_id: int):
    return _status_action(resource_id, lambda r: rules.reject_candidate(r, now()), "resource_rejected",
                          "resource_rejected")


@bp.post("/resources/<int:resource_id>/deactivate")
def resource_deactivate(resource_id: int):
    return _status_action(resource_id, lambda r: rules.deactivate(r, now()), "resource_deactivated",
                          "resource_deactivated")


@bp.post("/resources/<int:resource_id>/verify")
def resource_verify(resource_id: int):
    return _status_action(resource_id, lambda r: rules.mark_verified(r, today(), now()), "resource_verified",
                          "resource_verified")


@bp.get("/resources/candidates")
def resource_candidates():
    s = scope()
    ids = None if s.city_wide else sorted(s.area_ids)
    rows = rules.candidates(db(), ids)
    offered = {p.id: p for p in db().query(Person).filter(Person.id.in_({r.offered_by_id for r in rows} - {None}))}
    return render_template("console/resource_candidates.html", rows=rows, offered=offered,
                           describe=lambda r: describe_rules(rules.rules_of(r)) if r.schedule_rows else "")


@bp.get("/resources/stale")
def resource_stale():
    months = min(max(int_arg(request.args.get("months")) or 12, 1), 120)
    rows = rules.not_verified_since(db(), scope().where(ResourceArea.area_id), today(), months)
    return render_template("console/resource_stale.html", rows=rows, months=months)


@bp.route("/resources/import", methods=["GET", "POST"])
def resource_import():
    districts = districts_in_scope()
    if request.method == "GET":
        return render_template("console/resource_import.html", districts=districts, report=None,
                               city_wide=scope().city_wide)
    upload = request.files.get("file")
    area_code = request.form.get("area") or None
    dry_run = request.form.get("dry_run") == "1"
    if area_code is None and not scope().city_wide:
        area_code = districts[0].code if len(districts) == 1 else None
    if area_code is not None:
        area = db().query(Area).filter(Area.code == area_code).one_or_none()
        if area is None or not scope().covers(area.id):
            out_of_scope(f"import area {area_code}")
    elif not scope().city_wide:
        flash("import_pick_district", "error")
        return redirect(url_for("console.resource_import"))
    if upload is None or not upload.filename:
        flash("import_no_file", "error")
        return redirect(url_for("console.resource_import"))
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        flash("import_too_big", "error")
        return redirect(url_for("console.resource_import"))
    try:
        report = import_resources(db(), data, filename=upload.filename[:200], now=now(),
                                  kind=request.form.get("kind") if request.form.get("kind") in ("care", "facility")
                                  else "auto", area_code=area_code, dry_run=dry_run)
    except ImportFailed as exc:
        db().rollback()
        return render_template("console/resource_import.html", districts=districts, report=None, failed=str(exc),
                               city_wide=scope().city_wide), 400
    if not dry_run:
        esc.audit(db(), now(), "resources_imported", actor=me(), detail=report.summary()[:200])
    return render_template("console/resource_import.html", districts=districts, report=report,
                           city_wide=scope().city_wide)


__all__ = ["RESOURCE_CANDIDATE"]

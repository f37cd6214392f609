"""The console's pages: my cases, cases, one case (with the LINE card's actions), needs,
volunteers, resources. Every read and every action is scoped through `scope()`."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from console.blueprint import bp, db, deps, me, now, scope
from domain import cases
from domain import escalation as esc
from domain.suggestions import suggest_resources, suggest_volunteers
from domain.models import NEED_STATUSES, URGENCIES, Need, Person, RESOURCE_STATUSES


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _case_or_404(case_id: int) -> esc.Escalation:
    """The case if it is in my scope; otherwise 404 (and an audit row, kept)."""
    try:
        return cases.get_case(db(), scope(), case_id, me(), now())
    except cases.NotFound:
        db().commit()
        abort(404)


@bp.get("/")
def home():
    rows = cases.my_open_cases(db(), scope(), me(), now())
    return render_template("console/home.html", rows=rows)


@bp.get("/cases")
def case_list():
    args = request.args
    filters = cases.CaseFilters(
        district_id=_int(args.get("district")), status=args.get("status") or None,
        urgency=args.get("urgency") if args.get("urgency") in URGENCIES else None,
        overdue=args.get("overdue") == "1", category=args.get("category") or None,
        text=args.get("q", "")[:100], page=_int(args.get("page")) or 1)
    page = cases.list_cases(db(), scope(), filters, now())
    return render_template("console/cases.html", page=page, filters=filters,
                           districts=cases.districts_in(db(), scope()), statuses=list(esc.ACTIVE_STATUSES) +
                           [esc.RESOLVED, esc.RAISED], urgencies=URGENCIES)


@bp.get("/cases/<int:case_id>")
def case_detail(case_id: int):
    case = _case_or_404(case_id)
    session, coordinator, moment = db(), me(), now()
    need = session.get(Need, case.need_id)
    contact = cases.contact_for(session, case, coordinator, moment, "console")
    active = case.status in esc.ACTIVE_STATUSES
    volunteers, resources = [], []
    if active and need is not None:
        volunteers = [(v, session.get(Person, v.person_id)) for v in
                      suggest_volunteers(session, need, moment, limit=5, include_unavailable=True)]
        resources = suggest_resources(session, need, moment, limit=5)
    history = cases.history(session, case.id)
    messages = cases.messages_of(session, case.id)
    names = {e.actor_id for e in history} | {m.coordinator_id for m in messages} | {case.owner_id}
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(names - {None})))}
    return render_template("console/case.html", case=case, need=need, contact=contact, active=active,
                           history=history, messages=messages,
                           people=people, volunteers=volunteers, resources=resources,
                           texts=cases.history_texts(session, case.id), outcomes=esc.OUTCOMES, district=cases.district_name(session, case),
                           max_message=cases.MAX_MESSAGE)


def _act(case_id: int, action):
    """Run one action on a case in scope; domain refusals become a message on the page."""
    case = _case_or_404(case_id)
    try:
        key = action(case)
    except (esc.EscalationError, cases.CaseError) as exc:
        db().rollback()
        flash(_refusal_key(exc), "error")
    except esc.NotPermitted:
        db().rollback()
        abort(404)
    else:
        flash(key, "ok")
    return redirect(url_for("console.case_detail", case_id=case_id))


def _refusal_key(exc: Exception) -> str:
    message = str(exc)
    if "closed" in message:
        return "closed"
    if "reached" in message:
        return "unreachable"
    if "empty" in message or "needs a text" in message:
        return "empty"
    if "over" in message:
        return "too_long"
    if "suggested" in message:
        return "not_suggested"
    return "refused"


@bp.post("/cases/<int:case_id>/acknowledge")
def case_acknowledge(case_id: int):
    def run(case):
        _case, won = cases.acknowledge(db(), case.id, me(), now(), deps().notifier)
        return "acknowledged" if won else "acknowledged_by_other"
    return _act(case_id, run)


@bp.post("/cases/<int:case_id>/resolve")
def case_resolve(case_id: int):
    outcome = request.form.get("outcome", "")
    if outcome not in esc.OUTCOMES:
        flash("pick_outcome", "error")
        return redirect(url_for("console.case_detail", case_id=case_id))
    return _act(case_id, lambda case: esc.resolve(db(), case.id, me(), outcome, now(),
                                                  request.form.get("note", "")[:1000]) and "resolved")


@bp.post("/cases/<int:case_id>/note")
def case_note(case_id: int):
    note = request.form.get("note", "").strip()
    if not note:
        flash("empty", "error")
        return redirect(url_for("console.case_detail", case_id=case_id))
    return _act(case_id, lambda case: esc.add_note(db(), case.id, me(), note[:2000], now()) and "noted")


@bp.post("/cases/<int:case_id>/raise")
def case_raise(case_id: int):
    text = request.form.get("proposal", "")
    return _act(case_id, lambda case: esc.raise_to_city(db(), case.id, me(), text, now()) and "raised")


@bp.post("/cases/<int:case_id>/message")
def case_message(case_id: int):
    text = request.form.get("message", "")
    return _act(case_id, lambda case: cases.message_resident(db(), case.id, me(), text, now(),
                                                             deps().notifier) and "message_sent")


@bp.post("/cases/<int:case_id>/connect/volunteer")
def case_connect_volunteer(case_id: int):
    volunteer_id = _int(request.form.get("person_id"))
    return _act(case_id, lambda case: cases.connect_volunteer(db(), case.id, me(), volunteer_id or 0, now(),
                                                              deps().notifier) is not None and "volunteer_asked")


@bp.post("/cases/<int:case_id>/connect/resource")
def case_connect_resource(case_id: int):
    resource_id = _int(request.form.get("resource_id"))
    return _act(case_id, lambda case: cases.connect_resource(db(), case.id, me(), resource_id or 0, now(),
                                                             deps().notifier) is not None and "resource_sent")


@bp.get("/needs")
def need_list():
    args = request.args
    status = args.get("status") if args.get("status") in NEED_STATUSES else None
    page = cases.list_needs(db(), scope(), now(), status=status, category=args.get("category") or None,
                            text=args.get("q", "")[:100], page=_int(args.get("page")) or 1)
    return render_template("console/needs.html", page=page, status=status, statuses=NEED_STATUSES,
                           category=args.get("category") or "", q=args.get("q", ""))


@bp.get("/volunteers")
def volunteer_list():
    page = cases.list_volunteers(db(), scope(), page=_int(request.args.get("page")) or 1)
    return render_template("console/volunteers.html", page=page)


@bp.get("/resources")
def resource_list():
    args = request.args
    status = args.get("status") if args.get("status") in RESOURCE_STATUSES else None
    page = cases.list_resources(db(), scope(), status=status, text=args.get("q", "")[:100],
                                page=_int(args.get("page")) or 1)
    return render_template("console/resources.html", page=page, status=status, statuses=RESOURCE_STATUSES,
                           q=args.get("q", ""))


@bp.app_errorhandler(404)
def _not_found(exc):
    if request.path.startswith("/console"):
        return render_template("console/error.html", code=404, key="not_found"), 404
    return exc

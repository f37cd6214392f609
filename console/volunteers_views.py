"""担い手: a volunteer's offers (categories, areas, days, times, car), pause and resume, matches
waiting for the coordinator's approval (承認 / 見送る), and help given per volunteer over a period."""
from __future__ import annotations

from datetime import time

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import exists, or_, select

from console.blueprint import bp, db, deps, me, now, scope
from console.common import area_names, areas_in_scope, check_areas, int_arg, out_of_scope, today
from domain import escalation as esc
from domain import matches as match_rules
from domain import offers as offer_rules
from domain.categories import CATEGORIES
from domain.insights import Period
from domain.labels import area_label, need_when_label
from domain.models import VOLUNTEER, Match, Need, Offer, OfferArea, Person, PersonRole


HELP_SHOWN = 200


def _news():
    return getattr(deps(), "news", None)


def _volunteer_or_404(person_id: int) -> Person:
    s = scope()
    offers_here = exists(select(OfferArea.offer_id).join(Offer, Offer.id == OfferArea.offer_id)
                         .where(Offer.person_id == Person.id, s.where(OfferArea.area_id)))
    person = db().scalar(select(Person).join(PersonRole, PersonRole.person_id == Person.id).where(
        Person.id == person_id, PersonRole.role == VOLUNTEER, or_(s.where(Person.area_id), offers_here)))
    if person is None:
        out_of_scope(f"volunteer {person_id}")
    return person


def _offer_or_404(person: Person, offer_id: int) -> Offer:
    offer = db().get(Offer, offer_id)
    if offer is None or offer.person_id != person.id:
        out_of_scope(f"offer {offer_id}")
    return offer


@bp.get("/volunteers/<int:person_id>")
def volunteer_detail(person_id: int):
    person = _volunteer_or_404(person_id)
    offers = offer_rules.offers_of(db(), person)
    period = Period.parse(request.args.get("start"), request.args.get("end"), today(), default_days=365)
    given = match_rules.help_given(db(), [person.id], period.start_utc, period.end_utc)
    return render_template("console/volunteer.html", person=person, offers=offers, areas=areas_in_scope(),
                           area_label=lambda a: area_label(db(), a), given=given[0] if given else None,
                           period=period, errors=[])


@bp.post("/volunteers/<int:person_id>/offers/<int:offer_id>")
def offer_update(person_id: int, offer_id: int):
    person = _volunteer_or_404(person_id)
    offer = _offer_or_404(person, offer_id)
    form = request.form
    categories = [c for c in form.getlist("categories") if c in CATEGORIES]
    submitted = check_areas([a for a in (int_arg(x) for x in form.getlist("areas")) if a is not None])
    kept = [row.area_id for row in offer.area_rows if not scope().covers(row.area_id)]
    slots = []
    for day in (int_arg(d) for d in form.getlist("days")):
        if day is None or not 0 <= day <= 6:
            continue
        for part in (int_arg(p) for p in form.getlist("parts")):
            if part in offer_rules.PART_HOURS:
                start, end = offer_rules.PART_HOURS[part]
                slots.append((day, start, end))
        start_t, end_t = _time(form.get("start")), _time(form.get("end"))
        if start_t and end_t and start_t < end_t:
            slots.append((day, start_t, end_t))
    try:
        offer_rules.update_offer(db(), offer, now=now(), categories=categories, area_ids=kept + submitted,
                                 slots=slots, has_car=form.get("car") == "1")
    except ValueError:
        db().rollback()
        flash("offer_invalid", "error")
    else:
        esc.audit(db(), now(), "offer_edited", actor=me(), detail=f"offer {offer.id}")
        flash("offer_saved", "ok")
    return redirect(url_for("console.volunteer_detail", person_id=person.id))


def _time(value: str | None) -> time | None:
    try:
        return time.fromisoformat(value) if value else None
    except ValueError:
        return None


def _pause(person_id: int, offer_id: int, paused: bool):
    person = _volunteer_or_404(person_id)
    offer = _offer_or_404(person, offer_id)
    offer_rules.set_paused(offer, paused, now())
    esc.audit(db(), now(), "offer_paused" if paused else "offer_resumed", actor=me(), detail=f"offer {offer.id}")
    flash("offer_paused" if paused else "offer_resumed", "ok")
    return redirect(url_for("console.volunteer_detail", person_id=person.id))


@bp.post("/volunteers/<int:person_id>/offers/<int:offer_id>/pause")
def offer_pause(person_id: int, offer_id: int):
    return _pause(person_id, offer_id, True)


@bp.post("/volunteers/<int:person_id>/offers/<int:offer_id>/resume")
def offer_resume(person_id: int, offer_id: int):
    return _pause(person_id, offer_id, False)


@bp.get("/volunteers/approvals")
def approvals():
    rows = match_rules.waiting_for_approval(db(), scope().where(Need.area_id))
    needs = {n.id: n for n in db().scalars(select(Need).where(Need.id.in_([m.need_id for m in rows])))}
    people = {p.id: p for p in db().scalars(select(Person).where(Person.id.in_(
        [m.volunteer_id for m in rows if m.volunteer_id])))}
    names = area_names()
    view = []
    for match in rows:
        need = needs[match.need_id]
        view.append((match, need, people.get(match.volunteer_id), names.get(need.area_id, "—"),
                     need_when_label(need)))
    return render_template("console/approvals.html", rows=view)


def _match_or_404(match_id: int) -> tuple[Match, Need]:
    match = db().get(Match, match_id)
    need = db().get(Need, match.need_id) if match is not None else None
    if match is None or need is None or not scope().covers(need.area_id):
        out_of_scope(f"match {match_id}")
    return match, need


@bp.post("/volunteers/approvals/<int:match_id>/approve")
def approval_approve(match_id: int):
    match, need = _match_or_404(match_id)
    if match.approved_at is not None or match.status != "accepted" or not match.requires_approval:
        flash("match_not_waiting", "error")
        return redirect(url_for("console.approvals"))
    match_rules.approve_match(db(), match, me(), now())
    if _news() is not None:
        _news().match_approved(db(), match, need, now(), key=f"match-approved:{match.id}")
    esc.audit(db(), now(), "match_approved", actor=me(), detail=f"match {match.id}")
    flash("match_approved", "ok")
    return redirect(url_for("console.approvals"))


@bp.post("/volunteers/approvals/<int:match_id>/decline")
def approval_decline(match_id: int):
    match, need = _match_or_404(match_id)
    try:
        match_rules.decline(db(), match, me(), now())
    except match_rules.NotApprovable:
        db().rollback()
        flash("match_not_waiting", "error")
        return redirect(url_for("console.approvals"))
    if _news() is not None:
        _news().match_declined(db(), match, need, now(), key=f"match-declined:{match.id}")
    esc.audit(db(), now(), "match_declined", actor=me(), detail=f"match {match.id}")
    flash("match_declined", "ok")
    return redirect(url_for("console.approvals"))


@bp.get("/volunteers/help")
def help_given():
    period = Period.parse(request.args.get("start"), request.args.get("end"), today(), default_days=365)
    rows = match_rules.help_given(db(), None, period.start_utc, period.end_utc, scope().where(Need.area_id))
    return render_template("console/help_given.html", rows=rows[:HELP_SHOWN], total=len(rows), period=period,
                           shown=HELP_SHOWN)

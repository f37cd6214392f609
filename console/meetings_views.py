"""協議体の会議: create and edit single and recurring meetings, members added and removed,
reminder settings, the answers tally, the agenda with 資源開発 proposals, minutes and
書面開催 opinions. A meeting is in scope when its area is."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from console.blueprint import bp, db, me, now, scope
from console.common import areas_in_scope, int_arg, out_of_scope
from domain import escalation as esc
from domain import meetings
from domain.clock import TOKYO
from domain.meetings import membership
from domain.meetings.core import add_agenda_item, set_reminders
from domain.meetings.models import MODES, PROPOSAL, Meeting, MeetingMember
from domain.meetings.recurrence import RuleError
from domain.models import COORDINATOR, VOLUNTEER, Area, CoordinatorArea, Person, PersonRole

MEMBER_CHOICES = 100


def _meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db().get(Meeting, meeting_id)
    if meeting is None or not scope().covers(meeting.area_id):
        out_of_scope(f"meeting {meeting_id}")
    return meeting


def _local(day: str | None, at: str | None) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(day or ""), time.fromisoformat(at or ""), TOKYO)
    except ValueError:
        return None


def _reminder_specs(days_text: str, at_text: str, text: str) -> list[meetings.ReminderSpec]:
    try:
        at = time.fromisoformat(at_text or "09:00")
    except ValueError:
        at = time(9, 0)
    days = []
    for part in days_text.replace("、", ",").replace(" ", ",").split(","):
        if part.strip().isdigit() and 0 <= int(part) <= 60:
            days.append(int(part))
    return [meetings.ReminderSpec(d, at, text[:500]) for d in sorted(set(days), reverse=True)]


def _person_choices(meeting: Meeting) -> list[Person]:
    """People a coordinator may add: volunteers and coordinators in scope (and anyone living in it)."""
    s = scope()
    assigned = select(CoordinatorArea.person_id).where(s.where(CoordinatorArea.area_id))
    roles = select(PersonRole.person_id).where(PersonRole.role.in_((VOLUNTEER, COORDINATOR)))
    present = select(MeetingMember.person_id).where(MeetingMember.meeting_id == meeting.id)
    q = request.args.get("q", "").strip()[:50]
    stmt = (select(Person).where(or_(s.where(Person.area_id), Person.id.in_(assigned)), Person.id.not_in(present),
                                 Person.active.is_(True))
            .order_by(Person.display_name, Person.id).limit(MEMBER_CHOICES))
    if q:
        stmt = stmt.where(Person.display_name.contains(q, autoescape=True))
    else:
        stmt = stmt.where(Person.id.in_(roles))
    return list(db().scalars(stmt))


def _person_in_scope(person_id: int | None) -> Person:
    person = db().get(Person, person_id) if person_id is not None else None
    if person is None:
        out_of_scope(f"person {person_id}")
    s = scope()
    coordinates_here = db().scalar(select(CoordinatorArea.person_id).where(
        CoordinatorArea.person_id == person.id, s.where(CoordinatorArea.area_id)).limit(1))
    if not (s.covers(person.area_id) or coordinates_here is not None):
        out_of_scope(f"person {person_id}")
    return person


@bp.get("/meetings")
def meeting_list():
    past = request.args.get("past") == "1"
    stmt = select(Meeting).where(scope().where(Meeting.area_id)).order_by(Meeting.starts_at, Meeting.id).limit(200)
    stmt = stmt.where(Meeting.ends_at <= now()) if past else stmt.where(Meeting.ends_at > now())
    if past:
        stmt = stmt.order_by(None).order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    rows = list(db().scalars(stmt))
    names = {a.id: a.name for a in db().scalars(select(Area).where(Area.id.in_({m.area_id for m in rows})))}
    return render_template("console/meetings.html", rows=rows, names=names, past=past)


@bp.route("/meetings/new", methods=["GET", "POST"])
def meeting_new():
    areas = areas_in_scope()
    if request.method == "GET":
        return render_template("console/meeting_form.html", areas=areas, modes=MODES, errors=[], form=None)
    form = request.form
    errors: list[str] = []
    area_id = int_arg(form.get("area"))
    if area_id is None or not scope().covers(area_id):
        out_of_scope(f"meeting area {area_id}")
    area = db().get(Area, area_id)
    title = form.get("title", "").strip()
    mode = form.get("mode") if form.get("mode") in MODES else "in_person"
    if not title:
        errors.append("title")
    reminders = _reminder_specs(form.get("remind_days", "7,1"), form.get("remind_at", "09:00"),
                                form.get("remind_text", ""))
    try:
        if form.get("recurring") == "1":
            starts_on = date.fromisoformat(form.get("starts_on") or "")
            start_time = form.get("time") or "14:00"
            rule = f"{form.get('rule', '').strip()} {start_time}"
            result = meetings.create_series(
                db(), rule=rule, starts_on=starts_on, now=now(), layer=area.layer, area_id=area.id, title=title,
                duration_minutes=int_arg(form.get("duration")) or 120, place=form.get("place", ""), mode=mode,
                url=form.get("url", ""), organiser_id=me().id, count=int_arg(form.get("count")))
            if reminders:
                for m in result.created:
                    set_reminders(db(), m, reminders, now())
            esc.audit(db(), now(), "series_created", actor=me(), detail=f"series {result.series.id}")
            flash("series_created", "ok")
            return redirect(url_for("console.meeting_detail", meeting_id=result.created[0].id)
                            if result.created else url_for("console.meeting_list"))
        starts = _local(form.get("date"), form.get("time"))
        if starts is None:
            errors.append("when")
        if errors:
            raise ValueError("form")
        deadline = _local(form.get("deadline_date"), form.get("deadline_time") or "17:00")
        created = meetings.create_meeting(
            db(), layer=area.layer, area_id=area.id, title=title, starts_at=starts, now=now(),
            ends_at=starts + timedelta(minutes=int_arg(form.get("duration")) or 120), place=form.get("place", ""),
            mode=mode, url=form.get("url", ""), reply_deadline=deadline if mode == "written" else None,
            organiser_id=me().id, agenda=[line for line in form.get("agenda", "").splitlines() if line.strip()][:30],
            reminders=reminders)
    except (ValueError, RuleError, meetings.MeetingError):
        db().rollback()
        if not errors:
            errors.append("rule" if form.get("recurring") == "1" else "meeting")
        return render_template("console/meeting_form.html", areas=areas, modes=MODES, errors=errors, form=form), 400
    esc.audit(db(), now(), "meeting_created", actor=me(), detail=f"meeting {created.meeting.id}")
    flash("meeting_saved", "ok")
    return redirect(url_for("console.meeting_detail", meeting_id=created.meeting.id))


@bp.get("/meetings/<int:meeting_id>")
def meeting_detail(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    tally = meetings.tally(db(), meeting)
    members = list(db().scalars(select(Person).join(MeetingMember, MeetingMember.person_id == Person.id)
                                .where(MeetingMember.meeting_id == meeting.id).order_by(Person.display_name)))
    proposals = list(db().scalars(select(esc.Proposal).where(
        esc.Proposal.status.in_(("proposed", "on_agenda")), scope().where(esc.Proposal.district_id))
        .order_by(esc.Proposal.raised_at.desc()).limit(50)))
    on_agenda = {item.source_ref for item in meeting.agenda if item.source == PROPOSAL}
    district_names = {a.id: a.name for a in db().scalars(select(Area).where(
        Area.id.in_({p.district_id for p in proposals} | {meeting.area_id})))}
    reminders = [r for r in meeting.reminders if r.kind == meetings.REMIND]
    local = meeting.starts_at.astimezone(TOKYO)
    return render_template("console/meeting.html", meeting=meeting, tally=tally, members=members,
                           choices=_person_choices(meeting), proposals=proposals, on_agenda=on_agenda,
                           names=district_names, reminders=reminders, local=local, modes=MODES,
                           q=request.args.get("q", ""), is_past=meeting.starts_at <= now())


def _redirect(meeting: Meeting, anchor: str = ""):
    return redirect(url_for("console.meeting_detail", meeting_id=meeting.id) + (f"#{anchor}" if anchor else ""))


@bp.post("/meetings/<int:meeting_id>")
def meeting_edit(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    form = request.form
    starts = _local(form.get("date"), form.get("time"))
    mode = form.get("mode") if form.get("mode") in MODES else None
    try:
        changed = meetings.change_meeting(db(), meeting, now(), starts_at=starts, place=form.get("place"),
                                          mode=mode, url=form.get("url"), title=form.get("title") or None)
    except meetings.MeetingError:
        db().rollback()
        flash("meeting_refused", "error")
        return _redirect(meeting)
    esc.audit(db(), now(), "meeting_changed", actor=me(), detail=f"meeting {meeting.id}")
    flash("meeting_changed" if changed.changes else "meeting_saved", "ok")
    return _redirect(meeting)


@bp.post("/meetings/<int:meeting_id>/cancel")
def meeting_cancel(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    try:
        meetings.cancel_meeting(db(), meeting, now(), request.form.get("reason", ""))
    except meetings.MeetingError:
        db().rollback()
        flash("meeting_refused", "error")
        return _redirect(meeting)
    esc.audit(db(), now(), "meeting_cancelled", actor=me(), detail=f"meeting {meeting.id}")
    flash("meeting_cancelled", "ok")
    return _redirect(meeting)


@bp.post("/meetings/<int:meeting_id>/members")
def meeting_member_add(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    person = _person_in_scope(int_arg(request.form.get("person_id")))
    try:
        added = membership.add_member(db(), meeting, person.id, now(),
                                      whole_series=request.form.get("series") == "1")
    except meetings.MeetingError:
        db().rollback()
        flash("meeting_refused", "error")
        return _redirect(meeting, "members")
    esc.audit(db(), now(), "member_added", actor=me(), detail=f"meeting {meeting.id} person {person.id}")
    flash("member_added" if added else "member_already", "ok")
    return _redirect(meeting, "members")


@bp.post("/meetings/<int:meeting_id>/members/<int:person_id>/remove")
def meeting_member_remove(meeting_id: int, person_id: int):
    meeting = _meeting_or_404(meeting_id)
    membership.remove_member(db(), meeting, person_id, now(), whole_series=request.form.get("series") == "1")
    esc.audit(db(), now(), "member_removed", actor=me(), detail=f"meeting {meeting.id} person {person_id}")
    flash("member_removed", "ok")
    return _redirect(meeting, "members")


@bp.post("/meetings/<int:meeting_id>/reminders")
def meeting_reminders(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    form = request.form
    set_reminders(db(), meeting, _reminder_specs(form.get("remind_days", ""), form.get("remind_at", "09:00"),
                                                 form.get("remind_text", "")), now())
    flash("reminders_saved", "ok")
    return _redirect(meeting, "reminders")


@bp.post("/meetings/<int:meeting_id>/agenda")
def meeting_agenda_add(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    proposal_id = int_arg(request.form.get("proposal_id"))
    if proposal_id is not None:
        proposal = db().get(esc.Proposal, proposal_id)
        if proposal is None or not scope().covers(proposal.district_id):
            out_of_scope(f"proposal {proposal_id}")
        district = db().get(Area, proposal.district_id)
        from domain.categories import label

        item = add_agenda_item(db(), meeting, f"資源開発の提案：{district.name}・{label(proposal.category)}", now(),
                               detail=proposal.text, source=PROPOSAL, source_ref=str(proposal.id))
        if item is not None and proposal.status == "proposed":
            proposal.status, proposal.meeting_id = "on_agenda", meeting.id
    else:
        title = request.form.get("title", "").strip()
        if not title:
            flash("empty", "error")
            return _redirect(meeting, "agenda")
        item = add_agenda_item(db(), meeting, title, now(), detail=request.form.get("detail", "")[:2000])
    flash("agenda_added" if item is not None else "agenda_already", "ok")
    return _redirect(meeting, "agenda")


@bp.post("/meetings/<int:meeting_id>/minutes")
def meeting_minutes(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    meetings.mark_minutes(db(), meeting, now(), request.form.get("note", "")[:20000])
    esc.audit(db(), now(), "minutes_recorded", actor=me(), detail=f"meeting {meeting.id}")
    flash("minutes_saved", "ok")
    return _redirect(meeting, "minutes")

"""Council meetings: create, change, cancel, answer, tally, minutes, recurring series.

Every function takes `now` (time is injected) and works in the caller's session; nothing here
sends a message. What must be said (reminders, change and cancellation notices, holiday
warnings) becomes a MeetingReminder row that the scheduler turns into outbox messages.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from domain.jp_calendar import holiday_name
from domain.clock import TOKYO
from domain.meetings.models import (
    ABSENT, ATTEND, CANCEL, CANCELLED, CHANGE, HOLIDAY, LAYERS, MANUAL, MINUTES, MODES, NO_OPINION,
    ONLINE, HYBRID, OPINION, PENDING, PROPOSAL, REMIND, SCHEDULED, SKIPPED, TALLY, TIMED_KINDS,
    UNDECIDED, WRITTEN, AgendaItem, Meeting, MeetingAnswer, MeetingMember, MeetingReminder,
    MeetingSeries, SeriesException,
)
from domain.meetings.recurrence import Rule, occurrences, parse_rule
from domain.models import Area, Person

# Defaults (PRODUCT.md): members 7 days and 1 day before at 09:00; the organiser's tally the
# day before at 17:00 (members have had the day to answer); minutes 3 and 7 days after.
DEFAULT_REMINDERS: tuple[tuple[int, time], ...] = ((7, time(9, 0)), (1, time(9, 0)))
DEFAULT_TALLY: tuple[int, time] = (1, time(17, 0))
DEFAULT_MINUTES: tuple[tuple[int, time], ...] = ((3, time(9, 0)), (7, time(9, 0)))
# How long after 意見を送る the member's next text is taken as the opinion.
OPINION_WINDOW = timedelta(minutes=30)
SERIES_HORIZON_DAYS = 120
MAX_SERIES_COUNT = 60
NOTIFIED_FIELDS = ("starts_at", "ends_at", "place", "mode", "url", "reply_deadline")
TIME_FIELDS = ("starts_at", "reply_deadline")


class MeetingError(ValueError):
    """A request the rules refuse; the message is Japanese and may be shown as is."""


class NotFound(MeetingError):
    pass


class NotAMember(MeetingError):
    pass


class AnswersClosed(MeetingError):
    pass


class MeetingCancelled(MeetingError):
    pass


@dataclass(frozen=True)
class ReminderSpec:
    """A members' reminder: `days_before` the meeting's local date at `at` (Asia/Tokyo)."""

    days_before: int
    at: time = time(9, 0)
    text: str = ""


@dataclass(frozen=True)
class HolidayWarning:
    meeting_id: int
    day: date
    name: str


@dataclass
class Created:
    meeting: Meeting
    warnings: list[HolidayWarning] = field(default_factory=list)


@dataclass
class Changed:
    meeting: Meeting
    changes: dict[str, tuple[object, object]]
    warnings: list[HolidayWarning] = field(default_factory=list)


# -- time ------------------------------------------------------------------------------------
def _aware(value: datetime | None, what: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise MeetingError(f"{what}: タイムゾーンのない日時は使えません")
    return value.astimezone(timezone.utc)


def local(moment: datetime) -> datetime:
    return moment.astimezone(TOKYO)


def tokyo(day: date, at: time) -> datetime:
    """A local Asia/Tokyo date and time, as aware UTC."""
    return datetime.combine(day, at, TOKYO).astimezone(timezone.utc)


def reference_time(meeting: Meeting, kind: str) -> datetime:
    """What a timed reminder counts days from: the start, or a written meeting's deadline."""
    return meeting.starts_at if kind == MINUTES else meeting.answers_close_at


def due_time(meeting: Meeting, kind: str, day_offset: int, at: time) -> datetime | None:
    """When a timed reminder is due, or None when that would not be before the meeting."""
    reference = reference_time(meeting, kind)
    due = tokyo(local(reference).date() + timedelta(days=day_offset), at)
    if kind in (REMIND, TALLY) and due >= reference:
        return None
    return due


# -- creating --------------------------------------------------------------------------------
def _validate(layer: str, area: Area | None, mode: str, url: str, reply_deadline: datetime | None,
              starts_at: datetime, ends_at: datetime, title: str) -> None:
    if layer not in LAYERS:
        raise MeetingError(f"層は {', '.join(LAYERS)} のいずれかです: {layer}")
    if area is None:
        raise MeetingError("地区が見つかりません")
    if area.layer != layer:
        raise MeetingError(f"地区 {area.code} は {area.layer} の地区で、{layer} ではありません")
    if mode not in MODES:
        raise MeetingError(f"開催方法は {', '.join(MODES)} のいずれかです: {mode}")
    if mode in (ONLINE, HYBRID) and not url:
        raise MeetingError("オンライン・ハイブリッド開催には参加URLが要ります")
    if url and not url.startswith(("https://", "http://")):
        raise MeetingError("参加URLは https:// で始めてください")
    if mode == WRITTEN and reply_deadline is None:
        raise MeetingError("書面開催には回答期限が要ります")
    if ends_at <= starts_at:
        raise MeetingError("終了は開始より後にしてください")
    if not title.strip():
        raise MeetingError("会議名が空です")


def _member_ids(session: Session, ids: Iterable[int]) -> list[int]:
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if not wanted:
        return []
    found = set(session.scalars(select(Person.id).where(Person.id.in_(wanted))))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise MeetingError(f"委員が見つかりません: {missing}")
    return wanted


def create_meeting(session: Session, *, layer: str, area_id: int, title: str, starts_at: datetime,
                   now: datetime, ends_at: datetime | None = None, place: str = "",
                   mode: str = "in_person", url: str = "", reply_deadline: datetime | None = None,
                   organiser_id: int | None = None, member_ids: Iterable[int] = (),
                   agenda: Sequence[str] = (), reminders: Sequence[ReminderSpec] | None = None,
                   series: MeetingSeries | None = None,
                   occurrence_date: date | None = None) -> Created:
    """Create a meeting with its members, agenda and reminders; warn when it is a holiday."""
    starts_at = _aware(starts_at, "開始")
    ends_at = _aware(ends_at, "終了") or starts_at + timedelta(hours=2)
    reply_deadline = _aware(reply_deadline, "回答期限")
    _validate(layer, session.get(Area, area_id), mode, url, reply_deadline, starts_at, ends_at, title)
    if organiser_id is not None and session.get(Person, organiser_id) is None:
        raise MeetingError("主催者が見つかりません")
    members = _member_ids(session, member_ids)
    meeting = Meeting(
        series_id=series.id if series else None, occurrence_date=occurrence_date, layer=layer,
        area_id=area_id, title=title.strip()[:200], starts_at=starts_at, ends_at=ends_at,
        place=place.strip()[:200], mode=mode, url=url.strip(), reply_deadline=reply_deadline,
        organiser_id=organiser_id, status=SCHEDULED, version=1, minutes_note="",
        cancel_reason="", created_at=now, updated_at=now)
    meeting.member_rows = [MeetingMember(person_id=pid) for pid in members]
    meeting.agenda = [AgendaItem(position=i, title=item.strip()[:300], detail="", source=MANUAL,
                                 created_at=now)
                      for i, item in enumerate(agenda) if item.strip()]
    session.add(meeting)
    session.flush()
    plan_reminders(meeting, now, reminders)
    warnings = _check_holiday(meeting, now)
    session.flush()
    return Created(meeting, warnings)


def _check_holiday(meeting: Meeting, now: datetime) -> list[HolidayWarning]:
    day = local(meeting.starts_at).date()
    name = holiday_name(day)
    meeting.holiday_name = name
    if name is None:
        return []
    if meeting.starts_at > now:
        _notice(meeting, HOLIDAY, now, {"day": day.isoformat(), "name": name})
    return [HolidayWarning(meeting.id, day, name)]


def _row(meeting: Meeting, kind: str, day_offset: int, at: time | None, now: datetime,
         text: str = "") -> MeetingReminder:
    due = due_time(meeting, kind, day_offset, at) if at is not None else now
    row = MeetingReminder(kind=kind, day_offset=day_offset, local_time=at, text=text, detail="",
                          due_at=due or now, version=meeting.version, status=PENDING,
                          status_reason="", delivery="", recipients=0, unreachable=0,
                          created_at=now)
    if due is None:
        row.status, row.status_reason, row.done_at = SKIPPED, "not before the meeting", now
    elif due <= now and kind in TIMED_KINDS:
        row.status, row.status_reason, row.done_at = SKIPPED, "planned after its time", now
    meeting.reminders.append(row)
    return row


def plan_reminders(meeting: Meeting, now: datetime,
                   reminders: Sequence[ReminderSpec] | None = None) -> None:
    """The members' reminders (default 7 and 1 days before, 09:00), the tally and the minutes."""
    specs = list(reminders) if reminders is not None else [
        ReminderSpec(days, at) for days, at in DEFAULT_REMINDERS]
    for spec in specs:
        if spec.days_before < 0:
            raise MeetingError("何日前かは0以上で指定してください")
        _row(meeting, REMIND, -spec.days_before, spec.at, now, spec.text.strip())
    _row(meeting, TALLY, -DEFAULT_TALLY[0], DEFAULT_TALLY[1], now)
    for days, at in DEFAULT_MINUTES:
        _row(meeting, MINUTES, days, at, now)


def set_reminders(session: Session, meeting: Meeting, reminders: Sequence[ReminderSpec],
                  now: datetime) -> None:
    """Replace the members' reminders that are still to come (sent ones stay as history)."""
    for row in list(meeting.reminders):
        if row.kind == REMIND and row.status == PENDING:
            meeting.reminders.remove(row)
            session.delete(row)
    for spec in reminders:
        _row(meeting, REMIND, -spec.days_before, spec.at, now, spec.text.strip())
    session.flush()


def _notice(meeting: Meeting, kind: str, now: datetime, detail: dict) -> MeetingReminder:
    row = _row(meeting, kind, 0, None, now)
    row.detail = json.dumps(detail, ensure_ascii=False, default=str)
    return row


# -- changing --------------------------------------------------------------------------------
def get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(f"会議 {meeting_id} は見つかりません")
    return meeting


def change_meeting(session: Session, meeting: Meeting, now: datetime, *,
                   starts_at: datetime | None = None, ends_at: datetime | None = None,
                   place: str | None = None, mode: str | None = None, url: str | None = None,
                   reply_deadline: datetime | None = None, title: str | None = None) -> Changed:
    """Change time, place or mode: members get a change notice and the reminders move."""
    if meeting.cancelled:
        raise MeetingCancelled("中止した会議は変更できません")
    new = {
        "starts_at": _aware(starts_at, "開始") or meeting.starts_at,
        "place": meeting.place if place is None else place.strip()[:200],
        "mode": meeting.mode if mode is None else mode,
        "url": meeting.url if url is None else url.strip(),
        "reply_deadline": _aware(reply_deadline, "回答期限") or meeting.reply_deadline,
    }
    if ends_at is not None:
        new["ends_at"] = _aware(ends_at, "終了")
    elif starts_at is not None:  # keep the length of the meeting
        new["ends_at"] = new["starts_at"] + (meeting.ends_at - meeting.starts_at)
    else:
        new["ends_at"] = meeting.ends_at
    _validate(meeting.layer, session.get(Area, meeting.area_id), new["mode"], new["url"],
              new["reply_deadline"], new["starts_at"], new["ends_at"], title or meeting.title)
    if title is not None:
        meeting.title = title.strip()[:200]
    changes = {k: (getattr(meeting, k), v) for k, v in new.items() if getattr(meeting, k) != v}
    if not changes:
        meeting.updated_at = now
        return Changed(meeting, {})
    was_upcoming = meeting.starts_at > now
    for key, (_old, value) in changes.items():
        setattr(meeting, key, value)
    meeting.version += 1
    meeting.updated_at = now
    warnings: list[HolidayWarning] = []
    if any(k in changes for k in TIME_FIELDS):
        _rearm(meeting, now)
        warnings = _check_holiday(meeting, now)
    shown = {k: v for k, v in changes.items() if k != "ends_at" or "starts_at" not in changes}
    # Two changes before the scheduler ran: one notice, from the first old value to the last.
    for row in meeting.reminders:
        if row.kind == CHANGE and row.status == PENDING:
            for key, (old, _new) in json.loads(row.detail or "{}").items():
                if key in shown:
                    shown[key] = (old, shown[key][1])
            row.status, row.status_reason, row.done_at = SKIPPED, "superseded by a newer change", now
    if was_upcoming or meeting.starts_at > now:
        _notice(meeting, CHANGE, now, {k: [_plain(o), _plain(v)] for k, (o, v) in shown.items()})
    session.flush()
    return Changed(meeting, changes, warnings)


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _rearm(meeting: Meeting, now: datetime) -> None:
    """Move the timed reminders with the meeting; one already sent is sent again if due later."""
    for row in meeting.reminders:
        if row.kind not in TIMED_KINDS or row.local_time is None:
            continue
        if row.kind == MINUTES and meeting.minutes_recorded_at is not None:
            continue
        due = due_time(meeting, row.kind, row.day_offset, row.local_time)
        if due is not None and due > now:
            row.due_at, row.version, row.status, row.status_reason, row.done_at = (
                due, meeting.version, PENDING, "", None)
        elif row.status == PENDING:
            # Its new time has passed: the change notice says it instead.
            row.due_at = due or row.due_at
            row.status, row.status_reason, row.done_at = SKIPPED, "covered by the change notice", now


def cancel_meeting(session: Session, meeting: Meeting, now: datetime, reason: str = "") -> bool:
    """Cancel: members get a cancellation notice and no reminder fires. False if already so."""
    if meeting.cancelled:
        return False
    if meeting.starts_at <= now:
        raise MeetingError("始まった会議は中止にできません")
    meeting.status = CANCELLED
    meeting.cancel_reason = reason.strip()[:300]
    meeting.version += 1
    meeting.updated_at = now
    for row in meeting.reminders:
        if row.status == PENDING:
            row.status, row.status_reason, row.done_at = SKIPPED, "meeting cancelled", now
    _notice(meeting, CANCEL, now, {"reason": meeting.cancel_reason})
    session.flush()
    return True


def mark_minutes(session: Session, meeting: Meeting, now: datetime, note: str = "") -> None:
    """会議録・活動報告を記録した: the after-meeting reminders stop."""
    meeting.minutes_recorded_at = now
    if note:
        meeting.minutes_note = note.strip()
    meeting.updated_at = now
    for row in meeting.reminders:
        if row.kind == MINUTES and row.status == PENDING:
            row.status, row.status_reason, row.done_at = SKIPPED, "minutes recorded", now
    session.flush()


# -- agenda ----------------------------------------------------------------------------------
def add_agenda_item(session: Session, meeting: Meeting, title: str, now: datetime, *,
                    detail: str = "", source: str = MANUAL,
                    source_ref: str | None = None) -> AgendaItem | None:
    """Append an agenda item; None when an item with this source and ref is already there."""
    if source_ref is not None and session.scalar(select(AgendaItem.id).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.source == source,
            AgendaItem.source_ref == source_ref)) is not None:
        return None
    item = AgendaItem(position=len(meeting.agenda), title=title.strip()[:300], detail=detail,
                      source=source, source_ref=source_ref, created_at=now)
    meeting.agenda.append(item)
    session.flush()
    return item


def next_meeting_for(session: Session, layer: str, area_id: int, now: datetime) -> Meeting | None:
    """The next scheduled meeting of a layer's council for an area (where proposals go)."""
    return session.scalar(select(Meeting).where(
        Meeting.layer == layer, Meeting.area_id == area_id, Meeting.status == SCHEDULED,
        Meeting.starts_at > now).order_by(Meeting.starts_at, Meeting.id).limit(1))


def add_proposal_item(session: Session, *, layer: str, area_id: int, proposal_id: int | str,
                      title: str, now: datetime, detail: str = "") -> AgendaItem | None:
    """Hook for 資源開発 proposals raised to a layer: onto the next meeting's agenda, once.

    Returns None when there is no upcoming meeting (the caller keeps the proposal pending and
    calls again when one is created) or when it is already on that agenda.
    """
    meeting = next_meeting_for(session, layer, area_id, now)
    if meeting is None:
        return None
    return add_agenda_item(session, meeting, title, now, detail=detail, source=PROPOSAL,
                           source_ref=str(proposal_id))


# -- answers ---------------------------------------------------------------------------------
def allowed_choices(meeting: Meeting) -> tuple[str, ...]:
    return (OPINION, NO_OPINION) if meeting.mode == WRITTEN else (ATTEND, ABSENT, UNDECIDED)


def is_member(session: Session, meeting_id: int, person_id: int) -> bool:
    return session.get(MeetingMember, (meeting_id, person_id)) is not None


def record_answer(session: Session, meeting_id: int, person_id: int, choice: str, now: datetime,
                  note: str | None = None) -> MeetingAnswer:
    """Store (or change) a member's answer. Refuses non-members, cancelled and started meetings."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or not is_member(session, meeting_id, person_id):
        # The same answer for "no such meeting" and "not yours": ids are not to be probed.
        raise NotAMember("この会議の委員ではないため、回答できません")
    if meeting.cancelled:
        raise MeetingCancelled("この会議は中止になりました")
    if now >= meeting.answers_close_at:
        raise AnswersClosed("回答の受付は終わりました")
    if choice not in allowed_choices(meeting):
        raise MeetingError(f"この会議では選べない回答です: {choice}")
    answer = session.get(MeetingAnswer, (meeting_id, person_id))
    if answer is None:
        answer = MeetingAnswer(meeting_id=meeting_id, person_id=person_id, choice=choice, note="",
                               answered_at=now, changes=0)
        session.add(answer)
    else:
        answer.changes += 1
    answer.choice = choice
    answer.answered_at = now
    if note is not None:
        answer.note = note.strip()[:2000]
    if choice == OPINION and note is None:
        answer.awaiting_note_until = now + OPINION_WINDOW
    else:
        answer.awaiting_note_until = None
    session.flush()
    return answer


def take_opinion_text(session: Session, person_id: int, text: str,
                      now: datetime) -> MeetingAnswer | None:
    """After 意見を送る, the member's next text is the opinion; None when none is awaited."""
    answer = session.scalar(select(MeetingAnswer).join(Meeting).where(
        MeetingAnswer.person_id == person_id, MeetingAnswer.awaiting_note_until > now,
        Meeting.status == SCHEDULED).order_by(MeetingAnswer.awaiting_note_until.desc()).limit(1))
    if answer is None:
        return None
    meeting = session.get(Meeting, answer.meeting_id)
    if now >= meeting.answers_close_at:
        answer.awaiting_note_until = None
        return None
    answer.note = text.strip()[:2000]
    answer.awaiting_note_until = None
    answer.answered_at = now
    session.flush()
    return answer


def answer_of(session: Session, meeting_id: int, person_id: int) -> MeetingAnswer | None:
    return session.get(MeetingAnswer, (meeting_id, person_id))


@dataclass(frozen=True)
class MemberLine:
    person_id: int
    name: str
    note: str = ""


@dataclass
class Tally:
    meeting: Meeting
    by_choice: dict[str, list[MemberLine]]
    unanswered: list[MemberLine]
    unreachable: list[MemberLine]  # not answered, and LINE cannot reach them (blocked, no LINE)

    def count(self, choice: str) -> int:
        return len(self.by_choice.get(choice, []))

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.by_choice.values()) + len(self.unanswered) + len(self.unreachable)


def display_name(person: Person) -> str:
    return person.display_name or f"委員{person.id}"


def tally(session: Session, meeting: Meeting) -> Tally:
    members = list(session.scalars(select(Person).join(
        MeetingMember, MeetingMember.person_id == Person.id).where(
        MeetingMember.meeting_id == meeting.id).order_by(Person.id)))
    answers = {a.person_id: a for a in session.scalars(
        select(MeetingAnswer).where(MeetingAnswer.meeting_id == meeting.id))}
    result = Tally(meeting, {c: [] for c in allowed_choices(meeting)}, [], [])
    for person in members:
        line = MemberLine(person.id, display_name(person), answers[person.id].note if person.id in answers else "")
        answer = answers.get(person.id)
        if answer is not None:
            result.by_choice.setdefault(answer.choice, []).append(line)
        elif person.reachable:
            result.unanswered.append(line)
        else:
            result.unreachable.append(line)
    return result


def member_recipients(session: Session, meeting_ids: Sequence[int]) -> dict[int, tuple[list[str], int]]:
    """Per meeting: the LINE ids of members LINE can reach, and how many it cannot."""
    out: dict[int, tuple[list[str], int]] = {mid: ([], 0) for mid in meeting_ids}
    if not meeting_ids:
        return out
    rows = session.execute(
        select(MeetingMember.meeting_id, Person.line_user_id, Person.active, Person.unfollowed_at)
        .join(Person, Person.id == MeetingMember.person_id)
        .where(MeetingMember.meeting_id.in_(list(meeting_ids)))
        .order_by(MeetingMember.meeting_id, Person.id))
    for meeting_id, line_id, active, unfollowed_at in rows:
        ids, missing = out[meeting_id]
        if line_id and active and unfollowed_at is None:
            ids.append(line_id)
        else:
            out[meeting_id] = (ids, missing + 1)
    return out


# -- finding ---------------------------------------------------------------------------------
def upcoming_for_person(session: Session, person_id: int, now: datetime,
                        limit: int = 10) -> list[tuple[Meeting, bool, bool]]:
    """(meeting, is_member, is_organiser) for scheduled meetings not yet over, soonest first."""
    member_of = select(MeetingMember.meeting_id).where(MeetingMember.person_id == person_id)
    meetings = session.scalars(select(Meeting).where(
        Meeting.status == SCHEDULED, Meeting.ends_at > now,
        or_(Meeting.organiser_id == person_id, Meeting.id.in_(member_of)))
        .order_by(Meeting.starts_at, Meeting.id).limit(limit)).all()
    ids = set(session.scalars(member_of.where(MeetingMember.meeting_id.in_([m.id for m in meetings]))))
    return [(m, m.id in ids, m.organiser_id == person_id) for m in meetings]


def list_meetings(session: Session, now: datetime, *, area_id: int | None = None,
                  include_past: bool = False, limit: int = 100) -> list[Meeting]:
    stmt = select(Meeting).order_by(Meeting.starts_at, Meeting.id).limit(limit)
    if area_id is not None:
        stmt = stmt.where(Meeting.area_id == area_id)
    if not include_past:
        stmt = stmt.where(Meeting.ends_at > now)
    return list(session.scalars(stmt))


# -- the scheduler's side: claiming due rows ---------------------------------------------------
def claim_due_reminders(session: Session, now: datetime, limit: int = 500) -> list[MeetingReminder]:
    """Pending rows due by now, locked for this transaction (PostgreSQL: SKIP LOCKED).

    Another scheduler running at the same moment skips the rows locked here; once this
    transaction commits they are no longer pending. SQLite serialises writers (BEGIN
    IMMEDIATE), which gives the same guarantee.
    """
    stmt = (select(MeetingReminder).where(MeetingReminder.status == PENDING,
                                          MeetingReminder.due_at <= now)
            .order_by(MeetingReminder.due_at, MeetingReminder.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=MeetingReminder)
    rows = list(session.scalars(stmt))
    if rows:
        # Load the meetings (and re-read them: a change may have committed since).
        ids = list({r.meeting_id for r in rows})
        list(session.scalars(select(Meeting).where(Meeting.id.in_(ids))
                             .options(selectinload(Meeting.agenda))
                             .execution_options(populate_existing=True)))
    return rows


def finish(row: MeetingReminder, status: str, now: datetime, reason: str = "") -> None:
    row.status, row.status_reason, row.done_at = status, reason[:100], now


# -- recurring series ------------------------------------------------------------------------
@dataclass
class SeriesResult:
    series: MeetingSeries
    created: list[Meeting]
    warnings: list[HolidayWarning]


def create_series(session: Session, *, rule: str, starts_on: date, now: datetime, layer: str,
                  area_id: int, title: str, duration_minutes: int = 120, place: str = "",
                  mode: str = "in_person", url: str = "", organiser_id: int | None = None,
                  member_ids: Iterable[int] = (), count: int | None = None,
                  until: date | None = None,
                  horizon_days: int = SERIES_HORIZON_DAYS) -> SeriesResult:
    """A recurring meeting; occurrences are generated as Meeting rows up to the horizon."""
    parsed = parse_rule(rule)
    if count is not None and not 1 <= count <= MAX_SERIES_COUNT:
        raise MeetingError(f"回数は1〜{MAX_SERIES_COUNT}回で指定してください")
    if mode == WRITTEN:
        raise MeetingError("書面開催は繰り返しにできません（回ごとに回答期限を決めてください）")
    members = _member_ids(session, member_ids)
    series = MeetingSeries(
        layer=layer, area_id=area_id, title=title.strip()[:200], place=place, mode=mode, url=url,
        rule=parsed.describe(), duration_minutes=duration_minutes, starts_on=starts_on,
        count=count, until=until, organiser_id=organiser_id,
        member_ids=",".join(str(m) for m in members), active=True, created_at=now, updated_at=now)
    session.add(series)
    session.flush()
    created, warnings = extend_series(session, series, now, horizon_days)
    return SeriesResult(series, created, warnings)


def _series_dates(series: MeetingSeries, rule: Rule, now: datetime, horizon_days: int) -> list[date]:
    horizon = local(now).date() + timedelta(days=horizon_days)
    if series.count is not None:
        return list(occurrences(rule, series.starts_on, until=series.until, count=series.count))
    until = min(horizon, series.until) if series.until else horizon
    return list(occurrences(rule, series.starts_on, until=until))


def extend_series(session: Session, series: MeetingSeries, now: datetime,
                  horizon_days: int = SERIES_HORIZON_DAYS) -> tuple[list[Meeting], list[HolidayWarning]]:
    """Create the series' meetings not yet made, up to the horizon; idempotent."""
    if not series.active:
        return [], []
    rule = parse_rule(series.rule)
    existing = set(session.scalars(select(Meeting.occurrence_date).where(Meeting.series_id == series.id)))
    exceptions = {e.on_date: e for e in series.exceptions}
    created: list[Meeting] = []
    warnings: list[HolidayWarning] = []
    last: date | None = None
    for day in _series_dates(series, rule, now, horizon_days):
        last = day
        if day in existing:
            continue
        exception = exceptions.get(day)
        if exception is not None and exception.action == "skip":
            continue
        start = tokyo(day, rule.at)
        end = start + timedelta(minutes=series.duration_minutes)
        if exception is not None and exception.moved_start is not None:
            start = exception.moved_start
            end = exception.moved_end or start + timedelta(minutes=series.duration_minutes)
        if end <= now:
            continue
        result = create_meeting(
            session, layer=series.layer, area_id=series.area_id, title=series.title, starts_at=start,
            ends_at=end, now=now, place=series.place, mode=series.mode, url=series.url,
            organiser_id=series.organiser_id, member_ids=series.members, series=series,
            occurrence_date=day)
        created.append(result.meeting)
        warnings.extend(result.warnings)
    if last is not None and (series.generated_until is None or last > series.generated_until):
        series.generated_until = last
    series.updated_at = now
    session.flush()
    return created, warnings


def extend_all_series(session: Session, now: datetime,
                      horizon_days: int = SERIES_HORIZON_DAYS) -> list[Meeting]:
    created: list[Meeting] = []
    for series in session.scalars(select(MeetingSeries).where(MeetingSeries.active.is_(True))
                                  .order_by(MeetingSeries.id)):
        created.extend(extend_series(session, series, now, horizon_days)[0])
    return created


def _occurrence(session: Session, series: MeetingSeries, on_date: date) -> Meeting | None:
    return session.scalar(select(Meeting).where(Meeting.series_id == series.id,
                                                Meeting.occurrence_date == on_date))


def _exception(session: Session, series: MeetingSeries, on_date: date) -> SeriesException:
    rule = parse_rule(series.rule)
    if on_date < series.starts_on or on_date not in set(occurrences(rule, series.starts_on, until=on_date)):
        raise MeetingError(f"{on_date} はこの繰り返しの開催日ではありません（{series.rule}）")
    row = session.scalar(select(SeriesException).where(SeriesException.series_id == series.id,
                                                       SeriesException.on_date == on_date))
    if row is None:
        row = SeriesException(series_id=series.id, on_date=on_date, action="skip", note="")
        series.exceptions.append(row)
    return row


def skip_occurrence(session: Session, series: MeetingSeries, on_date: date, now: datetime,
                    note: str = "") -> Meeting | None:
    """Skip one date of a series; an occurrence already made is cancelled (with its notice)."""
    row = _exception(session, series, on_date)
    row.action, row.moved_start, row.moved_end, row.note = "skip", None, None, note
    meeting = _occurrence(session, series, on_date)
    if meeting is not None and not meeting.cancelled:
        cancel_meeting(session, meeting, now, note)
    session.flush()
    return meeting


def move_occurrence(session: Session, series: MeetingSeries, on_date: date, starts_at: datetime,
                    now: datetime, ends_at: datetime | None = None, note: str = "") -> Meeting | None:
    """Move one date of a series; an occurrence already made is changed (with its notice)."""
    starts_at = _aware(starts_at, "開始")
    ends_at = _aware(ends_at, "終了") or starts_at + timedelta(minutes=series.duration_minutes)
    row = _exception(session, series, on_date)
    row.action, row.moved_start, row.moved_end, row.note = "move", starts_at, ends_at, note
    meeting = _occurrence(session, series, on_date)
    if meeting is not None:
        change_meeting(session, meeting, now, starts_at=starts_at, ends_at=ends_at)
    session.flush()
    return meeting


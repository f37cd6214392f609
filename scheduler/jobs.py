"""Meeting jobs: plain functions of (session, now, deps). Tests call them directly.

send_due_reminders is the one that talks: every minute it claims the meeting reminder rows
that are due (reminders, tallies, minutes reminders, change/cancel notices, holiday warnings),
decides for each whether it is still useful, and tells the notifier (deps.notifier), which
queues the LINE messages; the outbox dispatcher sends them, in multicast batches of at most 500.

Exactly once, twice over:
1. the row: claimed with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite serialises
   writers), and marked sent/dropped/skipped in the same transaction that writes the outbox
   rows. A second scheduler skips locked rows and then sees them done; a scheduler killed
   mid-run rolls back both, and the next tick does the work once.
2. the outbox: each row's messages carry dedupe_key meeting:{id}:{kind}:{row}:v{version}, so
   even a row put back to pending by mistake cannot enqueue the same message again.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from domain import meetings as mtg
from domain.meetings import (
    CANCEL, CHANGE, DROPPED, HOLIDAY, MINUTES, REMIND, SENT, SKIPPED, TALLY, WRITTEN, Meeting,
    MeetingReminder,
)
from domain.models import Person
from scheduler.deps import NO_DIGEST, DigestPolicy, JobDeps

__all__ = ["NO_DIGEST", "DigestPolicy", "Report", "send_due_reminders", "extend_series"]

# A reminder sent this long after its time counts as late in the report.
LATE_AFTER = timedelta(minutes=5)


@dataclass
class Report:
    claimed: int = 0
    sent: int = 0
    late: int = 0
    dropped: int = 0
    skipped: int = 0
    outbox_rows: int = 0
    recipients: int = 0
    unreachable: int = 0
    digests: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, other: "Report") -> None:
        for name in ("claimed", "sent", "late", "dropped", "skipped", "outbox_rows", "recipients",
                     "unreachable", "digests"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, n in other.by_kind.items():
            self.by_kind[kind] += n


def dedupe_key(row: MeetingReminder) -> str:
    return f"meeting:{row.meeting_id}:{row.kind}:{row.id}:v{row.version}"


def _judge(row: MeetingReminder, meeting: Meeting, now: datetime) -> tuple[str, str] | None:
    """(status, reason) when the row is not to be sent; None to send it."""
    if meeting.cancelled and row.kind != CANCEL:
        return SKIPPED, "meeting cancelled"
    if row.kind in (REMIND, TALLY):
        if now >= meeting.answers_close_at:
            return DROPPED, "too late: the meeting has started"
    elif row.kind == MINUTES:
        if meeting.minutes_recorded_at is not None:
            return SKIPPED, "minutes recorded"
    elif row.kind in (CHANGE, CANCEL, HOLIDAY):
        if now >= meeting.starts_at:
            return DROPPED, "too late: the meeting time has passed"
        if row.kind != CANCEL and row.version != meeting.version:
            return SKIPPED, "superseded by a newer change"
    return None


def _supersede(rows: list[MeetingReminder]) -> set[int]:
    """Rows due together for one meeting and kind (the scheduler was down): keep the latest."""
    latest: dict[tuple[int, str], MeetingReminder] = {}
    for row in rows:
        if row.kind not in (REMIND, MINUTES):
            continue
        key = (row.meeting_id, row.kind)
        if key not in latest or (row.due_at, row.id) > (latest[key].due_at, latest[key].id):
            latest[key] = row
    keep = {r.id for r in latest.values()}
    return {r.id for r in rows if r.kind in (REMIND, MINUTES) and r.id not in keep}


def send_due_reminders(session: Session, now: datetime, deps: JobDeps, *, limit: int = 500) -> Report:
    """Turn the meeting reminders due by `now` into outbox messages; see the module docstring."""
    report = Report()
    rows = mtg.claim_due_reminders(session, now, limit)
    report.claimed = len(rows)
    if not rows:
        return report
    meetings = {r.meeting_id: session.get(Meeting, r.meeting_id) for r in rows}
    superseded = _supersede(rows)
    to_send: list[MeetingReminder] = []
    for row in rows:
        verdict = _judge(row, meetings[row.meeting_id], now)
        if verdict is None and row.id in superseded:
            verdict = DROPPED, "superseded by a later reminder due at once"
        if verdict is None:
            to_send.append(row)
            continue
        mtg.finish(row, verdict[0], now, verdict[1])
        row.dedupe_key = None
        report.dropped += verdict[0] == DROPPED
        report.skipped += verdict[0] == SKIPPED

    member_ids = [r.meeting_id for r in to_send if r.kind in (REMIND, CHANGE, CANCEL)]
    recipients = mtg.member_recipients(session, list(dict.fromkeys(member_ids)))
    organisers = _organisers(session, [meetings[r.meeting_id] for r in to_send])

    remind_rows = [r for r in to_send if r.kind == REMIND]
    digested = _digest_groups(remind_rows, meetings, recipients, deps.digest)
    in_digest = {r.id for group in digested.values() for r in group}
    for day, group in digested.items():
        _send_digest(session, deps, day, group, recipients, now, report)

    for row in to_send:
        if row.id in in_digest:
            continue
        meeting = meetings[row.meeting_id]
        organiser = organisers.get(meeting.organiser_id)
        notifier, key = deps.notifier, dedupe_key(row)
        if row.kind in (REMIND, CHANGE, CANCEL):
            ids, missing = recipients[meeting.id]
            if row.kind != REMIND and organiser is not None and organiser.reachable:
                ids = list(dict.fromkeys([*ids, organiser.line_user_id]))
            if row.kind == REMIND:
                queued = notifier.meeting_reminder(session, meeting, ids, now, custom_text=row.text, key=key)
            elif row.kind == CHANGE:
                queued = notifier.meeting_changed(session, meeting, ids, now, detail=row.detail, key=key)
            else:
                queued = notifier.meeting_cancelled(session, meeting, ids, now, key=key)
            report.outbox_rows += queued
            _mark_sent(row, now, "multicast", len(ids), missing, key, report)
        else:
            if organiser is None or not organiser.reachable:
                _mark_sent(row, now, "push", 0, 1, key, report)
                continue
            if row.kind == TALLY:
                queued = notifier.meeting_tally(session, meeting, mtg.tally(session, meeting), organiser, now, key=key)
            elif row.kind == MINUTES:
                queued = notifier.minutes_due(session, meeting, row.day_offset, organiser, now, key=key)
            else:
                queued = notifier.meeting_on_holiday(session, meeting, meeting.holiday_name or "祝日", organiser,
                                                     now, key=key)
            report.outbox_rows += queued
            _mark_sent(row, now, "push", 1, 0, key, report)
    for row in to_send:
        if row.status == SENT:
            report.by_kind[row.kind] += 1
            if now - row.due_at > LATE_AFTER:
                report.late += 1
    session.flush()
    return report


def _organisers(session: Session, meetings: list[Meeting]) -> dict[int, Person]:
    ids = {m.organiser_id for m in meetings if m.organiser_id is not None}
    return {pid: session.get(Person, pid) for pid in ids}


def _mark_sent(row: MeetingReminder, now: datetime, delivery: str, recipients: int,
               unreachable: int, key: str | None, report: Report) -> None:
    mtg.finish(row, SENT, now, "" if recipients else "nobody reachable")
    row.delivery, row.recipients, row.unreachable, row.dedupe_key = delivery, recipients, unreachable, key
    report.sent += 1
    report.recipients += recipients
    report.unreachable += unreachable


def _digest_groups(rows: list[MeetingReminder], meetings: dict[int, Meeting],
                   recipients: dict[int, tuple[list[str], int]],
                   policy: DigestPolicy) -> dict[date, list[MeetingReminder]]:
    if not policy.enabled:
        return {}
    groups: dict[date, list[MeetingReminder]] = defaultdict(list)
    for row in rows:
        meeting = meetings[row.meeting_id]
        ids, missing = recipients[meeting.id]
        if row.text or meeting.mode == WRITTEN or len(ids) + missing >= policy.max_members:
            continue
        groups[mtg.local(meeting.starts_at).date()].append(row)
    return {day: group for day, group in groups.items()
            if len({r.meeting_id for r in group}) >= policy.min_meetings}


def _send_digest(session: Session, deps: JobDeps, day: date, group: list[MeetingReminder],
                 recipients: dict[int, tuple[list[str], int]], now: datetime, report: Report) -> None:
    ids: list[str] = []
    for row in group:
        ids.extend(recipients[row.meeting_id][0])
    ids = list(dict.fromkeys(ids))
    # The same rows always make the same key; two schedulers that claimed different rows make
    # different digests, each sending its own rows once.
    names = ",".join(f"{r.id}v{r.version}" for r in sorted(group, key=lambda r: r.id))
    key = f"meeting-digest:{day.isoformat()}:{hashlib.sha1(names.encode()).hexdigest()[:20]}"
    report.outbox_rows += deps.notifier.meetings_digest(session, day, ids, now, key=key)
    report.digests += 1
    for row in group:
        reached, missing = recipients[row.meeting_id]
        _mark_sent(row, now, "digest", len(reached), missing, key, report)


def extend_series(session: Session, now: datetime, deps: JobDeps) -> int:
    """Daily: generate the recurring meetings' occurrences up to the horizon; return how many."""
    return len(mtg.extend_all_series(session, now, deps.horizon_days))

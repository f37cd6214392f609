"""Members joining and leaving a council meeting (or every coming meeting of its series).

Reminders are addressed when they are sent (core.member_recipients), so a member added today
gets every reminder still to come, and one removed gets none.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.meetings.core import MeetingError
from domain.meetings.models import SCHEDULED, Meeting, MeetingMember, MeetingSeries
from domain.models import Person


def _coming(session: Session, meeting: Meeting, now: datetime, whole_series: bool) -> list[Meeting]:
    if not whole_series or meeting.series_id is None:
        return [meeting]
    return list(session.scalars(select(Meeting).where(
        Meeting.series_id == meeting.series_id, Meeting.status == SCHEDULED,
        Meeting.starts_at >= min(meeting.starts_at, now)).order_by(Meeting.starts_at)))


def add_member(session: Session, meeting: Meeting, person_id: int, now: datetime, *,
               whole_series: bool = False) -> bool:
    """Add a member; with whole_series, to this and every coming meeting of the series. False if already one."""
    if session.get(Person, person_id) is None:
        raise MeetingError("委員が見つかりません")
    if meeting.cancelled:
        raise MeetingError("中止になった会議です")
    added = False
    for target in _coming(session, meeting, now, whole_series):
        if session.get(MeetingMember, (target.id, person_id)) is None:
            session.add(MeetingMember(meeting_id=target.id, person_id=person_id))
            target.updated_at = now
            added = added or target.id == meeting.id
    if whole_series and meeting.series_id is not None:
        series = session.get(MeetingSeries, meeting.series_id)
        if person_id not in series.members:
            series.member_ids = ",".join(str(m) for m in [*series.members, person_id])
            series.updated_at = now
    session.flush()
    session.expire(meeting, ["member_rows"])
    return added


def remove_member(session: Session, meeting: Meeting, person_id: int, now: datetime, *,
                  whole_series: bool = False) -> bool:
    """Remove a member (their past answers stay as the record of that meeting)."""
    removed = False
    for target in _coming(session, meeting, now, whole_series):
        row = session.get(MeetingMember, (target.id, person_id))
        if row is not None:
            session.delete(row)
            target.updated_at = now
            removed = removed or target.id == meeting.id
    if whole_series and meeting.series_id is not None:
        series = session.get(MeetingSeries, meeting.series_id)
        series.member_ids = ",".join(str(m) for m in series.members if m != person_id)
        series.updated_at = now
    session.flush()
    session.expire(meeting, ["member_rows"])
    return removed

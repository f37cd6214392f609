"""The tables of council (協議体) meetings: series, meetings, members, agenda, answers, reminders.

Times are aware UTC (base.UTCDateTime) and are shown in Asia/Tokyo; `occurrence_date`,
`starts_on` and exception dates are local (Asia/Tokyo) calendar dates.

`meeting_reminders` holds every message the scheduler sends about a meeting: reminders before
it (members, and the organiser's tally), reminders after it (minutes), and the notices that go
out at once (change, cancellation, holiday warning). Each row is sent at most once per
`version`: the scheduler claims rows by status, and the outbox dedupe key names the row and the
version, so a second scheduler doubles nothing.
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger, CheckConstraint, Column, Date, Float, ForeignKey, Index, Integer, LargeBinary,
    String, Table, Text, Time, Unicode, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.base import Base

Id = BigInteger().with_variant(Integer(), "sqlite")

CITY, DISTRICT, NEIGHBOURHOOD = "city", "district", "neighbourhood"
LAYERS = (CITY, DISTRICT, NEIGHBOURHOOD)

IN_PERSON, ONLINE, HYBRID, WRITTEN = "in_person", "online", "hybrid", "written"
MODES = (IN_PERSON, ONLINE, HYBRID, WRITTEN)

SCHEDULED, CANCELLED = "scheduled", "cancelled"
MEETING_STATUSES = (SCHEDULED, CANCELLED)

# Answers. 書面開催 (written) meetings take an opinion (意見) or "no opinion" instead.
ATTEND, ABSENT, UNDECIDED, OPINION, NO_OPINION = "attend", "absent", "undecided", "opinion", "none"
CHOICES = (ATTEND, ABSENT, UNDECIDED, OPINION, NO_OPINION)

# What a reminder row sends (and to whom).
REMIND = "remind"        # members, before the meeting (day_offset < 0)
TALLY = "tally"          # organiser, before the meeting: who answered what
MINUTES = "minutes"      # organiser, after the meeting (day_offset > 0): record 会議録 and report
CHANGE = "change"        # members + organiser, at once: time/place changed
CANCEL = "cancel"        # members + organiser, at once: cancelled
HOLIDAY = "holiday"      # organiser, at once: the meeting falls on a public holiday
KINDS = (REMIND, TALLY, MINUTES, CHANGE, CANCEL, HOLIDAY)
TIMED_KINDS = (REMIND, TALLY, MINUTES)  # the ones that follow the meeting's time when it moves

PENDING, SENT, DROPPED, SKIPPED = "pending", "sent", "dropped", "skipped"
# pending: to send at due_at; sent: in the outbox; dropped: its time passed while the scheduler
# was down and it was no longer useful; skipped: never due (cancelled, minutes recorded, planned
# after its time, superseded by a change notice).
REMINDER_STATUSES = (PENDING, SENT, DROPPED, SKIPPED)

MANUAL, PROPOSAL = "manual", "proposal"  # agenda item sources (資源開発 proposals: PROPOSAL)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class MeetingSeries(Base):
    """A recurring meeting: 毎月第3水曜 14:00, 隔月第2火曜 10:00, 毎週木曜 10:00."""

    __tablename__ = "meeting_series"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    layer: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int] = mapped_column(Id, ForeignKey("areas.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(200), default="")
    mode: Mapped[str] = mapped_column(String(16), default=IN_PERSON)
    url: Mapped[str] = mapped_column(String(500), default="")
    rule: Mapped[str] = mapped_column(String(100))  # as written, parsed by recurrence.parse_rule
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    starts_on: Mapped[date] = mapped_column(Date)
    count: Mapped[int | None] = mapped_column(Integer)
    until: Mapped[date | None] = mapped_column(Date)
    generated_until: Mapped[date | None] = mapped_column(Date)
    organiser_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("people.id", ondelete="SET NULL"), index=True)
    # Member person ids, comma separated: copied to each generated meeting.
    member_ids: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    exceptions: Mapped[list[SeriesException]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="SeriesException.on_date")

    __table_args__ = (
        CheckConstraint(_in("layer", LAYERS), name="layer"),
        CheckConstraint(_in("mode", MODES), name="mode"),
    )

    @property
    def members(self) -> list[int]:
        return [int(x) for x in self.member_ids.split(",") if x]


class SeriesException(Base):
    """An occurrence of a series that is skipped, or moved to another time."""

    __tablename__ = "meeting_series_exceptions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(Id, ForeignKey("meeting_series.id", ondelete="CASCADE"))
    on_date: Mapped[date] = mapped_column(Date)  # the date the rule gives (local)
    action: Mapped[str] = mapped_column(String(8))
    moved_start: Mapped[datetime | None]
    moved_end: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        CheckConstraint(_in("action", ("skip", "move")), name="action"),
        UniqueConstraint("series_id", "on_date"),
    )


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    series_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("meeting_series.id", ondelete="SET NULL"))
    occurrence_date: Mapped[date | None] = mapped_column(Date)  # the rule's date, for series
    layer: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int] = mapped_column(Id, ForeignKey("areas.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200), default="")
    mode: Mapped[str] = mapped_column(String(16), default=IN_PERSON)
    url: Mapped[str] = mapped_column(String(500), default="")
    reply_deadline: Mapped[datetime | None]  # 書面開催: answers (opinions) until then
    organiser_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("people.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    # Bumped when time, place, mode or URL change; reminders and notices carry it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    holiday_name: Mapped[str | None] = mapped_column(String(100))
    minutes_recorded_at: Mapped[datetime | None]
    minutes_note: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    member_rows: Mapped[list[MeetingMember]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="MeetingMember.person_id")
    agenda: Mapped[list[AgendaItem]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True,
        order_by="(AgendaItem.position, AgendaItem.id)")
    reminders: Mapped[list[MeetingReminder]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="MeetingReminder.id",
        back_populates="meeting")

    __table_args__ = (
        CheckConstraint(_in("layer", LAYERS), name="layer"),
        CheckConstraint(_in("mode", MODES), name="mode"),
        CheckConstraint(_in("status", MEETING_STATUSES), name="status"),
        UniqueConstraint("series_id", "occurrence_date"),
        Index("ix_meetings_starts_at", "starts_at"),
    )

    @property
    def member_ids(self) -> list[int]:
        return [row.person_id for row in self.member_rows]

    @property
    def answers_close_at(self) -> datetime:
        """Answers may be given or changed until the meeting starts (書面: the reply deadline)."""
        if self.mode == WRITTEN and self.reply_deadline is not None:
            return self.reply_deadline
        return self.starts_at

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.title} {self.starts_at:%Y-%m-%d %H:%M}Z>"


class MeetingMember(Base):
    __tablename__ = "meeting_members"

    meeting_id: Mapped[int] = mapped_column(Id, ForeignKey("meetings.id", ondelete="CASCADE"),
                                            primary_key=True)
    person_id: Mapped[int] = mapped_column(Id, ForeignKey("people.id", ondelete="CASCADE"),
                                           primary_key=True)

    __table_args__ = (Index("ix_meeting_members_person", "person_id", "meeting_id"),)


class AgendaItem(Base):
    """One item of a meeting's agenda; `source` says where it came from.

    manual: typed by the organiser. proposal: a 資源開発 proposal raised to this layer
    (`source_ref` is the proposal's id; see meetings.add_proposal_item). The unique
    (meeting, source, source_ref) makes adding a proposal twice a no-op.
    """

    __tablename__ = "meeting_agenda_items"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(Id, ForeignKey("meetings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(32), default=MANUAL)
    source_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("meeting_id", "source", "source_ref"),)


class MeetingAnswer(Base):
    """One member's answer to one meeting (changed in place until the meeting starts)."""

    __tablename__ = "meeting_answers"

    meeting_id: Mapped[int] = mapped_column(Id, ForeignKey("meetings.id", ondelete="CASCADE"),
                                            primary_key=True)
    person_id: Mapped[int] = mapped_column(Id, ForeignKey("people.id", ondelete="CASCADE"),
                                           primary_key=True)
    choice: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    # 意見を送る: the next text the member sends until then is the opinion.
    awaiting_note_until: Mapped[datetime | None]
    answered_at: Mapped[datetime]
    changes: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint(_in("choice", CHOICES), name="choice"),)


class MeetingReminder(Base):
    """A message about a meeting, due at `due_at`; see the module docstring."""

    __tablename__ = "meeting_reminders"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(Id, ForeignKey("meetings.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Timed kinds: days from the meeting's local date (-7 = a week before, +3 = three days
    # after) at local_time (Asia/Tokyo). Notices: 0 and no time.
    day_offset: Mapped[int] = mapped_column(Integer, default=0)
    local_time: Mapped[time | None] = mapped_column(Time)
    text: Mapped[str] = mapped_column(Text, default="")  # a custom text (members' reminders)
    # Notices: what changed, as JSON ({"starts_at": [old, new], "place": [old, new]}).
    detail: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    status_reason: Mapped[str] = mapped_column(String(100), default="")
    delivery: Mapped[str] = mapped_column(String(16), default="")  # multicast | digest | push
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    unreachable: Mapped[int] = mapped_column(Integer, default=0)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]

    meeting: Mapped[Meeting] = relationship(back_populates="reminders")

    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("status", REMINDER_STATUSES), name="status"),
        Index("ix_meeting_reminders_status_due", "status", "due_at"),
    )

    def __repr__(self) -> str:
        return f"<MeetingReminder {self.id} m{self.meeting_id} {self.kind} {self.day_offset} {self.status}>"


# APScheduler 3's SQLAlchemyJobStore table, declared here so that it is part of our schema and
# created by our migrations (the store's own CREATE ... IF NOT EXISTS then does nothing).
# Same columns as apscheduler.jobstores.sqlalchemy.SQLAlchemyJobStore builds.
SCHEDULER_JOBS = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)

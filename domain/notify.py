"""What the domain has to tell people, said once, as a protocol.

The domain and the scheduler say *what happened* (a case opened, a reminder is due …); bot/
implements this over the outbox and decides how it looks on LINE. Every method takes the
caller's session (the message is written in the same transaction as the change that caused
it) and a `key`: the same key never sends twice. Each returns how many messages it queued.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, Sequence

from sqlalchemy.orm import Session

if TYPE_CHECKING:  # typing only: the models import nothing from here
    from domain.escalation import Escalation, Summary
    from domain.meetings import Meeting, Tally
    from domain.models import Match, Need, Person, Resource

# Why a coordinator is shown a case again.
CASE_NEW, CASE_AGAIN, CASE_TO_CITY = "new", "again", "city"


class Notifier(Protocol):
    # escalation
    def case_notice(self, session: Session, case: Escalation, to: Person, now: datetime, *,
                    stage: str, key: str) -> int: ...

    def case_overdue(self, session: Session, case: Escalation, to: Person, now: datetime, *,
                     key: str) -> int: ...

    def resident_escalated(self, session: Session, case: Escalation, resident: Person, now: datetime, *,
                           key: str) -> int: ...

    def daily_summary(self, session: Session, summary: Summary, day: date, now: datetime, *,
                      key: str) -> int: ...

    # council meetings (members by LINE id, in batches the notifier chooses)
    def meeting_reminder(self, session: Session, meeting: Meeting, user_ids: Sequence[str], now: datetime, *,
                         custom_text: str, key: str) -> int: ...

    def meeting_changed(self, session: Session, meeting: Meeting, user_ids: Sequence[str], now: datetime, *,
                        detail: str, key: str) -> int: ...

    def meeting_cancelled(self, session: Session, meeting: Meeting, user_ids: Sequence[str], now: datetime, *,
                          key: str) -> int: ...

    def meetings_digest(self, session: Session, day: date, user_ids: Sequence[str], now: datetime, *,
                        key: str) -> int: ...

    def meeting_tally(self, session: Session, meeting: Meeting, tally: Tally, organiser: Person,
                      now: datetime, *, key: str) -> int: ...

    def minutes_due(self, session: Session, meeting: Meeting, days: int, organiser: Person,
                    now: datetime, *, key: str) -> int: ...

    def meeting_on_holiday(self, session: Session, meeting: Meeting, holiday: str, organiser: Person,
                           now: datetime, *, key: str) -> int: ...

    # resources and volunteers (the console's side)
    def place_offered(self, session: Session, resource: Resource, to: Person, now: datetime, *,
                      key: str) -> int: ...

    def match_approved(self, session: Session, match: Match, need: Need, now: datetime, *, key: str) -> int: ...

    def match_declined(self, session: Session, match: Match, need: Need, now: datetime, *, key: str) -> int: ...

"""Coordinators as staff: console sessions, and removing someone from the role.

A console session is a row (only a hash of its token is stored): it ends when idle too long,
on logout, and at once for everyone when the person stops being a coordinator — the console
checks the row on every request, so a removed coordinator's open browser is logged out on
its next click.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain import escalation as esc
from domain.base import Base
from domain.models import COORDINATOR, CoordinatorArea, Id, Person
from domain import people
from domain.scope import forget

# last_seen_at is written at most this often (a page view is otherwise read-only).
TOUCH_EVERY = timedelta(minutes=1)


class ConsoleSession(Base):
    __tablename__ = "console_sessions"

    # sha256 of the token kept in the browser's signed session cookie.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(Id, ForeignKey("people.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_console_sessions_person", "person_id", "ended_at"),)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def may_use_console(person: Person | None) -> bool:
    return person is not None and person.active and person.has_role(COORDINATOR)


def start_session(session: Session, person: Person, now: datetime) -> str:
    """A new console session for a coordinator; returns the token for the cookie."""
    if not may_use_console(person):
        raise PermissionError("only coordinators use the console")
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSession(token_hash=_hash(token), person_id=person.id, created_at=now, last_seen_at=now))
    esc.audit(session, now, "console_login", actor=person)
    session.flush()
    return token


def resume_session(session: Session, token: str | None, now: datetime, idle: timedelta) -> Person | None:
    """The coordinator behind a token, or None (unknown, ended, idle too long, no longer a coordinator)."""
    if not token:
        return None
    row = session.get(ConsoleSession, _hash(token))
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at > idle:
        row.ended_at, row.ended_reason = now, "idle"
        return None
    person = session.get(Person, row.person_id)
    if not may_use_console(person):
        row.ended_at, row.ended_reason = now, "revoked"
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return person


def end_session(session: Session, token: str | None, now: datetime, reason: str = "logout") -> None:
    if token:
        row = session.get(ConsoleSession, _hash(token))
        if row is not None and row.ended_at is None:
            row.ended_at, row.ended_reason = now, reason


def end_sessions_of(session: Session, person: Person, now: datetime, reason: str) -> int:
    result = session.execute(update(ConsoleSession)
                             .where(ConsoleSession.person_id == person.id, ConsoleSession.ended_at.is_(None))
                             .values(ended_at=now, ended_reason=reason))
    return result.rowcount or 0


def remove_coordinator(session: Session, person: Person, now: datetime) -> int:
    """Take the coordinator role (and every area assignment) away; end their console sessions
    at once. Returns how many sessions were ended."""
    session.execute(delete(CoordinatorArea).where(CoordinatorArea.person_id == person.id))
    people.revoke_role(session, person, COORDINATOR)
    forget(session)
    ended = end_sessions_of(session, person, now, "revoked")
    esc.audit(session, now, "coordinator_removed", actor=None, detail=f"person {person.id}")
    return ended


def active_sessions(session: Session, person: Person) -> int:
    return len(list(session.scalars(select(ConsoleSession.token_hash).where(
        ConsoleSession.person_id == person.id, ConsoleSession.ended_at.is_(None)))))

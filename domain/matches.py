"""Asking volunteers and the first acceptance that wins.

    tentative ──▶ accepted ──▶ done
        │             └──────▶ withdrawn
        ├──▶ declined
        └──▶ expired   (someone else accepted first, or the need closed)

The database has the last word on "first": a partial unique index allows one accepted (or
done) match per need, so two volunteers pressing 引き受ける at once cannot both win, even in
two processes on PostgreSQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.categories import requires_approval
from domain.models import (
    ACCEPTED, ASKING, DECLINED, DONE, ESCALATED, EXPIRED, MATCHED, RECEIVED, RESOLVED, SUGGESTED, TENTATIVE,
    WITHDRAWN, Match, Need, Person,
)
from domain.needs import move

MATCH_TRANSITIONS: dict[str, frozenset[str]] = {
    TENTATIVE: frozenset({ACCEPTED, DECLINED, EXPIRED}),
    ACCEPTED: frozenset({DONE, WITHDRAWN, DECLINED}),  # declined: the coordinator did not approve
    DECLINED: frozenset(),
    EXPIRED: frozenset(),
    DONE: frozenset(),
    WITHDRAWN: frozenset(),
}


class IllegalMatchTransition(ValueError):
    pass


class NotApprovable(ValueError):
    pass


def _move_match(match: Match, to_status: str, now: datetime) -> None:
    if to_status not in MATCH_TRANSITIONS[match.status]:
        raise IllegalMatchTransition(f"match {match.id}: {match.status} → {to_status}")
    match.status = to_status
    match.updated_at = now


def ask_volunteers(session: Session, need: Need, volunteer_ids: Iterable[int], now: datetime,
                   offer_ids: dict[int, int] | None = None,
                   approved_by: Person | None = None) -> list[Match]:
    """Create tentative matches (skipping volunteers already asked) and mark them as asked.

    The need moves to `asking` when it is not there already. Returns the new matches; the bot
    sends each volunteer a request card (category, area, time — never name or address).
    A coordinator who picks a volunteer (`approved_by`) has approved them by asking: no second
    approval is asked for after they accept.
    """
    ids = [v for v in dict.fromkeys(volunteer_ids) if v != need.person_id]
    already = set(session.scalars(select(Match.volunteer_id).where(Match.need_id == need.id)))
    created = []
    for volunteer_id in ids:
        if volunteer_id in already:
            continue
        match = Match(need_id=need.id, volunteer_id=volunteer_id,
                      offer_id=(offer_ids or {}).get(volunteer_id), status=TENTATIVE,
                      requires_approval=requires_approval(need.category), asked_at=now,
                      updated_at=now)
        if approved_by is not None:
            match.approved_at, match.approved_by_id = now, approved_by.id
        session.add(match)
        created.append(match)
    if created:
        session.execute(update(Person).where(Person.id.in_([m.volunteer_id for m in created]))
                        .values(last_asked_at=now))
        if need.status in (RECEIVED, SUGGESTED, ESCALATED, MATCHED):
            move(need, ASKING, now, note=f"{len(created)}人に依頼")
    session.flush()
    return created


@dataclass(frozen=True)
class AcceptResult:
    won: bool
    match: Match
    reason: str = ""   # why not: taken, closed, not_tentative


def accept_match(session: Session, match_id: int, now: datetime) -> AcceptResult:
    """引き受ける. The first acceptance wins; later ones get won=False, reason "taken".

    Call inside the caller's transaction; the need moves to `matched` and the other tentative
    matches expire in that same transaction.
    """
    need_id = session.scalar(select(Match.need_id).where(Match.id == match_id))
    if need_id is None:
        raise LookupError(f"no match {match_id}")
    # Lock the need first: every acceptance for one need queues here, in one order (no deadlock).
    need = session.get(Need, need_id, with_for_update=_lock(session), populate_existing=True)
    match = session.get(Match, match_id, with_for_update=_lock(session), populate_existing=True)
    if match.status != TENTATIVE:
        return AcceptResult(match.status == ACCEPTED, match, "not_tentative")
    if need.status not in (ASKING, ESCALATED, SUGGESTED, RECEIVED):
        _move_match(match, EXPIRED, now)
        return AcceptResult(False, match, "closed" if need.status != MATCHED else "taken")
    try:
        with session.begin_nested():
            session.execute(update(Match).where(Match.id == match.id, Match.status == TENTATIVE)
                            .values(status=ACCEPTED, responded_at=now, updated_at=now))
    except IntegrityError:
        session.refresh(match)
        _move_match(match, EXPIRED, now)
        return AcceptResult(False, match, "taken")
    session.refresh(match)
    if need.status != ASKING and need.status != ESCALATED:
        move(need, ASKING, now)
    move(need, MATCHED, now, note=f"match {match.id}")
    session.execute(update(Match).where(Match.need_id == need.id, Match.status == TENTATIVE)
                    .values(status=EXPIRED, updated_at=now))
    session.flush()
    return AcceptResult(True, match)


def _lock(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def decline_match(session: Session, match: Match, now: datetime) -> None:
    """今回は見送る."""
    _move_match(match, DECLINED, now)
    match.responded_at = now
    session.flush()


def nobody_left(session: Session, need: Need) -> bool:
    """True when every volunteer asked for the need has declined or expired (→ escalate)."""
    statuses = set(session.scalars(select(Match.status).where(Match.need_id == need.id)))
    return not statuses & {TENTATIVE, ACCEPTED, DONE}


def approve_match(session: Session, match: Match, coordinator: Person, now: datetime) -> None:
    """The coordinator's approval for categories that enter the home; releases the contact."""
    if match.status != ACCEPTED:
        raise NotApprovable(f"match {match.id} is {match.status}, not accepted")
    match.approved_at = now
    match.approved_by_id = coordinator.id
    match.updated_at = now
    session.flush()


def reject_match(session: Session, match: Match, coordinator: Person, now: datetime) -> None:
    """見送る on an approval card: the coordinator does not approve this volunteer. The match is
    declined and the need goes back to asking (the caller asks the next volunteers)."""
    if match.status != ACCEPTED or match.approved_at is not None:
        raise NotApprovable(f"match {match.id} is {match.status}, approved={match.approved_at is not None}")
    _move_match(match, DECLINED, now)
    match.responded_at = now
    need = session.get(Need, match.need_id)
    if need.status == MATCHED:
        move(need, ASKING, now, by=coordinator, note=f"match {match.id} not approved")
    session.flush()


def complete_match(session: Session, match: Match, now: datetime, by: Person | None = None) -> None:
    """終わりました: the match is done and the need resolved."""
    _move_match(match, DONE, now)
    match.done_at = now
    need = session.get(Need, match.need_id)
    if need.status == MATCHED:
        move(need, RESOLVED, now, by=by, note=f"match {match.id} done")
    session.flush()


def expire_tentative(session: Session, need: Need, now: datetime) -> int:
    """Close the open requests of a need (deadline passed, or the need was closed)."""
    result = session.execute(update(Match).where(Match.need_id == need.id,
                                                 Match.status == TENTATIVE)
                             .values(status=EXPIRED, updated_at=now))
    return result.rowcount or 0


def waiting_for_approval(session: Session, area_condition, limit: int = 30) -> list[Match]:
    """Accepted matches of categories that enter the home, not yet approved (Scope.where on the need's area)."""
    return list(session.scalars(
        select(Match).join(Need, Need.id == Match.need_id)
        .where(Match.status == ACCEPTED, Match.requires_approval.is_(True), Match.approved_at.is_(None),
               area_condition)
        .order_by(Match.responded_at, Match.id).limit(limit)))


def decline(session: Session, match: Match, coordinator: Person, now: datetime) -> Need:
    """見送る: the coordinator does not approve this volunteer for this need.

    The match is declined (the contact is never released) and the need goes back to the
    coordinator's hands (escalated), as when an accepted volunteer withdraws.
    """
    if match.status != ACCEPTED or not match.requires_approval or match.approved_at is not None:
        raise NotApprovable(f"match {match.id} is not waiting for approval")
    _move_match(match, DECLINED, now)
    match.approved_by_id = coordinator.id
    need = session.get(Need, match.need_id)
    if need.status == MATCHED:
        move(need, ESCALATED, now, by=coordinator, note="コーディネーターが見送り")
    session.flush()
    return need


@dataclass(frozen=True)
class HelpGiven:
    volunteer_id: int
    name: str
    done: int
    by_category: dict[str, int]
    first: datetime | None
    last: datetime | None


def help_given(session: Session, volunteer_ids: Iterable[int] | None, start: datetime, end: datetime,
               area_condition=None) -> list[HelpGiven]:
    """Help completed per volunteer between start and end (for thanks letters and the 協議体)."""
    stmt = (select(Match.volunteer_id, Person.display_name, Need.category, func.count(),
                   func.min(Match.done_at), func.max(Match.done_at))
            .join(Need, Need.id == Match.need_id).join(Person, Person.id == Match.volunteer_id)
            .where(Match.status == DONE, Match.done_at >= start, Match.done_at < end)
            .group_by(Match.volunteer_id, Person.display_name, Need.category))
    if volunteer_ids is not None:
        stmt = stmt.where(Match.volunteer_id.in_(list(volunteer_ids)))
    if area_condition is not None:
        stmt = stmt.where(area_condition)
    per: dict[int, dict] = {}
    for vid, name, category, count, first, last in session.execute(stmt):
        row = per.setdefault(vid, {"name": name or "", "done": 0, "cats": {}, "first": first, "last": last})
        row["done"] += count
        row["cats"][category] = row["cats"].get(category, 0) + count
        row["first"] = min(row["first"], first) if row["first"] else first
        row["last"] = max(row["last"], last) if row["last"] else last
    return sorted((HelpGiven(vid, r["name"], r["done"], r["cats"], r["first"], r["last"]) for vid, r in per.items()),
                  key=lambda h: (-h.done, h.name, h.volunteer_id))

"""Escalation: what the bot cannot solve reaches the district coordinator, and is followed to an end.

A need escalates for a recorded reason; it is routed to its district's coordinators (the city's
when the district has none; urgent ones to the city too). The first coordinator to acknowledge
owns it. Deadlines follow the urgency, business days and Japanese holidays. What the district
cannot solve is raised to 第1層 as a 資源開発 proposal for the city's 協議体. Every action is
written to an audit trail that cannot be edited: who did what, when, to which case — never free
text. What a coordinator writes about a person (a note) is kept beside it in case_notes, where
erasing the person can reach it (domain.personal_data).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import ForeignKey, Index, Integer, String, Text, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from domain.jp_calendar import is_business_day, next_business_day
from domain.clock import TOKYO
from domain import needs as need_rules
from domain.areas import ancestors, district_of
from domain.base import Base
from domain.models import (
    CITY, COORDINATOR, NORMAL, URGENT, Area, Id, Need, Person,
)
from domain.people import can_see_area, city_coordinators, coordinators_for_area

# Why a need escalated (a contract for reports; the Japanese labels live in messages/).
NO_MATCH = "no_match"
DECLINED_SUGGESTIONS = "declined_suggestions"
NO_ACCEPTANCE = "no_acceptance"
ALL_DECLINED = "all_declined"
ASKED_FOR_PERSON = "asked_for_person"
EMERGENCY = "emergency"
CRISIS = "crisis"
BOT_FAILURE = "bot_failure"
SAFETY_CHECK = "safety_check"  # 要確認: a suspected emergency or crisis, the resident was asked
REASONS = (NO_MATCH, DECLINED_SUGGESTIONS, NO_ACCEPTANCE, ALL_DECLINED, ASKED_FOR_PERSON,
           EMERGENCY, CRISIS, BOT_FAILURE, SAFETY_CHECK)
URGENT_REASONS = frozenset({EMERGENCY, CRISIS})

OPEN, ACKNOWLEDGED, RESOLVED, RAISED = "open", "acknowledged", "resolved", "raised"
ACTIVE_STATUSES = (OPEN, ACKNOWLEDGED)
# How a case ended.
OUTCOMES = ("resource", "volunteer", "referred", "unresolvable")
# A case closed because the person asked for their data to be erased (or left for good).
ERASED = "erased"


class EscalationError(ValueError):
    pass


class NotPermitted(PermissionError):
    """A coordinator acting on a case outside their district."""


class Escalation(Base):
    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    need_id: Mapped[int] = mapped_column(Id, ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(16))
    # The district it was routed to (the city when the need has no district).
    area_id: Mapped[int] = mapped_column(Id, ForeignKey("areas.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    created_at: Mapped[datetime]
    ack_due_at: Mapped[datetime]
    resolve_due_at: Mapped[datetime]
    owner_id: Mapped[int | None] = mapped_column(Id, ForeignKey("people.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    # Deadline steps already taken, so a job run twice acts once.
    renotified_at: Mapped[datetime | None]
    sent_to_city_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]

    need: Mapped[Need] = relationship()
    area: Mapped[Area] = relationship()
    owner: Mapped[Person | None] = relationship()

    __table_args__ = (
        Index("ix_escalations_status_ack_due", "status", "ack_due_at"),
        Index("ix_escalations_status_resolve_due", "status", "resolve_due_at"),
        # One active escalation per need: a second cause adds to the first.
        Index("uq_escalations_one_active", "need_id", unique=True,
              sqlite_where=text("status IN ('open', 'acknowledged')"),
              postgresql_where=text("status IN ('open', 'acknowledged')")),
    )


class AuditEntry(Base):
    """Who did what, when, to which case. Append-only: updates and deletes are refused.

    `detail` holds codes and ids only (a reason, an outcome, "note 12"); free text goes to
    CaseNote."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(Id, ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    escalation_id: Mapped[int | None] = mapped_column(Id, ForeignKey("escalations.id", ondelete="SET NULL"),
                                                      index=True)
    detail: Mapped[str] = mapped_column(Text, default="")


@event.listens_for(AuditEntry, "before_update")
def _audit_is_append_only(_mapper, _connection, _target):
    raise EscalationError("the audit trail cannot be edited")


@event.listens_for(AuditEntry, "before_delete")
def _audit_is_never_deleted(_mapper, _connection, _target):
    raise EscalationError("the audit trail cannot be edited")


class CaseNote(Base):
    """What a coordinator wrote about a case: erasable with the person it is about."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    escalation_id: Mapped[int] = mapped_column(Id, ForeignKey("escalations.id", ondelete="CASCADE"),
                                               index=True)
    author_id: Mapped[int | None] = mapped_column(Id, ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text, default="")


class Proposal(Base):
    """A 資源開発 proposal: a need the district could not meet, raised to 第1層."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    escalation_id: Mapped[int | None] = mapped_column(Id, ForeignKey("escalations.id", ondelete="SET NULL"))
    district_id: Mapped[int] = mapped_column(Id, ForeignKey("areas.id"))
    category: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    raised_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("people.id", ondelete="SET NULL"))
    raised_at: Mapped[datetime]
    # proposed → on_agenda (of a 第1層 meeting) → adopted / closed
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    meeting_id: Mapped[int | None] = mapped_column(Integer)

    district: Mapped[Area] = relationship()

    __table_args__ = (Index("ix_proposals_status_district", "status", "district_id", "category"),)


# -- deadlines -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeadlinePolicy:
    """When a coordinator must acknowledge and resolve; configurable per deployment."""

    urgent_ack: timedelta = timedelta(hours=1)
    urgent_resolve: timedelta = timedelta(days=1)
    normal_ack_business_days: int = 1
    normal_resolve: timedelta = timedelta(days=14)
    business_start: time = time(8, 30)
    business_end: time = time(17, 15)


def add_business_days(moment: datetime, days: int, policy: DeadlinePolicy) -> datetime:
    """`days` business days later, counted in business hours (Tokyo): a Friday-evening case is
    due at the end of Monday (or of the next business day after a holiday)."""
    local = moment.astimezone(TOKYO)
    day = local.date()
    clock = local.time()
    if not is_business_day(day) or clock >= policy.business_end:
        day, clock = next_business_day(day), policy.business_end
    elif clock < policy.business_start:
        clock = policy.business_end
    for _ in range(days):
        day = next_business_day(day)
    return datetime.combine(day, clock, TOKYO)


def deadlines(created: datetime, urgency: str, policy: DeadlinePolicy) -> tuple[datetime, datetime]:
    """(acknowledge by, resolve by)."""
    if urgency == URGENT:
        return created + policy.urgent_ack, created + policy.urgent_resolve
    return add_business_days(created, policy.normal_ack_business_days, policy), created + policy.normal_resolve


# -- routing -------------------------------------------------------------------------------------
def routing_area(session: Session, need: Need) -> Area:
    """The need's district, or its city when it has none."""
    area = session.get(Area, need.area_id)
    district = district_of(session, area) if area is not None else None
    if district is not None:
        return district
    return next((a for a in ancestors(session, area) if a.layer == CITY), area)


def recipients(session: Session, escalation: Escalation) -> list[Person]:
    """Every coordinator to tell: the district's (else the city's); urgent ones the city's too."""
    area = session.get(Area, escalation.area_id)
    chosen = coordinators_for_area(session, area.id)
    if escalation.urgency == URGENT:
        chosen += [p for p in city_coordinators(session, area) if p not in chosen]
    return chosen


# -- lifecycle -----------------------------------------------------------------------------------
def audit(session: Session, now: datetime, action: str, escalation: Escalation | None = None,
          actor: Person | None = None, detail: str = "") -> None:
    session.add(AuditEntry(at=now, actor_id=actor.id if actor else None, action=action,
                           escalation_id=escalation.id if escalation else None, detail=detail[:2000]))


def active_escalation(session: Session, need_id: int) -> Escalation | None:
    return session.scalar(select(Escalation).where(Escalation.need_id == need_id,
                                                   Escalation.status.in_(ACTIVE_STATUSES)))


def escalate(session: Session, need: Need, reason: str, now: datetime,
             policy: DeadlinePolicy = DeadlinePolicy()) -> tuple[Escalation, bool]:
    """Escalate a need; return (the escalation, whether it is new).

    A need already with an active escalation keeps it (made urgent if this cause is urgent).
    """
    if reason not in REASONS:
        raise EscalationError(f"unknown reason: {reason}")
    urgency = URGENT if reason in URGENT_REASONS or need.urgency == URGENT else need.urgency
    current = active_escalation(session, need.id)
    if current is not None:
        if urgency == URGENT and current.urgency != URGENT:
            current.urgency = URGENT
            current.ack_due_at, current.resolve_due_at = deadlines(now, URGENT, policy)
            audit(session, now, "made_urgent", current, detail=reason)
        return current, False
    if need.status != need_rules.ESCALATED:
        need_rules.move(need, need_rules.ESCALATED, now, note=reason)
    ack_due, resolve_due = deadlines(now, urgency, policy)
    escalation = Escalation(need_id=need.id, reason=reason, urgency=urgency,
                            area_id=routing_area(session, need).id, status=OPEN, created_at=now,
                            ack_due_at=ack_due, resolve_due_at=resolve_due)
    session.add(escalation)
    session.flush()
    audit(session, now, "escalated", escalation, detail=reason)
    return escalation, True


def check_access(session: Session, coordinator: Person, escalation: Escalation) -> None:
    """Refuse (and record) a coordinator acting outside their district."""
    allowed = coordinator.has_role(COORDINATOR) and can_see_area(session, coordinator, escalation.area_id)
    if not allowed:
        raise NotPermitted(f"person {coordinator.id} may not act on escalation {escalation.id}")


def acknowledge(session: Session, escalation_id: int, coordinator: Person, now: datetime) -> tuple[Escalation, bool]:
    """対応します. The first to acknowledge owns the case; returns (case, whether this one won)."""
    escalation = _locked(session, escalation_id)
    check_access(session, coordinator, escalation)
    if escalation.status != OPEN:
        return escalation, escalation.owner_id == coordinator.id
    escalation.status, escalation.owner_id, escalation.acknowledged_at = ACKNOWLEDGED, coordinator.id, now
    audit(session, now, "acknowledged", escalation, coordinator)
    return escalation, True


def _write_note(session: Session, escalation: Escalation, author: Person | None, note: str,
                now: datetime) -> CaseNote:
    row = CaseNote(escalation_id=escalation.id, author_id=author.id if author else None, at=now,
                   text=note.strip()[:2000])
    session.add(row)
    session.flush()
    return row


def add_note(session: Session, escalation_id: int, coordinator: Person, note: str, now: datetime) -> Escalation:
    escalation = _locked(session, escalation_id)
    check_access(session, coordinator, escalation)
    row = _write_note(session, escalation, coordinator, note, now)
    audit(session, now, "note", escalation, coordinator, f"note {row.id}")
    return escalation


def notes_of(session: Session, escalation_id: int) -> list[CaseNote]:
    return list(session.scalars(select(CaseNote).where(CaseNote.escalation_id == escalation_id)
                                .order_by(CaseNote.at, CaseNote.id)))


def resolve(session: Session, escalation_id: int, coordinator: Person, outcome: str, now: datetime,
            note: str = "") -> Escalation:
    """解決しました, with how it ended."""
    if outcome not in OUTCOMES:
        raise EscalationError(f"unknown outcome: {outcome}")
    escalation = _locked(session, escalation_id)
    check_access(session, coordinator, escalation)
    if escalation.status not in ACTIVE_STATUSES:
        raise EscalationError("this case is already closed")
    if escalation.owner_id is None:
        escalation.owner_id, escalation.acknowledged_at = coordinator.id, escalation.acknowledged_at or now
    escalation.status, escalation.outcome, escalation.closed_at = RESOLVED, outcome, now
    need = session.get(Need, escalation.need_id)
    if need is not None and need_rules.can_move(need.status, need_rules.RESOLVED):
        need_rules.move(need, need_rules.RESOLVED, now, by=coordinator, note=f"escalation {outcome}")
    detail = outcome
    if note.strip():
        detail += f" note {_write_note(session, escalation, coordinator, note, now).id}"
    audit(session, now, "resolved", escalation, coordinator, detail)
    return escalation


def close_for_erasure(session: Session, escalation: Escalation, now: datetime) -> None:
    """The person asked for their data to be erased (or left for good): the case ends with the
    outcome `erased`, which the coordinators see in place of a resolution."""
    if escalation.status not in ACTIVE_STATUSES:
        return
    escalation.status, escalation.outcome, escalation.closed_at = RESOLVED, ERASED, now
    audit(session, now, "closed_erased", escalation)


def raise_to_city(session: Session, escalation_id: int, coordinator: Person, proposal_text: str,
                  now: datetime) -> Proposal:
    """第1層へ上げる: the case becomes a 資源開発 proposal for the city's 協議体."""
    if not proposal_text.strip():
        raise EscalationError("a proposal needs a text")
    escalation = _locked(session, escalation_id)
    check_access(session, coordinator, escalation)
    if escalation.status not in ACTIVE_STATUSES:
        raise EscalationError("this case is already closed")
    need = session.get(Need, escalation.need_id)
    escalation.status, escalation.closed_at = RAISED, now
    escalation.owner_id = escalation.owner_id or coordinator.id
    proposal = Proposal(escalation_id=escalation.id, district_id=escalation.area_id, category=need.category,
                        text=proposal_text.strip()[:2000], raised_by_id=coordinator.id, raised_at=now)
    session.add(proposal)
    session.flush()
    audit(session, now, "raised", escalation, coordinator, f"proposal {proposal.id}")
    return proposal


def proposals_by_district_and_category(session: Session, statuses: tuple[str, ...] = ("proposed", "on_agenda")
                                       ) -> list[tuple[Area, str, list[Proposal]]]:
    """The city's list of 資源開発 proposals, grouped for the 協議体 agenda."""
    rows = list(session.scalars(select(Proposal).where(Proposal.status.in_(statuses))
                                .order_by(Proposal.district_id, Proposal.category, Proposal.raised_at)))
    grouped: dict[tuple[int, str], list[Proposal]] = {}
    for row in rows:
        grouped.setdefault((row.district_id, row.category), []).append(row)
    return [(session.get(Area, district_id), category, items)
            for (district_id, category), items in grouped.items()]


def visible_cases(session: Session, coordinator: Person, statuses: tuple[str, ...] = ACTIVE_STATUSES
                  ) -> list[Escalation]:
    """The cases a coordinator may see: their districts' (a city coordinator: all)."""
    cases = list(session.scalars(select(Escalation).where(Escalation.status.in_(statuses))
                                 .order_by(Escalation.created_at)))
    return [c for c in cases if can_see_area(session, coordinator, c.area_id)]


def _locked(session: Session, escalation_id: int) -> Escalation:
    """Lock the case row so two coordinators acting at once queue (PostgreSQL)."""
    lock = session.get_bind().dialect.name == "postgresql"
    escalation = session.get(Escalation, escalation_id, with_for_update=lock, populate_existing=True)
    if escalation is None:
        raise EscalationError(f"no escalation {escalation_id}")
    return escalation


# -- deadlines as jobs call them -----------------------------------------------------------------
@dataclass
class DeadlineActions:
    renotify: list[Escalation]
    to_city: list[Escalation]
    overdue: list[Escalation]


def due_deadline_actions(session: Session, now: datetime, policy: DeadlinePolicy = DeadlinePolicy()
                         ) -> DeadlineActions:
    """Claim the deadline steps due now and mark them taken (in the caller's transaction).

    Missed acknowledgement: the notice again; missed again (as long again): the city. Missed
    resolution: a reminder to the owner and a line on the city's overdue list. On PostgreSQL the
    rows are claimed with SKIP LOCKED, so two scheduler runs at once take each step once.
    """
    lock = session.get_bind().dialect.name == "postgresql"

    def claim(*conditions):
        stmt = select(Escalation).where(*conditions).order_by(Escalation.id)
        if lock:
            stmt = stmt.with_for_update(skip_locked=True)
        return list(session.scalars(stmt))

    renotify = claim(Escalation.status == OPEN, Escalation.ack_due_at <= now, Escalation.renotified_at.is_(None))
    for case in renotify:
        case.renotified_at = now
        audit(session, now, "ack_missed", case)
    to_city = []
    for case in claim(Escalation.status == OPEN, Escalation.renotified_at.is_not(None),
                      Escalation.renotified_at < now, Escalation.sent_to_city_at.is_(None)):
        if now >= second_ack_deadline(case, policy):
            case.sent_to_city_at = now
            audit(session, now, "sent_to_city", case)
            to_city.append(case)
    overdue = claim(Escalation.status.in_(ACTIVE_STATUSES), Escalation.resolve_due_at <= now,
                    Escalation.overdue_at.is_(None))
    for case in overdue:
        case.overdue_at = now
        audit(session, now, "resolution_overdue", case)
    session.flush()
    return DeadlineActions(renotify, to_city, overdue)


def second_ack_deadline(case: Escalation, policy: DeadlinePolicy) -> datetime:
    """After the re-sent notice, the same time again before the city is told."""
    if case.urgency == URGENT:
        return case.ack_due_at + policy.urgent_ack
    return add_business_days(case.ack_due_at, policy.normal_ack_business_days, policy)


def overdue_cases(session: Session) -> list[Escalation]:
    """The city's list: cases past their resolution deadline."""
    return list(session.scalars(select(Escalation).where(
        Escalation.status.in_(ACTIVE_STATUSES), Escalation.overdue_at.is_not(None)).order_by(Escalation.resolve_due_at)))



# -- rules the jobs apply --------------------------------------------------------------------------
# How long volunteers have to accept before the coordinator takes over.
ACCEPT_WAIT = {NORMAL: timedelta(hours=24), URGENT: timedelta(hours=1)}


def reason_when_nobody_to_ask(need: Need) -> str:
    """No volunteer could be asked: after suggestions were shown the resident declined them."""
    return DECLINED_SUGGESTIONS if need.status == need_rules.SUGGESTED else NO_MATCH


def escalate_unaccepted(session: Session, now: datetime, policy: DeadlinePolicy = DeadlinePolicy()
                        ) -> list[Escalation]:
    """Needs whose asked volunteers let the wait pass: their requests expire and the need escalates.

    Returns the new escalations (claimed with SKIP LOCKED on PostgreSQL, so once each).
    """
    from domain import matches as match_rules
    from domain.models import Match

    stmt = select(Need).where(Need.status == need_rules.ASKING).order_by(Need.id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    created_cases = []
    for need in session.scalars(stmt):
        asked = list(session.scalars(select(Match).where(Match.need_id == need.id)))
        waiting = [m for m in asked if m.status == match_rules.TENTATIVE]
        if not waiting or any(m.status in (match_rules.ACCEPTED, match_rules.DONE) for m in asked):
            continue
        if now - max(m.asked_at for m in waiting) < ACCEPT_WAIT.get(need.urgency, ACCEPT_WAIT[NORMAL]):
            continue
        match_rules.expire_tentative(session, need, now)
        case, created = escalate(session, need, NO_ACCEPTANCE, now, policy)
        if created:
            created_cases.append(case)
    return created_cases


@dataclass
class Summary:
    coordinator: Person
    open_cases: int
    overdue_cases: int
    new_volunteers: int


def daily_summaries(session: Session, now: datetime) -> list[Summary] | None:
    """Each coordinator's open and overdue cases and the volunteers of the last day in their
    districts; None on a day that is not a business day, and nobody with nothing to report."""
    from domain.models import VOLUNTEER, PersonRole

    if not is_business_day(now.astimezone(TOKYO).date()):
        return None
    coordinators = session.scalars(
        select(Person).join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == COORDINATOR, Person.active.is_(True)).order_by(Person.id))
    new_volunteers = list(session.scalars(
        select(Person).join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == VOLUNTEER, PersonRole.granted_at >= now - timedelta(days=1))))
    summaries = []
    for coordinator in coordinators:
        cases = visible_cases(session, coordinator)
        volunteers = [v for v in new_volunteers
                      if v.area_id is not None and can_see_area(session, coordinator, v.area_id)]
        if cases or volunteers:
            summaries.append(Summary(coordinator, len(cases), sum(c.overdue_at is not None for c in cases),
                                     len(volunteers)))
    return summaries


def put_proposals_on_agendas(session: Session, now: datetime) -> int:
    """資源開発 proposals waiting for a 第1層 協議体 go onto its next meeting's agenda, once."""
    from domain.categories import label
    from domain.meetings import core as meetings

    placed = 0
    for proposal in session.scalars(select(Proposal).where(Proposal.status == "proposed").order_by(Proposal.id)):
        district = session.get(Area, proposal.district_id)
        city = district if district.layer == CITY else next(
            (a for a in ancestors(session, district) if a.layer == CITY), None)
        if city is None:
            continue
        item = meetings.add_proposal_item(
            session, layer=CITY, area_id=city.id, proposal_id=proposal.id, now=now,
            title=f"資源開発の提案：{district.name}・{label(proposal.category)}", detail=proposal.text)
        if item is not None:
            proposal.status, proposal.meeting_id = "on_agenda", item.meeting_id
            placed += 1
    return placed

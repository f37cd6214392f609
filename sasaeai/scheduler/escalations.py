"""Escalation jobs: deadlines, needs nobody accepted, the coordinators' morning summary.

Plain functions called with a session and the time. Each marks what it did in the same
transaction as the messages it queues (and the outbox refuses a second message with the same
key), so a run repeated, or two schedulers by mistake, notify once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sasaeai import outbox
from sasaeai.config import Config
from sasaeai.clock import TOKYO
from sasaeai.domain import escalation as esc_rules
from sasaeai.domain import matches as match_rules
from sasaeai.domain import needs as need_rules
from sasaeai.domain.models import (
    COORDINATOR,
    URGENT,
    VOLUNTEER,
    Area,
    Match,
    Need,
    Person,
    PersonRole,
)
from sasaeai.domain.people import can_see_area
from sasaeai.messages import notices
from sasaeai.messages.build import text
from sasaeai.messages.coordinator import COORDINATOR as SAY

# How long volunteers have to accept before the coordinator takes over.
ACCEPT_WAIT = {"normal": timedelta(hours=24), URGENT: timedelta(hours=1)}


@dataclass
class Report:
    renotified: int = 0
    sent_to_city: int = 0
    overdue: int = 0
    not_accepted: int = 0
    summaries: int = 0
    messages: int = 0
    skipped: list[str] = field(default_factory=list)


def _push(session: Session, person: Person | None, message: dict, now: datetime, key: str) -> int:
    if person is None or not person.line_user_id or not person.active:
        return 0
    return int(outbox.enqueue_push(session, user_id=person.line_user_id, messages=[message], now=now,
                                   dedupe_key=key))


def run_deadlines(session: Session, now: datetime, policy: esc_rules.DeadlinePolicy = esc_rules.DeadlinePolicy(),
                  console_url: str | None = None) -> Report:
    """Missed acknowledgement → the notice again, then the city; missed resolution → the owner."""
    report = Report()
    actions = esc_rules.due_deadline_actions(session, now, policy)
    for case in actions.renotify:
        message = notices.case_notice(session, case, now, console_url, header=SAY["notice_again"])
        for person in esc_rules.recipients(session, case):
            report.messages += _push(session, person, message, now, f"esc:{case.id}:renotify:{person.id}")
        report.renotified += 1
    for case in actions.to_city:
        area = session.get(Area, case.area_id)
        message = notices.case_notice(session, case, now, console_url, header=SAY["notice_city"])
        for person in esc_rules.city_coordinators(session, area):
            report.messages += _push(session, person, message, now, f"esc:{case.id}:city:{person.id}")
        report.sent_to_city += 1
    for case in actions.overdue:
        message = notices.overdue_notice(session, case, now, console_url)
        owner = session.get(Person, case.owner_id) if case.owner_id else None
        for person in [owner] if owner is not None else esc_rules.recipients(session, case):
            report.messages += _push(session, person, message, now, f"esc:{case.id}:overdue:{person.id}")
        report.overdue += 1
    return report


def escalate_unaccepted(session: Session, now: datetime,
                        policy: esc_rules.DeadlinePolicy = esc_rules.DeadlinePolicy(),
                        console_url: str | None = None) -> Report:
    """Needs whose volunteers did not accept in time go to the coordinator; the resident is told."""
    report = Report()
    stmt = select(Need).where(Need.status == need_rules.ASKING).order_by(Need.id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    for need in session.scalars(stmt):
        asked = list(session.scalars(select(Match).where(Match.need_id == need.id)))
        waiting = [m for m in asked if m.status == match_rules.TENTATIVE]
        if not waiting or any(m.status in (match_rules.ACCEPTED, match_rules.DONE) for m in asked):
            continue
        if now - max(m.asked_at for m in waiting) < ACCEPT_WAIT.get(need.urgency, ACCEPT_WAIT["normal"]):
            continue
        match_rules.expire_tentative(session, need, now)
        case, created = esc_rules.escalate(session, need, esc_rules.NO_ACCEPTANCE, now, policy)
        if not created:
            continue
        message = notices.case_notice(session, case, now, console_url)
        for person in esc_rules.recipients(session, case):
            report.messages += _push(session, person, message, now, f"esc:{case.id}:new:{person.id}")
        resident = session.get(Person, need.person_id) if need.person_id else None
        report.messages += _push(session, resident, text(notices.resident_escalated(session, case)), now,
                                 f"esc:{case.id}:resident")
        report.not_accepted += 1
    return report


def send_daily_summaries(session: Session, now: datetime) -> Report:
    """08:30 on business days: each coordinator's open and overdue cases and new volunteers.

    Skipped on weekends and holidays, and for a coordinator with nothing to report.
    """
    report = Report()
    today = now.astimezone(TOKYO).date()
    if not esc_rules.is_business_day(today):
        report.skipped.append(f"{today} is not a business day")
        return report
    since = now - timedelta(days=1)
    coordinators = list(session.scalars(
        select(Person).join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == COORDINATOR, Person.active.is_(True)).order_by(Person.id)))
    new_volunteers = list(session.scalars(
        select(Person).join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == VOLUNTEER, PersonRole.granted_at >= since)))
    label = f"{today.month}月{today.day}日"
    for coordinator in coordinators:
        cases = esc_rules.visible_cases(session, coordinator)
        overdue = [c for c in cases if c.overdue_at is not None]
        volunteers = [v for v in new_volunteers
                      if v.area_id is not None and can_see_area(session, coordinator, v.area_id)]
        if not cases and not volunteers:
            report.skipped.append(f"coordinator {coordinator.id}: nothing to say")
            continue
        message = notices.daily_summary(label, len(cases), len(overdue), len(volunteers))
        sent = _push(session, coordinator, message, now, f"summary:{coordinator.id}:{today.isoformat()}")
        report.summaries += sent
        report.messages += sent
    return report


def put_proposals_on_agendas(session: Session, now: datetime) -> int:
    """資源開発 proposals waiting for a 第1層 協議体 go onto its next meeting's agenda, once."""
    from sasaeai.domain.areas import ancestors
    from sasaeai.domain.categories import label
    from sasaeai.domain.meetings import core as meetings
    from sasaeai.domain.models import CITY

    placed = 0
    for proposal in session.scalars(select(esc_rules.Proposal).where(esc_rules.Proposal.status == "proposed")
                                    .order_by(esc_rules.Proposal.id)):
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


def every_minute(session: Session, now: datetime) -> Report:
    """The scheduler's escalation tick: deadlines, unaccepted needs, proposals for the agenda."""
    config = Config.from_env()
    policy, console = config.deadline_policy(), config.console_url or None
    report = run_deadlines(session, now, policy, console)
    unaccepted = escalate_unaccepted(session, now, policy, console)
    report.not_accepted, report.messages = unaccepted.not_accepted, report.messages + unaccepted.messages
    put_proposals_on_agendas(session, now)
    return report


def purge_unfollowed(session: Session, now: datetime) -> int:
    """Erase the people who blocked the account longer ago than the retention period."""
    from sasaeai.domain.people import purge_unfollowed as purge

    return purge(session, now, timedelta(days=Config.from_env().retention_days))

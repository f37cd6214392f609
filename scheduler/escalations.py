"""Escalation jobs: deadlines, needs nobody accepted, the coordinators' morning summary.

Plain functions called with a session and the time. Each marks what it did in the same
transaction as the messages it queues (and the outbox refuses a second message with the same
key), so a run repeated, or two schedulers by mistake, notify once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot import outbox
from domain.clock import TOKYO
from domain.settings import Config
from domain import escalation as esc_rules
from domain.models import Area, Need, Person
from bot.messages import notices
from bot.messages.build import text
from bot.messages.coordinator import COORDINATOR as SAY


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
    for case in esc_rules.escalate_unaccepted(session, now, policy):
        message = notices.case_notice(session, case, now, console_url)
        for person in esc_rules.recipients(session, case):
            report.messages += _push(session, person, message, now, f"esc:{case.id}:new:{person.id}")
        need = session.get(Need, case.need_id)
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
    summaries = esc_rules.daily_summaries(session, now)
    if summaries is None:
        report.skipped.append(f"{today} is not a business day")
        return report
    if not summaries:
        report.skipped.append("nothing to say")
    for summary in summaries:
        message = notices.daily_summary(f"{today.month}月{today.day}日", summary.open_cases,
                                        summary.overdue_cases, summary.new_volunteers)
        sent = _push(session, summary.coordinator, message, now,
                     f"summary:{summary.coordinator.id}:{today.isoformat()}")
        report.summaries += sent
        report.messages += sent
    return report


def every_minute(session: Session, now: datetime) -> Report:
    """The scheduler's escalation tick: deadlines, unaccepted needs, proposals for the agenda."""
    config = Config.from_env()
    policy, console = config.deadline_policy(), config.console_url or None
    report = run_deadlines(session, now, policy, console)
    unaccepted = escalate_unaccepted(session, now, policy, console)
    report.not_accepted, report.messages = unaccepted.not_accepted, report.messages + unaccepted.messages
    esc_rules.put_proposals_on_agendas(session, now)
    return report


def purge_unfollowed(session: Session, now: datetime) -> int:
    """Erase the people who blocked the account longer ago than the retention period."""
    from domain.people import purge_unfollowed as purge

    return purge(session, now, timedelta(days=Config.from_env().retention_days))

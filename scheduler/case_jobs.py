"""Escalation jobs: deadlines, needs nobody accepted, the coordinators' morning summary,
the retention purge.

Plain functions of (session, now, deps). Each marks what it did in the same transaction as the
messages the notifier queues (and the same key never queues twice), so a run repeated, or two
schedulers by mistake, notify once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from domain import escalation as esc_rules
from domain.clock import TOKYO
from domain.models import Area, Need, Person
from domain.notify import CASE_AGAIN, CASE_NEW, CASE_TO_CITY
from domain import personal_data
from scheduler.deps import JobDeps


@dataclass
class Report:
    renotified: int = 0
    sent_to_city: int = 0
    overdue: int = 0
    not_accepted: int = 0
    summaries: int = 0
    messages: int = 0
    skipped: list[str] = field(default_factory=list)


def run_deadlines(session: Session, now: datetime, deps: JobDeps) -> Report:
    """Missed acknowledgement → the notice again, then the city; missed resolution → the owner."""
    report, notify = Report(), deps.notifier
    actions = esc_rules.due_deadline_actions(session, now, deps.policy)
    for case in actions.renotify:
        for person in esc_rules.recipients(session, case):
            report.messages += notify.case_notice(session, case, person, now, stage=CASE_AGAIN,
                                                  key=f"esc:{case.id}:renotify:{person.id}")
        report.renotified += 1
    for case in actions.to_city:
        area = session.get(Area, case.area_id)
        for person in esc_rules.city_coordinators(session, area):
            report.messages += notify.case_notice(session, case, person, now, stage=CASE_TO_CITY,
                                                  key=f"esc:{case.id}:city:{person.id}")
        report.sent_to_city += 1
    for case in actions.overdue:
        owner = session.get(Person, case.owner_id) if case.owner_id else None
        for person in [owner] if owner is not None else esc_rules.recipients(session, case):
            report.messages += notify.case_overdue(session, case, person, now,
                                                   key=f"esc:{case.id}:overdue:{person.id}")
        report.overdue += 1
    return report


def escalate_unaccepted(session: Session, now: datetime, deps: JobDeps) -> Report:
    """Needs whose volunteers did not accept in time go to the coordinator; the resident is told."""
    report, notify = Report(), deps.notifier
    for case in esc_rules.escalate_unaccepted(session, now, deps.policy):
        for person in esc_rules.recipients(session, case):
            report.messages += notify.case_notice(session, case, person, now, stage=CASE_NEW,
                                                  key=f"esc:{case.id}:new:{person.id}")
        need = session.get(Need, case.need_id)
        resident = session.get(Person, need.person_id) if need.person_id else None
        if resident is not None:
            report.messages += notify.resident_escalated(session, case, resident, now, key=f"esc:{case.id}:resident")
        report.not_accepted += 1
    return report


def send_daily_summaries(session: Session, now: datetime, deps: JobDeps) -> Report:
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
        sent = deps.notifier.daily_summary(session, summary, today, now,
                                           key=f"summary:{summary.coordinator.id}:{today.isoformat()}")
        report.summaries += sent
        report.messages += sent
    return report


def every_minute(session: Session, now: datetime, deps: JobDeps) -> Report:
    """The scheduler's escalation tick: deadlines, unaccepted needs, proposals for the agenda."""
    report = run_deadlines(session, now, deps)
    unaccepted = escalate_unaccepted(session, now, deps)
    report.not_accepted, report.messages = unaccepted.not_accepted, report.messages + unaccepted.messages
    esc_rules.put_proposals_on_agendas(session, now)
    return report


def purge_unfollowed(session: Session, now: datetime, deps: JobDeps) -> int:
    """Erase the people who blocked the account longer ago than the retention period (the same
    erasure as 「わたしのデータを消す」), then reduce everyone's old events and message bodies."""
    erased = personal_data.purge_unfollowed(session, now, deps.retention, key=deps.pseudonym_key)
    reduce_old_records(session, now, deps)
    return erased


def reduce_old_records(session: Session, now: datetime, deps: JobDeps) -> personal_data.Reduction:
    """Handled events and sent message bodies past SASAEAI_EVENT_RETENTION_DAYS are reduced to
    their shape; parked events and failed messages not yet redacted are redacted."""
    return personal_data.reduce_old(session, now, deps.event_retention, key=deps.pseudonym_key)

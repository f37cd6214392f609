"""Coordinator notices about escalated cases, built from the domain for bot/ and scheduler/."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from domain.categories import label as category_label
from domain.escalation import Escalation
from domain.labels import area_label, local_datetime_label, waited_label
from domain.models import URGENT, Area, Need, Person
from bot.messages import cards
from bot.messages.build import Message, shorten, text
from bot.messages.coordinator import COORDINATOR
from bot.messages.resident import RESIDENT

WORDS_SHOWN = 120


def case_url(console_base: str | None, escalation_id: int) -> str | None:
    return f"{console_base.rstrip('/')}/cases/{escalation_id}" if console_base else None


def case_notice(session: Session, escalation: Escalation, now: datetime, console_base: str | None = None,
                header: str = "", viewer: Person | None = None) -> Message:
    """The card a coordinator gets: category, area, the resident's words, wait, urgency, why.

    With a viewer of the owning district (or the city), it also carries the contact: the name,
    the phone and a button to message the resident; showing it is audited (domain.cases).
    """
    from domain.cases import contact_for

    need = session.get(Need, escalation.need_id)
    category = category_label(need.category) if need else "—"
    amount, unit = waited_label(escalation.created_at, now)
    waited = COORDINATOR[{"minutes": "waited", "hours": "waited_hours", "days": "waited_days"}[unit]].format(
        minutes=amount, hours=amount, days=amount)
    urgent = escalation.urgency == URGENT
    rows = [
        (COORDINATOR["row_area"], area_label(session, need.area_id if need else escalation.area_id)),
        (COORDINATOR["row_words"], shorten((need.words if need else "") or "—", WORDS_SHOWN)),
        (COORDINATOR["row_waited"], waited),
        (COORDINATOR["row_urgency"], COORDINATOR["urgent"] if urgent else COORDINATOR["normal"]),
        (COORDINATOR["row_reason"], COORDINATOR["reasons"].get(escalation.reason, escalation.reason)),
    ]
    if escalation.owner_id:
        owner = session.get(Person, escalation.owner_id)
        rows.append((COORDINATOR["row_owner"], (owner.display_name if owner else "") or "—"))
    contact = contact_for(session, escalation, viewer, now, "line") if viewer is not None else None
    phone = None
    if contact is not None:
        rows[0:0] = [(COORDINATOR["row_name"], contact.name or COORDINATOR["no_name"]),
                     (COORDINATOR["row_phone"], contact.phone or COORDINATOR["no_phone"])]
        phone = contact.phone
    if urgent and need is not None and need.category == "other" and need.words:
        # No category could be read: 緊急 and the person's own words, never a guess.
        category = COORDINATOR["urgent_words"].format(words=shorten(need.words, 24))
    title = COORDINATOR["notice_title_urgent" if urgent else "notice_title"].format(category=category)
    alt = (header + COORDINATOR["notice_alt"].format(category=category, area=area_label(session, escalation.area_id)))
    return cards.escalation_card(escalation_id=escalation.id, title=title, alt=alt, rows=rows,
                                 console_url=case_url(console_base, escalation.id), header=header,
                                 can_message=contact is not None and contact.reachable, phone=phone)


def contact_text(session: Session, escalation: Escalation, viewer: Person, now: datetime) -> str | None:
    """The contact block sent after 対応します (audited); None outside the viewer's scope."""
    from domain.cases import contact_for

    contact = contact_for(session, escalation, viewer, now, "line")
    if contact is None:
        return None
    body = COORDINATOR["contact"].format(name=contact.name or COORDINATOR["no_name"],
                                         phone=contact.phone or COORDINATOR["no_phone"],
                                         place=contact.neighbourhood, words=shorten(contact.words or "—", 300))
    if not contact.reachable:
        body += "\n" + COORDINATOR["contact_unreachable"]
    return body


def resident_escalated(session: Session, escalation: Escalation) -> str:
    """What the resident is told: who will contact them, and by when."""
    area = session.get(Area, escalation.area_id)
    return RESIDENT["escalated"].format(district=area.name if area else "",
                                        by=local_datetime_label(escalation.ack_due_at))


def overdue_notice(session: Session, escalation: Escalation, now: datetime, console_base: str | None) -> Message:
    body = COORDINATOR["overdue_body"].format(due=local_datetime_label(escalation.resolve_due_at))
    return case_notice(session, escalation, now, console_base, header=COORDINATOR["overdue_title"] + body)


def daily_summary(date_label: str, open_count: int, overdue_count: int, new_volunteers: int) -> Message:
    return text(COORDINATOR["summary"].format(date=date_label, open=open_count, overdue=overdue_count,
                                              volunteers=new_volunteers))

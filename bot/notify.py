"""Messages to people other than the one who wrote: request cards, contacts, coordinators."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from domain.categories import label as category_label
from domain.labels import area_label as area_name
from domain.labels import need_when_label as when_text
from domain.models import Match, Need, Person
from bot.messages import cards
from bot.messages import postback as postbacks
from bot.messages.build import postback, shorten, text
from bot.messages.resident import RESIDENT
from bot.messages.volunteer import VOLUNTEER


def reachable(person: Person | None) -> bool:
    return person is not None and person.reachable


def send_request_cards(ctx: Any, session: Session, need: Need, matches: list[Match]) -> int:
    """A card per asked volunteer: category, area and time only — no name, no address."""
    category, area, when = category_label(need.category), area_name(session, need.area_id), when_text(need)
    sent = 0
    for match in matches:
        volunteer = session.get(Person, match.volunteer_id)
        if reachable(volunteer):
            ctx.push(volunteer.line_user_id, cards.request_card(match.id, category, area, when))
            sent += 1
    return sent


def release_contacts(ctx: Any, session: Session, match: Match, need: Need, *, reply_to_volunteer: bool) -> None:
    """Both sides learn each other's contact, once the match is accepted (and approved)."""
    volunteer = session.get(Person, match.volunteer_id)
    resident = session.get(Person, need.person_id) if need.person_id else None
    category, when = category_label(need.category), when_text(need)
    if reachable(volunteer):
        message = text(VOLUNTEER["accepted_contact"].format(
            category=category, when=when, area=area_name(session, need.area_id),
            resident=(resident.display_name if resident else "") or "住民",
            contact=(resident.phone if resident and resident.phone else VOLUNTEER["no_contact"]),
            words=shorten(need.words or "—", 200)),
            [postback(VOLUNTEER["done"], postbacks.encode("m", "done", match.id))])
        if reply_to_volunteer:
            ctx.reply(message)
        else:
            ctx.push(volunteer.line_user_id, message)
    if reachable(resident):
        ctx.push(resident.line_user_id, text(RESIDENT["volunteer_found"].format(
            volunteer=(volunteer.display_name if volunteer else "") or "担い手",
            category=category, when=when,
            contact=(volunteer.phone if volunteer and volunteer.phone else RESIDENT["no_contact"]))))

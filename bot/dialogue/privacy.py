"""Deleting one's data, seeing what is held, the privacy policy."""
from __future__ import annotations



from bot import outbox
from domain.clock import TOKYO
from domain import escalation as esc_rules
from domain import personal_data
from domain.categories import label as category_label
from domain.models import Need, Person
from bot.messages.build import say, shorten, text
from bot.messages.coordinator import COORDINATOR
from bot.messages.resident import RESIDENT

from bot.dialogue.states import IDLE, DELETE
from bot.dialogue.core import Input, Turn, pb, menu_message, area_name, show_menu, log


# -- deleting one's data -------------------------------------------------------------------------
def ask_delete(turn: Turn, inp: Input | None = None) -> str:
    turn.say(text(RESIDENT["delete_confirm"], [pb(RESIDENT["delete_yes"], "del", "yes"),
                                               pb(RESIDENT["delete_no"], "del", "no")]))
    return DELETE


def on_delete(turn: Turn, inp: Input) -> str:
    if inp.args[:1] != ["yes"]:
        return show_menu(turn, lead=RESIDENT["delete_cancelled"])
    _erase(turn, personal_data.ERASE)
    turn.data.clear()
    turn.data["erased"] = True
    # The goodbye goes by reply token only: no row of the outbox keeps their LINE id.
    turn.ctx._replies.clear()
    token = turn.ctx.raw.get("replyToken")
    if token:
        outbox.enqueue_reply(turn.session, reply_token=token, user_id=None, messages=[text(RESIDENT["deleted"])],
                             event_time=turn.ctx.event_time, now=turn.now, dedupe_key=f"reply:{turn.ctx.event_id}")
    return IDLE


def _erase(turn: Turn, mode: str) -> None:
    """Erase (or, on withdrawal, what consent covered) and tell the coordinators of the cases
    this closes why they closed."""
    settings = turn.ctx.settings
    report = personal_data.erase(turn.session, turn.person, turn.now, key=getattr(settings, "pseudonym_key", b""),
                                 mode=mode, current_event_ids=(turn.ctx.event_id,))
    for case_id in report.cases_closed:
        case = turn.session.get(esc_rules.Escalation, case_id)
        need = turn.session.get(Need, case.need_id)
        owner = turn.session.get(Person, case.owner_id) if case.owner_id else None
        told = [owner] if owner is not None else esc_rules.recipients(turn.session, case)
        message = text(COORDINATOR["case_closed_erased"].format(
            category=category_label(need.category) if need else "—", area=area_name(turn.session, case.area_id)))
        for person in told:
            if person is not None and person.reachable and person.id != report.person_id:
                turn.ctx.push(person.line_user_id, message)
    log.info("personal_data.erased", mode=mode, needs=report.needs, cases_closed=len(report.cases_closed),
             notes=report.notes, offers=report.offers, places=report.resources_deleted + report.resources_anonymised,
             messages=report.messages, events=report.events)


def show_held(turn: Turn, inp: Input | None = None) -> str:
    """「わたしのデータを見る」: everything held about the person, on LINE (開示)."""
    settings = turn.ctx.settings
    if not turn.person.consented and not turn.person.display_name and not turn.person.phone:
        turn.say(menu_message(turn.person, RESIDENT["held_none"]))
        return IDLE
    held = personal_data.held_about(turn.session, turn.person)
    none = RESIDENT["held_none_value"]
    need_lines = "".join(RESIDENT["held_need_line"].format(
        date=need.created_at.astimezone(TOKYO).strftime("%Y/%m/%d"), category=category_label(need.category),
        status=RESIDENT["held_need_status"].get(need.status, need.status),
        words=shorten(need.words or "—", 40)) for need in held.needs[-5:])
    body = RESIDENT["held"].format(
        name=held.display_name or none, phone=held.phone or none,
        area=area_name(turn.session, held.area_id) if held.area_id else none,
        consent=RESIDENT["held_consent_given"] if held.consent == "given" else none,
        roles="・".join(RESIDENT["held_roles"].get(r, r) for r in held.roles) or none,
        needs=len(held.needs), need_lines=need_lines, offers=held.offers,
        places="・".join(shorten(p.name, 30) for p in held.places) or none, notes=held.notes,
        open_cases=held.open_cases, events=held.events, messages=held.messages,
        event_days=getattr(settings, "event_retention_days", 30))
    turn.say(text(shorten(body, 4900), [say(RESIDENT["delete_label"], "わたしのデータを消す"),
                                        pb(RESIDENT["menu_mine"], "menu", "mine")]))
    return IDLE


def show_policy(turn: Turn, inp: Input | None = None) -> str:
    """「プライバシー」: the full policy on LINE (and its link when the page is served)."""
    settings = turn.ctx.settings
    body = RESIDENT["privacy_policy"].format(retention_days=getattr(settings, "retention_days", 90),
                                             event_days=getattr(settings, "event_retention_days", 30))
    url = getattr(settings, "privacy_url", "")
    if url:
        body += "\n" + RESIDENT["privacy_link"].format(url=url)
    turn.say(text(shorten(body, 4900)))
    return IDLE



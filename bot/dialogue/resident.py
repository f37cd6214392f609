"""A resident's way in: consent, the menu, free text outside a flow."""
from __future__ import annotations



from bot import cases as escalation_bot
from domain import escalation as esc_rules
from domain import people
from domain import personal_data
from domain.models import CONSENT_REFUSED, CONSENT_WITHDRAWN
from bot.messages.build import text
from bot.messages.resident import RESIDENT

from bot.dialogue.states import AREA_FOR_NEED, AREA_HOME, AREA_INFO, CONSENT, IDLE
from bot.dialogue.core import Input, Turn, menu_message, show_menu, needs_consent
from bot.dialogue import area as area_flow, need as need_flow, privacy as privacy_flow, volunteer as volunteer_flow


def on_consent(turn: Turn, inp: Input) -> str:
    given = inp.args[:1] == ["yes"]
    if not given and turn.person.consented:
        # Withdrawn: what consent covered goes, by the one erasure routine; the LINE id stays.
        privacy_flow._erase(turn, personal_data.WITHDRAW)
        turn.data.clear()
        turn.say(menu_message(turn.person, RESIDENT["consent_withdrawn"]))
        return IDLE
    people.record_consent(turn.person, given, turn.now)
    if not given:
        turn.data.clear()
        turn.say(menu_message(turn.person, RESIDENT["consent_declined"]))
        return IDLE
    if turn.person.area_id is None:
        return area_flow.ask_area(turn, AREA_HOME, lead=RESIDENT["consent_thanks"])
    return show_menu(turn, lead=RESIDENT["consent_thanks"] + RESIDENT["menu"])


# -- the menu ------------------------------------------------------------------------------------
def on_menu(turn: Turn, inp: Input) -> str:
    item = inp.args[0] if inp.args else ""
    if item == "usage":
        turn.say(text(RESIDENT["usage"]))
        return IDLE
    if item == "info":
        if turn.person.area_id is not None:
            return area_flow.show_info(turn, turn.person.area_id)
        return area_flow.ask_area(turn, AREA_INFO)
    if needs_consent(turn):
        return CONSENT
    if item == "ask":
        if turn.person.area_id is None:
            return area_flow.ask_area(turn, AREA_FOR_NEED)
        return need_flow.ask_need(turn)
    if item == "help":
        return volunteer_flow.start_offer(turn)
    if item == "person":
        return need_flow.escalate(turn, None, esc_rules.ASKED_FOR_PERSON)
    if item == "mine":
        return volunteer_flow.show_mine(turn)
    if item == "area":
        return area_flow.ask_area(turn, AREA_HOME)
    return show_menu(turn)


def on_idle_text(turn: Turn, inp: Input) -> str:
    """Free text outside a dialogue is taken as a new 困りごと, once consent and area are known
    (unless a coordinator is waiting for this resident's answer: then it goes to them)."""
    if escalation_bot.relay_answer(turn, inp):
        return IDLE
    if turn.person.consent in (CONSENT_REFUSED, CONSENT_WITHDRAWN):
        return area_flow.public_answer(turn, inp)
    if needs_consent(turn):
        return CONSENT
    if turn.person.area_id is None:
        turn.data["pending_words"] = inp.text[:4000]
        return area_flow.ask_area(turn, AREA_FOR_NEED)
    return need_flow.on_need_text(turn, inp)




def on_consent_text(turn: Turn, inp: Input) -> str:
    """Text while the consent question is open: asked again, unless consent was given meanwhile."""
    if needs_consent(turn):
        return CONSENT
    return show_menu(turn)


def ask_for_person(turn: Turn, inp: Input) -> str:
    """「人に相談したい」 typed: as the menu's item."""
    return on_menu(turn, Input("postback", verb="menu", args=["person"]))


def show_usage(turn: Turn, inp: Input) -> str:
    """「使い方」 typed: as the menu's item."""
    return on_menu(turn, Input("postback", verb="menu", args=["usage"]))

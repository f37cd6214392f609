"""The conversation, declared once: read top to bottom, it is the whole dialogue.

Each turn the stored state and the input pick one handler: first the inputs valid anywhere
(safety first, then commands typed in any state, the meeting and coordinator words), then the
state's own handlers per input kind (text, location, pb:<verb>), then the postbacks valid in any
state, then the fallbacks. A handler calls the domain, queues messages on the turn and returns
the next state. Postback data is never trusted: every handler given an id checks that the person
pressing the button may act on it.
"""
from __future__ import annotations

from typing import Any, Callable

from bot import coordinator as coordinator_bot
from bot import cases as escalation_bot
from bot import meetings as meeting_bot
from bot.dialogue import area, need, privacy, resident, safety, volunteer
from bot.dialogue.core import (DELETE_WORDS, MENU_WORDS, PERSON_WORDS, POLICY_WORDS, SHOW_DATA_WORDS,
                               USAGE_WORDS, Handler, Input, Turn, normalise_command, show_menu)
from bot.dialogue.states import (AREA_CONFIRM, AREA_FIX, AREA_FOR_NEED, AREA_HOME, AREA_INFO, CONSENT, DELETE, IDLE, NEED_CATEGORY, NEED_CONFIRM,
                                 NEED_PHONE, NEED_TEXT, NEED_WHEN, OFFER_AREAS, OFFER_CAR, OFFER_CATEGORIES,
                                 OFFER_CONFIRM, OFFER_DAYS, OFFER_TIMES, SUGGESTED)
from bot.messages.build import text
from bot.messages.resident import RESIDENT

# -- where a conversation starts ------------------------------------------------------------------
ENTRY = IDLE


# -- the states and their handlers per input kind -------------------------------------------------
STATES: dict[str, dict[str, Handler]] = {
    IDLE: {"text": resident.on_idle_text, "location": area.on_location_unasked},
    CONSENT: {"text": resident.on_consent_text},
    # area
    AREA_HOME: {"location": area.on_location, "text": area.on_area_text},  # then the menu
    AREA_FOR_NEED: {"location": area.on_location, "text": area.on_area_text},  # then the need
    AREA_INFO: {"location": area.on_location, "text": area.on_area_text},  # then public information
    AREA_FIX: {"location": area.on_location, "text": area.on_area_text},  # then the restatement
    AREA_CONFIRM: {"pb:achg": area.on_area_change},
    # a resident's need
    NEED_TEXT: {"text": need.on_need_text, "pb:cat": need.on_need_category},
    NEED_CATEGORY: {"pb:cat": need.on_need_category, "text": need.on_need_text},
    NEED_WHEN: {"pb:when": need.on_need_when_choice, "text": need.on_need_when_text},
    NEED_CONFIRM: {"pb:nc": need.on_need_confirm},
    NEED_PHONE: {"text": need.on_phone_text, "pb:phone": need.on_phone_skip},
    SUGGESTED: {},  # its buttons (pb:ok, pb:more) stay valid anywhere: a card is answered later
    DELETE: {},  # pb:del is valid anywhere
    # a volunteer's offer
    OFFER_CATEGORIES: {"pb:oc": volunteer.on_offer_category, "pb:onext": volunteer.on_offer_next},
    OFFER_AREAS: {"pb:oa": volunteer.on_offer_area, "pb:onext": volunteer.on_offer_next},
    OFFER_DAYS: {"pb:od": volunteer.on_offer_day, "pb:onext": volunteer.on_offer_next},
    OFFER_TIMES: {"pb:ot": volunteer.on_offer_time, "pb:onext": volunteer.on_offer_next},
    OFFER_CAR: {"pb:ocar": volunteer.on_offer_car},
    OFFER_CONFIRM: {"pb:oreg": volunteer.on_offer_register},
    # a coordinator writing (every text is theirs: no command, no safety reading)
    escalation_bot.ESC_NOTE: {"text": escalation_bot.on_note_text},
    escalation_bot.ESC_PROPOSAL: {"text": escalation_bot.on_proposal_text},
    escalation_bot.ESC_MESSAGE: {"text": escalation_bot.on_message_text},
}
WRITING = escalation_bot.WRITING_STATES  # states whose text is never read as anything else


# -- inputs valid anywhere ------------------------------------------------------------------------
# Texts, in this order, before the state's own handlers (not in WRITING states):
#   1. safety first: an emergency or crisis signal (safety.safety_first);
#   2. the commands below;
#   3. the meeting words (「会議の予定」, an opinion) and the coordinators' words (「相談の一覧」).
COMMANDS: list[tuple[set[str], Handler]] = [
    (MENU_WORDS, show_menu),
    (DELETE_WORDS, privacy.ask_delete),
    (SHOW_DATA_WORDS, privacy.show_held),
    (POLICY_WORDS, privacy.show_policy),
    (PERSON_WORDS, resident.ask_for_person),
    (USAGE_WORDS, resident.show_usage),
]

# Postbacks valid in every state (after the state's own): buttons stay valid on old messages.
ANYWHERE: dict[str, Handler] = {
    "pb:safe": safety.on_safety_answer,
    "pb:menu": resident.on_menu,
    "pb:consent": resident.on_consent,
    "pb:del": privacy.on_delete,
    "pb:area": area.on_area_pick,
    "pb:areas": area.on_area_page,
    "pb:arow": area.on_area_row,
    "pb:nbh": area.on_neighbourhood_page,
    "pb:m": volunteer.on_match,
    "pb:ok": need.on_resolved_by_resource,
    "pb:more": need.on_want_more,
    "pb:opause": volunteer.on_offer_pause,
    "pb:esc": escalation_bot.on_case,
}

# Postbacks whose module answers on the event context alone; the state does not change.
CONTEXT_VERBS: dict[str, Callable[[Any, list[str]], str]] = {
    "mtg": meeting_bot.on_meeting_postback,  # council meeting answers, lists, tallies
    "coord": coordinator_bot.on_coordinator_postback,  # the coordinators' rich menu
}


# -- fallbacks ------------------------------------------------------------------------------------
# text the state does not take → as in IDLE (a new 困りごと); a location → never changes a chosen
# area unasked; a postback nobody declares → 「このボタンは使えなくなりました」, state kept;
# anything else → the menu.
FALLBACK: dict[str, Handler] = {
    "text": resident.on_idle_text,
    "location": area.on_location_unasked,
}


def _stale(turn: Turn, inp: Input) -> str:
    turn.say(text(RESIDENT["stale_button"]))
    return turn.state


_COMMAND_OF: dict[str, Handler] = {normalise_command(w): h for words, h in COMMANDS for w in words}


def command_for(inp: Input) -> Handler | None:
    """Words that mean the same in every state: メニュー, わたしのデータを消す, 人に相談したい, 使い方."""
    return _COMMAND_OF.get(normalise_command(inp.text))


def step(turn: Turn, state: str, inp: Input) -> str:
    """Run one input through the conversation and return the next state."""
    turn.state = state
    if inp.kind == "text" and state not in WRITING:
        # The bot's own command words (what its menus and notices tell people to send) are
        # commands, whatever a reader of free text would make of them; every other text meets
        # the safety check first.
        command = command_for(inp)
        if command is not None:
            return command(turn, inp)
        if safety.safety_first(turn, inp):
            return IDLE
        if meeting_bot.handle_text(turn.ctx, turn.person, inp.text) is not None:
            return state
        if coordinator_bot.handle_text(turn.ctx, turn.person, inp.text) is not None:
            return state
    handler = STATES.get(state, {}).get(inp.key) or ANYWHERE.get(inp.key) or FALLBACK.get(inp.kind)
    if handler is None and inp.kind == "postback":
        context_handler = CONTEXT_VERBS.get(inp.verb)
        if context_handler is not None:
            context_handler(turn.ctx, inp.args)
            return state
        return _stale(turn, inp)
    if handler is None:
        return show_menu(turn)
    return handler(turn, inp)

"""A resident's need: the words, its category and time, the restatement, suggestions, volunteers."""
from __future__ import annotations

import re
import unicodedata


from bot import cases as escalation_bot
from bot import notify
from domain import escalation as esc_rules
from domain import matches as match_rules
from domain import needs as need_rules
from domain import people
from domain import readings
from domain.categories import CATEGORIES, label as category_label
from domain.intake import (
    describe_wanted,
    looks_like_space_offer,
    wanted_from_choice,
    wanted_from_json,
    wanted_to_json,
    wanted_from_when,
)
from domain.suggestions import suggest_resources, volunteers_to_ask
from domain.models import Need
from bot.messages import cards
from bot.messages.build import shorten, text
from bot.messages.resident import RESIDENT

from bot.dialogue.states import IDLE, AREA_FIX, AREA_HOME, NEED_TEXT, NEED_CATEGORY, NEED_WHEN, NEED_CONFIRM, NEED_PHONE, SUGGESTED
from bot.dialogue.core import Input, Turn, pb, menu_message, category_buttons, when_buttons, area_name, _need_of, show_menu, _keep_reading, SHOWN_WORDS, names_a_need
from bot.dialogue import area as area_flow


# -- a resident's need ---------------------------------------------------------------------------
def ask_need(turn: Turn) -> str:
    turn.data.pop("draft", None)
    turn.say(text(RESIDENT["ask_need"], category_buttons()))
    return NEED_TEXT


def on_need_text(turn: Turn, inp: Input) -> str:
    understood = turn.understand(inp.text)
    if looks_like_space_offer(understood.normalized):
        return record_space_offer(turn, inp.text)
    wanted = wanted_from_when(understood.when)
    draft = {"category": understood.category, "words": inp.text[:4000],
             "when": wanted_to_json(wanted),
             "area_id": turn.person.area_id}
    reading = _keep_reading(turn, understood)
    if reading is not None:
        draft["reading_id"] = reading.id
    turn.data["draft"] = draft
    if not names_a_need(understood):
        turn.say(text(RESIDENT["ask_category"], category_buttons()))
        return NEED_CATEGORY
    return restate(turn)


def on_need_category(turn: Turn, inp: Input) -> str:
    code = inp.args[0] if inp.args else ""
    if code not in CATEGORIES:
        turn.say(text(RESIDENT["stale_button"]))
        return ask_need(turn)
    draft = turn.data.setdefault("draft", {"words": "", "area_id": turn.person.area_id})
    draft["category"] = code
    if "when" not in draft:
        turn.say(text(RESIDENT["ask_when"], when_buttons()))
        return NEED_WHEN
    return restate(turn)


def on_need_when_choice(turn: Turn, inp: Input) -> str:
    choice = inp.args[0] if inp.args else ""
    try:
        wanted = wanted_from_choice(choice, turn.now)
    except ValueError:
        turn.say(text(RESIDENT["when_not_understood"], when_buttons()))
        return NEED_WHEN
    draft = turn.data.setdefault("draft", {"words": "", "area_id": turn.person.area_id})
    draft["when"] = wanted_to_json(wanted)
    return restate(turn)


def on_need_when_text(turn: Turn, inp: Input) -> str:
    understood = turn.understand(inp.text)
    if not understood.when:
        turn.say(text(RESIDENT["when_not_understood"], when_buttons()))
        return NEED_WHEN
    draft = turn.data.setdefault("draft", {"words": "", "area_id": turn.person.area_id})
    draft["when"] = wanted_to_json(wanted_from_when(understood.when))
    return restate(turn)


def restate(turn: Turn) -> str:
    draft = turn.data["draft"]
    if not draft.get("category"):
        turn.say(text(RESIDENT["ask_category"], category_buttons()))
        return NEED_CATEGORY
    if "when" not in draft:
        turn.say(text(RESIDENT["ask_when"], when_buttons()))
        return NEED_WHEN
    when = describe_wanted(wanted_from_json(draft["when"]))
    body = RESIDENT["restate"].format(category=category_label(draft["category"]),
                                      area=area_name(turn.session, draft.get("area_id")), when=when,
                                      words=shorten(draft.get("words") or "—", SHOWN_WORDS))
    turn.say(text(body, [pb(RESIDENT["confirm_yes"], "nc", "yes"), pb(RESIDENT["fix_category"], "nc", "cat"),
                         pb(RESIDENT["fix_area"], "nc", "area"), pb(RESIDENT["fix_when"], "nc", "when"),
                         pb(RESIDENT["cancel"], "nc", "cancel")]))
    return NEED_CONFIRM


def on_need_confirm(turn: Turn, inp: Input) -> str:
    choice = inp.args[0] if inp.args else ""
    if choice == "cancel":
        return show_menu(turn, lead=RESIDENT["need_cancelled"])
    if choice == "cat":
        turn.say(text(RESIDENT["ask_category"], category_buttons()))
        return NEED_CATEGORY
    if choice == "when":
        turn.say(text(RESIDENT["ask_when"], when_buttons()))
        return NEED_WHEN
    if choice == "area":
        turn.say(text(RESIDENT["ask_district"], area_flow._area_buttons(turn, None, 0, "fix")))
        return AREA_FIX
    if choice != "yes" or "draft" not in turn.data:
        return restate(turn) if "draft" in turn.data else ask_need(turn)
    draft = turn.data.pop("draft")
    need = need_rules.create_need(turn.session, person=turn.person, category=draft["category"],
                                  area=draft["area_id"], now=turn.now, wanted=wanted_from_json(draft["when"]),
                                  words=draft.get("words") or "")
    turn.data["need_id"] = need.id
    readings.resident_chose(turn.session, draft.get("reading_id"), draft["category"], need.id)
    suggestions = suggest_resources(turn.session, need, turn.now, limit=5)
    if not suggestions:
        turn.say(text(RESIDENT["suggestions_none"]))
        return ask_for_volunteers(turn, need)
    need_rules.move(need, need_rules.SUGGESTED, turn.now, by=turn.person,
                    note=f"{len(suggestions)} resources shown")
    quick = [pb(RESIDENT["ok_thanks"], "ok", need.id), pb(RESIDENT["want_more"], "more", need.id)]
    turn.say(text(RESIDENT["suggestions_intro"]), cards.suggestions_message(suggestions, quick))
    return SUGGESTED


def on_resolved_by_resource(turn: Turn, inp: Input) -> str:
    need = _need_of(turn, turn.arg_int(inp, 0))
    if need is None:
        turn.say(text(RESIDENT["not_yours"]))
        return IDLE
    if need.status in (need_rules.SUGGESTED, need_rules.RECEIVED):
        need_rules.move(need, need_rules.RESOLVED, turn.now, by=turn.person, note="resource")
    return show_menu(turn, lead=RESIDENT["resolved_by_resource"])


def on_want_more(turn: Turn, inp: Input) -> str:
    need = _need_of(turn, turn.arg_int(inp, 0))
    if need is None:
        turn.say(text(RESIDENT["not_yours"]))
        return IDLE
    turn.data["need_id"] = need.id
    if not turn.person.phone and not turn.data.get("phone_asked"):
        turn.data["phone_asked"] = True
        turn.say(text(RESIDENT["ask_phone"], [pb(RESIDENT["no_phone"], "phone", "none")]))
        return NEED_PHONE
    return ask_for_volunteers(turn, need)


PHONE_RE = re.compile(r"^0\d{1,4}-?\d{1,4}-?\d{3,4}$")


def on_phone_text(turn: Turn, inp: Input) -> str:
    phone = unicodedata.normalize("NFKC", inp.text).replace("ー", "-").replace("−", "-").strip()
    phone = re.sub(r"\s", "", phone)
    if not PHONE_RE.match(phone):
        turn.say(text(RESIDENT["phone_invalid"], [pb(RESIDENT["no_phone"], "phone", "none")]))
        return NEED_PHONE
    people.set_profile(turn.person, turn.now, phone=phone)
    return _continue_after_phone(turn)


def on_phone_skip(turn: Turn, inp: Input) -> str:
    return _continue_after_phone(turn)


def _continue_after_phone(turn: Turn) -> str:
    need = _need_of(turn, turn.data.get("need_id"))
    if need is None:
        return show_menu(turn)
    return ask_for_volunteers(turn, need)


def ask_for_volunteers(turn: Turn, need: Need) -> str:
    """Send request cards to the best few volunteers; none → the coordinator takes it."""
    chosen = volunteers_to_ask(turn.session, need, turn.now)
    matches = match_rules.ask_volunteers(turn.session, need, [v.person_id for v in chosen], turn.now,
                                         offer_ids={v.person_id: v.offer_id for v in chosen})
    if not matches:
        return escalate(turn, need, esc_rules.reason_when_nobody_to_ask(need))
    notify.send_request_cards(turn.ctx, turn.session, need, matches)
    turn.data.clear()
    turn.say(menu_message(turn.person, RESIDENT["asking_volunteers"]))
    return IDLE


def escalate(turn: Turn, need: Need | None, reason: str) -> str:
    """Hand the need to the district coordinator and tell the resident by when."""
    notice = escalation_bot.escalate_from_dialogue(turn, need, reason)
    turn.data.clear()
    turn.say(menu_message(turn.person, notice))
    return IDLE


def record_space_offer(turn: Turn, words: str) -> str:
    from domain.resources import offer_space

    area_id = turn.person.area_id
    if area_id is None:
        return area_flow.ask_area(turn, AREA_HOME)
    from bot.notifier import OutboxNotifier
    from domain.resources import rules_from_words

    space = offer_space(turn.session, turn.person, name=f"{turn.person.display_name or '住民'}さんのスペース",
                        area_id=area_id, now=turn.now, words=words[:1000], rules=rules_from_words(words))
    OutboxNotifier(turn.ctx.console_url).place_offered_to_coordinators(turn.session, space, turn.now)
    return show_menu(turn, lead=RESIDENT["space_offer_thanks"])



"""A volunteer: answers to request cards and the offer of help, step by step."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot import cases as escalation_bot
from bot import notify, postbacks, richmenu
from bot.worker import after_commit
from domain import escalation as esc_rules
from domain import matches as match_rules
from domain import offers as offer_rules
from domain import people
from domain.categories import CATEGORIES, CATEGORY_CODES
from domain.models import DISTRICT, Area, Match, Need, Person
from domain.models import VOLUNTEER as VOLUNTEER_ROLE
from domain.schedule import PART_HOURS, PARTS, WEEKDAY_JA, weekdays_of
from bot.messages import cards
from bot.messages.build import say, shorten, text
from bot.messages.resident import RESIDENT
from bot.messages.volunteer import VOLUNTEER

from bot.dialogue.states import IDLE, OFFER_CATEGORIES, OFFER_AREAS, OFFER_DAYS, OFFER_TIMES, OFFER_CAR, OFFER_CONFIRM
from bot.dialogue.core import Input, Turn, pb, area_name, _match_of, show_menu, log


# -- a volunteer's answers -----------------------------------------------------------------------
def on_match(turn: Turn, inp: Input) -> str:
    action = inp.args[0] if inp.args else ""
    match_id = turn.arg_int(inp, 1)
    if action == "apv":
        return escalation_bot.approve_from_dialogue(turn, match_id)
    if action in ("rej", "apd"):  # 見送る on the approval card (apd: cards sent before this name)
        return escalation_bot.reject_from_dialogue(turn, match_id)
    match = _match_of(turn, match_id)
    if match is None:
        turn.say(text(RESIDENT["not_yours"]))
        return IDLE
    if action == "acc":
        return accept(turn, match)
    if action == "dec":
        match_rules.decline_match(turn.session, match, turn.now)
        turn.say(text(VOLUNTEER["declined"]))
        need = turn.session.get(Need, match.need_id)
        if need is not None and match_rules.nobody_left(turn.session, need):
                escalation_bot.escalate_quietly(turn, need, esc_rules.ALL_DECLINED)
        return IDLE
    if action == "done":
        match_rules.complete_match(turn.session, match, turn.now, by=turn.person)
        turn.say(text(VOLUNTEER["thanks_done"]))
        return IDLE
    turn.say(text(RESIDENT["stale_button"]))
    return IDLE


def accept(turn: Turn, match: Match) -> str:
    result = match_rules.accept_match(turn.session, match.id, turn.now)
    if not result.won:
        turn.say(text(VOLUNTEER["taken"] if result.reason == "taken" else VOLUNTEER["closed"]))
        return IDLE
    need = turn.session.get(Need, match.need_id)
    if result.match.contact_released:
        notify.release_contacts(turn.ctx, turn.session, result.match, need, reply_to_volunteer=True)
        return IDLE
    turn.say(text(VOLUNTEER["accepted_wait_approval"]))
    resident = turn.session.get(Person, need.person_id) if need.person_id else None
    if resident is not None and resident.reachable:
        turn.ctx.push(resident.line_user_id, text(RESIDENT["volunteer_found_pending"]))
    escalation_bot.ask_approval(turn.ctx, turn.session, result.match, need)
    return IDLE


# -- a volunteer's offer -------------------------------------------------------------------------
def start_offer(turn: Turn, inp: Input | None = None) -> str:
    existing = offer_rules.offers_of(turn.session, turn.person)
    offer = existing[0] if existing else None
    turn.data["offer"] = {
        "categories": list(offer.categories) if offer else [],
        "areas": [row.area_id for row in offer.area_rows] if offer else
                 ([turn.person.area_id] if turn.person.area_id else []),
        "days": 0, "parts": 0, "car": offer.has_car if offer else False,
    }
    turn.say(text(VOLUNTEER["intro"]))
    return show_offer_categories(turn)


def show_offer_categories(turn: Turn) -> str:
    chosen = set(turn.data["offer"]["categories"])
    options = [(CATEGORIES[c].short, postbacks.encode("oc", c), c in chosen) for c in CATEGORY_CODES if c != "other"]
    turn.say(cards.choice_card(VOLUNTEER["pick_categories"], options,
                               pb(VOLUNTEER["next"], "onext", "cat")))
    return OFFER_CATEGORIES


def _toggle(values: list, value) -> list:
    return [v for v in values if v != value] if value in values else [*values, value]


def on_offer_category(turn: Turn, inp: Input) -> str:
    code = inp.args[0] if inp.args else ""
    if code in CATEGORIES and "offer" in turn.data:
        turn.data["offer"]["categories"] = _toggle(turn.data["offer"]["categories"], code)
    return show_offer_categories(turn)


def show_offer_areas(turn: Turn) -> str:
    chosen = set(turn.data["offer"]["areas"])
    districts = list(turn.session.scalars(
        select(Area).where(Area.layer == DISTRICT).order_by(Area.sort_order, Area.code)))
    options = [(shorten(a.name, 18), postbacks.encode("oa", a.id), a.id in chosen) for a in districts]
    turn.say(cards.choice_card(VOLUNTEER["pick_areas"], options, pb(VOLUNTEER["next"], "onext", "area")))
    return OFFER_AREAS


def on_offer_area(turn: Turn, inp: Input) -> str:
    area_id = turn.arg_int(inp, 0)
    if area_id is not None and turn.session.get(Area, area_id) is not None:
        turn.data["offer"]["areas"] = _toggle(turn.data["offer"]["areas"], area_id)
    return show_offer_areas(turn)


def show_offer_days(turn: Turn) -> str:
    mask = turn.data["offer"]["days"]
    options = [(WEEKDAY_JA[d] + "曜", postbacks.encode("od", d), bool(mask & (1 << d))) for d in range(7)]
    turn.say(cards.choice_card(VOLUNTEER["pick_days"], options, pb(VOLUNTEER["next"], "onext", "days")))
    return OFFER_DAYS


def on_offer_day(turn: Turn, inp: Input) -> str:
    day = turn.arg_int(inp, 0)
    if day is not None and 0 <= day <= 6:
        turn.data["offer"]["days"] ^= 1 << day
    return show_offer_days(turn)


def show_offer_times(turn: Turn) -> str:
    mask = turn.data["offer"]["parts"]
    options = [(label, postbacks.encode("ot", bit), bool(mask & bit)) for bit, (_c, label, _s, _e) in PARTS.items()]
    turn.say(cards.choice_card(VOLUNTEER["pick_times"], options, pb(VOLUNTEER["next"], "onext", "times")))
    return OFFER_TIMES


def on_offer_time(turn: Turn, inp: Input) -> str:
    bit = turn.arg_int(inp, 0)
    if bit in PARTS:
        turn.data["offer"]["parts"] ^= bit
    return show_offer_times(turn)


def on_offer_next(turn: Turn, inp: Input) -> str:
    step = inp.args[0] if inp.args else ""
    offer = turn.data.get("offer")
    if offer is None:
        return start_offer(turn)
    empty = {"cat": not offer["categories"], "area": not offer["areas"], "days": not offer["days"],
             "times": not offer["parts"]}
    if empty.get(step):
        turn.say(text(VOLUNTEER["pick_one"]))
    following = {"cat": show_offer_areas, "area": show_offer_days, "days": show_offer_times}
    current = {"cat": show_offer_categories, "area": show_offer_areas, "days": show_offer_days,
               "times": show_offer_times}
    if empty.get(step):
        return current[step](turn)
    if step in following:
        return following[step](turn)
    turn.say(text(VOLUNTEER["ask_car"], [pb(VOLUNTEER["car_yes"], "ocar", 1), pb(VOLUNTEER["car_no"], "ocar", 0)]))
    return OFFER_CAR


def offer_summary(turn: Turn, offer: dict[str, Any]) -> str:
    return VOLUNTEER["confirm"].format(
        categories="・".join(CATEGORIES[c].short for c in offer["categories"]),
        areas="・".join(area_name(turn.session, a) for a in offer["areas"]),
        days="・".join(WEEKDAY_JA[d] for d in weekdays_of(offer["days"])),
        times="・".join(PARTS[b][1] for b in PARTS if offer["parts"] & b),
        car=VOLUNTEER["car_yes"] if offer["car"] else VOLUNTEER["car_no"])


def on_offer_car(turn: Turn, inp: Input) -> str:
    turn.data["offer"]["car"] = inp.args[:1] == ["1"]
    turn.say(text(offer_summary(turn, turn.data["offer"]),
                  [pb(VOLUNTEER["register"], "oreg", "yes"), pb(VOLUNTEER["redo"], "oreg", "redo"),
                   pb(RESIDENT["cancel"], "oreg", "cancel")]))
    return OFFER_CONFIRM


def on_offer_register(turn: Turn, inp: Input) -> str:
    if inp.args[:1] == ["cancel"]:
        return show_menu(turn, lead=VOLUNTEER["offer_cancelled"])
    if inp.args[:1] != ["yes"] or "offer" not in turn.data:
        return start_offer(turn)
    offer = turn.data.pop("offer")
    slots = offer_rules.slots_from(offer["days"], offer["parts"])
    existing = offer_rules.offers_of(turn.session, turn.person)
    if existing:
        offer_rules.update_offer(turn.session, existing[0], now=turn.now, categories=offer["categories"],
                                 area_ids=offer["areas"], slots=slots, has_car=offer["car"])
    else:
        offer_rules.register_offer(turn.session, person=turn.person, categories=offer["categories"],
                                   area_ids=offer["areas"], slots=slots, has_car=offer["car"], now=turn.now)
    people.grant_role(turn.session, turn.person, VOLUNTEER_ROLE, turn.now)
    # LINE is called once the registration has committed, not while the transaction waits.
    settings, user_id, roles = getattr(turn.ctx, "settings", None), turn.person.line_user_id, set(turn.person.roles)
    after_commit(turn.session, lambda _sessions, _now: richmenu.relink(settings, user_id, roles))
    return show_menu(turn, lead=VOLUNTEER["registered"])


def show_mine(turn: Turn, inp: Input | None = None) -> str:
    offers = offer_rules.offers_of(turn.session, turn.person)
    items = [pb(RESIDENT["fix_area"], "menu", "area"), say(RESIDENT["view_label"], "わたしのデータを見る"),
             say(RESIDENT["delete_label"], "わたしのデータを消す")]
    if not offers:
        turn.say(text(RESIDENT["mine"].format(area=area_name(turn.session, turn.person.area_id),
                                              phone=turn.person.phone or "—") + "\n" + VOLUNTEER["no_offer"], items))
        return IDLE
    offer = offers[0]
    slots = slots_text(offer.slot_rows)
    body = VOLUNTEER["mine"].format(
        categories="・".join(CATEGORIES[c].short for c in offer.categories),
        areas="・".join(area_name(turn.session, r.area_id) for r in offer.area_rows),
        slots=slots or "—", car=VOLUNTEER["car_yes"] if offer.has_car else VOLUNTEER["car_no"],
        state=VOLUNTEER["state_paused"] if offer.paused else VOLUNTEER["state_active"])
    toggle = pb(VOLUNTEER["resume"], "opause", offer.id, 0) if offer.paused else pb(VOLUNTEER["pause"], "opause", offer.id, 1)
    turn.say(text(body, [pb(VOLUNTEER["change"], "menu", "help"), toggle, *items]))
    return IDLE


def slots_text(slot_rows) -> str:
    """月・水・金：午前・午後／土：夕方 — each group of days with its times (午前, not 9:00〜12:00)."""
    by_day: dict[int, list[str]] = {}
    for slot in sorted(slot_rows, key=lambda r: (r.weekday, r.start_time)):
        bit = next((b for b, hours in PART_HOURS.items() if hours == (slot.start_time, slot.end_time)), None)
        label = PARTS[bit][1] if bit else f"{slot.start_time:%H:%M}〜{slot.end_time:%H:%M}".lstrip("0")
        by_day.setdefault(slot.weekday, [])
        if label not in by_day[slot.weekday]:
            by_day[slot.weekday].append(label)
    groups: dict[str, list[int]] = {}
    for day, labels in by_day.items():
        groups.setdefault("・".join(labels), []).append(day)
    return "／".join(f"{_days_text(days)}：{times}" for times, days in groups.items()) or "—"


def _days_text(days: list[int]) -> str:
    """月・水・金, or 月〜金 for a run of three days or more."""
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return f"{WEEKDAY_JA[days[0]]}〜{WEEKDAY_JA[days[-1]]}"
    return "・".join(WEEKDAY_JA[d] for d in days)


def on_offer_pause(turn: Turn, inp: Input) -> str:
    offer_id, pause = turn.arg_int(inp, 0), inp.args[1:2] == ["1"]
    offer = next((o for o in offer_rules.offers_of(turn.session, turn.person) if o.id == offer_id), None)
    if offer is None:
        log.warning("postback.refused", reason="offer_not_own", person_id=turn.person.id)
        turn.say(text(RESIDENT["not_yours"]))
        return IDLE
    offer_rules.set_paused(offer, pause, turn.now)
    return show_menu(turn, lead=VOLUNTEER["paused"] if pause else VOLUNTEER["resumed"])



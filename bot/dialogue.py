"""The resident and volunteer dialogues: named states and one transition table.

Each turn: the stored state and the input (text, postback verb, location) pick a handler from
TABLE; the handler calls the domain, queues messages on the turn, and returns the next state.
Inputs that mean the same in every state (menu, consent, deleting one's data, a safety
signal) are handled before the table. Postback data is never trusted: every handler that is
given an id checks that the person pressing the button may act on it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import coordinator as coordinator_bot
from bot import escalation as escalation_bot
from bot import meetings as meeting_bot
from bot import notify, postbacks, richmenu
from domain.clock import TOKYO
from domain import areas as area_rules
from domain import escalation as esc_rules
from domain import matches as match_rules
from domain import needs as need_rules
from domain import offers as offer_rules
from domain import people
from domain import readings
from domain.categories import CATEGORIES, CATEGORY_CODES, label as category_label
from domain.intake import (
    describe_wanted,
    looks_like_space_offer,
    wanted_from_choice,
    wanted_from_json,
    wanted_to_json,
    wanted_from_when,
)
from domain.matching import suggest_resources, suggest_resources_for, volunteers_to_ask
from domain.models import DISTRICT, NEIGHBOURHOOD, Area, Match, Need, Person
from domain.models import VOLUNTEER as VOLUNTEER_ROLE
from domain.schedule import PARTS, WEEKDAY_JA, weekdays_of
from domain.understanding import understand
from bot.messages import cards
from bot.messages.build import Action, location as location_action, postback, say, shorten, text
from bot.messages.resident import RESIDENT
from bot.messages.volunteer import VOLUNTEER

log = structlog.get_logger(__name__)

# -- states --------------------------------------------------------------------------------------
IDLE = "idle"
CONSENT = "consent"
AREA = "area"
NEED_TEXT = "need.text"
NEED_CATEGORY = "need.category"
NEED_WHEN = "need.when"
NEED_CONFIRM = "need.confirm"
NEED_PHONE = "need.phone"
SUGGESTED = "need.suggested"
DELETE = "delete"
OFFER_CATEGORIES = "offer.categories"
OFFER_AREAS = "offer.areas"
OFFER_DAYS = "offer.days"
OFFER_TIMES = "offer.times"
OFFER_CAR = "offer.car"
OFFER_CONFIRM = "offer.confirm"

MENU_WORDS = {"メニュー", "めにゅー", "menu", "最初", "はじめ", "もどる", "戻る"}
DELETE_WORDS = {"わたしのデータを消す", "私のデータを消す", "データを消す", "データを消して", "退会"}
PERSON_WORDS = {"人に相談したい", "ひとにそうだんしたい", "人と話したい"}
USAGE_WORDS = {"使い方", "つかいかた", "ヘルプ", "help"}
SHOWN_WORDS = 60  # the resident's words are shortened to this in restatements


@dataclass
class Input:
    kind: str  # text | postback | location
    text: str = ""
    verb: str = ""
    args: list[str] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None

    @property
    def key(self) -> str:
        return f"pb:{self.verb}" if self.kind == "postback" else self.kind


@dataclass
class Turn:
    """One input from one person: the event context, the person, and the dialogue so far."""

    ctx: Any  # handlers.EventContext
    person: Person
    data: dict[str, Any]
    _understood: tuple[str, Any] | None = field(default=None, repr=False)

    @property
    def session(self) -> Session:
        return self.ctx.session

    @property
    def now(self):
        return self.ctx.now

    def say(self, *messages: dict[str, Any]) -> None:
        self.ctx.reply(*messages)

    def understand(self, text_: str):
        """What the text means (computed once per turn: safety and the need both ask)."""
        if self._understood is None or self._understood[0] != text_:
            self._understood = (text_, understand(text_, self.now.astimezone(TOKYO).date()))
        return self._understood[1]

    def arg_int(self, inp: Input, index: int) -> int | None:
        try:
            return int(inp.args[index])
        except (IndexError, ValueError):
            return None


Handler = Callable[[Turn, Input], str]


# -- small pieces --------------------------------------------------------------------------------
def pb(label: str, verb: str, *args: object, display: str | None = None) -> Action:
    return postback(label, postbacks.encode(verb, *args), display_text=display)


def menu_message(person: Person, lead: str | None = None) -> dict[str, Any]:
    items = [pb(RESIDENT["menu_ask"], "menu", "ask"), pb(RESIDENT["menu_help"], "menu", "help"),
             pb(RESIDENT["menu_info"], "menu", "info"), pb(RESIDENT["menu_person"], "menu", "person"),
             pb(RESIDENT["menu_mine"], "menu", "mine"), pb(RESIDENT["menu_usage"], "menu", "usage")]
    if not person.consented:
        items.insert(0, pb(RESIDENT["consent_yes"], "consent", "yes"))
    return text(lead or RESIDENT["menu"], items)


def consent_message() -> dict[str, Any]:
    return text(RESIDENT["privacy_notice"], [pb(RESIDENT["consent_yes"], "consent", "yes"),
                                             pb(RESIDENT["consent_no"], "consent", "no")])


def category_buttons() -> list[Action]:
    codes = [c for c in CATEGORY_CODES if c != "other"]
    return [pb(CATEGORIES[c].short, "cat", c) for c in codes][:13]


def when_buttons() -> list[Action]:
    labels = {"today": RESIDENT["when_today"], "tomorrow": RESIDENT["when_tomorrow"],
              "this_week": RESIDENT["when_this_week"], "next_week": RESIDENT["when_next_week"],
              "any": RESIDENT["when_any"]}
    return [pb(label, "when", code) for code, label in labels.items()]


area_name = notify.area_name


def normalise_command(value: str) -> str:
    return re.sub(r"[\s　。、！!？?]", "", unicodedata.normalize("NFKC", value)).lower()


def _need_of(turn: Turn, need_id: int | None) -> Need | None:
    """The need named by a postback, only if it is this person's own."""
    if need_id is None:
        return None
    need = turn.session.get(Need, need_id)
    if need is None or need.person_id != turn.person.id:
        log.warning("postback.refused", reason="need_not_own", person_id=turn.person.id, need_id=need_id)
        return None
    return need


def _match_of(turn: Turn, match_id: int | None) -> Match | None:
    """The match named by a postback, only if this person is its volunteer."""
    if match_id is None:
        return None
    match = turn.session.get(Match, match_id)
    if match is None or match.volunteer_id != turn.person.id:
        log.warning("postback.refused", reason="match_not_own", person_id=turn.person.id, match_id=match_id)
        return None
    return match


# -- menu and consent ----------------------------------------------------------------------------
def show_menu(turn: Turn, inp: Input | None = None, lead: str | None = None) -> str:
    turn.data.clear()
    turn.say(menu_message(turn.person, lead))
    return IDLE


def on_consent(turn: Turn, inp: Input) -> str:
    given = inp.args[:1] == ["yes"]
    people.record_consent(turn.person, given, turn.now)
    if not given:
        turn.data.clear()
        turn.say(menu_message(turn.person, RESIDENT["consent_declined"]))
        return IDLE
    if turn.person.area_id is None:
        turn.data["after_area"] = "menu"
        return ask_area(turn, lead=RESIDENT["consent_thanks"])
    return show_menu(turn, lead=RESIDENT["consent_thanks"] + RESIDENT["menu"])


def needs_consent(turn: Turn) -> bool:
    if turn.person.consented:
        return False
    turn.say(text(RESIDENT["consent_needed"]), consent_message())
    return True


# -- area ----------------------------------------------------------------------------------------
def _area_buttons(turn: Turn, parent_id: int | None, page: int, purpose: str) -> list[Action]:
    children = area_rules.children(turn.session, parent_id)
    if parent_id is None and len(children) == 1:  # one city: start from its districts
        children = area_rules.children(turn.session, children[0].id)
        parent_id = None
    per_page = 10
    chunk = children[page * per_page:(page + 1) * per_page]
    buttons = [pb(shorten(a.name, 20), "area", a.id, purpose, display=a.name) for a in chunk]
    if len(children) > (page + 1) * per_page:
        buttons.append(pb(RESIDENT["more"], "areas", parent_id or 0, page + 1, purpose))
    if purpose != "offer":
        buttons.append(location_action(RESIDENT["send_location"]))
    return buttons


def ask_area(turn: Turn, lead: str | None = None, purpose: str = "home") -> str:
    body = RESIDENT["ask_district"] if lead is None else lead + "\n" + RESIDENT["ask_district"]
    turn.say(text(body, _area_buttons(turn, None, 0, purpose)))
    return AREA


def on_area_page(turn: Turn, inp: Input) -> str:
    parent_id, page = turn.arg_int(inp, 0), turn.arg_int(inp, 1) or 0
    purpose = inp.args[2] if len(inp.args) > 2 else "home"
    turn.say(text(RESIDENT["ask_district"], _area_buttons(turn, parent_id or None, page, purpose)))
    return AREA


def on_area_pick(turn: Turn, inp: Input) -> str:
    area = turn.session.get(Area, turn.arg_int(inp, 0) or 0)
    purpose = inp.args[1] if len(inp.args) > 1 else "home"
    if area is None:
        turn.say(text(RESIDENT["stale_button"]))
        return IDLE
    if area.layer == DISTRICT and area_rules.children(turn.session, area.id):
        buttons = [pb(shorten(a.name, 20), "area", a.id, purpose, display=a.name)
                   for a in area_rules.children(turn.session, area.id)[:12]]
        turn.say(text(RESIDENT["ask_neighbourhood"].format(district=area.name), buttons))
        return AREA
    return area_chosen(turn, area, purpose)


def on_location(turn: Turn, inp: Input) -> str:
    area = area_rules.nearest_area(turn.session, inp.lat or 0.0, inp.lon or 0.0, NEIGHBOURHOOD)
    if area is None:
        turn.say(text(RESIDENT["area_not_found"], _area_buttons(turn, None, 0, "home")))
        return AREA
    return area_chosen(turn, area, turn.data.get("area_purpose", "home"))


def area_chosen(turn: Turn, area: Area, purpose: str) -> str:
    if purpose == "info":
        return show_info(turn, area.id)
    if purpose == "fix" and "draft" in turn.data:
        turn.data["draft"]["area_id"] = area.id
        return restate(turn)
    if not turn.person.consented:  # an area is personal data: kept only with consent
        return show_info(turn, area.id)
    people.set_area(turn.person, area, turn.now)
    after = turn.data.pop("after_area", "menu")
    lead = RESIDENT["area_set"].format(area=area_name(turn.session, area.id))
    if after == "need":
        pending = turn.data.pop("pending_words", None)
        turn.say(text(lead))
        if pending:
            return on_need_text(turn, Input("text", text=pending))
        return ask_need(turn)
    return show_menu(turn, lead=lead + "\n" + RESIDENT["menu"])


# -- public information (needs no consent) -------------------------------------------------------
def show_info(turn: Turn, area_id: int) -> str:
    found = []
    for code in ("salon", "exercise", "meals", "watch"):
        found.extend(suggest_resources_for(turn.session, category=code, area_id=area_id, now=turn.now, limit=3))
    unique = list({s.resource_id: s for s in found}.values())[:10]
    if not unique:
        turn.say(menu_message(turn.person, RESIDENT["no_info"]))
        return IDLE
    turn.say(text(RESIDENT["info_intro"]), cards.suggestions_message(unique, [pb(RESIDENT["menu_usage"], "menu", "usage"),
                                                                             say("メニュー")]))
    turn.data.clear()
    return IDLE


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
    if understood.category == "other" or understood.confidence < 0.3:
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
                         pb(RESIDENT["fix_area"], "nc", "area"), pb(RESIDENT["fix_when"], "nc", "when")]))
    return NEED_CONFIRM


def on_need_confirm(turn: Turn, inp: Input) -> str:
    choice = inp.args[0] if inp.args else ""
    if choice == "cat":
        turn.say(text(RESIDENT["ask_category"], category_buttons()))
        return NEED_CATEGORY
    if choice == "when":
        turn.say(text(RESIDENT["ask_when"], when_buttons()))
        return NEED_WHEN
    if choice == "area":
        turn.say(text(RESIDENT["ask_district"], _area_buttons(turn, None, 0, "fix")))
        turn.data["area_purpose"] = "fix"
        return AREA
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


def _keep_reading(turn: Turn, understood):
    """What the reader made of the message, for the coordinators' review (domain.readings)."""
    return readings.record(turn.session, person=turn.person, words=understood.text, category=understood.category,
                           safety=understood.safety, confidence=understood.confidence, now=turn.now,
                           signals=understood.safety_signals)


def record_space_offer(turn: Turn, words: str) -> str:
    from domain.resources import offer_space

    area_id = turn.person.area_id
    if area_id is None:
        turn.data["after_area"] = "menu"
        return ask_area(turn)
    from bot.notifier import OutboxNotifier
    from domain.resources import rules_from_words

    space = offer_space(turn.session, turn.person, name=f"{turn.person.display_name or '住民'}さんのスペース",
                        area_id=area_id, now=turn.now, words=words[:1000], rules=rules_from_words(words))
    OutboxNotifier(turn.ctx.console_url).place_offered_to_coordinators(turn.session, space, turn.now)
    return show_menu(turn, lead=RESIDENT["space_offer_thanks"])


# -- a volunteer's answers -----------------------------------------------------------------------
def on_match(turn: Turn, inp: Input) -> str:
    action = inp.args[0] if inp.args else ""
    match_id = turn.arg_int(inp, 1)
    if action == "apv":
        return escalation_bot.approve_from_dialogue(turn, match_id)
    if action == "apd":  # 見送る on the approval card
        return escalation_bot.decline_from_dialogue(turn, match_id)
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
                  [pb(VOLUNTEER["register"], "oreg", "yes"), pb(VOLUNTEER["redo"], "oreg", "redo")]))
    return OFFER_CONFIRM


def on_offer_register(turn: Turn, inp: Input) -> str:
    if inp.args[:1] != ["yes"]:
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
    richmenu.relink(getattr(turn.ctx, "settings", None), turn.person.line_user_id, turn.person.roles)
    return show_menu(turn, lead=VOLUNTEER["registered"])


def show_mine(turn: Turn, inp: Input | None = None) -> str:
    offers = offer_rules.offers_of(turn.session, turn.person)
    items = [pb(RESIDENT["fix_area"], "menu", "area"), say(RESIDENT["delete_label"], "わたしのデータを消す")]
    if not offers:
        turn.say(text(RESIDENT["mine"].format(area=area_name(turn.session, turn.person.area_id),
                                              phone=turn.person.phone or "—") + "\n" + VOLUNTEER["no_offer"], items))
        return IDLE
    offer = offers[0]
    slots = "・".join(sorted({f"{WEEKDAY_JA[s.weekday]}" for s in offer.slot_rows}, key=WEEKDAY_JA.index))
    body = VOLUNTEER["mine"].format(
        categories="・".join(CATEGORIES[c].short for c in offer.categories),
        areas="・".join(area_name(turn.session, r.area_id) for r in offer.area_rows),
        slots=slots or "—", car=VOLUNTEER["car_yes"] if offer.has_car else VOLUNTEER["car_no"],
        state=VOLUNTEER["state_paused"] if offer.paused else VOLUNTEER["state_active"])
    toggle = pb(VOLUNTEER["resume"], "opause", offer.id, 0) if offer.paused else pb(VOLUNTEER["pause"], "opause", offer.id, 1)
    turn.say(text(body, [pb(VOLUNTEER["change"], "menu", "help"), toggle, *items]))
    return IDLE


def on_offer_pause(turn: Turn, inp: Input) -> str:
    offer_id, pause = turn.arg_int(inp, 0), inp.args[1:2] == ["1"]
    offer = next((o for o in offer_rules.offers_of(turn.session, turn.person) if o.id == offer_id), None)
    if offer is None:
        log.warning("postback.refused", reason="offer_not_own", person_id=turn.person.id)
        turn.say(text(RESIDENT["not_yours"]))
        return IDLE
    offer_rules.set_paused(offer, pause, turn.now)
    return show_menu(turn, lead=VOLUNTEER["paused"] if pause else VOLUNTEER["resumed"])


# -- deleting one's data -------------------------------------------------------------------------
def ask_delete(turn: Turn, inp: Input | None = None) -> str:
    turn.say(text(RESIDENT["delete_confirm"], [pb(RESIDENT["delete_yes"], "del", "yes"),
                                               pb(RESIDENT["delete_no"], "del", "no")]))
    return DELETE


def on_delete(turn: Turn, inp: Input) -> str:
    if inp.args[:1] != ["yes"]:
        return show_menu(turn, lead=RESIDENT["delete_cancelled"])
    people.erase_person(turn.session, turn.person)
    turn.data.clear()
    turn.data["erased"] = True
    turn.say(text(RESIDENT["deleted"]))
    return IDLE


# -- the menu ------------------------------------------------------------------------------------
def on_menu(turn: Turn, inp: Input) -> str:
    item = inp.args[0] if inp.args else ""
    if item == "usage":
        turn.say(text(RESIDENT["usage"]))
        return IDLE
    if item == "info":
        turn.data["area_purpose"] = "info"
        if turn.person.area_id is not None:
            return show_info(turn, turn.person.area_id)
        return ask_area(turn, purpose="info")
    if needs_consent(turn):
        return CONSENT
    if item == "ask":
        if turn.person.area_id is None:
            turn.data["after_area"] = "need"
            return ask_area(turn)
        return ask_need(turn)
    if item == "help":
        return start_offer(turn)
    if item == "person":
        return escalate(turn, None, esc_rules.ASKED_FOR_PERSON)
    if item == "mine":
        return show_mine(turn)
    if item == "area":
        turn.data["after_area"] = "menu"
        return ask_area(turn)
    return show_menu(turn)


# -- the transition table ------------------------------------------------------------------------
# Inputs that mean the same in every state.
GLOBAL: dict[str, Handler] = {
    "pb:menu": on_menu,
    "pb:consent": on_consent,
    "pb:area": on_area_pick,
    "pb:areas": on_area_page,
    "pb:del": on_delete,
    "pb:m": on_match,
    "pb:ok": on_resolved_by_resource,
    "pb:more": on_want_more,
    "pb:opause": on_offer_pause,
    "pb:esc": escalation_bot.on_case,
}

# (state, input) → handler. One table for the whole dialogue.
TABLE: dict[str, dict[str, Handler]] = {
    IDLE: {"text": lambda t, i: on_idle_text(t, i), "location": on_location},
    CONSENT: {"text": lambda t, i: (needs_consent(t) and CONSENT) or show_menu(t)},
    AREA: {"location": on_location},
    NEED_TEXT: {"text": on_need_text, "pb:cat": on_need_category},
    NEED_CATEGORY: {"pb:cat": on_need_category, "text": on_need_text},
    NEED_WHEN: {"pb:when": on_need_when_choice, "text": on_need_when_text},
    NEED_CONFIRM: {"pb:nc": on_need_confirm},
    NEED_PHONE: {"text": on_phone_text, "pb:phone": on_phone_skip},
    SUGGESTED: {},
    DELETE: {},
    OFFER_CATEGORIES: {"pb:oc": on_offer_category, "pb:onext": on_offer_next},
    OFFER_AREAS: {"pb:oa": on_offer_area, "pb:onext": on_offer_next},
    OFFER_DAYS: {"pb:od": on_offer_day, "pb:onext": on_offer_next},
    OFFER_TIMES: {"pb:ot": on_offer_time, "pb:onext": on_offer_next},
    OFFER_CAR: {"pb:ocar": on_offer_car},
    OFFER_CONFIRM: {"pb:oreg": on_offer_register},
    escalation_bot.ESC_NOTE: {"text": escalation_bot.on_note_text},
    escalation_bot.ESC_PROPOSAL: {"text": escalation_bot.on_proposal_text},
    escalation_bot.ESC_MESSAGE: {"text": escalation_bot.on_message_text},
}


def on_idle_text(turn: Turn, inp: Input) -> str:
    """Free text outside a dialogue is taken as a new 困りごと, once consent and area are known
    (unless a coordinator is waiting for this resident's answer: then it goes to them)."""
    if escalation_bot.relay_answer(turn, inp):
        return IDLE
    if needs_consent(turn):
        return CONSENT
    if turn.person.area_id is None:
        turn.data["after_area"] = "need"
        turn.data["pending_words"] = inp.text[:4000]
        return ask_area(turn)
    return on_need_text(turn, inp)


_COMMANDS: dict[str, Handler] = {}
for _words, _handler in (
        (MENU_WORDS, show_menu),
        (DELETE_WORDS, ask_delete),
        (PERSON_WORDS, lambda t, i: on_menu(t, Input("postback", verb="menu", args=["person"]))),
        (USAGE_WORDS, lambda t, i: on_menu(t, Input("postback", verb="menu", args=["usage"])))):
    _COMMANDS.update({normalise_command(w): _handler for w in _words})


def global_text(turn: Turn, inp: Input) -> Handler | None:
    """Words that mean the same in every state: メニュー, わたしのデータを消す, 人に相談したい, 使い方."""
    return _COMMANDS.get(normalise_command(inp.text))


def safety_first(turn: Turn, inp: Input) -> bool:
    """Emergency or crisis words get the 119 guidance or the consultation lines before anything."""
    understood = turn.understand(inp.text)
    if understood.safety == "none":
        return False
    key = "emergency" if understood.safety == "emergency" else "crisis"
    told = escalation_bot.escalate_safety(turn, inp.text, understood.safety, understood.category)
    _keep_reading(turn, understood)
    turn.say(text(RESIDENT[key] + ("\n" + RESIDENT["coordinator_told"] if told else "")))
    return True


def step(turn: Turn, state: str, inp: Input) -> str:
    """Run one input through the dialogue and return the next state."""
    if inp.kind == "text":
        if safety_first(turn, inp):
            return IDLE
        command = global_text(turn, inp)
        if command is not None:
            return command(turn, inp)
        if meeting_bot.handle_text(turn.ctx, inp.text) is not None:  # 「会議の予定」, an opinion
            return state
        if coordinator_bot.handle_text(turn.ctx, turn.person, inp.text) is not None:  # 「相談の一覧」
            return state
    handler = TABLE.get(state, {}).get(inp.key) or GLOBAL.get(inp.key)
    if handler is None and inp.kind == "text":
        handler = TABLE[IDLE]["text"]
    if handler is None and inp.kind == "location":
        handler = on_location
    if handler is None and inp.kind == "postback":
        routed = postbacks.handler_for(inp.verb)
        if routed is not None:
            routed(turn.ctx, inp.args)
            return state
        turn.say(text(RESIDENT["stale_button"]))
        return state
    if handler is None:
        return show_menu(turn)
    return handler(turn, inp)

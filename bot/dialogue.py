"""The resident and volunteer dialogues: named states and one transition table.

Each turn: the stored state and the input (text, postback verb, location) pick a handler from
TABLE; the handler calls the domain, queues messages on the turn, and returns the next state.
Inputs that mean the same in every state (menu, consent, deleting one's data, a safety
signal) are handled before the table. Postback data is never trusted: every handler that is
given an id checks that the person pressing the button may act on it.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import coordinator as coordinator_bot
from bot import cases as escalation_bot
from bot import meetings as meeting_bot
from bot import notify, outbox, postbacks, richmenu
from domain.clock import TOKYO
from domain import areas as area_rules
from domain import escalation as esc_rules
from domain import matches as match_rules
from domain import needs as need_rules
from domain import offers as offer_rules
from domain import people
from domain import personal_data, readings
from domain.categories import CATEGORIES, CATEGORY_CODES, label as category_label
from domain.intake import (
    describe_wanted,
    looks_like_space_offer,
    wanted_from_choice,
    wanted_from_json,
    wanted_to_json,
    wanted_from_when,
)
from domain.suggestions import suggest_resources, suggest_resources_for, volunteers_to_ask
from domain.models import CONSENT_REFUSED, CONSENT_WITHDRAWN, DISTRICT, Area, Match, Need, Person
from domain.models import VOLUNTEER as VOLUNTEER_ROLE
from domain.schedule import PART_HOURS, PARTS, WEEKDAY_JA, weekdays_of
from domain.understanding import understand
from bot.messages import cards
from bot.messages.build import Action, location as location_action, postback, say, shorten, text, uri
from bot.messages.coordinator import COORDINATOR
from bot.messages.resident import RESIDENT, SAFETY_ANSWERS, SAFETY_CALLS, SAFETY_TEXT
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
AREA_CONFIRM = "area.confirm"

MENU_WORDS = {"メニュー", "めにゅー", "menu", "最初", "はじめ", "もどる", "戻る"}
DELETE_WORDS = {"わたしのデータを消す", "私のデータを消す", "データを消す", "データを消して", "退会"}
SHOW_DATA_WORDS = {"わたしのデータを見る", "私のデータを見る", "わたしのでーたをみる", "データを見る", "データを見せて"}
POLICY_WORDS = {"プライバシー", "ぷらいばしー", "個人情報", "プライバシーポリシー"}
PERSON_WORDS = {"人に相談したい", "ひとにそうだんしたい", "人と話したい"}
USAGE_WORDS = {"使い方", "つかいかた", "ヘルプ", "help"}
SHOWN_WORDS = 60  # the resident's words are shortened to this in restatements
URGENT_CATEGORY_CONFIDENCE = 0.6  # below this an urgent case is filed as 緊急, not as a category


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


def consent_message(settings: Any = None) -> dict[str, Any]:
    """The privacy notice with 同意する / 同意しない; the full policy's link when it is served."""
    url = getattr(settings, "privacy_url", "") if settings is not None else ""
    body = RESIDENT["privacy_notice"] + ("\n" + RESIDENT["privacy_link"].format(url=url) if url else "")
    return text(body, [pb(RESIDENT["consent_yes"], "consent", "yes"),
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
    if not given and turn.person.consented:
        # Withdrawn: what consent covered goes, by the one erasure routine; the LINE id stays.
        _erase(turn, personal_data.WITHDRAW)
        turn.data.clear()
        turn.say(menu_message(turn.person, RESIDENT["consent_withdrawn"]))
        return IDLE
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
    turn.say(text(RESIDENT["consent_needed"]), consent_message(turn.ctx.settings))
    return True


# -- area ----------------------------------------------------------------------------------------
AREA_PER_PAGE = 9      # with まえへ・つぎへ・もどる and 位置情報 that is 13, LINE's most
AREA_DIRECT = 11       # up to this many districts are buttons at once; more are found by kana row


def _radius_m(turn: Turn) -> float:
    return 1000 * float(getattr(getattr(turn.ctx, "settings", None), "area_radius_km", 8.0))


def _districts(turn: Turn, parent_id: int | None = None) -> list[Area]:
    children = area_rules.children(turn.session, parent_id)
    if parent_id is None and len(children) == 1:  # one city: start from its districts
        children = area_rules.children(turn.session, children[0].id)
    return children


def _area_button(area: Area, purpose: str, row: str = "", page: int = 0) -> Action:
    return pb(shorten(area.name, 20), "area", area.id, purpose, row, page, display=area.name)


def _with_location(buttons: list[Action], purpose: str) -> list[Action]:
    if purpose != "offer":
        buttons.append(location_action(RESIDENT["send_location"]))
    return buttons


def _row_label(row: str) -> str:
    return RESIDENT["kana_other"] if row == area_rules.OTHER_ROW else RESIDENT["kana_row"].format(row=row)


def _area_buttons(turn: Turn, parent_id: int | None, page: int, purpose: str) -> list[Action]:
    """The first list: the districts themselves when few, else their kana rows (あ行・か行 …)."""
    districts = _districts(turn, parent_id)
    if len(districts) <= AREA_DIRECT:
        return _with_location([_area_button(a, purpose) for a in districts], purpose)
    order = [row for row, _members in area_rules.KANA_ROWS] + [area_rules.OTHER_ROW]
    rows = sorted({area_rules.kana_row(a) for a in districts}, key=order.index)
    return _with_location([pb(_row_label(r), "arow", r, 0, purpose) for r in rows], purpose)


def _paged(items: list[Action], page: int, more: Callable[[str, int], Action], back: Action | None,
           purpose: str) -> list[Action]:
    """One page of area buttons with まえへ / つぎへ that keep their place, and もどる."""
    page = max(0, min(page, max(0, (len(items) - 1) // AREA_PER_PAGE)))
    buttons = items[page * AREA_PER_PAGE:(page + 1) * AREA_PER_PAGE]
    if page > 0:
        buttons.append(more(RESIDENT["previous"], page - 1))
    if len(items) > (page + 1) * AREA_PER_PAGE:
        buttons.append(more(RESIDENT["more"], page + 1))
    if back is not None:
        buttons.append(back)
    return _with_location(buttons, purpose)


def ask_area(turn: Turn, lead: str | None = None, purpose: str = "home") -> str:
    turn.data["area_purpose"] = purpose
    body = RESIDENT["ask_district"] if lead is None else lead + "\n" + RESIDENT["ask_district"]
    turn.say(text(body, _area_buttons(turn, None, 0, purpose)))
    return AREA


def on_area_page(turn: Turn, inp: Input) -> str:
    parent_id = turn.arg_int(inp, 0)
    purpose = inp.args[2] if len(inp.args) > 2 else "home"
    turn.data["area_purpose"] = purpose
    turn.say(text(RESIDENT["ask_district"], _area_buttons(turn, parent_id or None, 0, purpose)))
    return AREA


def on_area_row(turn: Turn, inp: Input) -> str:
    """v1|arow|<row>|<page>|<purpose>: the districts whose reading starts in one kana row."""
    row = inp.args[0] if inp.args else ""
    page = turn.arg_int(inp, 1) or 0
    purpose = inp.args[2] if len(inp.args) > 2 else "home"
    turn.data["area_purpose"] = purpose
    found = [a for a in _districts(turn) if area_rules.kana_row(a) == row]
    if not found:
        return on_area_page(turn, Input("postback", verb="areas", args=["0", "0", purpose]))
    items = [_area_button(a, purpose, row, page) for a in found]
    buttons = _paged(items, page, lambda label, p: pb(label, "arow", row, p, purpose),
                     pb(RESIDENT["back"], "areas", 0, 0, purpose), purpose)
    turn.say(text(RESIDENT["ask_district_row"].format(row=_row_label(row)), buttons))
    return AREA


def _ask_neighbourhood(turn: Turn, district: Area, purpose: str, row: str = "", page: int = 0,
                       nb_page: int = 0) -> str:
    back = (pb(RESIDENT["back"], "arow", row, page, purpose) if row
            else pb(RESIDENT["back"], "areas", 0, 0, purpose))
    items = [_area_button(a, purpose, row, page) for a in area_rules.children(turn.session, district.id)]
    buttons = _paged(items, nb_page, lambda label, p: pb(label, "nbh", district.id, p, purpose, row, page),
                     back, purpose)
    turn.say(text(RESIDENT["ask_neighbourhood"].format(district=district.name), buttons))
    return AREA


def on_neighbourhood_page(turn: Turn, inp: Input) -> str:
    """v1|nbh|<district>|<page>|<purpose>|<row>|<row page>"""
    district = turn.session.get(Area, turn.arg_int(inp, 0) or 0)
    if district is None:
        turn.say(text(RESIDENT["stale_button"]))
        return IDLE
    purpose = inp.args[2] if len(inp.args) > 2 else "home"
    row = inp.args[3] if len(inp.args) > 3 else ""
    return _ask_neighbourhood(turn, district, purpose, row, turn.arg_int(inp, 4) or 0, turn.arg_int(inp, 1) or 0)


def on_area_pick(turn: Turn, inp: Input) -> str:
    area = turn.session.get(Area, turn.arg_int(inp, 0) or 0)
    purpose = inp.args[1] if len(inp.args) > 1 else "home"
    if area is None:
        turn.say(text(RESIDENT["stale_button"]))
        return IDLE
    if area.layer == DISTRICT and area_rules.children(turn.session, area.id):
        row = inp.args[2] if len(inp.args) > 2 else ""
        return _ask_neighbourhood(turn, area, purpose, row, turn.arg_int(inp, 3) or 0)
    return area_chosen(turn, area, purpose)


def on_area_text(turn: Turn, inp: Input) -> str:
    """A typed district or neighbourhood name: 「日和田地区」「日和田」「ひわだ」, small typos too."""
    purpose = turn.data.get("area_purpose", "home")
    found = area_rules.find_areas_by_name(turn.session, inp.text)
    if len(found) == 1:
        area = found[0]
        if area.layer == DISTRICT and area_rules.children(turn.session, area.id):
            return _ask_neighbourhood(turn, area, purpose)
        return area_chosen(turn, area, purpose)
    if found:
        buttons = [pb(shorten(area_name(turn.session, a.id), 20), "area", a.id, purpose,
                      display=a.name) for a in found[:AREA_DIRECT]]
        turn.say(text(RESIDENT["area_which"], _with_location(buttons, purpose)))
        return AREA
    if turn.understand(inp.text).category != "other":  # a need typed instead: keep it for after
        return TABLE[IDLE]["text"](turn, inp)
    turn.say(text(RESIDENT["area_not_recognised"].format(words=shorten(inp.text, 20)),
                  _area_buttons(turn, None, 0, purpose)))
    return AREA


def _too_far(turn: Turn, area: Area | None, metres: float | None) -> bool:
    return area is None or metres is None or metres > _radius_m(turn)


def _ask_far(turn: Turn, purpose: str) -> str:
    turn.data["area_purpose"] = purpose
    turn.say(text(RESIDENT["location_far"], _area_buttons(turn, None, 0, purpose)))
    return AREA


def on_location(turn: Turn, inp: Input) -> str:
    """A location sent when the bot asked for the area."""
    purpose = turn.data.get("area_purpose", "home")
    area, metres = area_rules.locate(turn.session, inp.lat or 0.0, inp.lon or 0.0)
    if _too_far(turn, area, metres):
        return _ask_far(turn, purpose)
    return area_chosen(turn, area, purpose)


def on_location_unasked(turn: Turn, inp: Input) -> str:
    """A location sent in the middle of something else: never changes a chosen area unasked."""
    area, metres = area_rules.locate(turn.session, inp.lat or 0.0, inp.lon or 0.0)
    if _too_far(turn, area, metres):
        turn.data.setdefault("after_area", "menu")
        return _ask_far(turn, "home")
    current = turn.person.area_id
    if not turn.person.consented or current is None:
        return area_chosen(turn, area, "home")
    if current == area.id:
        return _back_to_flow(turn, RESIDENT["area_same"].format(area=area_name(turn.session, current)))
    turn.data["pending_area"] = area.id
    turn.say(text(RESIDENT["area_change_confirm"].format(old=area_name(turn.session, current),
                                                         new=area_name(turn.session, area.id)),
                  [pb(RESIDENT["area_change_yes"], "achg", area.id), pb(RESIDENT["cancel"], "achg", "no")]))
    return AREA_CONFIRM


def _back_to_flow(turn: Turn, lead: str) -> str:
    """After a side question, back to the need being written, else to the menu."""
    if "draft" in turn.data:
        turn.say(text(lead))
        return restate(turn)
    return show_menu(turn, lead=lead + "\n" + RESIDENT["menu"])


def on_area_change(turn: Turn, inp: Input) -> str:
    """v1|achg|<area id>|no: the answer to 「地区を変えますか？」."""
    pending = turn.data.pop("pending_area", None)
    area = turn.session.get(Area, turn.arg_int(inp, 0) or 0)
    if area is None or area.id != pending or not turn.person.consented:
        return _back_to_flow(turn, RESIDENT["area_kept"].format(area=area_name(turn.session, turn.person.area_id)))
    people.set_area(turn.person, area, turn.now)
    if "draft" in turn.data:
        turn.data["draft"]["area_id"] = area.id
    return _back_to_flow(turn, RESIDENT["area_set"].format(area=area_name(turn.session, area.id)))


def area_chosen(turn: Turn, area: Area, purpose: str) -> str:
    turn.data.pop("area_purpose", None)
    if purpose == "info" or purpose.startswith("info."):
        return show_info(turn, area.id, purpose.partition(".")[2] or None)
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
def show_info(turn: Turn, area_id: int, category: str | None = None) -> str:
    """Public resource information for an area (for one need category when one was read)."""
    found = []
    codes = (category,) if category in CATEGORIES and category != "other" else ("salon", "exercise", "meals", "watch")
    for code in codes:
        found.extend(suggest_resources_for(turn.session, category=code, area_id=area_id, now=turn.now,
                                           limit=5 if category else 3))
    unique = list({s.resource_id: s for s in found}.values())[:10]
    if not unique and category:
        return show_info(turn, area_id)
    if not unique:
        turn.say(menu_message(turn.person, RESIDENT["no_info"]))
        return IDLE
    quick = [pb(RESIDENT["menu_usage"], "menu", "usage"), say("メニュー")]
    if not turn.person.consented:
        quick.insert(0, pb(RESIDENT["consent_yes"], "consent", "yes"))
    intro = RESIDENT["info_intro_for"].format(area=area_name(turn.session, area_id),
                                             category=category_label(category)) if category else RESIDENT["info_intro"]
    turn.say(text(intro), cards.suggestions_message(unique, quick))
    turn.data.clear()
    return IDLE


def public_answer(turn: Turn, inp: Input) -> str:
    """Without consent a typed need is not kept: the public information for the area the person
    names (asked with buttons when the words name none) is all the bot can give."""
    understood = turn.understand(inp.text)
    category = understood.category if understood.category != "other" else ""
    named = area_rules.areas_named_in(turn.session, inp.text)
    if named and not category:  # read the need without the place name in the way
        rest = turn.understand(area_rules.without_area_names(inp.text, named[:1]))
        category = rest.category if rest.category != "other" else ""
    if named:
        turn.say(text(RESIDENT["public_only"]))
        return show_info(turn, named[0].id, category or None)
    purpose = f"info.{category}" if category else "info"
    return ask_area(turn, lead=RESIDENT["public_only"], purpose=purpose)


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
    richmenu.relink(getattr(turn.ctx, "settings", None), turn.person.line_user_id, turn.person.roles)
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
    "pb:arow": on_area_row,
    "pb:nbh": on_neighbourhood_page,
    "pb:del": on_delete,
    "pb:m": on_match,
    "pb:ok": on_resolved_by_resource,
    "pb:more": on_want_more,
    "pb:opause": on_offer_pause,
    "pb:esc": escalation_bot.on_case,
    "pb:safe": lambda t, i: on_safety_answer(t, i),
}

# (state, input) → handler. One table for the whole dialogue.
TABLE: dict[str, dict[str, Handler]] = {
    IDLE: {"text": lambda t, i: on_idle_text(t, i), "location": on_location_unasked},
    CONSENT: {"text": lambda t, i: (needs_consent(t) and CONSENT) or show_menu(t)},
    AREA: {"location": on_location, "text": on_area_text},
    AREA_CONFIRM: {"pb:achg": on_area_change},
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
    if turn.person.consent in (CONSENT_REFUSED, CONSENT_WITHDRAWN):
        return public_answer(turn, inp)
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
        (SHOW_DATA_WORDS, show_held),
        (POLICY_WORDS, show_policy),
        (PERSON_WORDS, lambda t, i: on_menu(t, Input("postback", verb="menu", args=["person"]))),
        (USAGE_WORDS, lambda t, i: on_menu(t, Input("postback", verb="menu", args=["usage"])))):
    _COMMANDS.update({normalise_command(w): _handler for w in _words})


def global_text(turn: Turn, inp: Input) -> Handler | None:
    """Words that mean the same in every state: メニュー, わたしのデータを消す, 人に相談したい, 使い方."""
    return _COMMANDS.get(normalise_command(inp.text))


# -- safety first (issue 10) ---------------------------------------------------------------------
SAFETY_CHECK = "safety_check"  # turn.data key: a suspected signal waiting for the resident's answer
_NUMBER_FIELDS = ("emergency", "police", "emergency_advice", "police_consultation", "consumer_hotline",
                  "elder_abuse", "community_care", "yorisoi", "mental_health", "dv_navi", "dv_plus")


@functools.lru_cache(maxsize=1)
def safety_numbers() -> dict[str, str]:
    """The phone numbers of the safety answers (Config: SASAEAI_*_NUMBER), read once."""
    from domain.settings import Config

    config = Config.from_env()
    return {key: str(getattr(config, f"{key}_number", "") or "").strip() for key in _NUMBER_FIELDS}


def _tel(number: str) -> str:
    return "tel:" + number.replace("#", "%23").replace("-", "")


def safety_guidance(signal: str | None, level: str, extra: str = "") -> tuple[str, list[Action]]:
    """The family's guidance and its tel: buttons (an emergency is never answered with a resource)."""
    family = signal if signal in SAFETY_ANSWERS else ("medical" if level == "emergency" else "despair")
    numbers = safety_numbers()
    lines = []
    for line, needs in SAFETY_ANSWERS[family]:
        # a key "-x" means: only when number x is not configured
        if any(bool(numbers.get(k[1:])) if k.startswith("-") else not numbers.get(k) for k in needs):
            continue
        lines.append(line.format(**numbers))
    if extra:
        lines.append(extra)
    calls: list[Action] = []
    for label, key in SAFETY_CALLS[family]:
        if numbers.get(key):
            calls.append(uri(label.format(n=numbers[key]), _tel(numbers[key])))
    return "\n".join(lines), calls


def safety_answer(signal: str | None, level: str, extra: str = "") -> dict[str, Any]:
    body, calls = safety_guidance(signal, level, extra)
    return text(body, calls or None)


def safety_first(turn: Turn, inp: Input) -> bool:
    """Emergency or crisis signals get their family's answer before anything. Sure: an urgent
    case at once. Only suspected: the answer anyway, one question (はい/いいえ) and a 要確認
    case; いいえ continues with the need."""
    understood = turn.understand(inp.text)
    if understood.safety == "none":
        return False
    # The case keeps the need's category only when it is clearly read; otherwise it is shown as
    # 緊急 with the words (「夫が倒れて動かない」 is not スマホ・機器 because of 動かない).
    category = understood.category if understood.confidence >= URGENT_CATEGORY_CONFIDENCE else "other"
    _keep_reading(turn, understood)
    if understood.suspected:
        told = escalation_bot.escalate_safety(turn, inp.text, understood.safety, category,
                                              suspected=True)
        turn.data[SAFETY_CHECK] = {"words": inp.text[:4000], "level": understood.safety,
                                   "signal": understood.signal, "category": category,
                                   "need_id": turn.data.pop("safety_need_id", None)}
        ask = SAFETY_TEXT["ask_emergency" if understood.safety == "emergency" else "ask_crisis"]
        body, calls = safety_guidance(understood.signal, understood.safety,
                                      SAFETY_TEXT["check_told"] if told else "")
        # the buttons sit under the last message only: the question carries the tel: ones too
        buttons = [pb(SAFETY_TEXT["yes"], "safe", "yes"), pb(SAFETY_TEXT["no"], "safe", "no"), *calls]
        turn.say(text(body), text(ask, buttons))
        return True
    told = escalation_bot.escalate_safety(turn, inp.text, understood.safety, category)
    turn.say(safety_answer(understood.signal, understood.safety, SAFETY_TEXT["coordinator_told"] if told else ""))
    return True


def on_safety_answer(turn: Turn, inp: Input) -> str:
    """The answer to 「いま命にかかわる状態ですか」/「だれかに危ないことをされていますか」."""
    pending = turn.data.pop(SAFETY_CHECK, None)
    if not pending:
        turn.say(text(RESIDENT["stale_button"]))
        return IDLE
    if (inp.args[0] if inp.args else "") == "yes":
        escalation_bot.escalate_safety(turn, pending["words"], pending["level"], pending.get("category") or "other",
                                       need_id=pending.get("need_id"))
        turn.say(safety_answer(pending.get("signal"), pending["level"], SAFETY_TEXT["confirmed"]))
        return IDLE
    turn.say(text(SAFETY_TEXT["not_urgent"]))
    return on_idle_text(turn, Input("text", text=pending["words"]))


def step(turn: Turn, state: str, inp: Input) -> str:
    """Run one input through the dialogue and return the next state."""
    if inp.kind == "text" and state not in escalation_bot.WRITING_STATES:
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
        handler = on_location_unasked
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

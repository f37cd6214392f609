"""Choosing an area (home, for a need, for public information, to fix a draft) and public information."""
from __future__ import annotations

from typing import Callable


from domain import areas as area_rules
from domain import people
from domain.categories import CATEGORIES, label as category_label
from domain.suggestions import suggest_resources_for
from domain.models import DISTRICT, Area
from bot.messages import cards
from bot.messages.build import Action, location as location_action, say, shorten, text
from bot.messages.resident import RESIDENT

from bot.dialogue.states import IDLE, AREA_CONFIRM, AREA_FIX, AREA_FOR_NEED, AREA_HOME, AREA_INFO
from bot.dialogue.core import Input, Turn, pb, menu_message, area_name, show_menu, names_a_need
from bot.dialogue import need as need_flow, resident as resident_flow


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


def _purpose(turn: Turn, state: str) -> str:
    """What the area buttons carry (v1|area|<id>|<purpose>…), for an area state."""
    if state == AREA_INFO:
        category = turn.data.get("info_category")
        return f"info.{category}" if category else "info"
    return "fix" if state == AREA_FIX else "home"


def _state_for(turn: Turn, purpose: str) -> str:
    """The area state for the purpose an area button carries (a button of an old message too)."""
    if purpose == "fix":
        return AREA_FIX
    if purpose == "info" or purpose.startswith("info."):
        if purpose.partition(".")[2]:
            turn.data["info_category"] = purpose.partition(".")[2]
        else:
            turn.data.pop("info_category", None)
        return AREA_INFO
    return AREA_FOR_NEED if turn.state == AREA_FOR_NEED else AREA_HOME


def ask_area(turn: Turn, state: str = AREA_HOME, lead: str | None = None, category: str | None = None) -> str:
    """Ask for an area; `state` says what for (AREA_HOME, AREA_FOR_NEED, AREA_INFO, AREA_FIX)."""
    if category:
        turn.data["info_category"] = category
    body = RESIDENT["ask_district"] if lead is None else lead + "\n" + RESIDENT["ask_district"]
    turn.say(text(body, _area_buttons(turn, None, 0, _purpose(turn, state))))
    return state


def on_area_page(turn: Turn, inp: Input) -> str:
    parent_id = turn.arg_int(inp, 0)
    purpose = inp.args[2] if len(inp.args) > 2 else "home"
    turn.say(text(RESIDENT["ask_district"], _area_buttons(turn, parent_id or None, 0, purpose)))
    return _state_for(turn, purpose)


def on_area_row(turn: Turn, inp: Input) -> str:
    """v1|arow|<row>|<page>|<purpose>: the districts whose reading starts in one kana row."""
    row = inp.args[0] if inp.args else ""
    page = turn.arg_int(inp, 1) or 0
    purpose = inp.args[2] if len(inp.args) > 2 else "home"
    found = [a for a in _districts(turn) if area_rules.kana_row(a) == row]
    if not found:
        return on_area_page(turn, Input("postback", verb="areas", args=["0", "0", purpose]))
    items = [_area_button(a, purpose, row, page) for a in found]
    buttons = _paged(items, page, lambda label, p: pb(label, "arow", row, p, purpose),
                     pb(RESIDENT["back"], "areas", 0, 0, purpose), purpose)
    turn.say(text(RESIDENT["ask_district_row"].format(row=_row_label(row)), buttons))
    return _state_for(turn, purpose)


def _ask_neighbourhood(turn: Turn, district: Area, purpose: str, row: str = "", page: int = 0,
                       nb_page: int = 0) -> str:
    back = (pb(RESIDENT["back"], "arow", row, page, purpose) if row
            else pb(RESIDENT["back"], "areas", 0, 0, purpose))
    items = [_area_button(a, purpose, row, page) for a in area_rules.children(turn.session, district.id)]
    buttons = _paged(items, nb_page, lambda label, p: pb(label, "nbh", district.id, p, purpose, row, page),
                     back, purpose)
    turn.say(text(RESIDENT["ask_neighbourhood"].format(district=district.name), buttons))
    return _state_for(turn, purpose)


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
    purpose = _purpose(turn, turn.state)
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
        return turn.state
    if names_a_need(turn.understand(inp.text)):  # a need typed instead: keep it for after
        return resident_flow.on_idle_text(turn, inp)
    turn.say(text(RESIDENT["area_not_recognised"].format(words=shorten(inp.text, 20)),
                  _area_buttons(turn, None, 0, purpose)))
    return turn.state


def _too_far(turn: Turn, area: Area | None, metres: float | None) -> bool:
    return area is None or metres is None or metres > _radius_m(turn)


def _ask_far(turn: Turn, state: str) -> str:
    turn.say(text(RESIDENT["location_far"], _area_buttons(turn, None, 0, _purpose(turn, state))))
    return state


def on_location(turn: Turn, inp: Input) -> str:
    """A location sent when the bot asked for the area."""
    area, metres = area_rules.locate(turn.session, inp.lat or 0.0, inp.lon or 0.0)
    if _too_far(turn, area, metres):
        return _ask_far(turn, turn.state)
    return area_chosen(turn, area, _purpose(turn, turn.state))


def on_location_unasked(turn: Turn, inp: Input) -> str:
    """A location sent in the middle of something else: never changes a chosen area unasked."""
    area, metres = area_rules.locate(turn.session, inp.lat or 0.0, inp.lon or 0.0)
    if _too_far(turn, area, metres):
        return _ask_far(turn, AREA_HOME)
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
        return need_flow.restate(turn)
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
    if purpose == "info" or purpose.startswith("info."):
        return show_info(turn, area.id, purpose.partition(".")[2] or None)
    if purpose == "fix" and "draft" in turn.data:
        turn.data["draft"]["area_id"] = area.id
        return need_flow.restate(turn)
    if not turn.person.consented:  # an area is personal data: kept only with consent
        return show_info(turn, area.id)
    people.set_area(turn.person, area, turn.now)
    lead = RESIDENT["area_set"].format(area=area_name(turn.session, area.id))
    if turn.state == AREA_FOR_NEED:
        pending = turn.data.pop("pending_words", None)
        turn.say(text(lead))
        if pending:
            return need_flow.on_need_text(turn, Input("text", text=pending))
        return need_flow.ask_need(turn)
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
    return ask_area(turn, AREA_INFO, lead=RESIDENT["public_only"], category=category or None)



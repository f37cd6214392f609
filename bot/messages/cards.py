"""Flex messages: suggestion carousels, request cards, multi-select cards.

Large type and few words: the readers are often over 75.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from bot.messages import postback as postbacks
from domain.suggestions import ResourceSuggestion
from bot.messages.build import Action, Message, flex, postback, shorten, uri
from bot.messages.coordinator import COORDINATOR
from bot.messages.resident import RESIDENT
from bot.messages.volunteer import VOLUNTEER

Box = dict[str, Any]
ACCENT = "#E8743B"
MUTED = "#666666"


def _text(value: str, *, size: str = "md", bold: bool = False, color: str | None = None,
          wrap: bool = True) -> Box:
    node: Box = {"type": "text", "text": value or " ", "size": size, "wrap": wrap}
    if bold:
        node["weight"] = "bold"
    if color:
        node["color"] = color
    return node


def _row(label: str, value: str) -> Box:
    return {"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
        _text(label, size="sm", color=MUTED, wrap=False) | {"flex": 2},
        _text(value, size="md") | {"flex": 7},
    ]}


def _button(action: Action, primary: bool = False) -> Box:
    node: Box = {"type": "button", "action": action, "height": "sm",
                 "style": "primary" if primary else "secondary"}
    if primary:
        node["color"] = ACCENT
    return node


def _bubble(title: str, rows: Sequence[Box], buttons: Sequence[Box] = ()) -> Box:
    bubble: Box = {
        "type": "bubble", "size": "mega",
        "body": {"type": "box", "layout": "vertical", "spacing": "md",
                 "contents": [_text(shorten(title, 60), size="lg", bold=True), *rows]},
    }
    if buttons:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": list(buttons)}
    return bubble


def tel_uri(phone: str) -> str | None:
    digits = re.sub(r"[^0-9+]", "", phone or "")
    return f"tel:{digits}" if len(digits) >= 3 else None


# Numbers said in safety answers: 119番, #7119, 0570-064-556, 188 … (each becomes a dial button).
_DIALLABLE = re.compile(r"#\d{4}|0\d{1,4}-\d{1,4}-\d{3,4}|(?<![\d-])(?:110|119|188|189)(?![\d-])")


def _place(s: ResourceSuggestion) -> str:
    """The place's name and address; an address that only names the city says nothing."""
    address = s.address.strip()
    if address.endswith(("市", "町", "村")) and len(address) <= 5:
        address = ""
    parts = [p for p in (s.venue.strip(), address) if p]
    return "\n".join(dict.fromkeys(parts))


def suggestion_bubble(s: ResourceSuggestion) -> Box:
    """One layout for every suggestion: なに, いつ (the schedule only), どこ, きょり, and a
    button that dials whenever there is a phone number."""
    rows = []
    if s.what:
        rows.append(_row(RESIDENT["card_what_is"], shorten(s.what, 60)))
    rows.append(_row(RESIDENT["card_when"], shorten(s.when_text, 80)))
    if not s.fits_time:
        rows.append(_text(RESIDENT["card_other_time"], size="sm", bold=True, color="#C0392B"))
    place = _place(s)
    if place:
        rows.append(_row(RESIDENT["card_where"], shorten(place, 120)))
    if s.distance_text:
        rows.append(_row(RESIDENT["card_distance"], s.distance_text))
    buttons = []
    phone_link = tel_uri(s.phone)
    if phone_link:
        rows.append(_row(RESIDENT["card_tel"], s.phone))
        buttons.append(_button(uri(RESIDENT["card_phone"], phone_link), primary=True))
    return _bubble(s.name, rows, buttons)


def suggestions_message(suggestions: Sequence[ResourceSuggestion], quick: Sequence[Action] = ()) -> Message:
    bubbles = [suggestion_bubble(s) for s in suggestions[:10]]
    contents = bubbles[0] if len(bubbles) == 1 else {"type": "carousel", "contents": bubbles}
    alt = RESIDENT["suggestions_alt"].format(count=len(bubbles)) + "：" + "、".join(s.name for s in suggestions[:5])
    return flex(alt, contents, quick)


def request_card(match_id: int, category: str, area: str, when: str) -> Message:
    """What a volunteer sees before accepting: no name, no address."""
    rows = [_row(RESIDENT["card_what"], category), _row(RESIDENT["card_where"], area),
            _row(RESIDENT["card_when"], when)]
    buttons = [_button(postback(VOLUNTEER["accept"], postbacks.encode("m", "acc", match_id)), primary=True),
               _button(postback(VOLUNTEER["decline"], postbacks.encode("m", "dec", match_id)))]
    return flex(VOLUNTEER["request_alt"].format(category=category, area=area),
                _bubble(VOLUNTEER["request_title"], rows, buttons))


def approval_card(match_id: int, volunteer: str, category: str, area: str, when: str, why: str = "") -> Message:
    """承認する or 見送る, with the reason this category needs the coordinator's approval."""
    body = COORDINATOR["approval_body"].format(volunteer=volunteer, category=category, area=area, when=when)
    rows = [_text(body)]
    if why:
        rows.append(_row(COORDINATOR["approval_why"], why))
    buttons = [_button(postback(COORDINATOR["approve"], postbacks.encode("m", "apv", match_id)), primary=True),
               _button(postback(COORDINATOR["reject"], postbacks.encode("m", "rej", match_id)))]
    return flex(COORDINATOR["approval_alt"].format(category=category, area=area),
                _bubble(COORDINATOR["approval_title"], rows, buttons))


def choice_card(title: str, options: Sequence[tuple[str, str, bool]], done: Action | None = None,
                per_bubble: int = 10) -> Message:
    """A multi-select card: (label, postback data, selected) buttons, ✓ on the chosen ones."""
    bubbles = []
    for start in range(0, len(options), per_bubble):
        buttons = [_button(postback(("✓ " if chosen else "") + label, data, display_text=label), primary=chosen)
                   for label, data, chosen in options[start:start + per_bubble]]
        if done is not None:
            buttons.append(_button(done, primary=False))
        bubbles.append(_bubble(title, [], buttons))
    contents = bubbles[0] if len(bubbles) == 1 else {"type": "carousel", "contents": bubbles[:12]}
    return flex(title, contents)


def escalation_card(*, escalation_id: int, title: str, alt: str, rows: Sequence[tuple[str, str]],
                    console_url: str | None, header: str = "", can_message: bool = False,
                    phone: str | None = None) -> Message:
    """A coordinator's case notice with 対応します / 解決しました / 住民にメッセージを送る / 第1層へ上げる."""
    body_rows = [_row(label, value) for label, value in rows]
    if header:
        body_rows.insert(0, _text(header, size="sm", bold=True, color="#C0392B"))
    buttons = [
        _button(postback(COORDINATOR["ack"], postbacks.encode("esc", "ack", escalation_id)), primary=True),
        _button(postback(COORDINATOR["resolve"], postbacks.encode("esc", "res", escalation_id))),
    ]
    if can_message:
        buttons.append(_button(postback(COORDINATOR["message_resident"], postbacks.encode("esc", "msg", escalation_id))))
    phone_link = tel_uri(phone or "")
    if phone_link:
        buttons.append(_button(uri(COORDINATOR["call"], phone_link)))
    buttons += [
        _button(postback(COORDINATOR["connect"], postbacks.encode("esc", "conn", escalation_id))),
        _button(postback(COORDINATOR["raise"], postbacks.encode("esc", "raise", escalation_id))),
        _button(postback(COORDINATOR["note"], postbacks.encode("esc", "note", escalation_id))),
    ]
    if console_url:
        buttons.append(_button(uri(COORDINATOR["open_console"], console_url)))
    return flex(alt, _bubble(title, body_rows, buttons))

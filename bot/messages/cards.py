"""Flex messages: suggestion carousels, request cards, multi-select cards.

Large type and few words: the readers are often over 75.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from bot.messages import postback as postbacks
from domain.matching import ResourceSuggestion
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


def suggestion_bubble(s: ResourceSuggestion) -> Box:
    rows = [_row(RESIDENT["card_when"], shorten(s.explanation or s.when_text, 80))]
    place = s.venue or s.address
    if place:
        rows.append(_row(RESIDENT["card_where"], shorten(place, 80)))
    if s.when_text and s.when_text not in s.explanation:
        rows.append(_row(RESIDENT["card_hours"], shorten(s.when_text, 80)))
    buttons = []
    phone_link = tel_uri(s.phone)
    if phone_link:
        buttons.append(_button(uri(RESIDENT["card_phone"], phone_link), primary=True))
        rows.append(_row("☎", s.phone))
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


def approval_card(match_id: int, volunteer: str, category: str, area: str, when: str) -> Message:
    body = COORDINATOR["approval_body"].format(volunteer=volunteer, category=category, area=area, when=when)
    buttons = [_button(postback(COORDINATOR["approve"], postbacks.encode("m", "apv", match_id)), primary=True),
               _button(postback(COORDINATOR["decline"], postbacks.encode("m", "apd", match_id)), primary=False)]
    return flex(COORDINATOR["approval_alt"].format(category=category, area=area),
                _bubble(COORDINATOR["approval_title"], [_text(body)], buttons))


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

"""Small builders for LINE message JSON; each checks LINE's limits as it builds.

A label or postback that is too long is our bug, so it raises MessageLimitError at once
instead of reaching LINE.
"""
from __future__ import annotations

from typing import Any, Sequence

from bot.line_limits import (
    MAX_ACTION_LABEL,
    MAX_POSTBACK_DATA,
    MAX_QUICK_REPLY_ITEMS,
    MAX_TEXT,
    MessageLimitError,
    check_message,
    utf16_len,
)

Message = dict[str, Any]
Action = dict[str, Any]


def shorten(value: str, limit: int, ellipsis: str = "…") -> str:
    """Cut to at most `limit` UTF-16 units, ending with an ellipsis when cut."""
    if utf16_len(value) <= limit:
        return value
    out = []
    used = utf16_len(ellipsis)
    for char in value:
        size = utf16_len(char)
        if used + size > limit:
            break
        out.append(char)
        used += size
    return "".join(out) + ellipsis


def _label(label: str) -> str:
    if utf16_len(label) > MAX_ACTION_LABEL:
        raise MessageLimitError(f"label {label!r} is over {MAX_ACTION_LABEL}")
    return label


def postback(label: str, data: str, display_text: str | None = None) -> Action:
    if len(data.encode("utf-8")) > MAX_POSTBACK_DATA:
        raise MessageLimitError(f"postback data over {MAX_POSTBACK_DATA} bytes")
    action = {"type": "postback", "label": _label(label), "data": data}
    action["displayText"] = display_text if display_text is not None else label
    return action


def say(label: str, text: str | None = None) -> Action:
    """A button that sends a text as if the user typed it."""
    return {"type": "message", "label": _label(label), "text": text or label}


def uri(label: str, link: str) -> Action:
    return {"type": "uri", "label": _label(label), "uri": link}


def location(label: str) -> Action:
    return {"type": "location", "label": _label(label)}


def quick_reply(actions: Sequence[Action]) -> dict[str, Any]:
    if not 1 <= len(actions) <= MAX_QUICK_REPLY_ITEMS:
        raise MessageLimitError(f"{len(actions)} quick-reply items; 1–13 allowed")
    return {"items": [{"type": "action", "action": a} for a in actions]}


def text(body: str, quick: Sequence[Action] | None = None) -> Message:
    message: Message = {"type": "text", "text": shorten(body, MAX_TEXT)}
    if quick:
        message["quickReply"] = quick_reply(quick)
    check_message(message)
    return message


def flex(alt_text: str, contents: dict[str, Any], quick: Sequence[Action] | None = None) -> Message:
    message: Message = {"type": "flex", "altText": shorten(alt_text, 400), "contents": contents}
    if quick:
        message["quickReply"] = quick_reply(quick)
    check_message(message)
    return message

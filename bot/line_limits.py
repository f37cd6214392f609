"""LINE's documented request limits, checked before a message is stored in the outbox.

A message that breaks a limit is a bug in our code; raising here makes it show in our tests
rather than as a 400 from LINE in production. Lengths count UTF-16 code units, as LINE does.
"""
from __future__ import annotations

from typing import Any, Iterable

MAX_MESSAGES_PER_REQUEST = 5
MAX_MULTICAST_RECIPIENTS = 500
MAX_QUICK_REPLY_ITEMS = 13
MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_TEMPLATE_ALT_TEXT = 400
MAX_ACTION_LABEL = 20
MAX_POSTBACK_DATA = 300
MAX_DISPLAY_TEXT = 300
MAX_CAROUSEL_BUBBLES = 12
MAX_BUTTONS_TEMPLATE_ACTIONS = 4
MAX_TEMPLATE_TEXT = 160


class MessageLimitError(ValueError):
    """A message that LINE would refuse."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _check_len(value: Any, limit: int, where: str) -> None:
    if not isinstance(value, str):
        raise MessageLimitError(f"{where} must be a string")
    if utf16_len(value) > limit:
        raise MessageLimitError(f"{where} is {utf16_len(value)} long; LINE allows {limit}")


def check_action(action: dict[str, Any], where: str) -> None:
    kind = action.get("type")
    if "label" in action and action["label"] is not None:
        _check_len(action["label"], MAX_ACTION_LABEL, f"{where}.label")
    if kind == "postback":
        data = action.get("data")
        if not isinstance(data, str) or not data:
            raise MessageLimitError(f"{where}.data is required")
        _check_len(data, MAX_POSTBACK_DATA, f"{where}.data")
        if action.get("displayText") is not None:
            _check_len(action["displayText"], MAX_DISPLAY_TEXT, f"{where}.displayText")
    elif kind == "message":
        if not action.get("text"):
            raise MessageLimitError(f"{where}.text is required")
        _check_len(action["text"], MAX_TEXT, f"{where}.text")
    elif kind == "uri":
        if not action.get("uri"):
            raise MessageLimitError(f"{where}.uri is required")
    elif kind not in ("datetimepicker", "camera", "cameraRoll", "location", "richmenuswitch", "clipboard"):
        raise MessageLimitError(f"{where}.type {kind!r} is not a LINE action")


def _walk_flex(node: Any, where: str) -> None:
    if isinstance(node, dict):
        if "action" in node and isinstance(node["action"], dict):
            check_action(node["action"], f"{where}.action")
        for key, value in node.items():
            if key != "action":
                _walk_flex(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _walk_flex(value, f"{where}[{i}]")


def check_message(message: dict[str, Any], where: str = "message") -> None:
    kind = message.get("type")
    if kind == "text":
        text = message.get("text")
        if not text:
            raise MessageLimitError(f"{where}.text is required")
        _check_len(text, MAX_TEXT, f"{where}.text")
    elif kind == "flex":
        _check_len(message.get("altText") or "", MAX_ALT_TEXT, f"{where}.altText")
        if not message.get("altText"):
            raise MessageLimitError(f"{where}.altText is required")
        contents = message.get("contents") or {}
        if contents.get("type") == "carousel":
            bubbles = contents.get("contents") or []
            if not 1 <= len(bubbles) <= MAX_CAROUSEL_BUBBLES:
                raise MessageLimitError(f"{where}.contents has {len(bubbles)} bubbles; 1–12 allowed")
        elif contents.get("type") != "bubble":
            raise MessageLimitError(f"{where}.contents must be a bubble or a carousel")
        _walk_flex(contents, f"{where}.contents")
    elif kind == "template":
        _check_len(message.get("altText") or "", MAX_TEMPLATE_ALT_TEXT, f"{where}.altText")
        template = message.get("template") or {}
        actions = template.get("actions") or []
        if template.get("type") == "buttons" and not 1 <= len(actions) <= MAX_BUTTONS_TEMPLATE_ACTIONS:
            raise MessageLimitError(f"{where}.template.actions: 1–4 allowed")
        if template.get("type") == "confirm" and len(actions) != 2:
            raise MessageLimitError(f"{where}.template.actions: a confirm has exactly 2")
        if "text" in template:
            _check_len(template["text"], MAX_TEMPLATE_TEXT, f"{where}.template.text")
        for i, action in enumerate(actions):
            check_action(action, f"{where}.template.actions[{i}]")
    elif kind in ("sticker", "image", "video", "audio", "location", "imagemap"):
        pass
    else:
        raise MessageLimitError(f"{where}.type {kind!r} is not a LINE message type")
    quick = message.get("quickReply")
    if quick is not None:
        items = quick.get("items") or []
        if not 1 <= len(items) <= MAX_QUICK_REPLY_ITEMS:
            raise MessageLimitError(f"{where}.quickReply has {len(items)} items; 1–13 allowed")
        for i, item in enumerate(items):
            check_action(item.get("action") or {}, f"{where}.quickReply.items[{i}].action")


def check_messages(messages: list[dict[str, Any]]) -> None:
    if not 1 <= len(messages) <= MAX_MESSAGES_PER_REQUEST:
        raise MessageLimitError(f"{len(messages)} messages; LINE allows 1–5 a request")
    for i, message in enumerate(messages):
        check_message(message, f"messages[{i}]")


def check_recipients(user_ids: Iterable[str]) -> None:
    ids = list(user_ids)
    if not ids:
        raise MessageLimitError("a multicast needs at least one recipient")
    for uid in ids:
        if not (isinstance(uid, str) and uid.startswith("U") and len(uid) == 33):
            raise MessageLimitError("recipient is not a LINE user id")

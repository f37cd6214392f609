"""Request-body validation with LINE's limits and LINE-style error details.

The simulator must refuse what LINE refuses, so a bot that passes here is not
surprised in production. Rules come from the Messaging API reference and
/work/shared/line/messaging-api.yml; lengths are counted in UTF-16 code units
as LINE does (an emoji outside the BMP counts 2).

Each check appends ``{"message": ..., "property": ...}`` to a list; the server
turns a non-empty list into ``400 {"message": "The request body has N error(s)",
"details": [...]}``.
"""
from __future__ import annotations

import json
import re
from typing import Any

USER_ID_RE = re.compile(r"^U[0-9a-f]{32}$")
PUSH_TARGET_RE = re.compile(r"^[UCR][0-9a-f]{32}$")
AGGREGATION_UNIT_RE = re.compile(r"^[a-zA-Z0-9_]{1,30}$")

MESSAGE_TYPES = (
    "text", "textV2", "sticker", "image", "video", "audio", "location",
    "imagemap", "template", "flex",
)
# Actions allowed in message objects; camera/cameraRoll/location only in quick replies.
ACTION_TYPES = ("postback", "message", "uri", "datetimepicker", "clipboard")
QUICK_REPLY_ONLY_ACTIONS = ("camera", "cameraRoll", "location")
# Rich menu areas: the message actions plus richmenuswitch (label optional, at most 20).
RICH_MENU_ONLY_ACTIONS = ("richmenuswitch",)
FLEX_COMPONENTS = ("box", "button", "image", "video", "icon", "text", "span", "separator", "filler")
BOX_LAYOUTS = ("horizontal", "vertical", "baseline")
FLEX_BUBBLE_MAX_BYTES = 30 * 1024
FLEX_CAROUSEL_MAX_BYTES = 50 * 1024


def utf16_len(s: str) -> int:
    """Length as LINE counts it: UTF-16 code units."""
    return len(s.encode("utf-16-le")) // 2


class Errors:
    """Collects LINE-style error details."""

    def __init__(self) -> None:
        self.details: list[dict[str, str]] = []

    def add(self, prop: str, message: str) -> None:
        self.details.append({"message": message, "property": prop})

    def __bool__(self) -> bool:
        return bool(self.details)

    # Small typed helpers; each returns True when the value is acceptable.
    def required_str(self, obj: dict, key: str, prop: str, *, max_len: int | None = None,
                     allow_empty: bool = False) -> bool:
        value = obj.get(key)
        if value is None or (value == "" and not allow_empty):
            self.add(prop, "must be specified")
            return False
        return self.check_str(value, prop, max_len=max_len)

    def optional_str(self, obj: dict, key: str, prop: str, *, max_len: int | None = None) -> bool:
        if key not in obj or obj[key] is None:
            return True
        return self.check_str(obj[key], prop, max_len=max_len)

    def check_str(self, value: Any, prop: str, *, max_len: int | None = None) -> bool:
        if not isinstance(value, str):
            self.add(prop, "must be a string")
            return False
        if max_len is not None and utf16_len(value) > max_len:
            self.add(prop, f"Length must be between 0 and {max_len}")
            return False
        return True

    def https_url(self, obj: dict, key: str, prop: str, *, required: bool = True,
                  max_len: int = 2000) -> None:
        if obj.get(key) is None:
            if required:
                self.add(prop, "must be specified")
            return
        if not self.check_str(obj[key], prop, max_len=max_len):
            return
        if not obj[key].startswith("https://"):
            self.add(prop, "must be an https URL")

    def array(self, obj: dict, key: str, prop: str, lo: int, hi: int, *,
              required: bool = True) -> list | None:
        value = obj.get(key)
        if value is None:
            if required:
                self.add(prop, "must be specified")
            return None
        if not isinstance(value, list):
            self.add(prop, "must be an array")
            return None
        if not lo <= len(value) <= hi:
            self.add(prop, f"Size must be between {lo} and {hi}")
            return None
        return value

    def obj(self, value: Any, prop: str, *, required: bool = True) -> dict | None:
        if value is None:
            if required:
                self.add(prop, "must be specified")
            return None
        if not isinstance(value, dict):
            self.add(prop, "must be an object")
            return None
        return value

    def enum(self, value: Any, prop: str, allowed: tuple[str, ...]) -> bool:
        if value is None:
            self.add(prop, "must be specified")
            return False
        if value not in allowed:
            self.add(prop, f"Must be one of the following values: [{', '.join(allowed)}]")
            return False
        return True


# --- top-level request bodies -------------------------------------------------

def validate_reply(body: Any) -> list[dict[str, str]]:
    errors = Errors()
    if _body_object(body, errors):
        errors.required_str(body, "replyToken", "replyToken")
        _common(body, errors)
    return errors.details


def validate_push(body: Any) -> list[dict[str, str]]:
    errors = Errors()
    if _body_object(body, errors):
        if errors.required_str(body, "to", "to") and not PUSH_TARGET_RE.match(body["to"]):
            errors.add("to", "must be a valid user, group or room ID")
        _common(body, errors)
    return errors.details


def validate_multicast(body: Any) -> list[dict[str, str]]:
    errors = Errors()
    if _body_object(body, errors):
        to = errors.array(body, "to", "to", 1, 500)
        for i, uid in enumerate(to or []):
            if not isinstance(uid, str) or not USER_ID_RE.match(uid):
                errors.add(f"to[{i}]", "must be a valid user ID")
        _common(body, errors)
    return errors.details


def _body_object(body: Any, errors: Errors) -> bool:
    if not isinstance(body, dict):
        errors.add("", "The request body must be a JSON object")
        return False
    return True


def _common(body: dict, errors: Errors) -> None:
    if "notificationDisabled" in body and not isinstance(body["notificationDisabled"], bool):
        errors.add("notificationDisabled", "must be a boolean")
    if body.get("customAggregationUnits") is not None:
        # LINE's docs: at most one unit, [a-zA-Z0-9_]{1,30} (the OpenAPI file says so for multicast).
        units = errors.array(body, "customAggregationUnits", "customAggregationUnits", 0, 1)
        for i, unit in enumerate(units or []):
            if not isinstance(unit, str) or not AGGREGATION_UNIT_RE.match(unit):
                errors.add(f"customAggregationUnits[{i}]", "must match ^[a-zA-Z0-9_]{1,30}$")
    messages = errors.array(body, "messages", "messages", 1, 5)
    for i, message in enumerate(messages or []):
        validate_message(message, f"messages[{i}]", errors)


# --- message objects ------------------------------------------------------------

def validate_message(message: Any, p: str, errors: Errors) -> None:
    message = errors.obj(message, p)
    if message is None:
        return
    mtype = message.get("type")
    if not errors.enum(mtype, f"{p}.type", MESSAGE_TYPES):
        return
    _MESSAGE_VALIDATORS[mtype](message, p, errors)
    if message.get("quickReply") is not None:
        _quick_reply(message["quickReply"], f"{p}.quickReply", errors)
    if message.get("sender") is not None:
        sender = errors.obj(message["sender"], f"{p}.sender")
        if sender is not None:
            errors.optional_str(sender, "name", f"{p}.sender.name", max_len=20)
            errors.https_url(sender, "iconUrl", f"{p}.sender.iconUrl", required=False, max_len=2000)


def _text(m: dict, p: str, errors: Errors) -> None:
    errors.required_str(m, "text", f"{p}.text", max_len=5000)
    errors.optional_str(m, "quoteToken", f"{p}.quoteToken")


def _sticker(m: dict, p: str, errors: Errors) -> None:
    errors.required_str(m, "packageId", f"{p}.packageId")
    errors.required_str(m, "stickerId", f"{p}.stickerId")


def _image(m: dict, p: str, errors: Errors) -> None:
    errors.https_url(m, "originalContentUrl", f"{p}.originalContentUrl")
    errors.https_url(m, "previewImageUrl", f"{p}.previewImageUrl")


def _audio(m: dict, p: str, errors: Errors) -> None:
    errors.https_url(m, "originalContentUrl", f"{p}.originalContentUrl")
    duration = m.get("duration")
    if duration is None:
        errors.add(f"{p}.duration", "must be specified")
    elif not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
        errors.add(f"{p}.duration", "must be a non-negative integer")


def _location(m: dict, p: str, errors: Errors) -> None:
    errors.required_str(m, "title", f"{p}.title", max_len=100)
    errors.required_str(m, "address", f"{p}.address", max_len=100)
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = m.get(key)
        if value is None:
            errors.add(f"{p}.{key}", "must be specified")
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or abs(value) > bound:
            errors.add(f"{p}.{key}", f"must be a number between -{bound} and {bound}")


def _imagemap(m: dict, p: str, errors: Errors) -> None:
    errors.https_url(m, "baseUrl", f"{p}.baseUrl")
    errors.required_str(m, "altText", f"{p}.altText", max_len=1500)
    size = errors.obj(m.get("baseSize"), f"{p}.baseSize")
    if size is not None:
        for key in ("width", "height"):
            if not isinstance(size.get(key), int):
                errors.add(f"{p}.baseSize.{key}", "must be specified")
    errors.array(m, "actions", f"{p}.actions", 1, 50)


def _template(m: dict, p: str, errors: Errors) -> None:
    errors.required_str(m, "altText", f"{p}.altText", max_len=400)
    t = errors.obj(m.get("template"), f"{p}.template")
    if t is None:
        return
    tp = f"{p}.template"
    ttype = t.get("type")
    if not errors.enum(ttype, f"{tp}.type", ("buttons", "confirm", "carousel", "image_carousel")):
        return
    if ttype == "buttons":
        short = bool(t.get("title") or t.get("thumbnailImageUrl"))
        errors.required_str(t, "text", f"{tp}.text", max_len=60 if short else 160)
        errors.optional_str(t, "title", f"{tp}.title", max_len=40)
        errors.https_url(t, "thumbnailImageUrl", f"{tp}.thumbnailImageUrl", required=False)
        _actions(t, f"{tp}.actions", 1, 4, errors)
        if t.get("defaultAction") is not None:
            validate_action(t["defaultAction"], f"{tp}.defaultAction", errors, label_required=False)
    elif ttype == "confirm":
        errors.required_str(t, "text", f"{tp}.text", max_len=240)
        _actions(t, f"{tp}.actions", 2, 2, errors)
    elif ttype == "carousel":
        columns = errors.array(t, "columns", f"{tp}.columns", 1, 10) or []
        counts = set()
        for i, col in enumerate(columns):
            cp = f"{tp}.columns[{i}]"
            col = errors.obj(col, cp)
            if col is None:
                continue
            short = bool(col.get("title") or col.get("thumbnailImageUrl"))
            errors.required_str(col, "text", f"{cp}.text", max_len=60 if short else 120)
            errors.optional_str(col, "title", f"{cp}.title", max_len=40)
            errors.https_url(col, "thumbnailImageUrl", f"{cp}.thumbnailImageUrl", required=False)
            actions = _actions(col, f"{cp}.actions", 1, 3, errors)
            if actions is not None:
                counts.add(len(actions))
        if len(counts) > 1:
            errors.add(f"{tp}.columns", "All columns must have the same number of actions")
    else:  # image_carousel
        columns = errors.array(t, "columns", f"{tp}.columns", 1, 10) or []
        for i, col in enumerate(columns):
            cp = f"{tp}.columns[{i}]"
            col = errors.obj(col, cp)
            if col is None:
                continue
            errors.https_url(col, "imageUrl", f"{cp}.imageUrl")
            validate_action(col.get("action"), f"{cp}.action", errors, label_max=12,
                            label_required=False)


def _actions(obj: dict, prop: str, lo: int, hi: int, errors: Errors) -> list | None:
    key = prop.rsplit(".", 1)[-1]
    actions = errors.array(obj, key, prop, lo, hi)
    for i, action in enumerate(actions or []):
        validate_action(action, f"{prop}[{i}]", errors)
    return actions


def _flex(m: dict, p: str, errors: Errors) -> None:
    errors.required_str(m, "altText", f"{p}.altText", max_len=1500)
    contents = errors.obj(m.get("contents"), f"{p}.contents")
    if contents is None:
        return
    cp = f"{p}.contents"
    ctype = contents.get("type")
    if not errors.enum(ctype, f"{cp}.type", ("bubble", "carousel")):
        return
    size = len(json.dumps(contents, ensure_ascii=False).encode("utf-8"))
    if ctype == "bubble":
        if size > FLEX_BUBBLE_MAX_BYTES:
            errors.add(cp, f"Bubble size must be at most {FLEX_BUBBLE_MAX_BYTES} bytes")
        _bubble(contents, cp, errors)
    else:
        if size > FLEX_CAROUSEL_MAX_BYTES:
            errors.add(cp, f"Carousel size must be at most {FLEX_CAROUSEL_MAX_BYTES} bytes")
        bubbles = errors.array(contents, "contents", f"{cp}.contents", 1, 12) or []
        for i, bubble in enumerate(bubbles):
            bp = f"{cp}.contents[{i}]"
            bubble = errors.obj(bubble, bp)
            if bubble is None:
                continue
            if bubble.get("type") != "bubble":
                errors.add(f"{bp}.type", "Must be one of the following values: [bubble]")
                continue
            _bubble(bubble, bp, errors)


def _bubble(bubble: dict, p: str, errors: Errors) -> None:
    if not any(bubble.get(k) for k in ("header", "hero", "body", "footer")):
        errors.add(p, "A bubble must have at least one of header, hero, body or footer")
    for block in ("header", "body", "footer"):
        if bubble.get(block) is not None:
            box = errors.obj(bubble[block], f"{p}.{block}")
            if box is not None:
                if box.get("type") != "box":
                    errors.add(f"{p}.{block}.type", "Must be one of the following values: [box]")
                else:
                    _component(box, f"{p}.{block}", errors)
    if bubble.get("hero") is not None:
        hero = errors.obj(bubble["hero"], f"{p}.hero")
        if hero is not None:
            if hero.get("type") not in ("box", "image", "video"):
                errors.add(f"{p}.hero.type", "Must be one of the following values: [box, image, video]")
            else:
                _component(hero, f"{p}.hero", errors)
    if bubble.get("action") is not None:
        validate_action(bubble["action"], f"{p}.action", errors, label_required=False)


def _component(c: Any, p: str, errors: Errors) -> None:
    c = errors.obj(c, p)
    if c is None:
        return
    ctype = c.get("type")
    if not errors.enum(ctype, f"{p}.type", FLEX_COMPONENTS):
        return
    if ctype == "box":
        errors.enum(c.get("layout"), f"{p}.layout", BOX_LAYOUTS)
        contents = c.get("contents")
        if contents is None:
            errors.add(f"{p}.contents", "must be specified")
        elif not isinstance(contents, list):
            errors.add(f"{p}.contents", "must be an array")
        else:
            for i, child in enumerate(contents):
                if isinstance(child, dict) and child.get("type") == "span":
                    errors.add(f"{p}.contents[{i}].type", "span is only allowed inside a text")
                    continue
                _component(child, f"{p}.contents[{i}]", errors)
    elif ctype == "button":
        validate_action(c.get("action"), f"{p}.action", errors)
    elif ctype == "text":
        if not c.get("contents"):
            errors.required_str(c, "text", f"{p}.text")
        else:
            for i, span in enumerate(c["contents"]):
                span = errors.obj(span, f"{p}.contents[{i}]")
                if span is not None:
                    errors.required_str(span, "text", f"{p}.contents[{i}].text")
    elif ctype == "span":
        errors.required_str(c, "text", f"{p}.text")
    elif ctype in ("image", "icon"):
        errors.https_url(c, "url", f"{p}.url")
    elif ctype == "video":
        errors.https_url(c, "url", f"{p}.url")
        errors.https_url(c, "previewUrl", f"{p}.previewUrl")
    if ctype in ("box", "image", "text") and c.get("action") is not None:
        validate_action(c["action"], f"{p}.action", errors, label_required=False)


def _quick_reply(qr: Any, p: str, errors: Errors) -> None:
    qr = errors.obj(qr, p)
    if qr is None:
        return
    items = errors.array(qr, "items", f"{p}.items", 1, 13)
    for i, item in enumerate(items or []):
        ip = f"{p}.items[{i}]"
        item = errors.obj(item, ip)
        if item is None:
            continue
        if item.get("type", "action") != "action":
            errors.add(f"{ip}.type", "Must be one of the following values: [action]")
        errors.https_url(item, "imageUrl", f"{ip}.imageUrl", required=False, max_len=2000)
        action = item.get("action")
        optional_label = isinstance(action, dict) and action.get("type") in QUICK_REPLY_ONLY_ACTIONS
        validate_action(action, f"{ip}.action", errors, in_quick_reply=True,
                        label_required=not optional_label)


def validate_action(action: Any, p: str, errors: Errors, *, label_required: bool = True,
                    label_max: int = 20, in_quick_reply: bool = False,
                    in_rich_menu: bool = False) -> None:
    action = errors.obj(action, p)
    if action is None:
        return
    allowed = (ACTION_TYPES + (QUICK_REPLY_ONLY_ACTIONS if in_quick_reply else ())
               + (RICH_MENU_ONLY_ACTIONS if in_rich_menu else ()))
    atype = action.get("type")
    if not errors.enum(atype, f"{p}.type", allowed):
        return
    if label_required:
        errors.required_str(action, "label", f"{p}.label", max_len=label_max)
    else:
        errors.optional_str(action, "label", f"{p}.label", max_len=label_max)
    if atype == "postback":
        errors.required_str(action, "data", f"{p}.data", max_len=300, allow_empty=True)
        errors.optional_str(action, "displayText", f"{p}.displayText", max_len=300)
        errors.optional_str(action, "fillInText", f"{p}.fillInText", max_len=300)
        if action.get("inputOption") is not None:
            errors.enum(action["inputOption"], f"{p}.inputOption",
                        ("closeRichMenu", "openRichMenu", "openKeyboard", "openVoice"))
    elif atype == "message":
        errors.required_str(action, "text", f"{p}.text", max_len=300)
    elif atype == "uri":
        if errors.required_str(action, "uri", f"{p}.uri", max_len=1000):
            if not re.match(r"^(https?|line|tel):", action["uri"]):
                errors.add(f"{p}.uri", "must use the http, https, line or tel scheme")
    elif atype == "datetimepicker":
        errors.required_str(action, "data", f"{p}.data", max_len=300, allow_empty=True)
        errors.enum(action.get("mode"), f"{p}.mode", ("date", "time", "datetime"))
    elif atype == "clipboard":
        errors.required_str(action, "clipboardText", f"{p}.clipboardText", max_len=1000)
    elif atype == "richmenuswitch":
        errors.required_str(action, "richMenuAliasId", f"{p}.richMenuAliasId", max_len=32)
        errors.required_str(action, "data", f"{p}.data", max_len=300, allow_empty=True)


_MESSAGE_VALIDATORS = {
    "text": _text,
    "textV2": _text,
    "sticker": _sticker,
    "image": _image,
    "video": _image,
    "audio": _audio,
    "location": _location,
    "imagemap": _imagemap,
    "template": _template,
    "flex": _flex,
}


# --- rich menus -------------------------------------------------------------------
# LINE's rules for a rich menu (and its image): width 800-2500 px, height at least 250 px,
# width / height at least 1.45, at most 20 areas, chatBarText at most 14 characters, name at
# most 300; every area inside the image. The image is JPEG or PNG, at most 1 MB, and exactly
# the menu's size.
RICH_MENU_MIN_WIDTH, RICH_MENU_MAX_WIDTH = 800, 2500
RICH_MENU_MIN_HEIGHT = 250
RICH_MENU_MIN_ASPECT = 1.45
RICH_MENU_MAX_AREAS = 20
RICH_MENU_IMAGE_MAX_BYTES = 1024 * 1024
RICH_MENU_IMAGE_TYPES = ("image/png", "image/jpeg")


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_richmenu(body: Any) -> list[dict[str, str]]:
    """POST /v2/bot/richmenu and /v2/bot/richmenu/validate."""
    errors = Errors()
    if not _body_object(body, errors):
        return errors.details
    size = errors.obj(body.get("size"), "size")
    width = height = None
    if size is not None:
        for key in ("width", "height"):
            if size.get(key) is None:
                errors.add(f"size.{key}", "must be specified")
            elif not _int(size[key]):
                errors.add(f"size.{key}", "must be an integer")
        if _int(size.get("width")) and _int(size.get("height")):
            width, height = size["width"], size["height"]
            if not RICH_MENU_MIN_WIDTH <= width <= RICH_MENU_MAX_WIDTH:
                errors.add("size.width", f"must be between {RICH_MENU_MIN_WIDTH} and "
                                         f"{RICH_MENU_MAX_WIDTH}")
                width = None
            if height < RICH_MENU_MIN_HEIGHT:
                errors.add("size.height", f"must be at least {RICH_MENU_MIN_HEIGHT}")
                height = None
            if width and height and width / height < RICH_MENU_MIN_ASPECT:
                errors.add("size", f"width / height must be at least {RICH_MENU_MIN_ASPECT}")
    if body.get("selected") is None:
        errors.add("selected", "must be specified")
    elif not isinstance(body["selected"], bool):
        errors.add("selected", "must be a boolean")
    errors.required_str(body, "name", "name", max_len=300)
    errors.required_str(body, "chatBarText", "chatBarText", max_len=14)
    areas = errors.array(body, "areas", "areas", 0, RICH_MENU_MAX_AREAS)
    for i, area in enumerate(areas or []):
        ap = f"areas[{i}]"
        area = errors.obj(area, ap)
        if area is None:
            continue
        bounds = errors.obj(area.get("bounds"), f"{ap}.bounds")
        if bounds is not None:
            ok = True
            for key, low in (("x", 0), ("y", 0), ("width", 1), ("height", 1)):
                value = bounds.get(key)
                if value is None:
                    errors.add(f"{ap}.bounds.{key}", "must be specified")
                    ok = False
                elif not _int(value) or value < low:
                    errors.add(f"{ap}.bounds.{key}", f"must be an integer of at least {low}")
                    ok = False
            if ok and width and bounds["x"] + bounds["width"] > width:
                errors.add(f"{ap}.bounds", "The area must be inside the rich menu "
                                           f"(x + width <= {width})")
            if ok and height and bounds["y"] + bounds["height"] > height:
                errors.add(f"{ap}.bounds", "The area must be inside the rich menu "
                                           f"(y + height <= {height})")
        validate_action(area.get("action"), f"{ap}.action", errors, label_required=False,
                        in_rich_menu=True)
    return errors.details


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(content type, width, height) read from a PNG or JPEG header; None if neither."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return "image/png", int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        # SOF0-15, except DHT (C4), JPG (C8) and DAC (CC), carry the frame size.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if i + 9 > len(data):
                return None
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            return "image/jpeg", width, height
        i += 2 + length
    return None

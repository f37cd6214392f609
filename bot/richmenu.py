"""The residents' rich menu, as code: six big buttons under the chat, always in reach.

The definition here and the image ``bot/data/richmenu.png`` belong together:
``scripts/make_richmenu_image.py`` draws the image from ``ITEMS`` and ``grid()``, so a change
to the items means running that script and committing the new PNG. The image's hash is part
of the menu's name, so ``sasaeai richmenu deploy`` notices a new image as well as a new layout.

Each area sends the postback ``v1|menu|<item>`` (``postbacks.encode("menu", item)``) with a
``displayText``, so the resident sees what they pressed as their own chat bubble.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from bot import postbacks

WIDTH, HEIGHT = 2500, 1686  # LINE's "large" size; 3 columns x 2 rows
COLUMNS, ROWS = 3, 2
NAME_PREFIX = "sasaeai 住民メニュー"
CHAT_BAR_TEXT = "メニュー"  # at most 14 characters


@dataclass(frozen=True)
class MenuItem:
    key: str  # the postback argument: v1|menu|<key>
    label: str  # action label and displayText (at most 20 characters)
    lines: tuple[str, ...]  # how the label is broken on the image, biggest text first
    colour: str  # background of the tile on the image (high contrast with white text)


# Order = reading order on the image: left to right, top row first.
ITEMS: tuple[MenuItem, ...] = (
    MenuItem("ask", "困りごとを相談", ("困りごとを", "相談"), "#0b7a3e"),
    MenuItem("help", "手伝いたい（担い手）", ("手伝いたい", "（担い手）"), "#1f5fa8"),
    MenuItem("info", "地域の情報", ("地域の", "情報"), "#8a4b08"),
    MenuItem("person", "人に相談したい", ("人に", "相談したい"), "#a3195b"),
    MenuItem("mine", "わたしの登録", ("わたしの", "登録"), "#4b4f8c"),
    MenuItem("usage", "使い方", ("使い方",), "#3d4a55"),
)


def grid() -> list[tuple[int, int, int, int]]:
    """(x, y, width, height) of each item's area; together they cover the image exactly."""
    xs = [round(i * WIDTH / COLUMNS) for i in range(COLUMNS + 1)]
    ys = [round(j * HEIGHT / ROWS) for j in range(ROWS + 1)]
    return [(xs[c], ys[r], xs[c + 1] - xs[c], ys[r + 1] - ys[r])
            for r in range(ROWS) for c in range(COLUMNS)]


def image_bytes() -> bytes:
    """The committed PNG (no fonts or Pillow needed at runtime)."""
    return (resources.files("bot") / "data" / "richmenu.png").read_bytes()


def image_digest(data: bytes | None = None) -> str:
    return hashlib.sha256(image_bytes() if data is None else data).hexdigest()[:12]


def definition(image: bytes | None = None) -> dict[str, Any]:
    """The rich menu object for POST /v2/bot/richmenu (LINE's JSON field names)."""
    areas = []
    for item, (x, y, w, h) in zip(ITEMS, grid(), strict=True):
        areas.append({
            "bounds": {"x": x, "y": y, "width": w, "height": h},
            "action": {"type": "postback", "label": item.label,
                       "data": postbacks.encode("menu", item.key), "displayText": item.label},
        })
    return {
        "size": {"width": WIDTH, "height": HEIGHT},
        "selected": True,  # open by default: the buttons are the main way in
        "name": f"{NAME_PREFIX} {image_digest(image)}",
        "chatBarText": CHAT_BAR_TEXT,
        "areas": areas,
    }

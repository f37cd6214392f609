"""The rich menus, as code: the residents' six big buttons under the chat, always in reach, and
the menus of volunteers and coordinators (MENUS), linked to a person when they get the role and
unlinked when it is taken (they then see the default, the residents' menu again).

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
from typing import Any, Callable

import structlog

from bot import postbacks

log = structlog.get_logger(__name__)

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
    data: str | None = None  # postback data when it is not v1|menu|<key>
    link: bool = False  # a uri action to the console (when its address is configured)


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


# -- menus by role -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RoleMenu:
    """A rich menu for one role: its tiles, layout and committed image (bot/data/<image>)."""

    role: str
    name_prefix: str
    chat_bar_text: str
    items: tuple[MenuItem, ...]
    image: str
    width: int = 2500
    height: int = 1686
    columns: int = 3
    rows: int = 2

    def grid(self) -> list[tuple[int, int, int, int]]:
        xs = [round(i * self.width / self.columns) for i in range(self.columns + 1)]
        ys = [round(j * self.height / self.rows) for j in range(self.rows + 1)]
        return [(xs[c], ys[r], xs[c + 1] - xs[c], ys[r + 1] - ys[r])
                for r in range(self.rows) for c in range(self.columns)]

    def image_bytes(self) -> bytes:
        return (resources.files("bot") / "data" / self.image).read_bytes()

    def definition(self, image: bytes | None = None, console_url: str | None = None) -> dict[str, Any]:
        areas = []
        for item, (x, y, w, h) in zip(self.items, self.grid(), strict=True):
            if item.link and console_url:
                action = {"type": "uri", "label": item.label, "uri": console_url.rstrip("/") + "/"}
            else:
                action = {"type": "postback", "label": item.label,
                          "data": item.data or postbacks.encode("menu", item.key), "displayText": item.label}
            areas.append({"bounds": {"x": x, "y": y, "width": w, "height": h}, "action": action})
        digest = hashlib.sha256(self.image_bytes() if image is None else image).hexdigest()[:12]
        return {"size": {"width": self.width, "height": self.height}, "selected": True,
                "name": f"{self.name_prefix} {digest}", "chatBarText": self.chat_bar_text, "areas": areas}


RESIDENT_MENU = RoleMenu("resident", NAME_PREFIX, CHAT_BAR_TEXT, ITEMS, "richmenu.png")
VOLUNTEER_MENU = RoleMenu("volunteer", "sasaeai 担い手メニュー", "メニュー", (
    MenuItem("mine", "わたしの申し出", ("わたしの", "申し出"), "#1f5fa8"),
    MenuItem("help", "申し出を変える", ("申し出を", "変える"), "#0b7a3e"),
    MenuItem("ask", "困りごとを相談", ("困りごとを", "相談"), "#8a4b08"),
    MenuItem("info", "地域の情報", ("地域の", "情報"), "#4b4f8c"),
    MenuItem("person", "人に相談したい", ("人に", "相談したい"), "#a3195b"),
    MenuItem("usage", "使い方", ("使い方",), "#3d4a55"),
), "richmenu_volunteer.png")
COORDINATOR_MENU = RoleMenu("coordinator", "sasaeai コーディネーターメニュー", "コーディネーター", (
    MenuItem("list", "相談の一覧", ("相談の", "一覧"), "#0b6e3a", data=postbacks.encode("coord", "list")),
    MenuItem("overdue", "期限切れ", ("期限切れ",), "#b3261e", data=postbacks.encode("coord", "overdue")),
    MenuItem("meetings", "会議", ("会議",), "#1f5fa8", data=postbacks.encode("mtg", "list")),
    MenuItem("console", "コンソールを開く", ("コンソールを", "開く"), "#3d4a55",
             data=postbacks.encode("coord", "console"), link=True),
), "richmenu_coordinator.png", height=843, columns=4, rows=1)
MENUS: tuple[RoleMenu, ...] = (RESIDENT_MENU, VOLUNTEER_MENU, COORDINATOR_MENU)


def menu_for_roles(roles: set[str]) -> RoleMenu:
    """The menu a person sees: coordinators theirs, volunteers theirs, everyone else the default."""
    if "coordinator" in roles:
        return COORDINATOR_MENU
    if "volunteer" in roles:
        return VOLUNTEER_MENU
    return RESIDENT_MENU


def link_for_roles(api: Any, line_user_id: str, roles: set[str]) -> str:
    """Link the menu of the person's roles (or unlink: the default residents' menu shows).

    `api` is bot.line_api.LineApi. Returns what was done, for logs and the command's output.
    """
    menu = menu_for_roles(roles)
    if menu is RESIDENT_MENU:
        response = api.unlink_rich_menu(line_user_id)
        return "unlinked" if response.ok else f"unlink failed: {response.status}"
    deployed = [m for m in api.rich_menus() if str(m.get("name", "")).startswith(menu.name_prefix)]
    if not deployed:
        return f"no {menu.role} menu on the channel: run sasaeai richmenu deploy"
    response = api.link_rich_menu(line_user_id, deployed[-1]["richMenuId"])
    return f"linked the {menu.role} menu" if response.ok else f"link failed: {response.status}"


def relink(settings: Any, line_user_id: str | None, roles: set[str]) -> None:
    """After a role changed in a dialogue: best effort, never fails the turn."""
    linker: Callable[[str, set[str]], str] | None = getattr(settings, "role_menu", None)
    if linker is None or not line_user_id:
        return
    try:
        outcome = linker(line_user_id, roles)
    except Exception as exc:  # the role is saved; the menu can be linked again by a later change
        log.warning("richmenu.link_failed", error=type(exc).__name__)
        return
    log.info("richmenu.linked", outcome=outcome)

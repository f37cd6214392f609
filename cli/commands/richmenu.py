"""`sasaeai richmenu deploy`: put every rich menu on the LINE channel, once.

The residents' menu becomes the default; the volunteers' and coordinators' menus are created
beside it (and linked per person when the role is given: bot.richmenu.link_for_roles).

Creates the menu (bot.richmenu.definition()), uploads its committed image and makes
it the default for every user. Idempotent: when a menu with the same name and an identical
definition is already the default, nothing is sent; when it exists but is not the default, it
is reused. The menu's name carries the image's hash, so a new image also makes a new menu
(LINE never replaces a menu's image). Older sasaeai menus (same name prefix, not the default)
are deleted afterwards unless --keep-old is given; other menus on the channel are left alone.

    LINE_CHANNEL_ACCESS_TOKEN=… sasaeai richmenu deploy            # against LINE
    LINE_API_BASE_URL=http://127.0.0.1:8081 sasaeai richmenu deploy  # against the simulator
    sasaeai richmenu deploy --dry-run                               # print the JSON only
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from linebot.v3.messaging import RichMenuRequest

from bot import richmenu
from bot.line_api import LineApi, LineResponse
from cli.commands._common import setup
from webhook import Services


@dataclass
class DeployResult:
    rich_menu_id: str
    created: bool = False
    uploaded: bool = False
    set_default: bool = False
    deleted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or self.uploaded or self.set_default or bool(self.deleted)


class DeployError(RuntimeError):
    """LINE refused a call; the message carries LINE's status and body."""


def _normalised(menu: dict[str, Any]) -> dict[str, Any]:
    """The definition as the SDK models it, without the id, so that a request and a response
    compare equal exactly when LINE holds the same menu."""
    fields = {k: v for k, v in menu.items() if k != "richMenuId"}
    return RichMenuRequest.from_dict(fields).to_dict()


def deploy(line: LineApi, *, image: bytes | None = None, keep_old: bool = False,
           say: Callable[[str], None] = print, menu=None, console_url: str | None = None) -> DeployResult:
    """Make the residents' menu the channel's default (or, given a role's menu, make sure it
    exists), sending only what is missing. Each call is sent once: a silent retry of a POST
    could create a second menu; a failed run is simply re-run."""
    menu = menu or richmenu.RESIDENT_MENU
    is_default = menu is richmenu.RESIDENT_MENU
    image = menu.image_bytes() if image is None else image
    wanted = richmenu.definition(image) if is_default else menu.definition(image, console_url)

    def call(what: str, response: LineResponse, *, missing_ok: bool = False) -> dict[str, Any] | None:
        if response.ok:
            return json.loads(response.body) if response.body else {}
        if missing_ok and response.status == 404:
            return None
        raise DeployError(f"{what}: LINE answered {response.status}: {response.body}")

    def upload(rich_menu_id: str) -> None:
        call("upload rich menu image", line.set_rich_menu_image(rich_menu_id, image))

    menus = call("list rich menus", line.rich_menu_list()).get("richmenus") or []
    found = call("get default rich menu", line.default_rich_menu_id(), missing_ok=True)  # 404: no default
    current_default = found.get("richMenuId") if found else None
    target = _normalised(wanted)
    same = [m for m in menus if m["name"] == wanted["name"] and _normalised(m) == target]
    existing = next((m for m in same if m["richMenuId"] == current_default), None) or (
        same[0] if same else None)

    if existing is not None:
        result = DeployResult(existing["richMenuId"])
        # A default menu has an image (LINE refuses a default without one); others may not.
        if result.rich_menu_id != current_default and call(
                "get rich menu image", line.rich_menu_image(result.rich_menu_id), missing_ok=True) is None:
            upload(result.rich_menu_id)
            result.uploaded = True
            say(f"uploaded the image of {result.rich_menu_id}")
    else:
        created = call("create rich menu", line.create_rich_menu(wanted))
        result = DeployResult(created["richMenuId"], created=True)
        say(f"created rich menu {result.rich_menu_id} ({wanted['name']})")
        try:
            upload(result.rich_menu_id)
        except DeployError:
            # Do not leave a menu without an image behind (it could never be shown).
            line.delete_rich_menu(result.rich_menu_id)
            raise
        result.uploaded = True
        say(f"uploaded the image ({len(image)} bytes)")

    if is_default and current_default != result.rich_menu_id:
        call("set default rich menu", line.set_default_rich_menu(result.rich_menu_id))
        result.set_default = True
        say(f"set {result.rich_menu_id} as the default rich menu for all users")

    if not keep_old:
        for old in menus:
            if old["richMenuId"] != result.rich_menu_id and old["name"].startswith(menu.name_prefix + " "):
                call("delete old rich menu", line.delete_rich_menu(old["richMenuId"]))
                result.deleted.append(old["richMenuId"])
                say(f"deleted the older menu {old['richMenuId']} ({old['name']})")

    if not result.changed:
        if is_default:
            say(f"rich menu {result.rich_menu_id} is already the default: nothing to do")
        else:
            say(f"the {menu.role} menu {result.rich_menu_id} is up to date: nothing to do")
    return result


def deploy_all(line: LineApi, *, console_url: str | None = None, keep_old: bool = False,
               say: Callable[[str], None] = print) -> dict[str, DeployResult]:
    """Every menu: the residents' (the default), the volunteers' and the coordinators'."""
    return {menu.role: deploy(line, keep_old=keep_old, say=say, menu=menu, console_url=console_url)
            for menu in richmenu.MENUS}


def console_url_from_env() -> str | None:
    return os.environ.get("SASAEAI_CONSOLE_URL") or None


def run_deploy(args) -> int:
    if args.dry_run:
        menu = next(m for m in richmenu.MENUS if m.role == args.role)
        definition = richmenu.definition() if menu is richmenu.RESIDENT_MENU else menu.definition(
            console_url=console_url_from_env())
        print(json.dumps(definition, ensure_ascii=False, indent=2))
        return 0
    config = setup()
    if not config.line_channel_access_token:
        print("LINE_CHANNEL_ACCESS_TOKEN is not set", file=sys.stderr)
        return 2
    services = Services.build(config)
    try:
        deploy_all(services.line_api, console_url=config.console_url or None, keep_old=args.keep_old)
    except DeployError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        services.line_api.close()
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("richmenu", help="the rich menus on LINE (residents, volunteers, coordinators)")
    sub = parser.add_subparsers(dest="richmenu_command", metavar="ACTION", required=True)
    deploy_parser = sub.add_parser(
        "deploy", help="create every rich menu, upload the images, make the residents' the default (idempotent)")
    deploy_parser.add_argument("--dry-run", action="store_true",
                               help="print the rich menu JSON and send nothing")
    deploy_parser.add_argument("--keep-old", action="store_true",
                               help="do not delete older sasaeai menus")
    deploy_parser.add_argument("--role", choices=("resident", "volunteer", "coordinator"), default="resident",
                               help="with --dry-run: which role's menu to print")
    deploy_parser.set_defaults(func=run_deploy)

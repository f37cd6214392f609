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
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from cli.commands._common import setup


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
    from linebot.v3.messaging import RichMenuRequest

    fields = {k: v for k, v in menu.items() if k != "richMenuId"}
    return RichMenuRequest.from_dict(fields).to_dict()


def _clients(base_url: str, access_token: str):
    import urllib3
    from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, MessagingApiBlob

    from domain.settings import LINE_API_DEFAULT

    def client(host: str | None) -> ApiClient:
        configuration = Configuration(host=host, access_token=access_token)
        # A silent retry of a POST could create a second menu; a failed run is simply re-run.
        configuration.retries = urllib3.Retry(total=0, connect=0, read=0, redirect=0,
                                              raise_on_status=False)
        return ApiClient(configuration)

    base_url = base_url.rstrip("/")
    # Configuration(host=…) sends every call to that host, blob calls included. LINE serves
    # rich menu images on api-data.line.me, so against the real API the blob client keeps
    # the SDK's own per-operation host; a simulator (any other base URL) serves both.
    blob_host = None if base_url == LINE_API_DEFAULT.rstrip("/") else base_url
    return MessagingApi(client(base_url)), MessagingApiBlob(client(blob_host))


def deploy(base_url: str, access_token: str, *, image: bytes | None = None,
           keep_old: bool = False, timeout: float = 10.0,
           say: Callable[[str], None] = print, menu=None, console_url: str | None = None) -> DeployResult:
    """Make the residents' menu the channel's default (or, given a role's menu, make sure it
    exists), sending only what is missing."""
    from linebot.v3.messaging import ApiException, RichMenuRequest

    from bot import richmenu

    menu = menu or richmenu.RESIDENT_MENU
    is_default = menu is richmenu.RESIDENT_MENU
    image = menu.image_bytes() if image is None else image
    wanted = richmenu.definition(image) if is_default else menu.definition(image, console_url)
    api, blob = _clients(base_url, access_token)
    t = {"_request_timeout": timeout}

    def call(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **t, **kwargs)
        except ApiException as exc:
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
            raise DeployError(f"{what}: LINE answered {exc.status}: {body}") from exc

    def default_id() -> str | None:
        try:
            return api.get_default_rich_menu_id(**t).rich_menu_id
        except ApiException as exc:
            if exc.status == 404:  # no default menu
                return None
            raise DeployError(f"get default rich menu: LINE answered {exc.status}: {exc.body}") from exc

    def has_image(rich_menu_id: str) -> bool:
        try:
            blob.get_rich_menu_image(rich_menu_id, **t)
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise DeployError(f"get rich menu image: LINE answered {exc.status}: {exc.body}") from exc

    def upload(rich_menu_id: str) -> None:
        call("upload rich menu image", blob.set_rich_menu_image, rich_menu_id, image,
             _headers={"Content-Type": "image/png"})

    menus = call("list rich menus", api.get_rich_menu_list).richmenus or []
    current_default = default_id()
    target = _normalised(wanted)
    same = [m for m in menus if m.name == wanted["name"] and _normalised(m.to_dict()) == target]
    existing = next((m for m in same if m.rich_menu_id == current_default), None) or (
        same[0] if same else None)

    if existing is not None:
        result = DeployResult(existing.rich_menu_id)
        # A default menu has an image (LINE refuses a default without one); others may not.
        if existing.rich_menu_id != current_default and not has_image(existing.rich_menu_id):
            upload(existing.rich_menu_id)
            result.uploaded = True
            say(f"uploaded the image of {existing.rich_menu_id}")
    else:
        created = call("create rich menu", api.create_rich_menu, RichMenuRequest.from_dict(wanted))
        result = DeployResult(created.rich_menu_id, created=True)
        say(f"created rich menu {result.rich_menu_id} ({wanted['name']})")
        try:
            upload(result.rich_menu_id)
        except DeployError:
            # Do not leave a menu without an image behind (it could never be shown).
            try:
                api.delete_rich_menu(result.rich_menu_id, **t)
            except ApiException:
                pass
            raise
        result.uploaded = True
        say(f"uploaded the image ({len(image)} bytes)")

    if is_default and current_default != result.rich_menu_id:
        call("set default rich menu", api.set_default_rich_menu, result.rich_menu_id)
        result.set_default = True
        say(f"set {result.rich_menu_id} as the default rich menu for all users")

    if not keep_old:
        for old in menus:
            if old.rich_menu_id != result.rich_menu_id and old.name.startswith(menu.name_prefix + " "):
                call("delete old rich menu", api.delete_rich_menu, old.rich_menu_id)
                result.deleted.append(old.rich_menu_id)
                say(f"deleted the older menu {old.rich_menu_id} ({old.name})")

    if not result.changed:
        if is_default:
            say(f"rich menu {result.rich_menu_id} is already the default: nothing to do")
        else:
            say(f"the {menu.role} menu {result.rich_menu_id} is up to date: nothing to do")
    return result


def deploy_all(base_url: str, access_token: str, *, console_url: str | None = None, keep_old: bool = False,
               timeout: float = 10.0, say: Callable[[str], None] = print) -> dict[str, DeployResult]:
    """Every menu: the residents' (the default), the volunteers' and the coordinators'."""
    from bot import richmenu

    return {menu.role: deploy(base_url, access_token, keep_old=keep_old, timeout=timeout, say=say, menu=menu,
                              console_url=console_url)
            for menu in richmenu.MENUS}


def console_url_from_env() -> str | None:
    import os

    return os.environ.get("SASAEAI_CONSOLE_URL") or None


def run_deploy(args) -> int:
    from bot import richmenu

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
    try:
        deploy_all(config.line_api_base_url, config.line_channel_access_token, console_url=config.console_url or None,
                   keep_old=args.keep_old, timeout=config.line_request_timeout)
    except DeployError as exc:
        print(str(exc), file=sys.stderr)
        return 1
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

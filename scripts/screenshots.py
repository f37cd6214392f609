"""Screenshots of the resident's conversation, one after each step of the flow, then of each
page of the coordinators' console.

Starts everything the way `sasaeai demo` does (the bot, its event worker and outbox
dispatcher as threads, the LINE simulator; demo data loaded) but in one throw-away
process: free ports on 127.0.0.1 and a temporary SQLite database. It also deploys the rich
menu to the simulator, as on a real channel. Then, for each step in STEPS, it sends the
step through the simulator's control API, waits until the bot's answer has arrived, and
has headless Chromium photograph the chat page (/?users=<resident>).

    .venv/bin/python scripts/screenshots.py                  # every step and console page, into screenshots/
    .venv/bin/python scripts/screenshots.py --steps 2 --out /tmp/shots   # the first two steps only
    .venv/bin/python scripts/screenshots.py --console-only   # the console pages (CONSOLE_PAGES) only

The console pages are taken with Playwright driving the same Chromium: it logs in through the
simulator's LINE Login as 安積地区's coordinator, after the resident asked for a person (a case).

Needs `chromium` on PATH (or --chromium / $CHROMIUM) and, for legible Japanese, a CJK font
(Debian: fonts-noto-cjk). screenshots/ is git-ignored.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------- the flow
# Each step: (name, who, action). who: "resident", "volunteer" (the demo's 鈴木 博, who offers
# 買い物 in 安積地区) or "coordinator" (安積地区's). Actions:
#   ("follow",)                               add the bot as a friend
#   ("press", label)                          tap the button with this label on the last message
#   ("postback", data, displayText)           send postback data directly
#   ("text", "…")                             type a message
#   ("location", latitude, longitude)         send a location
# The resident's flow shows issue 14's cards: the district list by kana row (あ行・か行 …) with
# もどる, a district typed in kana, the 【確認】 with やめる, the suggestion cards (なに・いつ・どこ・
# きょり and 電話する), the approval card with 承認する / 見送る, and both sides told whose number
# went to whom.
STEPS: list[tuple[str, str, tuple[Any, ...]]] = [
    ("follow", "resident", ("follow",)),
    ("consent", "resident", ("press", "同意する")),
    ("kana-row", "resident", ("press", "あ行")),
    ("back", "resident", ("press", "もどる")),
    ("district-typed", "resident", ("text", "あさか")),
    ("neighbourhood", "resident", ("press", "荒井")),
    ("need-in-hiragana", "resident", ("text", "かいものにいけない")),
    ("confirm", "resident", ("press", "はい")),
    ("want-a-person", "resident", ("press", "ほかの助けがほしい")),
    ("phone", "resident", ("text", "024-123-4567")),
    ("volunteer-accepts", "volunteer", ("press", "引き受ける")),
    ("coordinator-approves", "coordinator", ("press", "承認する")),
    ("emergency", "resident", ("text", "夫が急に倒れて、呼んでも返事をしません")),
]

# The console's pages, photographed after the flow as 安積地区's coordinator: (name, path).
# {case} is the case the resident opens by asking for a person; "line-login" is the simulator's
# LINE Login page on the way in.
CONSOLE_PAGES: list[tuple[str, str]] = [
    ("console-login", "/console/login"),
    ("console-line-login", "line-login"),
    ("console-home", "/console/"),
    ("console-cases", "/console/cases"),
    ("console-case", "/console/cases/{case}"),
    ("console-needs", "/console/needs"),
    ("console-volunteers", "/console/volunteers"),
    ("console-resources", "/console/resources"),
]
CONSOLE_WINDOW = (1280, 900)  # an office PC; the pages also fit a 1024-wide tablet

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "screenshots"
RESIDENT_NAME = "住民 山田ハナ"
ANSWER_TIMEOUT = 10.0  # seconds to wait for the bot's answer to a step
QUIET_FOR = 0.6  # the answer is complete when nothing new arrived for this long
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@dataclass
class Shot:
    number: int
    name: str
    action: tuple[Any, ...]
    path: Path
    new_messages: int


def slug(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_-]+", "-", name).strip("-").lower() or "step"


def describe(action: tuple[Any, ...]) -> str:
    kind, *args = action
    if kind == "press":
        return f"press 「{args[0]}」"
    if kind == "postback":
        return f"postback {args[0]}" + (f" 「{args[1]}」" if len(args) > 1 and args[1] else "")
    if kind == "text":
        return f"text 「{args[0]}」"
    if kind == "location":
        return f"location {args[0]}, {args[1]}"
    return kind


def find_chromium(explicit: str | None = None) -> str | None:
    import os

    for candidate in (explicit, os.environ.get("CHROMIUM"), *CHROMIUM_NAMES):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


# --------------------------------------------------------------------------- the stack
class Stack:
    """The demo's pieces, in-process, on free ports, with a temporary database."""

    def __init__(self, workdir: Path, log_level: str = "WARNING", richmenu: bool = True):
        from linesim.client import SimulatorClient
        from linesim.server import create_app as create_simulator
        from linesim.serving import serve_in_thread
        from cli.commands._common import setup
        from cli.commands.demo import (
            DEMO_LOGIN_CHANNEL_ID, DEMO_LOGIN_SECRET, DEMO_SECRET, DEMO_TOKEN, load_demo_data,
        )
        from migrations import upgrade
        from webhook import Services, create_app

        self.sim_server = serve_in_thread(create_simulator(
            DEMO_SECRET, DEMO_TOKEN, login_channel_id=DEMO_LOGIN_CHANNEL_ID, login_channel_secret=DEMO_LOGIN_SECRET))
        config = setup(line_channel_secret=DEMO_SECRET, line_channel_access_token=DEMO_TOKEN,
                       line_api_base_url=self.sim_server.url,
                       database_url=f"sqlite:///{workdir / 'screenshots.sqlite3'}",
                       log_level=log_level, line_login_channel_id=DEMO_LOGIN_CHANNEL_ID,
                       line_login_channel_secret=DEMO_LOGIN_SECRET,
                       line_login_authorize_url=f"{self.sim_server.url}/oauth2/v2.1/authorize")
        upgrade(config.database_url)
        self.services = Services.build(config)
        self.demo_data = load_demo_data(self.services)
        self.bot_server = serve_in_thread(create_app(services=self.services))
        self.client = SimulatorClient(self.sim_server.url)
        self.client.set_webhook_url(f"{self.bot_server.url}/callback")
        self.stop = threading.Event()
        self.threads = self.services.start_background(self.stop)
        self.richmenu_id = None
        if richmenu:
            from cli.commands.richmenu import deploy_all

            menus = deploy_all(self.services.line_api, say=lambda _m: None)
            self.richmenu_id = menus["resident"].rich_menu_id

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)
        self.bot_server.shutdown()
        self.sim_server.shutdown()
        self.client.close()
        self.services.engine.dispose()


def perform(client, uid: str, action: tuple[Any, ...]) -> dict[str, Any]:
    kind, *args = action
    if kind == "follow":
        return client.follow(uid)
    if kind == "press":
        return client.press(uid, args[0])
    if kind == "postback":
        data = args[0]
        display = args[1] if len(args) > 1 else None
        return client.send_postback(uid, data, display_text=display)
    if kind == "text":
        return client.send_text(uid, args[0])
    if kind == "location":
        return client.send_location(uid, float(args[0]), float(args[1]))
    raise ValueError(f"unknown step action {kind!r}")


def wait_for_answer(client, uid: str, before: int, timeout: float = ANSWER_TIMEOUT) -> int:
    """Poll until the bot delivered more messages than `before` and then went quiet.

    Returns how many new messages arrived (0 after the timeout: the screenshot is still
    taken, so a step the bot ignores is visible rather than fatal)."""
    deadline = time.monotonic() + timeout
    count, changed_at = before, time.monotonic()
    while time.monotonic() < deadline:
        now_count = len(client.messages(uid))
        if now_count != count:
            count, changed_at = now_count, time.monotonic()
        if count > before and time.monotonic() - changed_at >= QUIET_FOR:
            break
        time.sleep(0.1)
    return count - before


def screenshot(chromium: str, url: str, path: Path, window: str, profile: Path) -> None:
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
        f"--window-size={window}",
        # The page fetches the conversation and rich menu with JS: let it run first.
        "--virtual-time-budget=3000",
        f"--screenshot={path}", url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=90)
    if result.returncode != 0 or not path.exists():
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")


def console_shots(stack, people: dict[str, str], chromium: str, out: Path, first_number: int) -> list[Shot]:
    """Each page of CONSOLE_PAGES, logged in as 安積地区's coordinator through LINE Login."""
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        print("  console pages skipped: the playwright package is not installed", file=sys.stderr)
        return []
    client = stack.client
    user = next(u for u in client.users() if u["userId"] == people["resident"])
    if not user.get("following"):  # --console-only: the resident's first steps, without pictures
        for _name, who, action in STEPS[:4]:
            before = len(client.messages(people[who]))
            perform(client, people[who], action)
            wait_for_answer(client, people[who], before)
    before = len(client.messages(people["coordinator"]))
    client.send_text(people["resident"], "人に相談したい")  # a case for 安積地区's coordinator
    wait_for_answer(client, people["coordinator"], before)
    from domain import escalation as esc
    from sqlalchemy import select

    with stack.services.sessions() as session:
        case_id = session.scalar(select(esc.Escalation.id).order_by(esc.Escalation.id.desc()).limit(1))
    shots: list[Shot] = []
    base = stack.bot_server.url
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        page = browser.new_page(locale="ja-JP", viewport={"width": CONSOLE_WINDOW[0], "height": CONSOLE_WINDOW[1]})
        for offset, (name, path) in enumerate(CONSOLE_PAGES):
            number = first_number + offset
            if path == "line-login":
                page.goto(f"{base}/console/login")
                page.get_by_role("link", name="LINEでログイン").click()
                page.wait_for_url(f"{stack.sim_server.url}/oauth2/v2.1/authorize**")
            else:
                page.goto(base + path.format(case=case_id))
            target = out / f"{number:02d}-{slug(name)}.png"
            page.screenshot(path=str(target), full_page=True)
            shots.append(Shot(number, name, ("console", path), target, 0))
            print(f"{number:02d} {name:<16} {'console ' + path:<40} -> {target}", flush=True)
            if path == "line-login":
                page.locator(f'button[data-user="{people["coordinator"]}"]').click()
                page.wait_for_url(f"{base}/console/")
        browser.close()
    return shots


def take(out: Path, steps: list[tuple[str, str, tuple[Any, ...]]], chromium: str, *,
         window: str = "1500,1400", log_level: str = "WARNING",
         richmenu: bool = True, console: bool = False) -> list[Shot]:
    out.mkdir(parents=True, exist_ok=True)
    shots: list[Shot] = []
    with tempfile.TemporaryDirectory(prefix="sasaeai-shots-") as tmp:
        workdir = Path(tmp)
        stack = Stack(workdir, log_level=log_level, richmenu=richmenu)
        try:
            client = stack.client
            from cli.commands.demo import demo_side_users

            people = {"resident": client.create_user(RESIDENT_NAME)["userId"], **demo_side_users(client)}
            page = f"{stack.sim_server.url}/?users={people['resident']},{people['volunteer']},{people['coordinator']}"
            for number, (name, who, action) in enumerate(steps, start=1):
                uid = people[who]
                before = len(client.messages(uid))
                outcome = perform(client, uid, action)
                if outcome.get("status") != 200:
                    print(f"  warning: step {name}: webhook answered {outcome.get('status')} "
                          f"{outcome.get('error') or ''}", file=sys.stderr)
                new = wait_for_answer(client, uid, before)
                path = out / f"{number:02d}-{slug(name)}.png"
                screenshot(chromium, page, path, window, workdir / f"chromium-{number}")
                shots.append(Shot(number, name, action, path, new))
                print(f"{number:02d} {name:<16} {describe(action):<40} "
                      f"{new} new message(s) -> {path}", flush=True)
            if console:
                shots += console_shots(stack, people, chromium, out, len(steps) + 1)
        finally:
            stack.close()
    return shots


# --------------------------------------------------------------------------- the console (issue 15)
CONSOLE2_PAGES = [
    ("console-insights", "/console/insights"),
    ("console-resources-new", "/console/resources/new"),
    ("console-resource-candidates", "/console/resources/candidates"),
    ("console-resources-stale", "/console/resources/stale?months=6"),
    ("console-resources-import", "/console/resources/import"),
    ("console-approvals", "/console/volunteers/approvals"),
    ("console-help-given", "/console/volunteers/help"),
    ("console-meetings", "/console/meetings"),
    ("console-meeting-new", "/console/meetings/new"),
    ("console-export", "/console/export"),
    ("console-review", "/console/review"),
]


def _sample_needs(session, coordinator, now) -> None:
    """A season of needs in the coordinator's district, so the 見える化 charts have something to show."""
    import random
    from datetime import timedelta

    from domain import escalation as esc
    from domain import needs as need_rules
    from domain.categories import CATEGORY_CODES
    from domain.scope import scope_of

    rng = random.Random(15)
    areas = sorted(scope_of(session, coordinator).area_ids)
    weights = {"shopping": 9, "outing": 7, "housework": 6, "garbage": 5, "watch": 4, "talk": 4, "snow": 3}
    for i in range(120):
        category = rng.choices(list(CATEGORY_CODES), [weights.get(c, 1) for c in CATEGORY_CODES])[0]
        created = now - timedelta(days=rng.randrange(80), hours=rng.randrange(24))
        need = need_rules.create_need(session, person=None, category=category, area=rng.choice(areas), now=created)
        roll = rng.random()
        if roll < 0.5:
            need_rules.move(need, need_rules.RESOLVED, now, note="sample")
        elif roll < 0.75:
            # Handed over a day after it came in, taken within hours, as in a working district.
            handed = min(created + timedelta(days=1), now)
            case, _ = esc.escalate(session, need, esc.NO_MATCH, handed)
            if rng.random() < 0.6:
                taken = min(handed + timedelta(hours=rng.randrange(1, 30)), now)
                esc.acknowledge(session, case.id, coordinator, taken)
                esc.resolve(session, case.id, coordinator, rng.choice(esc.OUTCOMES), min(taken + timedelta(days=3), now))


def take_console2(out: Path, chromium: str, *, log_level: str = "WARNING") -> list[Path]:
    """The console pages of issue 15 (the 見える化 charts among them), as the demo's 安積地区
    coordinator, in headless Chromium driven by Playwright. The console session is started
    directly (as LINE Login would end) and handed to the browser as its signed cookie."""
    from playwright.sync_api import sync_playwright

    from cli.commands.demo import demo_side_users
    from domain import staff
    from domain.db import transaction
    from domain.meetings.models import Meeting
    from domain.people import find_by_line_id
    from webhook import create_app

    out.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="sasaeai-console2-") as tmp:
        stack = Stack(Path(tmp), log_level=log_level, richmenu=False)
        try:
            coordinator = demo_side_users(stack.client)["coordinator"]
            now = stack.services.clock.now()
            with transaction(stack.services.sessions) as session:
                person = find_by_line_id(session, coordinator)
                token = staff.start_session(session, person, now)
                _sample_needs(session, person, now)
                meeting = session.query(Meeting).order_by(Meeting.starts_at).first()
            app = create_app(services=stack.services)
            cookie = app.session_interface.get_signing_serializer(app).dumps({"_user_id": token, "_fresh": True})
            pages = list(CONSOLE2_PAGES) + ([("console-meeting", f"/console/meetings/{meeting.id}")] if meeting else [])
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=[
                    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"])
                context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
                context.add_cookies([{"name": "sasaeai_console", "value": cookie, "url": stack.bot_server.url
                                      + "/console/"}])
                page = context.new_page()
                for name, path in pages:
                    page.goto(stack.bot_server.url + path)
                    if "insights" in path:
                        page.wait_for_selector("canvas[data-drawn='1']", timeout=10_000)
                    target = out / f"{slug(name)}.png"
                    page.screenshot(path=str(target), full_page=True)
                    taken.append(target)
                    print(f"{name:<30} {path:<40} -> {target}", flush=True)
                browser.close()
        finally:
            stack.close()
    return taken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshots of the resident flow (headless Chromium)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNGs")
    parser.add_argument("--steps", type=int, default=None, help="only the first N steps")
    parser.add_argument("--chromium", help="path of the Chromium binary (default: on PATH)")
    parser.add_argument("--window-size", default="1500,1400")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--no-richmenu", action="store_true", help="do not deploy the rich menu")
    parser.add_argument("--list", action="store_true", help="print the steps and exit")
    parser.add_argument("--no-console", action="store_true", help="no console pages")
    parser.add_argument("--console-only", action="store_true", help="only the console pages")
    parser.add_argument("--console2", action="store_true", help="the console pages of issue 15 instead")
    args = parser.parse_args(argv)
    if args.console2:
        found = find_chromium(args.chromium)
        if found is None:
            print("chromium not found", file=sys.stderr)
            return 2
        take_console2(args.out, found, log_level=args.log_level)
        return 0

    steps = [] if args.console_only else (STEPS[: args.steps] if args.steps else STEPS)
    # With --steps N only those steps are taken; the console pages come with the whole flow.
    console = args.console_only or (not args.steps and not args.no_console)
    if args.list:
        for number, (name, who, action) in enumerate(steps, start=1):
            print(f"{number:02d} {name:<22} {who:<12} {describe(action)}")
        if console:
            for number, (name, path) in enumerate(CONSOLE_PAGES, start=len(steps) + 1):
                print(f"{number:02d} {name:<22} {'console':<12} {path}")
        return 0
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("chromium not found: install it (Debian: apt-get install chromium fonts-noto-cjk) "
              "or pass --chromium", file=sys.stderr)
        return 2
    print(f"steps ({len(steps)}), screenshots into {args.out}:", flush=True)
    take(args.out, steps, chromium, window=args.window_size, log_level=args.log_level,
         richmenu=not args.no_richmenu, console=console)
    return 0


if __name__ == "__main__":
    sys.exit(main())

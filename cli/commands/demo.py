"""`sasaeai demo`: one process with the bot, its worker threads, the scheduler, the console and the
LINE simulator.

Migrates an SQLite database under instance/, loads the demo city, and prints the chat page's
address and the console's; a newcomer can talk to the bot in a browser without any LINE account,
and log in to the console as the demo coordinator through the simulator's LINE Login.
"""
from __future__ import annotations

import os
import threading

import structlog

from bot.richmenu import link_for_roles
from cli.commands._common import setup, stop_on_signals
from cli.commands.richmenu import deploy_all
from domain.db import transaction
from domain.demo_data import demo_line_user_id
from linesim.client import SimulatorClient
from linesim.server import create_app as create_simulator
from linesim.serving import serve_in_thread
from migrations import upgrade
from scheduler import runner
from webhook import Services, create_app

log = structlog.get_logger(__name__)

DEMO_SECRET = "demo-channel-secret"
DEMO_TOKEN = "demo-channel-access-token"
DEMO_LOGIN_CHANNEL_ID = "2000000001"
DEMO_LOGIN_SECRET = "demo-login-channel-secret"


def load_demo_data(services) -> str:
    try:
        from domain.demo_data import load_demo
    except ModuleNotFoundError:
        return "no demo data module"

    with transaction(services.sessions) as session:
        result = load_demo(session, services.clock.now())
    return str(result)


def demo_side_users(sim) -> dict[str, str]:
    """The demo's volunteer (鈴木 博, 買い物 in 安積地区), 安積地区's coordinator and the city's, as
    simulator users with the LINE ids the demo data gave them, so their side can be watched (and
    the coordinators can log in to the console through the simulator's LINE Login)."""

    users = {"volunteer": ("vol-02", "担い手 鈴木 博"), "coordinator": ("coord-asaka", "安積地区 コーディネーター"),
             "city": ("coord-city", "市 コーディネーター")}
    known = {u["userId"] for u in sim.users()}
    for key, name in users.values():
        if demo_line_user_id(key) not in known:
            sim.create_user(name, user_id=demo_line_user_id(key), following=True)
    return {role: demo_line_user_id(key) for role, (key, _name) in users.items()}


def link_demo_menus(services, side: dict[str, str]) -> None:
    """The demo's coordinator and volunteer see their own rich menus, as after `coordinators assign`."""
    link_for_roles(services.line_api, side["coordinator"], {"coordinator"})
    link_for_roles(services.line_api, side["city"], {"coordinator"})
    link_for_roles(services.line_api, side["volunteer"], {"volunteer"})


def start_scheduler(services, stop: threading.Event) -> threading.Thread:
    """The scheduler in this process, on the demo's database as its job store (what `sasaeai
    scheduler` does in production), so reminders, change notices and deadlines fire."""

    thread = threading.Thread(target=runner.run, args=(services.engine, services.scheduler_runner(), stop),
                              name="scheduler", daemon=True)
    thread.start()
    return thread


def run(args) -> int:
    # The demo talks to its own simulator, so it makes up a channel unless one is given.
    os.environ.setdefault("LINE_CHANNEL_SECRET", DEMO_SECRET)
    os.environ.setdefault("LINE_CHANNEL_ACCESS_TOKEN", DEMO_TOKEN)
    os.environ.setdefault("SASAEAI_LOG_LEVEL", "WARNING")  # keep the newcomer's terminal readable
    os.environ.setdefault("SASAEAI_PUBLIC_URL", f"http://{args.host}:{args.port}")  # the notice links /privacy
    sim_url = f"http://{args.host}:{args.sim_port}"
    os.environ.setdefault("LINE_LOGIN_CHANNEL_ID", DEMO_LOGIN_CHANNEL_ID)
    os.environ.setdefault("LINE_LOGIN_CHANNEL_SECRET", DEMO_LOGIN_SECRET)
    os.environ.setdefault("SASAEAI_CONSOLE_URL", f"http://{args.host}:{args.port}/console")
    config = setup(line_api_base_url=sim_url, line_login_authorize_url=f"{sim_url}/oauth2/v2.1/authorize")
    upgrade(config.database_url)
    services = Services.build(config)
    print(f"demo data: {load_demo_data(services)}", flush=True)

    bot_server = serve_in_thread(create_app(services=services), host=args.host, port=args.port)
    sim_server = serve_in_thread(
        create_simulator(config.line_channel_secret, config.line_channel_access_token,
                         webhook_url=f"{bot_server.url}/callback",
                         login_channel_id=config.line_login_channel_id,
                         login_channel_secret=config.line_login_channel_secret),
        host=args.host, port=args.sim_port)
    stop = stop_on_signals()
    services.start_background(stop)
    start_scheduler(services, stop)


    deploy_all(services.line_api, console_url=config.console_url or None, say=lambda _m: None)
    sim = SimulatorClient(sim_server.url)
    resident = sim.create_user("住民 山田ハナ")["userId"]
    side = demo_side_users(sim)
    link_demo_menus(services, side)
    print("", flush=True)
    print(f"  bot (webhook):   {bot_server.url}/callback", flush=True)
    print(f"  LINE simulator:  {sim_server.url}/?users={resident},{side['volunteer']}", flush=True)
    print(f"  with the coordinator too: {sim_server.url}/?users={resident},{side['volunteer']},{side['coordinator']}",
          flush=True)
    print(f"  coordinators' console: {bot_server.url}/console/", flush=True)
    print("    log in: press 「LINEでログイン」, then pick 「安積地区 コーディネーター」 on the simulator's",
          flush=True)
    print("    LINE Login page (the demo coordinator of 安積地区; 「市 コーディネーター」 sees every district)",
          flush=True)
    print("  Open the simulator address in a browser, press 友だち追加 and chat. Ctrl-C stops.",
          flush=True)
    stop.wait()
    bot_server.shutdown()
    sim_server.shutdown()
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="run the bot with the LINE simulator (SQLite, demo data)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SASAEAI_DEMO_PORT", "8000")))
    parser.add_argument("--sim-port", type=int, default=int(os.environ.get("SASAEAI_SIM_PORT", "8081")))
    parser.set_defaults(func=run)

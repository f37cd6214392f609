"""`sasaeai simulator`: the LINE platform simulator, standalone (see linesim)."""
from __future__ import annotations

from linesim.cli import main as simulator_main


def run(args) -> int:
    return int(simulator_main(args.simulator_args) or 0)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "simulator", help="run the LINE platform simulator (Messaging API, webhooks, chat page)",
        add_help=False)
    parser.add_argument("simulator_args", nargs="...", help="arguments for the simulator (--help)")
    parser.set_defaults(func=run)

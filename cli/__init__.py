"""The `sasaeai` console script: one subcommand per module in cli.commands.

Only the chosen subcommand's module is imported (each pulls in its own dependencies: the web
app, the learned reader, APScheduler …), so `sasaeai understand` does not pay for `sasaeai serve`.
`sasaeai --help` (or an unknown name) imports them all so that every subcommand is listed. Each
module's register() stays the one place that declares its flags.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# subcommand → module in cli.commands (tests/test_cli_table.py checks it against the package)
COMMANDS = {
    "areas": "areas",
    "coordinators": "coordinators",
    "db": "db",
    "demo": "demo",
    "demo-data": "demo_data",
    "escalations": "escalations",
    "events": "events",
    "meetings": "meetings",
    "outbox": "outbox",
    "resources": "resources",
    "richmenu": "richmenu",
    "scheduler": "scheduler",
    "serve": "serve",
    "simulator": "simulator",
    "understand": "understand",
    "worker": "worker",
}


def _chosen(argv: list[str]) -> str | None:
    """The subcommand named on the command line (the first word not starting with '-')."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sasaeai", description="sasaeai: 支え合いLINEボット")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _chosen(sys.argv[1:] if argv is None else argv)
    for name in [chosen] if chosen else sorted(COMMANDS):
        importlib.import_module(f"cli.commands.{COMMANDS[name]}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        # A wrong variable: one line naming it, no traceback. domain.settings is not imported here
        # (pydantic costs ≈0.5 s that `sasaeai understand` does not need); unloaded, it raised nothing.
        settings = sys.modules.get("domain.settings")
        if settings is None or not isinstance(exc, settings.ConfigError):
            raise
        print(f"sasaeai: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

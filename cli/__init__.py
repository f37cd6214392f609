"""The `sasaeai` console script: one subcommand per module in cli.commands."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import cli.commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sasaeai", description="sasaeai: 支え合いLINEボット")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(cli.commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"cli.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from domain.settings import ConfigError

    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:  # a wrong variable: one line naming it, no traceback
        print(f"sasaeai: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

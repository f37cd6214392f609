"""The `sasaeai` subcommand table names every module in cli.commands, and each registers its name."""
import argparse
import pkgutil

import cli
import cli.commands


def test_the_table_lists_every_subcommand_module_under_the_name_it_registers():
    modules = {m.name for m in pkgutil.iter_modules(cli.commands.__path__) if not m.name.startswith("_")}
    assert set(cli.COMMANDS.values()) == modules
    for name in cli.COMMANDS:
        parser = cli.build_parser([name])
        [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        assert list(sub.choices) == [name]


def test_help_lists_every_subcommand(capsys):
    parser = cli.build_parser(["--help"])
    help_text = parser.format_help()
    for name in cli.COMMANDS:
        assert name in help_text

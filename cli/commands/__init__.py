"""`sasaeai` subcommands. Each module here exposes register(subparsers); cli.py finds them."""

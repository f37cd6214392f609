"""`sasaeai db upgrade`: migrate the database named by DATABASE_URL."""
from __future__ import annotations

from cli.commands._common import setup
from migrations import upgrade


def run_upgrade(args) -> int:
    config = setup()
    upgrade(config.database_url, args.revision)
    print(f"データベースを最新の形にしました（リビジョン {args.revision}）" if args.revision == "head"
          else f"データベースをリビジョン {args.revision} にしました")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("db", help="database schema")
    db_sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations (Alembic)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=run_upgrade)

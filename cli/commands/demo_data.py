"""`sasaeai demo-data load`: the demo city (郡山市) into the database; safe to run twice."""
from __future__ import annotations

from cli.commands._common import setup
from domain.clock import SystemClock
from domain.db import make_engine, make_session_factory, transaction
from domain.demo_data import load_demo


def run_load(args) -> int:
    config = setup()
    engine = make_engine(config.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            report = load_demo(session, SystemClock().now())
    finally:
        engine.dispose()
    print(f"デモデータ: {report.summary()}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo-data", help="デモ用の郡山市のデータ")
    sub = parser.add_subparsers(dest="demo_data_command", metavar="ACTION", required=True)
    load = sub.add_parser("load", help="読み込む（2回実行しても重複しない）")
    load.set_defaults(func=run_load)

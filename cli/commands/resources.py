"""`sasaeai resources import FILE` (open data CSV) and `sasaeai resources list`."""
from __future__ import annotations

import sys
from pathlib import Path

from cli.commands._common import setup, table
from domain.categories import CATEGORIES, RESOURCE_KINDS
from domain.clock import SystemClock
from domain.db import make_engine, make_session_factory, transaction
from domain.importing import ImportFailed, import_resources, list_resources
from domain.labels import area_label
from domain.resources import rules_of
from domain.schedule import describe_rules


def run_import(args) -> int:
    config = setup()
    engine = make_engine(config.database_url)
    sessions = make_session_factory(engine)
    path = Path(args.file)
    try:
        data = path.read_bytes()
        # One transaction: a fatal error anywhere leaves nothing of the file behind.
        with transaction(sessions) as session:
            report = import_resources(session, data, filename=path.name, now=SystemClock().now(),
                                      kind=args.kind, area_code=args.area, dry_run=args.dry_run)
    except (ImportFailed, OSError) as exc:
        print(f"読み込みを中止しました（何も変更していません）: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(report.summary())
    for note in report.skipped:
        print(f"  スキップ {note}")
    for note in report.warnings:
        print(f"  注意 {note}")
    return 0


def run_list(args) -> int:
    config = setup()
    engine = make_engine(config.database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = [[r.id, STATUS_LABELS.get(r.status, r.status), RESOURCE_KINDS.get(r.kind, r.kind), r.name,
                     "・".join(area_label(session, a.area_id) for a in r.area_rows) or "—",
                     "・".join(CATEGORIES[c].short if c in CATEGORIES else c for c in r.categories),
                     describe_rules(rules_of(r))]
                    for r in list_resources(session, kind=args.kind, status=args.status, limit=args.limit)]
    finally:
        engine.dispose()
    if not rows:
        print("資源はありません")
        return 0
    print(table(["ID", "状態", "種類", "名前", "地区", "分類", "日時"], rows))
    return 0


STATUS_LABELS = {"active": "公開中", "inactive": "休止", "candidate": "候補"}


def register(subparsers) -> None:
    parser = subparsers.add_parser("resources", help="社会資源（オープンデータの読み込み・一覧）")
    sub = parser.add_subparsers(dest="resources_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="介護サービス事業所一覧・公共施設一覧の CSV を読み込む")
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="確かめるだけで書き込まない")
    imp.add_argument("--kind", choices=("care", "facility", "auto"), default="auto")
    imp.add_argument("--area", metavar="CODE",
                     help="すべての行をこの地区の資源にする（既定: 座標から最寄りの地区、訪問系は市全域）")
    imp.set_defaults(func=run_import)
    lst = sub.add_parser("list", help="資源の一覧")
    lst.add_argument("--kind")
    lst.add_argument("--status", choices=("active", "inactive", "candidate"))
    lst.add_argument("--limit", type=int, default=100)
    lst.set_defaults(func=run_list)

"""`sasaeai areas import FILE` / `sasaeai areas list`: the area tree (第1層・第2層・第3層)."""
from __future__ import annotations

import sys

from sqlalchemy import select

from cli.commands._common import setup, table
from domain.areas import AreaError, import_areas, read_area_file
from domain.db import make_engine, make_session_factory, transaction
from domain.models import Area


def _sessions():
    config = setup()
    engine = make_engine(config.database_url)
    return engine, make_session_factory(engine)


def run_import(args) -> int:
    engine, sessions = _sessions()
    try:
        rows = read_area_file(args.file)
        with transaction(sessions) as session:
            report = import_areas(session, rows)
            if args.dry_run:
                session.rollback()
    except (AreaError, OSError, ValueError) as exc:
        print(f"地区を読み込めませんでした（何も変更していません）: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    note = "（試行・書き込みなし）" if args.dry_run else ""
    print(f"地区{note}: 新規 {report.created}・更新 {report.updated}")
    return 0


def run_list(args) -> int:
    engine, sessions = _sessions()
    try:
        with sessions() as session:
            areas = session.scalars(select(Area).order_by(Area.layer, Area.sort_order, Area.code)).all()
            by_parent: dict[int | None, list[Area]] = {}
            for area in areas:
                by_parent.setdefault(area.parent_id, []).append(area)

            rows: list[list[object]] = []

            def show(parent_id, depth):
                for area in by_parent.get(parent_id, []):
                    rows.append([f"{'  ' * depth}{area.code}", area.name, area.kana or "—",
                                 LAYER_LABELS.get(area.layer, area.layer)])
                    show(area.id, depth + 1)

            show(None, 0)
    finally:
        engine.dispose()
    if not rows:
        print("地区はまだありません（sasaeai areas import FILE で読み込めます）")
        return 0
    print(table(["コード", "名前", "よみ", "階層"], rows))
    return 0


LAYER_LABELS = {"city": "第1層（市）", "district": "第2層（地区）", "neighbourhood": "第3層（町内会など）"}


def register(subparsers) -> None:
    parser = subparsers.add_parser("areas", help="地区（市・地区・町内会）")
    sub = parser.add_subparsers(dest="areas_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="CSV (code,name,layer,parent,kana,lat,lon) か YAML から読み込む")
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="確かめるだけで書き込まない")
    imp.set_defaults(func=run_import)
    lst = sub.add_parser("list", help="地区の一覧")
    lst.set_defaults(func=run_list)

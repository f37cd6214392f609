"""`sasaeai escalations`: the city's lists — 資源開発 proposals by district and category, overdue cases."""
from __future__ import annotations

from bot.messages.coordinator import COORDINATOR
from cli.commands._common import table, tokyo_time, unit_of_work
from domain.categories import label
from domain.escalation import overdue_cases, proposals_by_district_and_category


def run_proposals(args) -> int:
    with unit_of_work() as session:
        groups = proposals_by_district_and_category(session)
        if not groups:
            print("資源開発の提案はありません")
        for district, category, items in groups:
            print(f"■ {district.name}・{label(category)}（{len(items)}件）")
            for item in items:
                print(f"  - {item.raised_at:%Y-%m-%d} {item.text}")
    return 0


def run_overdue(args) -> int:
    with unit_of_work() as session:
        rows = [[case.id, case.area.name, COORDINATOR["reasons"].get(case.reason, case.reason),
                 COORDINATOR["urgent"] if case.urgency == "urgent" else COORDINATOR["normal"],
                 tokyo_time(case.resolve_due_at)] for case in overdue_cases(session)]
    if not rows:
        print("期限を過ぎた相談はありません")
        return 0
    print(table(["ID", "地区", "理由", "緊急度", "解決期限（日本時間）"], rows))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("escalations", help="coordinators' cases: proposals and overdue lists")
    sub = parser.add_subparsers(dest="escalations_command", metavar="ACTION", required=True)
    sub.add_parser("proposals", help="資源開発 proposals for the 第1層 協議体").set_defaults(func=run_proposals)
    sub.add_parser("overdue", help="cases past their resolution deadline").set_defaults(func=run_overdue)

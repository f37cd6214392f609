"""`sasaeai outbox`: messages LINE refused or that could not be sent, and putting them back."""
from __future__ import annotations

from sqlalchemy import select, update

from bot.outbox import FAILED, PENDING, OutboxMessage
from cli.commands._common import table, tokyo_time, unit_of_work
from domain.clock import SystemClock


def run_failed(args) -> int:
    with unit_of_work() as session:
        rows = [[row.id, row.kind, tokyo_time(row.created_at), row.attempts, (row.last_error or "")[:200]]
                for row in session.scalars(select(OutboxMessage).where(OutboxMessage.status == FAILED)
                                           .order_by(OutboxMessage.id).limit(args.limit))]
    if not rows:
        print("送れなかったメッセージはありません")
        return 0
    print(table(["ID", "種類", "作成（日本時間）", "試行回数", "LINEのエラー"], rows))
    return 0


def run_retry(args) -> int:
    with unit_of_work() as session:
        result = session.execute(update(OutboxMessage)
                                 .where(OutboxMessage.id == args.message_id, OutboxMessage.status == FAILED)
                                 .values(status=PENDING, attempts=0, available_at=SystemClock().now()))
    print(f"メッセージ {args.message_id} を送信待ちにもどしました" if result.rowcount
          else f"メッセージ {args.message_id} は送信に失敗したメッセージではありません")
    return 0 if result.rowcount else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser("outbox", help="outgoing LINE messages")
    sub = parser.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    failed = sub.add_parser("failed", help="list messages that failed for good, with LINE's error")
    failed.add_argument("--limit", type=int, default=100)
    failed.set_defaults(func=run_failed)
    retry = sub.add_parser("retry", help="send a failed message again (same retry key)")
    retry.add_argument("message_id", type=int)
    retry.set_defaults(func=run_retry)

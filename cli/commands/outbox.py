"""`sasaeai outbox`: messages LINE refused or that could not be sent, and putting them back."""
from __future__ import annotations

from sqlalchemy import select, update

from cli.commands._common import unit_of_work


def run_failed(args) -> int:
    from bot.outbox import FAILED, OutboxMessage

    with unit_of_work() as session:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == FAILED)
                                    .order_by(OutboxMessage.id).limit(args.limit)))
        if not rows:
            print("no failed messages")
        for row in rows:
            print(f"{row.id}\t{row.kind}\t{row.created_at:%Y-%m-%d %H:%M:%S}Z\tattempts={row.attempts}\t"
                  f"{(row.last_error or '')[:200]}")
    return 0


def run_retry(args) -> int:
    from domain.clock import SystemClock
    from bot.outbox import FAILED, PENDING, OutboxMessage

    with unit_of_work() as session:
        result = session.execute(update(OutboxMessage)
                                 .where(OutboxMessage.id == args.message_id, OutboxMessage.status == FAILED)
                                 .values(status=PENDING, attempts=0, available_at=SystemClock().now()))
    print("requeued" if result.rowcount else f"message {args.message_id} has not failed")
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

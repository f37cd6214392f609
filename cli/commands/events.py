"""`sasaeai events`: the dead letters — events parked after failing repeatedly."""
from __future__ import annotations

from bot import inbox
from cli.commands._common import table, tokyo_time, unit_of_work
from domain.clock import SystemClock


def run_parked(args) -> int:
    with unit_of_work() as session:
        events = inbox.parked_events(session, args.limit)
        rows = [[event.id, event.event_type, tokyo_time(event.received_at), event.attempts,
                 ((event.last_error or "").strip().splitlines()[-1:] or [""])[0][:200]] for event in events]
    if not rows:
        print("止まっているイベントはありません")
        return 0
    print(table(["ID", "種類", "受信（日本時間）", "試行回数", "最後のエラー"], rows))
    return 0


def run_retry(args) -> int:
    with unit_of_work() as session:
        done = inbox.requeue(session, args.event_id, SystemClock().now())
    print(f"イベント {args.event_id} を処理待ちにもどしました" if done
          else f"イベント {args.event_id} は止まっているイベントではありません")
    return 0 if done else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser("events", help="received LINE events")
    sub = parser.add_subparsers(dest="events_command", metavar="ACTION", required=True)
    parked = sub.add_parser("parked", help="list events parked after repeated failures (dead letters)")
    parked.add_argument("--limit", type=int, default=100)
    parked.set_defaults(func=run_parked)
    retry = sub.add_parser("retry", help="put a parked event back in the queue")
    retry.add_argument("event_id", type=int)
    retry.set_defaults(func=run_retry)

"""`sasaeai events`: the dead letters — events parked after failing repeatedly."""
from __future__ import annotations

from cli.commands._common import unit_of_work


def run_parked(args) -> int:
    from bot import inbox
    with unit_of_work() as session:
        events = inbox.parked_events(session, args.limit)
        if not events:
            print("no parked events")
        for event in events:
            last_line = (event.last_error or "").strip().splitlines()[-1:] or [""]
            print(f"{event.id}\t{event.event_type}\t{event.received_at:%Y-%m-%d %H:%M:%S}Z\t"
                  f"attempts={event.attempts}\t{last_line[0][:200]}")
    return 0


def run_retry(args) -> int:
    from bot import inbox
    from domain.clock import SystemClock
    with unit_of_work() as session:
        done = inbox.requeue(session, args.event_id, SystemClock().now())
    print("requeued" if done else f"event {args.event_id} is not parked")
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

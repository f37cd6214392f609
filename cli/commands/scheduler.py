"""`sasaeai scheduler`: the one scheduler process (APScheduler, jobs stored in the database).

Every minute it turns due meeting reminders and notices into outbox messages (the worker's
dispatcher sends them); every night it generates recurring meetings up to the horizon.
`--once` runs the reminder, series and escalation jobs a single time and exits (cron, or to
see what is due).
"""
from __future__ import annotations


def run(args) -> int:
    from domain.clock import SystemClock
    from cli.commands._common import setup, stop_on_signals
    from domain.db import make_engine, make_session_factory
    from scheduler import runner
    from scheduler.jobs import DigestPolicy

    config = setup()
    engine = make_engine(config.database_url)
    digest = DigestPolicy(enabled=not args.no_digest, min_meetings=args.digest_min_meetings,
                          max_members=args.digest_max_members)
    try:
        if args.once:
            rt = runner.Runtime(make_session_factory(engine), SystemClock(), digest)
            created = runner.extend(rt)
            report = runner.tick(rt)
            print(f"meetings created: {created}; reminders claimed {report.claimed}, sent {report.sent} "
                  f"(late {report.late}), dropped {report.dropped}, skipped {report.skipped}, "
                  f"outbox rows {report.outbox_rows}, digests {report.digests}")
            from domain.db import transaction
            from scheduler.escalations import every_minute

            with transaction(rt.sessions) as session:
                cases = every_minute(session, rt.clock.now())
            print(f"cases: re-notified {cases.renotified}, to the city {cases.sent_to_city}, "
                  f"overdue {cases.overdue}, not accepted in time {cases.not_accepted}")
            return 0
        runner.run(engine, SystemClock(), digest=digest, stop=stop_on_signals(),
                   tick_seconds=args.tick_seconds)
    finally:
        engine.dispose()
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("scheduler", help="run the scheduler (meeting reminders); one process only")
    parser.add_argument("--once", action="store_true", help="run the jobs once and exit")
    parser.add_argument("--tick-seconds", type=int, default=60, help="how often reminders are checked")
    parser.add_argument("--no-digest", action="store_true",
                        help="always send each meeting its own reminder card")
    parser.add_argument("--digest-min-meetings", type=int, default=20,
                        help="meetings on one day, due in one tick, before their members get one digest")
    parser.add_argument("--digest-max-members", type=int, default=100,
                        help="a meeting with this many members always gets its own card")
    parser.set_defaults(func=run)

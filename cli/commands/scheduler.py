"""`sasaeai scheduler`: the one scheduler process (APScheduler, jobs stored in the database).

Every minute it turns due meeting reminders and notices into outbox messages (the worker's
dispatcher sends them); every night it generates recurring meetings up to the horizon.
`--once` runs the reminder, series and escalation jobs a single time and exits (cron, or to
see what is due).
"""
from __future__ import annotations

from cli.commands._common import setup, stop_on_signals
from scheduler import runner
from scheduler.deps import DigestPolicy
from webhook import Services


def run(args) -> int:
    services = Services.build(setup())
    digest = DigestPolicy(enabled=not args.no_digest, min_meetings=args.digest_min_meetings,
                          max_members=args.digest_max_members)
    jobs = services.scheduler_runner(digest)
    try:
        if args.once:
            created, report, cases = jobs.once()
            print(f"会議の作成: {created}件 / お知らせ: 対象 {report.claimed}件、送信 {report.sent}件"
                  f"（遅れ {report.late}）、取りやめ {report.dropped}件、省略 {report.skipped}件、"
                  f"送信待ちの行 {report.outbox_rows}件、まとめ {report.digests}件")
            print(f"相談: 再通知 {cases.renotified}件、市へ {cases.sent_to_city}件、"
                  f"期限切れ {cases.overdue}件、引き受けなし {cases.not_accepted}件")
            return 0
        runner.run(services.engine, jobs, stop_on_signals(), tick_seconds=args.tick_seconds)
    finally:
        services.engine.dispose()
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

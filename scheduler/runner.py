"""The scheduler process: APScheduler 3 with its job store in our own database.

Only `sasaeai scheduler` builds one; web and worker processes never do. The jobs stored in
`apscheduler_jobs` name module-level functions here (textual references, so the store holds
no pickled engine); they find the process's database and clock in `_RUNTIME`, set by run().

Every effect is idempotent (see jobs.py), so a second scheduler started by mistake, or one
restarted mid-tick, sends nothing twice.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import structlog
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from domain.clock import TOKYO, Clock, SystemClock
from domain.db import make_session_factory, transaction
from scheduler import jobs

log = structlog.get_logger(__name__)

TICK_JOB, SERIES_JOB = "meeting-reminders", "meeting-series"
BATCH = 500


@dataclass
class Runtime:
    sessions: sessionmaker[Session]
    clock: Clock
    digest: jobs.DigestPolicy = jobs.DigestPolicy()
    horizon_days: int = 120


_RUNTIME: Runtime | None = None


def tick(runtime: Runtime | None = None) -> jobs.Report:
    """Send every due meeting reminder, in transactions of at most BATCH rows."""
    runtime = runtime or _RUNTIME
    if runtime is None:
        raise RuntimeError("the scheduler runtime is not set up (sasaeai scheduler sets it)")
    total = jobs.Report()
    while True:
        with transaction(runtime.sessions) as session:
            report = jobs.send_due_reminders(session, runtime.clock.now(), limit=BATCH,
                                             digest=runtime.digest)
        total.add(report)
        if report.claimed < BATCH:
            break
    if total.claimed:
        log.info("meetings.reminders", claimed=total.claimed, sent=total.sent, late=total.late,
                 dropped=total.dropped, skipped=total.skipped, outbox_rows=total.outbox_rows,
                 digests=total.digests)
    return total


def extend(runtime: Runtime | None = None) -> int:
    runtime = runtime or _RUNTIME
    if runtime is None:
        raise RuntimeError("the scheduler runtime is not set up")
    with transaction(runtime.sessions) as session:
        created = jobs.extend_series(session, runtime.clock.now(), runtime.horizon_days)
    if created:
        log.info("meetings.series_extended", created=created)
    return created


def _guarded(fn: Callable[[], object], name: str) -> None:
    try:
        fn()
    except Exception:  # keep the scheduler alive; the next run tries again
        log.exception("scheduler.job_failed", job=name)


def tick_job() -> None:
    _guarded(tick, TICK_JOB)


def extend_job() -> None:
    _guarded(extend, SERIES_JOB)


def session_job(ref: str) -> None:
    """Run a plain job `module:function(session, now)` in one transaction (other jobs' hook)."""
    from apscheduler.util import ref_to_obj

    def call() -> None:
        if _RUNTIME is None:
            raise RuntimeError("the scheduler runtime is not set up")
        with transaction(_RUNTIME.sessions) as session:
            ref_to_obj(ref)(session, _RUNTIME.clock.now())

    _guarded(call, ref)


@dataclass(frozen=True)
class JobSpec:
    id: str
    ref: str  # "module:function" taking (session, now)
    trigger: str  # "interval" | "cron"
    trigger_args: dict


# More plain jobs (escalation deadlines, the retention purge …) are added here, one line each:
#   JobSpec("escalation-deadlines", "scheduler.escalations:run_deadlines", "interval", {"minutes": 1})
EXTRA_JOBS: list[JobSpec] = [
    JobSpec("escalations", "scheduler.escalations:every_minute", "interval", {"seconds": 60}),
    # 08:30 Tokyo; the job itself skips weekends, holidays and coordinators with nothing to say.
    JobSpec("daily-summary", "scheduler.escalations:send_daily_summaries", "cron",
            {"hour": 8, "minute": 30, "timezone": "Asia/Tokyo"}),
    JobSpec("retention-purge", "scheduler.escalations:purge_unfollowed", "cron",
            {"hour": 3, "minute": 30, "timezone": "Asia/Tokyo"}),
]


def build_scheduler(engine: Engine, *, blocking: bool = True, tick_seconds: int = 60,
                    extra_jobs: list[JobSpec] | None = None):
    """An APScheduler with the SQLAlchemy job store on `engine` and our jobs (replaced)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=TOKYO,
    )
    scheduler.add_job(f"{__name__}:tick_job", "interval", seconds=tick_seconds, id=TICK_JOB,
                      name="meeting reminders", replace_existing=True)
    scheduler.add_job(f"{__name__}:extend_job", "cron", hour=3, minute=0, id=SERIES_JOB,
                      name="extend recurring meetings", replace_existing=True)
    for spec in EXTRA_JOBS if extra_jobs is None else extra_jobs:
        scheduler.add_job(f"{__name__}:session_job", spec.trigger, args=[spec.ref], id=spec.id,
                          name=spec.ref, replace_existing=True, **spec.trigger_args)
    return scheduler


def run(engine: Engine, clock: Clock | None = None, *, digest: jobs.DigestPolicy = jobs.DigestPolicy(),
        stop: threading.Event | None = None, tick_seconds: int = 60) -> None:
    """Run the scheduler until stopped: one tick and one extension at once, then on schedule."""
    global _RUNTIME
    _RUNTIME = Runtime(make_session_factory(engine), clock or SystemClock(), digest)
    extend_job()
    tick_job()
    scheduler = build_scheduler(engine, blocking=stop is None, tick_seconds=tick_seconds)
    log.info("scheduler.start", jobs=[TICK_JOB, SERIES_JOB])
    if stop is None:
        scheduler.start()  # blocks; SIGINT/SIGTERM end it
        return
    scheduler.start()
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)

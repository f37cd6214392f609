"""The scheduler process: APScheduler 3 with its job store in our own database.

Only `sasaeai scheduler` (and `sasaeai demo`, in-process) builds one. A stored job holds only
its name and the reference `scheduler.runner:stored_job`; the `Runner` this process was given
(its sessions, clock and `JobDeps`, all from webhook.Services) runs it through the scheduler's
executor, so there is no module-global state and the store holds no pickled engine.

Jobs that an earlier version stored under other module paths (or names no longer used) are
removed at start and ours written again, so an upgraded installation never trips over them.

Every effect is idempotent (see jobs.py), so a second scheduler started by mistake, or one
restarted mid-tick, sends nothing twice.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Callable

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from domain.clock import TOKYO, Clock
from domain.db import transaction
from scheduler import case_jobs, jobs
from scheduler.deps import JobDeps

log = structlog.get_logger(__name__)

TICK_JOB, SERIES_JOB = "meeting-reminders", "meeting-series"
BATCH = 500


@dataclass(frozen=True)
class JobSpec:
    id: str
    trigger: str  # "interval" | "cron"
    trigger_args: dict


# Cron times are Asia/Tokyo (the scheduler's zone); the jobs themselves skip what is not due.
SCHEDULE: tuple[JobSpec, ...] = (
    JobSpec(SERIES_JOB, "cron", {"hour": 3, "minute": 0}),
    JobSpec("escalations", "interval", {"seconds": 60}),
    # 08:30: the job skips weekends, holidays and coordinators with nothing to say.
    JobSpec("daily-summary", "cron", {"hour": 8, "minute": 30}),
    JobSpec("retention-purge", "cron", {"hour": 3, "minute": 30}),
    # Parked events and failed messages are redacted within ten minutes; old records reduced.
    JobSpec("retention-reduce", "interval", {"minutes": 10}),
)


class Runner:
    """Runs each job by name with this process's dependencies, one transaction at a time."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, deps: JobDeps):
        self.sessions, self.clock, self.deps = sessions, clock, deps
        self._plain: dict[str, Callable] = {
            "escalations": case_jobs.every_minute,
            "daily-summary": case_jobs.send_daily_summaries,
            "retention-purge": case_jobs.purge_unfollowed,
            "retention-reduce": case_jobs.reduce_old_records,
        }

    def tick(self) -> jobs.Report:
        """Send every due meeting reminder, in transactions of at most BATCH rows."""
        total = jobs.Report()
        while True:
            with transaction(self.sessions) as session:
                report = jobs.send_due_reminders(session, self.clock.now(), self.deps, limit=BATCH)
            total.add(report)
            if report.claimed < BATCH:
                break
        if total.claimed:
            log.info("meetings.reminders", claimed=total.claimed, sent=total.sent, late=total.late,
                     dropped=total.dropped, skipped=total.skipped, outbox_rows=total.outbox_rows,
                     digests=total.digests)
        return total

    def extend(self) -> int:
        with transaction(self.sessions) as session:
            created = jobs.extend_series(session, self.clock.now(), self.deps)
        if created:
            log.info("meetings.series_extended", created=created)
        return created

    def run_plain(self, name: str):
        with transaction(self.sessions) as session:
            return self._plain[name](session, self.clock.now(), self.deps)

    @property
    def names(self) -> tuple[str, ...]:
        return (TICK_JOB, SERIES_JOB, *self._plain)

    def run(self, name: str):
        if name == TICK_JOB:
            return self.tick()
        if name == SERIES_JOB:
            return self.extend()
        return self.run_plain(name)

    def run_guarded(self, name: str) -> None:
        try:
            self.run(name)
        except Exception:  # keep the scheduler alive; the next run tries again
            log.exception("scheduler.job_failed", job=name)

    def once(self) -> tuple[int, jobs.Report, case_jobs.Report]:
        """`sasaeai scheduler --once`: the series, the reminders and the escalation tick."""
        return self.extend(), self.tick(), self.run_plain("escalations")


def stored_job(name: str) -> None:
    """What the job store names; only a Runner's executor runs the job behind it."""
    raise RuntimeError(f"scheduler job {name!r} runs only inside `sasaeai scheduler`")


class _RunnerExecutor(ThreadPoolExecutor):
    """Runs a stored job by its name through the Runner instead of the stored reference."""

    def __init__(self, runner: Runner):
        super().__init__(max_workers=1)
        self._runner = runner

    def _do_submit_job(self, job, run_times):
        bound = copy.copy(job)
        bound._jobstore_alias = job._jobstore_alias
        bound._modify(func=self._runner.run_guarded, args=list(job.args), kwargs={})
        super()._do_submit_job(bound, run_times)


def build_scheduler(engine: Engine, runner: Runner, *, tick_seconds: int = 60) -> BackgroundScheduler:
    """An APScheduler with the SQLAlchemy job store on `engine`, started paused with our jobs
    (and only ours) stored; `resume()` sets it going."""
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        executors={"default": _RunnerExecutor(runner)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=TOKYO,
    )
    scheduler.start(paused=True)
    specs = (JobSpec(TICK_JOB, "interval", {"seconds": tick_seconds}), *SCHEDULE)
    ours = {spec.id for spec in specs}
    # Reading the store drops jobs it cannot restore (old module paths); then drop strangers.
    for job in scheduler.get_jobs():
        if job.id not in ours:
            job.remove()
    for spec in specs:
        scheduler.add_job(f"{__name__}:stored_job", spec.trigger, args=[spec.id], id=spec.id, name=spec.id,
                          replace_existing=True, **spec.trigger_args)
    return scheduler


def run(engine: Engine, runner: Runner, stop: threading.Event, *, tick_seconds: int = 60) -> None:
    """Run the scheduler until `stop` is set: the series and one tick at once, then on schedule."""
    runner.run_guarded(SERIES_JOB)
    runner.run_guarded(TICK_JOB)
    scheduler = build_scheduler(engine, runner, tick_seconds=tick_seconds)
    scheduler.resume()
    log.info("scheduler.start", jobs=[job.id for job in scheduler.get_jobs()])
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)

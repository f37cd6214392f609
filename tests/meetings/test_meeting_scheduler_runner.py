"""The scheduler process's wiring: jobs stored in our own apscheduler_jobs table, tick in batches.

The scheduler is never left running: it is started paused (which only stores the jobs) and shut
down; the jobs themselves are called directly.
"""
from __future__ import annotations

from sqlalchemy import text

from meeting_builders import Council, tokyo
from domain.clock import FixedClock
from domain.db import make_session_factory, transaction
from scheduler import runner


def test_the_jobs_are_stored_in_our_database(engine):
    scheduler = runner.build_scheduler(engine, blocking=False)
    scheduler.start(paused=True)
    try:
        with engine.connect() as conn:
            ids = sorted(r[0] for r in conn.execute(text("SELECT id FROM apscheduler_jobs")))
        assert ids == sorted([runner.SERIES_JOB, runner.TICK_JOB, *(j.id for j in runner.EXTRA_JOBS)])
        assert {"escalations", "daily-summary"} <= set(ids)
        tick = scheduler.get_job(runner.TICK_JOB)
        assert tick.trigger.interval.total_seconds() == 60 and tick.max_instances == 1
    finally:
        scheduler.shutdown(wait=False)
    again = runner.build_scheduler(engine, blocking=False)  # a restart replaces, never doubles
    again.start(paused=True)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM apscheduler_jobs")).scalar() == 2 + len(runner.EXTRA_JOBS)
    finally:
        again.shutdown(wait=False)


def test_other_plain_jobs_are_added_by_reference(engine, clock, monkeypatch):
    calls.clear()
    monkeypatch.setattr(runner, "_RUNTIME", runner.Runtime(make_session_factory(engine), clock))
    spec = runner.JobSpec("probe", f"{__name__}:probe_job", "interval", {"minutes": 5})
    scheduler = runner.build_scheduler(engine, blocking=False, extra_jobs=[spec])
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("probe")
        assert job.args == (spec.ref,)
    finally:
        scheduler.shutdown(wait=False)
    runner.session_job(spec.ref)  # what APScheduler calls
    assert calls == [clock.now()]


calls: list = []  # what probe_job saw


def probe_job(session, now) -> None:
    calls.append(now)


def test_tick_works_through_every_due_row_in_batches(engine, clock, monkeypatch):
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        council = Council.build(s, clock.now())
        for _ in range(5):
            council.meeting("2026-12-16 14:00", members=council.members(1))
    monkeypatch.setattr(runner, "BATCH", 2)
    rt = runner.Runtime(sessions, FixedClock(tokyo("2026-12-09 09:00")))
    report = runner.tick(rt)
    assert (report.claimed, report.sent) == (5, 5)
    assert runner.tick(rt).claimed == 0

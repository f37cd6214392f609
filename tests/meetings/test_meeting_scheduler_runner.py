"""The scheduler process's wiring: jobs stored in our own apscheduler_jobs table by name only,
run through the process's Runner, tick in batches, and old stored jobs replaced.

The scheduler is started paused (which only stores the jobs) and shut down; the one test that
lets a job run waits for it on an event, not on the clock.
"""
from __future__ import annotations

import pickle
import threading
from datetime import datetime, timezone

from sqlalchemy import text

from meeting_builders import Council, tokyo
from domain.clock import FixedClock
from domain.db import make_session_factory, transaction
from scheduler import runner
from tests.jobs_support import job_deps


def _runner(engine, clock) -> runner.Runner:
    return runner.Runner(make_session_factory(engine), clock, job_deps())


def _stored(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r[0]: pickle.loads(r[1]) for r in conn.execute(text("SELECT id, job_state FROM apscheduler_jobs"))}


def test_the_jobs_are_stored_in_our_database(engine, clock):
    scheduler = runner.build_scheduler(engine, _runner(engine, clock))
    try:
        stored = _stored(engine)
        assert sorted(stored) == sorted([runner.TICK_JOB, *(spec.id for spec in runner.SCHEDULE)])
        assert {"escalations", "daily-summary", "retention-purge", runner.SERIES_JOB} <= set(stored)
        assert {state["func"] for state in stored.values()} == {"scheduler.runner:stored_job"}
        tick = scheduler.get_job(runner.TICK_JOB)
        assert tick.trigger.interval.total_seconds() == 60 and tick.max_instances == 1
    finally:
        scheduler.shutdown(wait=False)
    again = runner.build_scheduler(engine, _runner(engine, clock))  # a restart replaces, never doubles
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM apscheduler_jobs")).scalar() == 1 + len(runner.SCHEDULE)
    finally:
        again.shutdown(wait=False)


def test_jobs_stored_under_the_old_module_paths_are_replaced_at_start(engine, clock):
    scheduler = runner.build_scheduler(engine, _runner(engine, clock))
    template = scheduler.get_job(runner.TICK_JOB).__getstate__()
    scheduler.shutdown(wait=False)
    # What the previous layout stored: references into a `sasaeai` package that is gone.
    old = {runner.TICK_JOB: "sasaeai.scheduler.runner:tick_job",
           "escalation-deadlines": "sasaeai.scheduler.escalations:run_deadlines"}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM apscheduler_jobs"))
        for job_id, ref in old.items():
            state = {**template, "id": job_id, "func": ref, "args": (), "name": ref}
            conn.execute(text("INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES (:i, :t, :s)"),
                         {"i": job_id, "t": 1.0, "s": pickle.dumps(state)})
    restarted = runner.build_scheduler(engine, _runner(engine, clock))
    try:
        stored = _stored(engine)
        assert sorted(stored) == sorted([runner.TICK_JOB, *(spec.id for spec in runner.SCHEDULE)])
        assert "escalation-deadlines" not in stored
        assert {state["func"] for state in stored.values()} == {"scheduler.runner:stored_job"}
    finally:
        restarted.shutdown(wait=False)


class _Recorder(runner.Runner):
    def __init__(self, *args):
        super().__init__(*args)
        self.ran: list[str] = []
        self.done = threading.Event()

    def run_guarded(self, name: str) -> None:
        self.ran.append(name)
        self.done.set()


def test_a_stored_job_runs_through_the_process_runner(engine, clock):
    recorder = _Recorder(make_session_factory(engine), clock, job_deps())
    scheduler = runner.build_scheduler(engine, recorder)
    try:
        scheduler.get_job("escalations").modify(next_run_time=datetime.now(timezone.utc))
        scheduler.resume()
        assert recorder.done.wait(10)
        assert recorder.ran[0] == "escalations"
    finally:
        scheduler.shutdown(wait=True)


def test_the_stored_reference_alone_refuses_to_run():
    try:
        runner.stored_job("escalations")
    except RuntimeError as exc:
        assert "sasaeai scheduler" in str(exc)
    else:
        raise AssertionError("stored_job ran without a Runner")


def test_tick_works_through_every_due_row_in_batches(engine, clock, monkeypatch):
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        council = Council.build(s, clock.now())
        for _ in range(5):
            council.meeting("2026-12-16 14:00", members=council.members(1))
    monkeypatch.setattr(runner, "BATCH", 2)
    rt = runner.Runner(sessions, FixedClock(tokyo("2026-12-09 09:00")), job_deps())
    report = rt.tick()
    assert (report.claimed, report.sent) == (5, 5)
    assert rt.tick().claimed == 0

"""`sasaeai demo` runs the scheduler in its own process, with the demo's database as job store."""
from __future__ import annotations

import threading

from sqlalchemy import inspect, text

from cli.commands.demo import start_scheduler
from scheduler.runner import SCHEDULE, SERIES_JOB, TICK_JOB
from tests.ingest.conftest import build_services


def test_the_demo_scheduler_stores_every_job_in_the_demo_database_and_stops_with_the_demo(sqlite_url, clock):
    services = build_services(sqlite_url, clock)
    stop = threading.Event()
    stop.set()  # runs the first tick and stores the jobs, then sees the demo stopping
    thread = start_scheduler(services, stop)
    thread.join(30)
    assert not thread.is_alive()
    assert "apscheduler_jobs" in inspect(services.engine).get_table_names()
    with services.engine.connect() as conn:
        stored = set(conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars())
    assert stored == {TICK_JOB, *(spec.id for spec in SCHEDULE)} and SERIES_JOB in stored
    services.engine.dispose()

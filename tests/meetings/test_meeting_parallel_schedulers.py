"""Two schedulers by mistake: each reminder still goes out exactly once (SKIP LOCKED + dedupe)."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from meeting_builders import Council, line_id, tokyo
from domain import meetings as mtg
from bot.outbox import OutboxMessage
from scheduler.jobs import NO_DIGEST, DigestPolicy, Report, send_due_reminders
from tests.jobs_support import job_deps

MEETINGS, MEMBERS = 40, 10


def _seed(sessions, clock) -> list[str]:
    with sessions() as s, s.begin():
        council = Council.build(s, clock.now())
        everyone = []
        for i in range(MEETINGS):
            members = council.many([line_id() for _ in range(MEMBERS)])
            everyone.extend(m.line_user_id for m in members)
            council.meeting("2026-12-16 14:00", members=members, title=f"協議体 {i}")
    return everyone


def _run_in_parallel(sessions, at, policy, threads=4, limit=3) -> list[Report]:
    barrier = threading.Barrier(threads)
    reports = [Report() for _ in range(threads)]
    errors = []

    def scheduler(n: int) -> None:
        try:
            barrier.wait()
            while True:  # one tick: batches until nothing is left, as runner.tick does
                with sessions() as s, s.begin():
                    report = send_due_reminders(s, at, job_deps(digest=policy), limit=limit)
                reports[n].add(report)
                if report.claimed == 0:
                    return
        except Exception as exc:  # pragma: no cover - shown by the assert below
            errors.append(exc)

    workers = [threading.Thread(target=scheduler, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert errors == []
    return reports


@pytest.mark.parametrize("policy", [NO_DIGEST, DigestPolicy(min_meetings=2)], ids=["cards", "digest"])
def test_parallel_schedulers_send_each_reminder_once(any_sessions, clock, policy):
    everyone = _seed(any_sessions, clock)
    reports = _run_in_parallel(any_sessions, tokyo("2026-12-09 09:00"), policy)

    assert sum(r.sent for r in reports) == MEETINGS
    with any_sessions() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "multicast")).all()
        received = Counter(uid for row in rows for uid in row.recipient_list)
        assert received == Counter(everyone)  # every member exactly once
        keys = [r.dedupe_key for r in rows]
        assert len(keys) == len(set(keys))
        statuses = Counter(r.status for r in s.scalars(select(mtg.MeetingReminder).where(
            mtg.MeetingReminder.kind == mtg.REMIND, mtg.MeetingReminder.day_offset == -7)))
        assert statuses == Counter({mtg.SENT: MEETINGS})


def test_on_postgresql_the_work_is_shared_not_repeated(pg_url, clock):
    """SKIP LOCKED lets both schedulers work at once on different rows."""
    from domain.db import make_engine, make_session_factory

    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    try:
        _seed(sessions, clock)
        reports = _run_in_parallel(sessions, tokyo("2026-12-09 09:00"), NO_DIGEST, threads=2, limit=2)
        assert sum(r.sent for r in reports) == MEETINGS
        assert sum(r.claimed for r in reports) == MEETINGS
    finally:
        engine.dispose()

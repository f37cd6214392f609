"""Benchmark: meeting reminders for 10,000 members across 200 meetings.  (a benchmark, not a test)

    .venv/bin/python bench/reminders.py            # SQLite, ~3 minutes (the naive loop is most of it)
    .venv/bin/python bench/reminders.py --skip-naive   # SQLite, ~20 seconds
    .venv/bin/python bench/reminders.py --pg       # PostgreSQL too (a fresh database, dropped after)

For each design, a fresh database gets 200 council meetings of 50 members each (10,000 distinct
members, all known to the LINE simulator), all on one day, so that every 7-days-before reminder is
due at the same scheduler tick. Timed: from the tick (Runner.tick → send_due_reminders, in
batches) through the outbox dispatcher (Services.dispatcher().run_once() until nothing is left)
until the simulator (linesim, on loopback) has accepted every reminder. Printed: wall time, LINE
requests, members reached.

Designs:
  default   the scheduler's default DigestPolicy: meetings under 100 members whose reminders fall
            due together for one day, when there are 20 or more of them, share one identical
            digest 「〇月〇日に協議体の会議があります」+ 確認する (its reply — free — shows each member
            their own meetings with answer buttons): one multicast per 500 members.
  cards     --no-digest: each meeting its own card with 出席/欠席/未定: one multicast per meeting.
  naive     one push per member, in a loop, straight to the API (no outbox).
"""
from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scratch import PG_SERVER_URL, create_scratch, drop_scratch  # noqa: E402

from sqlalchemy import insert, select  # noqa: E402

from domain.clock import TOKYO, FixedClock  # noqa: E402
from domain.settings import Config  # noqa: E402
from domain.db import make_engine, make_session_factory, transaction  # noqa: E402
from migrations import upgrade  # noqa: E402

SECRET, TOKEN = secrets.token_hex(16), "bench-" + secrets.token_hex(16)
MEETING_DAY = datetime(2026, 12, 16, tzinfo=TOKYO)
TICK_AT = datetime(2026, 12, 9, 9, 0, tzinfo=TOKYO)  # 7 days before, 09:00


def seed(url: str, members: int, meetings: int) -> list[list[str]]:
    """Areas, people and meetings; returns each meeting's members' LINE ids."""
    from domain import meetings as mtg
    from domain.areas import import_areas
    from domain.models import Area, Person

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = datetime(2026, 11, 26, 10, 0, tzinfo=TOKYO)
    per = members // meetings
    groups: list[list[str]] = []
    with transaction(sessions) as s:
        import_areas(s, [{"code": "koriyama", "name": "郡山市", "layer": "city"}] + [
            {"code": f"d{i:02d}", "name": f"第{i}地区", "layer": "district", "parent": "koriyama"}
            for i in range(38)])
        s.flush()
        districts = list(s.scalars(select(Area).where(Area.layer == "district").order_by(Area.code)))
        uids = ["U" + uuid.uuid4().hex for _ in range(members)]
        s.execute(insert(Person), [
            {"line_user_id": uid, "display_name": f"委員{i}", "consent": "given", "consent_at": now,
             "active": True, "created_at": now, "updated_at": now} for i, uid in enumerate(uids)])
        ids = dict(s.execute(select(Person.line_user_id, Person.id)).all())
        for m in range(meetings):
            group = uids[m * per:(m + 1) * per]
            groups.append(group)
            start = MEETING_DAY.replace(hour=9 + m % 8)
            mtg.create_meeting(
                s, layer="district", area_id=districts[m % len(districts)].id,
                title=f"{districts[m % len(districts)].name} 第2層協議体 {m}", starts_at=start,
                ends_at=start + timedelta(hours=2), now=now, place="市民センター",
                member_ids=[ids[u] for u in group], agenda=["地域の支え合い活動の共有"])
    engine.dispose()
    return groups


class Simulator:
    def __init__(self) -> None:
        from linesim.client import SimulatorClient
        from linesim.server import create_app, state_of
        from linesim.serving import serve_in_thread

        app = create_app(SECRET, TOKEN)
        self.state = state_of(app)
        self.server = serve_in_thread(app)
        self.client = SimulatorClient(self.server.url)

    def add_users(self, groups: list[list[str]]) -> None:
        for group in groups:
            for uid in group:
                self.state.add_user(None, uid, following=True)

    def reached(self) -> int:
        return sum(1 for entries in self.state.transcripts.values()
                   if any(e.get("direction") == "bot" for e in entries))

    def requests(self, endpoint: str) -> list[dict]:
        return self.client.requests_log(endpoint)

    def close(self) -> None:
        self.client.close()
        self.server.shutdown()


def run_scheduler_design(url: str, sim: Simulator, digest) -> tuple[float, int, int]:
    from webhook import Services

    clock = FixedClock(TICK_AT)
    config = Config(line_channel_secret=SECRET, line_channel_access_token=TOKEN,
                    line_api_base_url=sim.server.url, database_url=url, line_request_timeout=10.0)
    services = Services.build(config, clock=clock)
    dispatcher = services.dispatcher()
    before = len(sim.requests("multicast")) + len(sim.requests("push"))
    started = time.perf_counter()
    report = services.scheduler_runner(digest).tick()
    while dispatcher.run_once():
        pass
    elapsed = time.perf_counter() - started
    requests = len(sim.requests("multicast")) + len(sim.requests("push")) - before
    assert report.claimed and report.sent, report
    services.line_api.close()
    services.engine.dispose()
    return elapsed, requests, sim.reached()


def run_naive(url: str, sim: Simulator) -> tuple[float, int, int]:
    from bot.line_api import LineApi
    from domain import meetings as mtg
    from domain.models import Person
    from bot.messages import council

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    api = LineApi(sim.server.url, TOKEN, timeout=10.0)
    before = len(sim.requests("push"))
    started = time.perf_counter()
    with sessions() as s:
        for meeting in s.scalars(select(mtg.Meeting).order_by(mtg.Meeting.id)):
            messages = council.reminder_messages(meeting, TICK_AT)
            for uid in s.scalars(select(Person.line_user_id).join(
                    mtg.MeetingMember, mtg.MeetingMember.person_id == Person.id).where(
                    mtg.MeetingMember.meeting_id == meeting.id)):
                api.push(uid, messages, str(uuid.uuid4()))
    elapsed = time.perf_counter() - started
    requests = len(sim.requests("push")) - before
    api.close()
    engine.dispose()
    return elapsed, requests, sim.reached()


def fresh_database(kind: str, tmp: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:6]}.sqlite3'}", None
    return create_scratch(PG_SERVER_URL)


def drop_database(name: str | None) -> None:
    if name is not None:
        drop_scratch(PG_SERVER_URL, name)


def main() -> int:
    import logging

    from scheduler.jobs import NO_DIGEST, DigestPolicy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--meetings", type=int, default=200)
    parser.add_argument("--pg", action="store_true", help="also run on PostgreSQL (" + PG_SERVER_URL + ")")
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    kinds = ["sqlite"] + (["postgresql"] if args.pg else [])
    designs = [("default (digest for >=20 small meetings a day)", DigestPolicy()),
               ("cards (one card per meeting, --no-digest)", NO_DIGEST)]
    print(f"{args.members:,} members across {args.meetings} meetings "
          f"({args.members // args.meetings} each), one scheduler tick\n")
    print(f"{'database':<11} {'design':<48} {'wall':>8} {'requests':>9} {'reached':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            runs = [(label, policy) for label, policy in designs]
            if not args.skip_naive:
                runs.append(("naive (one push per member, no outbox)", None))
            for label, policy in runs:
                url, name = fresh_database(kind, Path(tmp))
                try:
                    upgrade(url)
                    groups = seed(url, args.members, args.meetings)
                    sim = Simulator()
                    try:
                        sim.add_users(groups)
                        if policy is None:
                            elapsed, requests, reached = run_naive(url, sim)
                        else:
                            elapsed, requests, reached = run_scheduler_design(url, sim, policy)
                    finally:
                        sim.close()
                finally:
                    drop_database(name)
                print(f"{kind:<11} {label:<48} {elapsed:>7.2f}s {requests:>9,} {reached:>8,}")
                sys.stdout.flush()
    print("\nrequests = LINE API calls (multicast + push); reached = members with the reminder in "
          "the simulator.\nLINE's quota counts one message per member either way; the digest saves "
          "requests, not quota.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

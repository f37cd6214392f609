"""Benchmark: erasing one person among many, and the retention reduction.  (a benchmark, not a test)

    .venv/bin/python bench/erasure.py                 # SQLite: 100,000 messages and events
    .venv/bin/python bench/erasure.py --rows 300000   # more
    .venv/bin/python bench/erasure.py --pg URL        # PostgreSQL (a fresh database, dropped after)

A migrated database gets `--rows` sent outbox messages and handled inbound events of 2,000
people (a thirtieth of them naming the person to erase: contacts, notices), then one person with
needs, a case with a note and a place offer is erased (domain.personal_data.erase, the routine
「わたしのデータを消す」 uses), and then the retention reduction runs over everything past its age.
Printed: wall time of each.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from domain import escalation as esc  # noqa: E402
from domain import needs, people, personal_data  # noqa: E402
from domain.db import make_engine, make_session_factory, normalise_url, transaction  # noqa: E402
from scratch import scratch_postgres  # noqa: E402
from domain.models import Area  # noqa: E402
from migrations import load_all_models, upgrade  # noqa: E402

NOW = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)


def fill(url: str, rows: int) -> int:
    from bot.inbox import InboundEvent
    from bot.outbox import OutboxMessage

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        area = Area(code="c", name="市", layer="city")
        s.add(area)
        s.flush()
        target = people.get_or_create_person(s, "U" + "f" * 32, NOW)
        people.record_consent(target, True, NOW)
        people.set_profile(target, NOW, display_name="山田 ハナ", phone="024-123-4567")
        people.set_area(target, area, NOW)
        need = needs.create_need(s, person=target, category="shopping", area=area.id, now=NOW,
                                 words="ひざがいたくて かいものにいけない")
        case, _ = esc.escalate(s, need, esc.NO_MATCH, NOW)
        s.add(esc.CaseNote(escalation_id=case.id, at=NOW, text="山田さんに電話した"))
        target_id = target.id
    users = [f"U{n:032x}" for n in range(2000)]
    with engine.begin() as connection:
        for start in range(0, rows, 10_000):
            batch = range(start, min(rows, start + 10_000))
            connection.execute(insert(OutboxMessage), [{
                "kind": "push", "to_user": users[n % 2000], "retry_key": str(uuid.uuid4()),
                "messages": json.dumps([{"type": "text", "text": ("山田 ハナさん 024-123-4567" if n % 30 == 0
                                                                 else f"お知らせ {n}")}], ensure_ascii=False),
                "order_key": f"user:{users[n % 2000]}", "status": "sent", "attempts": 1,
                "available_at": NOW - timedelta(days=n % 60), "created_at": NOW - timedelta(days=n % 60),
                "sent_at": NOW - timedelta(days=n % 60)} for n in batch])
            connection.execute(insert(InboundEvent), [{
                "webhook_event_id": f"E{n:020d}", "destination": "U0", "event_type": "message",
                "source_key": f"user:{users[n % 2000]}", "line_timestamp": n, "is_redelivery": False,
                "payload": json.dumps({"type": "message", "source": {"type": "user", "userId": users[n % 2000]},
                                       "message": {"type": "text", "text": "[消去済み]"}}),
                "received_at": NOW - timedelta(days=n % 60), "status": "done", "attempts": 1,
                "available_at": NOW, "handled_at": NOW} for n in batch])
    engine.dispose()
    return target_id


def measure(url: str, rows: int) -> None:
    upgrade(url)
    target_id = fill(url, rows)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    from domain.models import Person

    started = time.perf_counter()
    with transaction(sessions) as s:
        report = personal_data.erase(s, s.get(Person, target_id), NOW, key=b"k")
    erase_s = time.perf_counter() - started
    started = time.perf_counter()
    with transaction(sessions) as s:
        reduced = personal_data.reduce_old(s, NOW, timedelta(days=30), key=b"k")
    reduce_s = time.perf_counter() - started
    engine.dispose()
    print(f"  {rows:,} messages and events: erase {erase_s * 1000:.0f} ms "
          f"({report.messages} messages, {report.events} events, {report.notes} notes touched); "
          f"reduce {reduce_s:.1f} s ({reduced.messages:,} messages, {reduced.events:,} events)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", help="a PostgreSQL server URL (postgresql://user@host:port/db)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite")
        measure(f"sqlite:///{tmp}/bench.sqlite3", args.rows)
    if args.pg:
        with scratch_postgres(normalise_url(args.pg)) as url:
            print("PostgreSQL")
            measure(url, args.rows)
    load_all_models()


if __name__ == "__main__":
    main()

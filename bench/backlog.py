"""Benchmark: does a backlog slow the claims down?  (issue 16; a benchmark, not a test)

    .venv/bin/python bench/backlog.py                      # 50,000 rows from 1,000 users
    .venv/bin/python bench/backlog.py --rows 20000         # smaller, for a busy machine

For each engine — SQLite (1 worker process) and PostgreSQL (2 worker processes; a fresh
database, dropped at the end) — and for each queue:

  events  50,000 pending webhook events from 1,000 users are inserted in bulk into a freshly
          migrated database, with no ANALYZE and autovacuum switched off for the table (so the
          statistics stay those of an empty table for the whole run: the worst case); then the
          `EventWorker`s start. The handler stores one outbox row per event, as most real
          handlers do, so each event costs a claim, a small write and a commit.
  outbox  50,000 pending pushes to 1,000 users, the same way; then `Dispatcher`s start, with
          a LINE that answers 200 at once (no HTTP: this measures the queue, not the network).

Printed: the claim time (p50, p99) over the first and the last 1,000 claims (a dispatcher's
claim takes a batch of up to 8 rows, one per user: its time is per batch), and the drain
rate (rows/s) over the first and the last 10 % of the rows. The claim reads only partial
indexes (see bot/inbox.py, bot/dispatcher.py), so neither should move as the backlog drains.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scratch import PG_SERVER_URL, scratch_postgres  # noqa: E402

BASE = datetime(2026, 11, 26, 0, 0, tzinfo=timezone.utc)


def user(n: int) -> str:
    return f"U{n:032x}"


# ----------------------------------------------------------------------------- worker side
class NullLine:
    """LINE answering 200 at once, without HTTP."""

    def _ok(self, *args, **kwargs):
        from bot.line_api import LineResponse
        return LineResponse(200, "{}", {"x-line-request-id": "bench"})

    reply = push = multicast = _ok

    def quota(self):
        return None, 0


def dispatch_main(url: str, sim_url: str, concurrency: int, out: str) -> int:
    """Drain the outbox to the simulator over HTTP; time the claim, the sends and the record."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    from bot.dispatcher import Dispatcher
    from bot.line_api import LineApi
    from domain.clock import SystemClock
    from domain.db import make_engine, make_session_factory

    engine = make_engine(url)
    api = LineApi(sim_url, "bench-token", pool_size=concurrency)
    dispatcher = Dispatcher(make_session_factory(engine), api, SystemClock(), concurrency=concurrency)
    spent = {"claim": 0.0, "send (wall, side by side)": 0.0, "record": 0.0}

    def timed(name, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] += time.perf_counter() - t0
        return wrapper

    dispatcher._claim = timed("claim", dispatcher._claim)
    dispatcher._record = timed("record", dispatcher._record)
    t0, sent, cpu0 = time.perf_counter(), 0, time.process_time()
    while True:
        n = dispatcher.run_once()
        if not n:
            break
        sent += n
    wall = time.perf_counter() - t0
    spent["send (wall, side by side)"] = wall - spent["claim"] - spent["record"]
    Path(out).write_text(json.dumps({"sent": sent, "wall": wall, "spent": spent,
                                     "cpu": time.process_time() - cpu0}))
    dispatcher.close()
    api.close()
    engine.dispose()
    return 0


def worker_main(kind: str, url: str, out: str) -> int:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    from bot import inbox, outbox
    from bot.dispatcher import Dispatcher
    from bot.worker import EventWorker
    from domain.clock import SystemClock
    from domain.db import make_engine, make_session_factory

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    limit = int(os.environ.get("BACKLOG_LIMIT", "0")) or 10**12
    claims: list[tuple[float, float, int]] = []  # (end time, seconds, rows)
    done: list[float] = []

    if kind == "events":
        original = inbox.claim_next

        def timed(session, now, cursor=None):
            t0 = time.perf_counter()
            event = original(session, now, cursor)
            t1 = time.perf_counter()
            claims.append((t1, t1 - t0, 1 if event is not None else 0))
            return event

        inbox.claim_next = timed

        def handler(session, raw, now):
            outbox.enqueue_push(session, user_id=raw["source"]["userId"],
                                messages=[{"type": "text", "text": "受け付けました"}], now=now)
            return "bench"

        worker = EventWorker(sessions, SystemClock(), handler)
        while len(done) < limit:
            busy = worker.run_once()
            if busy:
                done.append(time.perf_counter())
            elif claims and claims[-1][2] == 0:
                break
    else:
        dispatcher = Dispatcher(sessions, NullLine(), SystemClock(), concurrency=8)
        original_claim = dispatcher._claim

        def timed_claim(now, limit):
            t0 = time.perf_counter()
            rows = original_claim(now, limit)
            t1 = time.perf_counter()
            claims.append((t1, t1 - t0, len(rows)))
            return rows

        dispatcher._claim = timed_claim
        while len(done) < limit:
            n = dispatcher.run_once()
            if not n:
                break
            done.extend([time.perf_counter()] * n)
        dispatcher.close()
    engine.dispose()
    Path(out).write_text(json.dumps({"claims": claims, "done": done}))
    return 0


# ----------------------------------------------------------------------------- driver side
def fill(url: str, kind: str, rows: int, users: int) -> None:
    from sqlalchemy import text

    from bot.inbox import InboundEvent
    from bot.outbox import OutboxMessage
    from domain.db import make_engine
    from migrations import upgrade

    upgrade(url)
    engine = make_engine(url)
    table = "inbound_events" if kind == "events" else "outbox_messages"
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Keep the statistics of an empty table for the whole run (the worst case).
            conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        chunk = 5000
        for start in range(0, rows, chunk):
            n = range(start, min(start + chunk, rows))
            if kind == "events":
                conn.execute(InboundEvent.__table__.insert(), [{
                    "webhook_event_id": f"E{i:025d}", "destination": "Udest", "event_type": "message",
                    "source_key": f"user:{user(i % users)}", "line_timestamp": 1_764_000_000_000 + i,
                    "is_redelivery": False, "received_at": BASE, "status": "pending", "attempts": 0,
                    "available_at": BASE,
                    "payload": json.dumps({"type": "message", "webhookEventId": f"E{i:025d}",
                                           "source": {"type": "user", "userId": user(i % users)}}),
                } for i in n])
            else:
                conn.execute(OutboxMessage.__table__.insert(), [{
                    "kind": "push", "to_user": user(i % users),
                    "messages": json.dumps([{"type": "text", "text": "お知らせです"}]),
                    "retry_key": f"00000000-0000-4000-8000-{i:012d}", "order_key": f"user:{user(i % users)}",
                    "status": "pending", "attempts": 0, "reply_tries": 0, "available_at": BASE,
                    "created_at": BASE,
                } for i in n])
    # The fill's own writes reach the data files now, not in the workers' first commits (SQLite's
    # WAL checkpoint, PostgreSQL's checkpoint): the start is measured on the workers' work alone.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("CHECKPOINT")
    else:
        import sqlite3
        with sqlite3.connect(engine.url.database) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def rate(stamps: list[float]) -> float:
    if len(stamps) < 2:
        return float("nan")
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def finish_all_but(url: str, kind: str, keep: int) -> None:
    """Mark every pending row but the last `keep` handled, as the drain would have left it."""
    from sqlalchemy import text

    from domain.db import make_engine
    engine = make_engine(url)
    table, done = ("inbound_events", "done") if kind == "events" else ("outbox_messages", "sent")
    with engine.begin() as conn:
        last = conn.execute(text(f"SELECT id FROM {table} WHERE status IN ('pending', 'sending') "
                                 f"ORDER BY id DESC LIMIT 1 OFFSET {keep}")).scalar()
        if last is not None:
            conn.execute(text(f"UPDATE {table} SET status = '{done}' WHERE id <= {int(last)} "
                              "AND status IN ('pending', 'sending')"))
    engine.dispose()


def phase(engine_name: str, url: str, kind: str, workers: int, tmp: Path, label: str, limit: int) -> tuple[list, list]:
    outs = [tmp / f"{engine_name}-{kind}-{label}-{i}.json" for i in range(workers)]
    env = {**os.environ, "BACKLOG_LIMIT": str(limit // workers if limit else 0)}
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", kind, url, str(out)], cwd=ROOT, env=env)
             for out in outs]
    for proc in procs:
        proc.wait()
    if any(p.returncode for p in procs):
        raise SystemExit(f"a {kind} worker failed on {engine_name}")
    data = [json.loads(out.read_text()) for out in outs]
    claims = sorted((c for d in data for c in d["claims"] if c[2]), key=lambda c: c[0])
    done = sorted(t for d in data for t in d["done"])
    return claims, done


def run(engine_name: str, url: str, kind: str, workers: int, rows: int, users: int, tmp: Path,
        sample: int) -> dict:
    fill(url, kind, rows, users)
    t0 = time.perf_counter()
    if sample:
        # Start: the first `sample` rows with the whole backlog pending. End: the table as the
        # drain leaves it (all but `sample` rows handled), then the last `sample` rows.
        first_claims, first_done = phase(engine_name, url, kind, workers, tmp, "start", sample)
        finish_all_but(url, kind, sample)
        last_claims, last_done = phase(engine_name, url, kind, workers, tmp, "end", 0)
        handled = len(first_done) + len(last_done)
    else:
        claims, done = phase(engine_name, url, kind, workers, tmp, "all", 0)
        tenth = max(2, len(done) // 10)
        first_claims, last_claims = claims, claims
        first_done, last_done = done[:tenth], done[-tenth:]
        handled = len(done)
    wall = time.perf_counter() - t0
    first, last = first_claims[:1000], last_claims[-1000:]
    return {
        "engine": engine_name, "queue": kind, "workers": workers, "rows": handled, "wall": wall,
        "p50_start": pct([c[1] for c in first], 0.5) * 1000, "p99_start": pct([c[1] for c in first], 0.99) * 1000,
        "p50_end": pct([c[1] for c in last], 0.5) * 1000, "p99_end": pct([c[1] for c in last], 0.99) * 1000,
        "rate_start": rate(first_done), "rate_end": rate(last_done),
        "rows_per_claim": sum(c[2] for c in first + last) / max(len(first) + len(last), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--sample", type=int, default=0,
                        help="handle only this many rows at the start, mark all but this many as "
                             "handled, handle those (the end); 0: drain everything")
    parser.add_argument("--skip-backlog", action="store_true", help="only the dispatch table")
    parser.add_argument("--queue", choices=["events", "outbox"], help="only this queue's backlog")
    parser.add_argument("--dispatch-rows", type=int, default=2_000,
                        help="pushes sent over HTTP to the simulator, at concurrency 1 and 8")
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "URL", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--dispatch", nargs=4, metavar=("URL", "SIM", "C", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(*args.worker)
    if args.dispatch:
        return dispatch_main(args.dispatch[0], args.dispatch[1], int(args.dispatch[2]), args.dispatch[3])

    results = []
    dispatched: list[tuple[str, int, dict]] = []
    with tempfile.TemporaryDirectory(prefix="sasaeai-backlog-") as tmpdir:
        tmp = Path(tmpdir)
        for concurrency in ((1, 8) if args.dispatch_rows else ()):
            if args.only in (None, "sqlite"):
                url = f"sqlite:///{tmp / f'dispatch{concurrency}.sqlite3'}"
                dispatched.append(("SQLite", concurrency, run_dispatch(url, args.dispatch_rows, concurrency, tmp)))
            if args.only in (None, "postgresql"):
                with scratch_postgres(PG_SERVER_URL, "sasaeai_dispatch") as url:
                    dispatched.append(("PostgreSQL", concurrency, run_dispatch(url, args.dispatch_rows, concurrency, tmp)))
        for kind in (() if args.skip_backlog else (args.queue,) if args.queue else ("events", "outbox")):
            if args.only in (None, "sqlite"):
                url = f"sqlite:///{tmp / f'{kind}.sqlite3'}"
                results.append(run("SQLite", url, kind, 1, args.rows, args.users, tmp, args.sample))
            if args.only in (None, "postgresql"):
                with scratch_postgres(PG_SERVER_URL, "sasaeai_backlog") as url:
                    results.append(run("PostgreSQL", url, kind, 2, args.rows, args.users, tmp, args.sample))
    if results:
        print(f"\nbacklog: {args.rows:,} pending rows from {args.users:,} users, fresh database, "
              "no ANALYZE (PostgreSQL: autovacuum off for the table)")
        if args.sample:
            print(f"sampled: the first {args.sample:,} rows handled with the whole backlog pending (start); "
                  f"then all but {args.sample:,} marked handled in one UPDATE, and those handled (end)")
        print(f"machine: {os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.1f} "
              "(claim times are wall-clock round trips, so they include waiting for a core)\n")
        header = ("engine", "queue", "workers", "rows", "claim p50/p99 start ms", "claim p50/p99 end ms",
                  "rows per claim", "rows/s start", "rows/s end", "end/start", "wall s")
        print(" | ".join(header))
        print(" | ".join("---" for _ in header))
        for r in results:
            print(" | ".join([
                r["engine"], r["queue"], str(r["workers"]), f"{r['rows']:,}",
                f"{r['p50_start']:.2f} / {r['p99_start']:.2f}", f"{r['p50_end']:.2f} / {r['p99_end']:.2f}",
                f"{r['rows_per_claim']:.1f}", f"{r['rate_start']:.0f}", f"{r['rate_end']:.0f}", f"{r['rate_end'] / r['rate_start']:.2f}",
                f"{r['wall']:.0f}"]))
        print("\n(outbox: a claim is one batch of up to 8 rows, one per user; LINE answers at once, no HTTP)")
    if args.dispatch_rows:
        dispatch_table(args, dispatched)
    return 0


def run_dispatch(url: str, rows: int, concurrency: int, tmp: Path) -> dict:
    """`rows` pushes to 200 simulated users, sent over HTTP to a simulator in its own process."""
    import socket

    fill(url, "outbox", rows, 200)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sim = subprocess.Popen([sys.executable, "-m", "linesim", "--port", str(port), "--channel-secret", "bench",
                            "--access-token", "bench-token"], cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        out = tmp / f"dispatch-{concurrency}-{secrets.token_hex(3)}.json"
        subprocess.run([sys.executable, __file__, "--dispatch", url, f"http://127.0.0.1:{port}",
                        str(concurrency), str(out)], cwd=ROOT, check=True)
        return json.loads(out.read_text())
    finally:
        sim.terminate()
        sim.wait()


def dispatch_table(args, dispatched: list[tuple[str, int, dict]]) -> None:
    print(f"\ndispatch: {args.dispatch_rows:,} pending pushes to 200 users sent over HTTP to the simulator "
          "(its own process), one dispatcher")
    print("engine | concurrency | rows/s | claim ms/row | send ms/row (wall) | record ms/row | dispatcher CPU ms/row")
    print("--- | --- | --- | --- | --- | --- | ---")
    for engine_name, concurrency, d in dispatched:
        n = max(d["sent"], 1)
        sp = d["spent"]
        print(f"{engine_name} | {concurrency} | {d['sent'] / d['wall']:.0f} | {1000 * sp['claim'] / n:.2f} | "
              f"{1000 * sp['send (wall, side by side)'] / n:.2f} | {1000 * sp['record'] / n:.2f} | "
              f"{1000 * d['cpu'] / n:.2f}")
    return


if __name__ == "__main__":
    sys.exit(main())

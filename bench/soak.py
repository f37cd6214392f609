"""Soak: many events through the real processes, workers killed, LINE failing. (a benchmark)

    .venv/bin/python bench/soak.py                        # 10,000 events on each engine
    .venv/bin/python bench/soak.py --events 3000 --only sqlite
    .venv/bin/python bench/soak.py --no-faults --rate 100 # the pipeline alone (CPU per event)

Per engine, everything runs as it would in production, each in its own process: the LINE
simulator (`python -m linesim`), the web app (`sasaeai serve`: gunicorn, 2 workers x 4
threads), and `sasaeai worker` (PostgreSQL: 2 processes; SQLite: 1). This process is the load
generator: it creates 300 simulated friends and has them send text messages at a fixed rate
(open loop) through the simulator, which signs each event and posts it to the webhook; 10 %
of the events are redelivered as LINE does. Meanwhile (unless --no-faults):

  - a worker process is SIGKILLed every --kill-every seconds and started again;
  - LINE faults rotate through the simulator's switches every 3 s: reply 500, push 500,
    429 with Retry-After on any endpoint, drop_after_accept on reply and on push (LINE took
    the message, the answer never came), 300 ms latency on replies.

When the last event is sent the faults are cleared and the run waits until nothing is
pending. Then it counts, from the database and the simulator's request log:

  lost       events acknowledged 200 to LINE but not handled
  doubled    outbox messages LINE delivered more than once (by their reply token, by their
             retry key, or both: a reply then a push)
  undelivered  messages recorded as sent that LINE never delivered (should be 0)
  5xx        webhook answers >= 500 (and requests with no answer)
  drain      seconds from the last event sent until nothing is pending
  by reply   share of delivered answers that went by reply (free) rather than push
  latency    event timestamp to LINE's accepting call, p50/p99

and, while sending, the backlog (pending events and outbox rows, once a second) and the webhook
round trip as the load generator sees it (SOAK_SLOW_ACKS=1 prints each one over a second, with
when it was sent). Sending starts once the web app answers /healthz and every worker runs its
event loop (its reader loaded), as in a deployment that is up before LINE sends.

Also the CPU time per event of each process kind (web, event worker, dispatcher, other worker
threads, LINE simulator, database backends of this run, the load generator), sampled from
/proc every half second (a killed worker counts up to its last sample).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scratch import PG_SERVER_URL, scratch_postgres  # noqa: E402
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
SECRET = secrets.token_hex(16)
TOKEN = "soak-" + secrets.token_hex(16)
TICK = os.sysconf("SC_CLK_TCK")
REPLY_TOKEN_MARGIN = timedelta(seconds=50)  # bot/outbox.py: expires_at = event time + 50 s

FAULTS = [
    {"endpoint": "reply", "kind": "status", "status": 500, "times": 20},
    {"endpoint": "push", "kind": "status", "status": 500, "times": 10},
    {"endpoint": "any", "kind": "status", "status": 429, "retry_after": 1, "times": 5},
    {"endpoint": "reply", "kind": "drop_after_accept", "times": 10},
    {"endpoint": "push", "kind": "drop_after_accept", "times": 5},
    {"endpoint": "reply", "kind": "latency", "ms": 300, "times": 30},
]


# ----------------------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not listen on {port}")


def wait_for_health(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Until the web app answers (its workers booted), as LINE's webhook check would."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"sasaeai serve exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    raise SystemExit("sasaeai serve did not answer /healthz")


def wait_for_thread(proc: subprocess.Popen, name: str, timeout: float = 60.0) -> None:
    """Until a worker runs its event loop (a thread it names once its model is loaded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"a worker exited with {proc.returncode}")
        try:
            if any((task / "comm").read_text().strip() == name
                   for task in Path(f"/proc/{proc.pid}/task").iterdir()):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"no {name} thread in worker {proc.pid}")


class Http:
    """One keep-alive connection per thread to the simulator."""

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def call(self, method: str, path: str, payload=None, timeout: float = 30.0):
        for attempt in (1, 2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
            try:
                body = json.dumps(payload).encode() if payload is not None else None
                conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                return response.status, json.loads(data or b"{}")
            except (OSError, http.client.HTTPException, ValueError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def stat_cpu(path: Path) -> tuple[str, float] | None:
    try:
        head, rest = path.read_text().rsplit(")", 1)
        fields = rest.split()
        return head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return None


def tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            pass
    return out


class CpuMeter:
    """Last seen CPU seconds per (kind, pid, tid); a process that dies keeps its last sample."""

    def __init__(self) -> None:
        self.seen: dict[tuple, float] = {}
        self.lock = threading.Lock()

    def process(self, kind: str, pid: int) -> None:
        for p in tree(pid):
            got = stat_cpu(Path(f"/proc/{p}/stat"))
            if got:
                with self.lock:
                    self.seen[(kind, p)] = got[1]

    def worker(self, pid: int) -> None:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            return
        for task in tasks:
            got = stat_cpu(task / "stat")
            if not got:
                continue
            name, cpu = got
            kind = ("event worker" if name.startswith("event-worker") else
                    "dispatcher" if name.startswith(("dispatcher", "outbox-send")) else "worker (other threads)")
            with self.lock:
                self.seen[(kind, pid, task.name)] = cpu

    def pg(self, pids: list[int]) -> None:
        for p in pids:
            got = stat_cpu(Path(f"/proc/{p}/stat"))
            if got:
                with self.lock:
                    self.seen[("database", p)] = got[1]

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        with self.lock:
            for key, value in self.seen.items():
                out[key[0]] += value
        return out


# ----------------------------------------------------------------------------- one run
class Stack:
    def __init__(self, engine: str, url: str, workers: int, tmp: Path, log_level: str):
        self.engine, self.url, self.tmp = engine, url, tmp
        self.sim_port, self.web_port = free_port(), free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SASAEAI_", "DATABASE_URL", "LINE_"))}
        self.env.update({"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                         "LINE_API_BASE_URL": f"http://{HOST}:{self.sim_port}", "DATABASE_URL": url,
                         "SASAEAI_LOG_LEVEL": log_level, "PYTHONUNBUFFERED": "1"})
        self.logs: list = []
        self.workers: list[subprocess.Popen] = []
        self.web = self.sim = None
        try:
            self._start(workers)
        except BaseException:
            self.stop()  # nothing left running when the start fails
            raise

    def _start(self, workers: int) -> None:
        self.sim = self._spawn("linesim", [sys.executable, "-m", "linesim", "--host", HOST, "--port",
                                           str(self.sim_port), "--webhook-url",
                                           f"http://{HOST}:{self.web_port}/callback",
                                           "--channel-secret", SECRET, "--access-token", TOKEN])
        wait_for_port(self.sim_port, self.sim, "the simulator")
        self.web = self._spawn("web", [str(BIN / "sasaeai"), "serve", "--bind", f"{HOST}:{self.web_port}",
                                       "--workers", "2", "--threads", "4"])
        wait_for_port(self.web_port, self.web, "sasaeai serve")
        wait_for_health(self.web_port, self.web)
        self.workers = [self._spawn(f"worker{i}", [str(BIN / "sasaeai"), "worker"]) for i in range(workers)]
        for proc in self.workers:
            wait_for_thread(proc, "event-worker")
        self.started = [time.monotonic()] * workers
        self.kills = 0

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = (self.tmp / f"{self.engine}-{name}-{len(self.logs)}.log").open("wb")
        self.logs.append(log)
        return subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)

    def kill_one(self, meter: CpuMeter, min_age: float) -> bool:
        """SIGKILL the oldest worker if it has run `min_age` seconds (a worker killed while it
        is still importing would test nothing), and start another in its place."""
        i = min(range(len(self.workers)), key=lambda n: self.started[n])
        if time.monotonic() - self.started[i] < min_age:
            return False
        victim = self.workers[i]
        meter.worker(victim.pid)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        self.kills += 1
        self.workers[i] = self._spawn(f"worker{i}", [str(BIN / "sasaeai"), "worker"])
        self.started[i] = time.monotonic()
        return True

    def stop_workers(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        procs = [p for p in (*self.workers, self.web, self.sim) if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if proc in self.workers else signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for log in self.logs:
            log.close()


def pg_backends(url: str) -> list[int]:
    import psycopg
    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(PG_SERVER_URL, autocommit=True, connect_timeout=3) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)).fetchall()
        return [r[0] for r in rows]
    except Exception:  # noqa: BLE001 - a missed sample only
        return []


def counts(url: str) -> tuple[int, int]:
    from sqlalchemy import text

    from domain.db import make_engine
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            events = conn.execute(text("SELECT count(*) FROM inbound_events WHERE status = 'pending'")).scalar_one()
            out = conn.execute(text("SELECT count(*) FROM outbox_messages WHERE status IN ('pending', 'sending')")).scalar_one()
        return int(events), int(out)
    finally:
        engine.dispose()


def run(engine: str, url: str, workers: int, args, tmp: Path) -> dict:
    from migrations import upgrade

    upgrade(url)
    stack = Stack(engine, url, workers, tmp, args.log_level)
    meter = CpuMeter()
    sim = Http(stack.sim_port)
    result: dict = {"engine": engine, "workers": workers}
    stop_sampling = threading.Event()

    backlog: list[tuple[int, int]] = []  # (events, outbox) pending, once a second while sending
    ack_seconds: list[float] = []  # the load generator's call: event built, signed, posted, answered

    def sample_backlog() -> None:
        while not stop_sampling.wait(1.0) and not sent_done.is_set():
            try:
                backlog.append(counts(url))
            except Exception:  # noqa: BLE001 - a missed sample only
                pass

    def sample() -> None:
        while not stop_sampling.wait(0.5):
            meter.process("web", stack.web.pid)
            meter.process("LINE simulator", stack.sim.pid)
            for w in list(stack.workers):
                meter.worker(w.pid)
            if engine == "PostgreSQL":
                meter.pg(pg_backends(url))

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        users = []
        for n in range(args.users):
            status, body = sim.call("POST", "/_sim/users", {"displayName": f"利用者{n}", "following": True})
            users.append(body["userId"])
        sampler.start()
        outcomes: Counter = Counter()
        acked: set[str] = set()
        lock = threading.Lock()
        sent_done = threading.Event()

        def chaos() -> None:
            if args.no_faults:
                return
            i, next_fault, next_kill = 0, time.monotonic(), time.monotonic() + args.kill_every
            while not sent_done.wait(0.2):
                now = time.monotonic()
                if now >= next_fault:
                    sim.call("POST", "/_sim/faults", FAULTS[i % len(FAULTS)])
                    i, next_fault = i + 1, now + 3
                if now >= next_kill and stack.kill_one(meter, min_age=args.kill_every * len(stack.workers) * 0.8):
                    next_kill = now + args.kill_every

        def send(i: int, at: float) -> None:
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            uid = users[i % len(users)]
            started = time.monotonic()
            try:
                _s, body = sim.call("POST", f"/_sim/users/{uid}/events", {"type": "text", "text": f"こんにちは {i}"})
            except Exception:  # noqa: BLE001 - counted
                with lock:
                    outcomes["no answer"] += 1
                return
            ack_seconds.append(time.monotonic() - started)
            if os.environ.get("SOAK_SLOW_ACKS") and time.monotonic() - started > 1.0:
                print(f"slow ack at {started - t0:.1f} s: {time.monotonic() - started:.2f} s", flush=True)
            status = body.get("status")
            event_id = body.get("webhookEventId")
            with lock:
                outcomes[status if status is not None else "no answer"] += 1
                if status == 200:
                    acked.add(event_id)
            if random.random() < 0.10:
                try:
                    _s, again = sim.call("POST", f"/_sim/events/{event_id}/redeliver")
                except Exception:  # noqa: BLE001
                    again = {}
                with lock:
                    outcomes["redelivered"] += 1
                    if again.get("status") == 200:
                        acked.add(event_id)
                    elif again.get("status") is None or again.get("status") >= 500:
                        outcomes["redelivery 5xx/no answer"] += 1

        cpu0 = os.times()
        chaos_thread = threading.Thread(target=chaos, daemon=True)
        chaos_thread.start()
        threading.Thread(target=sample_backlog, daemon=True).start()
        t0 = time.monotonic()
        with ThreadPoolExecutor(args.pool) as pool:
            for i in range(args.events):
                pool.submit(send, i, t0 + i / args.rate)
        send_end = time.monotonic()
        sent_done.set()
        chaos_thread.join()
        sim.call("DELETE", "/_sim/faults")
        drained_at = None
        while time.monotonic() - send_end < args.drain_timeout:
            pending = counts(url)
            if pending == (0, 0):
                drained_at = time.monotonic()
                break
            time.sleep(1.0)
        cpu1 = os.times()
        stop_sampling.set()
        sampler.join()
        meter.process("web", stack.web.pid)
        meter.process("LINE simulator", stack.sim.pid)
        for w in stack.workers:
            meter.worker(w.pid)
        if engine == "PostgreSQL":
            meter.pg(pg_backends(url))
        # Workers first, so that nothing is sent after the simulator's log is read.
        stack.stop_workers()
        _s, log = sim.call("GET", "/_sim/requests", timeout=120)
        result.update(
            sent=args.events, outcomes=dict(outcomes), acked=len(acked), kills=stack.kills,
            send_seconds=send_end - t0, drain=(drained_at - send_end) if drained_at else None,
            pending_left=counts(url), cpu=meter.totals(),
            loadgen_cpu=(cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
            backlog=backlog, ack_seconds=sorted(ack_seconds),
        )
    finally:
        stop_sampling.set()
        stack.stop()
    result.update(judge(url, acked, log["requests"]))
    return result


def judge(url: str, acked: set[str], requests: list[dict]) -> dict:
    from sqlalchemy import text

    from domain.db import make_engine
    engine = make_engine(url)
    with engine.connect() as conn:
        events = dict(conn.execute(text("SELECT webhook_event_id, status FROM inbound_events")).all())
        parked = Counter(
            (error or "").strip().splitlines()[-1][:120] if error else "?"
            for (error,) in conn.execute(text("SELECT last_error FROM inbound_events WHERE status = 'parked'")).all())
        rows = conn.execute(text(
            "SELECT id, reply_token, retry_key, status, sent_via, reply_token_expires_at FROM outbox_messages")).all()
    engine.dispose()
    by_token = {r.reply_token: r for r in rows if r.reply_token}
    by_key = {r.retry_key: r for r in rows}
    deliveries: dict[int, list[tuple[str, str]]] = defaultdict(list)
    faults_applied: Counter = Counter()
    for req in requests:
        if req.get("fault"):
            faults_applied[f"{req['endpoint']} {req['fault']}"] += 1
        if req.get("status") != 200:
            continue
        if req["endpoint"] == "reply" and req.get("replyToken") in by_token:
            deliveries[by_token[req["replyToken"]].id].append(("reply", req["at"]))
        elif req["endpoint"] == "push" and req.get("retryKey") in by_key:
            deliveries[by_key[req["retryKey"]].id].append(("push", req["at"]))
    lost = [e for e in acked if events.get(e) != "done"]
    doubled = [rid for rid, d in deliveries.items() if len(d) > 1]
    sent_rows = [r for r in rows if r.status == "sent"]
    undelivered = [r for r in sent_rows if not deliveries.get(r.id)]
    delivered = [deliveries[r.id][0] for r in rows if deliveries.get(r.id)]
    by_reply = sum(1 for via, _at in delivered if via == "reply")
    latencies = []
    for r in rows:
        if deliveries.get(r.id) and r.reply_token_expires_at is not None:
            expires = r.reply_token_expires_at
            if isinstance(expires, str):
                expires = datetime.fromisoformat(expires)
            if expires.tzinfo is None:
                from datetime import timezone
                expires = expires.replace(tzinfo=timezone.utc)
            at = datetime.fromisoformat(deliveries[r.id][0][1])
            latencies.append((at - (expires - REPLY_TOKEN_MARGIN)).total_seconds())
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")  # noqa: E731
    return {
        "lost": len(lost), "doubled": len(doubled), "undelivered": len(undelivered),
        "unconfirmed": sum(1 for r in sent_rows if r.sent_via == "unconfirmed"),
        "rows": len(rows), "failed": sum(1 for r in rows if r.status == "failed"),
        "delivered": len(delivered), "by_reply": by_reply / len(delivered) if delivered else float("nan"),
        "lat_p50": pick(0.5), "lat_p99": pick(0.99), "faults": dict(faults_applied), "parked": dict(parked),
    }


# ----------------------------------------------------------------------------- report
def report(results: list[dict], args) -> None:
    print(f"\nsoak: {args.events:,} events at {args.rate:g}/s from {args.users} users, 10 % redelivered; "
          + ("no faults" if args.no_faults else f"a worker SIGKILLed every {args.kill_every:g} s, LINE faults rotating every 3 s"))
    print(f"machine: {os.cpu_count()} cores, load average now {os.getloadavg()[0]:.1f}\n")
    head = ("engine", "workers", "acked 200", "webhook 5xx / no answer", "lost", "doubled", "undelivered",
            "kills", "drain s", "by reply", "event→LINE p50/p99 s", "outbox rows (failed)")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for r in results:
        five = sum(v for k, v in r["outcomes"].items() if isinstance(k, int) and k >= 500)
        print(" | ".join([
            r["engine"], str(r["workers"]), f"{r['acked']:,}", f"{five} / {r['outcomes'].get('no answer', 0)}",
            str(r["lost"]), str(r["doubled"]), str(r["undelivered"]), str(r["kills"]),
            f"{r['drain']:.1f}" if r["drain"] is not None else f"not drained {r['pending_left']}",
            f"{100 * r['by_reply']:.1f} %", f"{r['lat_p50']:.2f} / {r['lat_p99']:.2f}",
            f"{r['rows']:,} ({r['failed']})"]))
    for r in results:
        print(f"\n{r['engine']}: CPU ms per event (sent {r['sent']:,}; sending took {r['send_seconds']:.0f} s)")
        cpu = dict(r["cpu"])
        cpu["load generator (this process)"] = r["loadgen_cpu"]
        if r["engine"] == "SQLite":
            cpu.setdefault("database", float("nan"))
        total = sum(v for v in cpu.values() if v == v)
        for kind in ("web", "event worker", "dispatcher", "worker (other threads)", "LINE simulator",
                     "database", "load generator (this process)"):
            value = cpu.get(kind, 0.0)
            shown = "in the processes above (SQLite)" if value != value else f"{1000 * value / r['sent']:.2f}"
            print(f"  {kind:32s} {shown}")
        print(f"  {'total':32s} {1000 * total / r['sent']:.2f}  (= {total / max(r['send_seconds'], 1):.2f} cores "
              "while sending, if spread evenly)")
        if r["backlog"]:
            events, out = zip(*r["backlog"])
            print(f"  pending while sending (once a second): events mean {sum(events) / len(events):.0f}, "
                  f"max {max(events)}; outbox mean {sum(out) / len(out):.0f}, max {max(out)}")
        acks = r["ack_seconds"]
        if acks:
            print(f"  webhook round trip (simulator → web → simulator) p50 {1000 * acks[len(acks) // 2]:.0f} ms, "
                  f"p99 {1000 * acks[min(len(acks) - 1, int(0.99 * len(acks)))]:.0f} ms")
        if r["faults"]:
            print("  faults applied: " + ", ".join(f"{k} ×{v}" for k, v in sorted(r["faults"].items())))
        extra = {k: v for k, v in r["outcomes"].items() if not isinstance(k, int) or k != 200}
        if extra:
            print(f"  webhook outcomes besides 200: {extra}")
        if r["parked"]:
            print(f"  events parked by the worker (handler errors): {r['parked']}")
        if r["unconfirmed"]:
            print(f"  replies closed as unconfirmed (token expired before LINE could tell): {r['unconfirmed']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=60.0, help="events per second (default 60)")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--pool", type=int, default=48, help="load generator threads")
    parser.add_argument("--kill-every", type=float, default=8.0,
                        help="seconds between kills; each worker lives about workers x this")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--no-faults", action="store_true", help="no kills, no LINE faults")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="sasaeai-soak-") as tmpdir:
        tmp = Path(tmpdir)
        if args.only in (None, "postgresql"):
            with scratch_postgres(PG_SERVER_URL, "sasaeai_soak") as url:
                results.append(run("PostgreSQL", url, 2, args, tmp))
        if args.only in (None, "sqlite"):
            results.append(run("SQLite", f"sqlite:///{tmp / 'soak.sqlite3'}", 1, args, tmp))
        if os.environ.get("SOAK_KEEP_LOGS"):
            import shutil
            shutil.copytree(tmp, os.environ["SOAK_KEEP_LOGS"], dirs_exist_ok=True)
    report(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

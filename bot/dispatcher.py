"""Send the outbox to LINE: replies exactly once while fresh, pushes with retry keys, backoff
on 429/5xx shared by every process.

How a batch goes: one transaction claims up to `concurrency` due messages, at most one per
user (so a user's messages stay in order while different users' go side by side); a pool of
threads sends them over kept-alive connections; one transaction records every outcome. A claim
is a lease: a dispatcher that dies strands its rows only until the lease ends (request timeout
plus a margin), well inside a reply token's minute.

Replies are settled while the token can still tell (issue 12):
- every reply attempt that may have reached LINE is counted on the row (`reply_tries`) before
  the call, and taken back only when LINE's answer proves nothing was delivered;
- no answer at all (timeout, dropped connection): the reply is tried again at once;
- "Invalid reply token" with an attempt of ours behind it, inside the token's lifetime, means
  our earlier attempt used the token: the reply was delivered (LINE keeps no other user of it);
- a push stands in for a reply only when no attempt of ours could have used the token. With
  one behind it and the token's lifetime over, LINE cannot tell us any more: the row is closed
  as sent, "unconfirmed", rather than risk a second copy.
"""
from __future__ import annotations

import secrets
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Connection, Integer, Row, String, and_, bindparam, case, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from bot.inbox import PIN_SESSION
from bot.line_api import NO_TOKEN, LineApi, LineResponse
from bot.worker import name_os_thread
from bot.outbox import (
    FAILED,
    MULTICAST,
    PENDING,
    PUSH,
    REPLY,
    SENDING,
    SENT,
    ChannelState,
    OutboxMessage,
    messages_of,
    recipients_of,
)
from domain.clock import Clock
from domain.db import sqlite_file, transaction
from domain.personal_data import redact_message_body

log = structlog.get_logger(__name__)

INVALID_REPLY_TOKEN = "Invalid reply token"
MONTHLY_LIMIT = "You have reached your monthly limit."
UNCONFIRMED = "unconfirmed"
CHANNEL = "channel"
# A claimed row is someone's for this long beyond the request timeout; then another may take it.
LEASE_MARGIN = timedelta(seconds=5)
QUOTA_RECHECK = timedelta(hours=1)
# How often a process looks for rows a dead dispatcher left, before its round over the users
# (which finds them too, in turn): well inside a reply token's minute.
EXPIRED_LEASE_LOOK = timedelta(seconds=1)
# The channel's shared pauses (another process's 429 or monthly limit) are read at most this
# often: a round trip saved on most claims (bench/backlog.py). A pause learnt this much late
# costs at most one batch that LINE answers 429 again; this process's own pauses are known at once.
STATE_LOOK = timedelta(milliseconds=500)
QUOTA_POLL = timedelta(minutes=10)
# The claim peeks at this many unfinished rows of a user at a time (most users have one).
_PEEK = 4
_ACTIVE = text("status IN ('pending', 'sending')")
_IN_FLIGHT = text("status = 'sending'")


# The claim's and the record's statements, built once: SQLAlchemy then reuses their compiled
# form (building them per row cost more CPU than the HTTP call; see bench/backlog.py).
_T = OutboxMessage.__table__
_COLS = (_T.c.id, _T.c.order_key, _T.c.status, _T.c.available_at, _T.c.lease_until, _T.c.kind)
_EXPIRED_LEASES = (select(_T.c.id).where(_IN_FLIGHT, _T.c.lease_until < bindparam("now"))
                   .order_by(_T.c.lease_until).limit(bindparam("n")))
_S = ChannelState.__table__
# The channel's shared pause, read at the start of each claim (no row yet: no pause).
_STATE = select(_S.c.paused_until, _S.c.pushes_paused_until).where(_S.c.key == CHANNEL)
# The first unfinished row of each of the next :n users after :after, in one statement: a
# loose index scan (each step one seek on ix_outbox_messages_active for the next user, one by
# primary key for its key), so the claim costs one round trip however many users it visits.
# No ORDER BY (heads.n says the order): a sort the pinned planner may not use would be costed
# as disabled, and that cost alone would switch PostgreSQL's JIT on.
_NEXT_HEADS = text("""
WITH RECURSIVE heads(id, n) AS (
  SELECT (SELECT id FROM outbox_messages WHERE status IN ('pending', 'sending') AND order_key > :after
          ORDER BY order_key, id LIMIT 1), 1
  UNION ALL
  SELECT (SELECT x.id FROM outbox_messages x WHERE x.status IN ('pending', 'sending')
            AND x.order_key > (SELECT y.order_key FROM outbox_messages y WHERE y.id = heads.id)
          ORDER BY x.order_key, x.id LIMIT 1), heads.n + 1
  FROM heads WHERE heads.id IS NOT NULL AND heads.n < :n
)
SELECT heads.n, o.id, o.order_key, o.status, o.available_at, o.lease_until, o.kind
FROM heads JOIN outbox_messages o ON o.id = heads.id""").columns(
    n=Integer, id=Integer, order_key=String, status=String, available_at=_T.c.available_at.type,
    lease_until=_T.c.lease_until.type, kind=String)
_SAME_USER = (select(*_COLS).where(_ACTIVE, _T.c.order_key == bindparam("key"), _T.c.id > bindparam("after_id"))
              .order_by(_T.c.id).limit(_PEEK))
# Every outcome in one shape, so that a batch is recorded with one executemany; a row already
# sent (by another dispatcher whose lease overlapped ours) is never reopened.
_RECORD = (update(_T).where(_T.c.id == bindparam("b_id"), _T.c.status != SENT)
           .values(status=bindparam("b_status"), kind=bindparam("b_kind"), lease_until=None,
                   last_status=bindparam("b_http"), last_error=bindparam("b_error"),
                   available_at=bindparam("b_available"), sent_at=bindparam("b_sent_at"),
                   sent_via=bindparam("b_via"), line_request_id=bindparam("b_request_id"),
                   reply_tries=bindparam("b_reply_tries"), messages=bindparam("b_messages")))


# Core, not the ORM: the claimed rows are only read (an ORM bulk update with RETURNING cost
# about as much CPU as the statement's round trip; see bench/backlog.py).
_C = _T.c
_CLAIM = (
    update(_T)
    # The re-check (another dispatcher may have taken a row since it was read) is a CASE so
    # that the planner cannot mistake it for a reason to read the whole partial index: the
    # rows are found by primary key alone.
    .where(_C.id.in_(bindparam("ids", expanding=True)),
           case((_C.status == PENDING, _C.available_at <= bindparam("now")),
                (_C.status == SENDING, _C.lease_until < bindparam("now")), else_=False))
    .values(status=SENDING, lease_until=bindparam("lease"), attempts=_C.attempts + 1,
            # Counted before the call: a reply will be tried if the token is fresh or an
            # earlier attempt may have used it.
            reply_tries=case((and_(_C.kind == REPLY, or_(_C.reply_tries > 0,
                                                          _C.reply_token_expires_at > bindparam("now"))),
                              _C.reply_tries + 1), else_=_C.reply_tries))
    .returning(*_T.c)
)


@dataclass
class Outcome:
    status: str
    via: str | None = None
    retry_in: float | None = None
    error: str | None = None
    http_status: int | None = None
    request_id: str | None = None
    to_push: bool = False
    # A reply attempt of this round that may have reached LINE (else reply_tries is taken back).
    reply_reached: bool = False


def backoff_seconds(attempts: int) -> float:
    """1, 2, 4 … seconds, capped at ten minutes."""
    return float(min(2 ** max(attempts - 1, 0), 600))


def retry_after_seconds(response: LineResponse) -> float | None:
    value = response.header("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


@dataclass
class _Claimed:
    row: Row  # the outbox_messages row as claimed
    reply: bool        # this round tries a reply (else a push, a multicast)
    tried_before: bool  # a reply attempt of ours may already have reached LINE


class Dispatcher:
    def __init__(self, session_factory: sessionmaker[Session], line_api: LineApi, clock: Clock,
                 *, max_attempts: int = 20, concurrency: int = 8, request_timeout: float = 10.0,
                 quota_poll: timedelta | None = None, random_start: bool = True):
        self._sessions = session_factory
        self._line = line_api
        self._clock = clock
        self._max_attempts = max_attempts
        self._concurrency = max(1, concurrency)
        self.lease = timedelta(seconds=request_timeout) + LEASE_MARGIN
        self._quota_poll = quota_poll
        self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="outbox-send",
                                        initializer=name_os_thread, initargs=("outbox-send",)) \
            if self._concurrency > 1 else None
        # Where this process's round over the users begins: at random, so that dispatchers
        # started together do not all reach for the same first heads and wait on each other's
        # locks (bench/backlog.py: two dispatchers on PostgreSQL).
        self._cursor = f"user:U{secrets.token_hex(16)}" if random_start else ""
        self._next_quota_look: datetime | None = None
        self._next_lease_look: datetime | None = None
        self._next_state_look: datetime | None = None
        self._claim_connection: Connection | None = None
        # The engine whose connection the claims keep (see _own_connection), or None.
        bind = session_factory.kw.get("bind")
        self._claim_engine = bind if bind is not None and (
            bind.dialect.name == "postgresql" or sqlite_file(bind) is not None) else None
        # The channel's shared state, as last read or written by this process.
        self.paused_until: datetime | None = None
        self.pushes_paused_until: datetime | None = None

    # ------------------------------------------------------------------ claim
    def _due_heads(self, connection: Connection, now: datetime, limit: int, pushes_paused: bool) -> list[int]:
        """Ids of up to `limit` due rows, the first unfinished one of each user, in a round over
        the users from where the last claim stopped. Only index seeks on ix_outbox_messages_active
        (_NEXT_HEADS, then _SAME_USER for a user whose head is not due): the cost does not grow
        with the backlog or depend on the planner's statistics."""
        # First the rows a dead dispatcher left (lease over): each is its user's head, and a
        # reply among them must be settled while its token can still tell.
        picked: list[int] = []
        if self._next_lease_look is None or now >= self._next_lease_look:
            self._next_lease_look = now + EXPIRED_LEASE_LOOK
            picked = list(connection.execute(_EXPIRED_LEASES, {"now": now, "n": limit}).scalars())
        start, after, wrapped = self._cursor, self._cursor, False
        while len(picked) < limit:
            heads = sorted(connection.execute(_NEXT_HEADS, {"after": after, "n": limit - len(picked)}).all(),
                           key=lambda r: r.n)
            if not heads:
                if wrapped or start == "":
                    after = ""
                    break
                wrapped, after = True, ""
                continue
            for head in heads:
                key = head.order_key
                if wrapped and key > start:
                    self._cursor = after
                    return picked  # a whole round
                after = key
                group, more = [head], True
                verdict = self._head_of(group, now, pushes_paused)
                while verdict is None and more:
                    # The head is waiting out a retry (or is a push while pushes are paused):
                    # look further along this user's rows.
                    group = connection.execute(_SAME_USER, {"key": key, "after_id": group[-1].id}).all()
                    if not group:
                        break
                    more = len(group) == _PEEK
                    verdict = self._head_of(group, now, pushes_paused)
                if verdict not in (None, False) and verdict not in picked:
                    picked.append(verdict)
                if len(picked) >= limit:
                    break
        self._cursor = after
        return picked

    @staticmethod
    def _head_of(group, now: datetime, pushes_paused: bool):
        """The id to claim among one user's unfinished rows (in order); False: the user is
        blocked (a message in flight, or a push while pushes are paused); None: nothing due."""
        for r in group:
            if r.status == SENDING:
                return r.id if r.lease_until is not None and r.lease_until < now else False
            if pushes_paused and r.kind != REPLY:
                continue  # paid messages wait for the quota; free replies may go ahead
            if r.available_at <= now:
                return r.id
            # A row waiting out a retry delay does not hold back the next one: a fresh reply
            # must not go stale behind a failing push.
        return None

    def _claim(self, now: datetime, limit: int) -> list[_Claimed]:
        connection = self._own_connection()
        if connection is None:
            with transaction(self._sessions) as session:
                rows = self._claim_rows(session.connection(), now, limit)
        else:
            try:
                if connection.dialect.name == "postgresql":
                    rows = self._claim_rows(connection, now, limit)  # autocommit: see _own_connection
                else:
                    with connection.begin():
                        rows = self._claim_rows(connection, now, limit)
            except Exception:
                self._drop_own_connection()  # a fresh one next time, whatever state this is in
                raise
        claimed = []
        for row in sorted(rows, key=lambda r: r.id):
            fresh = row.reply_token_expires_at is not None and now < row.reply_token_expires_at
            reply = row.kind == REPLY and (fresh or row.reply_tries >= 2)
            claimed.append(_Claimed(row, reply, tried_before=reply and row.reply_tries >= 2))
        return claimed

    def _claim_rows(self, connection: Connection, now: datetime, limit: int) -> list[Row]:
        if self._next_state_look is None or now >= self._next_state_look:
            self._next_state_look = now + STATE_LOOK
            state = connection.execute(_STATE).one_or_none()
            self.paused_until, self.pushes_paused_until = tuple(state) if state else (None, None)
        pushes_paused = bool(self.pushes_paused_until and now < self.pushes_paused_until)
        if self.paused_until and now < self.paused_until:
            return []
        ids = self._due_heads(connection, now, limit, pushes_paused)
        if not ids:
            return []
        return connection.execute(_CLAIM, {"ids": ids, "now": now, "lease": now + self.lease}).all()

    # The claims run on a connection of their own, kept for the dispatcher's life and set up
    # once for claiming; it never goes back to the pool (its settings must not reach other
    # work): it is closed when dropped, and replaced when lost.
    # - PostgreSQL: in autocommit and with the planner pinned for the whole session (see
    #   bot/inbox.py): no BEGIN, SET or COMMIT per claim: two round trips (three when the
    #   shared state is due a look, STATE_LOOK) instead of five.
    #   Each statement may stand alone: the reads need no common snapshot, and the UPDATE
    #   re-checks every row it takes.
    # - SQLite (a file): with wal_autocheckpoint off on this connection only. A claim's commit
    #   then never pays for copying the WAL back into the database (about 9 ms once every ~50
    #   claims, the whole of the claim's p99 at a backlog: bench/backlog.py); the commits that
    #   record outcomes, and every other process's, checkpoint as usual, so the WAL stays short.
    # - An in-memory database (tests) has one shared connection: claims use the session.
    def _own_connection(self) -> Connection | None:
        bind = self._claim_engine
        if bind is None:
            return None
        connection = self._claim_connection
        if connection is None or connection.closed or connection.invalidated:
            if bind.dialect.name == "postgresql":
                connection = bind.connect().execution_options(isolation_level="AUTOCOMMIT")
                connection.exec_driver_sql(PIN_SESSION)
            else:
                connection = bind.connect()
                connection.connection.driver_connection.execute("PRAGMA wal_autocheckpoint=0")
            self._claim_connection = connection
        return connection

    def _drop_own_connection(self) -> None:
        connection, self._claim_connection = self._claim_connection, None
        if connection is not None and not connection.closed:
            try:
                connection.invalidate()
                connection.close()
            except Exception:  # already gone with the server
                log.debug("outbox.claim_connection_close_failed")

    # ------------------------------------------------------------------ shared channel state
    def _write_state(self, now: datetime, **values) -> None:
        """Merge into the shared row: pauses only ever lengthen here."""
        with transaction(self._sessions) as session:
            state = session.get(ChannelState, CHANNEL, with_for_update=True)
            if state is None:
                state = ChannelState(key=CHANNEL)
                session.add(state)
            for name, value in values.items():
                current = getattr(state, name)
                if name.endswith("_until") and current is not None and value is not None and current > value:
                    continue
                setattr(state, name, value)
            state.updated_at = now
            self.paused_until, self.pushes_paused_until = state.paused_until, state.pushes_paused_until

    def watch_quota(self, now: datetime) -> None:
        """Every QUOTA_POLL, one process asks LINE how much of the month's quota is used: at the
        limit, pushes stop for everyone (replies are free); below it, a monthly pause ends."""
        if self._quota_poll is None or (self._next_quota_look and now < self._next_quota_look):
            return
        # Look at the shared row once a minute at most; whoever finds the check due does it.
        self._next_quota_look = now + min(self._quota_poll, timedelta(minutes=1))
        due_before = now - self._quota_poll
        with transaction(self._sessions) as session:
            state = session.get(ChannelState, CHANNEL)
            if state is None:
                session.add(ChannelState(key=CHANNEL, quota_checked_at=now, updated_at=now))
            elif state.quota_checked_at is not None and state.quota_checked_at > due_before:
                return
            else:
                taken = session.execute(
                    update(ChannelState).where(
                        ChannelState.key == CHANNEL,
                        or_(ChannelState.quota_checked_at.is_(None), ChannelState.quota_checked_at <= due_before))
                    .values(quota_checked_at=now)).rowcount
                if not taken:
                    return
        answer = self._line.quota()
        if answer is None:
            log.warning("line.quota_unknown")
            return
        limit, used = answer
        with transaction(self._sessions) as session:
            state = session.get(ChannelState, CHANNEL, with_for_update=True)
            state.quota_limit, state.quota_used, state.updated_at = limit, used, now
            if limit is not None and used >= limit:
                state.pushes_paused_until = max(state.pushes_paused_until or now, now + QUOTA_RECHECK)
                log.error("line.monthly_limit", used=used, limit=limit)
            elif limit is not None and state.pushes_paused_until is not None and state.pushes_paused_until > now:
                # LINE shows room under a limit again (raised, or a new month): pushes resume.
                # Without a limit shown, a 429's pause is trusted until it runs out.
                state.pushes_paused_until = None
                log.info("line.monthly_limit_lifted", used=used, limit=limit)
            if limit is not None and used >= 0.9 * limit:
                log.warning("line.quota_nearly_used", used=used, limit=limit)
            self.pushes_paused_until = state.pushes_paused_until

    # ------------------------------------------------------------------ send
    def _send(self, claimed: _Claimed) -> Outcome:
        row, now = claimed.row, self._clock.now()
        if row.kind == REPLY:
            if not claimed.reply:
                return self._send_push(row, now, reason="reply token expired")
            return self._send_reply(row, claimed.tried_before)
        if row.kind == PUSH:
            return self._send_push(row, now)
        response = self._line.multicast(recipients_of(row), messages_of(row), row.retry_key)
        return self._judge(row, response, now, via=MULTICAST)

    def _send_reply(self, row: Row, tried_before: bool) -> Outcome:
        response = self._line.reply(row.reply_token or "", messages_of(row))
        if response.status == 0:
            # No answer: LINE may have taken it. Ask again at once, while the token can tell.
            tried_before = True
            response = self._line.reply(row.reply_token or "", messages_of(row))
        now = self._clock.now()
        if response.ok:
            return Outcome(SENT, via=REPLY, http_status=response.status, reply_reached=True,
                           request_id=response.header("x-line-request-id"))
        if response.status == 400 and INVALID_REPLY_TOKEN in response.message:
            if tried_before:
                if row.reply_token_expires_at is not None and now < row.reply_token_expires_at:
                    # Only we hold this token, and it has not expired: our attempt used it.
                    return Outcome(SENT, via=REPLY, http_status=400, reply_reached=True,
                                   error="delivered by an earlier attempt (token used)")
                log.warning("outbox.reply_unconfirmed", outbox_id=row.id)
                return Outcome(SENT, via=UNCONFIRMED, http_status=400, reply_reached=True,
                               error="an earlier attempt may have delivered it; token expired since")
            # No attempt of ours could have used it: expired, or used by another message.
            return self._send_push(row, now, reason="reply token refused")
        outcome = self._failure(row, response, now)
        # A 5xx or no answer may have been delivered; a 429 or a 4xx was refused outright.
        outcome.reply_reached = tried_before or response.status == 0 or response.status >= 500
        return outcome

    def _send_push(self, row: Row, now: datetime, reason: str | None = None) -> Outcome:
        if not row.to_user:
            return Outcome(FAILED, error=f"{reason}; no user to push to")
        if self.pushes_paused_until and now < self.pushes_paused_until:
            # Due at once, but not claimed while pushes are paused: sent when the pause ends,
            # whether it runs out or a quota check lifts it early.
            return Outcome(PENDING, retry_in=0, error="monthly message limit reached", to_push=True)
        response = self._line.push(row.to_user, messages_of(row), row.retry_key)
        outcome = self._judge(row, response, now, via=PUSH)
        outcome.to_push = True
        return outcome

    def _judge(self, row: Row, response: LineResponse, now: datetime, via: str) -> Outcome:
        if response.ok:
            return Outcome(SENT, via=via, http_status=response.status,
                           request_id=response.header("x-line-request-id"))
        if response.status == 409:
            # The retry key was accepted before (our earlier attempt got through): it is sent.
            return Outcome(SENT, via=via, http_status=409,
                           request_id=response.header("x-line-accepted-request-id"))
        return self._failure(row, response, now)

    def _failure(self, row: Row, response: LineResponse, now: datetime) -> Outcome:
        error = f"{response.status} {response.message}".strip()
        if response.status == 429 and MONTHLY_LIMIT in response.message:
            self._write_state(now, pushes_paused_until=now + QUOTA_RECHECK)
            log.error("line.monthly_limit", outbox_id=row.id)
            return Outcome(PENDING, retry_in=0, error=error, http_status=429)
        retryable = response.status in (0, 429, NO_TOKEN) or response.status >= 500
        if not retryable:
            return Outcome(FAILED, error=error, http_status=response.status)
        if row.attempts >= self._max_attempts:
            return Outcome(FAILED, error=f"gave up after {row.attempts} attempts: {error}",
                           http_status=response.status)
        wait_s = backoff_seconds(row.attempts)
        if response.status == 429:
            wait_s = max(wait_s, retry_after_seconds(response) or 1.0)
            # A 429 throttles the whole channel: every process waits, not only this row.
            self._write_state(now, paused_until=now + timedelta(seconds=wait_s))
        return Outcome(PENDING, retry_in=wait_s, error=error, http_status=response.status)

    # ------------------------------------------------------------------ record
    def _record(self, results: list[tuple[_Claimed, Outcome]]) -> None:
        """Every outcome of a batch in one transaction; a row already sent is never reopened."""
        if not results:
            return
        now = self._clock.now()
        params = []
        for claimed, outcome in results:
            row = claimed.row
            tries = row.reply_tries
            if claimed.reply and not outcome.reply_reached:
                tries = max(tries - 1, 0)  # LINE's answer shows this attempt delivered nothing
            values = {"b_id": row.id, "b_status": outcome.status, "b_http": outcome.http_status,
                      "b_kind": PUSH if outcome.to_push and row.kind == REPLY else row.kind,
                      "b_error": outcome.error, "b_available": row.available_at, "b_sent_at": None,
                      "b_via": None, "b_request_id": None, "b_reply_tries": tries, "b_messages": row.messages}
            if outcome.status == SENT:
                values.update(b_sent_at=now, b_via=outcome.via, b_request_id=outcome.request_id)
            elif outcome.status == FAILED:
                # What an operator keeps: the kind of message and its buttons, not its texts.
                values["b_messages"] = redact_message_body(row.messages)
                log.warning("outbox.failed", outbox_id=row.id, kind=row.kind, http_status=outcome.http_status)
            else:
                values["b_available"] = now + timedelta(seconds=outcome.retry_in or 0)
                log.info("outbox.retry", outbox_id=row.id, http_status=outcome.http_status,
                         retry_in=outcome.retry_in)
            params.append(values)
        with transaction(self._sessions) as session:
            session.connection().execute(_RECORD, params)

    # ------------------------------------------------------------------ loops
    def _send_safely(self, claimed: _Claimed) -> Outcome:
        try:
            return self._send(claimed)
        except Exception as exc:  # a bug or the database gone: retry later, as after a 5xx
            log.exception("outbox.send_error", outbox_id=claimed.row.id)
            return Outcome(PENDING, retry_in=backoff_seconds(claimed.row.attempts),
                           error=f"{type(exc).__name__}", reply_reached=claimed.reply)

    def run_once(self) -> int:
        """Claim a batch, send it side by side, record it; return how many rows were tried."""
        now = self._clock.now()
        self.watch_quota(now)
        claimed = self._claim(now, self._concurrency)
        if not claimed:
            return 0
        if self._pool is None or len(claimed) == 1:
            outcomes = [self._send_safely(c) for c in claimed]
        else:
            outcomes = list(self._pool.map(self._send_safely, claimed))
        self._record(list(zip(claimed, outcomes)))
        return len(claimed)

    def run_forever(self, stop: threading.Event, idle: float = 0.2) -> None:
        """A pipeline: keep `concurrency` sends in flight, claim more as they finish (in small
        batches, one transaction each), record finished ones together."""
        name_os_thread("dispatcher")
        pool = self._pool or ThreadPoolExecutor(1, thread_name_prefix="outbox-send", initializer=name_os_thread,
                                                initargs=("outbox-send",))
        in_flight: dict[Future, _Claimed] = {}
        refill = max(1, self._concurrency // 2)
        while not stop.is_set():
            try:
                finished = [f for f in in_flight if f.done()]
                if finished:
                    self._record([(in_flight.pop(f), f.result()) for f in finished])
                free = self._concurrency - len(in_flight)
                if free >= refill or not in_flight:
                    now = self._clock.now()
                    self.watch_quota(now)
                    for claimed in self._claim(now, free):
                        in_flight[pool.submit(self._send_safely, claimed)] = claimed
            except Exception:  # the database gone for a moment; leased rows come back
                log.exception("outbox.dispatch_error")
                stop.wait(idle)
                continue
            if in_flight:
                wait(list(in_flight), timeout=idle, return_when=FIRST_COMPLETED)
            else:
                stop.wait(idle)
        if in_flight:
            done, _ = wait(list(in_flight), timeout=self.lease.total_seconds())
            try:
                self._record([(in_flight[f], f.result()) for f in done])
            except Exception:
                log.exception("outbox.dispatch_error")

    def close(self) -> None:
        self._drop_own_connection()
        if self._pool is not None:
            self._pool.shutdown(wait=False)

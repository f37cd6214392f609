"""Send the outbox to LINE: replies while fresh, pushes with retry keys, backoff on 429/5xx."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from bot.line_api import LineApi, LineResponse
from domain.clock import Clock
from domain.db import transaction
from domain.personal_data import redact_message_body
from bot.outbox import FAILED, MULTICAST, PENDING, PUSH, REPLY, SENDING, SENT, OutboxMessage

log = structlog.get_logger(__name__)

INVALID_REPLY_TOKEN = "Invalid reply token"
MONTHLY_LIMIT = "You have reached your monthly limit."
# A dispatcher that dies after claiming leaves the row for another after this long.
LEASE = timedelta(seconds=120)
QUOTA_RECHECK = timedelta(hours=1)


@dataclass
class Outcome:
    status: str
    via: str | None = None
    retry_in: float | None = None
    error: str | None = None
    http_status: int | None = None
    request_id: str | None = None
    to_push: bool = False


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


class Dispatcher:
    def __init__(self, session_factory: sessionmaker[Session], line_api: LineApi, clock: Clock,
                 *, max_attempts: int = 20, batch_size: int = 50):
        self._sessions = session_factory
        self._line = line_api
        self._clock = clock
        self._max_attempts = max_attempts
        self._batch_size = batch_size
        # A 429 throttles the whole channel, so every send waits, not only the row that got it.
        self.paused_until: datetime | None = None
        self.pushes_paused_until: datetime | None = None

    def _claim(self, now: datetime) -> list[OutboxMessage]:
        earlier = aliased(OutboxMessage)
        claimable = or_(
            and_(OutboxMessage.status == PENDING, OutboxMessage.available_at <= now),
            and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now),
        )
        # Keep one user's messages in order, but a message waiting out a retry delay does not
        # hold back the next one: a fresh reply must not go stale behind a failing push.
        blocked = exists().where(
            earlier.order_key == OutboxMessage.order_key,
            earlier.id < OutboxMessage.id,
            or_(earlier.status == SENDING,
                and_(earlier.status == PENDING, earlier.available_at <= now)),
        )
        conditions = [claimable, ~blocked]
        if self.pushes_paused_until and now < self.pushes_paused_until:
            conditions.append(OutboxMessage.kind == REPLY)
        with transaction(self._sessions) as session:
            stmt = select(OutboxMessage).where(*conditions).order_by(OutboxMessage.id).limit(self._batch_size)
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True, of=OutboxMessage)
            rows = list(session.scalars(stmt))
            for row in rows:
                row.status = SENDING
                row.lease_until = now + LEASE
                row.attempts += 1
            return rows

    def run_once(self) -> int:
        """Send what is due; return how many rows were tried."""
        now = self._clock.now()
        if self.paused_until and now < self.paused_until:
            return 0
        rows = self._claim(now)
        for row in rows:
            outcome = self._send(row, self._clock.now())
            self._record(row.id, outcome)
        return len(rows)

    def _send(self, row: OutboxMessage, now: datetime) -> Outcome:
        if row.kind == REPLY:
            fresh = row.reply_token_expires_at is not None and now < row.reply_token_expires_at
            if not fresh:
                return self._send_push(row, now, reason="reply token expired")
            response = self._line.reply(row.reply_token or "", row.message_list)
            if response.ok:
                return Outcome(SENT, via=REPLY, http_status=response.status,
                               request_id=response.header("x-line-request-id"))
            if response.status == 400 and INVALID_REPLY_TOKEN in response.message:
                # LINE does not say whether the token was used or expired; a push delivers it.
                return self._send_push(row, now, reason="reply token refused")
            return self._failure(row, response, now)
        if row.kind == PUSH:
            return self._send_push(row, now)
        response = self._line.multicast(row.recipient_list, row.message_list, row.retry_key)
        return self._judge(row, response, now, via=MULTICAST)

    def _send_push(self, row: OutboxMessage, now: datetime, reason: str | None = None) -> Outcome:
        if not row.to_user:
            return Outcome(FAILED, error=f"{reason}; no user to push to")
        if self.pushes_paused_until and now < self.pushes_paused_until:
            return Outcome(PENDING, retry_in=(self.pushes_paused_until - now).total_seconds(),
                           error="monthly message limit reached", to_push=True)
        response = self._line.push(row.to_user, row.message_list, row.retry_key)
        outcome = self._judge(row, response, now, via=PUSH)
        outcome.to_push = True
        return outcome

    def _judge(self, row: OutboxMessage, response: LineResponse, now: datetime, via: str) -> Outcome:
        if response.ok:
            return Outcome(SENT, via=via, http_status=response.status,
                           request_id=response.header("x-line-request-id"))
        if response.status == 409:
            # The retry key was accepted before (our earlier attempt got through): it is sent.
            return Outcome(SENT, via=via, http_status=409,
                           request_id=response.header("x-line-accepted-request-id"))
        return self._failure(row, response, now)

    def _failure(self, row: OutboxMessage, response: LineResponse, now: datetime) -> Outcome:
        error = f"{response.status} {response.message}".strip()
        if response.status == 429 and MONTHLY_LIMIT in response.message:
            self.pushes_paused_until = now + QUOTA_RECHECK
            log.error("line.monthly_limit", outbox_id=row.id)
            return Outcome(PENDING, retry_in=QUOTA_RECHECK.total_seconds(), error=error,
                           http_status=429)
        retryable = response.status in (0, 429) or response.status >= 500
        if not retryable:
            return Outcome(FAILED, error=error, http_status=response.status)
        if row.attempts >= self._max_attempts:
            return Outcome(FAILED, error=f"gave up after {row.attempts} attempts: {error}",
                           http_status=response.status)
        wait = backoff_seconds(row.attempts)
        if response.status == 429:
            wait = max(wait, retry_after_seconds(response) or 1.0)
            self.paused_until = now + timedelta(seconds=wait)
        return Outcome(PENDING, retry_in=wait, error=error, http_status=response.status)

    def _record(self, row_id: int, outcome: Outcome) -> None:
        now = self._clock.now()
        with transaction(self._sessions) as session:
            row = session.get(OutboxMessage, row_id)
            if row is None:
                return
            row.last_status = outcome.http_status
            row.lease_until = None
            if outcome.to_push and row.kind == REPLY:
                row.kind = PUSH
            if outcome.status == SENT:
                row.status, row.sent_at, row.sent_via = SENT, now, outcome.via
                row.line_request_id = outcome.request_id
                row.last_error = None
            elif outcome.status == FAILED:
                row.status, row.last_error = FAILED, outcome.error
                # What an operator keeps: the kind of message and its buttons, not its texts.
                row.messages = redact_message_body(row.messages)
                log.warning("outbox.failed", outbox_id=row.id, kind=row.kind, http_status=outcome.http_status)
            else:
                row.status, row.last_error = PENDING, outcome.error
                row.available_at = now + timedelta(seconds=outcome.retry_in or 0)
                log.info("outbox.retry", outbox_id=row.id, http_status=outcome.http_status,
                         retry_in=outcome.retry_in)

    def run_forever(self, stop: threading.Event, idle: float = 0.2) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # keep the loop alive; the row stays leased and is retried
                log.exception("outbox.dispatch_error")
                busy = 0
            if not busy:
                stop.wait(idle)

"""Outgoing LINE messages, stored in the transaction of the change that caused them.

The dispatcher in bot/ sends them. Anyone may enqueue (bot handlers, scheduler jobs); the
messages are checked against LINE's limits here, so a bad message fails where it is made.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.base import Base
from bot.inbox import Id
from bot.line_limits import (
    MAX_MULTICAST_RECIPIENTS,
    check_messages,
    check_recipients,
)

REPLY, PUSH, MULTICAST = "reply", "push", "multicast"
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
# LINE says a reply token lasts about a minute from the event; keep a margin for the round trip.
REPLY_TOKEN_LIFETIME = timedelta(seconds=50)


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    # The user for a reply or push; a reply falls back to a push to this user.
    to_user: Mapped[str | None] = mapped_column(String(64))
    recipients: Mapped[str | None] = mapped_column(Text)
    reply_token: Mapped[str | None] = mapped_column(String(255))
    reply_token_expires_at: Mapped[datetime | None]
    messages: Mapped[str] = mapped_column(Text)
    retry_key: Mapped[str] = mapped_column(String(36))
    # Messages to one user go out in the order they were made.
    order_key: Mapped[str] = mapped_column(String(80))
    # Makes enqueueing idempotent for jobs that may run twice (reminders, deadlines).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_via: Mapped[str | None] = mapped_column(String(16))
    # Reply attempts that may have reached LINE (counted at claim; taken back when LINE answers
    # that nothing was delivered). With one behind it, "Invalid reply token" inside the token's
    # lifetime means our earlier attempt used the token: the reply was delivered.
    reply_tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    line_request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        # No index on status itself (see bot/inbox.py): failed rows, listed by hand, get their own.
        Index("ix_outbox_messages_failed", "id",
              postgresql_where=text("status = 'failed'"), sqlite_where=text("status = 'failed'")),
        # The claim reads only this partial index (see bot/dispatcher.py): the unfinished
        # messages of each user, in order; literal statuses so SQLite matches it too.
        # Rows in flight, by lease: a dead dispatcher's rows are found at once (no more of them
        # than messages in flight), before their reply tokens go stale in a backlog.
        Index("ix_outbox_messages_leases", "lease_until",
              postgresql_where=text("status = 'sending'"), sqlite_where=text("status = 'sending'")),
        Index("ix_outbox_messages_active", "order_key", "id",
              postgresql_where=text("status IN ('pending', 'sending')"),
              sqlite_where=text("status IN ('pending', 'sending')")),
    )

    @property
    def message_list(self) -> list[dict[str, Any]]:
        return messages_of(self)

    @property
    def recipient_list(self) -> list[str]:
        return recipients_of(self)


def messages_of(row) -> list[dict[str, Any]]:
    """The stored messages of an outbox row (an OutboxMessage or a row read by Core)."""
    return json.loads(row.messages)


def recipients_of(row) -> list[str]:
    return json.loads(row.recipients or "[]")


class ChannelState(Base):
    """What every process must know about the LINE channel: one row, key 'channel'.

    A 429 throttles the whole channel and the monthly limit stops every push, so the pause and
    the quota live here, not in one process's memory."""

    __tablename__ = "line_channel_state"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    # No call to LINE before this (a 429's Retry-After, or our backoff after one).
    paused_until: Mapped[datetime | None]
    # No push or multicast before this (the monthly limit was reached); replies still go.
    pushes_paused_until: Mapped[datetime | None]
    # LINE's answer to GET /v2/bot/message/quota (None: no limit) and …/quota/consumption.
    quota_limit: Mapped[int | None] = mapped_column(BigInteger)
    quota_used: Mapped[int | None] = mapped_column(BigInteger)
    quota_checked_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]


# Built once per dialect (the columns come as parameters), so SQLAlchemy reuses the compiled
# statement instead of building and keying a new one for every message.
_INSERT_ONCE = {
    name: dialect.insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(OutboxMessage.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def _insert(session: Session, row: dict[str, Any]) -> bool:
    row.setdefault("retry_key", str(uuid.uuid4()))
    row.setdefault("status", PENDING)
    row.setdefault("attempts", 0)
    if row.get("dedupe_key") is None:
        session.add(OutboxMessage(**row))
        return True
    dialect = session.get_bind().dialect.name
    result = session.execute(_INSERT_ONCE[dialect], row)
    return result.first() is not None


def _dump(messages: Sequence[dict[str, Any]]) -> str:
    check_messages(list(messages))
    return json.dumps(list(messages), ensure_ascii=False, separators=(",", ":"))


def enqueue_reply(session: Session, *, reply_token: str | None, user_id: str | None,
                  messages: Sequence[dict[str, Any]], event_time: datetime, now: datetime,
                  dedupe_key: str | None = None) -> bool:
    """Answer an event: by reply while its token is fresh, else by push to the user."""
    if not reply_token:
        if not user_id:
            raise ValueError("a reply needs a reply token or a user to push to")
        return enqueue_push(session, user_id=user_id, messages=messages, now=now,
                            dedupe_key=dedupe_key)
    return _insert(session, {
        "kind": REPLY, "to_user": user_id, "reply_token": reply_token,
        "reply_token_expires_at": event_time + REPLY_TOKEN_LIFETIME,
        "messages": _dump(messages), "order_key": f"user:{user_id or reply_token}"[:80],
        "available_at": now, "created_at": now, "dedupe_key": dedupe_key,
    })


def enqueue_push(session: Session, *, user_id: str, messages: Sequence[dict[str, Any]],
                 now: datetime, dedupe_key: str | None = None) -> bool:
    check_recipients([user_id])
    return _insert(session, {
        "kind": PUSH, "to_user": user_id, "messages": _dump(messages),
        "order_key": f"user:{user_id}", "available_at": now, "created_at": now,
        "dedupe_key": dedupe_key,
    })


def enqueue_multicast(session: Session, *, user_ids: Sequence[str], messages: Sequence[dict[str, Any]],
                      now: datetime, dedupe_key: str | None = None) -> int:
    """Store one row per batch of at most 500 recipients; return how many rows were new."""
    unique_ids = list(dict.fromkeys(user_ids))
    check_recipients(unique_ids)
    body = _dump(messages)
    created = 0
    for start in range(0, len(unique_ids), MAX_MULTICAST_RECIPIENTS):
        batch = unique_ids[start:start + MAX_MULTICAST_RECIPIENTS]
        batch_no = start // MAX_MULTICAST_RECIPIENTS
        created += _insert(session, {
            "kind": MULTICAST, "recipients": json.dumps(batch), "messages": body,
            "order_key": f"multicast:{uuid.uuid4()}", "available_at": now, "created_at": now,
            "dedupe_key": f"{dedupe_key}#{batch_no}" if dedupe_key else None,
        })
    return created

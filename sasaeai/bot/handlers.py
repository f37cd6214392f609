"""Turn one stored LINE event into its effects (outbox rows, later domain changes).

Runs inside the worker's transaction: everything a handler writes commits together with the
event being marked done, so a retried event never doubles its effects.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import structlog
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)
from pydantic import ValidationError
from sqlalchemy.orm import Session

from sasaeai import outbox
from sasaeai.bot import postbacks, routes  # noqa: F401  (routes registers the verbs)
from sasaeai.messages.build import postback, text
from sasaeai.messages.resident import RESIDENT

log = structlog.get_logger(__name__)


@dataclass
class EventContext:
    session: Session
    now: datetime
    raw: dict[str, Any]

    @property
    def user_id(self) -> str | None:
        return (self.raw.get("source") or {}).get("userId")

    @property
    def event_time(self) -> datetime:
        stamp = self.raw.get("timestamp")
        if not stamp:
            return self.now
        return datetime.fromtimestamp(int(stamp) / 1000, tz=timezone.utc)

    def reply(self, *messages: dict[str, Any]) -> None:
        outbox.enqueue_reply(
            self.session, reply_token=self.raw.get("replyToken"), user_id=self.user_id,
            messages=list(messages), event_time=self.event_time, now=self.now,
            dedupe_key=f"reply:{self.raw.get('webhookEventId')}")


MALFORMED, UNKNOWN = "malformed", "unknown"


def parse_event(raw: dict[str, Any]) -> Event | str:
    """The SDK's model of an event, or why there is none (a pydantic error must not escape)."""
    try:
        return Event.from_dict(raw)
    except ValidationError:
        return MALFORMED
    except ValueError:  # the SDK's answer for an event or message type it does not know
        return UNKNOWN


def on_follow(ctx: EventContext, event: FollowEvent) -> str:
    ctx.reply(
        text(RESIDENT["greeting"]),
        text(RESIDENT["privacy_notice"], [
            postback(RESIDENT["consent_yes"], "v1|consent|yes"),
            postback(RESIDENT["consent_no"], "v1|consent|no"),
        ]),
    )
    return "greeted"


def on_unfollow(ctx: EventContext, event: UnfollowEvent) -> str:
    return "unfollowed"


def on_message(ctx: EventContext, event: MessageEvent) -> str:
    if isinstance(event.message, TextMessageContent):
        ctx.reply(text(RESIDENT["acknowledge_text"]))
        return "acknowledged"
    ctx.reply(text(RESIDENT["not_text"]))
    return "not_text"


def on_postback(ctx: EventContext, event: PostbackEvent) -> str:
    decoded = postbacks.decode(event.postback.data)
    handler = postbacks.handler_for(decoded[0]) if decoded else None
    if handler is None:
        ctx.reply(text(RESIDENT["stale_button"]))
        return "postback:unknown"
    return handler(ctx, decoded[1])


HANDLERS: dict[type, Callable[[EventContext, Any], str]] = {
    FollowEvent: on_follow,
    UnfollowEvent: on_unfollow,
    MessageEvent: on_message,
    PostbackEvent: on_postback,
}


def handle_event(session: Session, raw: dict[str, Any], now: datetime) -> str:
    """Handle one event; return a short outcome for the event log."""
    if raw.get("mode") == "standby":
        return "standby"  # another channel owns the chat: LINE forbids sending
    event = parse_event(raw)
    if event == MALFORMED:
        log.warning("event.malformed", event_type=str(raw.get("type"))[:40])
        return MALFORMED
    handler = HANDLERS.get(type(event))
    if handler is None:
        log.info("event.ignored", event_type=raw.get("type"))
        return f"ignored:{str(raw.get('type'))[:40]}"
    return handler(EventContext(session, now, raw), event)

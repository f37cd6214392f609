"""Turn one stored LINE event into its effects: the dialogue step and its outgoing messages.

Runs inside the worker's transaction: everything a handler writes commits together with the
event being marked done, so a retried event never doubles its effects.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import structlog
from linebot.v3.webhooks import (
    AudioMessageContent,
    Event,
    FileMessageContent,
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
    VideoMessageContent,
)
from pydantic import ValidationError
from pydantic.v1 import ValidationError as ValidationErrorV1  # the SDK's models are pydantic v1
from sqlalchemy.orm import Session, sessionmaker

from bot import outbox
from bot import dialogue, postbacks
from bot import cases as escalation_bot
from bot.dialogue.safety import safety_answer
from bot import state as convo_state
from domain import people
from domain.clock import TOKYO
from domain.settings import national_safety_numbers
from domain.db import transaction
from domain.escalation import EscalationError, NotPermitted
from domain.matches import IllegalMatchTransition, NotApprovable
from domain.needs import IllegalTransition
from domain.people import ConsentRequired
from domain.understanding import understand
from domain.escalation import DeadlinePolicy
from bot.line_limits import MAX_MESSAGES_PER_REQUEST
from bot.messages.build import text
from bot.messages.resident import RESIDENT
from bot.worker import WHOLE_OR_NOTHING, Unfixable, after_commit

log = structlog.get_logger(__name__)

MALFORMED, UNKNOWN = "malformed", "unknown"
# What LINE's user ids look like; anything else is never answered nor pushed to.
LINE_USER_ID = re.compile(r"U[0-9a-f]{32}\Z")
# The domain saying no (the match is not accepted, the case is closed …): a polite answer.
REFUSALS = (NotApprovable, IllegalMatchTransition, IllegalTransition, EscalationError, NotPermitted,
            ConsentRequired)
MEDIA = (StickerMessageContent, ImageMessageContent, AudioMessageContent, VideoMessageContent,
         FileMessageContent)


@dataclass(frozen=True)
class BotSettings:
    """What the handlers need from the deployment (set by the composition root)."""

    console_url: str | None = None
    deadline_policy: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    # LINE user id → display name (the Messaging API profile); None when unknown.
    profile_lookup: Callable[[str], str | None] | None = None
    # LINE user id, roles → links the rich menu of those roles (bot.richmenu.link_for_roles).
    role_menu: Callable[[str, set[str]], str] | None = None
    # A location farther than this from every area is asked about, never taken (km).
    area_radius_km: float = 8.0
    # Personal data: the key of the hash that replaces an erased LINE user id, the periods the
    # notice states, and where the full privacy policy is served (empty: not linked).
    pseudonym_key: bytes = field(default=b"", repr=False)
    retention_days: int = 90
    event_retention_days: int = 30
    privacy_url: str = ""
    # The numbers the safety answers show (Config.safety_numbers); by default the national lines.
    safety_numbers: dict[str, str] = field(default_factory=national_safety_numbers)


class EventContext:
    """One event being handled: its session and time, and the messages it will send."""

    def __init__(self, session: Session, now: datetime, raw: dict[str, Any], settings: BotSettings | None = None):
        self.session = session
        self.now = now
        self.raw = raw
        self.settings = settings or BotSettings()
        self._replies: list[dict[str, Any]] = []
        self._pushes = 0

    @property
    def console_url(self) -> str | None:
        return self.settings.console_url

    @property
    def deadline_policy(self) -> DeadlinePolicy:
        return self.settings.deadline_policy

    @property
    def user_id(self) -> str | None:
        return (self.raw.get("source") or {}).get("userId")

    @property
    def event_id(self) -> str:
        return str(self.raw.get("webhookEventId", ""))

    @property
    def event_time(self) -> datetime:
        stamp = self.raw.get("timestamp")
        if not stamp:
            return self.now
        return datetime.fromtimestamp(int(stamp) / 1000, tz=timezone.utc)

    def reply(self, *messages: dict[str, Any]) -> None:
        """Queue an answer to the person who wrote; sent as one reply when the turn ends."""
        self._replies.extend(messages)

    def take_back(self, kept: int) -> None:
        """Forget the queued answers after the first `kept` (a step that was undone)."""
        del self._replies[kept:]

    @property
    def queued(self) -> int:
        return len(self._replies)

    def push(self, user_id: str, *messages: dict[str, Any]) -> None:
        """News for someone else (or later news): a push, stored now in this transaction."""
        if not is_line_user_id(user_id):
            log.warning("push.skipped", reason="not a LINE user id")
            return
        for start in range(0, len(messages), MAX_MESSAGES_PER_REQUEST):
            self._pushes += 1
            outbox.enqueue_push(self.session, user_id=user_id, now=self.now,
                                messages=list(messages[start:start + MAX_MESSAGES_PER_REQUEST]),
                                dedupe_key=f"push:{self.event_id}:{self._pushes}")

    def flush(self) -> None:
        """Send the queued answer: the first five by reply (free), any more by push."""
        if not self._replies:
            return
        first, rest = self._replies[:MAX_MESSAGES_PER_REQUEST], self._replies[MAX_MESSAGES_PER_REQUEST:]
        outbox.enqueue_reply(self.session, reply_token=self.raw.get("replyToken"), user_id=self.user_id,
                             messages=first, event_time=self.event_time, now=self.now,
                             dedupe_key=f"reply:{self.event_id}")
        if rest and self.user_id:
            self.push(self.user_id, *rest)
        self._replies = []


def is_line_user_id(value: Any) -> bool:
    return isinstance(value, str) and LINE_USER_ID.match(value) is not None


def parse_event(raw: dict[str, Any]) -> Event | str:
    """The SDK's model of an event, or why there is none (no SDK error may escape)."""
    try:
        return Event.from_dict(raw)
    except (ValidationError, ValidationErrorV1):
        return MALFORMED
    except ValueError:  # the SDK's answer for an event or message type it does not know
        return UNKNOWN
    except (KeyError, TypeError, AttributeError, IndexError):  # the SDK's model tripping on junk
        return MALFORMED


def to_input(event: Event) -> dialogue.Input | None:
    if isinstance(event, PostbackEvent):
        decoded = postbacks.decode(event.postback.data)
        if decoded is None:
            return dialogue.Input("postback", verb="stale")
        return dialogue.Input("postback", verb=decoded[0], args=decoded[1])
    if isinstance(event, MessageEvent):
        message = event.message
        if isinstance(message, TextMessageContent):
            return dialogue.Input("text", text=message.text or "")
        if isinstance(message, LocationMessageContent):
            return dialogue.Input("location", lat=message.latitude, lon=message.longitude)
    return None


def _with_person(ctx: EventContext, run: Callable[[dialogue.Turn, str], str]) -> None:
    """Load the person and their dialogue, run one step, save where the dialogue is now."""
    person = people.get_or_create_person(ctx.session, ctx.user_id, ctx.now)
    convo, expired = convo_state.load(ctx.session, ctx.user_id, ctx.now, dialogue.IDLE)
    state, values = dialogue.upgrade(convo.state, convo.values)  # stored by an older version
    turn = dialogue.Turn(ctx, person, values)
    if expired:
        ctx.reply(text(RESIDENT["expired"]))
    next_state = run(turn, state)
    if turn.data.get("erased"):
        convo_state.forget(ctx.session, ctx.user_id)
    else:
        convo_state.save(convo, next_state, turn.data, ctx.now)


def on_follow(ctx: EventContext, event: FollowEvent) -> str:
    def run(turn: dialogue.Turn, _state: str) -> str:
        people.mark_followed(turn.person, ctx.now)
        if turn.person.consented:
            turn.say(dialogue.menu_message(turn.person, RESIDENT["welcome_back"]))
            return dialogue.IDLE
        turn.say(text(RESIDENT["greeting"]), dialogue.consent_message(ctx.settings))
        return dialogue.CONSENT

    _with_person(ctx, run)
    return "greeted"


def on_unfollow(ctx: EventContext, event: UnfollowEvent) -> str:
    person = people.find_by_line_id(ctx.session, ctx.user_id)
    if person is not None:
        people.mark_unfollowed(person, ctx.now)
    return "unfollowed"


def on_dialogue_event(ctx: EventContext, event: Event) -> str:
    inp = to_input(event)
    if inp is None:  # a sticker, an image, a voice message …
        def media(turn: dialogue.Turn, state: str) -> str:
            turn.say(dialogue.menu_message(turn.person, RESIDENT["not_text"]))
            return state

        _with_person(ctx, media)
        return "not_text"
    outcome = {"value": inp.key}

    def run(turn: dialogue.Turn, state: str) -> str:
        was_consented = turn.person.consented
        next_state = refusing_politely(turn, state, inp)
        if not was_consented and turn.person.consented and ctx.settings.profile_lookup:
            after_commit(ctx.session, _fetch_display_name(ctx.settings.profile_lookup, ctx.user_id))
        outcome["value"] = f"{inp.key}->{next_state}"
        return next_state

    _with_person(ctx, run)
    return outcome["value"][:80]


def refusing_politely(turn: dialogue.Turn, state: str, inp: dialogue.Input) -> str:
    """One dialogue step; when the domain refuses (a match not accepted, a closed case …) what
    the step wrote is undone and the person is told politely, rather than the event failing."""
    if turn.session.info.get(WHOLE_OR_NOTHING):
        # No savepoint to undo the step: a refusal goes up, the worker undoes the batch and
        # handles this event alone, where it is answered below.
        return dialogue.step(turn, state, inp)
    said = turn.ctx.queued
    try:
        with turn.session.begin_nested():
            return dialogue.step(turn, state, inp)
    except REFUSALS as exc:
        log.info("dialogue.refused", refusal=type(exc).__name__, input=inp.key)
        turn.ctx.take_back(said)
        turn.say(text(RESIDENT["refused"]))
        return state


def _fetch_display_name(lookup: Callable[[str], str | None], user_id: str):
    """The LINE profile, asked after the commit; stored in a short transaction of its own."""
    def job(sessions: sessionmaker[Session], now: datetime) -> None:
        name = lookup(user_id)
        if not name:
            return
        with transaction(sessions) as session:
            person = people.find_by_line_id(session, user_id)
            if person is not None and person.consented:
                people.set_profile(person, now, display_name=name[:100])
    return job


HANDLERS: dict[type, Callable[[EventContext, Any], str]] = {
    FollowEvent: on_follow,
    UnfollowEvent: on_unfollow,
    MessageEvent: on_dialogue_event,
    PostbackEvent: on_dialogue_event,
}


def handle_event(session: Session, raw: dict[str, Any], now: datetime, settings: BotSettings | None = None) -> str:
    """Handle one event; return a short outcome for the event log."""
    if raw.get("mode") == "standby":
        return "standby"  # another channel owns the chat: LINE forbids sending
    event = parse_event(raw)
    if event == MALFORMED:
        raise Unfixable(f"malformed {str(raw.get('type'))[:40]} event (the SDK's model refuses it)")
    handler = HANDLERS.get(type(event))
    if handler is None:
        log.info("event.ignored", event_type=raw.get("type"))
        return f"ignored:{str(raw.get('type'))[:40]}"
    source = raw.get("source") or {}
    if source.get("type") != "user" or not source.get("userId"):
        return "ignored:not_one_to_one"  # the bot talks with people one to one
    if not is_line_user_id(source["userId"]):
        raise Unfixable("source.userId is not a LINE user id")
    ctx = EventContext(session, now, raw, settings)
    outcome = handler(ctx, event)
    ctx.flush()
    return outcome


def make_handler(settings: BotSettings) -> Callable[[Session, dict[str, Any], datetime], str]:
    def handler(session: Session, raw: dict[str, Any], now: datetime) -> str:
        return handle_event(session, raw, now, settings)
    return handler


def make_parked_hook(settings: BotSettings):
    """Fail safe: when an event is parked, the person's message goes to a coordinator and the
    person is told so; a coordinator (or someone unknown) is only told it did not go through."""
    def on_parked(session: Session, event) -> None:
        raw = event.data
        source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
        user_id = source.get("userId")
        if not is_line_user_id(user_id) or raw.get("type") not in ("message", "postback"):
            return
        message = raw.get("message") if isinstance(raw.get("message"), dict) else {}
        words = message.get("text") if isinstance(message.get("text"), str) else ""
        if not isinstance(raw.get("replyToken"), str) and people.find_by_line_id(session, user_id) is None:
            return  # nobody to answer: no token, and not someone the service knows
        ctx = EventContext(session, event.handled_at or event.available_at, raw, settings)
        guidance = _safety_guidance_for(words, ctx.now, settings.safety_numbers)
        escalated = escalation_bot.escalate_failed_event(ctx, session, user_id, words[:4000])
        ctx.reply(*guidance, text(RESIDENT["bot_failed" if escalated else "not_received"]))
        ctx.flush()  # by reply while the token is fresh
    return on_parked


def _safety_guidance_for(words: str, now, numbers: dict[str, str]) -> list[dict[str, Any]]:
    """The 119/110 or consultation answer for words that say so, even when the turn failed: a
    cry for help is answered whatever went wrong after it was read."""
    if not words:
        return []
    try:
        reading = understand(words[:4000], now.astimezone(TOKYO).date())
        if reading.safety == "none":
            return []
        return [safety_answer(reading.signal, reading.safety, numbers)]
    except Exception:  # the reading itself may be what failed: the plain answer still goes
        log.exception("event.parked_safety_reading_failed")
        return []

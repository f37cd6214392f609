"""In-memory platform state: users, conversations, reply tokens, retry keys, faults, logs.

Everything lives behind one re-entrant lock because the simulator runs on a
threaded server and the bot calls back into it (reply/push) while the simulator
is still waiting for the bot's webhook response.
"""
from __future__ import annotations

import hashlib
import itertools
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

RETRY_KEY_TTL_SECONDS = 24 * 3600  # LINE keeps accepted retry keys for 24 h (unconfirmed)
FAULT_KINDS = ("status", "monthly_quota", "latency", "drop_after_accept")
FAULT_ENDPOINTS = ("reply", "push", "multicast", "profile", "info", "richmenu", "quota", "oauth", "any")
STATELESS_TOKEN_SECONDS = 900  # LINE: a stateless channel access token lasts 15 minutes
# Replies are free; only quota-consuming endpoints can hit the monthly limit.
QUOTA_ENDPOINTS = ("push", "multicast")
QUOTABLE_TYPES = ("text", "textV2", "sticker", "image", "video")


class Clock(Protocol):
    """Same protocol as domain.clock.Clock, so a FixedClock can be shared."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class User:
    userId: str
    displayName: str
    following: bool
    language: str = "ja"
    pictureUrl: str | None = None
    statusMessage: str | None = None
    everBlocked: bool = False

    def public(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def profile(self) -> dict[str, Any]:
        """The shape of GET /v2/bot/profile/{userId}."""
        return {k: v for k, v in self.public().items()
                if k in ("userId", "displayName", "language", "pictureUrl", "statusMessage")}


@dataclass
class ReplyToken:
    token: str
    userId: str
    webhookEventId: str
    issuedAt: float
    usedAt: float | None = None


@dataclass
class Fault:
    id: int
    endpoint: str
    kind: str
    status: int | None = None
    retryAfter: float | None = None
    ms: float | None = None
    times: int | None = None  # None: until cleared
    applied: int = 0

    def matches(self, endpoint: str) -> bool:
        if self.times is not None and self.applied >= self.times:
            return False
        if self.kind == "monthly_quota" and endpoint not in QUOTA_ENDPOINTS:
            return False
        return self.endpoint in ("any", endpoint)

    def public(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class AcceptedKey:
    requestId: str
    acceptedAt: float
    sentMessages: list[dict[str, str]] | None


@dataclass
class SimState:
    clock: Clock
    webhook_url: str | None
    channel_secret: str
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        # The bot's own user id is derived from the secret so it is stable across restarts.
        self.bot_user_id = "U" + hashlib.sha256(self.channel_secret.encode()).hexdigest()[:32]
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.users: dict[str, User] = {}
            self.transcripts: dict[str, list[dict[str, Any]]] = {}
            self.reply_tokens: dict[str, ReplyToken] = {}
            self.retry_keys: dict[str, AcceptedKey] = {}
            self.events: dict[str, dict[str, Any]] = {}  # webhookEventId -> event
            self.media: dict[str, str] = {}  # message id -> content type, for user-sent media
            self.requests: list[dict[str, Any]] = []
            self.faults: list[Fault] = []
            # Rich menus: id -> the rich menu response object; images; default and per-user links.
            self.richmenus: dict[str, dict[str, Any]] = {}
            self.richmenu_images: dict[str, tuple[str, bytes]] = {}  # id -> (content type, bytes)
            self.default_richmenu: str | None = None
            self.user_richmenus: dict[str, str] = {}  # userId -> richMenuId
            # Monthly message limit (None: none set) and messages counted per month (JST).
            self.monthly_limit: int | None = None
            self.usage: dict[str, int] = {}
            # Stateless channel access tokens issued through /oauth2/v3/token -> expiry.
            self.issued_tokens: dict[str, float] = {}
            self._seq = itertools.count(1)
            self._fault_ids = itertools.count(1)
            self._message_ids = itertools.count(600_000_000_000_000_001)

    # --- time and ids ----------------------------------------------------------
    def now(self) -> float:
        return self.clock.now().timestamp()

    def now_iso(self) -> str:
        return self.clock.now().astimezone(timezone.utc).isoformat(timespec="milliseconds")

    def next_seq(self) -> int:
        return next(self._seq)

    def next_message_id(self) -> str:
        return str(next(self._message_ids))

    # --- users -------------------------------------------------------------------
    def add_user(self, display_name: str | None, user_id: str | None, following: bool) -> User:
        with self.lock:
            uid = user_id or "U" + secrets.token_hex(16)
            if uid in self.users:
                raise KeyError(uid)
            user = User(userId=uid, displayName=display_name or f"ユーザー{len(self.users) + 1}",
                        following=following)
            self.users[uid] = user
            self.transcripts.setdefault(uid, [])
            return user

    # --- transcripts ---------------------------------------------------------------
    def record(self, user_id: str, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            entry = {"seq": self.next_seq(), "at": self.now_iso(), **entry}
            self.transcripts.setdefault(user_id, []).append(entry)
            return entry

    def deliver(self, user_id: str, via: str, messages: list[dict], request_id: str,
                sent: list[dict[str, str]]) -> bool:
        """Append bot messages to a user's transcript; returns whether LINE would show them."""
        with self.lock:
            user = self.users.get(user_id)
            delivered = user is None or user.following  # unknown ids: LINE accepts, we keep them
            for message, sent_message in zip(messages, sent):
                self.record(user_id, {"direction": "bot", "via": via, "message": message,
                                      "id": sent_message["id"], "requestId": request_id,
                                      "delivered": delivered})
            return delivered

    def sent_messages(self, messages: list[dict]) -> list[dict[str, str]]:
        out = []
        for message in messages:
            sent = {"id": self.next_message_id()}
            if message.get("type") in QUOTABLE_TYPES:
                sent["quoteToken"] = secrets.token_urlsafe(48)
            out.append(sent)
        return out

    # --- monthly quota ---------------------------------------------------------------
    def month(self) -> str:
        return (self.clock.now().astimezone(timezone.utc) + timedelta(hours=9)).strftime("%Y-%m")

    def usage_this_month(self) -> int:
        with self.lock:
            return self.usage.get(self.month(), 0)

    def over_quota(self, recipients: int) -> bool:
        with self.lock:
            return self.monthly_limit is not None and self.usage_this_month() + recipients > self.monthly_limit

    def count_usage(self, recipients: int) -> None:
        with self.lock:
            key = self.month()
            self.usage[key] = self.usage.get(key, 0) + recipients

    # --- channel access tokens ------------------------------------------------------
    def issue_stateless_token(self) -> tuple[str, int]:
        with self.lock:
            token = "sim-stateless-" + secrets.token_urlsafe(32)
            self.issued_tokens[token] = self.now() + STATELESS_TOKEN_SECONDS
            return token, STATELESS_TOKEN_SECONDS

    def token_valid(self, token: str) -> bool:
        with self.lock:
            expires = self.issued_tokens.get(token)
            return expires is not None and self.now() < expires

    # --- reply tokens -------------------------------------------------------------
    def issue_reply_token(self, user_id: str, webhook_event_id: str) -> str:
        with self.lock:
            token = secrets.token_hex(16)
            self.reply_tokens[token] = ReplyToken(token, user_id, webhook_event_id, self.now())
            return token

    def use_reply_token(self, token: str, ttl: float) -> ReplyToken | None:
        """Consume a token; None when unknown, used or expired (LINE: 'Invalid reply token')."""
        with self.lock:
            rt = self.reply_tokens.get(token)
            if rt is None or rt.usedAt is not None or self.now() - rt.issuedAt > ttl:
                return None
            rt.usedAt = self.now()
            return rt

    def expire_reply_tokens(self, ttl: float) -> int:
        with self.lock:
            count = 0
            for rt in self.reply_tokens.values():
                if rt.usedAt is None and self.now() - rt.issuedAt <= ttl:
                    rt.issuedAt -= ttl + 1
                    count += 1
            return count

    # --- rich menus ---------------------------------------------------------------
    def richmenu_for(self, user_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """The menu a user sees (per-user link first, then the default) and where it came from."""
        with self.lock:
            linked = self.user_richmenus.get(user_id)
            if linked in self.richmenus:
                return self.richmenus[linked], "user"
            if self.default_richmenu in self.richmenus:
                return self.richmenus[self.default_richmenu], "default"
            return None, None

    def delete_richmenu(self, richmenu_id: str) -> None:
        with self.lock:
            self.richmenus.pop(richmenu_id, None)
            self.richmenu_images.pop(richmenu_id, None)
            if self.default_richmenu == richmenu_id:
                self.default_richmenu = None
            for uid in [u for u, r in self.user_richmenus.items() if r == richmenu_id]:
                del self.user_richmenus[uid]

    # --- retry keys ---------------------------------------------------------------
    def accepted_key(self, key: str) -> AcceptedKey | None:
        with self.lock:
            accepted = self.retry_keys.get(key)
            if accepted and self.now() - accepted.acceptedAt > RETRY_KEY_TTL_SECONDS:
                del self.retry_keys[key]
                return None
            return accepted

    # --- faults -------------------------------------------------------------------
    def add_fault(self, spec: dict[str, Any]) -> Fault:
        endpoint = spec.get("endpoint", "any")
        kind = spec.get("kind")
        if endpoint not in FAULT_ENDPOINTS:
            raise ValueError(f"endpoint must be one of {FAULT_ENDPOINTS}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}")
        times = spec.get("times")
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ValueError("times must be a positive integer or omitted (until cleared)")
        status = spec.get("status")
        if kind == "status" and (not isinstance(status, int) or not 400 <= status <= 599):
            raise ValueError("a status fault needs an HTTP error status (400-599)")
        if kind == "latency" and not isinstance(spec.get("ms"), (int, float)):
            raise ValueError("a latency fault needs ms")
        with self.lock:
            fault = Fault(id=next(self._fault_ids), endpoint=endpoint, kind=kind,
                          status=status if kind == "status" else (429 if kind == "monthly_quota" else None),
                          retryAfter=spec.get("retry_after"), ms=spec.get("ms"), times=times)
            self.faults.append(fault)
            return fault

    def take_faults(self, endpoint: str, kinds: tuple[str, ...], first_only: bool) -> list[Fault]:
        """Consume matching faults (one application each)."""
        with self.lock:
            taken = []
            for fault in self.faults:
                if fault.kind in kinds and fault.matches(endpoint):
                    fault.applied += 1
                    taken.append(fault)
                    if first_only:
                        break
            return taken

    def peek_fault(self, endpoint: str, kind: str) -> bool:
        with self.lock:
            return any(f.kind == kind and f.matches(endpoint) for f in self.faults)

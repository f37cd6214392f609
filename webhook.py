"""The composition root: the Flask app factory, the LINE webhook route, and the services.

The route verifies the signature, stores the events and answers 200; workers do the rest.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from datetime import timedelta
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlsplit

import structlog
from flask import Flask, jsonify, request
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import RequestEntityTooLarge

from bot import inbox
from bot.dispatcher import QUOTA_POLL, Dispatcher
from bot.handlers import BotSettings, make_handler, make_parked_hook
from bot.line_api import LineApi, StatelessTokens
from bot.notifier import OutboxNotifier
from bot.worker import EventWorker
from domain.clock import Clock, SystemClock
from domain.settings import Config
from domain.db import is_sqlite, make_engine, make_session_factory
from scheduler.deps import DigestPolicy, JobDeps
from scheduler.runner import Runner

log = structlog.get_logger(__name__)
# SQLite has one writer at a time: the event worker leaves this gap after each event so that the
# webhook's write gets in (see inbox.GroupCommit); measured by bench/ack.py.
SQLITE_WORKER_PAUSE = 0.002
# PostgreSQL: events handled per transaction by the event worker (bot.worker._run_batch),
# measured by bench/soak.py at 100 events/s.
POSTGRES_EVENT_BATCH = 8


@dataclass
class Services:
    """Everything a process needs, built once from the configuration."""

    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    _line_api: LineApi | None = field(default=None, repr=False)

    @classmethod
    def build(cls, config: Config, clock: Clock | None = None, engine: Engine | None = None) -> "Services":
        engine = engine or make_engine(config.database_url)
        return cls(config, engine, make_session_factory(engine), clock or SystemClock())

    @property
    def line_api(self) -> LineApi:
        if self._line_api is None:
            tokens = None
            if self.config.line_channel_id:
                tokens = StatelessTokens(self.config.line_api_base_url, self.config.line_channel_id,
                                         self.config.line_channel_secret,
                                         timeout=self.config.line_request_timeout)
            self._line_api = LineApi(self.config.line_api_base_url, self.config.line_channel_access_token,
                                     timeout=self.config.line_request_timeout,
                                     pool_size=max(self.config.outbox_concurrency, 4), tokens=tokens)
        return self._line_api

    @property
    def bot_settings(self) -> BotSettings:
        from bot.richmenu import link_for_roles

        return BotSettings(console_url=self.config.console_url or None, deadline_policy=self.config.deadline_policy(),
                           profile_lookup=self.line_api.profile_name, pseudonym_key=self.config.pseudonym_secret,
                           retention_days=self.config.retention_days,
                           event_retention_days=self.config.event_retention_days,
                           privacy_url=privacy_url(self.config.console_url, self.config.public_url),
                           role_menu=lambda user_id, roles: link_for_roles(self.line_api, user_id, roles),
                           area_radius_km=self.config.area_radius_km,
                           safety_numbers=self.config.safety_numbers())

    def console_deps(self):
        """What the console needs: sessions, clock, LINE Login settings and the notifier."""
        from console import ConsoleDeps, ConsoleSettings

        c = self.config
        # Without SASAEAI_SECRET_KEY the cookie key is derived from the channel secret: stable
        # across processes and restarts, and as secret as what it is derived from.
        secret_key = c.secret_key or hmac.new(c.line_channel_secret.encode(), b"sasaeai console session",
                                              hashlib.sha256).hexdigest()
        settings = ConsoleSettings(
            login_channel_id=c.line_login_channel_id, login_channel_secret=c.line_login_channel_secret,
            authorize_url=c.line_login_authorize_url,
            token_url=c.line_api_base_url.rstrip("/") + "/oauth2/v2.1/token",
            secret_key=secret_key, public_url=c.console_url or None,
            idle=timedelta(minutes=c.console_idle_minutes), http_timeout=c.line_request_timeout)
        return ConsoleDeps(self.sessions, self.clock, self.notifier, settings, news=self.notifier)

    def event_worker(self) -> EventWorker:
        settings = self.bot_settings
        return EventWorker(self.sessions, self.clock, make_handler(settings),
                           max_attempts=self.config.event_max_attempts,
                           on_parked=make_parked_hook(settings),
                           pause=SQLITE_WORKER_PAUSE if is_sqlite(self.engine) else 0.0,
                           batch=1 if is_sqlite(self.engine) else POSTGRES_EVENT_BATCH)

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(self.sessions, self.line_api, self.clock,
                          max_attempts=self.config.outbox_max_attempts,
                          concurrency=self.config.outbox_concurrency,
                          request_timeout=self.config.line_request_timeout, quota_poll=QUOTA_POLL)

    @property
    def notifier(self) -> OutboxNotifier:
        """How the domain's news reaches people (the scheduler and the console use it too)."""
        return OutboxNotifier(self.config.console_url or None)

    def job_deps(self, digest: DigestPolicy = DigestPolicy()) -> JobDeps:
        return JobDeps(notifier=self.notifier, policy=self.config.deadline_policy(),
                       retention=timedelta(days=self.config.retention_days), digest=digest,
                       event_retention=timedelta(days=self.config.event_retention_days),
                       pseudonym_key=self.config.pseudonym_secret)

    def scheduler_runner(self, digest: DigestPolicy = DigestPolicy()) -> Runner:
        return Runner(self.sessions, self.clock, self.job_deps(digest))

    def start_background(self, stop: threading.Event) -> list[threading.Thread]:
        """Run the event worker and the outbox dispatcher as threads (demo, single process)."""
        threads = [
            threading.Thread(target=self.event_worker().run_forever, args=(stop,), name="event-worker", daemon=True),
            threading.Thread(target=self.dispatcher().run_forever, args=(stop,), name="dispatcher", daemon=True),
        ]
        for thread in threads:
            thread.start()
        return threads


def privacy_url(console_url: str, public_url: str = "") -> str:
    """The full privacy policy is served by this app at /privacy: at its public address, or
    beside the console."""
    if public_url:
        return public_url.rstrip("/") + "/privacy"
    if not console_url:
        return ""
    parts = urlsplit(console_url)
    return f"{parts.scheme}://{parts.netloc}/privacy"


def create_app(config: Config | None = None, services: Services | None = None) -> Flask:
    """Build the web app: the LINE webhook, the health check and the console (/console)."""
    config = config or (services.config if services else Config.from_env())
    services = services or Services.build(config)
    if not config.line_channel_secret:
        raise RuntimeError("LINE_CHANNEL_SECRET is not set: the webhook cannot verify LINE's signature")

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_webhook_bytes
    app.extensions["sasaeai"] = services
    secret = config.line_channel_secret.encode()

    def signed(raw: bytes, signature: str) -> bool:
        """LINE signs the raw bytes (the SDK's validator wants text, which a body that is not
        UTF-8 is not: that one must get its 400 for the body, not for the signature)."""
        expected = base64.b64encode(hmac.new(secret, raw, hashlib.sha256).digest())
        return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))
    writer = inbox.GroupCommit(services.engine, services.clock)

    def problem(status: int, reason: str):
        return jsonify({"message": reason}), status

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        return problem(413, f"body over {config.max_webhook_bytes} bytes")

    @app.post("/callback")
    def callback():
        signature = request.headers.get("X-Line-Signature")
        if not signature:
            return problem(400, "missing X-Line-Signature")
        if request.content_length is not None and request.content_length > config.max_webhook_bytes:
            return problem(413, f"body over {config.max_webhook_bytes} bytes")
        raw = request.get_data(cache=False)
        if not signed(raw, signature):
            log.warning("webhook.bad_signature", size=len(raw))
            return problem(400, "invalid X-Line-Signature")
        try:
            destination, events = inbox.parse_webhook_body(raw)
        except inbox.WebhookBodyError as exc:
            log.warning("webhook.bad_body", reason=str(exc))
            return problem(400, str(exc))
        try:
            stored = writer.store(destination, events)
        except Exception as exc:
            if not inbox.refused_as_data(exc):
                raise  # the database is away: 500, and LINE redelivers
            log.warning("webhook.refused_by_database", error=type(exc).__name__)
            return problem(400, f"an event could not be stored as sent ({type(exc).__name__})")
        log.info("webhook.stored", received=len(events), stored=stored)
        return problem(200, "OK")

    @app.get("/privacy")
    def privacy():
        """The full privacy policy (its text is the catalogue's), linked from the LINE notice."""
        from bot.messages.resident import RESIDENT

        body = RESIDENT["privacy_policy"].format(retention_days=config.retention_days,
                                                 event_days=config.event_retention_days)
        blocks = []
        for line in body.splitlines():
            if line.startswith("【"):
                continue
            if line.startswith("■"):
                blocks.append(f"<h2>{escape(line.lstrip('■ '))}</h2>")
            else:
                blocks.append(f"<p>{escape(line)}</p>")
        title = escape(RESIDENT["privacy_title"])
        page = ('<!doctype html><html lang="ja"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{title}</title><style>body{{font-size:1.15rem;line-height:1.8;max-width:40rem;"
                f"margin:1rem auto;padding:0 1rem}}h2{{font-size:1.2rem;margin-top:1.5rem}}</style></head>"
                f"<body><h1>{title}</h1>{''.join(blocks)}</body></html>")
        return page, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "public, max-age=3600"}

    @app.get("/healthz")
    def healthz():
        try:
            with services.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # the point of the check is to say so, not to crash
            log.error("healthz.database_down", error=type(exc).__name__)
            return jsonify({"status": "error", "database": "unreachable"}), 503
        return jsonify({"status": "ok", "database": "ok"})

    import console

    console.init_app(app, services.console_deps())
    return app

"""The coordinators' console: a Flask blueprint mounted at /console.

Server-rendered Japanese pages over the domain. Everything a page shows or does goes through
`domain.scope.Scope` (see `views.scope()`), so a district coordinator sees and acts only on
their district. Login is LINE Login (console/auth.py); sessions are rows in console_sessions,
checked on every request (an idle or revoked session ends at once). Outgoing LINE messages go
through the CaseNotifier handed in by the composition root (webhook.Services): console/ never
imports bot/ or linebot.

For pages added later: extend "console/base.html", put the view in a module of this package
registered on `bp`, read rows through `views.scope()` and `domain.cases`, and take POSTs only
through forms carrying `csrf_token()`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from domain.cases import CaseNotifier
from domain.clock import Clock


@dataclass(frozen=True)
class ConsoleSettings:
    login_channel_id: str
    login_channel_secret: str
    authorize_url: str
    token_url: str
    secret_key: str
    # The console's public address (SASAEAI_CONSOLE_URL, …/console); the callback URL is built from it.
    public_url: str | None = None
    idle: timedelta = timedelta(minutes=30)
    http_timeout: float = 10.0

    @property
    def secure_cookies(self) -> bool:
        return bool(self.public_url and self.public_url.startswith("https://"))


@dataclass(frozen=True)
class ConsoleDeps:
    sessions: sessionmaker[Session]
    clock: Clock
    notifier: CaseNotifier
    settings: ConsoleSettings
    # domain.notify.Notifier: what the resources, volunteers and meetings pages tell people on LINE.
    news: Any = None


def init_app(app: Flask, deps: ConsoleDeps) -> None:
    """Mount the console on an app: sessions, login, CSRF, security headers, the pages."""
    from console import auth, views
    from console import insights_views, meetings_views, resources_views, review_views, volunteers_views
    from console.blueprint import bp, setup_app

    del auth, views  # imported for their routes on bp
    del insights_views, meetings_views, resources_views, review_views, volunteers_views
    setup_app(app, deps)
    app.register_blueprint(bp)

"""The blueprint, its per-request database session, login manager, CSRF and security headers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, abort, current_app, g, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import Session

from domain import staff
from domain.categories import CATEGORIES, CATEGORY_CODES, label as category_label
from domain.clock import TOKYO
from domain.models import Person
from domain.scope import Scope, scope_of

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")
csrf = CSRFProtect()
login_manager = LoginManager()
PUBLIC_ENDPOINTS = {"console.login", "console.login_line", "console.login_callback", "console.static"}
WEEKDAYS = "月火水木金土日"


class ConsoleUser:
    """The logged-in coordinator as Flask-Login sees them: the id is the console session token."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, token: str, person: Person):
        self.token = token
        self.person_id = person.id
        self.display_name = person.display_name or ""

    def get_id(self) -> str:
        return self.token


def deps():
    return current_app.extensions["sasaeai.console"]


def db() -> Session:
    """This request's database session (committed when the request ends without error)."""
    if "console_db" not in g:
        g.console_db = deps().sessions()
    return g.console_db


def now() -> datetime:
    return deps().clock.now()


def me() -> Person:
    person = db().get(Person, current_user.person_id)
    if person is None:
        abort(403)
    return person


def scope() -> Scope:
    """The scope of the logged-in coordinator: every page and action goes through it."""
    if "console_scope" not in g:
        g.console_scope = scope_of(db(), me())
    return g.console_scope


@login_manager.user_loader
def _load_user(token: str) -> ConsoleUser | None:
    person = staff.resume_session(db(), token, now(), deps().settings.idle)
    return ConsoleUser(token, person) if person is not None else None


@login_manager.unauthorized_handler
def _unauthorized():
    return redirect(url_for("console.login", next=request.full_path if request.method == "GET" else None))


@bp.before_request
def _require_login():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.method == "POST":
        csrf.protect()
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.after_request
def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    if request.endpoint != "console.static":
        headers["Cache-Control"] = "no-store"
    if deps().settings.secure_cookies:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


@bp.errorhandler(CSRFError)
def _csrf_error(_exc):
    return render_template("console/error.html", code=400, key="csrf"), 400


@bp.app_template_filter("tokyo")
def _tokyo(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(TOKYO)
    return f"{local.month}月{local.day}日({WEEKDAYS[local.weekday()]}) {local:%H:%M}"


@bp.app_template_filter("category")
def _category(code: str | None) -> str:
    return category_label(code) if code else "—"


def _teardown(exc: BaseException | None) -> None:
    session = g.pop("console_db", None)
    if session is None:
        return
    try:
        if exc is None:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


def setup_app(app: Flask, console_deps: Any) -> None:
    settings = console_deps.settings
    app.extensions["sasaeai.console"] = console_deps
    app.secret_key = settings.secret_key
    app.config.update(
        SESSION_COOKIE_NAME="sasaeai_console",
        SESSION_COOKIE_PATH="/console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=settings.idle,
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_CHECK_DEFAULT=False,  # only the console's forms: the LINE webhook is signed instead
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.teardown_request(_teardown)

    @app.context_processor
    def _globals():
        return {"CATEGORY_CODES": [c for c in CATEGORY_CODES if c in CATEGORIES]}

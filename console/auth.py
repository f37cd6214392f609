"""LINE Login for the console: OpenID Connect, authorization code with PKCE, through Authlib.

The ID token is verified here as LINE's must be: HS256 signed with the LINE Login channel's
secret, issuer https://access.line.me, audience the channel id, not expired, and the nonce of
this login. Its `sub` is the LINE user id (the same as on the Messaging API when both channels
belong to one provider); only an active person holding the coordinator role gets a session.
"""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import structlog
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from flask import redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from requests import RequestException

from console.blueprint import ConsoleUser, bp, db, deps, now
from domain import escalation as esc
from domain import staff
from domain.people import find_by_line_id

log = structlog.get_logger(__name__)

ISSUER = "https://access.line.me"
SCOPE = "openid profile"
PENDING = "console_login"


def _settings():
    return deps().settings


def callback_url() -> str:
    public = _settings().public_url
    if public:
        return public.rstrip("/") + "/login/callback"
    return url_for("console.login_callback", _external=True)


def _client() -> OAuth2Session:
    s = _settings()
    return OAuth2Session(s.login_channel_id, s.login_channel_secret, scope=SCOPE, redirect_uri=callback_url(),
                         code_challenge_method="S256", token_endpoint_auth_method="client_secret_post")


def _safe_next(target: str | None) -> str:
    """Only a path inside the console (no open redirect)."""
    if target and target.startswith("/console") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("console.home")


@bp.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("console.home"))
    configured = bool(_settings().login_channel_id and _settings().login_channel_secret)
    return render_template("console/login.html", configured=configured, next=request.args.get("next", ""),
                           error=request.args.get("error", ""))


@bp.get("/login/line")
def login_line():
    """Start LINE Login: state, nonce and a PKCE verifier kept in the signed session."""
    verifier = generate_token(64)
    nonce = secrets.token_urlsafe(24)
    url, state = _client().create_authorization_url(_settings().authorize_url, code_verifier=verifier, nonce=nonce)
    session[PENDING] = {"state": state, "verifier": verifier, "nonce": nonce,
                        "next": _safe_next(request.args.get("next"))}
    return redirect(url, code=302)


def verify_id_token(id_token: str, nonce: str) -> dict:
    """The claims of a LINE ID token, or JoseError."""
    s = _settings()
    token = jwt.decode(id_token, OctKey.import_key(s.login_channel_secret), algorithms=["HS256"])
    registry = jwt.JWTClaimsRegistry(
        now=lambda: int(now().timestamp()), leeway=60,
        iss={"essential": True, "value": ISSUER}, aud={"essential": True, "value": s.login_channel_id},
        sub={"essential": True}, exp={"essential": True}, nonce={"essential": True, "value": nonce})
    registry.validate(token.claims)
    return token.claims


def _refuse(key: str, status: int = 403):
    return render_template("console/login.html", configured=True, next="", error=key), status


@bp.get("/login/callback")
def login_callback():
    pending = session.pop(PENDING, None)
    if pending is None or not secrets.compare_digest(request.args.get("state", ""), pending["state"]):
        return _refuse("state", 400)
    if request.args.get("error"):
        return _refuse("cancelled", 400)
    code = request.args.get("code", "")
    if not code:
        return _refuse("state", 400)
    token_url = _settings().token_url
    try:
        token = _client().fetch_token(token_url, grant_type="authorization_code", code=code,
                                      code_verifier=pending["verifier"], timeout=_settings().http_timeout)
        claims = verify_id_token(token.get("id_token", ""), pending["nonce"])
    except (JoseError, ValueError) as exc:
        log.warning("console.login_bad_token", error=type(exc).__name__)
        return _refuse("token", 400)
    except (RequestException, Exception) as exc:  # the token endpoint refused or did not answer
        log.warning("console.login_token_failed", error=type(exc).__name__)
        return _refuse("token", 502)
    person = find_by_line_id(db(), str(claims["sub"]))
    if not staff.may_use_console(person):
        esc.audit(db(), now(), "console_login_refused", actor=person)
        log.warning("console.login_refused", person_id=person.id if person else None)
        return _refuse("not_coordinator", 403)
    session.clear()
    session.permanent = True
    console_token = staff.start_session(db(), person, now())
    login_user(ConsoleUser(console_token, person))
    return redirect(pending["next"], code=302)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        staff.end_session(db(), current_user.get_id(), now())
    logout_user()
    session.clear()
    return redirect(url_for("console.login"))

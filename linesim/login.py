"""LINE Login v2.1 in the simulator: authorize, token, verify — OpenID Connect as LINE does it.

- ``GET /oauth2/v2.1/authorize`` checks the request (``response_type=code``, the channel id, a
  redirect URI, ``state``, ``scope`` with ``openid``, PKCE ``S256`` when a challenge is sent) and
  shows a page to pick one of the simulated users (LINE would show its login and consent screen).
- ``POST /oauth2/v2.1/authorize`` (the page's buttons) issues a one-time code and redirects to the
  redirect URI with ``code`` and ``state`` — or ``error=access_denied`` when cancelled.
- ``POST /oauth2/v2.1/token`` exchanges the code (form-encoded: grant_type, code, redirect_uri,
  client_id, client_secret, code_verifier) for an access token and an **ID token signed with
  HS256 and the channel secret**, as LINE signs the ID tokens of web logins. Its ``sub`` is the
  simulated user's id — the same id the Messaging API uses, as for channels of one provider.
- ``POST /oauth2/v2.1/verify`` (``id_token``, ``client_id``, optional ``nonce``) answers the
  claims or ``400 invalid_request``, like LINE's verify endpoint.

Codes live 10 minutes and are good once; errors use LINE's ``{"error", "error_description"}``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, jsonify, redirect, render_template, request

ISSUER = "https://access.line.me"
CODE_TTL = 600.0
ID_TOKEN_TTL = 3600
ACCESS_TOKEN_TTL = 2_592_000  # 30 days, as LINE


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    user_id: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    issued_at: float


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def sign_id_token(claims: dict[str, Any], secret: str) -> str:
    header = {"typ": "JWT", "alg": "HS256"}
    signing_input = ".".join(_b64url(json.dumps(part, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
                             for part in (header, claims))
    signature = hmac.new(secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def read_id_token(token: str, secret: str) -> dict[str, Any] | None:
    """The claims of a token this simulator signed, or None if the signature is wrong."""
    try:
        head, body, signature = token.split(".")
        expected = hmac.new(secret.encode("utf-8"), f"{head}.{body}".encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _b64url_decode(signature)):
            return None
        return json.loads(_b64url_decode(body))
    except (ValueError, UnicodeDecodeError):
        return None


def register_login(app: Flask, state: Any, channel_id: str, channel_secret: str) -> None:
    """Add LINE Login's endpoints for one LINE Login channel to a simulator app."""
    grants: dict[str, Grant] = {}
    lock = threading.Lock()
    app.extensions["linesim.login"] = {"channel_id": channel_id, "grants": grants}

    def oauth_error(status: int, error: str, description: str) -> Response:
        response = jsonify({"error": error, "error_description": description})
        response.status_code = status
        return response

    def page_error(message: str) -> Response:
        return Response(render_template("login_error.html", message=message), status=400,
                        mimetype="text/html")

    def checked_request(args) -> tuple[dict[str, str] | None, Response | None]:
        params = {k: args.get(k, "") for k in ("response_type", "client_id", "redirect_uri", "state", "scope",
                                                "nonce", "code_challenge", "code_challenge_method")}
        if params["client_id"] != channel_id:
            return None, page_error("client_id がこのチャネルのチャネルIDと一致しません。")
        redirect_uri = params["redirect_uri"]
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            return None, page_error("redirect_uri が正しくありません。")
        if params["response_type"] != "code":
            return None, page_error("response_type は code だけが使えます。")
        if not params["state"]:
            return None, page_error("state がありません。")
        if "openid" not in params["scope"].split():
            return None, page_error("scope に openid がありません。")
        if params["code_challenge"] and params["code_challenge_method"] != "S256":
            return None, page_error("code_challenge_method は S256 だけが使えます。")
        return params, None

    @app.get("/oauth2/v2.1/authorize")
    def login_authorize_page():
        params, problem = checked_request(request.args)
        if problem is not None:
            return problem
        with state.lock:
            users = [u.public() for u in state.users.values()]
        return render_template("login.html", params=params, users=users)

    @app.post("/oauth2/v2.1/authorize")
    def login_authorize_choice():
        params, problem = checked_request(request.form)
        if problem is not None:
            return problem
        separator = "&" if "?" in params["redirect_uri"] else "?"
        if request.form.get("cancel"):
            query = urlencode({"error": "access_denied", "error_description": "The user has denied the request",
                               "state": params["state"]})
            return redirect(f"{params['redirect_uri']}{separator}{query}", code=302)
        user_id = request.form.get("userId", "")
        with state.lock:
            if user_id not in state.users:
                return page_error("そのユーザーはいません。")
        code = secrets.token_urlsafe(24)
        with lock:
            grants[code] = Grant(channel_id, params["redirect_uri"], user_id, params["scope"],
                                 params["nonce"] or None, params["code_challenge"] or None, state.now())
        query = urlencode({"code": code, "state": params["state"]})
        return redirect(f"{params['redirect_uri']}{separator}{query}", code=302)

    @app.post("/oauth2/v2.1/token")
    def login_token():
        form = request.form
        if form.get("grant_type") != "authorization_code":
            return oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code")
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        auth = request.authorization  # client_secret_basic is accepted too
        if auth is not None and auth.type == "basic":
            client_id, client_secret = auth.username or "", auth.password or ""
        if client_id != channel_id or not hmac.compare_digest(client_secret.encode(), channel_secret.encode()):
            return oauth_error(400, "invalid_client", "invalid client_id or client_secret")
        with lock:
            grant = grants.pop(form.get("code", ""), None)
        if grant is None or state.now() - grant.issued_at > CODE_TTL:
            return oauth_error(400, "invalid_grant", "invalid authorization code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return oauth_error(400, "invalid_grant", "redirect_uri does not match")
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            computed = _b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
            if not verifier or not hmac.compare_digest(computed, grant.code_challenge):
                return oauth_error(400, "invalid_grant", "code_verifier does not match")
        with state.lock:
            user = state.users.get(grant.user_id)
            name = user.displayName if user else ""
        now = int(state.now())
        claims: dict[str, Any] = {"iss": ISSUER, "sub": grant.user_id, "aud": channel_id, "exp": now + ID_TOKEN_TTL,
                                  "iat": now, "amr": ["linesso"]}
        if grant.nonce:
            claims["nonce"] = grant.nonce
        if "profile" in grant.scope.split():
            claims["name"] = name
        return jsonify({"access_token": secrets.token_urlsafe(32), "expires_in": ACCESS_TOKEN_TTL,
                        "id_token": sign_id_token(claims, channel_secret),
                        "refresh_token": secrets.token_urlsafe(24), "scope": grant.scope,
                        "token_type": "Bearer"})

    @app.post("/oauth2/v2.1/verify")
    def login_verify():
        form = request.form
        if form.get("id_token") and form.get("client_id"):
            claims = read_id_token(form["id_token"], channel_secret)
            if claims is None:
                return oauth_error(400, "invalid_request", "Invalid IdToken.")
            if claims.get("aud") != form["client_id"]:
                return oauth_error(400, "invalid_request", "Invalid IdToken Audience.")
            if claims.get("exp", 0) < state.now():
                return oauth_error(400, "invalid_request", "IdToken expired.")
            if form.get("nonce") and claims.get("nonce") != form["nonce"]:
                return oauth_error(400, "invalid_request", "Invalid IdToken Nonce.")
            return jsonify(claims)
        return oauth_error(400, "invalid_request", "id_token and client_id are required")

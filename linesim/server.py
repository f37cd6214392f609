"""The LINE platform simulator: Messaging API, webhook sender, control API and chat page.

It is a product for developers, not a mock: it answers like LINE and refuses
what LINE refuses (limits, reply tokens, retry keys), so a bot that works here
has already met the platform's rules. See linesim/README.md for the control API.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
import socket
import time
import uuid
from typing import Any, Callable

from flask import Flask, Response, abort, jsonify, render_template, request

from . import validation, webhook
from .login import register_login
from .state import FAULT_ENDPOINTS, AcceptedKey, Clock, SimState, SystemClock

AUTH_FAILED = ("Authentication failed. Confirm that the access token in the authorization "
               "header is valid.")
AUTH_MISSING = ("Authorization header required. Must follow the scheme, "
                "'Authorization: Bearer <ACCESS TOKEN>'")
RETRY_KEY_ENDPOINTS = ("push", "multicast")  # (and narrowcast, broadcast: not simulated)
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_RICH_MENUS = 1000  # per channel, as LINE documents
# A 1x1 grey PNG, served as the content of images the simulated users send.
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6368686800000304010181d5a2d80000000049454e44ae426082")


def create_app(channel_secret: str, access_token: str | None, webhook_url: str | None = None, *,
               reply_token_ttl: float = 60.0, clock: Clock | None = None,
               bot_display_name: str = "sasaeai (simulator)", channel_id: str | None = None,
               login_channel_id: str = "1000000001", login_channel_secret: str | None = None) -> Flask:
    """Build a simulator with its own in-memory state.

    ``clock`` follows domain.clock.Clock (``now() -> aware datetime``); pass a
    FixedClock to make reply-token expiry and timestamps deterministic, and the
    control API will then expose ``POST /_sim/clock/advance``.

    LINE Login (linesim/login.py) serves one LINE Login channel: ``login_channel_id`` and
    ``login_channel_secret`` (by default the Messaging API channel's secret).
    """
    app = Flask(__name__)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    state = SimState(clock=clock or SystemClock(), webhook_url=webhook_url,
                     channel_secret=channel_secret)
    app.extensions["linesim"] = state
    ttl = float(reply_token_ttl)
    # The channel id the OAuth endpoint expects with the secret (stable for a given secret).
    channel_id = channel_id or str(int(hashlib.sha256(channel_secret.encode()).hexdigest()[:12], 16) % 10**10)
    state.channel_id = channel_id

    def line_error(status: int, message: str, details: list | None = None,
                   headers: dict | None = None, **extra: Any) -> Response:
        body: dict[str, Any] = {"message": message}
        if details:
            body["details"] = details
        body.update(extra)
        response = jsonify(body)
        response.status_code = status
        for key, value in (headers or {}).items():
            response.headers[key] = value
        return response

    # ------------------------------------------------------------------ Messaging API
    def messaging_endpoint(endpoint: str, handler: Callable[[dict, dict], Response], *,
                           raw_body: bool = False) -> Response:
        """Common pipeline: auth, faults, retry key, JSON, validation, then the handler.

        The order mirrors what a client can observe from LINE: authentication is
        checked first; a platform failure (5xx/429) happens before the body is
        looked at; only an accepted request records its retry key. With ``raw_body``
        the handler reads (and validates) the body itself: rich menus, images.
        """
        request_id = str(uuid.uuid4())
        entry: dict[str, Any] = {"seq": state.next_seq(), "at": state.now_iso(),
                                 "method": request.method, "path": request.path,
                                 "endpoint": endpoint, "requestId": request_id,
                                 "retryKey": request.headers.get("X-Line-Retry-Key")}
        response = _pipeline(endpoint, handler, entry, raw_body)
        response.headers["x-line-request-id"] = request_id
        entry["status"] = response.status_code
        with state.lock:
            state.requests.append(entry)
        if entry.get("fault") == "drop_after_accept":
            entry["dropped"] = _drop_connection()
        return response

    def _pipeline(endpoint: str, handler: Callable[[dict, dict], Response],
                  entry: dict[str, Any], raw_body: bool = False) -> Response:
        auth = request.headers.get("Authorization", "")
        if not auth:
            return line_error(401, AUTH_MISSING)
        given = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        if given is None or not ((access_token and given == access_token) or state.token_valid(given)):
            return line_error(401, AUTH_FAILED)
        for fault in state.take_faults(endpoint, ("latency",), first_only=False):
            time.sleep(fault.ms / 1000.0)
        for fault in state.take_faults(endpoint, ("status", "monthly_quota"), first_only=True):
            entry["fault"] = fault.kind
            if fault.kind == "monthly_quota":
                return line_error(429, "You have reached your monthly limit.")
            headers = {"Retry-After": _fmt_seconds(fault.retryAfter)} if fault.retryAfter else None
            message = "Too many requests" if fault.status == 429 else _status_message(fault.status)
            return line_error(fault.status, message, headers=headers)
        if request.method == "GET":
            return handler({}, entry)
        retry_key = request.headers.get("X-Line-Retry-Key")
        if retry_key is not None:
            if endpoint not in RETRY_KEY_ENDPOINTS:
                return line_error(400, "The retry key cannot be specified for this endpoint")
            if not UUID_RE.match(retry_key):
                return line_error(400, "The value of the X-Line-Retry-Key header must be a UUID")
        if raw_body:
            return handler({}, entry)
        try:
            body = json.loads(request.get_data(as_text=False) or b"null")
        except (ValueError, UnicodeDecodeError):
            return line_error(400, "The request body has 1 error(s)",
                              [{"message": "Invalid JSON", "property": ""}])
        details = {"reply": validation.validate_reply, "push": validation.validate_push,
                   "multicast": validation.validate_multicast}[endpoint](body)
        if details:
            return line_error(400, f"The request body has {len(details)} error(s)", details)
        entry["messages"] = len(body["messages"])
        return handler(body, entry)

    def _drop_connection() -> bool:
        """Close the TCP connection without answering (the request was already accepted).

        The server (werkzeug's or gunicorn's) then fails to write the response and drops it
        quietly, so the client sees a connection error, as after a network failure at LINE's edge.
        """
        sock = request.environ.get("werkzeug.socket") or request.environ.get("gunicorn.socket")
        if sock is None:
            app.logger.warning("drop_after_accept needs the werkzeug or gunicorn server; answered normally")
            return False
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return True

    def accept_with_retry_key(endpoint: str, entry: dict[str, Any],
                              send: Callable[[], dict[str, Any]]) -> Response:
        """Deliver once per retry key; a repeat gets 409 with the first request's id."""
        key = request.headers.get("X-Line-Retry-Key")
        with state.lock:
            if key is not None:
                accepted = state.accepted_key(key)
                if accepted is not None:
                    extra = {"sentMessages": accepted.sentMessages} if accepted.sentMessages else {}
                    entry["conflict"] = True
                    return line_error(409, "The retry key is already accepted",
                                      headers={"x-line-accepted-request-id": accepted.requestId},
                                      **extra)
            result = send()
            if isinstance(result, Response):  # refused (monthly limit): the key stays unused
                entry["fault"] = "monthly_limit"
                return result
            if key is not None:
                state.retry_keys[key] = AcceptedKey(entry["requestId"], state.now(),
                                                    result.get("sentMessages"))
            _maybe_drop(endpoint, entry)
        return jsonify(result)

    def _maybe_drop(endpoint: str, entry: dict[str, Any]) -> None:
        if state.take_faults(endpoint, ("drop_after_accept",), first_only=True):
            entry["fault"] = "drop_after_accept"
            entry["dropped"] = True

    @app.post("/v2/bot/message/reply")
    def reply():
        def handle(body: dict, entry: dict) -> Response:
            with state.lock:
                entry["replyToken"] = body["replyToken"]
                token = state.use_reply_token(body["replyToken"], ttl)
                if token is None:
                    return line_error(400, "Invalid reply token")
                entry["recipients"] = 1
                entry["userId"] = token.userId
                sent = state.sent_messages(body["messages"])
                entry["delivered"] = state.deliver(token.userId, "reply", body["messages"],
                                                   entry["requestId"], sent)
                _maybe_drop("reply", entry)
            return jsonify({"sentMessages": sent})
        return messaging_endpoint("reply", handle)

    @app.post("/v2/bot/message/push")
    def push():
        def handle(body: dict, entry: dict) -> Response:
            def send() -> dict[str, Any] | Response:
                if state.over_quota(1):
                    return line_error(429, "You have reached your monthly limit.")
                state.count_usage(1)
                entry["recipients"] = 1
                entry["userId"] = body["to"]
                sent = state.sent_messages(body["messages"])
                entry["delivered"] = state.deliver(body["to"], "push", body["messages"],
                                                   entry["requestId"], sent)
                return {"sentMessages": sent}
            return accept_with_retry_key("push", entry, send)
        return messaging_endpoint("push", handle)

    @app.post("/v2/bot/message/multicast")
    def multicast():
        def handle(body: dict, entry: dict) -> Response:
            def send() -> dict[str, Any] | Response:
                recipients = list(dict.fromkeys(body["to"]))  # LINE sends once per distinct id
                if state.over_quota(len(recipients)):
                    return line_error(429, "You have reached your monthly limit.")
                state.count_usage(len(recipients))
                entry["recipients"] = len(recipients)
                for uid in recipients:
                    state.deliver(uid, "multicast", body["messages"], entry["requestId"],
                                  state.sent_messages(body["messages"]))
                return {}
            return accept_with_retry_key("multicast", entry, send)
        return messaging_endpoint("multicast", handle)

    @app.get("/v2/bot/message/quota")
    def message_quota():
        def handle(_body: dict, _entry: dict) -> Response:
            with state.lock:
                if state.monthly_limit is None:
                    return jsonify({"type": "none"})
                return jsonify({"type": "limited", "value": state.monthly_limit})
        return messaging_endpoint("quota", handle)

    @app.get("/v2/bot/message/quota/consumption")
    def message_quota_consumption():
        def handle(_body: dict, _entry: dict) -> Response:
            return jsonify({"totalUsage": state.usage_this_month()})
        return messaging_endpoint("quota", handle)

    # ------------------------------------------------------------------ channel access tokens
    @app.post("/oauth2/v3/token")
    def issue_stateless_token():
        """Stateless channel access token from the channel id and secret (form-encoded)."""
        entry: dict[str, Any] = {"seq": state.next_seq(), "at": state.now_iso(), "method": "POST",
                                 "path": request.path, "endpoint": "oauth", "requestId": str(uuid.uuid4())}

        def answer() -> Response:
            for fault in state.take_faults("oauth", ("status",), first_only=True):
                entry["fault"] = fault.kind
                return line_error(fault.status, _status_message(fault.status))
            form = request.form
            if form.get("grant_type") != "client_credentials":
                return oauth_error("unsupported_grant_type", "grant_type must be client_credentials")
            if form.get("client_assertion"):
                return oauth_error("invalid_request", "JWT assertions are not simulated; use the channel secret")
            if form.get("client_id") != channel_id or form.get("client_secret") != channel_secret:
                return oauth_error("invalid_client", "invalid client_id or client_secret")
            token, lifetime = state.issue_stateless_token()
            return jsonify({"token_type": "Bearer", "access_token": token, "expires_in": lifetime})

        response = answer()
        entry["status"] = response.status_code
        with state.lock:
            state.requests.append(entry)
        return response

    def oauth_error(error: str, description: str) -> Response:
        response = jsonify({"error": error, "error_description": description})
        response.status_code = 400
        return response

    @app.get("/v2/bot/profile/<user_id>")
    def profile(user_id: str):
        def handle(_body: dict, _entry: dict) -> Response:
            with state.lock:
                user = state.users.get(user_id)
                if user is None or not user.following:
                    return line_error(404, "Not found")
                return jsonify(user.profile())
        return messaging_endpoint("profile", handle)

    @app.get("/v2/bot/info")
    def bot_info():
        def handle(_body: dict, _entry: dict) -> Response:
            return jsonify({"userId": state.bot_user_id, "basicId": "@" + state.bot_user_id[1:9],
                            "displayName": bot_display_name, "chatMode": "bot",
                            "markAsReadMode": "auto"})
        return messaging_endpoint("info", handle)

    @app.get("/v2/bot/message/<message_id>/content")
    def message_content(message_id: str):
        def handle(_body: dict, _entry: dict) -> Response:
            if message_id not in state.media:
                return line_error(404, "Not found")
            return Response(PIXEL_PNG, mimetype=state.media[message_id])
        return messaging_endpoint("content", handle)

    # ------------------------------------------------------------------ rich menus
    def richmenu_endpoint(handler: Callable[[], Response]) -> Response:
        return messaging_endpoint("richmenu", lambda _body, _entry: handler(), raw_body=True)

    def richmenu_json() -> tuple[Any, Response | None]:
        try:
            return json.loads(request.get_data(as_text=False) or b"null"), None
        except (ValueError, UnicodeDecodeError):
            return None, line_error(400, "The request body has 1 error(s)",
                                    [{"message": "Invalid JSON", "property": ""}])

    def checked_richmenu() -> tuple[dict | None, Response | None]:
        body, error = richmenu_json()
        if error is not None:
            return None, error
        details = validation.validate_richmenu(body)
        if details:
            return None, line_error(400, f"The request body has {len(details)} error(s)", details)
        return body, None

    def richmenu_response(body: dict, richmenu_id: str) -> dict[str, Any]:
        """The rich menu response object: the request's fields, in LINE's order, plus the id."""
        return {"richMenuId": richmenu_id, "size": body["size"], "selected": body["selected"],
                "name": body["name"], "chatBarText": body["chatBarText"],
                "areas": body["areas"]}

    @app.post("/v2/bot/richmenu")
    def create_richmenu():
        def handle() -> Response:
            body, error = checked_richmenu()
            if error is not None:
                return error
            richmenu_id = "richmenu-" + secrets.token_hex(16)
            with state.lock:
                if len(state.richmenus) >= MAX_RICH_MENUS:
                    return line_error(400, "The number of rich menus has reached the limit "
                                           f"({MAX_RICH_MENUS})")
                state.richmenus[richmenu_id] = richmenu_response(body, richmenu_id)
            return jsonify({"richMenuId": richmenu_id})
        return richmenu_endpoint(handle)

    @app.post("/v2/bot/richmenu/validate")
    def validate_richmenu():
        def handle() -> Response:
            _body, error = checked_richmenu()
            return error if error is not None else jsonify({})
        return richmenu_endpoint(handle)

    @app.get("/v2/bot/richmenu/list")
    def list_richmenus():
        def handle() -> Response:
            with state.lock:
                return jsonify({"richmenus": list(state.richmenus.values())})
        return richmenu_endpoint(handle)

    @app.route("/v2/bot/richmenu/<richmenu_id>", methods=["GET", "DELETE"])
    def one_richmenu(richmenu_id: str):
        def handle() -> Response:
            with state.lock:
                menu = state.richmenus.get(richmenu_id)
                if menu is None:
                    return line_error(404, "Not found")
                if request.method == "DELETE":
                    state.delete_richmenu(richmenu_id)
                    return jsonify({})
                return jsonify(menu)
        return richmenu_endpoint(handle)

    @app.route("/v2/bot/richmenu/<richmenu_id>/content", methods=["GET", "POST"])
    def richmenu_content(richmenu_id: str):
        def handle() -> Response:
            with state.lock:
                menu = state.richmenus.get(richmenu_id)
                image = state.richmenu_images.get(richmenu_id)
            if menu is None:
                return line_error(404, "Not found")
            if request.method == "GET":
                if image is None:
                    return line_error(404, "Not found")
                return Response(image[1], mimetype=image[0])
            return upload_richmenu_image(richmenu_id, menu, image is not None)
        return richmenu_endpoint(handle)

    def upload_richmenu_image(richmenu_id: str, menu: dict, has_image: bool) -> Response:
        content_type = (request.mimetype or "").lower()
        if content_type not in validation.RICH_MENU_IMAGE_TYPES:
            return line_error(415, "Unsupported media type")
        if has_image:
            # LINE never replaces a rich menu's image: make a new menu instead.
            return line_error(400, "An image has already been uploaded to the richmenu")
        data = request.get_data(cache=False)
        if len(data) > validation.RICH_MENU_IMAGE_MAX_BYTES:
            return line_error(400, "The image must be at most 1 MB "
                                   f"({validation.RICH_MENU_IMAGE_MAX_BYTES} bytes)")
        info = validation.image_size(data)
        if info is None or info[0] != content_type:
            return line_error(400, "Invalid image: the body is not a "
                                   f"{content_type.split('/')[1].upper()} image")
        want = (menu["size"]["width"], menu["size"]["height"])
        if info[1:] != want:
            return line_error(400, f"The image size ({info[1]}x{info[2]}) must be the rich "
                                   f"menu's size ({want[0]}x{want[1]})")
        with state.lock:
            if richmenu_id not in state.richmenus:
                return line_error(404, "Not found")
            if richmenu_id in state.richmenu_images:
                return line_error(400, "An image has already been uploaded to the richmenu")
            state.richmenu_images[richmenu_id] = (content_type, data)
        return jsonify({})

    def applicable_richmenu(richmenu_id: str) -> Response | None:
        """Why a menu cannot be shown to users yet, or None (the lock is held)."""
        if richmenu_id not in state.richmenus:
            return line_error(404, "Not found")
        if richmenu_id not in state.richmenu_images:
            return line_error(400, "must upload richmenu image before applying it to user")
        return None

    @app.post("/v2/bot/user/all/richmenu/<richmenu_id>")
    def set_default_richmenu(richmenu_id: str):
        def handle() -> Response:
            with state.lock:
                problem = applicable_richmenu(richmenu_id)
                if problem is not None:
                    return problem
                state.default_richmenu = richmenu_id
            return jsonify({})
        return richmenu_endpoint(handle)

    @app.route("/v2/bot/user/all/richmenu", methods=["GET", "DELETE"])
    def default_richmenu():
        def handle() -> Response:
            with state.lock:
                if request.method == "DELETE":
                    state.default_richmenu = None
                    return jsonify({})
                if state.default_richmenu is None:
                    return line_error(404, "no default richmenu")
                return jsonify({"richMenuId": state.default_richmenu})
        return richmenu_endpoint(handle)

    @app.post("/v2/bot/user/<user_id>/richmenu/<richmenu_id>")
    def link_user_richmenu(user_id: str, richmenu_id: str):
        def handle() -> Response:
            if not validation.USER_ID_RE.match(user_id):
                return line_error(400, "The value for the 'userId' parameter is invalid")
            with state.lock:
                problem = applicable_richmenu(richmenu_id)
                if problem is not None:
                    return problem
                state.user_richmenus[user_id] = richmenu_id
            return jsonify({})
        return richmenu_endpoint(handle)

    @app.route("/v2/bot/user/<user_id>/richmenu", methods=["GET", "DELETE"])
    def user_richmenu(user_id: str):
        def handle() -> Response:
            if not validation.USER_ID_RE.match(user_id):
                return line_error(400, "The value for the 'userId' parameter is invalid")
            with state.lock:
                if request.method == "DELETE":
                    state.user_richmenus.pop(user_id, None)
                    return jsonify({})
                linked = state.user_richmenus.get(user_id)
                if linked is None:
                    return line_error(404, "the user has no richmenu")
                return jsonify({"richMenuId": linked})
        return richmenu_endpoint(handle)

    # ------------------------------------------------------------------ control API
    def bad(message: str, status: int = 400) -> Response:
        response = jsonify({"error": message})
        response.status_code = status
        return response

    def json_body() -> dict[str, Any]:
        body = request.get_json(silent=True)
        if body is None and request.get_data():
            abort(bad("body must be JSON"))
        if body is not None and not isinstance(body, dict):
            abort(bad("body must be a JSON object"))
        return body or {}

    @app.get("/_sim/config")
    def get_config():
        return jsonify({"webhookUrl": state.webhook_url, "botUserId": state.bot_user_id,
                        "botDisplayName": bot_display_name, "replyTokenTtl": ttl,
                        "channelId": channel_id, "monthlyLimit": state.monthly_limit,
                        "totalUsage": state.usage_this_month(),
                        "clockControllable": hasattr(state.clock, "advance"),
                        "now": state.now_iso()})

    @app.put("/_sim/config")
    def put_config():
        body = json_body()
        if "webhookUrl" in body:
            url = body["webhookUrl"]
            if url is not None and not (isinstance(url, str) and re.match(r"^https?://", url)):
                return bad("webhookUrl must be an http(s) URL or null")
            state.webhook_url = url
        if "monthlyLimit" in body:
            limit = body["monthlyLimit"]
            if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
                return bad("monthlyLimit must be a non-negative integer or null")
            state.monthly_limit = limit
        return get_config()

    @app.post("/_sim/users")
    def create_user():
        body = json_body()
        uid = body.get("userId")
        if uid is not None and not (isinstance(uid, str) and validation.USER_ID_RE.match(uid)):
            return bad("userId must be 'U' followed by 32 lowercase hex digits")
        name = body.get("displayName")
        if name is not None and not isinstance(name, str):
            return bad("displayName must be a string")
        try:
            user = state.add_user(name, uid, bool(body.get("following", False)))
        except KeyError:
            return bad("user already exists", 409)
        return jsonify(user.public()), 201

    @app.get("/_sim/users")
    def list_users():
        with state.lock:
            return jsonify({"users": [u.public() for u in state.users.values()]})

    @app.get("/_sim/users/<uid>")
    def get_user(uid: str):
        with state.lock:
            user = state.users.get(uid)
            return jsonify(user.public()) if user else bad("unknown user", 404)

    @app.get("/_sim/users/<uid>/messages")
    def user_messages(uid: str):
        after = request.args.get("after", 0, type=int)
        include_undelivered = request.args.get("all") in ("1", "true")
        with state.lock:
            entries = [
                {k: e[k] for k in ("seq", "via", "message", "at", "id", "requestId", "delivered")}
                for e in state.transcripts.get(uid, [])
                if e["direction"] == "bot" and e["seq"] > after
                and (e["delivered"] or include_undelivered)]
        return jsonify({"userId": uid, "messages": entries})

    @app.get("/_sim/users/<uid>/conversation")
    def user_conversation(uid: str):
        """Both directions, for the chat page."""
        after = request.args.get("after", 0, type=int)
        with state.lock:
            user = state.users.get(uid)
            entries = [e for e in state.transcripts.get(uid, []) if e["seq"] > after]
            return jsonify({"user": user.public() if user else None, "entries": entries})

    @app.post("/_sim/users/<uid>/events")
    def send_event(uid: str):
        spec = json_body()
        with state.lock:
            user = state.users.get(uid)
            if user is None:
                return bad("unknown user; create it with POST /_sim/users", 404)
            kind = spec.get("type")
            if kind not in webhook.EVENT_KINDS:
                return bad(f"type must be one of {webhook.EVENT_KINDS}")
            if kind == "follow" and user.following:
                return bad("the user is already a friend of the bot", 409)
            if kind != "follow" and not user.following:
                return bad("the user is not a friend of the bot (blocked or never followed); "
                           "send a follow event first", 409)
            if kind == "follow":
                spec = {**spec, "isUnblocked": user.everBlocked}
            message_id = state.next_message_id()
            try:
                event = webhook.build_event(spec, user_id=uid, timestamp_s=state.now(),
                                            message_id=message_id,
                                            quote_token=secrets.token_urlsafe(48))
            except webhook.EventError as exc:
                return bad(str(exc))
            if webhook.takes_reply_token(event):
                event["replyToken"] = state.issue_reply_token(uid, event["webhookEventId"])
            if kind == "follow":
                user.following = True
            elif kind == "unfollow":
                user.following = False
                user.everBlocked = True
            if kind == "image":
                state.media[message_id] = "image/png"
            state.events[event["webhookEventId"]] = event
            entry = state.record(uid, {"direction": "user", "event": event,
                                       "displayText": spec.get("displayText")})
        outcome = dispatch([event])
        with state.lock:
            entry["webhook"] = outcome
        return jsonify({"webhookEventId": event["webhookEventId"],
                        "replyToken": event.get("replyToken"), **outcome})

    def dispatch(events: list[dict[str, Any]]) -> dict[str, Any]:
        """Sign and POST events to the bot; the lock is not held (the bot calls back)."""
        url = state.webhook_url
        if not url:
            return {"status": None, "body": None, "error": "no webhook URL configured"}
        body = webhook.encode_body(state.bot_user_id, events)
        return webhook.post(url, body, webhook.sign(channel_secret, body))

    @app.post("/_sim/events/<event_id>/redeliver")
    def redeliver(event_id: str):
        with state.lock:
            original = state.events.get(event_id)
            if original is None:
                return bad("unknown webhookEventId", 404)
            event = copy.deepcopy(original)
        event["deliveryContext"] = {"isRedelivery": True}
        outcome = dispatch([event])
        return jsonify({"webhookEventId": event_id, "replyToken": event.get("replyToken"),
                        **outcome})

    @app.post("/_sim/webhook/raw")
    def raw_webhook():
        """Send any body to the bot, with a valid, bad or missing signature."""
        spec = json_body()
        if not state.webhook_url:
            return bad("no webhook URL configured", 409)
        raw = spec.get("body", {"destination": state.bot_user_id, "events": []})
        data = raw.encode("utf-8") if isinstance(raw, str) else json.dumps(
            raw, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        mode = spec.get("signature", "valid")
        if mode == "valid":
            signature = webhook.sign(channel_secret, data)
        elif mode == "bad":
            signature = webhook.sign(channel_secret + "-wrong", data)
        elif mode == "missing":
            signature = None
        else:
            return bad("signature must be valid, bad or missing")
        if "signatureValue" in spec:
            signature = spec["signatureValue"]
        outcome = webhook.post(state.webhook_url, data, signature)
        return jsonify({**outcome, "signature": signature})

    @app.get("/_sim/richmenus")
    def sim_richmenus():
        """Every rich menu, whether it has an image, and which is the default (no auth)."""
        with state.lock:
            return jsonify({"defaultRichMenuId": state.default_richmenu,
                            "userLinks": dict(state.user_richmenus),
                            "richmenus": [{**menu, "hasImage": rid in state.richmenu_images}
                                          for rid, menu in state.richmenus.items()]})

    @app.get("/_sim/richmenus/<richmenu_id>/image")
    def sim_richmenu_image(richmenu_id: str):
        """The image for the chat page (the Messaging API's download needs the token)."""
        with state.lock:
            image = state.richmenu_images.get(richmenu_id)
        if image is None:
            return bad("no image for that rich menu", 404)
        response = Response(image[1], mimetype=image[0])
        response.headers["Cache-Control"] = "max-age=3600"  # an uploaded image never changes
        return response

    @app.get("/_sim/users/<uid>/richmenu")
    def sim_user_richmenu(uid: str):
        """The rich menu this user sees: linked to them, else the default; only with an image."""
        menu, source = state.richmenu_for(uid)
        if menu is None:
            return jsonify({"richMenu": None, "source": None, "imageUrl": None})
        return jsonify({"richMenu": menu, "source": source,
                        "imageUrl": f"/_sim/richmenus/{menu['richMenuId']}/image"})

    @app.get("/_sim/requests")
    def requests_log():
        with state.lock:
            entries = list(state.requests)
        endpoint = request.args.get("endpoint")
        if endpoint:
            entries = [e for e in entries if e["endpoint"] == endpoint]
        return jsonify({"requests": entries})

    @app.get("/_sim/faults")
    def list_faults():
        with state.lock:
            return jsonify({"faults": [f.public() for f in state.faults]})

    @app.post("/_sim/faults")
    def add_fault():
        try:
            fault = state.add_fault(json_body())
        except ValueError as exc:
            return bad(str(exc))
        return jsonify(fault.public()), 201

    @app.delete("/_sim/faults")
    def clear_faults():
        endpoint = request.args.get("endpoint")
        if endpoint is not None and endpoint not in FAULT_ENDPOINTS:
            return bad(f"endpoint must be one of {FAULT_ENDPOINTS}")
        with state.lock:
            state.faults = [f for f in state.faults if endpoint and f.endpoint != endpoint]
        return jsonify({"faults": [f.public() for f in state.faults]})

    @app.post("/_sim/reset")
    def reset():
        state.reset()
        return jsonify({"ok": True})

    @app.post("/_sim/reply-tokens/expire")
    def expire_tokens():
        return jsonify({"expired": state.expire_reply_tokens(ttl)})

    @app.get("/_sim/reply-tokens")
    def list_tokens():
        with state.lock:
            now = state.now()
            return jsonify({"replyTokens": [
                {"replyToken": t.token, "userId": t.userId, "webhookEventId": t.webhookEventId,
                 "used": t.usedAt is not None, "expired": now - t.issuedAt > ttl}
                for t in state.reply_tokens.values()]})

    @app.get("/_sim/clock")
    def get_clock():
        return jsonify({"now": state.now_iso(), "controllable": hasattr(state.clock, "advance")})

    @app.post("/_sim/clock/advance")
    def advance_clock():
        if not hasattr(state.clock, "advance"):
            return bad("the simulator runs on the system clock; pass clock=FixedClock(...)", 409)
        seconds = json_body().get("seconds")
        if not isinstance(seconds, (int, float)) or seconds < 0:
            return bad("seconds must be a non-negative number")
        state.clock.advance(seconds=seconds)
        return get_clock()

    register_login(app, state, login_channel_id, login_channel_secret or channel_secret)

    # ------------------------------------------------------------------ chat page
    @app.get("/")
    def index():
        return render_template("index.html", bot_name=bot_display_name)

    @app.errorhandler(404)
    def not_found(_exc):
        return line_error(404, "Not found")

    @app.errorhandler(405)
    def not_allowed(_exc):
        return line_error(405, "Method not allowed")

    return app


def _fmt_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _status_message(status: int) -> str:
    return {500: "Internal server error", 502: "Bad gateway", 503: "Service unavailable",
            504: "Gateway timeout", 403: "Forbidden", 400: "Bad request"}.get(status, "Error")


def state_of(app: Flask) -> SimState:
    """The simulator state behind an app (for in-process tests)."""
    return app.extensions["linesim"]

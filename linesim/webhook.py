"""Webhook events as LINE builds them, and their signed delivery to the bot.

Shapes follow webhook.yml and the SDK's sample events: every event carries
``type``, ``mode``, ``timestamp`` (ms), ``source``, ``webhookEventId`` (a ULID)
and ``deliveryContext``; events the bot may answer carry a ``replyToken``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
from typing import Any

import urllib3
from ulid import ULID

WEBHOOK_TIMEOUT_SECONDS = 5.0
USER_AGENT = "LineBotWebhook/2.0"
# Which simulated user actions produce which webhook event; the value is the LINE event type.
EVENT_KINDS = ("text", "postback", "location", "sticker", "image", "follow", "unfollow")


class EventError(ValueError):
    """The control-API request describes an event that cannot be built."""


def sign(channel_secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, raw body)) — the X-Line-Signature value."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def encode_body(destination: str, events: list[dict[str, Any]]) -> bytes:
    """Compact UTF-8 JSON, as LINE sends it; the signature covers exactly these bytes."""
    payload = {"destination": destination, "events": events}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build_event(spec: dict[str, Any], *, user_id: str, timestamp_s: float,
                message_id: str, quote_token: str) -> dict[str, Any]:
    """Build one event (without replyToken; the server issues that) from a control-API spec."""
    kind = spec.get("type")
    if kind not in EVENT_KINDS:
        raise EventError(f"type must be one of {EVENT_KINDS}")
    mode = spec.get("mode", "active")
    if mode not in ("active", "standby"):
        raise EventError("mode must be active or standby")
    event: dict[str, Any] = {
        "type": "message",
        "mode": mode,
        "timestamp": int(timestamp_s * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": str(ULID.from_timestamp(timestamp_s)),
        "deliveryContext": {"isRedelivery": False},
    }
    if kind == "text":
        text = spec.get("text")
        if not isinstance(text, str) or not text:
            raise EventError("text events need a non-empty text")
        event["message"] = {"id": message_id, "type": "text", "quoteToken": quote_token, "text": text}
    elif kind == "sticker":
        event["message"] = {
            "id": message_id, "type": "sticker", "quoteToken": quote_token,
            "packageId": str(spec.get("packageId", "446")), "stickerId": str(spec.get("stickerId", "1988")),
            "stickerResourceType": spec.get("stickerResourceType", "STATIC"),
            "keywords": spec.get("keywords", ["OK"]),
        }
    elif kind == "image":
        event["message"] = {"id": message_id, "type": "image", "quoteToken": quote_token,
                            "contentProvider": {"type": "line"}}
    elif kind == "location":
        try:
            latitude, longitude = float(spec["latitude"]), float(spec["longitude"])
        except (KeyError, TypeError, ValueError) as exc:
            raise EventError("location events need numeric latitude and longitude") from exc
        message = {"id": message_id, "type": "location", "latitude": latitude, "longitude": longitude}
        for key in ("title", "address"):
            if spec.get(key):
                message[key] = str(spec[key])
        event["message"] = message
    elif kind == "postback":
        data = spec.get("data")
        if not isinstance(data, str):
            raise EventError("postback events need data (a string)")
        postback: dict[str, Any] = {"data": data}
        params = spec.get("params")
        if params is not None:
            if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
                raise EventError("postback params must be an object of strings")
            postback["params"] = params
        event["type"] = "postback"
        event["postback"] = postback
    elif kind == "follow":
        event["type"] = "follow"
        event["follow"] = {"isUnblocked": bool(spec.get("isUnblocked", False))}
    elif kind == "unfollow":
        event["type"] = "unfollow"
    return event


def takes_reply_token(event: dict[str, Any]) -> bool:
    """LINE gives no reply token for unfollow, nor for anything in standby mode."""
    return event["type"] != "unfollow" and event["mode"] == "active"


# Kept-alive connections to the bot, shared by the server's threads: a new TCP connection per
# event cost the simulator and the bot's web server more than the event. No retries but the
# one below (a connection the bot had just closed): a webhook that could not be delivered is
# reported, and redelivered only when asked.
_CONNECTIONS = urllib3.PoolManager(num_pools=4, maxsize=64, block=False, retries=False)
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def _request(url: str, body: bytes, headers: dict[str, str]):
    return _CONNECTIONS.request("POST", url, body=body, headers=headers,
                                timeout=urllib3.Timeout(WEBHOOK_TIMEOUT_SECONDS))


def post(url: str, body: bytes, signature: str | None) -> dict[str, Any]:
    """POST a webhook body; never raises: the outcome is reported to the caller."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    if signature is not None:
        headers["X-Line-Signature"] = signature
    try:
        try:
            response = _request(url, body, headers)
        except urllib3.exceptions.ProtocolError as exc:
            if not isinstance(exc.__context__ or exc.args[-1], _STALE):
                raise
            # A kept-alive connection the bot's server had just closed (its idle timeout): the
            # request never reached the app. Once more, on a new connection; were it a delivery
            # after all, the bot knows the webhookEventId (as after LINE's redelivery).
            response = _request(url, body, headers)
    except urllib3.exceptions.NewConnectionError as exc:  # refused (a kind of TimeoutError in urllib3)
        return {"status": None, "body": None, "error": f"connection_error: {exc.__class__.__name__}"}
    except urllib3.exceptions.TimeoutError:
        return {"status": None, "body": None, "error": "request_timeout"}
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        return {"status": None, "body": None, "error": f"connection_error: {exc.__class__.__name__}"}
    return {"status": response.status, "body": response.data.decode("utf-8", "replace"), "error": None}

"""A thin client over line-bot-sdk v3 that turns every outcome into a LineResponse.

The outbox owns retries, so the SDK's own urllib3 retries are switched off: a silent retry of
a POST could deliver a message twice. Connections are kept alive and pooled (one per sending
thread). The channel access token is either the long-lived one from the environment or, when
a channel id is configured, a stateless token issued and renewed through linebot.v3.oauth.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
    RichMenuRequest,
)
from linebot.v3.oauth import ApiException as OAuthApiException
from pydantic import ValidationError

from domain.settings import LINE_API_DEFAULT


# Not sent at all: no channel access token could be issued (retryable; nothing reached LINE).
NO_TOKEN = -2


@dataclass
class LineResponse:
    # HTTP status; 0 when no answer came (timeout, dropped connection); -1 refused by the SDK's
    # model before sending; NO_TOKEN when no access token could be issued.
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        try:
            return str(json.loads(self.body).get("message", ""))
        except (ValueError, AttributeError):
            return self.body[:500]

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class StatelessTokens:
    """Channel access tokens issued through LINE's OAuth endpoint (stateless, 15 minutes).

    A stateless token needs no revocation and no shared store: each process issues its own
    from the channel id and secret and renews it a few minutes before it expires."""

    RENEW_BEFORE = 180.0  # seconds

    def __init__(self, base_url: str, channel_id: str, channel_secret: str, timeout: float = 10.0,
                 monotonic: Callable[[], float] = time.monotonic):
        from linebot.v3.oauth import ApiClient as OAuthClient, ChannelAccessToken
        from linebot.v3.oauth import Configuration as OAuthConfiguration

        configuration = OAuthConfiguration(host=base_url.rstrip("/"))
        configuration.retries = urllib3.Retry(total=0, connect=0, read=0, redirect=0, raise_on_status=False)
        self._client = OAuthClient(configuration)
        self._api = ChannelAccessToken(self._client)
        self._channel_id, self._secret = channel_id, channel_secret
        self._timeout = timeout
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self.issued = 0

    def current(self, force: bool = False) -> str:
        with self._lock:
            if force or self._token is None or self._monotonic() >= self._renew_at:
                response = self._api.issue_stateless_channel_token_by_client_secret(
                    self._channel_id, self._secret, _request_timeout=self._timeout)
                self._token = response.access_token
                lifetime = float(response.expires_in)
                self._renew_at = self._monotonic() + max(lifetime - self.RENEW_BEFORE, lifetime / 2)
                self.issued += 1
            return self._token

    def close(self) -> None:
        self._client.close()


class LineApi:
    def __init__(self, base_url: str, access_token: str, timeout: float = 10.0, *,
                 pool_size: int = 8, tokens: StatelessTokens | None = None):
        configuration = Configuration(host=base_url.rstrip("/"), access_token=access_token or "")
        configuration.retries = urllib3.Retry(total=0, connect=0, read=0, redirect=0, raise_on_status=False)
        # One kept-alive connection per sending thread.
        configuration.connection_pool_maxsize = pool_size
        self._configuration = configuration
        self._client = ApiClient(configuration)
        self._api = MessagingApi(self._client)
        # Configuration(host=…) sends every call to that host. LINE serves rich menu images on
        # api-data.line.me, so against the real API the blob client keeps the SDK's own
        # per-operation host; a simulator (any other base URL) serves both.
        base = base_url.rstrip("/")
        blob_configuration = Configuration(host=None if base == LINE_API_DEFAULT.rstrip("/") else base,
                                           access_token=access_token or "")
        blob_configuration.retries = configuration.retries
        self._blob_configuration = blob_configuration
        self._blob_client = ApiClient(blob_configuration)
        self._blob = MessagingApiBlob(self._blob_client)
        self._timeout = timeout
        self._tokens = tokens

    def close(self) -> None:
        self._client.close()
        self._blob_client.close()
        if self._tokens is not None:
            self._tokens.close()

    def _refresh_token(self, force: bool = False) -> LineResponse | None:
        """Put a valid issued token in place; a LineResponse when LINE would not issue one."""
        if self._tokens is None:
            return None
        try:
            token = self._tokens.current(force=force)
        except (OAuthApiException, ApiException) as exc:
            return LineResponse(NO_TOKEN, f"channel access token not issued ({exc.status})")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return LineResponse(NO_TOKEN, f"{type(exc).__name__}: no answer from LINE's token endpoint")
        # The SDK reads the token both from its configuration and from a default header set
        # when the client was made: keep both current.
        for configuration, client in ((self._configuration, self._client),
                                      (self._blob_configuration, self._blob_client)):
            configuration.access_token = token
            client.default_headers["Authorization"] = "Bearer " + token
        return None

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> LineResponse:
        refused = self._refresh_token()
        if refused is not None:
            return refused
        response = self._call_once(fn, *args, **kwargs)
        if response.status == 401 and self._tokens is not None:
            # Refused before anything was done: a token revoked or expired early. Renew, once.
            refused = self._refresh_token(force=True)
            if refused is not None:
                return refused
            response = self._call_once(fn, *args, **kwargs)
        return response

    def _call_once(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> LineResponse:
        try:
            result = fn(*args, _request_timeout=self._timeout, **kwargs)
        except ApiException as exc:
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else (exc.body or "")
            return LineResponse(int(exc.status or 0), body, dict(exc.headers or {}))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return LineResponse(0, f"{type(exc).__name__}: no answer from LINE")
        data = result.data.to_dict() if hasattr(result.data, "to_dict") else result.data
        body = "" if isinstance(data, (bytes, bytearray)) else json.dumps(data or {})  # an image: not kept
        return LineResponse(result.status_code, body, dict(result.headers or {}))

    def quota(self) -> tuple[int | None, int] | None:
        """(this month's limit or None when unlimited, messages used so far), or None when
        LINE did not answer both (GET /v2/bot/message/quota and …/quota/consumption)."""
        limit = self._call(self._api.get_message_quota_with_http_info)
        used = self._call(self._api.get_message_quota_consumption_with_http_info)
        if not (limit.ok and used.ok):
            return None
        try:
            limit_body, used_body = json.loads(limit.body), json.loads(used.body)
            value = int(limit_body["value"]) if limit_body.get("type") == "limited" else None
            return value, int(used_body.get("totalUsage") or used_body.get("total_usage") or 0)
        except (ValueError, KeyError, TypeError):
            return None

    def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> LineResponse:
        try:
            request = ReplyMessageRequest.from_dict({"replyToken": reply_token, "messages": messages})
        except (ValidationError, ValueError) as exc:
            return LineResponse(-1, f"rejected by the SDK model: {exc}")
        return self._call(self._api.reply_message_with_http_info, request)

    def push(self, user_id: str, messages: list[dict[str, Any]], retry_key: str) -> LineResponse:
        try:
            request = PushMessageRequest.from_dict({"to": user_id, "messages": messages})
        except (ValidationError, ValueError) as exc:
            return LineResponse(-1, f"rejected by the SDK model: {exc}")
        return self._call(self._api.push_message_with_http_info, request, x_line_retry_key=retry_key)

    def profile_name(self, user_id: str) -> str | None:
        """The user's LINE display name, or None when LINE does not give it."""
        response = self._call(self._api.get_profile_with_http_info, user_id)
        if not response.ok:
            return None
        try:
            return json.loads(response.body).get("displayName") or None
        except ValueError:
            return None

    def multicast(self, user_ids: list[str], messages: list[dict[str, Any]], retry_key: str) -> LineResponse:
        try:
            request = MulticastRequest.from_dict({"to": user_ids, "messages": messages})
        except (ValidationError, ValueError) as exc:
            return LineResponse(-1, f"rejected by the SDK model: {exc}")
        return self._call(self._api.multicast_with_http_info, request, x_line_retry_key=retry_key)

    # -- rich menus per user (linked when a role is given, unlinked when taken) --
    def rich_menus(self) -> list[dict[str, Any]]:
        response = self.rich_menu_list()
        if not response.ok:
            return []
        try:
            return list(json.loads(response.body).get("richmenus") or [])
        except ValueError:
            return []

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> LineResponse:
        return self._call(self._api.link_rich_menu_id_to_user_with_http_info, user_id, rich_menu_id)

    def unlink_rich_menu(self, user_id: str) -> LineResponse:
        return self._call(self._api.unlink_rich_menu_id_from_user_with_http_info, user_id)

    # -- the channel's rich menus (`sasaeai richmenu deploy`: admin calls, a failed run is re-run) --
    def rich_menu_list(self) -> LineResponse:
        return self._call(self._api.get_rich_menu_list_with_http_info)

    def default_rich_menu_id(self) -> LineResponse:
        return self._call(self._api.get_default_rich_menu_id_with_http_info)

    def create_rich_menu(self, definition: dict[str, Any]) -> LineResponse:
        return self._call(self._api.create_rich_menu_with_http_info, RichMenuRequest.from_dict(definition))

    def set_default_rich_menu(self, rich_menu_id: str) -> LineResponse:
        return self._call(self._api.set_default_rich_menu_with_http_info, rich_menu_id)

    def delete_rich_menu(self, rich_menu_id: str) -> LineResponse:
        return self._call(self._api.delete_rich_menu_with_http_info, rich_menu_id)

    def rich_menu_image(self, rich_menu_id: str) -> LineResponse:
        """Whether the menu has an image (status 200 or 404); the image itself is not kept."""
        return self._call(self._blob.get_rich_menu_image_with_http_info, rich_menu_id)

    def set_rich_menu_image(self, rich_menu_id: str, png: bytes) -> LineResponse:
        return self._call(self._blob.set_rich_menu_image_with_http_info, rich_menu_id, png,
                          _headers={"Content-Type": "image/png"})

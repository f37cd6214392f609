"""A thin client over line-bot-sdk v3 that turns every outcome into a LineResponse.

The outbox owns retries, so the SDK's own urllib3 retries are switched off: a silent retry of
a POST could deliver a message twice.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
)
from pydantic import ValidationError


@dataclass
class LineResponse:
    status: int  # HTTP status; 0 when no answer came (timeout, dropped connection)
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


class LineApi:
    def __init__(self, base_url: str, access_token: str, timeout: float = 10.0):
        configuration = Configuration(host=base_url.rstrip("/"), access_token=access_token)
        configuration.retries = urllib3.Retry(total=0, connect=0, read=0, redirect=0, raise_on_status=False)
        self._client = ApiClient(configuration)
        self._api = MessagingApi(self._client)
        self._timeout = timeout

    def close(self) -> None:
        self._client.close()

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> LineResponse:
        try:
            result = fn(*args, _request_timeout=self._timeout, **kwargs)
        except ApiException as exc:
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else (exc.body or "")
            return LineResponse(int(exc.status or 0), body, dict(exc.headers or {}))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return LineResponse(0, f"{type(exc).__name__}: no answer from LINE")
        data = result.data.to_dict() if hasattr(result.data, "to_dict") else result.data
        return LineResponse(result.status_code, json.dumps(data or {}), dict(result.headers or {}))

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
        response = self._call(self._api.get_rich_menu_list_with_http_info)
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

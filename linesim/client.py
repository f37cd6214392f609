"""A small Python client for the simulator's control API (used by the bot's tests)."""
from __future__ import annotations

from typing import Any

import requests


class SimulatorError(RuntimeError):
    def __init__(self, response: requests.Response | None, message: str | None = None):
        super().__init__(message or f"{response.request.method} {response.url} -> {response.status_code}: "
                         f"{response.text}")
        self.response = response

    @classmethod
    def plain(cls, message: str) -> "SimulatorError":
        """An error of the client's own (no HTTP response behind it)."""
        return cls(None, message)


class SimulatorClient:
    """Thin wrapper: each method is one control-API call and returns its JSON."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, json: Any = None, params: dict | None = None) -> Any:
        response = self.session.request(method, self.base_url + path, json=json, params=params,
                                        timeout=self.timeout)
        if response.status_code >= 400:
            raise SimulatorError(response)
        return response.json()

    # users ----------------------------------------------------------------------
    def create_user(self, display_name: str | None = None, user_id: str | None = None, *,
                    following: bool = False) -> dict[str, Any]:
        """Create a user; ``following=False`` means a follow event is still to come."""
        body: dict[str, Any] = {"following": following}
        if display_name is not None:
            body["displayName"] = display_name
        if user_id is not None:
            body["userId"] = user_id
        return self._call("POST", "/_sim/users", body)

    def users(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_sim/users")["users"]

    # events (each returns {"webhookEventId", "replyToken", "status", "body", "error"}) ---
    def send_event(self, user_id: str, event: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/_sim/users/{user_id}/events", event)

    def send_text(self, user_id: str, text: str) -> dict[str, Any]:
        return self.send_event(user_id, {"type": "text", "text": text})

    def send_postback(self, user_id: str, data: str, params: dict[str, str] | None = None,
                      display_text: str | None = None) -> dict[str, Any]:
        event: dict[str, Any] = {"type": "postback", "data": data}
        if params is not None:
            event["params"] = params
        if display_text is not None:
            event["displayText"] = display_text
        return self.send_event(user_id, event)

    def send_location(self, user_id: str, latitude: float, longitude: float,
                      title: str | None = None, address: str | None = None) -> dict[str, Any]:
        event = {"type": "location", "latitude": latitude, "longitude": longitude}
        event.update({k: v for k, v in (("title", title), ("address", address)) if v})
        return self.send_event(user_id, event)

    def follow(self, user_id: str) -> dict[str, Any]:
        return self.send_event(user_id, {"type": "follow"})

    def unfollow(self, user_id: str) -> dict[str, Any]:
        return self.send_event(user_id, {"type": "unfollow"})

    def sticker(self, user_id: str, package_id: str = "446", sticker_id: str = "1988") -> dict[str, Any]:
        return self.send_event(user_id, {"type": "sticker", "packageId": package_id,
                                         "stickerId": sticker_id})

    def image(self, user_id: str) -> dict[str, Any]:
        return self.send_event(user_id, {"type": "image"})

    def redeliver(self, webhook_event_id: str) -> dict[str, Any]:
        return self._call("POST", f"/_sim/events/{webhook_event_id}/redeliver")

    def raw_webhook(self, body: Any, signature: str = "valid") -> dict[str, Any]:
        """signature: "valid", "bad" or "missing"."""
        return self._call("POST", "/_sim/webhook/raw", {"body": body, "signature": signature})

    # observation ---------------------------------------------------------------------
    def messages(self, user_id: str, after: int = 0, include_undelivered: bool = False) -> list[dict]:
        params = {"after": after}
        if include_undelivered:
            params["all"] = "1"
        return self._call("GET", f"/_sim/users/{user_id}/messages", params=params)["messages"]

    def texts(self, user_id: str, after: int = 0) -> list[str]:
        """Convenience: the text (or altText) of each delivered message."""
        return [m["message"].get("text") or m["message"].get("altText", "")
                for m in self.messages(user_id, after)]

    def richmenus(self) -> dict[str, Any]:
        """{"defaultRichMenuId", "userLinks", "richmenus": [… with "hasImage"]}."""
        return self._call("GET", "/_sim/richmenus")

    def user_richmenu(self, user_id: str) -> dict[str, Any]:
        """{"richMenu", "source": "user" | "default" | None, "imageUrl"}: what the chat shows."""
        return self._call("GET", f"/_sim/users/{user_id}/richmenu")

    def requests_log(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        params = {"endpoint": endpoint} if endpoint else None
        return self._call("GET", "/_sim/requests", params=params)["requests"]

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """(label, action) of every button in a message: quick replies, then Flex and templates."""
        found: list[tuple[str, dict[str, Any]]] = []
        for item in (message.get("quickReply") or {}).get("items", []):
            found.append((item["action"].get("label", ""), item["action"]))

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") == "button" and isinstance(node.get("action"), dict):
                    found.append((node["action"].get("label", ""), node["action"]))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(message.get("contents") or {})
        walk((message.get("template") or {}).get("actions") or [])
        return found

    def press(self, user_id: str, label: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """Tap the button with this label (a leading ✓ ignored) on the user's latest message."""
        if message is None:
            delivered = self.messages(user_id)
            if not delivered:
                raise SimulatorError.plain(f"{user_id} has no message to press a button on")
            message = delivered[-1]["message"]
        for found, action in self.buttons(message):
            if found == label or found.removeprefix("✓ ") == label:
                if action.get("type") == "postback":
                    return self.send_postback(user_id, action["data"], display_text=action.get("displayText"))
                if action.get("type") == "message":
                    return self.send_text(user_id, action["text"])
                raise SimulatorError.plain(f"button {label!r} is a {action.get('type')} action")
        raise SimulatorError.plain(f"no button {label!r}; there are {[b for b, _ in self.buttons(message)]}")

    # control -----------------------------------------------------------------------
    def set_webhook_url(self, url: str | None) -> dict[str, Any]:
        return self._call("PUT", "/_sim/config", {"webhookUrl": url})

    def set_monthly_limit(self, limit: int | None) -> dict[str, Any]:
        """Push/multicast beyond `limit` messages this month get 429 (None: no limit)."""
        return self._call("PUT", "/_sim/config", {"monthlyLimit": limit})

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/_sim/config")

    def set_fault(self, kind: str, endpoint: str = "any", *, status: int | None = None,
                  times: int | None = None, retry_after: float | None = None,
                  ms: float | None = None) -> dict[str, Any]:
        """kind: status | monthly_quota | latency | drop_after_accept; times=None: until cleared."""
        spec: dict[str, Any] = {"kind": kind, "endpoint": endpoint}
        for key, value in (("status", status), ("times", times), ("retry_after", retry_after),
                           ("ms", ms)):
            if value is not None:
                spec[key] = value
        return self._call("POST", "/_sim/faults", spec)

    def clear_faults(self, endpoint: str | None = None) -> None:
        self._call("DELETE", "/_sim/faults", params={"endpoint": endpoint} if endpoint else None)

    def reset(self) -> None:
        self._call("POST", "/_sim/reset")

    def expire_reply_tokens(self) -> int:
        return self._call("POST", "/_sim/reply-tokens/expire")["expired"]

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "/_sim/clock/advance", {"seconds": seconds})

    def close(self) -> None:
        self.session.close()

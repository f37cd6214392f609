"""Fixtures for the simulator's own tests: a real HTTP simulator and a tiny webhook receiver."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import pytest
import requests
from flask import Flask, request

from linesim.client import SimulatorClient
from linesim.server import create_app
from linesim.serving import RunningServer, serve_in_thread

SECRET = "test-channel-secret"
TOKEN = "test-access-token"


class ManualClock:
    """Moves only when told to (same protocol as domain.clock.FixedClock)."""

    def __init__(self) -> None:
        self._now = datetime(2025, 4, 1, 9, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance(self, **kwargs: float) -> None:
        from datetime import timedelta
        self._now += timedelta(**kwargs)


@dataclass
class Sim:
    server: RunningServer
    client: SimulatorClient
    app: Flask
    clock: ManualClock
    http: requests.Session = field(default_factory=requests.Session)
    token: str = TOKEN
    secret: str = SECRET

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, endpoint: str, body: Any, *, token: str = TOKEN, retry_key: str | None = None,
            timeout: float = 5) -> requests.Response:
        """POST to a Messaging API endpoint, the way a bot would."""
        headers = {"Authorization": f"Bearer {token}"}
        if retry_key is not None:
            headers["X-Line-Retry-Key"] = retry_key
        return self.http.post(f"{self.url}/v2/bot/message/{endpoint}", json=body,
                              headers=headers, timeout=timeout)

    def friend(self, name: str = "テスト") -> str:
        return self.client.create_user(name, following=True)["userId"]


@pytest.fixture(scope="session")
def _sim_server():
    clock = ManualClock()
    app = create_app(SECRET, TOKEN, reply_token_ttl=60, clock=clock)
    server = serve_in_thread(app)
    yield app, server, clock
    server.shutdown()


@pytest.fixture
def sim(_sim_server):
    """One server for the session; each test starts from a reset, webhook-less state."""
    app, server, clock = _sim_server
    s = Sim(server=server, client=SimulatorClient(server.url), app=app, clock=clock)
    s.client.reset()
    s.client.set_webhook_url(None)
    yield s
    s.http.close()
    s.client.close()


@dataclass
class Receiver:
    """A stand-in bot: records webhook requests, answers with `status`, may run `on_event`."""
    server: RunningServer | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    on_body: Callable[[dict], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"{self.server.url}/callback"


@pytest.fixture(scope="session")
def _receiver():
    rec = Receiver()
    app = Flask("receiver")

    @app.post("/callback")
    def callback():
        raw = request.get_data()
        with rec.lock:
            rec.calls.append({"raw": raw, "headers": dict(request.headers)})
        if rec.on_body is not None:
            rec.on_body(request.get_json())
        return "OK", rec.status

    rec.server = serve_in_thread(app)
    yield rec
    rec.server.shutdown()


@pytest.fixture
def receiver(_receiver):
    _receiver.calls.clear()
    _receiver.status = 200
    _receiver.on_body = None
    return _receiver


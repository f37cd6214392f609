"""Issue 12, item 4: with a channel id configured, access tokens are issued through LINE's
OAuth endpoint (linebot.v3.oauth, stateless tokens) and renewed; the simulator issues them."""
from __future__ import annotations

import pytest

from bot.line_api import NO_TOKEN, LineApi, StatelessTokens
from domain.clock import FixedClock
from linesim.client import SimulatorClient
from linesim.server import create_app
from linesim.serving import serve_in_thread
from tests.conftest import TEST_SECRET

TEXT = [{"type": "text", "text": "お知らせです"}]


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sim(clock: FixedClock):
    # No long-lived token at all: only issued ones are accepted.
    server = serve_in_thread(create_app(TEST_SECRET, None, clock=clock, channel_id="1234567890"))
    client = SimulatorClient(server.url)
    yield server, client
    client.close()
    server.shutdown()


def oauth_calls(client) -> list[int]:
    return [r["status"] for r in client.requests_log("oauth")]


def test_tokens_are_issued_once_renewed_before_expiry_and_after_a_401(sim, clock):
    server, client = sim
    user = client.create_user("山田", following=True)["userId"]
    ticks = Ticks()
    tokens = StatelessTokens(server.url, "1234567890", TEST_SECRET, monotonic=ticks)
    api = LineApi(server.url, "", tokens=tokens)
    try:
        assert api.push(user, TEXT, "6f8a3c1e-7b2d-4e5f-9a0b-1c2d3e4f5a6b").status == 200
        assert api.push(user, TEXT, "6f8a3c1e-7b2d-4e5f-9a0b-1c2d3e4f5a6c").status == 200
        assert oauth_calls(client) == [200]  # one token serves many calls
        ticks.now += 900 - StatelessTokens.RENEW_BEFORE  # near its 15 minutes: a new one first
        assert api.push(user, TEXT, "6f8a3c1e-7b2d-4e5f-9a0b-1c2d3e4f5a6d").status == 200
        assert oauth_calls(client) == [200, 200]
        clock.advance(seconds=1000)  # LINE considers it expired although we did not expect it
        assert api.push(user, TEXT, "6f8a3c1e-7b2d-4e5f-9a0b-1c2d3e4f5a6e").status == 200
        assert oauth_calls(client) == [200, 200, 200]
        assert [r["status"] for r in client.requests_log("push")] == [200, 200, 200, 401, 200]
    finally:
        api.close()


def test_a_wrong_channel_secret_sends_nothing_and_says_so(sim):
    server, client = sim
    user = client.create_user("山田", following=True)["userId"]
    api = LineApi(server.url, "", tokens=StatelessTokens(server.url, "1234567890", "wrong-secret"))
    try:
        response = api.push(user, TEXT, "6f8a3c1e-7b2d-4e5f-9a0b-1c2d3e4f5a6b")
        assert response.status == NO_TOKEN and "not issued" in response.message
        assert client.requests_log("push") == [] and oauth_calls(client) == [400]
    finally:
        api.close()

"""A signed webhook client on the real app, and LINE's own sample events as innocent requests."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from tests.conftest import SHARED_LINE, TEST_SECRET, TEST_TOKEN

def _samples_path():
    """shared/line beside the checkout, or beside any folder above it (a git worktree)."""
    for root in [SHARED_LINE.parent.parent, *SHARED_LINE.parent.parent.parents]:
        path = root / "shared" / "line" / "sdk-webhook-samples.json"
        if path.exists():
            return path
    return SHARED_LINE / "sdk-webhook-samples.json"


SAMPLES = _samples_path()


def sign(body: bytes, secret: str = TEST_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def sample_body(tag: str = "") -> dict:
    """LINE's sample webhook (line-bot-sdk-python's fixture), each event given its own id."""
    if not SAMPLES.exists():
        pytest.skip(f"{SAMPLES} is absent (a clone outside the workspace)")
    body = json.loads(SAMPLES.read_text(encoding="utf-8"))
    for n, event in enumerate(body["events"]):
        event["webhookEventId"] = f"{event['webhookEventId'][:40]}{tag}-{n:02d}"
    return body


class Webhook:
    """Posts raw bodies, validly signed, to /callback of the real app."""

    def __init__(self, app):
        self.client = app.test_client()

    def post(self, body: bytes | str | dict):
        if isinstance(body, dict):
            body = json.dumps(body, ensure_ascii=False).encode()
        elif isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")
        return self.client.post("/callback", data=body,
                                headers={"X-Line-Signature": sign(body), "Content-Type": "application/json"})


def build_services(db_url: str, clock):
    from domain.settings import Config
    from webhook import Services

    config = Config(line_channel_secret=TEST_SECRET, line_channel_access_token=TEST_TOKEN,
                    line_api_base_url="http://127.0.0.1:9", database_url=db_url)
    return Services.build(config, clock=clock)


@pytest.fixture
def services(any_db_url, clock):
    services = build_services(any_db_url, clock)
    yield services
    services.engine.dispose()


@pytest.fixture(scope="module")
def module_services(tmp_path_factory):
    """One SQLite database for a module of many small requests (the corpus)."""
    from datetime import datetime, timezone

    from domain.clock import FixedClock
    from migrations import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('ingest') / 'corpus.sqlite3'}"
    upgrade(url)
    services = build_services(url, FixedClock(datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)))
    yield services
    services.engine.dispose()


@pytest.fixture
def webhook(services):
    from webhook import create_app

    return Webhook(create_app(services=services))


@pytest.fixture(scope="module")
def module_webhook(module_services):
    from webhook import create_app

    return Webhook(create_app(services=module_services))

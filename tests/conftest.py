"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL when asked), a clock."""
from __future__ import annotations

import logging
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from domain.clock import FixedClock
from domain.db import make_engine, make_session_factory, normalise_url
from migrations import load_all_models, upgrade

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_LINE = REPO_ROOT.parent / "shared" / "line"
TEST_SECRET = "test-channel-secret"
TEST_TOKEN = "test-channel-access-token"
TEST_LOGIN_CHANNEL_ID = "1650000001"
TEST_LOGIN_SECRET = "test-login-channel-secret"
PG_SKIP_REASON = "TEST_DATABASE_URL is not set: PostgreSQL multi-process tests need a real server"


@pytest.fixture(autouse=True)
def _logging_as_it_was():
    """A test that configures logging (a command, the privacy tests) leaves no handler or level
    behind for the next one."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc))


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def _pg_database():
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip(PG_SKIP_REASON)
    base = normalise_url(base)
    name = f"sasaeai_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(_pg_database) -> str:
    """A migrated PostgreSQL database, emptied before each test."""
    engine = make_engine(_pg_database)
    tables = [t.name for t in load_all_models().metadata.sorted_tables]
    with engine.begin() as conn:
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()
    return _pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request) -> str:
    """Run a test on SQLite and, where TEST_DATABASE_URL is set, on PostgreSQL too."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(sqlite_url):
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return make_session_factory(engine)


class Stack:
    """The bot's web app and the LINE simulator on loopback, sharing one clock.

    The worker and the dispatcher are driven by the test (settle()), not by threads, so every
    run is deterministic.
    """

    def __init__(self, db_url: str, clock: FixedClock):
        from linesim.client import SimulatorClient
        from linesim.server import create_app as create_simulator
        from linesim.serving import serve_in_thread
        from domain.settings import Config
        from webhook import Services, create_app

        self.clock = clock
        self.sim_server = serve_in_thread(create_simulator(
            TEST_SECRET, TEST_TOKEN, clock=clock, login_channel_id=TEST_LOGIN_CHANNEL_ID,
            login_channel_secret=TEST_LOGIN_SECRET))
        self.config = Config(line_channel_secret=TEST_SECRET, line_channel_access_token=TEST_TOKEN,
                             line_api_base_url=self.sim_server.url, database_url=db_url,
                             line_request_timeout=3.0, line_login_channel_id=TEST_LOGIN_CHANNEL_ID,
                             line_login_channel_secret=TEST_LOGIN_SECRET,
                             line_login_authorize_url=self.sim_server.url + "/oauth2/v2.1/authorize")
        self.services = Services.build(self.config, clock=clock)
        self.bot_server = serve_in_thread(create_app(services=self.services))
        self.sim = SimulatorClient(self.sim_server.url)
        self.sim.set_webhook_url(self.bot_server.url + "/callback")
        self.worker = self.services.event_worker()
        self.dispatcher = self.services.dispatcher()

    @property
    def sessions(self):
        return self.services.sessions

    def settle(self) -> None:
        """Handle every stored event and send every message that is due now."""
        for _ in range(50):
            handled = self.worker.run_until_idle()
            sent = self.dispatcher.run_once()
            if not handled and not sent:
                return
        raise AssertionError("the stack did not settle")

    def new_user(self, name: str = "山田花子", follow: bool = True) -> str:
        user_id = self.sim.create_user(name)["userId"]
        if follow:
            self.sim.follow(user_id)
        return user_id

    def close(self) -> None:
        self.sim.close()
        self.bot_server.shutdown()
        self.sim_server.shutdown()
        self.services.line_api.close()
        self.dispatcher.close()
        self.services.engine.dispose()


@pytest.fixture
def stack(sqlite_url, clock):
    s = Stack(sqlite_url, clock)
    yield s
    s.close()


@pytest.fixture
def pg_stack(pg_url, clock):
    s = Stack(pg_url, clock)
    yield s
    s.close()

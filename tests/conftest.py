"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL when asked), a clock."""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sasaeai.clock import FixedClock
from sasaeai.db import load_all_models, make_engine, make_session_factory, normalise_url, upgrade

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_LINE = REPO_ROOT.parent / "shared" / "line"
TEST_SECRET = "test-channel-secret"
TEST_TOKEN = "test-channel-access-token"
PG_SKIP_REASON = "TEST_DATABASE_URL is not set: PostgreSQL multi-process tests need a real server"


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

"""The design card's layout works as a newcomer would use it: `gunicorn 'webhook:create_app()'`
from the repository root, and old databases upgrade through revisions that name no moved module."""
from __future__ import annotations

import ast
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import requests
from sqlalchemy import create_engine, text

from domain.db import make_engine, normalise_url
from migrations import upgrade
from tests.conftest import PG_SKIP_REASON

REPO = Path(__file__).resolve().parent.parent
VERSIONS = REPO / "migrations" / "versions"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_serves_webhook_create_app_from_the_repository_root(tmp_path):
    port = _free_port()
    env = {**os.environ, "LINE_CHANNEL_SECRET": "s" * 32, "LINE_CHANNEL_ACCESS_TOKEN": "t",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "SASAEAI_LOG_LEVEL": "WARNING"}
    upgrade(env["DATABASE_URL"])
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen([str(gunicorn), "--bind", f"127.0.0.1:{port}", "webhook:create_app()"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30  # a start-up bound, not a speed claim
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.1)
        assert answer.status_code == 200 and answer.json() == {"status": "ok", "database": "ok"}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def test_revisions_import_nothing_that_can_move():
    allowed = {"__future__", "sqlalchemy", "alembic", "migrations.types"}
    for path in sorted(VERSIONS.glob("0*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert any(name == ok or name.startswith(ok + ".") for ok in allowed), f"{path.name} imports {name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request, tmp_path):
    """An empty database of its own (not the shared migrated one)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip(PG_SKIP_REASON)
    base = normalise_url(base)
    name = f"sasaeai_old_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_database_made_by_the_first_four_revisions_upgrades_to_head(empty_db_url):
    upgrade(empty_db_url, "0004")
    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            heads = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert heads == [sorted(p.stem.split("_")[0] for p in VERSIONS.glob("0*.py"))[-1]]
    finally:
        engine.dispose()

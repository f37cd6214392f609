"""SQLite in a server process: the WAL goes back into the database file from a thread of its own,
not from the commit that happens to cross SQLite's threshold (a claim, or a webhook's ack)."""
from __future__ import annotations

import threading
import time

from domain.db import CHECKPOINT_SAFETY_PAGES, make_engine


def checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sqlite-checkpoint" and t.is_alive()]


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_server_process_checkpoints_in_the_background(tmp_path):
    path = tmp_path / "db.sqlite3"
    before = len(checkpointers())
    engine = make_engine(f"sqlite:///{path}", background_checkpoint=True)
    try:
        assert len(checkpointers()) == before + 1
        with engine.begin() as connection:
            # Commits leave the checkpoint to the thread (only a runaway WAL is copied by them).
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == CHECKPOINT_SAFETY_PAGES
            connection.exec_driver_sql("CREATE TABLE t (x TEXT)")
        for _ in range(20):
            with engine.begin() as connection:
                connection.exec_driver_sql("INSERT INTO t VALUES (?)", [("x" * 4000,) for _ in range(25)])
        # 2 MB written: the database file catches up with the WAL without anyone committing.
        assert wait_until(lambda: path.stat().st_size > 1_500_000), path.stat().st_size
    finally:
        engine.dispose()
    assert wait_until(lambda: len(checkpointers()) == before)


def test_other_processes_keep_sqlites_own_checkpoints(tmp_path):
    before = len(checkpointers())
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        assert len(checkpointers()) == before
    finally:
        engine.dispose()

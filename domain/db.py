"""Engine and session factory; SQLite gets WAL and a busy timeout, PostgreSQL a pool.

Bound parameters (names, phones, words) never appear in SQLAlchemy's errors or logs
(hide_parameters). The SQLite file is readable by its owner only, in a directory only its owner
may enter.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

def normalise_url(url: str) -> str:
    """Let people write postgresql:// and still get the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


def prepare_sqlite_file(path: str) -> None:
    """Create the database's directory 0700 and the file 0600 before SQLite opens it (its WAL and
    shared-memory files take the file's mode)."""
    file = Path(path)
    if not file.parent.exists():
        file.parent.mkdir(parents=True, mode=0o700)
        os.chmod(file.parent, 0o700)  # mkdir's mode is filtered by the umask
    fd = os.open(file, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    status = file.stat()
    if status.st_mode & 0o077 and status.st_uid == os.geteuid():
        os.chmod(file, 0o600)  # an older installation's file, readable by others until now


# SQLite, in a long-running process: the WAL is copied back into the database file by a thread
# of its own every CHECKPOINT_EVERY seconds, not by whichever commit crosses SQLite's threshold
# (then a claim or a webhook's commit paid about 9 ms every ~50 commits; bench/backlog.py). A
# passive checkpoint holds no lock a writer waits for. Commits still checkpoint past
# CHECKPOINT_SAFETY_PAGES (~40 MB of WAL), should the thread ever fall behind.
CHECKPOINT_EVERY = 0.5
CHECKPOINT_SAFETY_PAGES = 10_000


class WalCheckpointer(threading.Thread):
    def __init__(self, path: str, every: float = CHECKPOINT_EVERY):
        super().__init__(name="sqlite-checkpoint", daemon=True)
        self._path, self._every, self.stopped = path, every, threading.Event()

    def run(self) -> None:
        connection = sqlite3.connect(self._path, timeout=1, check_same_thread=False)
        try:
            while not self.stopped.wait(self._every):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    pass  # busy or locked for a moment: the next turn, or a commit, does it
        finally:
            connection.close()


def make_engine(url: str, *, background_checkpoint: bool = False, **kwargs) -> Engine:
    """background_checkpoint: a server process (web, worker, scheduler) on an SQLite file
    checkpoints its WAL in a thread of its own (see WalCheckpointer)."""
    url = normalise_url(url)
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        # "sqlite://" and ":memory:" are in-memory databases: no file to prepare.
        path = make_url(url).database
        on_file = bool(path and path != ":memory:" and not path.startswith("file:"))
        if on_file:
            prepare_sqlite_file(path)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        checkpointer = WalCheckpointer(path) if on_file and background_checkpoint else None

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Let SQLAlchemy issue BEGIN itself so BEGIN IMMEDIATE can be used for claims.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # Reads of the matching indexes go through the OS page cache without copies.
            cur.execute("PRAGMA mmap_size=268435456")
            cur.execute("PRAGMA cache_size=-32000")
            if checkpointer is not None:
                cur.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_SAFETY_PAGES}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Take the write lock at BEGIN: avoids SQLITE_BUSY upgrades from read to write.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        if checkpointer is not None:
            @event.listens_for(engine, "engine_disposed")
            def _stop_checkpointer(_engine):
                checkpointer.stopped.set()

            checkpointer.start()
        return engine
    # No ping before each checkout (a round trip per request); a connection found dead is
    # replaced and the work retried by the caller, and none is kept past half an hour.
    kwargs.setdefault("pool_recycle", 1800)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session:
        with session.begin():
            yield session

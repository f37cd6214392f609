"""Engine and session factory; SQLite gets WAL and a busy timeout, PostgreSQL a pool.

Bound parameters (names, phones, words) never appear in SQLAlchemy's errors or logs
(hide_parameters). The SQLite file is readable by its owner only, in a directory only its owner
may enter.
"""
from __future__ import annotations

import os
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


def sqlite_file(engine_or_url: Engine | str) -> str | None:
    """The path of an SQLite database kept in a file; None for another engine or an in-memory
    database ("sqlite://", ":memory:", "file:" URIs)."""
    url = engine_or_url if isinstance(engine_or_url, str) else engine_or_url.url.render_as_string(hide_password=False)
    if not is_sqlite(url):
        return None
    path = make_url(url).database
    return path if path and path != ":memory:" and not path.startswith("file:") else None


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


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        path = sqlite_file(url)
        if path is not None:  # an in-memory database has no file to prepare
            prepare_sqlite_file(path)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

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
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Take the write lock at BEGIN: avoids SQLITE_BUSY upgrades from read to write.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

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

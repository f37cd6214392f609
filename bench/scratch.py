"""A PostgreSQL database made for one benchmark run and dropped after it: the one place the
benchmarks create and drop theirs.

    with scratch_postgres(server_url, "sasaeai_soak") as url:   # url: the new database
        ...

`server_url` is any database URL on the server (postgresql://… or postgresql+psycopg://…); the
URL given back has the same form, with the new database's name in place of the old one.
"""
from __future__ import annotations

import secrets
from contextlib import contextmanager
from typing import Iterator

# The machine's PostgreSQL (trust auth), for the benchmarks that do not take --pg.
PG_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _admin(server_url: str, statement: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE allow no other way)."""
    from sqlalchemy import create_engine, text

    from domain.db import normalise_url

    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


def create_scratch(server_url: str, prefix: str = "sasaeai_bench") -> tuple[str, str]:
    """Create a fresh database; return (its URL, its name)."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    _admin(server_url, f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name, name


def drop_scratch(server_url: str, name: str) -> None:
    _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_postgres(server_url: str = PG_SERVER_URL, prefix: str = "sasaeai_bench") -> Iterator[str]:
    url, name = create_scratch(server_url, prefix)
    try:
        yield url
    finally:
        drop_scratch(server_url, name)

"""Helpers shared by the subcommands: configuration, logging, services, a stop signal."""
from __future__ import annotations

import signal
import threading
import unicodedata
from contextlib import contextmanager
from datetime import timezone
from typing import Iterator

from sqlalchemy.orm import Session

from domain.clock import TOKYO
from domain.db import make_engine, make_session_factory, transaction
from domain.logs import configure_logging
from domain.settings import Config


def setup(**overrides) -> Config:
    config = Config.from_env(**overrides)
    configure_logging(config.log_level)
    return config


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT/SIGTERM so loops finish the current item and exit."""
    stop = threading.Event()

    def _handler(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    return stop


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One transaction on DATABASE_URL for a command; the engine is closed afterwards."""
    engine = make_engine(setup().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def display_width(value: str) -> int:
    """Columns a string takes in a terminal: 漢字 and かな take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in value)


def table(headers: list[str], rows: list[list[object]], max_width: int = 40) -> str:
    """A plain table with a header row and aligned columns (the last column is not padded)."""
    cells = [[str(c) for c in headers]] + [[("" if c is None else str(c)).replace("\n", " ") for c in row]
                                           for row in rows]
    cells = [[c if display_width(c) <= max_width or i == len(row) - 1 else _cut(c, max_width)
              for i, c in enumerate(row)] for row in cells]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        padded = [c + " " * (widths[i] - display_width(c)) if i < len(row) - 1 else c for i, c in enumerate(row)]
        lines.append("  ".join(padded).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cut(value: str, width: int) -> str:
    out, used = [], 0
    for char in value:
        size = display_width(char)
        if used + size > width - 1:
            break
        out.append(char)
        used += size
    return "".join(out) + "…"


def tokyo_time(moment) -> str:
    """A stored UTC time shown in Asia/Tokyo: 2026-11-26 10:00."""


    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return f"{moment.astimezone(TOKYO):%Y-%m-%d %H:%M}"

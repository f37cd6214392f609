"""Helpers shared by the subcommands: configuration, logging, services, a stop signal."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.orm import Session

from domain.settings import Config
from domain.logs import configure_logging


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
    from domain.db import make_engine, make_session_factory, transaction

    engine = make_engine(setup().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()

"""Helpers shared by the subcommands: configuration, logging, services, a stop signal."""
from __future__ import annotations

import signal
import threading

from sasaeai.config import Config
from sasaeai.logs import configure_logging


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

"""Structured (JSON) logs. Callers log ids and outcomes, never tokens, signatures or texts."""
from __future__ import annotations

import logging
import sys

import structlog

_SECRET_KEYS = {"token", "reply_token", "signature", "text", "access_token", "secret", "body"}


def _drop_secrets(_logger, _name, event_dict):
    # A safety net: even if someone logs one of these by mistake it never reaches the output.
    for key in list(event_dict):
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = "[redacted]"
    return event_dict


class _StderrLogger:
    """Writes each line to whatever sys.stderr is now (tests swap it; a bound file may close)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper(), force=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=lambda *_args: _StderrLogger(),
        cache_logger_on_first_use=False,
    )

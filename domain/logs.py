"""Structured (JSON) logs, with personal data kept out of them.

Callers log ids and outcomes, never tokens, signatures or texts. As a safety net every line —
ours through structlog and the libraries' through the standard logging module (flask,
werkzeug, gunicorn, sqlalchemy, apscheduler, alembic) — passes the same processors: keys named
like a secret are redacted, LINE user ids, phone numbers, e-mail and IP addresses and query
values are masked in every string, and an exception is written as its type and where it was
raised, never its message (a message may carry a value: a name, a phone, a bound parameter).
"""
from __future__ import annotations

import logging
import re
import sys
import traceback
from pathlib import Path
from typing import Any

import structlog

_SECRET_KEYS = {"token", "reply_token", "signature", "text", "access_token", "secret", "body",
                "words", "phone", "display_name", "name", "payload", "messages", "password"}
# Loggers of the libraries we run with; each goes through the same pipeline.
LIBRARY_LOGGERS = ("flask", "werkzeug", "gunicorn", "gunicorn.error", "gunicorn.access", "sqlalchemy",
                   "apscheduler", "alembic", "urllib3", "linebot")
MASK = "[redacted]"

_PATTERNS = (
    (re.compile(r"\bU[0-9a-f]{32}\b"), "U[redacted]"),                    # LINE user ids
    (re.compile(r"\b[CR][0-9a-f]{32}\b"), "[redacted]"),                   # group and room ids
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), MASK),                      # e-mail addresses
    (re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])"), "[ip]"),   # IPv4 addresses
    (re.compile(r"(?<!\d)(?:\+81[- ]?|0)\d{1,4}[- ]?\d{1,4}[- ]?\d{3,4}(?!\d)"), "[phone]"),
    (re.compile(r"(?i)(bearer\s+)[\w.~+/=-]+"), r"\1" + MASK),
    (re.compile(r"([?&][^=\s&\"']+=)[^&\s\"']+"), r"\1" + MASK),          # query values (codes, states)
)


def scrub(value: str) -> str:
    """The string with identifiers, phone numbers and addresses masked."""
    for pattern, replacement in _PATTERNS:
        value = pattern.sub(replacement, value)
    return value


def error_summary(exc: BaseException) -> str:
    """What a stored error keeps: each exception's type and where it was raised, no values.

    `KeyError at bot/dialogue/need.py:123 in on_need_text <- IntegrityError at …` (the chain from the
    outermost to its causes)."""
    parts, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        where = ""
        frames = traceback.extract_tb(current.__traceback__) if current.__traceback__ else []
        if frames:
            frame = frames[-1]
            where = f" at {_short_path(frame.filename)}:{frame.lineno} in {frame.name}"
        parts.append(f"{type(current).__module__}.{type(current).__qualname__}{where}"
                     .removeprefix("builtins."))
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)


def _short_path(filename: str) -> str:
    path = Path(filename)
    for root in (Path(__file__).resolve().parent.parent, *map(Path, sys.path)):
        try:
            return str(path.resolve().relative_to(root))
        except (ValueError, OSError):
            continue
    return path.name


def _drop_secrets(_logger, _name, event_dict):
    # A safety net: even if someone logs one of these by mistake it never reaches the output.
    for key in list(event_dict):
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = MASK
    return event_dict


# Written by the pipeline itself, never from a value: left as they are (a timestamp whose
# fraction begins with 0, ".052196", looked like a phone number to the scrubber).
_OWN_KEYS = frozenset({"timestamp", "level", "logger"})


def _scrub_values(_logger, _name, event_dict):
    for key, value in list(event_dict.items()):
        if key in _OWN_KEYS:
            continue
        if isinstance(value, str):
            event_dict[key] = scrub(value)
        elif isinstance(value, (list, tuple)):
            event_dict[key] = [scrub(v) if isinstance(v, str) else v for v in value]
    return event_dict


def _exception_as_type_and_place(_logger, _name, event_dict):
    """Replace exc_info by the exception's type and location (the message may hold values)."""
    exc_info = event_dict.pop("exc_info", None)
    event_dict.pop("exception", None)
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        exc = exc_info if isinstance(exc_info, BaseException) else exc_info[1]
        if exc is not None:
            event_dict["error"] = error_summary(exc)
    return event_dict


def _stdlib_message(_logger, _name, event_dict):
    """A library's record: its message, formatted, becomes the event; its logger is kept."""
    record = event_dict.get("_record")
    if record is not None:
        event_dict["logger"] = record.name
    return event_dict


def _processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _stdlib_message,
        _drop_secrets,
        _exception_as_type_and_place,
        _scrub_values,
    ]


class _StderrLogger:
    """Writes each line to whatever sys.stderr is now (tests swap it; a bound file may close)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


class _StderrHandler(logging.StreamHandler):
    """A stream handler on the current sys.stderr (not the one at configuration time)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def stdlib_handler() -> logging.Handler:
    """A handler that writes a library's records through our processors, as JSON."""
    handler = _StderrHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.JSONRenderer(ensure_ascii=False)],
    ))
    return handler


def route(logger: logging.Logger) -> None:
    """Send one library logger (e.g. gunicorn's, which installs its own handlers) through us."""
    logger.handlers[:] = [stdlib_handler()]
    logger.propagate = False


def configure_logging(level: str = "INFO") -> None:
    level = level.upper()
    logging.basicConfig(level=level, handlers=[stdlib_handler()], force=True)
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers[:] = []
        library.propagate = True
        library.setLevel(logging.NOTSET)
    # SQLAlchemy writes result rows at DEBUG (values a person gave): statements at most.
    logging.getLogger("sqlalchemy").setLevel(max(logging.getLevelName(level), logging.INFO)
                                             if level == "DEBUG" else logging.WARNING)
    structlog.configure(
        processors=[*_processors(), structlog.processors.JSONRenderer(ensure_ascii=False)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=lambda *_args: _StderrLogger(),
        cache_logger_on_first_use=False,
    )

"""Postback data: compact, versioned, and never trusted.

Format: ``v1|verb|arg|arg…`` (at most 300 bytes, LINE's limit). A handler receives only the
arguments and must check that the person pressing the button may act on what they name.
"""
from __future__ import annotations

from typing import Any, Callable

from sasaeai.line_limits import MAX_POSTBACK_DATA, MessageLimitError

VERSION = "v1"
SEPARATOR = "|"

PostbackHandler = Callable[[Any, list[str]], str]
_ROUTES: dict[str, PostbackHandler] = {}


def encode(verb: str, *args: object) -> str:
    parts = [VERSION, verb, *(str(a) for a in args)]
    if any(SEPARATOR in p for p in parts[1:]):
        raise ValueError("postback arguments may not contain '|'")
    data = SEPARATOR.join(parts)
    if len(data.encode("utf-8")) > MAX_POSTBACK_DATA:
        raise MessageLimitError("postback data over 300 bytes")
    return data


def decode(data: str) -> tuple[str, list[str]] | None:
    """(verb, args), or None for data that is not ours or of an older version."""
    parts = (data or "").split(SEPARATOR)
    if len(parts) < 2 or parts[0] != VERSION or not parts[1]:
        return None
    return parts[1], parts[2:]


def route(verb: str) -> Callable[[PostbackHandler], PostbackHandler]:
    """Register the handler of one verb (the handler's module is imported by handlers.py)."""
    def register(fn: PostbackHandler) -> PostbackHandler:
        if verb in _ROUTES and _ROUTES[verb] is not fn:
            raise ValueError(f"postback verb {verb!r} is taken")
        _ROUTES[verb] = fn
        return fn
    return register


def handler_for(verb: str) -> PostbackHandler | None:
    return _ROUTES.get(verb)

"""Postback data: compact and versioned, ``v1|verb|arg|arg…`` (at most 300 bytes).

Builders here and the router in bot/ share this format; the router never trusts it.
"""
from __future__ import annotations

from bot.line_limits import MAX_POSTBACK_DATA, MessageLimitError

VERSION = "v1"
SEPARATOR = "|"


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

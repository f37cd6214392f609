"""Routing of postbacks to the bot modules that own their verbs.

The data format is in bot.messages.postback. A handler receives only the arguments and
must check that the person pressing the button may act on what they name.
"""
from __future__ import annotations

from typing import Any, Callable

from bot.messages.postback import SEPARATOR, VERSION, decode, encode

__all__ = ["SEPARATOR", "VERSION", "decode", "encode", "route", "handler_for"]

PostbackHandler = Callable[[Any, list[str]], str]
_ROUTES: dict[str, PostbackHandler] = {}


def route(verb: str) -> Callable[[PostbackHandler], PostbackHandler]:
    """Register the handler of one verb (its module is imported by bot/routes.py)."""
    def register(fn: PostbackHandler) -> PostbackHandler:
        if verb in _ROUTES and _ROUTES[verb] is not fn:
            raise ValueError(f"postback verb {verb!r} is taken")
        _ROUTES[verb] = fn
        return fn
    return register


def handler_for(verb: str) -> PostbackHandler | None:
    return _ROUTES.get(verb)

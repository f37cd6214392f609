"""The postback codec for the bot (its format is in bot.messages.postback).

Which verb goes to which handler is declared in bot/dialogue/conversation.py, in one place.
"""
from __future__ import annotations

from bot.messages.postback import SEPARATOR, VERSION, decode, encode

__all__ = ["SEPARATOR", "VERSION", "decode", "encode"]

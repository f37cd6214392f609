"""The resident's, volunteer's and coordinator's dialogue on LINE, as one declared conversation.

- conversation.py — the declaration: entry, states and their handlers per input kind, inputs
  valid anywhere (safety first, commands, menu, consent, delete …), fallbacks; and `step`;
- states.py — the state names, and the translation of conversations stored by older versions;
- core.py — the input, the turn and what every flow shares;
- resident.py, area.py, need.py, volunteer.py, privacy.py, safety.py — one module per flow
  (the coordinator's answers live in bot/cases.py, bot/coordinator.py, bot/meetings.py).
"""
from __future__ import annotations

from bot.dialogue.conversation import step
from bot.dialogue.core import Input, Turn, consent_message, menu_message
from bot.dialogue.safety import safety_answer
from bot.dialogue.states import CONSENT, IDLE, upgrade

__all__ = ["CONSENT", "IDLE", "Input", "Turn", "consent_message", "menu_message", "safety_answer",
           "step", "upgrade"]

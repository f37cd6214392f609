"""Import every bot module that registers postback verbs (postbacks.route), in one place."""
from __future__ import annotations
from bot import meetings  # noqa: F401,E402  (v1|mtg|…: council meeting answers, lists, tallies)
from bot import coordinator  # noqa: F401,E402  (v1|coord|…: the coordinators' rich menu)

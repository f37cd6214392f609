"""Import every bot module that registers postback verbs (postbacks.route), in one place."""
from __future__ import annotations

"""linesim: a local LINE platform simulator (Messaging API + webhook sender + chat page)."""
from .server import create_app, state_of

__all__ = ["create_app", "state_of"]

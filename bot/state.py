"""Where each LINE user is in a dialogue, stored so that a restart loses no conversation."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.base import Base

# A dialogue left half-way this long starts again from the menu, politely.
DIALOGUE_TIMEOUT = timedelta(minutes=30)


class Conversation(Base):
    __tablename__ = "conversations"

    line_user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(40))
    # What the dialogue has gathered so far (the need draft, the offer being built …).
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime]

    @property
    def values(self) -> dict[str, Any]:
        return json.loads(self.data or "{}")


def load(session: Session, line_user_id: str, now: datetime, idle: str) -> tuple[Conversation, bool]:
    """The user's conversation (created at `idle`), and whether a half-way dialogue expired."""
    convo = session.get(Conversation, line_user_id)
    if convo is None:
        convo = Conversation(line_user_id=line_user_id, state=idle, data="{}", updated_at=now)
        session.add(convo)
        return convo, False
    if convo.state != idle and now - convo.updated_at > DIALOGUE_TIMEOUT:
        convo.state, convo.data = idle, "{}"
        return convo, True
    return convo, False


def save(convo: Conversation, state: str, data: dict[str, Any], now: datetime) -> None:
    convo.state = state
    convo.data = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    convo.updated_at = now


def forget(session: Session, line_user_id: str) -> None:
    convo = session.get(Conversation, line_user_id)
    if convo is not None:
        session.delete(convo)

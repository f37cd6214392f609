"""The CaseNotifier of domain.cases over the outbox: what a case's actions tell people on LINE.

Used by the console (handed over by webhook.Services) and by the coordinator's LINE actions, so
a message relayed from either place looks the same and is sent the same way (stored in the
caller's transaction, pushed by the dispatcher).
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy.orm import Session

from bot import notify, outbox
from bot.messages import cards, notices
from bot.messages import postback as postbacks
from bot.messages.build import Message, postback, shorten, text
from bot.messages.coordinator import COORDINATOR, RELAY
from bot.messages.resident import RESIDENT
from domain import escalation as esc
from domain.categories import label as category_label
from domain.labels import area_label
from domain.suggestions import suggest_resources
from domain.models import Match, Need, Person


class OutboxCaseNotifier:
    def __init__(self, console_url: str | None = None):
        self.console_url = console_url or None

    @staticmethod
    def _push(session: Session, person: Person, now: datetime, key: str, *messages: Message) -> bool:
        if not notify.reachable(person):
            return False
        outbox.enqueue_push(session, user_id=person.line_user_id, messages=list(messages), now=now, dedupe_key=key)
        return True

    def to_resident(self, session: Session, resident: Person, district: str, body: str, now: datetime,
                    key: str) -> None:
        self._push(session, resident, now, key, text(RELAY["from_coordinator"].format(district=district, body=body)))

    def to_coordinator(self, session: Session, coordinator: Person, escalation: esc.Escalation,
                       resident_name: str, body: str, now: datetime, key: str) -> None:
        need = session.get(Need, escalation.need_id)
        message = text(COORDINATOR["resident_answer"].format(
            name=(resident_name + "さん") if resident_name else COORDINATOR["no_name"],
            category=category_label(need.category) if need else "—",
            area=area_label(session, need.area_id if need else escalation.area_id),
            body=shorten(body, 4000)),
            [postback(COORDINATOR["message_resident"], postbacks.encode("esc", "msg", escalation.id))])
        self._push(session, coordinator, now, key, message)

    def ask_volunteers(self, session: Session, need: Need, matches: Sequence[Match], now: datetime) -> int:
        ctx = _PushContext(session, now, f"case-ask:{need.id}:{now.timestamp()}")
        return notify.send_request_cards(ctx, session, need, list(matches))

    def send_resources(self, session: Session, resident: Person, need: Need, resource_ids: Sequence[int],
                       now: datetime) -> bool:
        chosen = [r for r in suggest_resources(session, need, now, limit=10) if r.resource_id in set(resource_ids)]
        if not chosen:
            return False
        return self._push(session, resident, now, f"case-resource:{need.id}:{','.join(map(str, resource_ids))}:"
                                                  f"{now.timestamp()}",
                          text(RESIDENT["coordinator_suggests"]), cards.suggestions_message(chosen, []))

    def acknowledged(self, session: Session, escalation: esc.Escalation, owner: Person, now: datetime) -> None:
        """The other coordinators who were told see who took it (as after 対応します on LINE)."""
        need = session.get(Need, escalation.need_id)
        message = text(COORDINATOR["owner_told"].format(
            owner=owner.display_name or "担当者", category=category_label(need.category) if need else "—",
            area=notify.area_name(session, escalation.area_id)))
        for person in esc.recipients(session, escalation):
            if person.id != owner.id:
                self._push(session, person, now, f"case-ack:{escalation.id}:{person.id}", message)

    def case_notice(self, session: Session, escalation: esc.Escalation, now: datetime, viewer: Person | None):
        return notices.case_notice(session, escalation, now, self.console_url, viewer=viewer)


class _PushContext:
    """The little of EventContext that notify.send_request_cards needs, outside an event."""

    def __init__(self, session: Session, now: datetime, key: str):
        self.session, self.now, self._key, self._n = session, now, key, 0

    def push(self, user_id: str, *messages: Message) -> None:
        self._n += 1
        outbox.enqueue_push(self.session, user_id=user_id, messages=list(messages), now=self.now,
                            dedupe_key=f"{self._key}:{self._n}")

"""The domain's news, told on LINE, over the outbox: `domain.notify.Notifier` (the scheduler's and
the dialogue's news) and `domain.cases.CaseNotifier` (what a case's actions tell people, from the
console or from a coordinator on LINE).

One object, built by webhook.Services, so how a case notice, a relayed message or a meeting
reminder looks is decided here and in the catalogues, nowhere else. Everything is stored in
the caller's transaction and pushed by the dispatcher.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

from sqlalchemy.orm import Session

from bot import notify, outbox
from bot.messages import cards, council, notices
from bot.messages import postback as postbacks
from bot.messages.build import Message, postback, shorten, text
from bot.messages.coordinator import COORDINATOR, RELAY
from bot.messages.resident import RESIDENT
from bot.messages.volunteer import VOLUNTEER
from domain import escalation as esc
from domain.categories import label as category_label
from domain.labels import area_label
from domain.models import Match, Need, Person
from domain.notify import CASE_AGAIN, CASE_TO_CITY
from domain.resources import announce_candidate, rules_of
from domain.schedule import describe_rules
from domain.suggestions import suggest_resources

_CASE_HEADERS = {CASE_AGAIN: COORDINATOR["notice_again"], CASE_TO_CITY: COORDINATOR["notice_city"]}


class OutboxNotifier:
    def __init__(self, console_url: str | None = None):
        self.console_url = console_url or None

    # one person or many, by the outbox
    @staticmethod
    def _push(session: Session, person, messages: list[Message], now: datetime, key: str) -> int:
        if person is None or not person.reachable:
            return 0
        return int(outbox.enqueue_push(session, user_id=person.line_user_id, messages=messages, now=now,
                                       dedupe_key=key))

    @staticmethod
    def _multicast(session: Session, user_ids: Sequence[str], messages: list[Message], now: datetime,
                   key: str) -> int:
        if not user_ids:
            return 0
        return outbox.enqueue_multicast(session, user_ids=user_ids, messages=messages, now=now, dedupe_key=key)

    # escalation
    def case_notice(self, session, case, to, now, *, stage, key) -> int:
        # Each recipient's own card: the contact only where their scope covers the case (audited).
        message = notices.case_notice(session, case, now, self.console_url, header=_CASE_HEADERS.get(stage, ""),
                                      viewer=to)
        return self._push(session, to, [message], now, key)

    def case_overdue(self, session, case, to, now, *, key) -> int:
        return self._push(session, to, [notices.overdue_notice(session, case, now, self.console_url)], now, key)

    def resident_escalated(self, session, case, resident, now, *, key) -> int:
        return self._push(session, resident, [text(notices.resident_escalated(session, case))], now, key)

    def daily_summary(self, session, summary, day: date, now, *, key) -> int:
        message = notices.daily_summary(f"{day.month}月{day.day}日", summary.open_cases,
                                        summary.overdue_cases, summary.new_volunteers)
        return self._push(session, summary.coordinator, [message], now, key)

    # council meetings
    def meeting_reminder(self, session, meeting, user_ids, now, *, custom_text, key) -> int:
        return self._multicast(session, user_ids, council.reminder_messages(meeting, now, custom_text), now, key)

    def meeting_changed(self, session, meeting, user_ids, now, *, detail, key) -> int:
        return self._multicast(session, user_ids, council.change_messages(meeting, detail, now), now, key)

    def meeting_cancelled(self, session, meeting, user_ids, now, *, key) -> int:
        return self._multicast(session, user_ids, council.cancel_messages(meeting, meeting.cancel_reason), now, key)

    def meetings_digest(self, session, day, user_ids, now, *, key) -> int:
        return self._multicast(session, user_ids, council.digest_messages(day, now), now, key)

    def meeting_tally(self, session, meeting, tally, organiser, now, *, key) -> int:
        return self._push(session, organiser, council.tally_messages(tally), now, key)

    def minutes_due(self, session, meeting, days, organiser, now, *, key) -> int:
        return self._push(session, organiser, council.minutes_messages(meeting, days), now, key)

    def meeting_on_holiday(self, session, meeting, holiday, organiser, now, *, key) -> int:
        return self._push(session, organiser, council.holiday_messages(meeting, holiday), now, key)

    # resources and volunteers
    def place_offered(self, session, resource, to, now, *, key) -> int:
        """A resident offered a place: the coordinator is asked to visit and confirm it."""
        rules = rules_of(resource)
        area_id = resource.area_rows[0].area_id if resource.area_rows else None
        body = COORDINATOR["place_offered"].format(
            name=resource.name, area=area_label(session, area_id),
            when=describe_rules(rules) if rules else COORDINATOR["place_when_unknown"],
            words=shorten(resource.description or "—", 300))
        if self.console_url:
            body += "\n" + COORDINATOR["place_console"].format(
                url=f"{self.console_url.rstrip('/')}/resources/{resource.id}")
        return self._push(session, to, [text(body)], now, key)

    def match_approved(self, session, match, need, now, *, key) -> int:
        """Approved in the console: both sides learn each other's contact, as after 承認する on LINE."""
        ctx = _Pushes(session, now, key)
        notify.release_contacts(ctx, session, match, need, reply_to_volunteer=False)
        return ctx.count

    def match_declined(self, session, match, need, now, *, key) -> int:
        """見送る: the volunteer is thanked and told the coordinator will arrange it otherwise."""
        volunteer = session.get(Person, match.volunteer_id) if match.volunteer_id else None
        return self._push(session, volunteer, [text(VOLUNTEER["approval_declined"])], now, key)

    def place_offered_to_coordinators(self, session, resource, now) -> int:
        """Every coordinator of the place's district (else the city's) is told once."""
        return announce_candidate(session, resource, self, now)

    # a case's actions (domain.cases.CaseNotifier)
    def to_resident(self, session: Session, resident: Person, district: str, body: str, now: datetime,
                    key: str) -> None:
        self._push(session, resident, [text(RELAY["from_coordinator"].format(district=district, body=body))], now, key)

    def to_coordinator(self, session: Session, coordinator: Person, escalation: esc.Escalation,
                       resident_name: str, body: str, now: datetime, key: str) -> None:
        need = session.get(Need, escalation.need_id)
        message = text(COORDINATOR["resident_answer"].format(
            name=(resident_name + "さん") if resident_name else COORDINATOR["no_name"],
            category=category_label(need.category) if need else "—",
            area=area_label(session, need.area_id if need else escalation.area_id),
            body=shorten(body, 4000)),
            [postback(COORDINATOR["message_resident"], postbacks.encode("esc", "msg", escalation.id))])
        self._push(session, coordinator, [message], now, key)

    def ask_volunteers(self, session: Session, need: Need, matches: Sequence[Match], now: datetime) -> int:
        ctx = _Pushes(session, now, f"case-ask:{need.id}:{now.timestamp()}")
        return notify.send_request_cards(ctx, session, need, list(matches))

    def send_resources(self, session: Session, resident: Person, need: Need, resource_ids: Sequence[int],
                       now: datetime) -> bool:
        chosen = [r for r in suggest_resources(session, need, now, limit=10) if r.resource_id in set(resource_ids)]
        if not chosen:
            return False
        key = f"case-resource:{need.id}:{','.join(map(str, resource_ids))}:{now.timestamp()}"
        return self._push(session, resident, [text(RESIDENT["coordinator_suggests"]),
                                              cards.suggestions_message(chosen, [])], now, key) > 0

    def acknowledged(self, session: Session, escalation: esc.Escalation, owner: Person, now: datetime) -> None:
        """The other coordinators who were told see who took it (as after 対応します on LINE)."""
        need = session.get(Need, escalation.need_id)
        message = text(COORDINATOR["owner_told"].format(
            owner=owner.display_name or "担当者", category=category_label(need.category) if need else "—",
            area=notify.area_name(session, escalation.area_id)))
        for person in esc.recipients(session, escalation):
            if person.id != owner.id:
                self._push(session, person, [message], now, f"case-ack:{escalation.id}:{person.id}")


class _Pushes:
    """The little of an event context that bot.notify needs, outside an event; keys numbered."""

    def __init__(self, session: Session, now: datetime, key: str):
        self.session, self.now, self._key, self.count = session, now, key, 0

    def push(self, user_id: str, *messages: Message) -> None:
        self.count += 1
        outbox.enqueue_push(self.session, user_id=user_id, messages=list(messages), now=self.now,
                            dedupe_key=f"{self._key}:{self.count}")

    def reply(self, *messages: Message) -> None:  # never used outside an event
        raise RuntimeError("no reply token outside an event")

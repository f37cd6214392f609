"""Personal data: where it is kept, the one erasure routine, and retention by age.

INVENTORY names every column of every table that can hold personal data, and how, in one
place; tests/privacy/test_inventory.py fails when a text column (or a link to a person) is added
without being classified here.

`erase()` is the one routine that removes a person's data, used by 「わたしのデータを消す」
(ERASE), by withdrawing consent (WITHDRAW: what consent covered — the person row stays with
only the LINE id, so that the bot still knows not to ask again), and by the retention purge of
people who blocked the account (ERASE). `reduce_old()` shortens everyone's raw events and sent
message bodies after their own, shorter period; `redact_event_payload()` is what a parked event
keeps. Counts stay: needs keep category, area, status and times; matches and cases keep their
rows; the audit trail keeps who did what and when.

The domain knows the LINE tables (inbound events, outbox, conversations) only by name here, as
lightweight table clauses: it imports nothing from bot/.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import ColumnElement, bindparam, column, delete, func, or_, select, table, update
from sqlalchemy.orm import Session

from domain import escalation as esc_rules
from domain import needs as need_rules
from domain.base import UTCDateTime
from domain.cases import CaseMessage
from domain.escalation import AuditEntry, CaseNote, Escalation, Proposal
from domain.models import (
    ADMIN, CONSENT_GIVEN, CONSENT_REFUSED, CONSENT_WITHDRAWN, COORDINATOR, RESOURCE_CANDIDATE, Match, Need,
    NeedTransition, Offer, Person, PersonRole, Resource,
)
from domain.readings import Reading

# -- what a column can hold ---------------------------------------------------------------------
IDENTIFIER = "identifier"    # a LINE user id (or something that contains one)
NAME = "name"                # a person's name (LINE display name)
PHONE = "phone"
WORDS = "words"              # what a person wrote
LOCATION = "location"        # where a person lives or is (area link, address, coordinates)
NOTE = "note"                # what staff wrote, possibly about a person
MESSAGE = "message"          # bodies of messages sent on LINE
RAW_EVENT = "raw_event"      # LINE webhook events as received
PERSON_LINK = "person_link"  # a link to a row of people
OFFERED = "offered"          # personal only on a resource a resident offered (offered_by_id set)
ERROR = "error"              # a stored error: type and location only (domain.logs.error_summary)
NOT_PERSONAL = "not_personal"

# table → column → kind. Every String/Text column and every link to people.id is listed.
INVENTORY: dict[str, dict[str, str]] = {
    "people": {"line_user_id": IDENTIFIER, "display_name": NAME, "phone": PHONE, "area_id": LOCATION,
               "consent": NOT_PERSONAL},
    "person_roles": {"person_id": PERSON_LINK, "role": NOT_PERSONAL},
    "coordinator_areas": {"person_id": PERSON_LINK},
    "needs": {"person_id": PERSON_LINK, "words": WORDS, "category": NOT_PERSONAL, "status": NOT_PERSONAL,
              "urgency": NOT_PERSONAL},
    "need_transitions": {"by_person_id": PERSON_LINK, "note": NOTE, "from_status": NOT_PERSONAL,
                         "to_status": NOT_PERSONAL},
    "offers": {"person_id": PERSON_LINK, "note": WORDS},
    "offer_categories": {"category": NOT_PERSONAL},
    "offer_coverage": {"category": NOT_PERSONAL},
    "matches": {"volunteer_id": PERSON_LINK, "approved_by_id": PERSON_LINK, "status": NOT_PERSONAL},
    "resources": {"offered_by_id": PERSON_LINK, "name": OFFERED, "kana": OFFERED, "description": OFFERED,
                  "venue": OFFERED, "address": OFFERED, "phone": OFFERED, "url": OFFERED,
                  "provider_name": OFFERED, "kind": NOT_PERSONAL, "provider_type": NOT_PERSONAL,
                  "fee": NOT_PERSONAL, "eligibility": NOT_PERSONAL, "accessibility": NOT_PERSONAL,
                  "status": NOT_PERSONAL, "source": NOT_PERSONAL, "external_id": NOT_PERSONAL,
                  "source_file": NOT_PERSONAL},
    "resource_categories": {"category": NOT_PERSONAL},
    "resource_coverage": {"category": NOT_PERSONAL},
    "resource_schedules": {"kind": NOT_PERSONAL, "note": NOT_PERSONAL},
    "resource_closures": {"note": NOT_PERSONAL},
    "areas": {"code": NOT_PERSONAL, "name": NOT_PERSONAL, "kana": NOT_PERSONAL, "layer": NOT_PERSONAL},
    "escalations": {"owner_id": PERSON_LINK, "reason": NOT_PERSONAL, "urgency": NOT_PERSONAL,
                    "status": NOT_PERSONAL, "outcome": NOT_PERSONAL},
    "audit_entries": {"actor_id": PERSON_LINK, "action": NOT_PERSONAL, "detail": NOT_PERSONAL},
    "case_notes": {"author_id": PERSON_LINK, "text": NOTE},
    # Messages relayed between a coordinator and a resident through the official account.
    "case_messages": {"resident_id": PERSON_LINK, "coordinator_id": PERSON_LINK, "body": WORDS,
                      "direction": NOT_PERSONAL},
    # What the bot read in a resident's message, for coordinators to review (erased with them).
    "readings": {"person_id": PERSON_LINK, "words": WORDS, "reviewed_by_id": PERSON_LINK,
                 "category": NOT_PERSONAL, "safety": NOT_PERSONAL, "signals": NOT_PERSONAL,
                 "resident_category": NOT_PERSONAL, "reviewed_category": NOT_PERSONAL,
                 "reviewed_safety": NOT_PERSONAL},
    # The channel's shared throttle and quota state (one row): nothing about a person.
    "line_channel_state": {"key": NOT_PERSONAL},
    "console_sessions": {"person_id": PERSON_LINK, "token_hash": NOT_PERSONAL, "ended_reason": NOT_PERSONAL},
    "proposals": {"raised_by_id": PERSON_LINK, "text": NOTE, "category": NOT_PERSONAL, "status": NOT_PERSONAL},
    "conversations": {"line_user_id": IDENTIFIER, "state": NOT_PERSONAL, "data": WORDS},
    "inbound_events": {"payload": RAW_EVENT, "source_key": IDENTIFIER, "last_error": ERROR,
                       "webhook_event_id": NOT_PERSONAL, "destination": NOT_PERSONAL,
                       "event_type": NOT_PERSONAL, "status": NOT_PERSONAL, "outcome": NOT_PERSONAL},
    "outbox_messages": {"to_user": IDENTIFIER, "recipients": IDENTIFIER, "messages": MESSAGE,
                        "order_key": IDENTIFIER, "reply_token": NOT_PERSONAL, "dedupe_key": NOT_PERSONAL,
                        "kind": NOT_PERSONAL, "retry_key": NOT_PERSONAL, "status": NOT_PERSONAL,
                        "last_error": ERROR, "sent_via": NOT_PERSONAL, "line_request_id": NOT_PERSONAL},
    "meeting_series": {"organiser_id": PERSON_LINK, "member_ids": PERSON_LINK, "layer": NOT_PERSONAL,
                       "title": NOT_PERSONAL, "place": NOT_PERSONAL, "mode": NOT_PERSONAL,
                       "url": NOT_PERSONAL, "rule": NOT_PERSONAL},
    "meeting_series_exceptions": {"action": NOT_PERSONAL, "note": NOT_PERSONAL},
    "meetings": {"organiser_id": PERSON_LINK, "minutes_note": NOTE, "layer": NOT_PERSONAL,
                 "title": NOT_PERSONAL, "place": NOT_PERSONAL, "mode": NOT_PERSONAL, "url": NOT_PERSONAL,
                 "status": NOT_PERSONAL, "holiday_name": NOT_PERSONAL, "cancel_reason": NOT_PERSONAL},
    "meeting_members": {"person_id": PERSON_LINK},
    "meeting_agenda_items": {"title": NOTE, "detail": NOTE, "source": NOT_PERSONAL, "source_ref": NOT_PERSONAL},
    "meeting_answers": {"person_id": PERSON_LINK, "choice": NOT_PERSONAL, "note": WORDS},
    "meeting_reminders": {"kind": NOT_PERSONAL, "text": NOTE, "detail": NOTE, "status": NOT_PERSONAL,
                          "status_reason": NOT_PERSONAL, "delivery": NOT_PERSONAL, "dedupe_key": NOT_PERSONAL},
}

# How long each kind is kept (README: "personal data"), for 開示 and the policy page.
RETENTION = {
    "person": "「わたしのデータを消す」まで。ブロック後は SASAEAI_RETENTION_DAYS 日（既定90日）で消去",
    "events": "受信したイベントと送ったメッセージの本文は SASAEAI_EVENT_RETENTION_DAYS 日（既定30日）で縮約",
}

REDACTED = "[消去済み]"
ANON_PREFIX = "anon:"
# A resource a resident offered keeps, once they are erased, only this for a name.
ANONYMOUS_SPACE = "地域の方が提供するスペース"

ERASE, WITHDRAW = "erase", "withdraw"
_PERSONAL_ROLES_ON_WITHDRAWAL = {"resident", "volunteer"}

# The LINE tables, by name (defined in bot/: the domain does not import them).
_events = table("inbound_events", column("id"), column("webhook_event_id"), column("source_key"),
                column("payload"), column("status"), column("last_error"), column("received_at", UTCDateTime()),
                column("handled_at", UTCDateTime()))
_outbox = table("outbox_messages", column("id"), column("to_user"), column("recipients"), column("messages"),
                column("status"), column("reply_token"), column("order_key"), column("created_at", UTCDateTime()),
                column("sent_at", UTCDateTime()))
_conversations = table("conversations", column("line_user_id"), column("state"), column("data"),
                       column("updated_at", UTCDateTime()))


def pseudonym(key: bytes, line_user_id: str) -> str:
    """The keyed hash kept in place of a LINE user id: the same person gives the same value (so
    counts per person stay), and without the key nobody can tell whose it is."""
    digest = hmac.new(key, line_user_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return ANON_PREFIX + digest[:32]


# -- the fingerprints of a person ---------------------------------------------------------------
def fingerprints(person: Person, words: Iterable[str] = (), *, strong: bool = False) -> list[str]:
    """Strings that identify the person or repeat what they wrote, to find them in free text and
    message bodies (as stored: JSON with non-ASCII kept), longest first.

    `strong`: only those unlikely to occur by chance (the LINE id, the phone, a name of three
    characters or more, a long beginning of their words) — used where a match changes someone
    else's data (a message not yet sent to another person, another person's words); the weaker
    ones (a two-character name, four characters of words) only reduce what is already sent."""
    found: set[str] = set()
    if person.line_user_id:
        found.add(person.line_user_id)
    name = (person.display_name or "").strip()
    compact = name.replace(" ", "").replace("\u3000", "")
    if len(compact) >= (3 if strong else 2):
        found.update({name, compact})
    if person.phone:
        found.add(person.phone)
        digits = "".join(ch for ch in person.phone if ch.isdigit())
        if len(digits) >= 9:
            found.add(digits)
    for text_ in words:
        text_ = (text_ or "").strip()
        if len(text_) >= (8 if strong else 4):
            # Messages repeat the words shortened (the restatement, the coordinator's notice):
            # their beginning finds them all.
            found.add(text_[:16])
    as_json = {json.dumps(f, ensure_ascii=False)[1:-1] for f in found}
    return sorted({f for f in found | as_json if len(f) >= 2}, key=len, reverse=True)


def _containing(col, probes: list[str]) -> ColumnElement[bool] | None:
    if not probes:
        return None
    return or_(*(col.contains(p, autoescape=True) for p in probes))


def scrub_text(value: str, probes: list[str]) -> str:
    for probe in probes:  # longest first
        value = value.replace(probe, REDACTED)
    return value


# -- what an erasure did ------------------------------------------------------------------------
@dataclass
class Erasure:
    person_id: int
    mode: str
    needs: int = 0
    cases_closed: list[int] = field(default_factory=list)
    notes: int = 0
    offers: int = 0
    resources_deleted: int = 0
    resources_anonymised: int = 0
    messages: int = 0
    events: int = 0
    scrubbed: int = 0


def erase(session: Session, person: Person, now: datetime, *, key: bytes, mode: str = ERASE,
          current_event_ids: Iterable[str] = ()) -> Erasure:
    """Remove a person's data everywhere it is (see the module docstring).

    `current_event_ids` are the webhook event ids of the events being handled now (the one that
    asked for the erasure): they are reduced too, though not yet marked handled.
    """
    if mode not in (ERASE, WITHDRAW):
        raise ValueError(f"unknown erasure mode: {mode}")
    session.flush()
    report = Erasure(person.id, mode)
    line_id = person.line_user_id
    need_rows = list(session.scalars(select(Need).where(Need.person_id == person.id)))
    drafts = _conversation_words(session, line_id)
    said = [n.words for n in need_rows] + drafts
    probes = fingerprints(person, said)
    strong = fingerprints(person, said, strong=True)
    anon = pseudonym(key, line_id) if line_id else None

    # Their needs: closed, without words or link; the open cases end with the reason `erased`.
    need_ids = [n.id for n in need_rows]
    for need in need_rows:
        if need.status in need_rules.OPEN_STATUSES and need_rules.can_move(need.status, need_rules.CANCELLED):
            need_rules.move(need, need_rules.CANCELLED, now, note="erased")
        need.words, need.person_id = "", None
    report.needs = len(need_rows)
    session.execute(delete(CaseMessage).where(CaseMessage.resident_id == person.id))
    session.execute(delete(Reading).where(Reading.person_id == person.id))
    if need_ids:
        session.execute(update(NeedTransition).where(NeedTransition.need_id.in_(need_ids)).values(note=""))
        session.execute(update(Match).where(Match.need_id.in_(need_ids), Match.status == "tentative")
                        .values(status="withdrawn", updated_at=now))
        cases = list(session.scalars(select(Escalation).where(Escalation.need_id.in_(need_ids))))
        case_ids = [c.id for c in cases]
        for case in cases:
            if case.status in esc_rules.ACTIVE_STATUSES:
                esc_rules.close_for_erasure(session, case, now)
                report.cases_closed.append(case.id)
        if case_ids:
            report.notes = session.execute(delete(CaseNote).where(CaseNote.escalation_id.in_(case_ids))).rowcount
            session.execute(delete(CaseMessage).where(CaseMessage.escalation_id.in_(case_ids)))
            for proposal in session.scalars(select(Proposal).where(Proposal.escalation_id.in_(case_ids))):
                proposal.text = scrub_text(proposal.text, probes)

    # As a volunteer: requests not yet answered are withdrawn; their offers go.
    session.execute(update(Match).where(Match.volunteer_id == person.id, Match.status == "tentative")
                    .values(status="withdrawn", updated_at=now))
    offers = list(session.scalars(select(Offer).where(Offer.person_id == person.id)))
    for offer in offers:
        session.delete(offer)
    report.offers = len(offers)

    # Places they offered: a candidate goes; a confirmed resource loses what was theirs.
    for resource in session.scalars(select(Resource).where(Resource.offered_by_id == person.id)):
        if resource.status == RESOURCE_CANDIDATE:
            session.delete(resource)
            report.resources_deleted += 1
        else:
            resource.name, resource.kana, resource.description = ANONYMOUS_SPACE, "", ""
            resource.venue, resource.address, resource.phone, resource.url = "", "", "", ""
            resource.provider_name, resource.lat, resource.lon = "", None, None
            resource.offered_by_id, resource.updated_at = None, now
            report.resources_anonymised += 1

    # Links that stay as counts lose the person.
    session.execute(update(Match).where(Match.volunteer_id == person.id).values(volunteer_id=None))
    if mode == ERASE:
        session.execute(update(Match).where(Match.approved_by_id == person.id).values(approved_by_id=None))
        session.execute(update(NeedTransition).where(NeedTransition.by_person_id == person.id)
                        .values(by_person_id=None))
        _leave_meeting_series(session, person.id)

    # Free text anywhere else that names them or repeats their words.
    report.scrubbed = _scrub_free_text(session, strong)

    # LINE: the dialogue, the messages, the raw events.
    if line_id:
        if mode == ERASE:
            session.execute(delete(_conversations).where(_conversations.c.line_user_id == line_id))
        else:  # the dialogue goes on (the bot still answers them), with nothing gathered
            session.execute(update(_conversations).where(_conversations.c.line_user_id == line_id)
                            .values(data="{}"))
        report.messages = _erase_messages(session, line_id, anon, probes, strong)
        report.events = _erase_events(session, line_id, anon, probes, list(current_event_ids))

    if mode == ERASE:
        session.delete(person)
    else:
        person.display_name, person.phone, person.area_id, person.last_asked_at = "", None, None, None
        person.consent = CONSENT_WITHDRAWN if person.consent == CONSENT_GIVEN else (
            person.consent if person.consent in (CONSENT_WITHDRAWN, CONSENT_REFUSED) else CONSENT_REFUSED)
        person.consent_at = person.updated_at = now
        for row in list(person.role_rows):
            if row.role in _PERSONAL_ROLES_ON_WITHDRAWAL:
                person.role_rows.remove(row)
    session.flush()
    # Rows changed above behind the ORM's back (the worker's own event among them) are read anew.
    for obj in list(session.identity_map.values()):
        if getattr(obj, "__tablename__", None) in ("inbound_events", "outbox_messages", "conversations"):
            session.expire(obj)
    return report


def _conversation_words(session: Session, line_id: str | None) -> list[str]:
    """Words held in the person's dialogue (a draft need, words waiting for an area)."""
    if not line_id:
        return []
    data = session.scalar(select(_conversations.c.data).where(_conversations.c.line_user_id == line_id))
    try:
        values = json.loads(data or "{}")
    except ValueError:
        return []
    found = [values.get("pending_words") or ""]
    draft = values.get("draft")
    if isinstance(draft, dict):
        found.append(draft.get("words") or "")
    return [w for w in found if w]


def _leave_meeting_series(session: Session, person_id: int) -> None:
    from domain.meetings.models import MeetingSeries

    for series in session.scalars(select(MeetingSeries).where(MeetingSeries.member_ids != "")):
        ids = [part for part in series.member_ids.split(",") if part.strip()]
        if str(person_id) in ids:
            series.member_ids = ",".join(i for i in ids if i != str(person_id))


# (model, text column): free text by staff or others that may name the person.
def _free_text_columns():
    from domain.meetings.models import AgendaItem, Meeting, MeetingAnswer

    return ((CaseNote, "text"), (Proposal, "text"), (Need, "words"), (NeedTransition, "note"),
            (AgendaItem, "title"), (AgendaItem, "detail"), (Meeting, "minutes_note"), (MeetingAnswer, "note"))


def _scrub_free_text(session: Session, probes: list[str]) -> int:
    changed = 0
    if not probes:
        return 0
    for model, name in _free_text_columns():
        col = getattr(model, name)
        for row in session.scalars(select(model).where(_containing(col, probes))):
            setattr(row, name, scrub_text(getattr(row, name), probes))
            changed += 1
    return changed


def _erase_messages(session: Session, line_id: str, anon: str, probes: list[str], strong: list[str]) -> int:
    """Messages to the person, and messages to others that name them or repeat their words.

    Not yet sent: deleted (nobody needs them any more). Sent, failed or on the wire: the row stays
    as a count, without body, address or reply token. Multicasts: they leave the recipients."""
    o = _outbox.c
    names = _containing(o.messages, strong)
    found = session.execute(select(o.id, o.status, o.to_user, o.recipients, names.label("names")).where(or_(
        o.to_user == line_id, _containing(o.messages, probes), o.recipients.contains(line_id, autoescape=True)))).all()

    def without_them(recipients: str) -> str:
        return json.dumps([x for x in json.loads(recipients or "[]") if x != line_id])

    # Not yet sent and to them or surely about them: nobody needs it any more. A multicast to
    # others too goes on without them; a message that only might be about them is left alone.
    gone = [{"row_id": r.id} for r in found if r.status == "pending" and (r.to_user == line_id or r.names)]
    leaving = [{"row_id": r.id, "new_recipients": without_them(r.recipients)} for r in found
               if r.status == "pending" and not (r.to_user == line_id or r.names)
               and r.recipients and line_id in r.recipients]
    if gone:
        session.execute(delete(_outbox).where(o.id == bindparam("row_id")), gone)
    if leaving:
        session.execute(update(_outbox).where(o.id == bindparam("row_id")).values(
            recipients=bindparam("new_recipients")), leaving)
    # Sent, failed or on the wire: the row stays as a count, without body, address or reply token.
    changes = []
    for r in found:
        if r.status == "pending":
            continue
        change = {"row_id": r.id, "new_to": anon if r.to_user == line_id else r.to_user,
                  "new_recipients": r.recipients}
        if r.recipients and line_id in r.recipients:
            change["new_recipients"] = json.dumps([anon if x == line_id else x for x in json.loads(r.recipients)])
        changes.append(change)
    if changes:
        session.execute(update(_outbox).where(o.id == bindparam("row_id")).values(
            messages="[]", reply_token=None, to_user=bindparam("new_to"), recipients=bindparam("new_recipients"),
            order_key=func.coalesce(bindparam("new_to"), "erased")), changes)
    return len(found)


def _erase_events(session: Session, line_id: str, anon: str, probes: list[str], current: list[str]) -> int:
    """The person's events as received, and others' that repeat their words, reduced to their shape."""
    e = _events.c
    theirs = e.source_key == f"user:{line_id}"
    handled = e.status != "pending"
    if current:
        handled = or_(handled, e.webhook_event_id.in_(current))
    condition = or_(theirs, _containing(e.payload, probes))
    rows = [{"row_id": row.id, "reduced": reduce_event_payload(row.payload, {line_id: anon}),
             "key": f"user:{anon}" if row.source_key == f"user:{line_id}" else row.source_key}
            for row in session.execute(select(e.id, e.payload, e.source_key).where(handled, condition)).all()]
    if rows:
        session.execute(update(_events).where(e.id == bindparam("row_id")).values(
            payload=bindparam("reduced"), source_key=bindparam("key")), rows)
    return len(rows)


# -- what an event keeps ------------------------------------------------------------------------
_PERSONAL_MESSAGE_KEYS = ("text", "address", "title", "latitude", "longitude", "emojis", "mention",
                          "quotedMessageId", "quoteToken", "fileName", "keywords", "stickerResourceType")


def redact_event_payload(payload: str) -> str:
    """A parked event, as the operator keeps it: who, what kind, the button pressed (to retry it
    and see why it failed) — not what the person wrote or where they were."""
    try:
        event = json.loads(payload)
    except ValueError:
        return json.dumps({"redacted": True})
    message = event.get("message")
    if isinstance(message, dict):
        for key in _PERSONAL_MESSAGE_KEYS:
            if key in message:
                message[key] = REDACTED if isinstance(message[key], str) else None
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def reduce_event_payload(payload: str, replace_ids: dict[str, str] | None = None,
                         key: bytes | None = None) -> str:
    """An event reduced to its shape: type, time, ids of the delivery; the user id as a keyed
    hash; no text, location, postback data or reply token."""
    try:
        event = json.loads(payload)
    except ValueError:
        return json.dumps({"reduced": True})
    if not isinstance(event, dict):
        return json.dumps({"reduced": True})
    kept: dict[str, Any] = {k: event[k] for k in ("type", "mode", "timestamp", "webhookEventId",
                                                  "deliveryContext") if k in event}
    source = event.get("source")
    if isinstance(source, dict):
        reduced_source = {"type": source.get("type")}
        user = source.get("userId")
        if isinstance(user, str) and user:
            if replace_ids and user in replace_ids:
                reduced_source["userId"] = replace_ids[user]
            elif user.startswith(ANON_PREFIX):
                reduced_source["userId"] = user
            elif key is not None:
                reduced_source["userId"] = pseudonym(key, user)
        kept["source"] = reduced_source
    message = event.get("message")
    if isinstance(message, dict):
        kept["message"] = {"type": message.get("type")}
    if "postback" in event:
        kept["postback"] = {}
    kept["reduced"] = True
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":"))


def redact_message_body(messages: str) -> str:
    """A failed message, as the operator keeps it: the kinds of message and their buttons'
    postback data (what to retry, and why it failed), without the texts."""
    try:
        body = json.loads(messages)
    except ValueError:
        return "[]"

    def walk(node):
        if isinstance(node, dict):
            return {k: (REDACTED if k in ("text", "altText", "displayText", "label") and isinstance(v, str)
                        else REDACTED if k == "uri" and isinstance(v, str) and v.startswith("tel:")
                        else walk(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return json.dumps(walk(body), ensure_ascii=False, separators=(",", ":"))


# -- retention ----------------------------------------------------------------------------------
@dataclass
class Reduction:
    messages: int = 0
    events: int = 0
    parked: int = 0
    failed: int = 0
    conversations: int = 0


def reduce_old(session: Session, now: datetime, age: timedelta, *, key: bytes, batch: int = 2000,
               rounds: int = 50) -> Reduction:
    """Everyone's handled events and sent message bodies older than `age`: reduced to their shape
    (counts stay); parked events and failed messages not yet redacted: redacted now.

    Works in batches (at most `rounds` of them a call; the job comes back for the rest)."""
    report = Reduction()
    for _ in range(rounds):
        step = _reduce_batch(session, now - age, key, batch)
        for name in ("messages", "events", "parked", "failed", "conversations"):
            setattr(report, name, getattr(report, name) + getattr(step, name))
        if max(step.messages, step.events, step.parked, step.failed) < batch:
            break
    return report


def _reduce_batch(session: Session, cutoff: datetime, key: bytes, batch: int) -> Reduction:
    report = Reduction()
    o, e = _outbox.c, _events.c
    messages = []
    for row in session.execute(select(o.id, o.to_user).where(
            o.status.in_(("sent", "failed")), o.created_at < cutoff, o.messages != "[]").limit(batch)).all():
        to_user = row.to_user
        if to_user and not to_user.startswith(ANON_PREFIX):
            to_user = pseudonym(key, to_user)
        messages.append({"row_id": row.id, "anon": to_user, "order": to_user or "reduced"})
    if messages:
        session.execute(update(_outbox).where(o.id == bindparam("row_id")).values(
            messages="[]", to_user=bindparam("anon"), recipients=None, reply_token=None,
            order_key=bindparam("order")), messages)
    events = []
    for row in session.execute(select(e.id, e.payload, e.source_key).where(
            e.status.in_(("done", "parked")), e.received_at < cutoff,
            e.source_key.not_like(f"user:{ANON_PREFIX}%"), e.source_key.not_like("reduced:%")).limit(batch)).all():
        source_key = row.source_key
        if source_key.startswith("user:"):
            source_key = "user:" + pseudonym(key, source_key[len("user:"):])
        else:
            source_key = "reduced:" + hashlib.sha256(source_key.encode()).hexdigest()[:24]
        events.append({"row_id": row.id, "reduced": reduce_event_payload(row.payload, key=key), "key": source_key})
    if events:
        session.execute(update(_events).where(e.id == bindparam("row_id")).values(
            payload=bindparam("reduced"), source_key=bindparam("key")), events)
    parked = []
    for row in session.execute(select(e.id, e.payload).where(
            e.status == "parked", e.payload.not_like(f'%"{REDACTED}"%'), e.payload.not_like('%"reduced":true%'))
            .limit(batch)).all():
        redacted = redact_event_payload(row.payload)
        if redacted != row.payload:
            parked.append({"row_id": row.id, "redacted": redacted})
    if parked:
        session.execute(update(_events).where(e.id == bindparam("row_id")).values(payload=bindparam("redacted")),
                        parked)
    failed = [{"row_id": row.id, "redacted": redact_message_body(row.messages)}
              for row in session.execute(select(o.id, o.messages).where(
                  o.status == "failed", o.messages != "[]", o.messages.not_like(f"%{REDACTED}%")).limit(batch)).all()]
    if failed:
        session.execute(update(_outbox).where(o.id == bindparam("row_id")).values(messages=bindparam("redacted")),
                        failed)
    # A dialogue left half-way that long ago keeps nothing it gathered (a draft need's words).
    c = _conversations.c
    report.conversations = session.execute(update(_conversations).where(
        c.updated_at < cutoff, c.data != "{}").values(data="{}", state="idle")).rowcount
    report.messages, report.events, report.parked, report.failed = len(messages), len(events), len(parked), len(failed)
    return report


def purge_unfollowed(session: Session, now: datetime, retention: timedelta, *, key: bytes) -> int:
    """Erase everyone who blocked the account more than `retention` ago; return how many."""
    people = list(session.scalars(select(Person).where(
        Person.active.is_(False), Person.unfollowed_at.is_not(None), Person.unfollowed_at < now - retention)
        .order_by(Person.id)))
    for person in people:
        erase(session, person, now, key=key, mode=ERASE)
    return len(people)


# -- 開示: what is held about a person ---------------------------------------------------------
@dataclass
class Held:
    display_name: str
    phone: str | None
    area_id: int | None
    consent: str
    roles: list[str]
    needs: list[Need]
    offers: int
    places: list[Resource]
    notes: int
    open_cases: int
    messages: int
    events: int


def held_about(session: Session, person: Person) -> Held:
    """Everything the service holds about a person, for 「わたしのデータを見る」."""
    needs = list(session.scalars(select(Need).where(Need.person_id == person.id).order_by(Need.created_at)))
    need_ids = [n.id for n in needs] or [-1]
    case_ids = select(Escalation.id).where(Escalation.need_id.in_(need_ids))
    line_id = person.line_user_id or ""
    return Held(
        display_name=person.display_name, phone=person.phone, area_id=person.area_id, consent=person.consent,
        roles=sorted(r for r in person.roles if r not in (COORDINATOR, ADMIN)) + sorted(
            r for r in person.roles if r in (COORDINATOR, ADMIN)),
        needs=needs,
        offers=session.scalar(select(func.count()).select_from(Offer).where(Offer.person_id == person.id)) or 0,
        places=list(session.scalars(select(Resource).where(Resource.offered_by_id == person.id))),
        notes=session.scalar(select(func.count()).select_from(CaseNote).where(CaseNote.escalation_id.in_(case_ids))) or 0,
        open_cases=session.scalar(select(func.count()).select_from(Escalation).where(
            Escalation.need_id.in_(need_ids), Escalation.status.in_(esc_rules.ACTIVE_STATUSES))) or 0,
        messages=session.scalar(select(func.count()).select_from(_outbox).where(
            _outbox.c.to_user == line_id, _outbox.c.messages != "[]")) or 0,
        events=session.scalar(select(func.count()).select_from(_events).where(
            _events.c.source_key == f"user:{line_id}")) or 0,
    )


__all__ = ["INVENTORY", "ERASE", "WITHDRAW", "erase", "purge_unfollowed", "reduce_old", "held_about",
           "pseudonym", "fingerprints", "redact_event_payload", "reduce_event_payload",
           "redact_message_body", "AuditEntry", "PersonRole"]

"""The coordinator's side on LINE: escalation notices, approvals, and case actions.

Every postback that names a case is checked against the coordinator's districts; a refusal is
logged and written to the audit trail.
"""
from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import notify
from bot.notifier import OutboxNotifier
from domain import escalation as esc_rules
from domain import matches as match_rules
from domain import needs as need_rules
from domain.categories import CATEGORIES, label as category_label
from domain.suggestions import suggest_resources, suggest_volunteers, volunteers_to_ask
from domain.models import (
    ACCEPTED as MATCH_ACCEPTED, CITY, COORDINATOR as COORDINATOR_ROLE, Area, Match, Need, Person, URGENT,
)
from domain.people import can_see_area
from bot.messages import cards, notices
from bot.messages.build import postback, text
from bot.messages.coordinator import COORDINATOR
from bot.messages.postback import encode
from bot.messages.resident import RESIDENT
from bot.messages.volunteer import VOLUNTEER

log = structlog.get_logger(__name__)

ESC_NOTE = "esc.note"
ESC_PROPOSAL = "esc.proposal"
ESC_MESSAGE = "esc.message"
# A coordinator writing a note, a proposal or a message to a resident: the text is that, not a
# resident's message (no safety words, no commands, no meeting replies are read into it).
WRITING_STATES = frozenset({ESC_NOTE, ESC_PROPOSAL, ESC_MESSAGE})
IDLE = "idle"


def _policy(ctx: Any) -> esc_rules.DeadlinePolicy:
    return ctx.deadline_policy


def _console(ctx: Any) -> str | None:
    return ctx.console_url


def root_area_id(session: Session) -> int | None:
    return session.scalar(select(Area.id).where(Area.layer == CITY).order_by(Area.id).limit(1))


def escalate_need(ctx: Any, session: Session, need: Need, reason: str) -> esc_rules.Escalation:
    """Escalate and, when the case is new (or newly urgent), push the notice to its coordinators."""
    before = esc_rules.active_escalation(session, need.id)
    was_urgent = before is not None and before.urgency == URGENT
    escalation, created = esc_rules.escalate(session, need, reason, ctx.now, _policy(ctx))
    if created or (escalation.urgency == URGENT and not was_urgent):
        notify_coordinators(ctx, session, escalation)
    return escalation


def notify_coordinators(ctx: Any, session: Session, escalation: esc_rules.Escalation,
                        people: list[Person] | None = None, header: str = "") -> int:
    """The case notice to each coordinator, with the contact for those whose scope covers it."""
    told = 0
    for person in people if people is not None else esc_rules.recipients(session, escalation):
        if person is not None and person.reachable:
            ctx.push(person.line_user_id, notices.case_notice(session, escalation, ctx.now, _console(ctx), header,
                                                              viewer=person))
            told += 1
    if not told:
        log.error("escalation.nobody_to_tell", escalation_id=escalation.id)
    return told


def _need_for(turn: Any, need: Need | None, words: str, category: str = "other",
              urgency: str = "normal") -> Need | None:
    """The need to hand over: the one given, or a new one in the person's area (else the city's).
    None when there is no area at all (a city whose areas are not loaded): no case can be made."""
    if need is not None:
        return need
    area_id = turn.person.area_id or root_area_id(turn.session)
    if area_id is None:
        log.error("escalation.no_area")
        return None
    return need_rules.create_need(turn.session, person=turn.person, category=category, area=area_id,
                                  now=turn.now, words=words, urgency=urgency)


def escalate_from_dialogue(turn: Any, need: Need | None, reason: str) -> str:
    """Escalate from the resident's dialogue; return what to tell the resident."""
    words = RESIDENT["menu_person"] if reason == esc_rules.ASKED_FOR_PERSON else ""
    target = _need_for(turn, need, words)
    if target is None:
        return RESIDENT["no_one_to_hand_over"]
    escalation = escalate_need(turn.ctx, turn.session, target, reason)
    return notices.resident_escalated(turn.session, escalation)


def escalate_quietly(turn: Any, need: Need, reason: str) -> None:
    """Escalate while answering someone else (a volunteer): the resident is told by push."""
    escalation = escalate_need(turn.ctx, turn.session, need, reason)
    resident = turn.session.get(Person, need.person_id) if need.person_id else None
    if (resident is not None and resident.reachable):
        turn.ctx.push(resident.line_user_id, text(notices.resident_escalated(turn.session, escalation)))


def escalate_safety(turn: Any, words: str, level: str, category: str, suspected: bool = False,
                    need_id: int | None = None) -> bool:
    """An emergency or crisis signal: an urgent case at once; only suspected, a 要確認 case
    (normal urgency; its need id is kept in ``turn.data["safety_need_id"]`` so that a later
    「はい」 makes that same case urgent, ``need_id``). The category passed is the one read from
    the words. Done even without consent, as the person's life or safety comes first (APPI art.
    27(1)(ii)). Returns whether a coordinator was told."""
    need = turn.session.get(Need, need_id) if need_id is not None else None
    if need is not None and need.person_id != turn.person.id:
        need = None
    urgency = "normal" if suspected else URGENT
    need = _need_for(turn, need, words, category if category else "other", urgency=urgency)
    if need is None:
        return False  # the guidance goes out all the same; only the case could not be made
    if suspected:
        turn.data["safety_need_id"] = need.id
    reason = esc_rules.SAFETY_CHECK if suspected else level
    before = esc_rules.active_escalation(turn.session, need.id)
    was_urgent = before is not None and before.urgency == URGENT
    escalation, created = esc_rules.escalate(turn.session, need, reason, turn.now, _policy(turn.ctx))
    if created or (escalation.urgency == URGENT and not was_urgent):
        return notify_coordinators(turn.ctx, turn.session, escalation) > 0
    return True


def escalate_failed_event(ctx: Any, session: Session, line_user_id: str, words: str) -> bool:
    """Fail safe: a person's message the bot could not handle goes to a coordinator."""
    from domain.people import find_by_line_id

    person = find_by_line_id(session, line_user_id)
    if person is None or person.has_role(COORDINATOR_ROLE):  # a coordinator is no case's resident
        return False
    area_id = person.area_id or root_area_id(session)
    if area_id is None:
        return False
    need = need_rules.create_need(session, person=person, category="other", area=area_id, now=ctx.now,
                                  words=words if person.consented else "")
    escalate_need(ctx, session, need, esc_rules.BOT_FAILURE)
    return True


# -- approval of a volunteer who enters the home ---------------------------------------------------
def ask_approval(ctx: Any, session: Session, match: Match, need: Need) -> None:
    volunteer = session.get(Person, match.volunteer_id)
    card = cards.approval_card(match.id, (volunteer.display_name if volunteer else "") or "担い手",
                               category_label(need.category), notify.area_name(session, need.area_id),
                               notify.when_text(need), why=CATEGORIES[need.category].why)
    area = session.get(Area, need.area_id)
    from domain.people import coordinators_for_area

    for person in coordinators_for_area(session, area.id if area else need.area_id):
        if (person is not None and person.reachable):
            ctx.push(person.line_user_id, card)


def approve_from_dialogue(turn: Any, match_id: int | None) -> str:
    match = turn.session.get(Match, match_id) if match_id is not None else None
    need = turn.session.get(Need, match.need_id) if match is not None else None
    if match is None or need is None or not _is_coordinator_for(turn, need.area_id):
        _refuse(turn, f"approve match {match_id}")
        return IDLE
    if match.approved_at is not None:
        turn.say(text(COORDINATOR["already_approved"]))
        return IDLE
    if match.status != MATCH_ACCEPTED:  # declined, expired or withdrawn since the card was sent
        turn.say(text(COORDINATOR["not_approvable"]))
        return IDLE
    match_rules.approve_match(turn.session, match, turn.person, turn.now)
    notify.release_contacts(turn.ctx, turn.session, match, need, reply_to_volunteer=False)
    turn.say(text(COORDINATOR["approved"]))
    return IDLE


def reject_from_dialogue(turn: Any, match_id: int | None) -> str:
    """見送る on an approval card: the volunteer is thanked, and the need goes on — to the next
    volunteers, or to the coordinator's own case when nobody is left to ask."""
    match = turn.session.get(Match, match_id) if match_id is not None else None
    need = turn.session.get(Need, match.need_id) if match is not None else None
    if match is None or need is None or not _is_coordinator_for(turn, need.area_id):
        _refuse(turn, f"reject match {match_id}")
        return IDLE
    if match.status != match_rules.ACCEPTED or match.approved_at is not None:
        turn.say(text(COORDINATOR["already_decided"]))
        return IDLE
    match_rules.reject_match(turn.session, match, turn.person, turn.now)
    volunteer = turn.session.get(Person, match.volunteer_id)
    if volunteer is not None and volunteer.reachable:
        turn.ctx.push(volunteer.line_user_id, text(VOLUNTEER["not_approved"].format(
            category=category_label(need.category), when=notify.when_text(need))))
    resident = turn.session.get(Person, need.person_id) if need.person_id else None
    chosen = volunteers_to_ask(turn.session, need, turn.now)
    matches = match_rules.ask_volunteers(turn.session, need, [v.person_id for v in chosen], turn.now,
                                         offer_ids={v.person_id: v.offer_id for v in chosen})
    if matches:
        notify.send_request_cards(turn.ctx, turn.session, need, matches)
        if resident is not None and resident.reachable:
            turn.ctx.push(resident.line_user_id, text(RESIDENT["still_looking"]))
        turn.say(text(COORDINATOR["rejected_asking"].format(count=len(matches))))
        return IDLE
    escalation = escalate_need(turn.ctx, turn.session, need, esc_rules.ALL_DECLINED)
    if resident is not None and resident.reachable:
        turn.ctx.push(resident.line_user_id, text(notices.resident_escalated(turn.session, escalation)))
    turn.say(text(COORDINATOR["rejected_case"]))
    return IDLE


# -- case actions ----------------------------------------------------------------------------------
def _is_coordinator_for(turn: Any, area_id: int) -> bool:
    return turn.person.has_role(COORDINATOR_ROLE) and can_see_area(turn.session, turn.person, area_id)


def _refuse(turn: Any, what: str) -> None:
    log.warning("postback.refused", reason="not_coordinator_for_area", person_id=turn.person.id, what=what)
    esc_rules.audit(turn.session, turn.now, "refused", actor=turn.person, detail=what)
    turn.say(text(COORDINATOR["not_yours"]))


def _case(turn: Any, escalation_id: int | None) -> esc_rules.Escalation | None:
    case = turn.session.get(esc_rules.Escalation, escalation_id) if escalation_id is not None else None
    if case is None or not _is_coordinator_for(turn, case.area_id):
        _refuse(turn, f"escalation {escalation_id}")
        return None
    return case


def on_case(turn: Any, inp: Any) -> str:
    """v1|esc|<action>|<case id>[|<outcome>]"""
    action = inp.args[0] if inp.args else ""
    case = _case(turn, turn.arg_int(inp, 1))
    if case is None:
        return IDLE
    if action == "card":  # from 「相談の一覧」: the case's notice again
        turn.say(notices.case_notice(turn.session, case, turn.now, _console(turn.ctx), viewer=turn.person))
        return IDLE
    if case.status not in esc_rules.ACTIVE_STATUSES and action != "ack":
        turn.say(text(COORDINATOR["closed"]))
        return IDLE
    if action == "ack":
        case, won = esc_rules.acknowledge(turn.session, case.id, turn.person, turn.now)
        if not won:
            owner = turn.session.get(Person, case.owner_id) if case.owner_id else None
            turn.say(text(COORDINATOR["acknowledged_by_other"].format(
                owner=(owner.display_name if owner else "") or "ほかの方")))
            return IDLE
        contact = notices.contact_text(turn.session, case, turn.person, turn.now)
        buttons = [postback(COORDINATOR["message_resident"], encode("esc", "msg", case.id))]
        turn.say(text(COORDINATOR["acknowledged"] + ("\n\n" + contact if contact else ""), buttons))
        _notifier(turn).acknowledged(turn.session, case, turn.person, turn.now)
        return IDLE
    if action == "msg":
        turn.data["case_id"] = case.id
        area = turn.session.get(Area, case.area_id)
        turn.say(text(COORDINATOR["ask_message"].format(district=area.name if area else "")))
        return ESC_MESSAGE
    if action == "res":
        outcomes = [("resource", "outcome_resource"), ("volunteer", "outcome_volunteer"),
                    ("referred", "outcome_referred"), ("unresolvable", "outcome_unresolvable")]
        turn.say(text(COORDINATOR["pick_outcome"],
                      [postback(COORDINATOR[key], encode("esc", "out", case.id, code)) for code, key in outcomes]))
        return IDLE
    if action == "out":
        outcome = inp.args[2] if len(inp.args) > 2 else ""
        if outcome not in esc_rules.OUTCOMES:
            turn.say(text(RESIDENT["stale_button"]))
            return IDLE
        esc_rules.resolve(turn.session, case.id, turn.person, outcome, turn.now)
        turn.say(text(COORDINATOR["resolved"]))
        return IDLE
    if action == "conn":
        return offer_connections(turn, case)
    if action == "askv":
        return connect_volunteer(turn, case, turn.arg_int(inp, 2))
    if action == "sendr":
        return connect_resource(turn, case, turn.arg_int(inp, 2))
    if action == "note":
        turn.data["case_id"] = case.id
        turn.say(text(COORDINATOR["ask_note"]))
        return ESC_NOTE
    if action == "raise":
        turn.data["case_id"] = case.id
        turn.say(text(COORDINATOR["ask_proposal"]))
        return ESC_PROPOSAL
    turn.say(text(RESIDENT["stale_button"]))
    return IDLE


def offer_connections(turn: Any, case: esc_rules.Escalation) -> str:
    """つなぐ: the best volunteers and resources for the case, each a button away."""
    need = turn.session.get(Need, case.need_id)
    # Those already asked stay in the list (marked), so a number keeps meaning the same person
    # each time the list is shown.
    asked = set(turn.session.scalars(select(Match.volunteer_id).where(Match.need_id == need.id)))
    volunteers = suggest_volunteers(turn.session, need, turn.now, limit=min(10, 3 + len(asked)),
                                    include_unavailable=True, exclude_asked=False)
    resources = suggest_resources(turn.session, need, turn.now, limit=3)
    if not volunteers and not resources:
        turn.say(text(COORDINATOR["nothing_to_connect"]))
        return IDLE
    lines, buttons = [], []
    for n, v in enumerate(volunteers, start=1):
        person = turn.session.get(Person, v.person_id)
        mark = COORDINATOR["already_asked"] if v.person_id in asked else ""
        lines.append(f"担い手{n}：{(person.display_name if person else '') or '—'}（{v.explanation}）{mark}")
        if not mark:
            buttons.append(postback(COORDINATOR["ask_volunteer"].format(n=n), encode("esc", "askv", case.id, v.person_id)))
    for n, r in enumerate(resources, start=1):
        lines.append(f"資源{n}：{r.name}（{r.explanation}）")
        buttons.append(postback(COORDINATOR["send_resource"].format(n=n), encode("esc", "sendr", case.id, r.resource_id)))
    turn.say(text(COORDINATOR["connect_intro"] + "\n" + "\n".join(lines), buttons))
    return IDLE


def connect_volunteer(turn: Any, case: esc_rules.Escalation, person_id: int | None) -> str:
    need = turn.session.get(Need, case.need_id)
    offered = {v.person_id for v in suggest_volunteers(turn.session, need, turn.now, limit=10,
                                                       include_unavailable=True, exclude_asked=False)}
    if person_id not in offered:  # only a volunteer the system offered for this need
        _refuse(turn, f"volunteer {person_id} for escalation {case.id}")
        return IDLE
    # The coordinator chose this volunteer: asking is the approval (no second one after 引き受ける).
    matches = match_rules.ask_volunteers(turn.session, need, [person_id], turn.now, approved_by=turn.person)
    if not matches:
        turn.say(text(COORDINATOR["volunteer_already_asked"]))
        return IDLE
    notify.send_request_cards(turn.ctx, turn.session, need, matches)
    esc_rules.audit(turn.session, turn.now, "asked_volunteer", case, turn.person, str(person_id))
    turn.say(text(COORDINATOR["volunteer_asked"]))
    return IDLE


def connect_resource(turn: Any, case: esc_rules.Escalation, resource_id: int | None) -> str:
    need = turn.session.get(Need, case.need_id)
    chosen = [r for r in suggest_resources(turn.session, need, turn.now, limit=10) if r.resource_id == resource_id]
    resident = turn.session.get(Person, need.person_id) if need.person_id else None
    if not chosen:
        _refuse(turn, f"resource {resource_id} for escalation {case.id}")
        return IDLE
    if (resident is not None and resident.reachable):
        turn.ctx.push(resident.line_user_id, text(RESIDENT["coordinator_suggests"]),
                      cards.suggestions_message(chosen, []))
    esc_rules.audit(turn.session, turn.now, "sent_resource", case, turn.person, str(resource_id))
    turn.say(text(COORDINATOR["resource_sent"] if (resident is not None and resident.reachable) else COORDINATOR["resident_unreachable"]))
    return IDLE


def _notifier(turn: Any) -> OutboxNotifier:
    """The same notifier the console uses (bot/notifier.py): a case's news reads alike from both."""
    return OutboxNotifier(_console(turn.ctx))


def on_note_text(turn: Any, inp: Any) -> str:
    case = _case(turn, turn.data.pop("case_id", None))
    if case is not None:
        esc_rules.add_note(turn.session, case.id, turn.person, inp.text, turn.now)
        turn.say(text(COORDINATOR["noted"]))
    return IDLE


def on_message_text(turn: Any, inp: Any) -> str:
    """The coordinator's words for the resident, relayed from the official account."""
    from domain import cases

    case = _case(turn, turn.data.pop("case_id", None))
    if case is None:
        return IDLE
    try:
        cases.message_resident(turn.session, case.id, turn.person, inp.text, turn.now,
                               _notifier(turn))
    except cases.CaseError:
        if len(inp.text.strip()) > cases.MAX_MESSAGE:
            turn.data["case_id"] = case.id
            turn.say(text(COORDINATOR["message_too_long"].format(limit=cases.MAX_MESSAGE)))
            return ESC_MESSAGE
        turn.say(text(COORDINATOR["resident_unreachable"]))
        return IDLE
    turn.say(text(COORDINATOR["message_sent"]))
    return IDLE


def relay_answer(turn: Any, inp: Any) -> bool:
    """A resident's words while a coordinator waits for their answer go to that coordinator."""
    from bot.messages.coordinator import RELAY
    from domain import cases

    if not turn.person.consented:
        return False
    sent = cases.resident_answer(turn.session, turn.person, inp.text, turn.now, _notifier(turn))
    if sent is None:
        return False
    turn.say(text(RELAY["answer_sent"]))
    return True


def on_proposal_text(turn: Any, inp: Any) -> str:
    case = _case(turn, turn.data.pop("case_id", None))
    if case is not None:
        esc_rules.raise_to_city(turn.session, case.id, turn.person, inp.text, turn.now)
        turn.say(text(COORDINATOR["raised"]))
    return IDLE

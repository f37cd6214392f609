"""Working a case: finding it within one's scope, reaching the resident, and the lists.

- `get_case`: a row by id, only inside the coordinator's scope; anything else
  is "not found" (existence is not revealed) and leaves an audit row.
- `contact_for`: the name, phone, neighbourhood and words needed to make contact; every view
  is written to the audit trail.
- `message_resident` / `resident_answer`: 「住民にメッセージを送る」 relayed through the official
  account, and the resident's answer back to the coordinator who wrote. The texts are kept in
  `case_messages` (erased with the resident); the audit trail records that a message went, not
  its words.
- `list_cases`, `list_needs`, `list_volunteers`, `list_resources`: the console's lists, each
  filtered through `Scope.where()`.

What must reach someone on LINE goes through a `CaseNotifier`, implemented in bot/.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, Sequence

from sqlalchemy import (
    ForeignKey, Index, String, Text, and_, case as sql_case, exists, func, or_, select,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from domain import escalation as esc
from domain.base import Base
from domain.labels import area_label
from domain.models import (
    CITY, COORDINATOR, DISTRICT, RESOURCE_ACTIVE, RESOURCE_CANDIDATE, VOLUNTEER, Area, Id, Match, Need, Offer,
    OfferArea, OfferCategory, Person, PersonRole, Resource, ResourceArea, ResourceCategory,
)
from domain.scope import Scope, scope_of

TO_RESIDENT, FROM_RESIDENT = "to_resident", "from_resident"
# A resident's words go back to the coordinator this long after the coordinator last wrote.
ANSWER_WINDOW = timedelta(days=14)
MAX_MESSAGE = 1000  # characters a coordinator may relay (LINE allows 5000; a letter is shorter)
PAGE_SIZE = 50


class NotFound(LookupError):
    """No such row in this coordinator's scope (whether or not it exists elsewhere)."""


class CaseError(ValueError):
    pass


class CaseMessage(Base):
    """One message relayed between a coordinator and a resident about a case."""

    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    escalation_id: Mapped[int] = mapped_column(Id, ForeignKey("escalations.id", ondelete="CASCADE"))
    # Erasing the resident erases the messages with them.
    resident_id: Mapped[int] = mapped_column(Id, ForeignKey("people.id", ondelete="CASCADE"))
    coordinator_id: Mapped[int | None] = mapped_column(Id, ForeignKey("people.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_case_messages_escalation", "escalation_id", "id"),
        Index("ix_case_messages_resident", "resident_id", "at"),
    )


class CaseNotifier(Protocol):
    """How the domain's news about a case reaches people on LINE (implemented in bot/)."""

    def to_resident(self, session: Session, resident: Person, district: str, body: str, now: datetime,
                    key: str) -> None: ...

    def to_coordinator(self, session: Session, coordinator: Person, escalation: esc.Escalation,
                       resident_name: str, body: str, now: datetime, key: str) -> None: ...

    def ask_volunteers(self, session: Session, need: Need, matches: Sequence[Match], now: datetime) -> int: ...

    def send_resources(self, session: Session, resident: Person, need: Need, resource_ids: Sequence[int],
                       now: datetime) -> bool: ...

    def acknowledged(self, session: Session, escalation: esc.Escalation, owner: Person, now: datetime) -> None: ...


def reachable(person: Person | None) -> bool:
    return person is not None and person.reachable  # Person.reachable: the one rule


# -- rows in scope ---------------------------------------------------------------------------------
def _not_found(session: Session, actor: Person | None, now: datetime, what: str) -> NotFound:
    esc.audit(session, now, "out_of_scope", actor=actor, detail=what)
    return NotFound(what)


def get_case(session: Session, scope: Scope, escalation_id: int, actor: Person | None, now: datetime
             ) -> esc.Escalation:
    """The case, if it is in scope; otherwise NotFound and an audit row."""
    found = session.scalar(select(esc.Escalation).where(esc.Escalation.id == escalation_id,
                                                        scope.where(esc.Escalation.area_id)))
    if found is None:
        raise _not_found(session, actor, now, f"escalation {escalation_id}")
    return found


def in_scope(session: Session, person: Person, area_id: int | None) -> bool:
    return scope_of(session, person).covers(area_id)


# -- contact ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Contact:
    name: str
    phone: str | None
    neighbourhood: str
    words: str
    reachable: bool


def contact_for(session: Session, escalation: esc.Escalation, viewer: Person, now: datetime,
                channel: str) -> Contact | None:
    """What the owning district needs to make contact; None outside the viewer's scope.

    Each view is audited (`contact_viewed`, with where it was seen: line or console).
    """
    if not in_scope(session, viewer, escalation.area_id):
        return None
    need = session.get(Need, escalation.need_id)
    resident = session.get(Person, need.person_id) if need is not None and need.person_id else None
    esc.audit(session, now, "contact_viewed", escalation, viewer, channel)
    return Contact(
        name=(resident.display_name if resident else "") or "",
        phone=resident.phone if resident else None,
        neighbourhood=area_label(session, need.area_id if need else escalation.area_id),
        words=(need.words if need else "") or "",
        reachable=reachable(resident),
    )


# -- relay -----------------------------------------------------------------------------------------
def district_name(session: Session, escalation: esc.Escalation) -> str:
    area = session.get(Area, escalation.area_id)
    return area.name if area is not None else ""


def message_resident(session: Session, escalation_id: int, coordinator: Person, body: str, now: datetime,
                     notifier: CaseNotifier) -> CaseMessage:
    """住民にメッセージを送る: the words go to the resident from the official account."""
    body = (body or "").strip()
    if not body:
        raise CaseError("empty message")
    if len(body) > MAX_MESSAGE:
        raise CaseError(f"message over {MAX_MESSAGE} characters")
    escalation = session.get(esc.Escalation, escalation_id)
    if escalation is None:
        raise esc.EscalationError(f"no escalation {escalation_id}")
    esc.check_access(session, coordinator, escalation)
    need = session.get(Need, escalation.need_id)
    resident = session.get(Person, need.person_id) if need is not None and need.person_id else None
    if not reachable(resident):
        raise CaseError("the resident cannot be reached on LINE")
    message = CaseMessage(escalation_id=escalation.id, resident_id=resident.id, coordinator_id=coordinator.id,
                          direction=TO_RESIDENT, body=body, at=now)
    session.add(message)
    session.flush()
    esc.audit(session, now, "message_to_resident", escalation, coordinator, f"{len(body)}文字")
    notifier.to_resident(session, resident, district_name(session, escalation), body, now,
                         key=f"case-message:{message.id}")
    return message


def open_thread(session: Session, resident: Person, now: datetime) -> CaseMessage | None:
    """The coordinator's latest message to this resident, if their case is still being worked."""
    latest = session.scalar(
        select(CaseMessage).join(esc.Escalation, esc.Escalation.id == CaseMessage.escalation_id)
        .where(CaseMessage.resident_id == resident.id, CaseMessage.direction == TO_RESIDENT,
               CaseMessage.at >= now - ANSWER_WINDOW, esc.Escalation.status.in_(esc.ACTIVE_STATUSES))
        .order_by(CaseMessage.at.desc(), CaseMessage.id.desc()).limit(1))
    return latest


def resident_answer(session: Session, resident: Person, body: str, now: datetime,
                    notifier: CaseNotifier) -> CaseMessage | None:
    """The resident's words after a coordinator wrote: back to that coordinator. None when no
    coordinator is waiting for an answer (the words are then a new 困りごと as usual)."""
    thread = open_thread(session, resident, now)
    if thread is None or not body.strip():
        return None
    escalation = session.get(esc.Escalation, thread.escalation_id)
    coordinator = session.get(Person, thread.coordinator_id) if thread.coordinator_id else None
    if coordinator is None or not coordinator.has_role(COORDINATOR):
        coordinator = session.get(Person, escalation.owner_id) if escalation.owner_id else None
    if coordinator is None:
        return None
    message = CaseMessage(escalation_id=escalation.id, resident_id=resident.id, coordinator_id=coordinator.id,
                          direction=FROM_RESIDENT, body=body.strip()[:4000], at=now)
    session.add(message)
    session.flush()
    esc.audit(session, now, "message_from_resident", escalation, resident, f"{len(message.body)}文字")
    if reachable(coordinator):
        notifier.to_coordinator(session, coordinator, escalation, resident.display_name or "", message.body, now,
                                key=f"case-message:{message.id}")
    return message


def messages_of(session: Session, escalation_id: int) -> list[CaseMessage]:
    return list(session.scalars(select(CaseMessage).where(CaseMessage.escalation_id == escalation_id)
                                .order_by(CaseMessage.id)))


def history_texts(session: Session, escalation_id: int) -> dict[str, str]:
    """The free text the audit trail points at ("note 12", "proposal 3"), where it still exists:
    notes and proposals live in their own erasable rows, the trail keeps only the reference."""
    texts = {f"note {n.id}": n.text for n in esc.notes_of(session, escalation_id)}
    texts.update({f"proposal {p.id}": p.text for p in session.scalars(
        select(esc.Proposal).where(esc.Proposal.escalation_id == escalation_id))})
    return texts


def history(session: Session, escalation_id: int) -> list[esc.AuditEntry]:
    return list(session.scalars(select(esc.AuditEntry).where(esc.AuditEntry.escalation_id == escalation_id)
                                .order_by(esc.AuditEntry.id)))


# -- acting on a case (the LINE card's actions, for the console) -------------------------------------
def acknowledge(session: Session, escalation_id: int, coordinator: Person, now: datetime,
                notifier: CaseNotifier) -> tuple[esc.Escalation, bool]:
    case, won = esc.acknowledge(session, escalation_id, coordinator, now)
    if won:
        notifier.acknowledged(session, case, coordinator, now)
    return case, won


def connect_volunteer(session: Session, escalation_id: int, coordinator: Person, volunteer_id: int,
                      now: datetime, notifier: CaseNotifier) -> int:
    """Ask one volunteer the system suggests for this case; returns how many cards went."""
    from domain import matches as match_rules
    from domain.suggestions import suggest_volunteers

    case = session.get(esc.Escalation, escalation_id)
    esc.check_access(session, coordinator, case)
    need = session.get(Need, case.need_id)
    offered = {v.person_id for v in suggest_volunteers(session, need, now, limit=10, include_unavailable=True)}
    if volunteer_id not in offered:
        raise CaseError("that volunteer was not suggested for this case")
    matches = match_rules.ask_volunteers(session, need, [volunteer_id], now)
    esc.audit(session, now, "asked_volunteer", case, coordinator, str(volunteer_id))
    return notifier.ask_volunteers(session, need, matches, now)


def connect_resource(session: Session, escalation_id: int, coordinator: Person, resource_id: int,
                     now: datetime, notifier: CaseNotifier) -> bool:
    """Send the resident one resource the system suggests for this case."""
    from domain.suggestions import suggest_resources

    case = session.get(esc.Escalation, escalation_id)
    esc.check_access(session, coordinator, case)
    need = session.get(Need, case.need_id)
    if resource_id not in {r.resource_id for r in suggest_resources(session, need, now, limit=10)}:
        raise CaseError("that resource was not suggested for this case")
    resident = session.get(Person, need.person_id) if need.person_id else None
    if not reachable(resident):
        raise CaseError("the resident cannot be reached on LINE")
    esc.audit(session, now, "sent_resource", case, coordinator, str(resource_id))
    return notifier.send_resources(session, resident, need, [resource_id], now)


# -- lists -----------------------------------------------------------------------------------------
# Each list reads its page of ids first (one indexed query), then the rows of that page in a
# few batched queries: no query per row, whatever the size of the city.

# The needs list is ordered by arrival; the index is declared here, with the list that needs it.
Index("ix_needs_created_at", Need.__table__.c.created_at)


def deadline_expr():
    """The deadline that counts now: acknowledge-by while open, resolve-by afterwards."""
    return sql_case((esc.Escalation.status == esc.OPEN, esc.Escalation.ack_due_at),
                    else_=esc.Escalation.resolve_due_at)


class AreaLabels:
    """「安積地区 荒井」 for every area, read once per session (areas rarely change; a request is short)."""

    def __init__(self, session: Session):
        rows = {r.id: r for r in session.execute(select(Area.id, Area.name, Area.layer, Area.parent_id))}
        self._labels: dict[int, str] = {}
        self._names = {i: r.name for i, r in rows.items()}
        for area_id, row in rows.items():
            parent = rows.get(row.parent_id) if row.parent_id is not None else None
            if row.layer not in (DISTRICT, CITY) and parent is not None and parent.layer == DISTRICT:
                self._labels[area_id] = f"{parent.name} {row.name}"
            else:
                self._labels[area_id] = row.name

    def __call__(self, area_id: int | None) -> str:
        return self._labels.get(area_id, "—") if area_id is not None else "—"

    def name(self, area_id: int | None) -> str:
        return self._names.get(area_id, "—") if area_id is not None else "—"


def area_labels(session: Session) -> AreaLabels:
    labels = session.info.get("area_labels")
    if labels is None:
        labels = session.info["area_labels"] = AreaLabels(session)
    return labels


@dataclass
class CaseFilters:
    district_id: int | None = None
    status: str | None = None  # open, acknowledged, resolved, raised, active (default), all
    urgency: str | None = None
    overdue: bool = False
    category: str | None = None
    text: str = ""
    page: int = 1


@dataclass
class CaseRow:
    id: int
    status: str
    urgency: str
    reason: str
    category: str
    area_id: int
    district: str
    words: str
    created_at: datetime
    deadline: datetime
    owner: str
    overdue: bool


@dataclass
class Page:
    rows: list[Any]
    total: int
    page: int
    pages: int


def _bounds(total: int, page: int, size: int = PAGE_SIZE) -> tuple[int, int]:
    pages = max((total + size - 1) // size, 1)
    return min(max(page, 1), pages), pages


def _case_rows(session: Session, ids: list[int], now: datetime) -> list[CaseRow]:
    """The rows of these cases, in the order of the ids."""
    if not ids:
        return []
    owner = aliased(Person)
    deadline = deadline_expr().label("deadline")
    found = {r.id: r for r in session.execute(
        select(esc.Escalation.id, esc.Escalation.status, esc.Escalation.urgency, esc.Escalation.reason,
               esc.Escalation.area_id.label("district_id"), esc.Escalation.created_at, deadline,
               Need.category, Need.area_id, Need.words, owner.display_name.label("owner"))
        .join(Need, Need.id == esc.Escalation.need_id)
        .outerjoin(owner, owner.id == esc.Escalation.owner_id)
        .where(esc.Escalation.id.in_(ids)))}
    labels = area_labels(session)
    out = []
    for case_id in ids:
        r = found.get(case_id)
        if r is None:
            continue
        out.append(CaseRow(
            id=r.id, status=r.status, urgency=r.urgency, reason=r.reason, category=r.category, area_id=r.area_id,
            district=labels.name(r.district_id), words=r.words or "", created_at=r.created_at, deadline=r.deadline,
            owner=r.owner or "",
            overdue=r.status in esc.ACTIVE_STATUSES and r.deadline is not None and r.deadline < now))
    return out


def my_open_cases(session: Session, scope: Scope, person: Person, now: datetime, limit: int = PAGE_SIZE) -> list[CaseRow]:
    """The home page: active cases that are mine or nobody's yet, by deadline (overdue first)."""
    ids = list(session.scalars(
        select(esc.Escalation.id)
        .where(scope.where(esc.Escalation.area_id), esc.Escalation.status.in_(esc.ACTIVE_STATUSES),
               or_(esc.Escalation.owner_id == person.id, esc.Escalation.owner_id.is_(None)))
        .order_by(deadline_expr(), esc.Escalation.id).limit(limit)))
    return _case_rows(session, ids, now)


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_cases(session: Session, scope: Scope, filters: CaseFilters, now: datetime) -> Page:
    conditions = [scope.where(esc.Escalation.area_id)]
    status = filters.status or "active"
    if status == "active":
        conditions.append(esc.Escalation.status.in_(esc.ACTIVE_STATUSES))
    elif status != "all":
        conditions.append(esc.Escalation.status == status)
    if filters.district_id:
        conditions.append(esc.Escalation.area_id == filters.district_id)
    if filters.urgency:
        conditions.append(esc.Escalation.urgency == filters.urgency)
    if filters.overdue:
        conditions.append(and_(esc.Escalation.status.in_(esc.ACTIVE_STATUSES), deadline_expr() < now))
    need_conditions = []
    if filters.category:
        need_conditions.append(Need.category == filters.category)
    if filters.text.strip():
        need_conditions.append(Need.words.like(_like(filters.text.strip()[:100]), escape="\\"))

    def restricted(stmt):
        stmt = stmt.where(*conditions)
        if need_conditions:
            stmt = stmt.join(Need, Need.id == esc.Escalation.need_id).where(*need_conditions)
        return stmt

    total = session.scalar(restricted(select(func.count()).select_from(esc.Escalation))) or 0
    page, pages = _bounds(total, filters.page)
    ids = list(session.scalars(restricted(select(esc.Escalation.id))
                               .order_by(deadline_expr(), esc.Escalation.id)
                               .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return Page(_case_rows(session, ids, now), total, page, pages)


@dataclass
class NeedRow:
    id: int
    status: str
    category: str
    urgency: str
    area: str
    words: str
    created_at: datetime
    escalation_id: int | None


def list_needs(session: Session, scope: Scope, now: datetime, *, status: str | None = None,
               category: str | None = None, text: str = "", page: int = 1) -> Page:
    conditions = [scope.where(Need.area_id)]
    if status:
        conditions.append(Need.status == status)
    if category:
        conditions.append(Need.category == category)
    if text.strip():
        conditions.append(Need.words.like(_like(text.strip()[:100]), escape="\\"))
    total = session.scalar(select(func.count()).select_from(Need).where(*conditions)) or 0
    page, pages = _bounds(total, page)
    rows = list(session.execute(
        select(Need.id, Need.status, Need.category, Need.urgency, Need.area_id, Need.words, Need.created_at)
        .where(*conditions).order_by(Need.created_at.desc(), Need.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    case_of: dict[int, int] = {}
    if rows:
        for need_id, case_id in session.execute(
                select(esc.Escalation.need_id, esc.Escalation.id)
                .where(esc.Escalation.need_id.in_([r.id for r in rows])).order_by(esc.Escalation.id)):
            case_of[need_id] = case_id  # the latest case of the need
    labels = area_labels(session)
    out = [NeedRow(r.id, r.status, r.category, r.urgency, labels(r.area_id), r.words or "", r.created_at,
                   case_of.get(r.id)) for r in rows]
    return Page(out, total, page, pages)


@dataclass
class VolunteerRow:
    id: int
    name: str
    area: str
    categories: list[str]
    paused: bool
    since: datetime | None
    phone: str | None


def list_volunteers(session: Session, scope: Scope, *, page: int = 1) -> Page:
    """Volunteers living in scope or offering help in it."""
    offers_here = exists(select(OfferArea.offer_id).join(Offer, Offer.id == OfferArea.offer_id)
                         .where(Offer.person_id == Person.id, scope.where(OfferArea.area_id)))
    conditions = [PersonRole.role == VOLUNTEER, or_(scope.where(Person.area_id), offers_here)]
    total = session.scalar(select(func.count()).select_from(Person)
                           .join(PersonRole, PersonRole.person_id == Person.id).where(*conditions)) or 0
    page, pages = _bounds(total, page)
    rows = list(session.execute(
        select(Person.id, Person.display_name, Person.area_id, Person.phone, PersonRole.granted_at)
        .join(PersonRole, PersonRole.person_id == Person.id).where(*conditions)
        .order_by(Person.display_name, Person.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    categories: dict[int, set[str]] = {}
    paused: dict[int, list[bool]] = {}
    if rows:
        ids = [r.id for r in rows]
        for person_id, is_paused in session.execute(select(Offer.person_id, Offer.paused)
                                                    .where(Offer.person_id.in_(ids))):
            paused.setdefault(person_id, []).append(is_paused)
        for person_id, code in session.execute(
                select(Offer.person_id, OfferCategory.category).join(OfferCategory, OfferCategory.offer_id == Offer.id)
                .where(Offer.person_id.in_(ids))):
            categories.setdefault(person_id, set()).add(code)
    labels = area_labels(session)
    out = [VolunteerRow(r.id, r.display_name or "", labels(r.area_id), sorted(categories.get(r.id, ())),
                        bool(paused.get(r.id)) and all(paused[r.id]), r.granted_at, r.phone) for r in rows]
    return Page(out, total, page, pages)


@dataclass
class ResourceRow:
    id: int
    name: str
    kind: str
    status: str
    areas: list[str]
    categories: list[str]
    phone: str
    venue: str


def list_resources(session: Session, scope: Scope, *, status: str | None = None, text: str = "",
                   page: int = 1) -> Page:
    """Resources serving an area in scope, or the whole city."""
    city_ids = select(Area.id).where(Area.layer == CITY)
    serves = exists(select(ResourceArea.resource_id).where(
        ResourceArea.resource_id == Resource.id,
        or_(scope.where(ResourceArea.area_id), ResourceArea.area_id.in_(city_ids))))
    conditions = [Resource.status == status if status else
                  Resource.status.in_((RESOURCE_ACTIVE, RESOURCE_CANDIDATE))]
    if not scope.city_wide:
        conditions.append(serves)
    if text.strip():
        conditions.append(Resource.name.like(_like(text.strip()[:100]), escape="\\"))
    total = session.scalar(select(func.count()).select_from(Resource).where(*conditions)) or 0
    page, pages = _bounds(total, page)
    rows = list(session.execute(
        select(Resource.id, Resource.name, Resource.kind, Resource.status, Resource.phone, Resource.venue,
               Resource.address)
        .where(*conditions).order_by(Resource.status.desc(), Resource.kana, Resource.id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    areas: dict[int, list[str]] = {}
    categories: dict[int, list[str]] = {}
    if rows:
        ids = [r.id for r in rows]
        labels = area_labels(session)
        for resource_id, area_id in session.execute(select(ResourceArea.resource_id, ResourceArea.area_id)
                                                    .where(ResourceArea.resource_id.in_(ids))):
            areas.setdefault(resource_id, []).append(labels.name(area_id))
        for resource_id, code in session.execute(select(ResourceCategory.resource_id, ResourceCategory.category)
                                                 .where(ResourceCategory.resource_id.in_(ids))):
            categories.setdefault(resource_id, []).append(code)
    out = [ResourceRow(r.id, r.name, r.kind, r.status, sorted(areas.get(r.id, []))[:4], categories.get(r.id, []),
                       r.phone, r.venue or r.address) for r in rows]
    return Page(out, total, page, pages)


def districts_in(session: Session, scope: Scope) -> list[Area]:
    """The districts a coordinator can filter by."""
    return list(session.scalars(select(Area).where(Area.layer.in_((DISTRICT, CITY)), scope.where(Area.id))
                                .order_by(Area.layer, Area.sort_order, Area.code)))

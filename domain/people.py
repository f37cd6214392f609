"""People: following, consent, roles, area, coordinators, erasure and the retention purge."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.areas import ancestors
from domain.models import (
    CITY, CONSENT_GIVEN, CONSENT_PENDING, CONSENT_REFUSED, CONSENT_WITHDRAWN, COORDINATOR, DISTRICT,
    ROLES, Area, CoordinatorArea, Person, PersonRole,
)


class ConsentRequired(PermissionError):
    """Personal data may only be stored after the person agreed to the privacy notice."""


def get_or_create_person(session: Session, line_user_id: str, now: datetime) -> Person:
    """The person for a LINE user id; made on first sight (follow, or any message)."""
    person = session.scalar(select(Person).where(Person.line_user_id == line_user_id))
    if person is not None:
        return person
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Two workers may see the same new user at once: the unique id decides, both get the row.
    session.execute(insert(Person).values(
        line_user_id=line_user_id, display_name="", consent=CONSENT_PENDING, active=True,
        created_at=now, updated_at=now).on_conflict_do_nothing(index_elements=["line_user_id"]))
    return session.scalar(select(Person).where(Person.line_user_id == line_user_id))


def find_by_line_id(session: Session, line_user_id: str) -> Person | None:
    return session.scalar(select(Person).where(Person.line_user_id == line_user_id))


def record_consent(person: Person, given: bool, now: datetime) -> None:
    """同意する / 同意しない. Refusing (or withdrawing) clears what was stored about them."""
    if given:
        person.consent = CONSENT_GIVEN
    else:
        person.consent = CONSENT_WITHDRAWN if person.consent == CONSENT_GIVEN else CONSENT_REFUSED
        person.display_name = ""
        person.phone = None
        person.area_id = None
    person.consent_at = now
    person.updated_at = now


def require_consent(person: Person) -> None:
    if not person.consented:
        raise ConsentRequired("同意がないため保存できません")


def set_profile(person: Person, now: datetime, *, display_name: str | None = None,
                phone: str | None = None) -> None:
    require_consent(person)
    if display_name is not None:
        person.display_name = display_name.strip()[:100]
    if phone is not None:
        person.phone = phone.strip()[:32] or None
    person.updated_at = now


def set_area(person: Person, area: Area, now: datetime) -> None:
    """The area a resident chose from buttons (or by location, see areas.nearest_area)."""
    require_consent(person)
    person.area_id = area.id
    person.updated_at = now


def grant_role(session: Session, person: Person, role: str, now: datetime) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role: {role}")
    if not person.has_role(role):
        person.role_rows.append(PersonRole(role=role, granted_at=now))
        session.flush()


def revoke_role(session: Session, person: Person, role: str) -> None:
    for row in list(person.role_rows):
        if row.role == role:
            person.role_rows.remove(row)
    session.flush()


def mark_followed(person: Person, now: datetime) -> None:
    person.active = True
    person.unfollowed_at = None
    person.updated_at = now


def mark_unfollowed(person: Person, now: datetime) -> None:
    """Unfollow (block) makes the person inactive; purge_unfollowed removes them later."""
    person.active = False
    person.unfollowed_at = now
    person.updated_at = now


def erase_person(session: Session, person: Person, now: datetime | None = None, *, key: bytes = b"",
                 current_event_ids: tuple[str, ...] = ()):
    """「わたしのデータを消す」: the one erasure routine (domain.personal_data.erase).

    Needs keep category, area, status and times (the 見える化 counts) but lose the words and the
    link to the person; messages, events, dialogue, offers, places and notes about them go.
    """
    from domain.base import utcnow
    from domain.personal_data import ERASE, erase

    return erase(session, person, now or utcnow(), key=key, mode=ERASE, current_event_ids=current_event_ids)


def purge_unfollowed(session: Session, now: datetime, retention: timedelta, *, key: bytes = b"") -> int:
    """Erase everyone who unfollowed more than `retention` ago; return how many."""
    from domain.personal_data import purge_unfollowed as purge

    return purge(session, now, retention, key=key)


# -- coordinators --------------------------------------------------------------------------------
def assign_coordinator(session: Session, person: Person, area: Area, now: datetime) -> None:
    """Make a person the coordinator of a district (第2層) or the city (第1層)."""
    if area.layer not in (DISTRICT, CITY):
        raise ValueError("coordinators are assigned to a district or the city")
    from domain.scope import forget

    grant_role(session, person, COORDINATOR, now)
    forget(session)
    exists = session.get(CoordinatorArea, (person.id, area.id))
    if exists is None:
        session.add(CoordinatorArea(person_id=person.id, area_id=area.id, assigned_at=now))
        session.flush()


def coordinators_of(session: Session, area_id: int) -> list[Person]:
    """The coordinators assigned to exactly this area."""
    return list(session.scalars(
        select(Person).join(CoordinatorArea, CoordinatorArea.person_id == Person.id)
        .where(CoordinatorArea.area_id == area_id, Person.active.is_(True)).order_by(Person.id)))


def city_coordinators(session: Session, area: Area) -> list[Person]:
    city = next((a for a in ancestors(session, area) if a.layer == CITY), None)
    return coordinators_of(session, city.id) if city is not None else []


def coordinators_for_area(session: Session, area_id: int) -> list[Person]:
    """Who looks after an area: its district's coordinators; a district without one (or an area
    outside any district) falls back to the city's. The one routing rule."""
    area = session.get(Area, area_id)
    if area is None:
        return []
    district = next((a for a in ancestors(session, area) if a.layer == DISTRICT), None)
    people = coordinators_of(session, district.id) if district is not None else []
    return people or city_coordinators(session, area)


def can_see_area(session: Session, coordinator: Person, area_id: int) -> bool:
    """A coordinator sees only their own district (city coordinators see all): domain.scope."""
    from domain.scope import scope_of

    return scope_of(session, coordinator).covers(area_id)

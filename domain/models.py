"""The tables of the domain: areas, people, resources, needs, offers and matches.

Rules live in the neighbouring modules (areas, people, needs, offers, matches, matching);
these classes only hold data. Times are aware UTC (see base.UTCDateTime); dates such as
closures and last-verified are local (Asia/Tokyo) calendar dates.
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text, Time,
    UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from domain.base import Base

# A row id that autoincrements on both SQLite (INTEGER) and PostgreSQL (BIGINT), as in inbox.
Id = BigInteger().with_variant(Integer(), "sqlite")

# -- vocabularies stored in rows (checked by the database as well as in Python) ----------------
CITY, DISTRICT, NEIGHBOURHOOD = "city", "district", "neighbourhood"
LAYERS = (CITY, DISTRICT, NEIGHBOURHOOD)

RESIDENT, VOLUNTEER, COORDINATOR, ADMIN = "resident", "volunteer", "coordinator", "admin"
ROLES = (RESIDENT, VOLUNTEER, COORDINATOR, ADMIN)

CONSENT_PENDING, CONSENT_GIVEN, CONSENT_REFUSED, CONSENT_WITHDRAWN = (
    "pending", "given", "refused", "withdrawn")
CONSENT_STATES = (CONSENT_PENDING, CONSENT_GIVEN, CONSENT_REFUSED, CONSENT_WITHDRAWN)

RESOURCE_ACTIVE, RESOURCE_INACTIVE, RESOURCE_CANDIDATE = "active", "inactive", "candidate"
RESOURCE_STATUSES = (RESOURCE_ACTIVE, RESOURCE_INACTIVE, RESOURCE_CANDIDATE)

NORMAL, URGENT = "normal", "urgent"
URGENCIES = (NORMAL, URGENT)

# Need statuses; the allowed moves between them are declared in domain.needs.
RECEIVED, SUGGESTED, ASKING, MATCHED, RESOLVED, ESCALATED, CANCELLED = (
    "received", "suggested", "asking", "matched", "resolved", "escalated", "cancelled")
NEED_STATUSES = (RECEIVED, SUGGESTED, ASKING, MATCHED, RESOLVED, ESCALATED, CANCELLED)

# Match statuses; the allowed moves are declared in domain.matches.
TENTATIVE, ACCEPTED, DECLINED, EXPIRED, DONE, WITHDRAWN = (
    "tentative", "accepted", "declined", "expired", "done", "withdrawn")
MATCH_STATUSES = (TENTATIVE, ACCEPTED, DECLINED, EXPIRED, DONE, WITHDRAWN)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


# -- areas ---------------------------------------------------------------------------------------
class Area(Base):
    """第1層 city → 第2層 district → 第3層 neighbourhood."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kana: Mapped[str] = mapped_column(String(200), default="")
    layer: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(Id, ForeignKey("areas.id"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Area | None] = relationship(remote_side="Area.id", back_populates="children")
    children: Mapped[list[Area]] = relationship(back_populates="parent", order_by="Area.sort_order")

    __table_args__ = (CheckConstraint(_in("layer", LAYERS), name="layer"),)

    def __repr__(self) -> str:
        return f"<Area {self.code} {self.name} {self.layer}>"


# -- people --------------------------------------------------------------------------------------
class Person(Base):
    """A LINE user (or a console-only coordinator). Without consent only the LINE id is kept."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    line_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    consent: Mapped[str] = mapped_column(String(16), default=CONSENT_PENDING)
    consent_at: Mapped[datetime | None]
    area_id: Mapped[int | None] = mapped_column(Id, ForeignKey("areas.id", ondelete="SET NULL"),
                                                index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    unfollowed_at: Mapped[datetime | None]
    # Volunteers: when they were last sent a request, so requests are spread around.
    last_asked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    area: Mapped[Area | None] = relationship()
    role_rows: Mapped[list[PersonRole]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        CheckConstraint(_in("consent", CONSENT_STATES), name="consent"),
        Index("ix_people_unfollowed", "active", "unfollowed_at"),
    )

    @property
    def reachable(self) -> bool:
        """Whether a LINE message can reach this person: the one rule, used everywhere."""
        return bool(self.line_user_id) and self.active and self.unfollowed_at is None

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, role: str) -> bool:
        return any(row.role == role for row in self.role_rows)

    @property
    def consented(self) -> bool:
        return self.consent == CONSENT_GIVEN

    def __repr__(self) -> str:
        return f"<Person {self.id} {sorted(self.roles)}>"


class PersonRole(Base):
    __tablename__ = "person_roles"

    person_id: Mapped[int] = mapped_column(Id, ForeignKey("people.id", ondelete="CASCADE"),
                                           primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_at: Mapped[datetime]

    person: Mapped[Person] = relationship(back_populates="role_rows")

    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        Index("ix_person_roles_role", "role", "person_id"),
    )


class CoordinatorArea(Base):
    """A coordinator's assignment: a district (第2層) or the city (第1層)."""

    __tablename__ = "coordinator_areas"

    person_id: Mapped[int] = mapped_column(Id, ForeignKey("people.id", ondelete="CASCADE"),
                                           primary_key=True)
    area_id: Mapped[int] = mapped_column(Id, ForeignKey("areas.id", ondelete="CASCADE"),
                                         primary_key=True)
    assigned_at: Mapped[datetime]

    person: Mapped[Person] = relationship()
    area: Mapped[Area] = relationship()

    __table_args__ = (Index("ix_coordinator_areas_area", "area_id", "person_id"),)


# -- resources (after Open Referral HSDS: organisation/service/location/schedule) ---------------
class Resource(Base):
    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    kana: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(32))
    provider_type: Mapped[str] = mapped_column(String(16), default="other")
    provider_name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # A short place name for explanation lines: 公民館, 集会所, 〇〇さん宅.
    venue: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    fee: Mapped[str] = mapped_column(String(200), default="")
    eligibility: Mapped[str] = mapped_column(String(300), default="")
    accessibility: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default=RESOURCE_ACTIVE)
    # Where it came from: opendata:care, opendata:facility, demo, offer, console.
    source: Mapped[str] = mapped_column(String(40))
    # The key for re-import within its source (e.g. municipality code + NO).
    external_id: Mapped[str | None] = mapped_column(String(100))
    source_file: Mapped[str | None] = mapped_column(String(300))
    last_verified_on: Mapped[date | None] = mapped_column(Date)
    offered_by_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("people.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    category_rows: Mapped[list[ResourceCategory]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)
    area_rows: Mapped[list[ResourceArea]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)
    schedule_rows: Mapped[list[ResourceSchedule]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ResourceSchedule.id")
    closure_rows: Mapped[list[ResourceClosure]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ResourceClosure.on_date")
    coverage_rows: Mapped[list[ResourceCoverage]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        CheckConstraint(_in("status", RESOURCE_STATUSES), name="status"),
        UniqueConstraint("source", "external_id"),
        # Nearby resources in other districts are found by a latitude/longitude box.
        Index("ix_resources_lat_lon", "lat", "lon"),
    )

    @property
    def categories(self) -> list[str]:
        return [row.category for row in self.category_rows]

    def __repr__(self) -> str:
        return f"<Resource {self.id} {self.name}>"


class ResourceCategory(Base):
    __tablename__ = "resource_categories"

    resource_id: Mapped[int] = mapped_column(Id, ForeignKey("resources.id", ondelete="CASCADE"),
                                             primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)

    __table_args__ = (Index("ix_resource_categories_category", "category", "resource_id"),)


class ResourceArea(Base):
    """An area a resource serves; a city-wide service serves the city area."""

    __tablename__ = "resource_areas"

    resource_id: Mapped[int] = mapped_column(Id, ForeignKey("resources.id", ondelete="CASCADE"),
                                             primary_key=True)
    area_id: Mapped[int] = mapped_column(Id, ForeignKey("areas.id", ondelete="CASCADE"),
                                         primary_key=True)

    __table_args__ = (Index("ix_resource_areas_area", "area_id", "resource_id"),)


class ResourceCoverage(Base):
    """The matching index: one row per (category served, area served) of a resource.

    Derived from resource_categories × resource_areas and kept in step by
    domain.resources.apply(); the primary key (category, area_id, resource_id) lets
    matching read exactly the candidates of a category in a few areas from one index.
    """

    __tablename__ = "resource_coverage"

    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    area_id: Mapped[int] = mapped_column(Id, ForeignKey("areas.id", ondelete="CASCADE"),
                                         primary_key=True)
    resource_id: Mapped[int] = mapped_column(Id, ForeignKey("resources.id", ondelete="CASCADE"),
                                             primary_key=True)

    __table_args__ = (Index("ix_resource_coverage_resource", "resource_id"),)


class ResourceSchedule(Base):
    """One recurrence rule (see domain.schedule.Rule)."""

    __tablename__ = "resource_schedules"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(Id, ForeignKey("resources.id", ondelete="CASCADE"),
                                             index=True)
    kind: Mapped[str] = mapped_column(String(16))
    weekdays: Mapped[int] = mapped_column(Integer, default=0)
    weeks: Mapped[int] = mapped_column(Integer, default=0)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(100), default="")

    __table_args__ = (
        CheckConstraint(_in("kind", ("weekly", "monthly", "irregular", "always")), name="kind"),
    )


class ResourceClosure(Base):
    """A local date the resource does not meet (年末年始, 公民館の点検 …)."""

    __tablename__ = "resource_closures"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(Id, ForeignKey("resources.id", ondelete="CASCADE"))
    on_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(100), default="")

    __table_args__ = (UniqueConstraint("resource_id", "on_date"),)


# -- needs ---------------------------------------------------------------------------------------
class Need(Base):
    """A 困りごと. Its status changes only through domain.needs.move()."""

    __tablename__ = "needs"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    person_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("people.id", ondelete="SET NULL"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int] = mapped_column(Id, ForeignKey("areas.id"))
    # When: a window (both ends) or weekday and part-of-day masks; all empty means any time.
    wanted_start: Mapped[datetime | None]
    wanted_end: Mapped[datetime | None]
    wanted_weekdays: Mapped[int] = mapped_column(Integer, default=0)
    wanted_parts: Mapped[int] = mapped_column(Integer, default=0)
    urgency: Mapped[str] = mapped_column(String(16), default=NORMAL)
    words: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    person: Mapped[Person | None] = relationship()
    area: Mapped[Area] = relationship()
    transitions: Mapped[list[NeedTransition]] = relationship(
        back_populates="need", cascade="all, delete-orphan", passive_deletes=True,
        order_by="NeedTransition.id")

    __table_args__ = (
        CheckConstraint(_in("status", NEED_STATUSES), name="status"),
        CheckConstraint(_in("urgency", URGENCIES), name="urgency"),
        Index("ix_needs_status_updated", "status", "updated_at"),
        Index("ix_needs_area_status", "area_id", "status"),
        # 見える化 and reports count needs by period, area, category and status from this index alone.
        Index("ix_needs_created_area", "created_at", "area_id", "category", "status"),
    )

    # needs.move() sets this token just before it assigns the status; nothing else can.
    _status_token = None

    @validates("status")
    def _only_through_move(self, _key: str, value: str) -> str:
        if self._status_token != value:
            raise ValueError("a need's status changes only through domain.needs.move()")
        self._status_token = None
        return value

    def __repr__(self) -> str:
        return f"<Need {self.id} {self.category} {self.status}>"


class NeedTransition(Base):
    """One status change of a need: from, to, when, by whom. The first has from_status NULL."""

    __tablename__ = "need_transitions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    need_id: Mapped[int] = mapped_column(Id, ForeignKey("needs.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    by_person_id: Mapped[int | None] = mapped_column(Id, ForeignKey("people.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(300), default="")

    need: Mapped[Need] = relationship(back_populates="transitions")

    __table_args__ = (Index("ix_need_transitions_need", "need_id", "id"),)


# -- offers --------------------------------------------------------------------------------------
class Offer(Base):
    """A volunteer's 申し出: what, where and when they can help."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(Id, ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    has_car: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    person: Mapped[Person] = relationship()
    category_rows: Mapped[list[OfferCategory]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)
    area_rows: Mapped[list[OfferArea]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)
    slot_rows: Mapped[list[OfferSlot]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="OfferSlot.id")
    coverage_rows: Mapped[list[OfferCoverage]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)

    @property
    def categories(self) -> list[str]:
        return [row.category for row in self.category_rows]


class OfferCategory(Base):
    __tablename__ = "offer_categories"

    offer_id: Mapped[int] = mapped_column(Id, ForeignKey("offers.id", ondelete="CASCADE"),
                                          primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)

    __table_args__ = (Index("ix_offer_categories_category", "category", "offer_id"),)


class OfferArea(Base):
    __tablename__ = "offer_areas"

    offer_id: Mapped[int] = mapped_column(Id, ForeignKey("offers.id", ondelete="CASCADE"),
                                          primary_key=True)
    area_id: Mapped[int] = mapped_column(Id, ForeignKey("areas.id", ondelete="CASCADE"),
                                         primary_key=True)

    __table_args__ = (Index("ix_offer_areas_area", "area_id", "offer_id"),)


class OfferCoverage(Base):
    """The matching index of offers: (category, area_id, offer_id), like resource_coverage.

    Derived from offer_categories × offer_areas, kept in step by domain.offers.
    """

    __tablename__ = "offer_coverage"

    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    area_id: Mapped[int] = mapped_column(Id, ForeignKey("areas.id", ondelete="CASCADE"),
                                         primary_key=True)
    offer_id: Mapped[int] = mapped_column(Id, ForeignKey("offers.id", ondelete="CASCADE"),
                                          primary_key=True)

    __table_args__ = (Index("ix_offer_coverage_offer", "offer_id"),)


class OfferSlot(Base):
    """A weekly time a volunteer is free: weekday (0 = Monday) and local hours."""

    __tablename__ = "offer_slots"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    offer_id: Mapped[int] = mapped_column(Id, ForeignKey("offers.id", ondelete="CASCADE"),
                                          index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)

    __table_args__ = (CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),)


# -- matches -------------------------------------------------------------------------------------
class Match(Base):
    """A volunteer asked to help with a need. At most one accepted (or done) match per need."""

    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    need_id: Mapped[int] = mapped_column(Id, ForeignKey("needs.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("people.id", ondelete="SET NULL"), index=True)
    offer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("offers.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=TENTATIVE)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("people.id", ondelete="SET NULL"))
    asked_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    need: Mapped[Need] = relationship()
    volunteer: Mapped[Person | None] = relationship(foreign_keys=[volunteer_id])
    approved_by: Mapped[Person | None] = relationship(foreign_keys=[approved_by_id])

    __table_args__ = (
        CheckConstraint(_in("status", MATCH_STATUSES), name="status"),
        UniqueConstraint("need_id", "volunteer_id"),
        # First acceptance wins: the database refuses a second accepted match for a need.
        Index("uq_matches_one_accepted", "need_id", unique=True,
              sqlite_where=text("status IN ('accepted', 'done')"),
              postgresql_where=text("status IN ('accepted', 'done')")),
    )

    @property
    def contact_released(self) -> bool:
        """May the volunteer see the resident's contact (and the resident the volunteer's)?"""
        if self.status not in (ACCEPTED, DONE):
            return False
        return not self.requires_approval or self.approved_at is not None

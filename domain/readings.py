"""The bot's readings of residents' messages, kept so a coordinator can review them.

When the dialogue understands a need it writes a Reading: the words, the category and safety
level the reader gave, its confidence, and whether the resident then corrected the category
(picked another button). A coordinator reviews the doubtful ones in /console/review (low
confidence, corrected by the resident, suspected safety signals) and confirms or corrects them
in one click. Corrections of residents who consented, with names, phone numbers and other
identifiers removed, export in the training corpus's TSV format (text, category, safety,
signal, note) through `sasaeai understand export-corrections`.

Personal data: a reading holds the resident's words, so it goes with the person
(ON DELETE CASCADE on person_id) when they erase their data or are purged.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.base import Base
from domain.categories import CATEGORIES
from domain.models import Id, Person
from domain.scope import Scope

LOW_CONFIDENCE = 0.5
SAFETY_LEVELS = ("none", "emergency", "crisis")
# Why a reading is in the review list.
LOW, CORRECTED, SAFETY = "low", "corrected", "safety"
REASONS = (LOW, CORRECTED, SAFETY)
CORPUS_COLUMNS = ("text", "category", "safety", "signal", "note")


class Reading(Base):
    __tablename__ = "readings"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    person_id: Mapped[int | None] = mapped_column(Id, ForeignKey("people.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int | None] = mapped_column(Id, ForeignKey("areas.id", ondelete="SET NULL"), index=True)
    need_id: Mapped[int | None] = mapped_column(Id, ForeignKey("needs.id", ondelete="SET NULL"))
    words: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16))
    safety: Mapped[str] = mapped_column(String(16), default="none")
    signals: Mapped[str] = mapped_column(String(300), default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    # The category the resident chose instead (their correction), if any.
    resident_category: Mapped[str | None] = mapped_column(String(16))
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    # The coordinator's review: the right category and safety (same as the reader's = confirmed).
    reviewed_category: Mapped[str | None] = mapped_column(String(16))
    reviewed_safety: Mapped[str | None] = mapped_column(String(16))
    reviewed_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("people.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_readings_reviewed_created", "reviewed_at", "created_at"),)

    @property
    def reasons(self) -> list[str]:
        out = []
        if self.confidence < LOW_CONFIDENCE:
            out.append(LOW)
        if self.corrected:
            out.append(CORRECTED)
        if self.safety != "none" or self.signals:
            out.append(SAFETY)
        return out


def record(session: Session, *, person: Person | None, words: str, category: str, safety: str,
           confidence: float, now: datetime, signals: tuple[str, ...] | list[str] = (),
           area_id: int | None = None) -> Reading | None:
    """Keep what the reader made of a message (only for a person who consented)."""
    if person is None or not person.consented:
        return None
    reading = Reading(person_id=person.id, area_id=area_id if area_id is not None else person.area_id,
                      words=words[:2000], category=category, safety=safety if safety in SAFETY_LEVELS else "none",
                      signals=",".join(signals)[:300], confidence=float(confidence), corrected=False,
                      created_at=now)
    session.add(reading)
    session.flush()
    return reading


def resident_chose(session: Session, reading_id: int | None, category: str, need_id: int | None = None) -> None:
    """The resident picked a category: a correction when it differs from the reader's."""
    reading = session.get(Reading, reading_id) if reading_id else None
    if reading is None:
        return
    if need_id is not None:
        reading.need_id = need_id
    if category and category != reading.category:
        reading.resident_category = category
        reading.corrected = True


def _review_condition():
    return or_(Reading.confidence < LOW_CONFIDENCE, Reading.corrected.is_(True), Reading.safety != "none",
               Reading.signals != "")


def review_queue(session: Session, scope: Scope, *, reason: str | None = None, reviewed: bool = False,
                 limit: int = 30) -> list[Reading]:
    """Readings to review in scope (the resident's area), newest first."""
    conditions = [scope.where(Reading.area_id), _review_condition()]
    conditions.append(Reading.reviewed_at.is_not(None) if reviewed else Reading.reviewed_at.is_(None))
    if reason == LOW:
        conditions.append(Reading.confidence < LOW_CONFIDENCE)
    elif reason == CORRECTED:
        conditions.append(Reading.corrected.is_(True))
    elif reason == SAFETY:
        conditions.append(or_(Reading.safety != "none", Reading.signals != ""))
    return list(session.scalars(select(Reading).where(*conditions)
                                .order_by(Reading.created_at.desc(), Reading.id.desc()).limit(limit)))


def get_in_scope(session: Session, scope: Scope, reading_id: int) -> Reading | None:
    reading = session.get(Reading, reading_id)
    if reading is None or not scope.covers(reading.area_id):
        return None
    return reading


def review(reading: Reading, reviewer: Person, now: datetime, *, category: str | None = None,
           safety: str | None = None) -> None:
    """Confirm (no values: the reader was right) or correct category and safety, in one step."""
    chosen_category = category or reading.resident_category or reading.category
    if chosen_category not in CATEGORIES:
        raise ValueError(f"unknown category: {chosen_category}")
    chosen_safety = safety or reading.safety
    if chosen_safety not in SAFETY_LEVELS:
        raise ValueError(f"unknown safety level: {chosen_safety}")
    reading.reviewed_category = chosen_category
    reading.reviewed_safety = chosen_safety
    reading.reviewed_by_id = reviewer.id
    reading.reviewed_at = now


# -- identifiers out --------------------------------------------------------------------------------
_PHONE = re.compile(r"(?:\+?81[-\s]?)?0\d{1,4}[-\s]?\d{1,4}[-\s]?\d{3,4}|\d{10,11}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://\S+")
_POSTCODE = re.compile(r"〒?\d{3}-\d{4}")
_ADDRESS_NUMBER = re.compile(r"\d+(?:丁目|番地?|号)(?:\d+(?:番地?|号))*")
_HONORIFIC = re.compile(r"[\u4e00-\u9fff\u30a0-\u30ffー]{1,6}(?=さん|様|さま|ちゃん|くん|君)")


def scrub(words: str, names: tuple[str, ...] = ()) -> str:
    """The words without phone numbers, e-mail, URLs, postcodes, house numbers and names."""
    t = unicodedata.normalize("NFKC", words)
    for name in sorted({n for n in names if n and len(n) >= 1}, key=len, reverse=True):
        for part in [name, *name.split()]:
            if len(part) >= 2:
                t = t.replace(part, "〇〇")
    t = _URL.sub("〇〇", t)
    t = _EMAIL.sub("〇〇", t)
    t = _PHONE.sub("〇〇", t)
    t = _POSTCODE.sub("〇〇", t)
    t = _ADDRESS_NUMBER.sub("〇〇", t)
    t = _HONORIFIC.sub("〇〇", t)
    return re.sub(r"[\t\r\n]+", " ", t).strip()


@dataclass(frozen=True)
class CorpusRow:
    text: str
    category: str
    safety: str
    signal: str
    note: str

    def tsv(self) -> str:
        return "\t".join((self.text, self.category, self.safety, self.signal, self.note))


def export_corrections(session: Session) -> list[CorpusRow]:
    """Reviewed readings of consenting residents, identifiers removed, as training rows.

    A row whose category or safety the reviewer (or the resident) changed is a correction; a
    confirmed reading is exported too (it tells the reader it was right on a real message).
    """
    rows = session.execute(
        select(Reading, Person.display_name, Person.consent)
        .join(Person, Person.id == Reading.person_id)
        .where(Reading.reviewed_at.is_not(None))
        .order_by(Reading.id))
    out = []
    for reading, name, consent in rows:
        if consent != "given":
            continue
        text = scrub(reading.words, (name or "",))
        if not text:
            continue
        corrected = (reading.reviewed_category != reading.category or reading.reviewed_safety != reading.safety)
        safety = reading.reviewed_safety or "none"
        signal = "" if safety == "none" else (reading.signals.split(",")[0] if reading.signals else "")
        note = "console:corrected" if corrected else "console:confirmed"
        out.append(CorpusRow(text, reading.reviewed_category or reading.category, safety, signal, note))
    return out

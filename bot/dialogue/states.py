"""The names of the dialogue's states, and the translation of states stored by older versions."""
from __future__ import annotations

# -- states --------------------------------------------------------------------------------------
IDLE = "idle"
CONSENT = "consent"
AREA = "area"
NEED_TEXT = "need.text"
NEED_CATEGORY = "need.category"
NEED_WHEN = "need.when"
NEED_CONFIRM = "need.confirm"
NEED_PHONE = "need.phone"
SUGGESTED = "need.suggested"
DELETE = "delete"
OFFER_CATEGORIES = "offer.categories"
OFFER_AREAS = "offer.areas"
OFFER_DAYS = "offer.days"
OFFER_TIMES = "offer.times"
OFFER_CAR = "offer.car"
OFFER_CONFIRM = "offer.confirm"
AREA_CONFIRM = "area.confirm"


def upgrade(state: str, data: dict) -> tuple[str, dict]:
    """A conversation stored by an older version, in today's names (identity for now)."""
    return state, data

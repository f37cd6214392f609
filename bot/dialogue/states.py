"""The names of the dialogue's states, and the translation of states stored by older versions."""
from __future__ import annotations

# -- states --------------------------------------------------------------------------------------
IDLE = "idle"
CONSENT = "consent"
# choosing an area: one state per what the area is for (formerly the flag area_purpose/after_area)
AREA_HOME = "area"  # the person's own area, then the menu
AREA_FOR_NEED = "area.for_need"  # the person's own area, then the need (its words kept as data)
AREA_INFO = "area.info"  # an area to show public information for (a category kept as data)
AREA_FIX = "area.fix"  # the area of the need being written
AREA_STATES = (AREA_HOME, AREA_FOR_NEED, AREA_INFO, AREA_FIX)
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


# Flags older versions kept in the data to decide the next step; today's states say it.
LEGACY_FLAGS = ("area_purpose", "after_area")


def upgrade(state: str, data: dict) -> tuple[str, dict]:
    """A conversation stored by an older version, in today's names: the old state "area" with
    its flags becomes the named area state, so a conversation in progress survives the upgrade.
    Today's conversations pass unchanged."""
    if not any(flag in data for flag in LEGACY_FLAGS):
        return state, data
    data = dict(data)
    purpose = str(data.pop("area_purpose", "") or "home")
    after = data.pop("after_area", "menu")
    if state != AREA_HOME:  # a flag left behind by a flow that moved on: nothing to decide now
        return state, data
    if purpose == "fix":
        return AREA_FIX, data
    if purpose == "info" or purpose.startswith("info."):
        if purpose.partition(".")[2]:
            data["info_category"] = purpose.partition(".")[2]
        return AREA_INFO, data
    return (AREA_FOR_NEED if after == "need" else AREA_HOME), data

"""What every job needs besides the session and the time, handed over by webhook.Services."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from domain.escalation import DeadlinePolicy
from domain.meetings import SERIES_HORIZON_DAYS
from domain.notify import Notifier


@dataclass(frozen=True)
class DigestPolicy:
    """When members' reminders of many meetings go out as one identical message.

    A meeting's own card (with its answer buttons) is the better message, so it is the rule.
    But each meeting's card is a separate multicast request; when many small meetings fall on
    the same day and their reminders are due in the same tick, the members get instead one
    digest「〇月〇日に協議体の会議があります」with 確認する, whose reply (free, not counted in the
    quota) shows each member their own meetings with answer buttons. A meeting with a custom
    text, a written (書面) meeting and a meeting with `max_members` or more members always get
    their own card.
    """

    enabled: bool = True
    min_meetings: int = 20
    max_members: int = 100


NO_DIGEST = DigestPolicy(enabled=False)


@dataclass(frozen=True)
class JobDeps:
    notifier: Notifier
    policy: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    retention: timedelta = timedelta(days=90)
    digest: DigestPolicy = DigestPolicy()
    horizon_days: int = SERIES_HORIZON_DAYS

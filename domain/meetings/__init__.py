"""Council (協議体) meetings: the tables (models), recurrence rules, and the rules (core).

Importing this package registers every meetings table on Base.metadata (migrations.load_all_models).
"""
from __future__ import annotations

from domain.meetings.core import *  # noqa: F401,F403
from domain.meetings.models import *  # noqa: F401,F403
from domain.meetings.recurrence import Rule, RuleError, parse_rule  # noqa: F401

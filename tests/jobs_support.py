"""The dependencies scheduler jobs get in tests: the real outbox notifier, default policies."""
from __future__ import annotations

from bot.notifier import OutboxNotifier
from scheduler.deps import JobDeps


def job_deps(**overrides) -> JobDeps:
    return JobDeps(notifier=OutboxNotifier(overrides.pop("console_url", None)), **overrides)

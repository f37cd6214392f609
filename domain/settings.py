"""Configuration, read only from the environment (names are contracts: see README)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

LINE_API_DEFAULT = "https://api.line.me"
INSTANCE_DIR = Path(os.environ.get("SASAEAI_INSTANCE_DIR", Path.cwd() / "instance"))


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'sasaeai.sqlite3'}"


@dataclass(frozen=True)
class Config:
    line_channel_secret: str = ""
    line_channel_access_token: str = ""
    line_api_base_url: str = LINE_API_DEFAULT
    # With a channel id, access tokens are issued (stateless, 15 min) from the id and secret
    # through LINE's OAuth endpoint and renewed; LINE_CHANNEL_ACCESS_TOKEN is then not needed.
    line_channel_id: str = ""
    # Messages sent to LINE side by side by each dispatcher (one per user at a time).
    outbox_concurrency: int = 8
    database_url: str = field(default_factory=_default_database_url)
    # Largest webhook body accepted; LINE batches events, but a megabyte is far beyond any batch.
    max_webhook_bytes: int = 1_000_000
    log_level: str = "INFO"
    # Seconds to wait for LINE's answer; the SDK has no default timeout.
    line_request_timeout: float = 10.0
    # Failures before an event is parked as a dead letter.
    event_max_attempts: int = 5
    # Retryable failures (5xx, 429, no answer) before a message is marked failed (~2.5 h of backoff).
    outbox_max_attempts: int = 20
    # The coordinators' console, linked from LINE notices (https://…; empty: no link).
    console_url: str = ""
    # Escalation deadlines: urgent in minutes/hours, normal in business days/days (Tokyo hours).
    urgent_ack_minutes: int = 60
    urgent_resolve_hours: int = 24
    normal_ack_business_days: int = 1
    normal_resolve_days: int = 14
    business_hours: str = "08:30-17:15"
    # Days after an unfollow (block) before the person's data is erased.
    retention_days: int = 90

    ENV_NAMES = {
        "line_channel_secret": "LINE_CHANNEL_SECRET",
        "line_channel_access_token": "LINE_CHANNEL_ACCESS_TOKEN",
        "line_api_base_url": "LINE_API_BASE_URL",
        "line_channel_id": "LINE_CHANNEL_ID",
        "outbox_concurrency": "SASAEAI_OUTBOX_CONCURRENCY",
        "database_url": "DATABASE_URL",
        "max_webhook_bytes": "SASAEAI_MAX_WEBHOOK_BYTES",
        "log_level": "SASAEAI_LOG_LEVEL",
        "line_request_timeout": "SASAEAI_LINE_TIMEOUT",
        "event_max_attempts": "SASAEAI_EVENT_MAX_ATTEMPTS",
        "outbox_max_attempts": "SASAEAI_OUTBOX_MAX_ATTEMPTS",
        "console_url": "SASAEAI_CONSOLE_URL",
        "urgent_ack_minutes": "SASAEAI_URGENT_ACK_MINUTES",
        "urgent_resolve_hours": "SASAEAI_URGENT_RESOLVE_HOURS",
        "normal_ack_business_days": "SASAEAI_NORMAL_ACK_BUSINESS_DAYS",
        "normal_resolve_days": "SASAEAI_NORMAL_RESOLVE_DAYS",
        "business_hours": "SASAEAI_BUSINESS_HOURS",
        "retention_days": "SASAEAI_RETENTION_DAYS",
    }

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Config":
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            name = cls.ENV_NAMES.get(f.name)
            if name and env.get(name) not in (None, ""):
                raw = env[name]
                if f.type in ("int", int):
                    values[f.name] = int(raw)
                elif f.type in ("float", float):
                    values[f.name] = float(raw)
                elif f.type in ("bool", bool):
                    values[f.name] = raw.lower() in ("1", "true", "yes", "on")
                else:
                    values[f.name] = raw
        values.update(overrides)
        return cls(**values)

    def deadline_policy(self):
        """The escalation deadlines these settings describe."""
        from datetime import time, timedelta

        from domain.escalation import DeadlinePolicy

        start, end = (time.fromisoformat(part.strip()) for part in self.business_hours.split("-"))
        return DeadlinePolicy(urgent_ack=timedelta(minutes=self.urgent_ack_minutes),
                              urgent_resolve=timedelta(hours=self.urgent_resolve_hours),
                              normal_ack_business_days=self.normal_ack_business_days,
                              normal_resolve=timedelta(days=self.normal_resolve_days),
                              business_start=start, business_end=end)

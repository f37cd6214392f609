"""Configuration, read only from the environment (names are contracts: see README).

`Config.from_env()` checks every value's type and range at start and, when one is wrong, raises
`ConfigError` whose one-line message names the variable (never its value: it may be a secret).
Secrets are `SecretStr`: the repr never shows them, and the database URL's password is masked.
Callers read `config.line_channel_secret` and `config.line_channel_access_token` as plain str.
"""
from __future__ import annotations

import os
import re
from datetime import time, timedelta
from pathlib import Path
from typing import Any, ClassVar, Mapping

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LINE_API_DEFAULT = "https://api.line.me"
INSTANCE_DIR = Path(os.environ.get("SASAEAI_INSTANCE_DIR", Path.cwd() / "instance"))
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'sasaeai.sqlite3'}"


class ConfigError(ValueError):
    """A variable of the environment has a value the service cannot run with."""


# field → environment variable (a contract: README lists them all)
ENV_NAMES = {
    "line_channel_secret": "LINE_CHANNEL_SECRET",
    "line_channel_access_token": "LINE_CHANNEL_ACCESS_TOKEN",
    "line_api_base_url": "LINE_API_BASE_URL",
    "database_url": "DATABASE_URL",
    "max_webhook_bytes": "SASAEAI_MAX_WEBHOOK_BYTES",
    "log_level": "SASAEAI_LOG_LEVEL",
    "line_request_timeout": "SASAEAI_LINE_TIMEOUT",
    "event_max_attempts": "SASAEAI_EVENT_MAX_ATTEMPTS",
    "outbox_max_attempts": "SASAEAI_OUTBOX_MAX_ATTEMPTS",
    "console_url": "SASAEAI_CONSOLE_URL",
    "public_url": "SASAEAI_PUBLIC_URL",
    "urgent_ack_minutes": "SASAEAI_URGENT_ACK_MINUTES",
    "urgent_resolve_hours": "SASAEAI_URGENT_RESOLVE_HOURS",
    "normal_ack_business_days": "SASAEAI_NORMAL_ACK_BUSINESS_DAYS",
    "normal_resolve_days": "SASAEAI_NORMAL_RESOLVE_DAYS",
    "business_hours": "SASAEAI_BUSINESS_HOURS",
    "retention_days": "SASAEAI_RETENTION_DAYS",
    "event_retention_days": "SASAEAI_EVENT_RETENTION_DAYS",
    "pseudonym_key": "SASAEAI_PSEUDONYM_KEY",
    "line_login_channel_id": "LINE_LOGIN_CHANNEL_ID",
    "line_login_channel_secret": "LINE_LOGIN_CHANNEL_SECRET",
    "line_login_authorize_url": "LINE_LOGIN_AUTHORIZE_URL",
    "console_idle_minutes": "SASAEAI_CONSOLE_IDLE_MINUTES",
    "secret_key": "SASAEAI_SECRET_KEY",
    "area_radius_km": "SASAEAI_AREA_RADIUS_KM",
    "line_channel_id": "LINE_CHANNEL_ID",
    "outbox_concurrency": "SASAEAI_OUTBOX_CONCURRENCY",
    "emergency_number": "SASAEAI_EMERGENCY_NUMBER",
    "police_number": "SASAEAI_POLICE_NUMBER",
    "emergency_advice_number": "SASAEAI_EMERGENCY_ADVICE_NUMBER",
    "police_consultation_number": "SASAEAI_POLICE_CONSULTATION_NUMBER",
    "consumer_hotline_number": "SASAEAI_CONSUMER_HOTLINE_NUMBER",
    "elder_abuse_number": "SASAEAI_ELDER_ABUSE_NUMBER",
    "community_care_number": "SASAEAI_COMMUNITY_CARE_NUMBER",
    "yorisoi_number": "SASAEAI_YORISOI_NUMBER",
    "mental_health_number": "SASAEAI_MENTAL_HEALTH_NUMBER",
    "dv_navi_number": "SASAEAI_DV_NAVI_NUMBER",
    "dv_plus_number": "SASAEAI_DV_PLUS_NUMBER",
}
# Fields stored under another name because their value is a secret (read through a property).
_SECRET_FIELDS = {"line_channel_secret": "channel_secret",
                  "line_channel_access_token": "channel_access_token",
                  "line_login_channel_secret": "login_channel_secret",
                  "secret_key": "session_secret_key"}


def _alias(name: str) -> AliasChoices:
    return AliasChoices(name, ENV_NAMES[name])


def _field(name: str, default: Any = None, **kwargs) -> Any:
    if "default_factory" in kwargs:
        return Field(validation_alias=_alias(name), **kwargs)
    return Field(default, validation_alias=_alias(name), **kwargs)


SAFETY_NUMBER_KEYS = ("emergency", "police", "emergency_advice", "police_consultation", "consumer_hotline",
                      "elder_abuse", "community_care", "yorisoi", "mental_health", "dv_navi", "dv_plus")


class Config(BaseSettings):
    """Every setting of a deployment; built by `from_env()` or directly (tests) with keywords."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", populate_by_name=True,
                                      hide_input_in_errors=True)

    channel_secret: SecretStr = _field("line_channel_secret", SecretStr(""))
    channel_access_token: SecretStr = _field("line_channel_access_token", SecretStr(""))
    line_api_base_url: str = _field("line_api_base_url", LINE_API_DEFAULT)
    # With a channel id, access tokens are issued (stateless, 15 min) from the id and secret
    # through LINE's OAuth endpoint and renewed; LINE_CHANNEL_ACCESS_TOKEN is then not needed.
    line_channel_id: str = _field("line_channel_id", "", max_length=20)
    # Messages sent to LINE side by side by each dispatcher (one per user at a time).
    outbox_concurrency: int = _field("outbox_concurrency", 8, ge=1, le=64)
    database_url: str = _field("database_url", default_factory=_default_database_url)
    # Largest webhook body accepted; LINE batches events, but a megabyte is far beyond any batch.
    max_webhook_bytes: int = _field("max_webhook_bytes", 1_000_000, ge=1_000, le=100_000_000)
    log_level: str = _field("log_level", "INFO")
    # Seconds to wait for LINE's answer; the SDK has no default timeout.
    line_request_timeout: float = _field("line_request_timeout", 10.0, gt=0, le=300)
    # Failures before an event is parked as a dead letter.
    event_max_attempts: int = _field("event_max_attempts", 5, ge=1, le=1000)
    # Retryable failures (5xx, 429, no answer) before a message is marked failed (~2.5 h of backoff).
    outbox_max_attempts: int = _field("outbox_max_attempts", 20, ge=1, le=1000)
    # The coordinators' console, linked from LINE notices (https://…; empty: no link).
    console_url: str = _field("console_url", "")
    # Where this app is reached from outside (https://…); the privacy notice links /privacy there.
    # Empty: the console's host when SASAEAI_CONSOLE_URL is set, else no link.
    public_url: str = _field("public_url", "")
    # Escalation deadlines: urgent in minutes/hours, normal in business days/days (Tokyo hours).
    urgent_ack_minutes: int = _field("urgent_ack_minutes", 60, ge=1, le=10_080)
    urgent_resolve_hours: int = _field("urgent_resolve_hours", 24, ge=1, le=8_760)
    normal_ack_business_days: int = _field("normal_ack_business_days", 1, ge=0, le=365)
    normal_resolve_days: int = _field("normal_resolve_days", 14, ge=1, le=3_650)
    business_hours: str = _field("business_hours", "08:30-17:15")
    # Days after an unfollow (block) before the person's data is erased.
    retention_days: int = _field("retention_days", 90, ge=1, le=3_650)
    # Days before handled events and sent message bodies of everyone are reduced.
    event_retention_days: int = _field("event_retention_days", 30, ge=1, le=3_650)
    # Key of the hash that replaces a LINE user id in kept records (empty: the channel secret).
    pseudonym_key: SecretStr = _field("pseudonym_key", SecretStr(""))
    # The console: LINE Login channel (same provider as the Messaging API channel), sessions.
    line_login_channel_id: str = _field("line_login_channel_id", "")
    login_channel_secret: SecretStr = _field("line_login_channel_secret", SecretStr(""))
    line_login_authorize_url: str = _field("line_login_authorize_url",
                                           "https://access.line.me/oauth2/v2.1/authorize")
    console_idle_minutes: int = _field("console_idle_minutes", 30, ge=1, le=1_440)
    # Signs the console's cookie and CSRF tokens (empty: derived from the channel secret).
    session_secret_key: SecretStr = _field("secret_key", SecretStr(""))
    # A LINE location farther than this from every district and neighbourhood is not taken as
    # the person's area: the bot asks instead (the city's own size plus a margin).
    area_radius_km: float = _field("area_radius_km", 8.0, gt=0, le=500)
    # Safety answers: phone numbers shown to residents (national lines by default; README lists
    # each with its source). Empty: the line is not shown (or named without a number).
    emergency_number: str = _field("emergency_number", "119", max_length=20)  # 119: 救急・火事
    police_number: str = _field("police_number", "110", max_length=20)  # 110: 警察
    emergency_advice_number: str = _field("emergency_advice_number", "#7119", max_length=20)  # 救急安心センター
    police_consultation_number: str = _field("police_consultation_number", "#9110", max_length=20)  # 警察相談専用電話
    consumer_hotline_number: str = _field("consumer_hotline_number", "188", max_length=20)  # 消費者ホットライン
    elder_abuse_number: str = _field("elder_abuse_number", "", max_length=20)  # the city's 高齢者虐待 consultation line
    community_care_number: str = _field("community_care_number", "", max_length=20)  # 地域包括支援センター (else named without a number)
    yorisoi_number: str = _field("yorisoi_number", "0120-279-338", max_length=20)  # よりそいホットライン
    mental_health_number: str = _field("mental_health_number", "0570-064-556", max_length=20)  # こころの健康相談統一ダイヤル
    dv_navi_number: str = _field("dv_navi_number", "#8008", max_length=20)  # DV相談ナビ
    dv_plus_number: str = _field("dv_plus_number", "0120-279-889", max_length=20)  # DV相談＋

    def safety_numbers(self) -> dict[str, str]:
        """The safety answers' numbers by key (emergency, police, … dv_plus); empty: not shown."""
        return {key: str(getattr(self, f"{key}_number") or "").strip() for key in SAFETY_NUMBER_KEYS}

    # No implicit source: a Config is what its caller gives (from_env passes the environment).
    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return (init_settings,)

    ENV_NAMES: ClassVar[dict[str, str]] = ENV_NAMES  # also read as Config.ENV_NAMES

    def __init__(self, **values: Any) -> None:
        for plain, stored in _SECRET_FIELDS.items():
            if plain in values:
                values[stored] = values.pop(plain)
        super().__init__(**values)

    # -- checks beyond type and range --------------------------------------------------------
    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError("must be one of " + ", ".join(LOG_LEVELS))
        return level

    @field_validator("line_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s):// URL")
        return value.rstrip("/")

    @field_validator("console_url", "public_url")
    @classmethod
    def _console(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be empty or an http(s):// URL")
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgres(ql)?)(\+\w+)?://", value):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
        if not match:
            raise ValueError("must be HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60 and (h1, m1) < (h2, m2)):
            raise ValueError("must be HH:MM-HH:MM with the start before the end")
        return f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"

    # -- plain access to the secrets (the SDK and the signature check want str) ---------------
    @property
    def line_channel_secret(self) -> str:
        return self.channel_secret.get_secret_value()

    @property
    def line_channel_access_token(self) -> str:
        return self.channel_access_token.get_secret_value()

    @property
    def line_login_channel_secret(self) -> str:
        return self.login_channel_secret.get_secret_value()

    @property
    def secret_key(self) -> str:
        return self.session_secret_key.get_secret_value()

    @property
    def pseudonym_secret(self) -> bytes:
        """The key that turns a LINE user id into a pseudonym nobody can reverse."""
        key = self.pseudonym_key.get_secret_value() or self.line_channel_secret or "sasaeai"
        return key.encode("utf-8")

    def __repr_args__(self):
        for name, value in super().__repr_args__():
            if name == "database_url":
                value = re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", value)
            yield name, value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Config":
        """The configuration the environment describes; an empty variable means its default."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, variable in ENV_NAMES.items():
            raw = env.get(variable)
            if raw not in (None, ""):
                values[variable] = raw
        for name, value in overrides.items():
            values.pop(ENV_NAMES.get(name, name), None)
            values[name] = value
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ConfigError(describe(exc)) from None

    def deadline_policy(self):
        """The escalation deadlines these settings describe."""
        from domain.escalation import DeadlinePolicy

        start, end = (time.fromisoformat(part.strip()) for part in self.business_hours.split("-"))
        return DeadlinePolicy(urgent_ack=timedelta(minutes=self.urgent_ack_minutes),
                              urgent_resolve=timedelta(hours=self.urgent_resolve_hours),
                              normal_ack_business_days=self.normal_ack_business_days,
                              normal_resolve=timedelta(days=self.normal_resolve_days),
                              business_start=start, business_end=end)


def describe(exc: ValidationError) -> str:
    """One line naming each wrong variable and what it must be (the value is never shown)."""
    stored_to_plain = {stored: plain for plain, stored in _SECRET_FIELDS.items()}
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        where = str(error["loc"][0]) if error["loc"] else "configuration"
        where = stored_to_plain.get(where, where)
        variable = ENV_NAMES.get(where, where)
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{variable}: {message}")
    return "invalid configuration: " + "; ".join(parts)


def national_safety_numbers() -> dict[str, str]:
    """The safety numbers when nothing is configured: the national lines (Config's defaults)."""
    return {key: str(Config.model_fields[f"{key}_number"].default or "") for key in SAFETY_NUMBER_KEYS}

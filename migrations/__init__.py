"""Alembic migrations, and the one list of modules that define tables.

Revisions name column types through ``migrations.types`` only, so that moving a model module
never breaks an old revision.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from domain.base import Base
from domain.db import normalise_url

# Every module that defines tables; Alembic and the schema test load them all from here.
MODEL_MODULES = (
    "bot.inbox",
    "bot.outbox",
    "bot.state",
    "domain.models",
    "domain.meetings",
    "domain.escalation",
    "domain.cases",
    "domain.staff",
    "domain.readings",
)


def load_all_models() -> type[Base]:
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base


def alembic_config(url: str):
    """An Alembic configuration for these migrations, aimed at url."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)

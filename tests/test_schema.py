"""The schema built by migrating equals the one the models describe."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from domain.db import make_engine
from migrations import load_all_models


def _diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, load_all_models().metadata)
    finally:
        engine.dispose()


def test_migrated_schema_equals_models(any_db_url):
    assert _diff(any_db_url) == []

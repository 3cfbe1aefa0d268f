"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from qc_service.store import db


def test_migrated_schema_matches_the_models(database_url):
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_migrated_database_is_at_head(database_url):
    engine = db.make_engine(database_url)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_upgrade_from_nothing_and_again_is_harmless(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    db.upgrade(engine)
    db.upgrade(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert {"project", "label", "token", "job"} <= tables
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()

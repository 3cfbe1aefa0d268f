"""Schema migrations."""

from __future__ import annotations

import click

from qc_service.settings import Settings
from qc_service.store import db as store_db


@click.group()
def db() -> None:
    """Manage the database schema (Alembic migrations)."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Upgrade the schema of the database named by DATABASE_URL.

    \b
    Example:
      DATABASE_URL=postgresql+psycopg://qc@127.0.0.1/qc qc-service db upgrade

    The embedded SQLite default upgrades itself at start; PostgreSQL deployments run
    this once per release, before starting the new version.
    """
    settings = Settings.from_env()
    engine = store_db.make_engine(settings.resolved_database_url)
    store_db.upgrade(engine, revision)
    click.echo(f"schema at {store_db.current_revision(engine)} ({engine.url.render_as_string()})")


@db.command()
def current() -> None:
    """Show the schema revision of the database and the newest this code knows.

    \b
    Example:
      DATABASE_URL=postgresql+psycopg://qc@127.0.0.1/qc qc-service db current
    """
    settings = Settings.from_env()
    engine = store_db.make_engine(settings.resolved_database_url)
    click.echo(f"database: {store_db.current_revision(engine)}  code: {store_db.head_revision()}")

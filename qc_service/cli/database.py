"""Schema migrations."""

from __future__ import annotations

import click

from qc_service.service import retention
from qc_service.settings import Settings
from qc_service.store import db as store_db

from .runtime import open_context


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


@db.command()
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Forget records older than this many days. Default: QC_REPLAY_RETENTION_DAYS.",
)
def prune(days: int | None) -> None:
    """Forget webhook delivery ids and Idempotency-Keys older than the retention window.

    A retry within the window gets the first answer back; an older retry is
    processed as new, and its labels' event ids keep it from storing anything twice.
    The service also prunes after refits, at most hourly; run this from cron when
    refits are rare, or to shrink the tables at once.

    \b
    Examples:
      qc-service db prune               # older than QC_REPLAY_RETENTION_DAYS (default 30)
      qc-service db prune --days 7
    """
    pruned = retention.prune_replay_records(open_context(), days)
    if pruned is None:
        click.echo("retention is off (QC_REPLAY_RETENTION_DAYS=0): nothing pruned; use --days")
        return
    click.echo(
        f"pruned {pruned.webhook_deliveries} webhook deliveries and "
        f"{pruned.idempotent_requests} idempotency keys stored before "
        f"{pruned.before.isoformat(timespec='seconds')}"
    )

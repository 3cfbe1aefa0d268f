"""What commands that touch the database share: a service context, and error output."""

from __future__ import annotations

import click

from qc_service.errors import ServiceError
from qc_service.service.context import Context
from qc_service.settings import Settings
from qc_service.store import db


def open_context() -> Context:
    """A context on the database named by DATABASE_URL (default: SQLite in the data
    folder), migrated first when the settings say so, as the server would."""
    settings = Settings.from_env()
    engine = db.make_engine(settings.resolved_database_url)
    if settings.should_auto_migrate:
        db.upgrade(engine)
    return Context(settings=settings, engine=engine)


def fail(error: ServiceError) -> click.ClickException:
    """A service error as a command-line error: the detail, then one line per field."""
    lines = [error.detail] + [f"  {e.field}: {e.message}" for e in error.errors]
    return click.ClickException("\n".join(lines))

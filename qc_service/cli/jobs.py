"""Refits from the command line, and the Celery worker that runs them."""

from __future__ import annotations

import json

import click

from qc_service.service.context import Context
from qc_service.settings import Settings
from qc_service.store import db


@click.command()
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=int,
    help="Refits run at once by this worker (one process each).",
)
@click.option("--loglevel", default="INFO", show_default=True, help="Celery log level.")
def worker(concurrency: int, loglevel: str) -> None:
    """Run a Celery worker for refits (needs QC_BROKER_URL).

    \b
    Example:
      QC_BROKER_URL=redis://127.0.0.1:6379/0 \\
      DATABASE_URL=postgresql+psycopg://qc@127.0.0.1/qc qc-service worker
    """
    settings = Settings.from_env()
    if not settings.broker_url:
        raise click.UsageError("set QC_BROKER_URL: without a broker, refits run in the service")
    from qc_service.jobs.celery_app import app

    pool = "solo" if concurrency == 1 else "prefork"
    app.worker_main(
        ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}", f"--pool={pool}"]
    )


@click.command()
@click.argument("project")
def fit(project: str) -> None:
    """Refit PROJECT now, in this process, and print the fit's summary.

    \b
    Example:
      qc-service fit shirts
    """
    from qc_service.service import fits

    settings = Settings.from_env()
    ctx = Context(settings=settings, engine=db.make_engine(settings.resolved_database_url))
    published = fits.run_fit(ctx, project)
    with db.session_scope(ctx.engine) as session:
        summary = fits.last_fit(session, project)
    click.echo(json.dumps({"fit": published.id, **(summary or {})}, indent=2, default=str))

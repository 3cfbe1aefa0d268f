"""Running the service and showing its configuration."""

from __future__ import annotations

import os
import sys

import click

from qc_service.settings import settings_table


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--gunicorn",
    "use_gunicorn",
    is_flag=True,
    help="Serve with gunicorn (production) instead of Flask's development server.",
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=int,
    help="gunicorn worker processes (with --gunicorn).",
)
def serve(host: str, port: int, use_gunicorn: bool, workers: int) -> None:
    """Run the HTTP API.

    \b
    Examples:
      qc-service serve                          # development server, SQLite in ./data
      DATABASE_URL=postgresql+psycopg://qc@db/qc qc-service serve --gunicorn --workers 4

    With --gunicorn this runs the same as
    `gunicorn -c deploy/gunicorn.conf.py 'qc_service.app:create_app()'`.
    """
    if use_gunicorn:
        args = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"{host}:{port}",
            "--config",
            "python:qc_service.gunicorn_conf",
            "qc_service.app:create_app()",
        ]
        os.execv(sys.executable, args)
    from qc_service.app import create_app

    create_app().run(host=host, port=port, threaded=True)


@click.command()
def settings() -> None:
    """List every setting: environment variable, default and meaning.

    \b
    Example:
      qc-service settings | grep -A2 DATABASE_URL
    """
    for row in settings_table():
        click.echo(f"{row['variable']}\n    default: {row['default']}\n    {row['meaning']}\n")

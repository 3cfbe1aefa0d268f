"""Issuing API tokens."""

from __future__ import annotations

import click

from qc_service.errors import ServiceError
from qc_service.service import auth

from .runtime import fail, open_context


@click.group()
def token() -> None:
    """Manage API tokens."""


@token.command()
@click.option(
    "--project",
    "-p",
    default=None,
    help="Scope the token to this project. Left out: a service-wide token.",
)
@click.option(
    "--scope",
    "-s",
    "scopes",
    multiple=True,
    default=("admin",),
    show_default=True,
    type=click.Choice(auth.ALL_SCOPES),
    help="A scope to grant; repeat for several.",
)
@click.option("--name", default="", help="A note to tell tokens apart (e.g. the client).")
def create(project: str | None, scopes: tuple[str, ...], name: str) -> None:
    """Create a token and print it. It is shown once: the service keeps only its hash.

    \b
    Examples:
      qc-service token create                                   # service-wide admin
      qc-service token create -p shirts -s ingest --name toloka-relay
      export QC_TOKEN=$(qc-service token create -p shirts -s read -s review)
    """
    try:
        secret, issued = auth.create_token(open_context(), project, list(scopes), name)
    except ServiceError as error:
        raise fail(error) from None
    where = f"project {project}" if project else "all projects"
    click.echo(f"token for {where}, scopes {', '.join(issued.scopes)}:", err=True)
    click.echo(secret)

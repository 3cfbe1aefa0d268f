"""Creating projects from a taxonomy file."""

from __future__ import annotations

from pathlib import Path

import click
import yaml
from pydantic import ValidationError

from qc_service.api.problems import field_errors
from qc_service.errors import InvalidInput, ServiceError
from qc_service.schemas.projects import ProjectCreate
from qc_service.service import projects

from .runtime import fail, open_context


@click.group()
def project() -> None:
    """Manage projects."""


@project.command()
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML (or JSON) file with the project: the fields of POST /projects.",
)
def create(source: Path) -> None:
    """Create a project from a taxonomy file and print its id.

    \b
    Example taxonomy.yaml:
      id: shirts
      name: Shirts
      target_confidence: 0.9
      min_labels: 3
      max_labels: 7
      attributes:
        - {name: shade, kind: categorical, values: [white, off-white, cream]}
        - {name: has_logo, kind: binary}
    \b
      qc-service project create --from taxonomy.yaml
    """
    try:
        spec = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{source} is not YAML: {error}") from None
    try:
        created = projects.create_project(open_context(), ProjectCreate.model_validate(spec))
    except ValidationError as error:
        problem = InvalidInput(f"{source} is not a valid project", field_errors(error))
        raise fail(problem) from None
    except ServiceError as error:
        raise fail(error) from None
    names = ", ".join(a.name for a in created.attributes)
    click.echo(f"created project {created.id} with attributes {names}", err=True)
    click.echo(created.id)

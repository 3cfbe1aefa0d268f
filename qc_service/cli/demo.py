"""A populated demo project, to try the service without data of one's own."""

from __future__ import annotations

import click

from qc_service import demo as demo_data
from qc_service.errors import NotFound
from qc_service.schemas.projects import ProjectCreate
from qc_service.service import auth, fits, projects
from qc_service.service.ingest import ingest_events

from .runtime import open_context


@click.command()
@click.option(
    "--url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Where `qc-service serve` will listen, for the printed links.",
)
@click.option(
    "--seed",
    default=2024,
    show_default=True,
    type=int,
    help="Seed of the data generator (another seed, another crowd).",
)
def demo(url: str, seed: int) -> None:
    """Build the demo project: 200 shirt images with four fine-grained attributes
    (shade, pattern, texture, logo) labelled by 25 simulated annotators of uneven
    skill, one spammer and one adversary, 3 to 5 per image, with gold for 20 images.
    Then fit it, create an admin token for it and print how to look at it.

    The data is generated from a seed, so running it again stores nothing new.

    \b
    Example:
      qc-service demo && qc-service serve
    """
    ctx = open_context()
    data = demo_data.generate(seed=seed)
    project_id = data.spec["id"]
    try:
        projects.get_project(ctx, project_id)
    except NotFound:
        projects.create_project(ctx, ProjectCreate.model_validate(data.spec))
    result, _ = ingest_events(ctx, project_id, data.batch, source="demo", report_items=False)
    if result.accepted or projects.get_project(ctx, project_id).last_fit is None:
        fits.run_fit(ctx, project_id)
    secret, _ = auth.create_token(ctx, project_id, ["admin"], "demo")
    counts = projects.get_project(ctx, project_id).counts
    base = f"{url.rstrip('/')}/api/v1/projects/{project_id}"
    click.echo(
        f"demo project {project_id!r}: {counts.items} items, {counts.annotators} annotators, "
        f"{counts.labels} labels, {counts.gold} gold ({result.accepted} labels new)\n"
        f"\ndashboard: {url.rstrip('/')}/ui/signin (sign in with the token)"
        f"\nAPI:       {base}\ntoken:     {secret}\n"
        f"\nStart the service (qc-service serve), then:\n"
        f'  curl -H "Authorization: Bearer {secret}" "{base}/results?status=flagged&limit=5"\n'
        f'  curl -H "Authorization: Bearer {secret}" {base}/annotators\n'
    )

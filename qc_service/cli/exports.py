"""Exporting aggregated labels."""

from __future__ import annotations

import sys

import click

from qc_service.errors import ServiceError
from qc_service.schemas.results import ExportQuery
from qc_service.service import export as export_service

from .runtime import fail, open_context


@click.command()
@click.option("--project", "-p", required=True, help="The project to export.")
@click.option(
    "--format",
    "-f",
    "file_format",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    default="csv",
    show_default=True,
)
@click.option("--attribute", default=None, help="Only this attribute.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default="-",
    help="File to write; '-' (default) is standard output.",
)
def export(project: str, file_format: str, attribute: str | None, output: str) -> None:
    """Write the project's aggregated labels (one row per item and attribute: label,
    confidence, number of labels, status, flags) from its latest fit.

    \b
    Examples:
      qc-service export -p shirts -f csv > labels.csv
      qc-service export -p shirts -f parquet -o labels.parquet --attribute shade
    """
    ctx = open_context()
    query = ExportQuery(format=file_format, attribute=attribute)
    try:
        attribute_id = export_service.check_export(ctx, project, query)
        chunks = export_service.stream_export(ctx, project, query, attribute_id)
        if output == "-":
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        else:
            with open(output, "wb") as target:
                for chunk in chunks:
                    target.write(chunk)
    except ServiceError as error:
        raise fail(error) from None

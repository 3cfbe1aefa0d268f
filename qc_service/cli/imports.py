"""Importing a platform's bulk export."""

from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import click
import yaml

from qc_service.errors import InvalidInput, ServiceError
from qc_service.events import EventBatch
from qc_service.platforms import DEFAULT_CHUNK_SIZE, Mapping, PayloadError, ProgressReader
from qc_service.service import ingest
from qc_service.service.context import Context
from qc_service.service.platforms import adapter_for, mapping_of, stored_settings

from .runtime import fail, open_context

FORMATS = ("labelstudio", "toloka", "mturk", "sagemaker", "a2i", "gal", "csv", "jsonl")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "-f",
    "platform",
    type=click.Choice(FORMATS),
    required=True,
    help="The platform the file comes from, or a generic csv/jsonl table.",
)
@click.option("--project", "-p", required=True, help="The project to import into.")
@click.option(
    "--mapping",
    "-m",
    "mapping_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML mapping of fields to item, annotator, attributes and gold. "
    "Default: the one stored for the platform (PUT .../platforms/<format>), "
    "else the platform's defaults.",
)
@click.option(
    "--chunk-size",
    default=DEFAULT_CHUNK_SIZE,
    show_default=True,
    type=click.IntRange(1, 50_000),
    help="Events per transaction.",
)
def import_file(
    file: Path, platform: str, project: str, mapping_file: Path | None, chunk_size: int
) -> None:
    """Import FILE, a platform's export, into PROJECT, in batches of one transaction
    each, straight into the database named by DATABASE_URL.

    Idempotent and resumable: event ids come from the platform's own ids (or the
    answer's content), so importing the same file again adds nothing, and after an
    interruption (Ctrl-C, a crash) running the same command again stores only what
    is missing. A batch is stored whole or not at all.

    \b
    Examples:
      qc-service import results.tsv -f toloka -p shirts
      qc-service import Batch_123_batch_results.csv -f mturk -p shirts -m mapping.yaml
      qc-service import labels.csv -f csv -p shirts      # item,annotator,attribute,value
      qc-service import gold.txt -f gal -p porn          # Get-Another-Label gold file
      qc-service import loops.jsonl -f a2i -p shirts     # A2I human-loop output.json files

    \b
    mapping.yaml (all keys optional; see docs/platforms.md):
      item: Input.image_url
      attributes: {category: shade}
    """
    ctx = open_context()
    adapter = adapter_for(platform)
    try:
        mapping = _mapping(ctx, project, platform, mapping_file)
    except ServiceError as error:
        raise fail(error) from None
    totals: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    started = time.monotonic()
    with file.open("rb") as raw:
        reader = ProgressReader(raw)
        size = os.fstat(raw.fileno()).st_size
        with click.progressbar(
            length=size,
            label=f"importing {file.name}",
            item_show_func=lambda stats: stats,
            file=sys.stderr,
        ) as bar:
            # One batch is written while the next is parsed: the database works on
            # another core meanwhile. Batches are still stored one at a time, in order.
            writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import")
            pending: Future | None = None
            try:
                for batch in adapter.parse_export(reader, mapping, chunk_size):
                    if pending is not None:
                        pending.result()
                    skipped.update(batch.skipped)
                    pending = writer.submit(_store, ctx, project, platform, batch, totals)
                    rate = totals["labels"] / max(time.monotonic() - started, 1e-9)
                    bar.update(reader.bytes_read - bar.pos, f"{rate:,.0f} labels/s")
                if pending is not None:
                    pending.result()
            except KeyboardInterrupt:
                # The batch being written finishes (or rolls back) before we report.
                if pending is not None:
                    wait([pending])
                click.echo(
                    f"\ninterrupted: {_summary(totals)} so far; every finished batch is "
                    "stored. Run the same command again to import the rest.",
                    err=True,
                )
                raise SystemExit(130) from None
            except PayloadError as error:
                lines = [f"  {e['field'] or '/'}: {e['message']}" for e in error.errors]
                raise click.ClickException(
                    "\n".join([f"{file} cannot be read ({_summary(totals)} before it):", *lines])
                ) from None
            finally:
                writer.shutdown(wait=True)
    elapsed = time.monotonic() - started
    click.echo(
        f"{_summary(totals)} in {elapsed:.1f} s "
        f"({totals['labels'] / max(elapsed, 1e-9):,.0f} labels/s)"
    )
    if skipped:
        click.echo("skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))


def _mapping(ctx: Context, project: str, platform: str, mapping_file: Path | None) -> Mapping:
    if mapping_file is None:
        return mapping_of(stored_settings(ctx, project, platform))
    try:
        data = yaml.safe_load(mapping_file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{mapping_file} is not YAML: {error}") from None
    try:
        return Mapping.from_dict(data)
    except PayloadError as error:
        lines = [f"  {e['field']}: {e['message']}" for e in error.errors]
        message = "\n".join([f"{mapping_file} is not a valid mapping:", *lines])
        raise click.ClickException(message) from None


def _store(
    ctx: Context, project: str, platform: str, batch: EventBatch, totals: Counter[str]
) -> None:
    try:
        result, _ = ingest.ingest_events(
            ctx, project, batch, source=f"import:{platform}", report_items=False
        )
    except InvalidInput as error:
        raise fail(_located(error, batch, totals)) from None
    except ServiceError as error:
        raise fail(error) from None
    totals["labels"] += len(batch.labels)
    totals["stored"] += result.accepted
    totals["duplicates"] += result.duplicates
    totals["gold"] += result.gold
    totals["retracted"] += result.retracted


def _located(error: InvalidInput, batch: EventBatch, totals: Counter[str]) -> InvalidInput:
    """Taxonomy errors point into the batch (``/labels/3/value``); a file's reader wants
    the answer itself: its item, annotator, attribute and value."""
    events = {"labels": batch.labels, "gold": batch.gold}
    located = []
    for entry in error.errors:
        match = re.fullmatch(r"/(labels|gold)/(\d+)/(\w+)", entry.field)
        if match:
            event = events[match[1]][int(match[2])]
            who = f", annotator {event.annotator!r}" if match[1] == "labels" else ""
            where = f"{match[1]} of item {event.item!r}{who}, {event.attribute!r}: {event.value!r}"
            entry = type(entry)(where, entry.message)
        located.append(entry)
    detail = f"{error.detail}; nothing of this batch was stored ({_summary(totals)} before it)"
    return InvalidInput(detail, located)


def _summary(totals: Counter[str]) -> str:
    return (
        f"{totals['labels']:,} labels read, {totals['stored']:,} stored, "
        f"{totals['duplicates']:,} already there, {totals['gold']:,} gold, "
        f"{totals['retracted']:,} retracted"
    )

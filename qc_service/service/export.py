"""Exporting aggregated labels: one row per item and attribute, streamed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from qc_service.schemas.results import ExportQuery
from qc_service.service.context import Context
from qc_service.service.results import attribute_filter, attributes_of, result_out
from qc_service.store import db
from qc_service.store import results as result_store

COLUMNS = ["item", "attribute", "label", "confidence", "n_labels", "status", "flags", "fit"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}
_SCHEMA = pa.schema(
    [
        ("item", pa.string()),
        ("attribute", pa.string()),
        ("label", pa.string()),
        ("confidence", pa.float64()),
        ("n_labels", pa.int64()),
        ("status", pa.string()),
        ("flags", pa.string()),
        ("fit", pa.int64()),
    ]
)


def _flat(row) -> dict:
    """A result as export columns; a multilabel label and the flags as JSON arrays."""
    out = result_out(row)
    label = out["label"]
    return {
        "item": out["item"],
        "attribute": out["attribute"],
        "label": label if isinstance(label, str) else json.dumps(label),
        "confidence": out["confidence"],
        "n_labels": out["n_labels"],
        "status": out["status"],
        "flags": json.dumps(out["flags"]),
        "fit": out["fit"],
    }


def check_export(ctx: Context, project_id: str, query: ExportQuery) -> int | None:
    """Validate before the first byte is sent (a stream cannot turn into a 404 later);
    answers the attribute filter's id."""
    with db.session_scope(ctx.engine) as session:
        return attribute_filter(attributes_of(session, project_id), query.attribute)


def stream_export(
    ctx: Context, project_id: str, query: ExportQuery, attribute_id: int | None
) -> Iterator[bytes]:
    """The export's bytes, a page of results at a time, read in one transaction so
    the whole file comes from one fit."""
    with db.session_scope(ctx.engine) as session:
        pages = result_store.iter_results(session, project_id, attribute_id)
        if query.format == "parquet":
            yield from _parquet(pages)
        elif query.format == "csv":
            yield from _csv(pages)
        else:
            for page in pages:
                yield "".join(json.dumps(result_out(row)) + "\n" for row in page).encode()


def _csv(pages) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for page in pages:
        writer.writerows(_flat(row) for row in page)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode()


class _Chunks(io.RawIOBase):
    """A write-only file whose written bytes are collected and taken out in turns."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def _parquet(pages) -> Iterator[bytes]:
    sink = _Chunks()
    with pq.ParquetWriter(sink, _SCHEMA) as writer:
        for page in pages:
            rows = [_flat(row) for row in page]
            writer.write_table(pa.Table.from_pylist(rows, schema=_SCHEMA))
            yield sink.take()
    yield sink.take()

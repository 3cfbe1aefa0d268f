"""Amazon Mechanical Turk: the batch results CSV.

Mapping defaults
----------------
- ``item``: ``HITId``; ``Input.image_url`` (any column) keys items by the image.
- ``annotator``: ``WorkerId``.
- ``attributes``: each ``Answer.*`` column, named without ``Answer.`` and without
  the ``.label``/``.labels`` suffix that crowd-html classifiers add
  (``Answer.category.label`` -> ``category``). ``.labels`` answers are tag sets.
- gold: none in the format; ``gold`` maps an attribute to a column holding its
  known answer (``{"category": "Input.true_category"}``), emitted once per item.

Rejected assignments are counted as ``status:Rejected``. Ids are
``mturk:assignment:<AssignmentId>:<attribute>``; ``created_at`` is ``SubmitTime``.

Webhook: MTurk itself pushes only id-carrying notifications; ``parse_webhook`` takes
results rows as JSON objects (the CSV's column names as keys; one object or a list),
e.g. from a Lambda that forwards submitted assignments.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from qc_service.events import EventBatch, GoldEvent, LabelEvent
from qc_service.platforms.base import (
    DEFAULT_CHUNK_SIZE,
    FieldNamer,
    Mapping,
    Payload,
    PayloadError,
    cell,
    id_text,
    iter_table,
    load_json,
    pointer,
    require_dict,
    stream_batches,
    to_datetime,
    to_value,
)

SKIPPED_STATUSES = frozenset({"rejected"})


class MTurkAdapter:
    name = "mturk"

    def parse_webhook(self, payload: Payload, mapping: Mapping) -> EventBatch:
        body = load_json(payload)
        rows = body if isinstance(body, list) else [body]
        batch = EventBatch()
        gold_seen: set[tuple[str, str]] = set()
        errors: list[PayloadError] = []
        for index, row in enumerate(rows):
            where = pointer("", index) if isinstance(body, list) else ""
            try:
                row = require_dict(row, where)
                _add_row(
                    row,
                    lambda column, where=where: pointer(where, column),
                    mapping,
                    batch,
                    gold_seen,
                )
            except PayloadError as error:
                errors.append(error)
        if errors:
            raise PayloadError.combine(errors)
        return batch

    def parse_export(
        self, stream: IO[bytes], mapping: Mapping, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[EventBatch]:
        gold_seen: set[tuple[str, str]] = set()

        def add_row(record: tuple[int, dict[str, str]], batch: EventBatch) -> None:
            line, row = record
            _add_row(row, lambda column: f"{column} (line {line})", mapping, batch, gold_seen)

        return stream_batches(iter_table(stream), add_row, chunk_size)


def answer_field(column: str) -> str:
    """``Answer.category.label`` -> ``category``: the question's name."""
    name = column.removeprefix("Answer.")
    for suffix in (".labels", ".label"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def _add_row(
    row: dict[str, Any],
    where: FieldNamer,
    mapping: Mapping,
    batch: EventBatch,
    gold_seen: set[tuple[str, str]],
) -> None:
    item_column = mapping.item or "HITId"
    annotator_column = mapping.annotator or "WorkerId"
    item = id_text(cell(row, item_column, where), where(item_column))
    for attribute, column in mapping.gold.items():
        if (item, attribute) in gold_seen:
            continue
        value = to_value(
            cell(row, column, where),
            multilabel=mapping.is_multilabel(attribute),
            separator=mapping.separator,
            where=where(column),
        )
        if value is not None:
            gold_seen.add((item, attribute))
            batch.gold.append(GoldEvent(item, attribute, value))
    status = row.get("AssignmentStatus")
    if isinstance(status, str) and status.strip().lower() in SKIPPED_STATUSES:
        batch.skip(f"status:{status.strip()}")
        return
    annotator = id_text(cell(row, annotator_column, where), where(annotator_column))
    assignment_id = id_text(cell(row, "AssignmentId", where), where("AssignmentId"))
    made_at = to_datetime(row.get("SubmitTime"), where("SubmitTime"))
    for column, raw in row.items():
        if not column.startswith("Answer."):
            continue
        name = answer_field(column)
        attribute = mapping.attribute_for(name)
        if attribute is None:
            batch.skip(f"unmapped:{name}")
            continue
        value = to_value(
            raw,
            multilabel=mapping.is_multilabel(attribute) or column.endswith(".labels"),
            separator=mapping.separator,
            where=where(column),
        )
        if value is None:
            batch.skip("empty_answer")
            continue
        label_id = f"mturk:assignment:{assignment_id}:{attribute}"
        batch.labels.append(LabelEvent(item, annotator, attribute, value, label_id, made_at))

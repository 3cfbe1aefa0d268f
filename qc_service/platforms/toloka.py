"""Toloka: the results TSV, the assignment JSON of its API, and webhook notifications.

Mapping defaults
----------------
- ``item``: ``ASSIGNMENT:task_id``; any column works (``INPUT:image`` keys items by
  the image). For API JSON the same names are used: ``INPUT:<name>`` reads the
  task's ``input_values``.
- ``annotator``: ``ASSIGNMENT:worker_id`` (the API's ``user_id``).
- ``attributes``: the output field name, i.e. the column without ``OUTPUT:``.
- gold: ``GOLDEN:<field>`` (the API's ``known_solutions``) is the known answer of
  the item's attribute, emitted once per (item, attribute) per import, whatever
  the row's status: it describes the task, not the worker.

Only ``APPROVED``/``ACCEPTED`` and ``SUBMITTED`` assignments are labels; others are
counted as ``status:<STATUS>``. Ids are
``toloka:assignment:<assignment id>:task:<task id>:<attribute>``.

Webhooks: Toloka's notifications (``ASSIGNMENT_CREATED``, ``ASSIGNMENT_APPROVED``,
``POOL_CLOSED``...) carry ids only. :func:`parse_notifications` returns them typed;
``parse_webhook`` counts them as ``notification:<type>`` and returns no labels: the
caller must fetch each assignment (``GET /api/v1/assignments/<id>``) and feed the
response back to ``parse_webhook``, which also reads assignment JSON (one
assignment, or a list response with ``items``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
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
    peekable,
    pointer,
    require_dict,
    require_list,
    stream_batches,
    stream_json_records,
    to_datetime,
    to_value,
)

COUNTED_STATUSES = frozenset({"APPROVED", "ACCEPTED", "SUBMITTED"})
ASSIGNMENT_ID = "ASSIGNMENT:assignment_id"
TASK_ID = "ASSIGNMENT:task_id"
WORKER_ID = "ASSIGNMENT:worker_id"
STATUS = "ASSIGNMENT:status"


@dataclass(frozen=True, slots=True)
class TolokaNotification:
    """One webhook event: what happened, and the ids to fetch the details with."""

    type: str
    pool_id: str | None
    assignment_ids: list[str] = field(default_factory=list)
    event_time: str | None = None


def parse_notifications(payload: Payload) -> list[TolokaNotification]:
    """Toloka webhook events, from the ``{"events": [...]}`` envelope or a single event."""
    body = require_dict(load_json(payload), "")
    if "events" in body:
        events = require_list(body["events"], "/events")
        where_of = [pointer("/events", index) for index in range(len(events))]
    else:
        events, where_of = [body], [""]
    notifications = []
    for event, where in zip(events, where_of, strict=True):
        event = require_dict(event, where)
        kind = event.get("type")
        if not isinstance(kind, str):
            raise PayloadError(f"{where}/type", "is required")
        ids = event.get("assignment_ids", [])
        assignment_ids = [
            id_text(raw, pointer(where, "assignment_ids", index))
            for index, raw in enumerate(require_list(ids, f"{where}/assignment_ids"))
        ]
        if "assignment_id" in event:
            assignment_ids.insert(0, id_text(event["assignment_id"], f"{where}/assignment_id"))
        pool = event.get("pool_id")
        pool_id = None if pool is None else id_text(pool, f"{where}/pool_id")
        event_time = event.get("event_time")
        notifications.append(
            TolokaNotification(
                kind, pool_id, assignment_ids, event_time if isinstance(event_time, str) else None
            )
        )
    return notifications


class TolokaAdapter:
    name = "toloka"

    def parse_webhook(self, payload: Payload, mapping: Mapping) -> EventBatch:
        """Assignment JSON becomes labels; id-only notifications are counted as skipped."""
        body = load_json(payload)
        batch = EventBatch()
        if isinstance(body, dict) and ("events" in body or "uuid" in body):
            for notification in parse_notifications(body):
                batch.skip(f"notification:{notification.type}")
            return batch
        _add_api_document(body, "", mapping, batch, set())
        return batch

    def parse_export(
        self, stream: IO[bytes], mapping: Mapping, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[EventBatch]:
        """The results TSV, or assignment JSON (API responses, one per line or in a list)."""
        buffered = peekable(stream)
        first = buffered.peek(64)[:64].lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        gold_seen: set[tuple[str, str]] = set()
        if first in (b"{", b"["):

            def add_document(where: str, document: object, batch: EventBatch) -> None:
                _add_api_document(document, where, mapping, batch, gold_seen)

            return stream_json_records(buffered, add_document, chunk_size)

        def add_row(record: tuple[int, dict[str, str]], batch: EventBatch) -> None:
            line, row = record
            _add_row(row, lambda column: f"{column} (line {line})", mapping, batch, gold_seen)

        return stream_batches(iter_table(buffered, delimiter="\t"), add_row, chunk_size)


def _add_row(
    row: dict[str, Any],
    where: FieldNamer,
    mapping: Mapping,
    batch: EventBatch,
    gold_seen: set[tuple[str, str]],
) -> None:
    """One assignment's answer to one task, as a flat row of TSV column names.

    ``where(column)`` names a column for error messages (a line, or a JSON pointer).
    """
    item_column = mapping.item or TASK_ID
    annotator_column = mapping.annotator or WORKER_ID
    item = id_text(cell(row, item_column, where), where(item_column))
    for column, raw in row.items():
        if column.startswith("GOLDEN:"):
            attribute = mapping.attribute_for(column.removeprefix("GOLDEN:"))
            if attribute is None or (item, attribute) in gold_seen:
                continue
            value = to_value(
                raw,
                multilabel=mapping.is_multilabel(attribute),
                separator=mapping.separator,
                where=where(column),
            )
            if value is not None:
                gold_seen.add((item, attribute))
                batch.gold.append(GoldEvent(item, attribute, value))
    status = row.get(STATUS)
    if isinstance(status, str) and status and status.upper() not in COUNTED_STATUSES:
        batch.skip(f"status:{status.upper()}")
        return
    annotator = id_text(cell(row, annotator_column, where), where(annotator_column))
    assignment_id = id_text(cell(row, ASSIGNMENT_ID, where), where(ASSIGNMENT_ID))
    task_id = id_text(cell(row, TASK_ID, where), where(TASK_ID))
    made_at = to_datetime(
        row.get("ASSIGNMENT:submitted") or row.get("ASSIGNMENT:started"),
        where("ASSIGNMENT:submitted"),
    )
    for column, raw in row.items():
        if not column.startswith("OUTPUT:"):
            continue
        name = column.removeprefix("OUTPUT:")
        attribute = mapping.attribute_for(name)
        if attribute is None:
            batch.skip(f"unmapped:{name}")
            continue
        value = to_value(
            raw,
            multilabel=mapping.is_multilabel(attribute),
            separator=mapping.separator,
            where=where(column),
        )
        if value is None:
            batch.skip("empty_answer")
            continue
        label_id = f"toloka:assignment:{assignment_id}:task:{task_id}:{attribute}"
        batch.labels.append(LabelEvent(item, annotator, attribute, value, label_id, made_at))


def _add_api_document(
    document: object,
    where: str,
    mapping: Mapping,
    batch: EventBatch,
    gold_seen: set[tuple[str, str]],
) -> None:
    """An assignment, a list response (``items``) or an array of assignments."""
    if isinstance(document, list):
        for index, assignment in enumerate(document):
            _add_api_document(assignment, pointer(where, index), mapping, batch, gold_seen)
        return
    document = require_dict(document, where)
    if "items" in document:
        items = require_list(document["items"], f"{where}/items")
        for index, assignment in enumerate(items):
            _add_api_document(assignment, pointer(where, "items", index), mapping, batch, gold_seen)
        return
    _add_assignment(document, where, mapping, batch, gold_seen)


def _add_assignment(
    assignment: dict[str, Any],
    where: str,
    mapping: Mapping,
    batch: EventBatch,
    gold_seen: set[tuple[str, str]],
) -> None:
    """Flatten each (task, solution) pair to TSV column names and read it as a row."""
    tasks = require_list(assignment.get("tasks"), f"{where}/tasks")
    solutions = require_list(assignment.get("solutions", []), f"{where}/solutions")
    api_fields = {
        ASSIGNMENT_ID: f"{where}/id",
        WORKER_ID: f"{where}/user_id",
        STATUS: f"{where}/status",
        "ASSIGNMENT:submitted": f"{where}/submitted",
    }
    for index, raw_task in enumerate(tasks):
        task_where = pointer(where, "tasks", index)
        task = require_dict(raw_task, task_where)
        row: dict[str, Any] = {
            ASSIGNMENT_ID: assignment.get("id"),
            TASK_ID: task.get("id"),
            WORKER_ID: assignment.get("user_id"),
            STATUS: assignment.get("status"),
            "ASSIGNMENT:submitted": assignment.get("submitted"),
        }
        fields = {**api_fields, TASK_ID: f"{task_where}/id"}
        inputs = require_dict(task.get("input_values", {}), f"{task_where}/input_values")
        for name, value in inputs.items():
            row[f"INPUT:{name}"] = value
            fields[f"INPUT:{name}"] = pointer(task_where, "input_values", name)
        known = require_list(task.get("known_solutions", []), f"{task_where}/known_solutions")
        if known:
            known_where = pointer(task_where, "known_solutions", 0, "output_values")
            known_values = require_dict(
                require_dict(known[0], known_where).get("output_values"), known_where
            )
            for name, value in known_values.items():
                row[f"GOLDEN:{name}"] = value
                fields[f"GOLDEN:{name}"] = pointer(known_where, name)
        if index < len(solutions):
            output_where = pointer(where, "solutions", index, "output_values")
            solution = require_dict(solutions[index], pointer(where, "solutions", index))
            outputs = require_dict(solution.get("output_values"), output_where)
            for name, value in outputs.items():
                row[f"OUTPUT:{name}"] = value
                fields[f"OUTPUT:{name}"] = pointer(output_where, name)
        _add_row(
            row, lambda column, fields=fields: fields.get(column, column), mapping, batch, gold_seen
        )

"""Generic tables: CSV and JSON Lines, in the service's own shape or crowd-kit's.

A row is read in one of three shapes, chosen by its columns:

- long: ``item, annotator, attribute, value`` (one answer per row);
- single: crowd-kit's ``task, worker, label`` (or ``value``); the attribute is the
  mapping's ``label_attribute`` (default ``label``);
- wide: when the mapping lists ``attributes``, each listed column is an answer
  (e.g. a Figure Eight report: ``{"relations": "relation"}``).

Optional columns: ``id`` (the label's id, kept as is: the same id space as
``POST /labels``; in wide rows suffixed ``:<attribute>``), ``created_at``, and
``gold``, the known answer of the row's (item, attribute), emitted once per import
(wide rows: ``mapping.gold`` maps attribute -> column). A file with no annotator
column is a gold file: every row is a known answer. Without an ``id``, ids are
``generic:<digest of item, annotator, attribute, value, created_at>`` for CSV and
JSON Lines alike, so the same data in either format is one set of labels.

Mapping defaults: ``item`` is ``item`` or ``task``; ``annotator`` is ``annotator``
or ``worker``; ``id`` is ``id``; ``created_at`` is ``created_at``. A multilabel
value is a JSON list, or text joined by ``separator`` (default ``|``).

The webhook body is ``{"labels": [...], "gold": [...]}`` (the shape of the labels
and gold endpoints), a list of rows, or one row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from qc_service.events import EventBatch, GoldEvent, LabelEvent, Value
from qc_service.platforms.base import (
    DEFAULT_CHUNK_SIZE,
    FieldNamer,
    Mapping,
    Payload,
    PayloadError,
    content_digest,
    id_text,
    iter_json_records,
    iter_table,
    load_json,
    pointer,
    require_dict,
    require_list,
    stream_batches,
    to_datetime,
    to_value,
)

ITEM_COLUMNS = ("item", "task")
ANNOTATOR_COLUMNS = ("annotator", "worker")
VALUE_COLUMNS = ("value", "label", "true_label")


class GenericReader:
    """Reads rows of any generic shape; shared by the CSV and JSON Lines adapters.

    One reader per import: it remembers which (item, attribute) already has gold.
    """

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.gold_seen: set[tuple[str, str]] = set()

    def add_row(self, row: dict[str, Any], where: FieldNamer, batch: EventBatch) -> None:
        """A label row; a row without an annotator column is read as gold.

        The column decides, not the cell: an empty annotator cell in a labels file is
        an error, not a known answer.
        """
        annotator_column = self.mapping.annotator or _first_present(row, ANNOTATOR_COLUMNS)
        row = _present(row)
        if annotator_column is None:
            self.add_gold_row(row, where, batch)
            return
        item = self._item(row, where)
        annotator = id_text(_cell(row, annotator_column, where), where(annotator_column))
        id_column = self.mapping.id or "id"
        given_id = id_text(row[id_column], where(id_column)) if id_column in row else None
        created_column = self.mapping.created_at or "created_at"
        made_at = to_datetime(row.get(created_column), where(created_column))
        for attribute, column, gold_column in self._answer_columns(row, where):
            self._add_inline_gold(row, item, attribute, gold_column, where, batch)
            value = self._value(row.get(column), attribute, where(column))
            if value is None:
                batch.skip("empty_answer")
                continue
            if given_id is None:
                label_id = "generic:" + content_digest(item, annotator, attribute, value, made_at)
            elif self.mapping.attributes:
                label_id = f"{given_id}:{attribute}"
            else:
                label_id = given_id
            batch.labels.append(LabelEvent(item, annotator, attribute, value, label_id, made_at))

    def add_gold_row(self, row: dict[str, Any], where: FieldNamer, batch: EventBatch) -> None:
        """A known answer: ``item, attribute?, value`` (or ``label``/``true_label``/``gold``)."""
        row = _present(row)
        item = self._item(row, where)
        if self.mapping.attributes:
            columns = [(attribute, column) for column, attribute in self.mapping.attributes.items()]
        else:
            value_column = _first_present(row, (*VALUE_COLUMNS, "gold")) or "value"
            columns = [(self._attribute(row, where), value_column)]
        for attribute, column in columns:
            value = self._value(row.get(column), attribute, where(column))
            if value is None:
                batch.skip("empty_answer")
                continue
            batch.gold.append(GoldEvent(item, attribute, value))

    def _item(self, row: dict[str, Any], where: FieldNamer) -> str:
        column = self.mapping.item or _first_present(row, ITEM_COLUMNS) or ITEM_COLUMNS[0]
        return id_text(_cell(row, column, where), where(column))

    def _attribute(self, row: dict[str, Any], where: FieldNamer) -> str:
        if "attribute" in row:
            return id_text(row["attribute"], where("attribute"))
        return self.mapping.label_attribute

    def _answer_columns(
        self, row: dict[str, Any], where: FieldNamer
    ) -> list[tuple[str, str, str | None]]:
        """(attribute, column of the answer, column of its known answer) per answer."""
        if self.mapping.attributes:
            return [
                (attribute, column, self.mapping.gold.get(attribute))
                for column, attribute in self.mapping.attributes.items()
            ]
        value_column = _first_present(row, VALUE_COLUMNS) or VALUE_COLUMNS[0]
        _cell(row, value_column, where)
        return [(self._attribute(row, where), value_column, "gold")]

    def _add_inline_gold(
        self,
        row: dict[str, Any],
        item: str,
        attribute: str,
        gold_column: str | None,
        where: FieldNamer,
        batch: EventBatch,
    ) -> None:
        """Gold repeated on label rows (like Toloka's ``GOLDEN:``), emitted once."""
        if gold_column is None or gold_column not in row or (item, attribute) in self.gold_seen:
            return
        value = self._value(row[gold_column], attribute, where(gold_column))
        if value is not None:
            self.gold_seen.add((item, attribute))
            batch.gold.append(GoldEvent(item, attribute, value))

    def _value(self, raw: object, attribute: str, where: str) -> Value | None:
        return to_value(
            raw,
            multilabel=self.mapping.is_multilabel(attribute),
            separator=self.mapping.separator,
            where=where,
        )


def _present(row: dict[str, Any]) -> dict[str, Any]:
    """The row without empty cells: an empty optional column means "not given"."""
    return {key: value for key, value in row.items() if value not in ("", None)}


def _first_present(row: dict[str, Any], columns: tuple[str, ...]) -> str | None:
    return next((column for column in columns if column in row), None)


def _cell(row: dict[str, Any], column: str, where: FieldNamer) -> Any:
    if column not in row:
        raise PayloadError(where(column), "column is missing or empty")
    return row[column]


def _json_namer(base: str) -> FieldNamer:
    return lambda key: pointer(base, key)


def _parse_json_body(body: object, mapping: Mapping) -> EventBatch:
    """Rows from a webhook body: ``{"labels", "gold"}``, a list of rows, or one row."""
    reader = GenericReader(mapping)
    batch = EventBatch()
    if isinstance(body, dict) and ("labels" in body or "gold" in body):
        sections = [
            (f"/{key}", require_list(body.get(key, []), f"/{key}"), key == "gold")
            for key in ("labels", "gold")
        ]
        rows = [
            (pointer(base, i), row, gold)
            for base, section, gold in sections
            for i, row in enumerate(section)
        ]
    elif isinstance(body, list):
        rows = [(pointer("", index), row, False) for index, row in enumerate(body)]
    else:
        rows = [("", body, False)]
    errors: list[PayloadError] = []
    for where, raw_row, is_gold in rows:
        try:
            row = require_dict(raw_row, where)
            if is_gold:
                reader.add_gold_row(row, _json_namer(where), batch)
            else:
                reader.add_row(row, _json_namer(where), batch)
        except PayloadError as error:
            errors.append(error)
    if errors:
        raise PayloadError.combine(errors)
    return batch


class CsvAdapter:
    name = "csv"

    def parse_webhook(self, payload: Payload, mapping: Mapping) -> EventBatch:
        """JSON rows (a CSV body would be posted as a file import instead)."""
        return _parse_json_body(load_json(payload), mapping)

    def parse_export(
        self, stream: IO[bytes], mapping: Mapping, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[EventBatch]:
        reader = GenericReader(mapping)

        def add(record: tuple[int, dict[str, str]], batch: EventBatch) -> None:
            line, row = record
            reader.add_row(row, lambda column: f"{column} (line {line})", batch)

        return stream_batches(iter_table(stream), add, chunk_size)


class JsonlAdapter:
    name = "jsonl"

    def parse_webhook(self, payload: Payload, mapping: Mapping) -> EventBatch:
        return _parse_json_body(load_json(payload), mapping)

    def parse_export(
        self, stream: IO[bytes], mapping: Mapping, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[EventBatch]:
        """One JSON object per line (a JSON array of objects works too)."""
        reader = GenericReader(mapping)

        def add(record: tuple[int, Any], batch: EventBatch) -> None:
            index, row = record
            where = f"/{index}"
            reader.add_row(require_dict(row, where), _json_namer(where), batch)

        return stream_batches(iter_json_records(stream), add, chunk_size)

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
    add_each,
    content_digest,
    id_text,
    iter_table,
    load_json,
    located,
    pointer,
    require_dict,
    require_list,
    stream_batches,
    stream_json_records,
    to_datetime,
    to_value,
)

ITEM_COLUMNS = ("item", "task")
ANNOTATOR_COLUMNS = ("annotator", "worker")
VALUE_COLUMNS = ("value", "label", "true_label")


class GenericReader:
    """Reads rows of any generic shape; shared by the CSV and JSON Lines adapters.

    One reader per import: it remembers which (item, attribute) already has gold.
    What the mapping decides is resolved once, here; per row only the cells are read,
    and an error's location is only spelled out when there is an error.
    """

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.gold_seen: set[tuple[str, str]] = set()
        self._item_columns = (mapping.item,) if mapping.item else ITEM_COLUMNS
        self._id_column = mapping.id or "id"
        self._created_column = mapping.created_at or "created_at"
        #: (attribute, its column, its gold column) of wide rows; empty otherwise.
        self._wide = [
            (attribute, column, mapping.gold.get(attribute))
            for column, attribute in mapping.attributes.items()
        ]

    def add_row(self, row: dict[str, Any], where: FieldNamer, batch: EventBatch) -> None:
        """A label row; a row without an annotator column is read as gold.

        The column decides, not the cell: an empty annotator cell in a labels file is
        an error, not a known answer.
        """
        annotator_column = self.mapping.annotator or _first_column(row, ANNOTATOR_COLUMNS)
        if annotator_column is None:
            self.add_gold_row(row, where, batch)
            return
        item = self._item(row, where)
        annotator = _id_cell(row, annotator_column, where)
        given_id = _given(row, self._id_column)
        if given_id is not None:
            given_id = _id_of(given_id, self._id_column, where)
        made_at = _given(row, self._created_column)
        if made_at is not None:
            made_at = to_datetime(made_at, where(self._created_column))
        for attribute, column, gold_column in self._answer_columns(row, where):
            if gold_column is not None:
                self._add_inline_gold(row, item, attribute, gold_column, where, batch)
            value = self._value(row, column, attribute, where)
            if value is None:
                batch.skip("empty_answer")
                continue
            if given_id is None:
                label_id = "generic:" + content_digest(item, annotator, attribute, value, made_at)
            elif self._wide:
                label_id = f"{given_id}:{attribute}"
            else:
                label_id = given_id
            batch.labels.append(LabelEvent(item, annotator, attribute, value, label_id, made_at))

    def add_gold_row(self, row: dict[str, Any], where: FieldNamer, batch: EventBatch) -> None:
        """A known answer: ``item, attribute?, value`` (or ``label``/``true_label``/``gold``)."""
        item = self._item(row, where)
        if self._wide:
            columns = [(attribute, column) for attribute, column, _ in self._wide]
        else:
            value_column = _first_given(row, (*VALUE_COLUMNS, "gold")) or "value"
            columns = [(self._attribute(row, where), value_column)]
        for attribute, column in columns:
            value = self._value(row, column, attribute, where)
            if value is None:
                batch.skip("empty_answer")
                continue
            batch.gold.append(GoldEvent(item, attribute, value))

    def _item(self, row: dict[str, Any], where: FieldNamer) -> str:
        column = _first_given(row, self._item_columns) or self._item_columns[0]
        return _id_cell(row, column, where)

    def _attribute(self, row: dict[str, Any], where: FieldNamer) -> str:
        attribute = _given(row, "attribute")
        if attribute is None:
            return self.mapping.label_attribute
        return _id_of(attribute, "attribute", where)

    def _answer_columns(
        self, row: dict[str, Any], where: FieldNamer
    ) -> list[tuple[str, str, str | None]]:
        """(attribute, column of the answer, column of its known answer) per answer."""
        if self._wide:
            return self._wide
        value_column = _first_given(row, VALUE_COLUMNS)
        if value_column is None:
            raise PayloadError(where(VALUE_COLUMNS[0]), "column is missing or empty")
        return [(self._attribute(row, where), value_column, "gold")]

    def _add_inline_gold(
        self,
        row: dict[str, Any],
        item: str,
        attribute: str,
        gold_column: str,
        where: FieldNamer,
        batch: EventBatch,
    ) -> None:
        """Gold repeated on label rows (like Toloka's ``GOLDEN:``), emitted once."""
        if _given(row, gold_column) is None or (item, attribute) in self.gold_seen:
            return
        value = self._value(row, gold_column, attribute, where)
        if value is not None:
            self.gold_seen.add((item, attribute))
            batch.gold.append(GoldEvent(item, attribute, value))

    def _value(
        self, row: dict[str, Any], column: str, attribute: str, where: FieldNamer
    ) -> Value | None:
        raw = _given(row, column)
        multilabel = self.mapping.is_multilabel(attribute)
        if isinstance(raw, str) and not multilabel:
            return raw.strip() or None  # what to_value answers, without its checks
        return to_value(
            raw, multilabel=multilabel, separator=self.mapping.separator, where=where(column)
        )


def _given(row: dict[str, Any], column: str) -> Any:
    """A cell's content; ``None`` when the column is missing or the cell empty (an empty
    optional column means "not given")."""
    value = row.get(column)
    return None if value == "" else value


def _first_column(row: dict[str, Any], columns: tuple[str, ...]) -> str | None:
    """The first of ``columns`` the row has, even if its cell is empty."""
    for column in columns:
        if column in row:
            return column
    return None


def _first_given(row: dict[str, Any], columns: tuple[str, ...]) -> str | None:
    """The first of ``columns`` whose cell is not empty."""
    for column in columns:
        if _given(row, column) is not None:
            return column
    return None


def _id_cell(row: dict[str, Any], column: str, where: FieldNamer) -> str:
    """A required id column's text."""
    value = _given(row, column)
    if value is None:
        raise PayloadError(where(column), "column is missing or empty")
    return _id_of(value, column, where)


def _id_of(value: object, column: str, where: FieldNamer) -> str:
    """:func:`id_text` of a cell, its location only spelled out when it is needed."""
    if isinstance(value, str):
        text = value.strip()
        if text:
            return text
    return id_text(value, where(column))  # a number, or what it reports as wrong


def _json_namer(base: str) -> FieldNamer:
    return lambda key: pointer(base, key)


def _parse_json_body(body: object, mapping: Mapping) -> EventBatch:
    """Rows from a webhook body: ``{"labels", "gold"}``, a list of rows, or one row."""
    reader = GenericReader(mapping)
    batch = EventBatch()
    if isinstance(body, dict) and ("labels" in body or "gold" in body):
        rows = [
            (where, (row, key == "gold"))
            for key in ("labels", "gold")
            for where, row in located(require_list(body.get(key, []), f"/{key}"), f"/{key}")
        ]
    else:
        rows = [(where, (row, False)) for where, row in located(body)]

    def add(where: str, entry: tuple[object, bool]) -> None:
        row, is_gold = entry
        add_row = reader.add_gold_row if is_gold else reader.add_row
        add_row(require_dict(row, where), _json_namer(where), batch)

    add_each(rows, add)
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

        def add(where: str, row: object, batch: EventBatch) -> None:
            reader.add_row(require_dict(row, where), _json_namer(where), batch)

        return stream_json_records(stream, add, chunk_size)

"""Amazon Mechanical Turk: the batch results CSV.

Mapping defaults
----------------
- ``item``: ``HITId``; ``Input.image_url`` (any column) keys items by the image.
- ``annotator``: ``WorkerId``.
- ``attributes``: each ``Answer.*`` column, named without ``Answer.`` and without
  the ``.label``/``.labels`` suffix that crowd-html classifiers add
  (``Answer.category.label`` -> ``category``). ``.labels`` answers are tag sets.
- radio buttons and checkboxes (``crowd-radio-button``, ``crowd-checkbox``) give a
  column per option, ``Answer.<question>.<value>``, holding ``true``/``false`` (or
  ``on``); the columns of one question are one answer: the checked value, or for a
  ``multilabel`` attribute every checked value (all boxes ``false``: no tags). The
  question is the text before the first dot, so values may contain dots. A checkbox
  without a ``value`` (``Answer.<question>.on``) is a yes/no answer, ``true`` or
  ``false``. To read such a column as text instead, name it whole in ``attributes``
  (``{"comment.text": "comment"}``).
- gold: none in the format; ``gold`` maps an attribute to a column holding its
  known answer (``{"category": "Input.true_category"}``), emitted once per item.

Rejected assignments are counted as ``status:Rejected``. Ids are
``mturk:assignment:<AssignmentId>:<attribute>``; ``created_at`` is ``SubmitTime``.

The API's shape: a row with an ``Answer`` key (or a CSV with an ``Answer`` column,
as a table of ``ListAssignmentsForHIT`` results saved by a script) holds the
assignment's ``QuestionFormAnswers`` XML instead of ``Answer.*`` columns; it is read
into the columns the results CSV would have (see :mod:`.mturk_answers`), so the
labels and their ids are the same either way.

Webhook: MTurk itself pushes only id-carrying notifications (``{"Events":
[{"EventType": "AssignmentSubmitted", ...}]}``, counted as ``notification:<type>``).
``parse_webhook`` takes results rows as JSON objects (the CSV's column names as
keys; one object or a list), ``ListAssignmentsForHIT``'s response
(``{"Assignments": [...]}``) or ``GetAssignment``'s (``{"Assignment": {...}}``),
e.g. from a Lambda that forwards submitted assignments.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

from qc_service.events import EventBatch, GoldEvent, LabelEvent, Value
from qc_service.platforms.base import (
    DEFAULT_CHUNK_SIZE,
    FieldNamer,
    Mapping,
    Payload,
    PayloadError,
    add_each,
    cell,
    id_text,
    iter_table,
    load_json,
    pointer,
    require_dict,
    require_list,
    stream_batches,
    to_datetime,
    to_value,
)
from qc_service.platforms.mturk_answers import answer_columns
from qc_service.platforms.options import option_state, options_answer

SKIPPED_STATUSES = frozenset({"rejected"})
#: The API's (and API-made tables') column holding the QuestionFormAnswers XML.
ANSWER_XML = "Answer"


class MTurkAdapter:
    name = "mturk"

    def parse_webhook(self, payload: Payload, mapping: Mapping) -> EventBatch:
        body = load_json(payload)
        reader = _RowReader(mapping)
        batch = EventBatch()

        def add(where: str, row: object) -> None:
            reader.add_row(require_dict(row, where), lambda column: pointer(where, column), batch)

        add_each(_webhook_rows(body, batch), add)
        return batch

    def parse_export(
        self, stream: IO[bytes], mapping: Mapping, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[EventBatch]:
        reader = _RowReader(mapping)

        def add_row(record: tuple[int, dict[str, str]], batch: EventBatch) -> None:
            line, row = record
            reader.add_row(row, lambda column: f"{column} (line {line})", batch)

        return stream_batches(iter_table(stream), add_row, chunk_size)


def _webhook_rows(body: Any, batch: EventBatch) -> list[tuple[str, Any]]:
    """``(pointer, row)`` for each assignment a webhook body carries."""
    if isinstance(body, list):
        return [(pointer("", index), row) for index, row in enumerate(body)]
    if isinstance(body, dict):
        if "Assignments" in body:  # ListAssignmentsForHIT's response
            assignments = require_list(body["Assignments"], "/Assignments")
            return [(pointer("/Assignments", index), row) for index, row in enumerate(assignments)]
        if "Assignment" in body:  # GetAssignment's response
            return [("/Assignment", body["Assignment"])]
        if "EventDocId" in body:  # a notification message: ids only
            for event in require_list(body.get("Events"), "/Events"):
                event_type = event.get("EventType") if isinstance(event, dict) else None
                batch.skip(f"notification:{event_type}")
            return []
    return [("", body)]


def answer_field(column: str) -> str:
    """``Answer.category.label`` -> ``category``: the question's name."""
    name = column.removeprefix("Answer.")
    for suffix in (".labels", ".label"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


@dataclass(frozen=True, slots=True)
class Question:
    """One question of a HIT and the ``Answer.*`` columns that hold its answer.

    ``text``: one column holding the answer (``tags`` if it is a tag set);
    ``options``: one true/false column per option, ``choices`` naming each option's
    value (see :mod:`.options`).
    """

    name: str
    kind: Literal["text", "tags", "options"]
    columns: tuple[str, ...]
    choices: tuple[str, ...] = ()


def questions(columns: Iterable[str], mapping: Mapping) -> list[Question]:
    """The questions behind a results table's ``Answer.*`` columns, in column order."""
    found: dict[str, Question] = {}
    options: dict[str, list[tuple[str, str]]] = {}
    for column in columns:
        if not column.startswith("Answer."):
            continue
        field = column.removeprefix("Answer.")
        name, dot, choice = field.partition(".")
        if field in mapping.attributes or not dot or field.endswith((".label", ".labels")):
            kind = "tags" if field.endswith(".labels") else "text"
            found[answer_field(column)] = Question(answer_field(column), kind, (column,))
        else:
            options.setdefault(name, []).append((column, choice))
            found.setdefault(name, Question(name, "options", ()))  # keeps the column order
    for name, columns_and_choices in options.items():
        option_columns, choices = zip(*columns_and_choices, strict=True)
        found[name] = Question(name, "options", option_columns, choices)
    return list(found.values())


class _RowReader:
    """Reads results rows for one payload or file: remembers each header's questions
    and which items already have gold."""

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.gold_seen: set[tuple[str, str]] = set()
        # MTurk drops trailing empty cells, so a file has a few distinct headers.
        self._questions: dict[tuple[str, ...], list[Question]] = {}

    def add_row(self, row: dict[str, Any], where: FieldNamer, batch: EventBatch) -> None:
        mapping = self.mapping
        item_column = mapping.item or "HITId"
        annotator_column = mapping.annotator or "WorkerId"
        item = id_text(cell(row, item_column, where), where(item_column))
        self._add_gold(row, item, where, batch)
        status = row.get("AssignmentStatus")
        if isinstance(status, str) and status.strip().lower() in SKIPPED_STATUSES:
            batch.skip(f"status:{status.strip()}")
            return
        annotator = id_text(cell(row, annotator_column, where), where(annotator_column))
        assignment_id = id_text(cell(row, "AssignmentId", where), where("AssignmentId"))
        made_at = to_datetime(row.get("SubmitTime"), where("SubmitTime"))
        if ANSWER_XML in row:
            columns = answer_columns(row[ANSWER_XML], where(ANSWER_XML), batch)
            if not columns:
                batch.skip("empty_answer")
            row = {**row, **columns}
        header = tuple(row)
        if header not in self._questions:
            self._questions[header] = questions(header, mapping)
        for question in self._questions[header]:
            attribute = mapping.attribute_for(question.name)
            if attribute is None:
                batch.skip(f"unmapped:{question.name}")
                continue
            value = _answer(question, row, attribute, mapping, where)
            if value is None:
                batch.skip("empty_answer")
                continue
            label_id = f"mturk:assignment:{assignment_id}:{attribute}"
            batch.labels.append(LabelEvent(item, annotator, attribute, value, label_id, made_at))

    def _add_gold(
        self, row: dict[str, Any], item: str, where: FieldNamer, batch: EventBatch
    ) -> None:
        for attribute, column in self.mapping.gold.items():
            if (item, attribute) in self.gold_seen:
                continue
            value = to_value(
                cell(row, column, where),
                multilabel=self.mapping.is_multilabel(attribute),
                separator=self.mapping.separator,
                where=where(column),
            )
            if value is not None:
                self.gold_seen.add((item, attribute))
                batch.gold.append(GoldEvent(item, attribute, value))


def _answer(
    question: Question, row: dict[str, Any], attribute: str, mapping: Mapping, where: FieldNamer
) -> Value | None:
    multilabel = mapping.is_multilabel(attribute)
    if question.kind in ("text", "tags"):
        column = question.columns[0]
        return to_value(
            row.get(column),
            multilabel=multilabel or question.kind == "tags",
            separator=mapping.separator,
            where=where(column),
        )
    states = []
    for choice, column in zip(question.choices, question.columns, strict=True):
        try:
            states.append((choice, option_state(row.get(column))))
        except ValueError as error:
            field = column.removeprefix("Answer.")
            raise PayloadError(
                where(column),
                f"{error}; to read the column as text, name it in the mapping's "
                f'attributes: {{"{field}": "<attribute>"}}',
            ) from None
    return options_answer(states, multilabel=multilabel)

"""Label Studio: webhooks and the JSON export.

Mapping defaults
----------------
- ``item``: the task id. Set a dotted path into the task (``data.image``) to key
  items by the image instead; webhooks then need the nested ``task`` object.
- ``annotator``: ``completed_by`` of the annotation (its ``id`` when it is an
  object); ``completed_by.email`` picks the e-mail instead.
- ``attributes``: a result's ``from_name`` (the control tag's name).
- gold: annotations marked ``ground_truth`` become gold, not labels.

Only ``choices`` and ``taxonomy`` results are labels; other result types
(``rectanglelabels``, ``keypointlabels``, ``relation``...) are counted in
``skipped`` as ``unsupported_result:<type>``. A taxonomy answer is the leaf of each
chosen path. Cancelled (skipped) annotations count as ``cancelled``.

Ids and updates
---------------
A label's id is ``labelstudio:annotation:<annotation id>:<version>:<attribute>``,
the version being the annotation's ``updated_at`` (compact UTC); the export of an
unchanged annotation yields the same ids as its webhook, so importing both adds
nothing. ``ANNOTATIONS_DELETED`` yields ``Retraction("labelstudio:annotation:<id>")``,
which retracts every version and attribute of that annotation (ids are matched
exactly or by prefix followed by ``:``).

``ANNOTATION_UPDATED`` replaces the annotator's answer: it yields that same
retraction *and* the labels of the new version (new ids). The service applies a
batch's retractions before its labels and never lets them retract the batch's own
labels, so the new version counts, an answer the update *cleared* stops counting,
and a re-delivered update changes nothing. Legacy exports (``completions`` without
ids) get content-digest ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from qc_service.events import EventBatch, GoldEvent, LabelEvent, Retraction, Value
from qc_service.platforms.base import (
    DEFAULT_CHUNK_SIZE,
    Mapping,
    Payload,
    PayloadError,
    add_each,
    content_digest,
    get_path,
    id_text,
    load_json,
    located,
    pointer,
    require_dict,
    require_list,
    stream_json_records,
    to_datetime,
    to_value,
    version_tag,
)

LABEL_RESULT_TYPES = ("choices", "taxonomy")
ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED")


def annotation_id_prefix(annotation_id: str) -> str:
    """The id every label of one Label Studio annotation starts with."""
    return f"labelstudio:annotation:{annotation_id}"


class LabelStudioAdapter:
    name = "labelstudio"

    def parse_webhook(self, payload: Payload, mapping: Mapping) -> EventBatch:
        """Annotation events; other actions (``TASKS_CREATED``...) count as skipped."""
        body = require_dict(load_json(payload), "")
        action = body.get("action")
        if not isinstance(action, str):
            raise PayloadError("/action", "is required")
        batch = EventBatch()
        if action == "ANNOTATIONS_DELETED":
            annotations = require_list(body.get("annotations"), "/annotations")
            for index, annotation in enumerate(annotations):
                where = pointer("/annotations", index)
                annotation_id = id_text(require_dict(annotation, where).get("id"), f"{where}/id")
                batch.retractions.append(Retraction(annotation_id_prefix(annotation_id)))
            return batch
        if action not in ANNOTATION_ACTIONS:
            batch.skip(f"action:{action}")
            return batch
        tasks = _tasks_by_id(body.get("task"))

        def add(where: str, annotation: object) -> None:
            annotation = require_dict(annotation, where)
            task_ref = annotation.get("task")
            if isinstance(task_ref, dict):
                task = task_ref
                task_id = id_text(task_ref.get("id"), f"{where}/task/id")
            else:
                task_id = id_text(task_ref, f"{where}/task")
                task = tasks.get(task_id)
            if action == "ANNOTATION_UPDATED" and annotation.get("id") is not None:
                annotation_id = id_text(annotation["id"], f"{where}/id")
                batch.retractions.append(Retraction(annotation_id_prefix(annotation_id)))
            _add_annotation(annotation, task_id, task, mapping, where, batch)

        add_each(located(body.get("annotation"), "/annotation"), add)
        return batch

    def parse_export(
        self, stream: IO[bytes], mapping: Mapping, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[EventBatch]:
        """The JSON export (a list of tasks, each with every annotator's annotation).

        The legacy format, with ``completions`` instead of ``annotations`` and
        results nested one list deeper, is read too.
        """

        def add_task(where: str, task: object, batch: EventBatch) -> None:
            task = require_dict(task, where)
            task_id = id_text(task.get("id"), f"{where}/id")
            key = "annotations" if "annotations" in task else "completions"
            for position, annotation in enumerate(
                require_list(task.get(key, []), f"{where}/{key}")
            ):
                annotation_where = pointer(where, key, position)
                annotation = require_dict(annotation, annotation_where)
                _add_annotation(annotation, task_id, task, mapping, annotation_where, batch)

        return stream_json_records(stream, add_task, chunk_size)


def _tasks_by_id(raw: object) -> dict[str, dict[str, Any]]:
    """The nested task object(s) of a webhook (newer Label Studio sends them), by id."""
    candidates = raw if isinstance(raw, list) else [raw]
    return {
        str(task["id"]): task
        for task in candidates
        if isinstance(task, dict) and isinstance(task.get("id"), str | int)
    }


def _add_annotation(
    annotation: dict[str, Any],
    task_id: str,
    task: dict[str, Any] | None,
    mapping: Mapping,
    where: str,
    batch: EventBatch,
) -> None:
    if annotation.get("was_cancelled") is True:
        batch.skip("cancelled")
        return
    is_gold = annotation.get("ground_truth") is True
    item = _item(task_id, task, mapping, where)
    answers = _answers(annotation, mapping, where, batch)
    if not answers:
        return
    if is_gold:
        batch.gold.extend(GoldEvent(item, attribute, value) for attribute, value in answers)
        return
    annotator = _annotator(annotation, mapping, where)
    updated_at = to_datetime(annotation.get("updated_at"), f"{where}/updated_at")
    created_at = to_datetime(annotation.get("created_at"), f"{where}/created_at")
    made_at = updated_at or created_at
    raw_id = annotation.get("id")
    for attribute, value in answers:
        if raw_id is None:
            digest = content_digest(annotator, attribute, value)
            label_id = f"labelstudio:task:{task_id}:{digest}:{attribute}"
        else:
            prefix = annotation_id_prefix(id_text(raw_id, f"{where}/id"))
            label_id = f"{prefix}:{version_tag(made_at)}:{attribute}"
        batch.labels.append(LabelEvent(item, annotator, attribute, value, label_id, made_at))


def _item(task_id: str, task: dict[str, Any] | None, mapping: Mapping, where: str) -> str:
    if mapping.item is None:
        return task_id
    if task is None:
        raise PayloadError(
            f"{where}/task",
            f"the mapping keys items by task field {mapping.item!r}, but the payload carries "
            "only the task id: map the item to the task id or send the task object",
        )
    return id_text(
        get_path(task, mapping.item, "/task"), pointer("/task", *mapping.item.split("."))
    )


def _annotator(annotation: dict[str, Any], mapping: Mapping, where: str) -> str:
    path = mapping.annotator or "completed_by"
    if path == "completed_by" and "completed_by" not in annotation:
        # Legacy completions name their annotator in a one-element list.
        legacy = annotation.get("aggregated_completed_by")
        if isinstance(legacy, list) and len(legacy) == 1:
            return id_text(legacy[0], f"{where}/aggregated_completed_by/0")
    value = get_path(annotation, path, where)
    if isinstance(value, dict):
        return id_text(value.get("id"), pointer(where, *path.split("."), "id"))
    return id_text(value, pointer(where, *path.split(".")))


def _answers(
    annotation: dict[str, Any], mapping: Mapping, where: str, batch: EventBatch
) -> list[tuple[str, Value]]:
    """(attribute, value) per labelling result; other results are counted as skipped."""
    results = require_list(annotation.get("result", []), f"{where}/result")
    flattened: list[tuple[str, object]] = []
    for index, entry in enumerate(results):
        entry_where = pointer(where, "result", index)
        if isinstance(entry, list):  # legacy exports nest results one list deeper
            flattened.extend(
                (pointer(entry_where, inner), nested) for inner, nested in enumerate(entry)
            )
        else:
            flattened.append((entry_where, entry))
    answers: dict[str, Value] = {}
    for result_where, raw_result in flattened:
        result = require_dict(raw_result, result_where)
        kind = result.get("type")
        if kind not in LABEL_RESULT_TYPES:
            batch.skip(f"unsupported_result:{kind}")
            continue
        from_name = result.get("from_name")
        if not isinstance(from_name, str) or not from_name:
            raise PayloadError(f"{result_where}/from_name", "is required")
        attribute = mapping.attribute_for(from_name)
        if attribute is None:
            batch.skip(f"unmapped:{from_name}")
            continue
        if attribute in answers:
            batch.skip("repeated_result")
            continue
        selected = require_list(
            require_dict(result.get("value"), f"{result_where}/value").get(kind),
            f"{result_where}/value/{kind}",
        )
        if kind == "taxonomy":
            selected = [
                _taxonomy_leaf(path, f"{result_where}/value/taxonomy/{position}")
                for position, path in enumerate(selected)
            ]
        value = to_value(
            selected,
            multilabel=mapping.is_multilabel(attribute),
            separator=mapping.separator,
            where=f"{result_where}/value/{kind}",
        )
        if value is None:
            batch.skip("empty_answer")
            continue
        answers[attribute] = value
    return list(answers.items())


def _taxonomy_leaf(path: object, where: str) -> object:
    """A taxonomy choice is its path from the root; the leaf is the value."""
    steps = require_list(path, where)
    if not steps:
        raise PayloadError(where, "empty taxonomy path")
    return steps[-1]

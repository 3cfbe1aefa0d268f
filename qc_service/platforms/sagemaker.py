"""SageMaker Ground Truth: the annotation-consolidation request.

Ground Truth gives a post-annotation (consolidation) Lambda a JSON array with one
entry per data object, each holding every worker's response; ``annotationData.
content`` is a JSON *string*. That array (or JSON Lines of its entries) is what
``parse_webhook`` and ``parse_export`` read. The Lambda's own event only points at
it (``payload.s3Uri``); the service cannot fetch from S3, so that event is
rejected with a :class:`PayloadError` naming ``/payload/s3Uri``: have the Lambda
(or a script) download the object and post its contents.

Mapping defaults
----------------
- ``item``: ``dataObject.s3Uri`` (the image), else ``dataObject.content`` (text
  jobs), else ``datasetObjectId`` (only unique within one labelling job).
- ``annotator``: the response's ``workerId``.
- ``attributes``: the top-level key of the response content. The built-in task
  elements (``crowd-image-classifier``, ``crowd-classifier`` and their
  ``-multi-select`` variants) feed ``label_attribute`` unless mapped explicitly.
  ``{"label": ...}`` answers are single values, ``{"labels": [...]}`` tag sets;
  radio buttons and checkboxes (``{"<value>": true, ...}``) the checked value(s);
  a bare text or number only when its key is named in ``attributes``. Other
  answers (bounding boxes, entities, segmentation) are counted as
  ``unsupported_answer:<key>``. See :func:`crowd_answers`.

Ground Truth has no id per response, so ids are content digests:
``sagemaker:<digest of item, worker, attribute, value, submission time>:<attribute>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from qc_service.events import EventBatch, LabelEvent, Value
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
)
from qc_service.platforms.options import options_answer

BUILT_IN_CLASSIFIERS = frozenset(
    {
        "crowd-image-classifier",
        "crowd-classifier",
        "crowd-image-classifier-multi-select",
        "crowd-classifier-multi-select",
    }
)
DEFAULT_ITEM_FIELDS = ("dataObject.s3Uri", "dataObject.content", "datasetObjectId")


class SageMakerAdapter:
    name = "sagemaker"

    def parse_webhook(self, payload: Payload, mapping: Mapping) -> EventBatch:
        body = load_json(payload)
        if isinstance(body, dict) and "payload" in body:
            raise PayloadError(
                "/payload/s3Uri",
                "Ground Truth passes worker responses by S3 reference, which the service "
                "cannot fetch: download the object and post its contents",
            )
        batch = EventBatch()
        add_each(
            located(body),
            lambda where, data_object: _add_data_object(data_object, where, mapping, batch),
        )
        return batch

    def parse_export(
        self, stream: IO[bytes], mapping: Mapping, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[EventBatch]:
        return stream_json_records(
            stream,
            lambda where, data_object, batch: _add_data_object(data_object, where, mapping, batch),
            chunk_size,
        )


def _add_data_object(data_object: object, where: str, mapping: Mapping, batch: EventBatch) -> None:
    data_object = require_dict(data_object, where)
    item = id_text(_item(data_object, mapping, where), f"{where}/{mapping.item or 'dataObject'}")
    annotations = require_list(data_object.get("annotations"), f"{where}/annotations")
    for index, raw_annotation in enumerate(annotations):
        annotation_where = pointer(where, "annotations", index)
        annotation = require_dict(raw_annotation, annotation_where)
        annotator_path = mapping.annotator or "workerId"
        annotator = id_text(
            get_path(annotation, annotator_path, annotation_where),
            pointer(annotation_where, *annotator_path.split(".")),
        )
        made_at = to_datetime(
            annotation.get("submissionTime"), f"{annotation_where}/submissionTime"
        )
        content_where = f"{annotation_where}/annotationData/content"
        content = _content(annotation, annotation_where)
        for attribute, value in crowd_answers(content, content_where, mapping, batch):
            digest = content_digest(item, annotator, attribute, value, made_at)
            batch.labels.append(
                LabelEvent(
                    item, annotator, attribute, value, f"sagemaker:{digest}:{attribute}", made_at
                )
            )


def crowd_answers(
    content: dict[str, Any], where: str, mapping: Mapping, batch: EventBatch
) -> Iterator[tuple[str, Value]]:
    """``(attribute, value)`` per answer in a worker's crowd-form output.

    Read as answers: ``{"label": ...}`` (one value) and ``{"labels": [...]}`` (a tag
    set) from the classifier elements; ``{"<value>": true, ...}`` from radio buttons
    and checkboxes (see :mod:`.options`); a bare text or number (an ``<input>`` or
    ``<select>``) only when its key is named in ``attributes``, as free text is
    rarely a label. Anything else is counted in ``batch.skipped``.
    """
    for key, answer in content.items():
        attribute = _attribute(key, mapping)
        if attribute is None:
            batch.skip(f"unmapped:{key}")
            continue
        multilabel = mapping.is_multilabel(attribute)
        answer_where = pointer(where, key)
        if isinstance(answer, dict) and {"label", "labels"} & answer.keys():
            value = to_value(
                answer.get("labels", answer.get("label")),
                multilabel=multilabel or "labels" in answer,
                separator=mapping.separator,
                where=answer_where,
            )
        elif (
            isinstance(answer, dict)
            and answer
            and all(isinstance(state, bool) for state in answer.values())
        ):
            value = options_answer(list(answer.items()), multilabel=multilabel)
        elif isinstance(answer, str | int | float) and key in mapping.attributes:
            value = to_value(
                answer, multilabel=multilabel, separator=mapping.separator, where=answer_where
            )
        else:
            batch.skip(f"unsupported_answer:{key}")
            continue
        if value is None:
            batch.skip("empty_answer")
            continue
        yield attribute, value


def _item(data_object: dict[str, Any], mapping: Mapping, where: str) -> Any:
    if mapping.item is not None:
        return get_path(data_object, mapping.item, where)
    for path in DEFAULT_ITEM_FIELDS:
        try:
            return get_path(data_object, path, where)
        except PayloadError:
            continue
    raise PayloadError(f"{where}/dataObject", "needs s3Uri, content or a datasetObjectId")


def _content(annotation: dict[str, Any], where: str) -> dict[str, Any]:
    """A worker's response; Ground Truth sends it JSON-encoded inside a string."""
    data = require_dict(annotation.get("annotationData"), f"{where}/annotationData")
    content = data.get("content")
    content_where = f"{where}/annotationData/content"
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except (json.JSONDecodeError, RecursionError) as error:
            raise PayloadError(content_where, f"not a JSON document: {error}") from None
    return require_dict(content, content_where)


def _attribute(key: str, mapping: Mapping) -> str | None:
    if key in BUILT_IN_CLASSIFIERS and key not in mapping.attributes:
        return mapping.label_attribute
    return mapping.attribute_for(key)

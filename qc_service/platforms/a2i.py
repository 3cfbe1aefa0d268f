"""Amazon Augmented AI (A2I): the output of human loops.

Every completed human loop leaves one JSON document (``output.json`` under the flow
definition's S3 output path) holding each worker's answer::

    {"humanLoopName": "...", "flowDefinitionArn": "...", "inputContent": {...},
     "humanAnswers": [{"workerId": "...", "submissionTime": "...",
                       "answerContent": {"<question>": <answer>, ...}}]}

``parse_export`` reads one such document, a JSON array of them or JSON Lines (one
per line: ``jq -c . */output.json > loops.jsonl``). ``parse_webhook`` reads the same.
A2I itself only announces a finished loop (the EventBridge event ``SageMaker A2I
HumanLoop Status Change``, which points at ``humanLoopOutput.outputS3Uri``): the
service cannot fetch from S3, so that event is refused naming the field; have a
Lambda on the event download the document and post it.

Mapping defaults
----------------
- ``item``: ``humanLoopName``; a dotted path such as ``inputContent.taskObject``
  keys items by what the loop showed.
- ``annotator``: the answer's ``workerId``.
- ``attributes``: the question (top-level key of ``answerContent``); answers are
  read as in Ground Truth's worker responses (see :func:`.sagemaker.crowd_answers`):
  classifier ``label``/``labels``, radio buttons and checkboxes, and free-form
  fields only when named in ``attributes``. AWS's built-in task types (Rekognition,
  Textract) are counted as ``unsupported_answer:<key>``.

Ids are ``a2i:loop:<humanLoopName>:worker:<workerId>:<submission time>:<attribute>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from qc_service.events import EventBatch, LabelEvent
from qc_service.platforms.base import (
    DEFAULT_CHUNK_SIZE,
    Mapping,
    Payload,
    PayloadError,
    add_each,
    get_path,
    id_text,
    load_json,
    located,
    pointer,
    require_dict,
    require_list,
    stream_json_records,
    to_datetime,
    version_tag,
)
from qc_service.platforms.sagemaker import crowd_answers


class A2IAdapter:
    name = "a2i"

    def parse_webhook(self, payload: Payload, mapping: Mapping) -> EventBatch:
        body = load_json(payload)
        if isinstance(body, dict) and isinstance(body.get("detail"), dict):
            raise PayloadError(
                "/detail/humanLoopOutput/outputS3Uri",
                "A2I announces a finished human loop by S3 reference, which the service "
                "cannot fetch: download the output document and post its contents",
            )
        batch = EventBatch()
        add_each(located(body), lambda where, loop: _add_loop(loop, where, mapping, batch))
        return batch

    def parse_export(
        self, stream: IO[bytes], mapping: Mapping, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[EventBatch]:
        return stream_json_records(
            stream, lambda where, loop, batch: _add_loop(loop, where, mapping, batch), chunk_size
        )


def _add_loop(loop: object, where: str, mapping: Mapping, batch: EventBatch) -> None:
    loop = require_dict(loop, where)
    loop_name = id_text(get_path(loop, "humanLoopName", where), f"{where}/humanLoopName")
    item_path = mapping.item or "humanLoopName"
    item = id_text(get_path(loop, item_path, where), pointer(where, *item_path.split(".")))
    answers = require_list(loop.get("humanAnswers"), f"{where}/humanAnswers")
    for index, raw_answer in enumerate(answers):
        answer_where = pointer(where, "humanAnswers", index)
        answer = require_dict(raw_answer, answer_where)
        annotator_path = mapping.annotator or "workerId"
        annotator = id_text(
            get_path(answer, annotator_path, answer_where),
            pointer(answer_where, *annotator_path.split(".")),
        )
        made_at = to_datetime(answer.get("submissionTime"), f"{answer_where}/submissionTime")
        content_where = f"{answer_where}/answerContent"
        content = require_dict(answer.get("answerContent"), content_where)
        prefix = f"a2i:loop:{loop_name}:worker:{annotator}:{version_tag(made_at)}"
        for attribute, value in crowd_answers(content, content_where, mapping, batch):
            batch.labels.append(
                LabelEvent(item, annotator, attribute, value, f"{prefix}:{attribute}", made_at)
            )

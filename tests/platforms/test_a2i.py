import io
import json

import pytest

from qc_service.platforms import Mapping, PayloadError, get_adapter

from .conftest import merged, payload

adapter = get_adapter("a2i")


def loop(name, image, *answers):
    """One human loop's output.json, as A2I writes it for a custom task type."""
    return {
        "flowDefinitionArn": "arn:aws:sagemaker:us-west-2:111122223333:flow-definition/shades",
        "humanLoopName": name,
        "inputContent": {"taskObject": image},
        "humanAnswers": [
            {"answerContent": content, "submissionTime": f"2024-05-0{n + 1}T10:00:00.000Z",
             "workerId": worker,
             "workerMetadata": {"identityData": {"identityProviderType": "Cognito"}}}
            for n, (worker, content) in enumerate(answers)
        ],
    }  # fmt: skip


LOOPS = [
    loop(
        "loop-1",
        "s3://b/1.jpg",
        ("w1", {"shade": {"label": "cream"}, "tags": {"cotton": True, "silk": True},
                "logo": {"on": False}, "notes": "looks cream"}),
        ("w2", {"shade": {"cream": False, "beige": True}, "tags": {"cotton": False,
                "silk": False}, "logo": {"on": True}}),
    ),
    loop("loop-2", "s3://b/2.jpg", ("w1", {"crowd-image-classifier": {"label": "white"}})),
]  # fmt: skip


def test_human_loop_outputs():
    mapping = Mapping(item="inputContent.taskObject", multilabel=frozenset({"tags"}))
    batch = adapter.parse_webhook(LOOPS, mapping)
    answers = [
        (label.item, label.annotator, label.attribute, label.value) for label in batch.labels
    ]
    assert answers == [
        ("s3://b/1.jpg", "w1", "shade", "cream"),
        ("s3://b/1.jpg", "w1", "tags", ["cotton", "silk"]),
        ("s3://b/1.jpg", "w1", "logo", "false"),
        ("s3://b/1.jpg", "w2", "shade", "beige"),
        ("s3://b/1.jpg", "w2", "tags", []),
        ("s3://b/1.jpg", "w2", "logo", "true"),
        ("s3://b/2.jpg", "w1", "label", "white"),
    ]
    # Free text is read only when named in attributes.
    assert batch.skipped == {"unsupported_answer:notes": 1}
    assert batch.labels[0].id == "a2i:loop:loop-1:worker:w1:20240501T100000.000000Z:shade"
    assert batch.labels[0].created_at.isoformat() == "2024-05-01T10:00:00+00:00"
    assert batch.gold == []


def test_items_default_to_the_loop_name_and_json_lines_give_the_same_ids():
    lines = "\n".join(json.dumps(entry) for entry in LOOPS).encode()
    exported = merged(adapter.parse_export(io.BytesIO(lines), Mapping(), chunk_size=2))
    assert {label.item for label in exported.labels} == {"loop-1", "loop-2"}
    assert [label.id for label in exported.labels] == [
        label.id for label in adapter.parse_webhook(LOOPS, Mapping()).labels
    ]


def test_errors_name_the_field():
    with pytest.raises(PayloadError) as caught:
        adapter.parse_webhook([{"humanLoopName": "l", "humanAnswers": [{"answerContent": {}}]},
                               {"humanAnswers": []}], Mapping())  # fmt: skip
    assert [entry["field"] for entry in caught.value.errors] == [
        "/0/humanAnswers/0/workerId",
        "/1/humanLoopName",
    ]


def test_real_custom_task_output():
    body = payload("sagemaker_groundtruth/docs_a2i_output_custom_task_type.json").read_bytes()
    # One answer by worker ef7294f850a3d9d1: a free-text transcription.
    assert adapter.parse_webhook(body, Mapping()).skipped == {"unsupported_answer:transcription": 1}
    batch = adapter.parse_webhook(body, Mapping(attributes={"transcription": "transcript"}))
    assert [
        (label.item, label.annotator, label.attribute, label.value) for label in batch.labels
    ] == [("human-loop-name", "ef7294f850a3d9d1", "transcript", "use lambda to turn your notebook")]
    with payload("sagemaker_groundtruth/docs_a2i_output_custom_task_type.json").open("rb") as file:
        exported = merged(adapter.parse_export(file, Mapping(item="inputContent.audioPath")))
    assert (len(exported.labels), exported.gold) == (0, [])


def test_real_status_change_event_is_refused_naming_the_s3_reference():
    body = payload("sagemaker_groundtruth/docs_a2i_humanloop_status_change_event.json").read_bytes()
    with pytest.raises(PayloadError) as caught:
        adapter.parse_webhook(body, Mapping())
    assert caught.value.errors[0]["field"] == "/detail/humanLoopOutput/outputS3Uri"

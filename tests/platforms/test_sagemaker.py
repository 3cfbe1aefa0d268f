import io
import json

import pytest

from qc_service.platforms import Mapping, PayloadError, get_adapter

from .conftest import merged, payload

adapter = get_adapter("sagemaker")


def data_object(object_id, uri, *responses):
    return {
        "datasetObjectId": object_id,
        "dataObject": {"s3Uri": uri},
        "annotations": [
            {"workerId": worker, "annotationData": {"content": json.dumps(content)}}
            for worker, content in responses
        ],
    }


REQUEST = [
    data_object(
        "0",
        "s3://b/1.jpg",
        ("w1", {"crowd-image-classifier": {"label": "cat"}}),
        ("w2", {"crowd-image-classifier-multi-select": {"labels": ["cat", "dog"]}}),
        ("w3", {"texture": {"label": "smooth"}, "boxes": {"boundingBoxes": []}}),
    )
]


def test_classification_and_multilabel_responses():
    batch = adapter.parse_webhook(REQUEST, Mapping())
    assert [
        (label.item, label.annotator, label.attribute, label.value) for label in batch.labels
    ] == [
        ("s3://b/1.jpg", "w1", "label", "cat"),
        ("s3://b/1.jpg", "w2", "label", ["cat", "dog"]),
        ("s3://b/1.jpg", "w3", "texture", "smooth"),
    ]
    assert batch.skipped == {"unsupported_answer:boxes": 1}
    assert all(label.id.startswith("sagemaker:") for label in batch.labels)


def test_export_as_json_lines_gives_the_same_ids():
    lines = "\n".join(json.dumps(entry) for entry in REQUEST).encode()
    exported = merged(adapter.parse_export(io.BytesIO(lines), Mapping()))
    assert [label.id for label in exported.labels] == [
        label.id for label in adapter.parse_webhook(REQUEST, Mapping()).labels
    ]


def test_content_that_is_not_json_names_the_field():
    broken = [
        {
            "dataObject": {"s3Uri": "u"},
            "annotations": [{"workerId": "w", "annotationData": {"content": "{"}}],
        }
    ]
    with pytest.raises(PayloadError) as caught:
        adapter.parse_webhook(broken, Mapping())
    assert caught.value.errors[0]["field"] == "/0/annotations/0/annotationData/content"


def test_real_consolidation_payload():
    path = payload("sagemaker_groundtruth/recipe_sample_annotation_consolidation_payload.json")
    with path.open("rb") as stream:
        batch = merged(adapter.parse_export(stream, Mapping()))
    # 2 data objects, 1 worker each; content is {"annotatedResult": {"boundingBoxes": ...}}.
    assert batch.labels == [] and batch.skipped == {"unsupported_answer:annotatedResult": 2}


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("docs_post-annotation_payload_NER.json", "crowd-entity-annotation"),
        ("docs_post-annotation_payload_bounding_box.json", "boundingBox"),
        ("docs_post-annotation_payload_semantic_segmentation.json", "crowd-semantic-segmentation"),
    ],
)
def test_real_docs_payloads_are_unsupported_task_types(name, key):
    batch = adapter.parse_webhook(payload(f"sagemaker_groundtruth/{name}").read_bytes(), Mapping())
    # Each holds one data object with one worker response of a non-classification type.
    assert batch.labels == [] and batch.skipped == {f"unsupported_answer:{key}": 1}


@pytest.mark.parametrize(
    "name",
    ["recipe_annotation_consolidation_test_event.json", "docs_post-annotation_lambda_request.json"],
)
def test_real_lambda_request_by_s3_reference_is_rejected_clearly(name):
    with pytest.raises(PayloadError) as caught:
        adapter.parse_webhook(payload(f"sagemaker_groundtruth/{name}").read_bytes(), Mapping())
    assert caught.value.errors[0]["field"] == "/payload/s3Uri"


def test_radio_buttons_checkboxes_and_named_free_form_fields():
    request = [
        data_object(
            "0",
            "s3://b/1.jpg",
            ("w1", {"shade": {"cream": True, "beige": False}, "tags": {"a": True, "b": True},
                    "size": "L", "comment": "nice"}),
            ("w2", {"shade": {"cream": False, "beige": False}, "tags": {"a": False}}),
        )
    ]  # fmt: skip
    mapping = Mapping(
        attributes={"shade": "shade", "tags": "tags", "size": "size"},
        multilabel=frozenset({"tags"}),
    )
    batch = adapter.parse_webhook(request, mapping)
    assert [(label.annotator, label.attribute, label.value) for label in batch.labels] == [
        ("w1", "shade", "cream"),
        ("w1", "tags", ["a", "b"]),
        ("w1", "size", "L"),
        ("w2", "tags", []),
    ]
    assert batch.skipped == {"unmapped:comment": 1, "empty_answer": 1}

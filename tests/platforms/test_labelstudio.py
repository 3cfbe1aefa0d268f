import io
import json

import pytest

from qc_service.events import GoldEvent, Retraction
from qc_service.platforms import Mapping, PayloadError, get_adapter

from .conftest import merged, payload

adapter = get_adapter("labelstudio")


def annotation(annotation_id=1, annotator=7, choice="red", **extra):
    return {
        "id": annotation_id,
        "completed_by": annotator,
        "task": 10,
        "created_at": "2024-05-01T10:00:00Z",
        "updated_at": "2024-05-01T10:00:00Z",
        "was_cancelled": False,
        "ground_truth": False,
        "result": [
            {"from_name": "colour", "to_name": "image", "type": "choices",
             "value": {"choices": [choice]}},
        ],
        **extra,
    }  # fmt: skip


def export(*tasks):
    return io.BytesIO(json.dumps(list(tasks)).encode())


def test_created_webhook_yields_one_label_per_choices_result():
    batch = adapter.parse_webhook(
        {"action": "ANNOTATION_CREATED", "annotation": annotation()}, Mapping()
    )
    [label] = batch.labels
    assert (label.item, label.annotator, label.attribute, label.value) == (
        "10",
        "7",
        "colour",
        "red",
    )
    assert label.id == "labelstudio:annotation:1:20240501T100000.000000Z:colour"


def test_update_retracts_the_annotation_and_carries_its_new_version():
    batch = adapter.parse_webhook(
        {"action": "ANNOTATION_UPDATED", "annotation": annotation(choice="blue")}, Mapping()
    )
    assert batch.retractions == [Retraction("labelstudio:annotation:1")]
    assert [label.value for label in batch.labels] == ["blue"]


def test_update_gets_a_new_id_under_the_same_annotation_prefix():
    created = adapter.parse_webhook(
        {"action": "ANNOTATION_CREATED", "annotation": annotation()}, Mapping()
    ).labels[0]
    updated = adapter.parse_webhook(
        {"action": "ANNOTATION_UPDATED",
         "annotation": annotation(choice="blue", updated_at="2024-05-02T09:00:00Z")},
        Mapping(),
    ).labels[0]  # fmt: skip
    assert updated.id != created.id
    assert updated.created_at > created.created_at
    [retraction] = adapter.parse_webhook(
        {"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 1}]}, Mapping()
    ).retractions
    assert created.id.startswith(retraction.label_id + ":")
    assert updated.id.startswith(retraction.label_id + ":")


def test_webhook_and_export_of_the_same_annotation_share_ids():
    webhook = adapter.parse_webhook(
        json.dumps({"action": "ANNOTATION_CREATED", "annotation": annotation()}).encode(), Mapping()
    )
    exported = merged(
        adapter.parse_export(export({"id": 10, "annotations": [annotation()]}), Mapping())
    )
    assert [label.id for label in webhook.labels] == [label.id for label in exported.labels]


def test_bulk_created_webhook_with_task_list_and_item_by_image():
    body = {
        "action": "ANNOTATIONS_CREATED",
        "annotation": [annotation(1, 7), annotation(2, 8, task=11)],
        "task": [{"id": 10, "data": {"image": "a.jpg"}}, {"id": 11, "data": {"image": "b.jpg"}}],
    }
    batch = adapter.parse_webhook(body, Mapping(item="data.image"))
    assert [(label.item, label.annotator) for label in batch.labels] == [
        ("a.jpg", "7"),
        ("b.jpg", "8"),
    ]


def test_item_by_task_field_without_task_object_names_the_field():
    with pytest.raises(PayloadError) as caught:
        adapter.parse_webhook({"action": "ANNOTATION_CREATED", "annotation": annotation()},
                              Mapping(item="data.image"))  # fmt: skip
    assert caught.value.errors[0]["field"] == "/annotation/task"


def test_export_with_taxonomy_gold_cancelled_and_unsupported_results():
    taxonomy = annotation(2, 8)
    taxonomy["result"] = [
        {"from_name": "shade", "type": "taxonomy",
         "value": {"taxonomy": [["Gray", "Light gray"], ["White", "Off-white"]]}},
        {"from_name": "box", "type": "rectanglelabels", "value": {"rectanglelabels": ["Car"]}},
    ]  # fmt: skip
    gold = annotation(3, 9, choice="green", ground_truth=True)
    cancelled = annotation(4, 5, was_cancelled=True)
    batch = merged(
        adapter.parse_export(
            export({"id": 10, "annotations": [annotation(), taxonomy, gold, cancelled]}),
            Mapping(multilabel=frozenset({"shade"})),
        )
    )
    assert [(label.attribute, label.value) for label in batch.labels] == [
        ("colour", "red"),
        ("shade", ["Light gray", "Off-white"]),
    ]
    assert batch.gold == [GoldEvent("10", "colour", "green")]
    assert batch.skipped == {"unsupported_result:rectanglelabels": 1, "cancelled": 1}


def test_attribute_mapping_renames_and_filters_from_names():
    batch = adapter.parse_webhook(
        {"action": "ANNOTATION_CREATED", "annotation": annotation()},
        Mapping(attributes={"colour": "colour_shade"}),
    )
    assert batch.labels[0].attribute == "colour_shade"
    batch = adapter.parse_webhook(
        {"action": "ANNOTATION_CREATED", "annotation": annotation()},
        Mapping(attributes={"texture": "texture"}),
    )
    assert batch.labels == [] and batch.skipped == {"unmapped:colour": 1}


def test_annotator_may_be_an_object_and_mapped_to_email():
    ann = annotation(completed_by={"id": 7, "email": "a@example.org"})
    body = {"action": "ANNOTATION_CREATED", "annotation": ann}
    assert adapter.parse_webhook(body, Mapping()).labels[0].annotator == "7"
    mapping = Mapping(annotator="completed_by.email")
    assert adapter.parse_webhook(body, mapping).labels[0].annotator == "a@example.org"


def test_malformed_annotations_are_reported_together():
    body = {"action": "ANNOTATIONS_CREATED", "annotation": [annotation(completed_by=None), "x"]}
    with pytest.raises(PayloadError) as caught:
        adapter.parse_webhook(body, Mapping())
    assert [error["field"] for error in caught.value.errors] == [
        "/annotation/0/completed_by",
        "/annotation/1",
    ]


# Real payloads. Counts were derived by reading each JSON file with the json module:
# every annotation's results counted by "type".


def test_real_created_webhook_has_only_an_unsupported_labels_result():
    batch = adapter.parse_webhook(
        payload("labelstudio/webhook_ANNOTATION_CREATED.json").read_bytes(), Mapping()
    )
    # One annotation with one NER "labels" result.
    assert (batch.labels, batch.gold, batch.skipped) == ([], [], {"unsupported_result:labels": 1})


def test_real_updated_bbox_webhook_is_skipped():
    path = payload("labelstudio/webhook_ANNOTATION_UPDATED_image_bbox.json")
    batch = adapter.parse_webhook(path.read_bytes(), Mapping())
    # Two rectanglelabels results in annotation 16; the update still withdraws it.
    assert (batch.labels, batch.skipped) == ([], {"unsupported_result:rectanglelabels": 2})
    assert batch.retractions == [Retraction("labelstudio:annotation:16")]


def test_real_deleted_webhook_retracts_annotation_17():
    path = payload("labelstudio/webhook_ANNOTATIONS_DELETED.json")
    batch = adapter.parse_webhook(path.read_bytes(), Mapping())
    assert batch.retractions == [Retraction("labelstudio:annotation:17")]


def test_real_tasks_created_webhook_is_not_an_annotation_event():
    batch = adapter.parse_webhook(
        payload("labelstudio/webhook_TASKS_CREATED.json").read_bytes(), Mapping()
    )
    assert batch.skipped == {"action:TASKS_CREATED": 1} and not batch.labels


def test_real_export_5_images_3_annotators_bbox():
    with payload("labelstudio/export_json_5images_3annotators_bbox.json").open("rb") as stream:
        batch = merged(adapter.parse_export(stream, Mapping()))
    # 5 tasks x 3 annotations; results per task 19+18+15+18+21 = 91, all rectanglelabels.
    assert (len(batch.labels), len(batch.gold)) == (0, 0)
    assert batch.skipped == {"unsupported_result:rectanglelabels": 91}


def test_real_export_ground_truth_flag_bbox():
    with payload("labelstudio/export_json_image_bbox_ground_truth_flag.json").open("rb") as stream:
        batch = merged(adapter.parse_export(stream, Mapping()))
    # 2 tasks, each one ground_truth annotation with one rectanglelabels result.
    assert (len(batch.labels), len(batch.gold)) == (0, 0)
    assert batch.skipped == {"unsupported_result:rectanglelabels": 2}


def test_real_export_keypoints():
    with payload("labelstudio/export_json_keypoints_bbox_single_annotator.json").open(
        "rb"
    ) as stream:
        batch = merged(adapter.parse_export(stream, Mapping()))
    # 1 task, 1 annotation: 3 keypointlabels, 1 rectanglelabels, 5 relation.
    assert batch.labels == []
    assert batch.skipped == {
        "unsupported_result:keypointlabels": 3,
        "unsupported_result:rectanglelabels": 1,
        "unsupported_result:relation": 5,
    }


def test_real_legacy_completions_export():
    with payload("labelstudio/export_json_legacy_completions_format.json").open("rb") as stream:
        batch = merged(adapter.parse_export(stream, Mapping()))
    # Task 6057960 has 3 completions by aggregated_completed_by [103], sentiment choices
    # Neutral / Evil / Evil+Neutral; task 6057964 has none.
    assert [(label.item, label.annotator, label.value) for label in batch.labels] == [
        ("6057960", "103", "Neutral"),
        ("6057960", "103", "Evil"),
        ("6057960", "103", ["Evil", "Neutral"]),
    ]
    assert len({label.id for label in batch.labels}) == 3
    assert (batch.gold, batch.skipped) == ([], {})

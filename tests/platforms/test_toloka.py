import io
import json

import pytest
import yaml

from qc_service.events import GoldEvent
from qc_service.platforms import Mapping, PayloadError, get_adapter, parse_notifications

from .conftest import merged, payload

adapter = get_adapter("toloka")

TSV = (
    "INPUT:image\tOUTPUT:colour\tGOLDEN:colour\tASSIGNMENT:task_id\tASSIGNMENT:assignment_id\t"
    "ASSIGNMENT:worker_id\tASSIGNMENT:status\tASSIGNMENT:started\n"
    '"a.jpg"\tred\tred\tt1\tas1\tw1\tAPPROVED\t2024-02-04T19:13:23.631\n'
    '"a.jpg"\tblue\tred\tt1\tas2\tw2\tSUBMITTED\t2024-02-04T19:14:00.000\n'
    '"b\nmulti-line.jpg"\tgreen\t\tt2\tas2\tw2\tREJECTED\t2024-02-04T19:14:00.000\n'
    '"b\nmulti-line.jpg"\t\t\tt2\tas3\tw3\tEXPIRED\t\n'
)


def test_tsv_counts_accepted_and_submitted_and_gold_once():
    batch = merged(adapter.parse_export(io.BytesIO(TSV.encode()), Mapping()))
    assert [(label.item, label.annotator, label.value) for label in batch.labels] == [
        ("t1", "w1", "red"),
        ("t1", "w2", "blue"),
    ]
    assert batch.labels[0].id == "toloka:assignment:as1:task:t1:colour"
    assert batch.gold == [GoldEvent("t1", "colour", "red")]
    assert batch.skipped == {"status:REJECTED": 1, "status:EXPIRED": 1}


def test_tsv_item_by_input_column_keeps_multi_line_cells():
    batch = merged(
        adapter.parse_export(io.BytesIO(TSV.encode()), Mapping(item="INPUT:image"), chunk_size=1)
    )
    assert batch.gold[0].item == "a.jpg"


def test_tsv_missing_worker_column_names_it():
    broken = TSV.replace("ASSIGNMENT:worker_id", "ASSIGNMENT:worker")
    with pytest.raises(PayloadError) as caught:
        list(adapter.parse_export(io.BytesIO(broken.encode()), Mapping()))
    assert caught.value.errors[0]["field"] == "ASSIGNMENT:worker_id (line 2)"


ASSIGNMENT = {
    "id": "as1",
    "user_id": "w1",
    "status": "ACCEPTED",
    "submitted": "2022-11-22T16:09:08.603",
    "tasks": [
        {"id": "t1", "input_values": {"image": "a.jpg"},
         "known_solutions": [{"output_values": {"tags": ["x", "y"]}}]},
        {"id": "t2", "input_values": {"image": "b.jpg"}},
    ],
    "solutions": [{"output_values": {"tags": ["y"], "ok": True}}, {"output_values": {"tags": []}}],
}  # fmt: skip


def test_assignment_json_pairs_tasks_with_solutions():
    batch = adapter.parse_webhook(ASSIGNMENT, Mapping(multilabel=frozenset({"tags"})))
    assert [(label.item, label.attribute, label.value) for label in batch.labels] == [
        ("t1", "tags", ["y"]),
        ("t1", "ok", "true"),
    ]
    assert batch.gold == [GoldEvent("t1", "tags", ["x", "y"])]
    assert batch.skipped == {"empty_answer": 1}
    by_image = adapter.parse_webhook(ASSIGNMENT, Mapping(item="INPUT:image"))
    assert by_image.labels[0].item == "a.jpg"


def test_assignment_list_in_export_is_streamed():
    body = json.dumps({"items": [ASSIGNMENT], "has_more": False}).encode()
    assert len(merged(adapter.parse_export(io.BytesIO(body), Mapping())).labels) == 2


def test_notifications_are_typed_and_carry_no_labels():
    envelope = {
        "events": [
            {"uuid": "u", "type": "ASSIGNMENT_APPROVED", "pool_id": "p1", "assignment_id": "as1"}
        ]
    }
    [notification] = parse_notifications(envelope)
    assert (notification.type, notification.assignment_ids) == ("ASSIGNMENT_APPROVED", ["as1"])
    batch = adapter.parse_webhook(envelope, Mapping())
    assert batch.labels == [] and batch.skipped == {"notification:ASSIGNMENT_APPROVED": 1}


def test_real_results_tsv():
    with payload("toloka/results_tsv_pool_42774131_first2000records.tsv").open("rb") as stream:
        batches = list(adapter.parse_export(stream, Mapping(), chunk_size=500))
    batch = merged(batches)
    # Derived with csv.DictReader(delimiter="\t"): 2000 records, all APPROVED, all with
    # OUTPUT:R-4; 562 distinct ASSIGNMENT:task_id, 89 ASSIGNMENT:worker_id; GOLDEN:R-4
    # filled on 400 rows of 20 distinct tasks.
    assert len(batch.labels) == 2000
    assert len({label.item for label in batch.labels}) == 562
    assert len({label.annotator for label in batch.labels}) == 89
    assert len({label.id for label in batch.labels}) == 2000
    assert len(batch.gold) == 20 and len({gold.item for gold in batch.gold}) == 20
    assert batch.skipped == {}
    assert len(batches) == 5  # 2020 events in chunks of 500


def test_real_api_assignment_examples():
    for name in ("api_example_assignment-id.yaml", "api_example_assignment-list.yaml"):
        document = yaml.safe_load(payload(f"toloka/{name}").read_text())["success"]["value"]
        batch = adapter.parse_webhook(document, Mapping())
        # One ACCEPTED assignment: task 00022cfa46--637cf3fb6e13181a0164e7e6, result "cat".
        [label] = batch.labels
        assert (label.item, label.annotator, label.attribute, label.value) == (
            "00022cfa46--637cf3fb6e13181a0164e7e6",
            "d26d7d094e0dbb67ec46a269dc5dd15c",
            "result",
            "cat",
        )


@pytest.mark.parametrize(
    ("name", "kind", "assignments"),
    [
        ("webhook_ASSIGNMENT_CREATED.json", "ASSIGNMENT_CREATED", ["assignment-1"]),
        ("webhook_POOL_CLOSED.json", "POOL_CLOSED", []),
        ("webhook_DYNAMIC_OVERLAP_COMPLETED.json", "DYNAMIC_OVERLAP_COMPLETED",
         ["assignment-1", "assignment-2"]),
    ],
)  # fmt: skip
def test_real_notifications(name, kind, assignments):
    body = payload(f"toloka/{name}").read_bytes()
    [notification] = parse_notifications(body)
    assert (notification.type, notification.assignment_ids) == (kind, assignments)
    assert adapter.parse_webhook(body, Mapping()).skipped == {f"notification:{kind}": 1}

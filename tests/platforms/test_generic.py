import io
import json

import pytest

from qc_service.events import GoldEvent
from qc_service.platforms import Mapping, PayloadError, get_adapter

from .conftest import merged, payload

csv_adapter = get_adapter("csv")
jsonl_adapter = get_adapter("jsonl")

LONG = (
    "item,annotator,attribute,value,gold,created_at\n"
    "i1,w1,colour,light gray,off-white,2024-01-01T00:00:00Z\n"
    "i1,w2,colour,off-white,off-white,\n"
    "i1,w2,pattern,stripes|dots,,\n"
)


def test_long_csv_with_inline_gold_and_multilabel():
    mapping = Mapping(multilabel=frozenset({"pattern"}))
    batch = merged(csv_adapter.parse_export(io.BytesIO(LONG.encode()), mapping))
    assert [(label.annotator, label.attribute, label.value) for label in batch.labels] == [
        ("w1", "colour", "light gray"),
        ("w2", "colour", "off-white"),
        ("w2", "pattern", ["dots", "stripes"]),
    ]
    assert batch.labels[0].created_at.year == 2024 and batch.labels[1].created_at is None
    assert batch.gold == [GoldEvent("i1", "colour", "off-white")]


def test_crowd_kit_shape_and_same_ids_in_csv_and_jsonl():
    rows = [
        {"task": "t1", "worker": "w1", "label": "a"},
        {"task": "t1", "worker": "w2", "label": "b"},
    ]
    table = "task,worker,label\n" + "".join(
        f"{r['task']},{r['worker']},{r['label']}\n" for r in rows
    )
    from_csv = merged(csv_adapter.parse_export(io.BytesIO(table.encode()), Mapping()))
    lines = "\n".join(json.dumps(row) for row in rows).encode()
    from_jsonl = merged(jsonl_adapter.parse_export(io.BytesIO(lines), Mapping()))
    assert [label.attribute for label in from_csv.labels] == ["label", "label"]
    assert [label.id for label in from_csv.labels] == [label.id for label in from_jsonl.labels]
    assert from_csv.labels[0].id.startswith("generic:")


def test_reimporting_gives_identical_ids_and_a_changed_answer_a_new_one():
    first = merged(csv_adapter.parse_export(io.BytesIO(LONG.encode()), Mapping()))
    again = merged(csv_adapter.parse_export(io.BytesIO(LONG.encode()), Mapping()))
    changed = merged(
        csv_adapter.parse_export(
            io.BytesIO(LONG.replace("light gray", "white").encode()), Mapping()
        )
    )
    assert [label.id for label in first.labels] == [label.id for label in again.labels]
    assert first.labels[0].id != changed.labels[0].id


def test_given_ids_are_kept():
    table = "id,item,annotator,value\nL1,i1,w1,a\n"
    [label] = merged(csv_adapter.parse_export(io.BytesIO(table.encode()), Mapping())).labels
    assert label.id == "L1"


def test_gold_file_has_no_annotator_column():
    table = "item,attribute,value\ni1,colour,red\ni2,colour,blue\n"
    batch = merged(csv_adapter.parse_export(io.BytesIO(table.encode()), Mapping()))
    assert batch.labels == []
    assert batch.gold == [GoldEvent("i1", "colour", "red"), GoldEvent("i2", "colour", "blue")]


def test_webhook_body_with_labels_and_gold():
    body = {
        "labels": [
            {"item": "i1", "annotator": "w1", "attribute": "colour", "value": "red", "id": "x"}
        ],
        "gold": [{"item": "i1", "attribute": "colour", "value": "red"}],
    }
    batch = jsonl_adapter.parse_webhook(json.dumps(body).encode(), Mapping())
    assert [label.id for label in batch.labels] == ["x"]
    assert batch.gold == [GoldEvent("i1", "colour", "red")]


def test_chunks_stay_within_the_chunk_size():
    table = "task,worker,label\n" + "".join(f"t{i},w{i % 7},v{i % 3}\n" for i in range(12_000))
    sizes = [
        len(batch.labels)
        for batch in csv_adapter.parse_export(io.BytesIO(table.encode()), Mapping())
    ]
    assert sizes == [5000, 5000, 2000]


def test_real_figure_eight_report_through_a_wide_mapping():
    mapping = Mapping(
        item="_unit_id",
        annotator="_worker_id",
        id="_id",
        created_at="_created_at",
        attributes={"relations": "relation"},
        multilabel=frozenset({"relation"}),
        separator="\n",
    )
    path = payload("figure_eight_crowdflower/full_report_relex-multiple-choice.csv")
    with path.open("rb") as stream:
        batch = merged(csv_adapter.parse_export(stream, mapping))
    # csv.DictReader: 150 judgments, 10 _unit_id, 67 _worker_id; relations (one tag per
    # line within the cell) split on newlines give 203 distinct tags per judgment in total.
    assert len(batch.labels) == 150
    assert len({label.item for label in batch.labels}) == 10
    assert len({label.annotator for label in batch.labels}) == 67
    assert sum(len(label.value) for label in batch.labels) == 203


def test_empty_annotator_cell_is_an_error_not_gold():
    stream = io.BytesIO(b"item,annotator,attribute,value\nimg-1,,shade,cream\n")
    with pytest.raises(PayloadError) as caught:
        merged(csv_adapter.parse_export(stream, Mapping()))
    assert caught.value.errors[0]["field"] == "annotator (line 2)"


def test_content_ids_are_the_ones_earlier_versions_stored():
    """Ids pinned as computed when they were introduced: a re-import of a file that an
    earlier version imported must find every label already there."""
    table = (
        "item,annotator,attribute,value,created_at\n"
        "img-1,w1,shade,cream,\n"
        "img-1,w2,shade,off-white,2024-01-01T12:30:00+02:00\n"
        '"café ""☕""","w\\3",pattern,"line\nbreak",\n'
        "img-2,w1,tags,b|a|b,Mon Mar 01 20:50:54 PST 2021\n"
    )
    mapping = Mapping(multilabel=frozenset({"tags"}))
    batch = merged(csv_adapter.parse_export(io.BytesIO(table.encode()), mapping))
    assert [label.id for label in batch.labels] == [
        "generic:3ac1f741fa58b75270350dfd",
        "generic:7bc0d797f22e9f1029540e1b",
        "generic:735fc84710d6e03ef144ac16",
        "generic:2fd3cb42bcc3474e2b3ed62e",
    ]

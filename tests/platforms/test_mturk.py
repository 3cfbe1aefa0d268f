import io

import pytest

from qc_service.events import GoldEvent
from qc_service.platforms import Mapping, PayloadError, get_adapter

from .conftest import merged, payload

adapter = get_adapter("mturk")

CSV = (
    '"HITId","AssignmentId","WorkerId","AssignmentStatus","SubmitTime","Input.image_url",'
    '"Input.truth","Answer.category.label","Answer.tags.labels","Approve","Reject"\r\n'
    '"h1","a1","W1","Submitted","Mon Mar 01 20:50:54 PST 2021","x.jpg","cat","cat",'
    '"[""a"",""b""]"\r\n'
    '"h1","a2","W2","Approved","Mon Mar 01 20:51:54 PST 2021","x.jpg","cat","dog",""\r\n'
    '"h1","a3","W3","Rejected","Mon Mar 01 20:52:54 PST 2021","x.jpg","cat","dog","a"\r\n'
)


def test_batch_results_with_short_rows_crlf_and_rejections():
    batch = merged(adapter.parse_export(io.BytesIO(CSV.encode()), Mapping()))
    assert [(label.annotator, label.attribute, label.value) for label in batch.labels] == [
        ("W1", "category", "cat"),
        ("W1", "tags", ["a", "b"]),
        ("W2", "category", "dog"),
    ]
    assert batch.labels[0].id == "mturk:assignment:a1:category"
    assert batch.labels[0].created_at.utcoffset().total_seconds() == -8 * 3600
    assert batch.skipped == {"empty_answer": 1, "status:Rejected": 1}


def test_gold_from_an_input_column_and_item_by_image():
    mapping = Mapping(item="Input.image_url", gold={"category": "Input.truth"})
    batch = merged(adapter.parse_export(io.BytesIO(CSV.encode()), mapping))
    assert batch.gold == [GoldEvent("x.jpg", "category", "cat")]
    assert {label.item for label in batch.labels} == {"x.jpg"}


def test_webhook_rows_report_missing_columns():
    with pytest.raises(PayloadError) as caught:
        adapter.parse_webhook([{"HITId": "h", "AssignmentId": "a"}], Mapping())
    assert caught.value.errors == [{"field": "/0/WorkerId", "message": "column is missing"}]


def test_real_batch_results():
    with payload("mturk/Batch_4350992_batch_results_first1200rows.csv").open("rb") as stream:
        batch = merged(adapter.parse_export(stream, Mapping()))
    # Derived with csv.reader: 1200 rows (29 of the 31 header columns each), all
    # "Submitted", 400 distinct HITId and Input.image_url, 68 distinct WorkerId.
    assert len(batch.labels) == 1200
    assert len({label.item for label in batch.labels}) == 400
    assert len({label.annotator for label in batch.labels}) == 68
    assert {label.attribute for label in batch.labels} == {"category"}
    assert len({label.id for label in batch.labels}) == 1200
    assert (batch.gold, batch.skipped) == ([], {})


def test_real_crowdtruth_amt_fixture():
    with payload("mturk/crowdtruth_test_platform_amt2.csv").open("rb") as stream:
        batch = merged(adapter.parse_export(stream, Mapping()))
    # csv.DictReader: 63 rows, 7 HITId, 17 WorkerId, Answer.output always filled.
    assert len(batch.labels) == 63
    assert len({label.item for label in batch.labels}) == 7
    assert len({label.annotator for label in batch.labels}) == 17

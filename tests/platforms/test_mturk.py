import io

import pytest

from qc_service.events import GoldEvent
from qc_service.platforms import Mapping, PayloadError, get_adapter
from qc_service.platforms.mturk import questions

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


# crowd-radio-button / crowd-checkbox results: a column per option, true/false cells.
OPTIONS_CSV = (
    "HITId,AssignmentId,WorkerId,AssignmentStatus,Input.text,"
    "Answer.sentiment.negative,Answer.sentiment.neutral,Answer.sentiment.positive,"
    "Answer.topics.food,Answer.topics.price,Answer.topics.service,Answer.offensive.on,"
    "Answer.comment.text\r\n"
    "h1,a1,W1,Submitted,t,false,false,true,true,false,true,false,fine\r\n"
    "h1,a2,W2,Approved,t,false,true,false,false,false,false,true,\r\n"
    "h1,a3,W3,Rejected,t,true,false,false,true,false,false,false,\r\n"
    "h2,a4,W1,Submitted,u,,,,,,,,\r\n"
    "h2,a5,W2,Submitted,u,on,,,,on,,on,\r\n"
)
OPTIONS_MAPPING = Mapping(
    attributes={"sentiment": "sentiment", "topics": "topics", "offensive": "offensive",
                "comment.text": "comment"},
    multilabel=frozenset({"topics"}),
)  # fmt: skip


def test_radio_buttons_and_checkboxes_become_one_answer_per_question():
    batch = merged(adapter.parse_export(io.BytesIO(OPTIONS_CSV.encode()), OPTIONS_MAPPING))
    answers = [
        (label.item, label.annotator, label.attribute, label.value) for label in batch.labels
    ]
    assert answers == [
        ("h1", "W1", "sentiment", "positive"),
        ("h1", "W1", "topics", ["food", "service"]),
        ("h1", "W1", "offensive", "false"),
        ("h1", "W1", "comment", "fine"),
        ("h1", "W2", "sentiment", "neutral"),
        ("h1", "W2", "topics", []),  # every box left unchecked: no tags apply
        ("h1", "W2", "offensive", "true"),
        ("h2", "W2", "sentiment", "negative"),  # HTML checkboxes send "on"
        ("h2", "W2", "topics", ["price"]),
        ("h2", "W2", "offensive", "true"),
    ]
    assert batch.labels[1].id == "mturk:assignment:a1:topics"
    # W2 on h1 left the comment empty; W1 on h2 answered nothing; W2 on h2, no comment.
    assert batch.skipped == {"status:Rejected": 1, "empty_answer": 6}
    assert len({label.annotator for label in batch.labels}) == 2
    assert len({label.item for label in batch.labels}) == 2


def test_questions_of_a_results_header():
    header = OPTIONS_CSV.split("\r\n")[0].split(",")
    found = {q.name: (q.kind, q.choices) for q in questions(header, Mapping())}
    assert found == {
        "sentiment": ("options", ("negative", "neutral", "positive")),
        "topics": ("options", ("food", "price", "service")),
        "offensive": ("options", ("on",)),
        "comment": ("options", ("text",)),  # unless named whole in attributes
    }


def test_a_single_choice_question_with_two_boxes_checked_is_left_to_the_taxonomy():
    rows = [{"HITId": "h", "AssignmentId": "a", "WorkerId": "w",
             "Answer.sentiment.negative": True, "Answer.sentiment.positive": True}]  # fmt: skip
    batch = adapter.parse_webhook(rows, Mapping())
    assert [label.value for label in batch.labels] == [["negative", "positive"]]


def test_a_checkbox_column_holding_text_names_the_column_and_how_to_map_it():
    with pytest.raises(PayloadError) as caught:
        merged(adapter.parse_export(io.BytesIO(OPTIONS_CSV.encode()), Mapping()))
    assert caught.value.errors[0]["field"] == "Answer.comment.text (line 2)"
    assert '{"comment.text": "<attribute>"}' in caught.value.errors[0]["message"]


def test_webhook_rows_with_json_booleans():
    row = {"HITId": "h", "AssignmentId": "a", "WorkerId": "w", "AssignmentStatus": "Submitted",
           "Answer.topics.food": True, "Answer.topics.price": False,
           "Answer.topics.service": True}  # fmt: skip
    batch = adapter.parse_webhook(row, Mapping(multilabel=frozenset({"topics"})))
    assert [(label.attribute, label.value) for label in batch.labels] == [
        ("topics", ["food", "service"])
    ]

"""MTurk assignments as the API returns them: QuestionFormAnswers XML in ``Answer``."""

import csv
import io
import json

import pytest

from qc_service.platforms import Mapping, PayloadError, get_adapter

from .conftest import merged

adapter = get_adapter("mturk")

NS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd"


def answers_xml(*answers: str, declaration: str = '<?xml version="1.0" encoding="ASCII"?>') -> str:
    """A QuestionFormAnswers document as MTurk writes it (the doc examples' layout)."""
    body = "".join(f"\n  <Answer>{answer}</Answer>" for answer in answers)
    return f'{declaration}\n<QuestionFormAnswers xmlns="{NS}">{body}\n</QuestionFormAnswers>'


def free_text(question: str, text: str) -> str:
    return f"<QuestionIdentifier>{question}</QuestionIdentifier><FreeText>{text}</FreeText>"


def selection(question: str, *selected: str) -> str:
    ids = "".join(f"<SelectionIdentifier>{s}</SelectionIdentifier>" for s in selected)
    return f"<QuestionIdentifier>{question}</QuestionIdentifier>{ids}"


def crowd_form(fields: dict) -> str:
    # crowd-form reports every field under taskAnswers: a JSON list with one object.
    return free_text("taskAnswers", json.dumps([fields]).replace("&", "&amp;").replace("<", "&lt;"))


def assignment(assignment_id: str, worker: str, answer: str, status="Submitted", hit="h1") -> dict:
    """One entry of ``ListAssignmentsForHIT``'s ``Assignments``, as a Lambda forwards it
    (boto3's datetimes written with ``json.dumps(..., default=str)``)."""
    return {
        "AssignmentId": assignment_id,
        "WorkerId": worker,
        "HITId": hit,
        "AssignmentStatus": status,
        "AutoApprovalTime": "2024-05-04 13:04:59+00:00",
        "AcceptTime": "2024-05-01 12:00:00+00:00",
        "SubmitTime": "2024-05-01 13:04:59+00:00",
        "Answer": answer,
    }


def parse(body) -> object:
    return adapter.parse_webhook(json.dumps(body).encode(), Mapping(multilabel=["topics"]))


def triples(batch):
    return [(label.annotator, label.attribute, label.value) for label in batch.labels]


def test_free_text_selections_and_crowd_form_answers():
    body = {
        "NextToken": "t",
        "NumResults": 3,
        "Assignments": [
            assignment("a1", "W1", answers_xml(free_text("shade", "beige"),
                                               selection("pattern", "solid"))),
            assignment("a2", "W2", answers_xml(crowd_form({
                "category": {"label": "cat"},
                "sentiment": {"negative": False, "positive": True},
                "topics": {"food": True, "price": False, "service": True},
            }))),
            assignment("a3", "W3", answers_xml(free_text("shade", "cream")), status="Rejected"),
        ],
    }  # fmt: skip
    batch = parse(body)
    assert triples(batch) == [
        ("W1", "shade", "beige"),
        ("W1", "pattern", "solid"),
        ("W2", "category", "cat"),
        ("W2", "sentiment", "positive"),
        ("W2", "topics", ["food", "service"]),
    ]
    assert batch.labels[0].id == "mturk:assignment:a1:shade"
    assert batch.labels[0].item == "h1"
    assert batch.labels[0].created_at.isoformat() == "2024-05-01T13:04:59+00:00"
    assert batch.skipped == {"status:Rejected": 1}


def test_an_assignment_gives_the_labels_and_ids_of_its_results_csv_row():
    # The same answers as the batch results CSV writes them for a crowd-form HIT.
    table = (
        "HITId,AssignmentId,WorkerId,AssignmentStatus,SubmitTime,Answer.category.label,"
        "Answer.sentiment.negative,Answer.sentiment.positive,Answer.topics.food,"
        "Answer.topics.price,Answer.topics.service\r\n"
        "h1,a2,W2,Submitted,2024-05-01 13:04:59+00:00,cat,false,true,true,false,true\r\n"
    )
    from_csv = merged(
        adapter.parse_export(io.BytesIO(table.encode()), Mapping(multilabel=["topics"]))
    )
    fields = {
        "category": {"label": "cat"},
        "sentiment": {"negative": False, "positive": True},
        "topics": {"food": True, "price": False, "service": True},
    }
    from_api = parse([assignment("a2", "W2", answers_xml(crowd_form(fields)))])
    assert from_api.labels == from_csv.labels


def test_get_assignment_response_and_notification_messages():
    single = {
        "Assignment": assignment("a1", "W1", answers_xml(free_text("shade", "beige"))),
        "HIT": {"HITId": "h1", "HITTypeId": "t1", "MaxAssignments": 3},
    }
    assert triples(parse(single)) == [("W1", "shade", "beige")]
    # MTurk's own notifications (SQS/SNS) carry ids only: nothing to store.
    notification = {
        "EventDocId": "d1",
        "EventDocVersion": "2014-08-15",
        "CustomerId": "C1",
        "Events": [
            {"EventType": "AssignmentSubmitted", "EventTimestamp": "2024-05-01T13:04:59Z",
             "HITId": "h1", "AssignmentId": "a1", "HITTypeId": "t1"},
        ],
    }  # fmt: skip
    batch = parse(notification)
    assert (batch.labels, batch.skipped) == ([], {"notification:AssignmentSubmitted": 1})


def test_answers_that_are_not_labels_are_counted():
    document = answers_xml(
        selection("pattern"),  # nothing selected
        free_text("comment", ""),
        "<QuestionIdentifier>photo</QuestionIdentifier>"
        "<UploadedFileSizeInBytes>1024</UploadedFileSizeInBytes>"
        "<UploadedFileKey>key</UploadedFileKey>",
        "<QuestionIdentifier>shade</QuestionIdentifier><OtherSelectionText>ecru</OtherSelectionText>",
    )
    batch = parse([assignment("a1", "W1", document), assignment("a2", "W2", "")])
    assert batch.labels == []
    assert batch.skipped == {
        "empty_answer": 3,
        "unsupported_answer:photo": 1,
        "other_selection:shade": 1,
    }


def test_several_selections_and_a_repeated_question():
    document = answers_xml(
        selection("topics", "service", "food"),
        selection("pattern", "solid", "striped"),
        free_text("shade", "beige"),
        free_text("shade", "cream"),
    )
    # A single-choice attribute with several answers is left to the taxonomy (422).
    assert triples(parse([assignment("a1", "W1", document)])) == [
        ("W1", "topics", ["food", "service"]),
        ("W1", "pattern", ["solid", "striped"]),
        ("W1", "shade", ["beige", "cream"]),
    ]


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">\n'
        for n in range(1, 10)
    )
    + "]>\n"
    + f'<QuestionFormAnswers xmlns="{NS}"><Answer><QuestionIdentifier>shade</QuestionIdentifier>'
    "<FreeText>&lol9;</FreeText></Answer></QuestionFormAnswers>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    f'<QuestionFormAnswers xmlns="{NS}"><Answer><QuestionIdentifier>shade</QuestionIdentifier>'
    "<FreeText>&e;</FreeText></Answer></QuestionFormAnswers>"
)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (BILLION_LAUGHS, "document type declaration is refused"),
        (EXTERNAL_ENTITY, "document type declaration is refused"),
        ("<QuestionFormAnswers><Answer>", "not a well-formed XML document"),
        ("beige", "not a well-formed XML document"),
        ("<Answers/>", "expected a QuestionFormAnswers document, got <Answers>"),
        (answers_xml("<FreeText>beige</FreeText>"), "an Answer has no QuestionIdentifier"),
        (answers_xml(free_text("taskAnswers", "{oops")), "taskAnswers is not JSON"),
        (answers_xml(free_text("taskAnswers", "[1, 2]")), "one JSON object of form fields"),
        ({"shade": "beige"}, "expected QuestionFormAnswers XML text, got an object"),
    ],
)
def test_unreadable_answers_name_the_field(answer, message):
    good = assignment("a1", "W1", answers_xml(free_text("shade", "beige")))
    with pytest.raises(PayloadError) as caught:
        parse({"Assignments": [good, assignment("a2", "W2", answer)]})
    [error] = caught.value.errors
    assert error["field"] == "/Assignments/1/Answer"
    assert message in error["message"]


def test_a_rejected_assignment_is_skipped_without_reading_its_answer():
    batch = parse([assignment("a1", "W1", BILLION_LAUGHS, status="Rejected")])
    assert batch.skipped == {"status:Rejected": 1}


def table_of(assignments: list[dict]) -> bytes:
    """ListAssignmentsForHIT results saved as a table (``pandas.DataFrame(...).to_csv``)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(assignments[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(assignments)
    return out.getvalue().encode()


def test_a_table_with_an_answer_column_holding_the_xml():
    table = table_of([
        assignment("a1", "W1", answers_xml(free_text("shade", "beige"))),
        assignment("a2", "W2", answers_xml(crowd_form({"shade": {"label": "cream"}}))),
        assignment("a3", "W3", ""),
    ])  # fmt: skip
    batch = merged(adapter.parse_export(io.BytesIO(table), Mapping()))
    assert triples(batch) == [("W1", "shade", "beige"), ("W2", "shade", "cream")]
    assert batch.skipped == {"empty_answer": 1}
    bad = table_of([assignment("a1", "W1", BILLION_LAUGHS)])
    with pytest.raises(PayloadError) as caught:
        merged(adapter.parse_export(io.BytesIO(bad), Mapping()))
    assert caught.value.errors[0]["field"].startswith("Answer (line ")

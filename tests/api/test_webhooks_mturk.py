"""MTurk webhook fed with assignments as the API returns them (QuestionFormAnswers XML)."""

from __future__ import annotations

import json

from tests.api.test_webhooks import configure, deliver, make_project, signed
from tests.conftest import row_counts
from tests.platforms.test_mturk_answers import (
    BILLION_LAUGHS,
    answers_xml,
    assignment,
    crowd_form,
    free_text,
    selection,
)


def opinions(client) -> None:
    make_project(client, "opinions", [
        {"name": "sentiment", "values": ["negative", "neutral", "positive"]},
        {"name": "topics", "kind": "multilabel", "values": ["food", "price", "service"]},
    ])  # fmt: skip
    configure(client, "mturk", project="opinions", mapping={"multilabel": ["topics"]})


def post(client, body: dict, delivery_id: str = "msg_1"):
    data = json.dumps(body).encode()
    return deliver(client, data, signed(data, delivery_id=delivery_id), "mturk", "opinions")


def test_list_assignments_for_hit_response_is_stored(client, engine):
    opinions(client)
    body = {"NumResults": 3, "Assignments": [
        assignment("a1", "W1", answers_xml(selection("sentiment", "positive"))),
        assignment("a2", "W2", answers_xml(crowd_form({
            "sentiment": {"negative": False, "neutral": True, "positive": False},
            "topics": {"food": True, "price": False, "service": True},
        }))),
        assignment("a3", "W3", answers_xml(free_text("sentiment", "negative")), status="Rejected"),
    ]}  # fmt: skip
    response = post(client, body)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert (answer["accepted"], answer["skipped"]) == (3, {"status:Rejected": 1})
    # Forwarded again by another Lambda run (a new delivery): the assignment ids make
    # every label a duplicate; only the delivery itself is remembered.
    before = row_counts(engine)
    again = post(client, body, delivery_id="msg_2").get_json()
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    after = row_counts(engine)
    assert after.pop("webhook_delivery") == before.pop("webhook_delivery") + 1
    assert after == before


def test_unreadable_answer_xml_is_422_naming_it_and_writes_nothing(client, engine):
    opinions(client)
    before = row_counts(engine)
    body = {"Assignments": [
        assignment("a1", "W1", answers_xml(selection("sentiment", "positive"))),
        assignment("a2", "W2", BILLION_LAUGHS),
        assignment("a3", "W3", "<QuestionFormAnswers><Answer>"),
    ]}  # fmt: skip
    response = post(client, body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    fields = [error["field"] for error in response.get_json()["errors"]]
    assert fields == ["/Assignments/1/Answer", "/Assignments/2/Answer"]
    assert row_counts(engine) == before

"""POST /projects/{project}/labels: atomic, idempotent, and strict about input."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN, row_counts

LABELS = "/api/v1/projects/shirts/labels"


def label(item="img-1", annotator="a1", attribute="shade", value="cream", **extra) -> dict:
    return {"item": item, "annotator": annotator, "attribute": attribute, "value": value, **extra}


def post(client, labels, headers=ADMIN, **kwargs):
    return client.post(LABELS, json={"labels": labels}, headers=headers, **kwargs)


def test_batch_is_stored_and_counted(client, project):
    response = post(
        client,
        [
            label(annotator="a1"),
            label(annotator="a2"),
            label(item="img-2", attribute="tags", value=["silk", "cotton"]),
        ],
    )
    assert response.status_code == 200
    assert response.get_json()["accepted"] == 3
    counts = client.get("/api/v1/projects/shirts", headers=ADMIN).get_json()["counts"]
    assert counts == {"labels": 3, "items": 2, "annotators": 1 + 1, "gold": 0}


def test_counts_follow_every_ingest(client, project):
    def counts() -> dict:
        return client.get("/api/v1/projects/shirts", headers=ADMIN).get_json()["counts"]

    assert counts() == {"labels": 0, "items": 0, "annotators": 0, "gold": 0}
    post(client, [label(annotator="a1")])
    assert counts() == {"labels": 1, "items": 1, "annotators": 1, "gold": 0}
    post(client, [label(item="img-2", annotator="a2")])
    client.post(
        "/api/v1/projects/shirts/gold",
        json={"gold": [{"item": "img-3", "attribute": "shade", "value": "cream"}]},
        headers=ADMIN,
    )
    assert counts() == {"labels": 2, "items": 3, "annotators": 2, "gold": 1}


def test_answers_each_touched_item_with_its_status(client, project):
    body = post(
        client,
        [
            label(annotator="a1", value="cream"),
            label(annotator="a2", value="beige"),
            label(item="img-2", attribute="has_logo", value=True),
        ],
    ).get_json()
    by_key = {(i["item"], i["attribute"]): i for i in body["items"]}
    tie = by_key[("img-1", "shade")]
    # Two annotators disagree: below the 0.8 target with fewer than max_labels (4).
    assert tie["status"] == "needs_labels"
    assert tie["confidence"] == pytest.approx(0.5)
    logo = by_key[("img-2", "has_logo")]
    assert logo["label"] == "1" and logo["status"] == "needs_labels"  # 1 < min_labels


def test_newest_label_per_annotator_counts(client, project):
    post(client, [label(annotator="a1", value="cream"), label(annotator="a2", value="cream")])
    body = post(client, [label(annotator="a1", value="beige")]).get_json()
    # a1 changed their mind: one vote each now, not two for cream and one for beige.
    assert body["items"][0]["confidence"] == pytest.approx(0.5)


def test_resent_event_ids_store_nothing_new(client, project, engine):
    batch = [label(annotator="a1", id="ev-1"), label(annotator="a2", id="ev-2")]
    first = post(client, batch).get_json()
    before = row_counts(engine)
    again = post(client, batch).get_json()
    assert row_counts(engine) == before
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert again["items"] == first["items"]


def test_event_id_repeated_within_one_batch_is_stored_once(client, project):
    body = post(client, [label(annotator="a1", id="ev-1"), label(annotator="a1", id="ev-1")])
    assert (body.get_json()["accepted"], body.get_json()["duplicates"]) == (1, 1)


def test_idempotency_key_replays_the_first_answer(client, project, engine):
    headers = {**ADMIN, "Idempotency-Key": "batch-0001"}
    first = post(client, [label(annotator="a1")], headers=headers)
    before = row_counts(engine)
    second = post(client, [label(annotator="a1")], headers=headers)
    assert row_counts(engine) == before
    assert second.status_code == 200
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotency-Replayed"] == "true"


def test_idempotency_key_with_another_body_is_refused(client, project, engine):
    headers = {**ADMIN, "Idempotency-Key": "batch-0001"}
    post(client, [label(annotator="a1")], headers=headers)
    before = row_counts(engine)
    response = post(client, [label(annotator="a2")], headers=headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "/headers/Idempotency-Key"
    assert row_counts(engine) == before


def test_values_given_as_numbers_and_booleans(client, project):
    response = post(
        client,
        [
            label(attribute="has_logo", value=1),
            label(attribute="has_logo", value=False, annotator="a2"),
        ],
    )
    assert response.status_code == 200, response.get_json()


# --- bad input: each gets a problem document naming the field, and writes nothing -----

BAD_LABELS = {
    "unknown attribute": ([label(attribute="colour")], 422, "/labels/0/attribute"),
    "value outside the taxonomy": ([label(value="magenta")], 422, "/labels/0/value"),
    "multilabel value not a list": (
        [label(attribute="tags", value="silk")],
        422,
        "/labels/0/value",
    ),
    "unknown tag": ([label(attribute="tags", value=["wool"])], 422, "/labels/0/value"),
    "list for a categorical": ([label(value=["cream"])], 422, "/labels/0/value"),
    "boolean for a categorical": ([label(value=True)], 422, "/labels/0/value"),
    "empty item": ([label(item="")], 422, "/labels/0/item"),
    "empty annotator": ([label(annotator="")], 422, "/labels/0/annotator"),
    "empty event id": ([label(id="")], 422, "/labels/0/id"),
    "over-long item": ([label(item="x" * 257)], 422, "/labels/0/item"),
    "over-long event id": ([label(id="e" * 257)], 422, "/labels/0/id"),
    "item of the wrong type": ([label(item=17)], 422, "/labels/0/item"),
    "value of the wrong type": ([label(value={"shade": "cream"})], 422, "/labels/0/value"),
    "missing annotator": (
        [{"item": "i", "attribute": "shade", "value": "cream"}],
        422,
        "/labels/0/annotator",
    ),
    "unknown field": ([label(weight=2)], 422, "/labels/0/weight"),
    "bad timestamp": ([label(created_at="yesterday")], 422, "/labels/0/created_at"),
    "empty batch": ([], 422, "/labels"),
}


@pytest.mark.parametrize("case", BAD_LABELS, ids=list(BAD_LABELS))
def test_bad_label_is_refused_whole(client, project, engine, case):
    bad, status, field = BAD_LABELS[case]
    before = row_counts(engine)
    # A good label rides along: the batch must be refused whole, the good one included.
    response = post(client, [*bad, label(annotator="good")] if bad else bad)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert field in [error["field"] for error in problem["errors"]]
    assert row_counts(engine) == before


def assert_refused(response, status, field, engine, before):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status
    if field is not None:
        assert field in [error["field"] for error in problem["errors"]]
    assert row_counts(engine) == before


def test_malformed_json(client, project, engine):
    before = row_counts(engine)
    response = client.post(
        LABELS, data=b'{"labels": [', headers=ADMIN, content_type="application/json"
    )
    assert_refused(response, 400, "/", engine, before)


def test_body_that_is_not_an_object(client, project, engine):
    before = row_counts(engine)
    response = client.post(LABELS, json=[label()], headers=ADMIN)
    assert_refused(response, 422, "/", engine, before)


def test_empty_body(client, project, engine):
    before = row_counts(engine)
    assert_refused(client.post(LABELS, headers=ADMIN), 400, "/", engine, before)


def test_batch_over_the_limit(app, client, project, engine):
    limit = app.extensions["qc"].settings.max_batch_labels
    before = row_counts(engine)
    batch = [label(annotator=f"a{i}") for i in range(limit + 1)]
    assert_refused(post(client, batch), 400, "/labels", engine, before)


def test_body_over_the_limit(app, client, project, engine):
    app.config["MAX_CONTENT_LENGTH"] = 2_000
    before = row_counts(engine)
    batch = [label(annotator=f"annotator-{i}") for i in range(100)]
    assert_refused(post(client, batch), 413, None, engine, before)


def test_bad_idempotency_key(client, project, engine):
    before = row_counts(engine)
    response = post(client, [label()], headers={**ADMIN, "Idempotency-Key": "k" * 300})
    assert_refused(response, 400, "/headers/Idempotency-Key", engine, before)


def test_unknown_project(client, project, engine):
    before = row_counts(engine)
    response = client.post(
        "/api/v1/projects/nope/labels", json={"labels": [label()]}, headers=ADMIN
    )
    assert_refused(response, 404, None, engine, before)

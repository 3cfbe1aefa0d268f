"""Signed webhooks: the Standard Webhooks matrix, retries, bearer fallback, payload errors."""

from __future__ import annotations

import base64
import json
import time

import pytest
import yaml

from qc_service.service.signatures import signature_headers
from tests.conftest import ADMIN, PAYLOADS, project_spec, row_counts

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"n" * 32).decode()
RAW_SECRET = "a plain shared secret of some length"
HOOK = "/api/v1/projects/shirts/webhooks/{platform}"


def configure(client, platform="jsonl", secrets=(SECRET,), mapping=None, project="shirts"):
    response = client.put(
        f"/api/v1/projects/{project}/platforms/{platform}",
        json={"mapping": mapping or {}, "secrets": list(secrets)},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.get_json()
    return response


def labels_body(*values: str) -> bytes:
    labels = [
        {"item": "img-1", "annotator": f"a{n}", "attribute": "shade", "value": v, "id": f"e{n}"}
        for n, v in enumerate(values)
    ]
    return json.dumps({"labels": labels}).encode()


def deliver(client, body: bytes, headers: dict, platform="jsonl", project="shirts"):
    return client.post(
        HOOK.format(platform=platform).replace("shirts", project),
        data=body,
        headers={"Content-Type": "application/json", **headers},
    )


def signed(body: bytes, secret=SECRET, delivery_id="msg_1", timestamp=None) -> dict:
    return signature_headers(secret, delivery_id, body, timestamp)


@pytest.fixture
def configured(client, project):
    configure(client)
    return project


def test_signed_delivery_is_stored(client, configured):
    response = deliver(client, labels_body("cream", "beige"), signed(labels_body("cream", "beige")))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["accepted"], body["duplicates"], body["gold"], body["skipped"]) == (2, 0, 0, {})
    assert body["items"][0]["item"] == "img-1"


def test_raw_secret_is_accepted(client, project):
    configure(client, secrets=[RAW_SECRET])
    body = labels_body("cream")
    assert deliver(client, body, signed(body, secret=RAW_SECRET)).status_code == 200


def test_rotation_old_and_new_secrets_are_both_valid(client, project):
    configure(client, secrets=[SECRET, NEW_SECRET])
    old = labels_body("cream")
    new = labels_body("cream", "beige")
    assert deliver(client, old, signed(old, SECRET, "msg_old")).status_code == 200
    assert deliver(client, new, signed(new, NEW_SECRET, "msg_new")).status_code == 200
    configure(client, secrets=[NEW_SECRET])
    third = labels_body("white")
    assert deliver(client, third, signed(third, SECRET, "msg_3")).status_code == 401


def test_signature_header_with_several_entries_and_versions(client, configured):
    body = labels_body("cream")
    headers = signed(body)
    headers["webhook-signature"] = (
        "v1a,c29tZXRoaW5n " + signed(body, NEW_SECRET)["webhook-signature"] + " "
        + headers["webhook-signature"]
    )  # fmt: skip
    assert deliver(client, body, headers).status_code == 200


def _flip_body(body, headers):
    return body[:-2] + bytes([body[-2] ^ 1]) + body[-1:], headers


def _set(name, value):
    def change(body, headers):
        return body, {**headers, name: value}

    return change


def _drop(name):
    def change(body, headers):
        return body, {k: v for k, v in headers.items() if k != name}

    return change


def _shift(seconds, resign=True):
    def change(body, headers):
        if not resign:
            return body, {**headers, "webhook-timestamp": str(int(time.time()) + seconds)}
        return body, signed(body, timestamp=int(time.time()) + seconds)

    return change


REJECTIONS = {
    "one flipped body byte": (_flip_body, "webhook-signature"),
    "changed id": (_set("webhook-id", "msg_2"), "webhook-signature"),
    "changed timestamp": (_shift(1, resign=False), "webhook-signature"),
    "wrong secret": (
        lambda body, headers: (body, signed(body, secret=NEW_SECRET)),
        "webhook-signature",
    ),
    "too old": (_shift(-301), "webhook-timestamp"),
    "from the future": (_shift(301), "webhook-timestamp"),
    "missing id": (_drop("webhook-id"), "webhook-id"),
    "missing timestamp": (_drop("webhook-timestamp"), "webhook-timestamp"),
    "missing signature": (_drop("webhook-signature"), "webhook-signature"),
    "empty signature": (_set("webhook-signature", " "), "webhook-signature"),
    "signature not base64": (_set("webhook-signature", "v1,***"), "webhook-signature"),
    "signature too short": (_set("webhook-signature", "v1,c2hvcnQ="), "webhook-signature"),
    "signature without version": (_set("webhook-signature", "c2hvcnQ="), "webhook-signature"),
    "only unknown versions": (_set("webhook-signature", "v2,c2hvcnQ="), "webhook-signature"),
    "too many signatures": (_set("webhook-signature", "v1,AA== " * 11), "webhook-signature"),
    "timestamp not a number": (_set("webhook-timestamp", "yesterday"), "webhook-timestamp"),
    "negative timestamp": (_set("webhook-timestamp", "-1700000000"), "webhook-timestamp"),
    "huge timestamp": (_set("webhook-timestamp", "9" * 40), "webhook-timestamp"),
    "fractional timestamp": (_set("webhook-timestamp", "1700000000.5"), "webhook-timestamp"),
    "overlong id": (_set("webhook-id", "m" * 300), "webhook-id"),
    "non-printable id": (_set("webhook-id", "msg\t1"), "webhook-id"),
}


def test_verification_failures_are_401_and_write_nothing(client, configured, engine):
    # One test over the whole matrix: verification does not depend on the database,
    # and a fresh app per case would cost more than the cases themselves.
    good = labels_body("cream")
    before = row_counts(engine)
    for case, (change, header) in REJECTIONS.items():
        body, headers = change(good, signed(good))
        response = deliver(client, body, headers)
        assert response.status_code == 401, (case, response.get_json())
        assert response.mimetype == "application/problem+json", case
        assert response.get_json()["errors"][0]["field"] == f"/headers/{header}", case
    assert row_counts(engine) == before
    # The untouched delivery passes, so each refusal above was for its one change.
    assert deliver(client, good, signed(good)).status_code == 200


def test_no_headers_at_all_is_401(client, configured, engine):
    before = row_counts(engine)
    response = deliver(client, labels_body("cream"), {})
    assert response.status_code == 401
    assert response.get_json()["errors"][0]["field"] == "/headers/webhook-signature"
    assert row_counts(engine) == before


def test_platform_without_secrets_and_unknown_project_are_401(client, project, engine):
    body = labels_body("cream")
    before = row_counts(engine)
    assert deliver(client, body, signed(body)).status_code == 401  # nothing configured
    assert deliver(client, body, signed(body), project="nope").status_code == 401
    assert row_counts(engine) == before


def test_replay_answers_the_first_answer_and_stores_nothing(client, configured, engine):
    body = labels_body("cream", "beige")
    headers = signed(body)
    first = deliver(client, body, headers)
    before = row_counts(engine)
    again = deliver(client, body, headers)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert again.headers["Webhook-Replayed"] == "true"
    assert row_counts(engine) == before


def test_retry_resigned_later_with_the_same_id_answers_the_first_answer(client, configured, engine):
    body = labels_body("cream")
    first = deliver(client, body, signed(body, timestamp=int(time.time()) - 280))
    # Meanwhile the mapping changed so that the body no longer parses the same way:
    # the retry still gets the first answer.
    configure(client, mapping={"label_attribute": "pattern"}, secrets=[SECRET])
    before = row_counts(engine)
    retry = deliver(client, body, signed(body, timestamp=int(time.time()) + 5))
    assert retry.status_code == 200 and retry.get_json() == first.get_json()
    assert row_counts(engine) == before


def test_same_id_with_another_body_is_a_conflict(client, configured, engine):
    deliver(client, labels_body("cream"), signed(labels_body("cream")))
    before = row_counts(engine)
    other = labels_body("beige")
    response = deliver(client, other, signed(other))
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["field"] == "/headers/webhook-id"
    assert row_counts(engine) == before


def test_payload_errors_are_422_naming_the_field_and_write_nothing(client, configured, engine):
    before = row_counts(engine)
    for body, field in [
        (b"{not json", "/"),
        (json.dumps({"labels": [{"item": "i", "annotator": "a"}]}).encode(), "/labels/0/value"),
        (labels_body("magenta"), "/labels/0/value"),
    ]:
        response = deliver(client, body, signed(body, delivery_id=f"msg_{field}"))
        assert response.status_code == 422, response.get_json()
        assert field in [error["field"] for error in response.get_json()["errors"]]
    assert row_counts(engine) == before
    # A refused delivery is not remembered: fixed and re-sent under the same id, it counts.
    good = labels_body("cream")
    assert deliver(client, good, signed(good, delivery_id="msg_/")).status_code == 200


def test_unknown_platform_is_404_naming_it(client, project):
    body = labels_body("cream")
    response = deliver(client, body, signed(body), platform="figma")
    assert response.status_code == 404
    assert response.get_json()["errors"][0]["field"] == "/platform"


# --- bearer fallback for senders that can only add fixed headers (Label Studio) -------


def ls_update(annotation_id: int, choice: str, updated_at: str) -> bytes:
    return json.dumps(
        {
            "action": "ANNOTATION_UPDATED",
            "annotation": {
                "id": annotation_id, "completed_by": 7, "task": 10, "updated_at": updated_at,
                "result": [{"from_name": "shade", "type": "choices",
                            "value": {"choices": [choice]}}],
            },
        }
    ).encode()  # fmt: skip


def test_label_studio_with_an_ingest_token_and_update_replacing_the_answer(
    client, project, token_for
):
    headers = token_for(project, "ingest")
    first = deliver(client, ls_update(1, "cream", "2024-05-01T10:00:00Z"), headers, "labelstudio")
    assert first.status_code == 200 and first.get_json()["accepted"] == 1
    second = deliver(client, ls_update(1, "beige", "2024-05-02T10:00:00Z"), headers, "labelstudio")
    body = second.get_json()
    assert (body["accepted"], body["retracted"]) == (1, 1)
    assert body["items"][0]["label"] == "beige"
    deleted = json.dumps({"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 1}]}).encode()
    gone = deliver(client, deleted, headers, "labelstudio").get_json()
    assert gone["retracted"] == 1 and gone["items"][0]["label"] is None


def test_bearer_without_ingest_scope_or_unknown_is_refused(client, project, token_for, engine):
    reader = token_for(project, "read")
    before = row_counts(engine)
    body = ls_update(1, "cream", "2024-05-01T10:00:00Z")
    assert deliver(client, body, reader, "labelstudio").status_code == 403
    unknown = {"Authorization": "Bearer qc_nope"}
    assert deliver(client, body, unknown, "labelstudio").status_code == 401
    assert row_counts(engine) == before


# --- real payloads from ../shared/payloads ----------------------------------------------


def real(relative: str) -> bytes:
    path = PAYLOADS / relative
    if not path.is_file():
        pytest.skip(f"real payload {path} is absent (set QC_PAYLOADS to the payloads folder)")
    return path.read_bytes()


def make_project(client, project_id: str, attributes: list[dict]) -> None:
    spec = project_spec(id=project_id, name=project_id, attributes=attributes)
    assert client.post("/api/v1/projects", json=spec, headers=ADMIN).status_code == 201


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("webhook_ANNOTATION_CREATED.json", {"unsupported_result:labels": 1}),
        ("webhook_ANNOTATION_UPDATED_image_bbox.json", {"unsupported_result:rectanglelabels": 2}),
        ("webhook_ANNOTATIONS_DELETED.json", {}),
        ("webhook_TASKS_CREATED.json", {"action:TASKS_CREATED": 1}),
    ],
)
def test_real_label_studio_webhooks(client, project, name, expected):
    configure(client, "labelstudio")
    body = real(f"labelstudio/{name}")
    response = deliver(client, body, signed(body, delivery_id=name), "labelstudio")
    assert response.status_code == 200, response.get_json()
    # The official examples hold only NER and bounding-box results: nothing to store.
    answer = response.get_json()
    assert (answer["accepted"], answer["gold"], answer["skipped"]) == (0, 0, expected)


def test_real_toloka_assignment_and_notification(client):
    make_project(client, "toloka", [{"name": "result", "values": ["cat", "dog"]}])
    configure(client, "toloka", project="toloka")
    document = yaml.safe_load(real("toloka/api_example_assignment-list.yaml"))["success"]["value"]
    body = json.dumps(document).encode()
    answer = deliver(client, body, signed(body), "toloka", project="toloka").get_json()
    # One ACCEPTED assignment with one task answered "cat".
    assert (answer["accepted"], answer["items"][0]["label"]) == (1, "cat")
    notification = real("toloka/webhook_ASSIGNMENT_CREATED.json")
    answer = deliver(
        client, notification, signed(notification, delivery_id="n1"), "toloka", project="toloka"
    ).get_json()
    assert answer["accepted"] == 0 and answer["skipped"] == {"notification:ASSIGNMENT_CREATED": 1}


def test_real_mturk_rows_forwarded_as_json(client):
    import csv
    import io

    make_project(client, "mturk", [{"name": "category", "values": [
        "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]}])  # fmt: skip
    configure(client, "mturk", project="mturk")
    text = real("mturk/Batch_4350992_batch_results_first1200rows.csv").decode()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))[:30]
    body = json.dumps(rows).encode()
    answer = deliver(client, body, signed(body), "mturk", project="mturk").get_json()
    # The first 30 rows: 10 HITs x 3 assignments, all Submitted.
    assert answer["accepted"] == 30 and len({i["item"] for i in answer["items"]}) == 10


def test_real_sagemaker_consolidation_request(client):
    make_project(client, "sagemaker", [{"name": "label", "values": ["a", "b"]}])
    configure(client, "sagemaker", project="sagemaker")
    body = real("sagemaker_groundtruth/recipe_sample_annotation_consolidation_payload.json")
    answer = deliver(client, body, signed(body), "sagemaker", project="sagemaker").get_json()
    # Two data objects with one bounding-box response each: nothing to store.
    assert answer["accepted"] == 0
    assert answer["skipped"] == {"unsupported_answer:annotatedResult": 2}


def test_a2i_human_loop_output_posted_by_a_lambda(client):
    from tests.platforms.test_a2i import LOOPS

    make_project(client, "a2i", [{"name": "label", "values": ["beige", "cream", "white"]}])
    configure(
        client, "a2i", project="a2i", mapping={"attributes": {"crowd-image-classifier": "label"}}
    )
    body = json.dumps(LOOPS[1]).encode()
    answer = deliver(client, body, signed(body), "a2i", project="a2i").get_json()
    assert (answer["accepted"], answer["items"][0]["item"]) == (1, "loop-2")


def test_real_a2i_output_and_its_status_change_event(client, engine):
    make_project(client, "a2i", [{"name": "transcript", "values": ["a", "b"]}])
    configure(client, "a2i", project="a2i", mapping={"attributes": {"transcription": "transcript"}})
    body = real("sagemaker_groundtruth/docs_a2i_output_custom_task_type.json")
    response = deliver(client, body, signed(body), "a2i", project="a2i")
    # The worker's free text is no value of the taxonomy: refused, naming the label.
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "/labels/0/value"
    event = real("sagemaker_groundtruth/docs_a2i_humanloop_status_change_event.json")
    before = row_counts(engine)
    response = deliver(client, event, signed(event, delivery_id="msg_2"), "a2i", project="a2i")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "/detail/humanLoopOutput/outputS3Uri"
    assert row_counts(engine) == before


def test_get_another_label_file_posted_as_the_body(client):
    make_project(client, "adult", [{"name": "label", "values": ["notporn", "porn"]}])
    configure(client, "gal", project="adult")
    body = b"w1\turl1\tporn\nw2\turl1\tnotporn\n"
    answer = deliver(client, body, signed(body), "gal", project="adult").get_json()
    assert (answer["accepted"], answer["items"][0]["item"]) == (2, "url1")
    gold = b"url1\tnotporn\n"
    answer = deliver(client, gold, signed(gold, delivery_id="msg_2"), "gal", project="adult")
    assert answer.get_json()["gold"] == 1


def test_delivery_over_the_batch_limit_is_413_and_writes_nothing(database_url, engine):
    from qc_service.app import create_app
    from tests.conftest import make_settings

    app = create_app({"TESTING": True}, settings=make_settings(database_url, max_batch_labels=2))
    client = app.test_client()
    assert client.post("/api/v1/projects", json=project_spec(), headers=ADMIN).status_code == 201
    configure(client)
    body = labels_body("cream", "beige", "white")
    before = row_counts(engine)
    response = deliver(client, body, signed(body))
    assert response.status_code == 413
    assert response.get_json()["errors"][0]["field"] == "/"
    assert row_counts(engine) == before
    app.extensions["qc"].engine.dispose()

"""Toloka's own webhook signature (``Toloka-Signature``): the documented example and
the same matrix as Standard Webhooks: 401 on every failure, nothing written, replays
answered from the stored delivery."""

from __future__ import annotations

import json
import re
import time

import pytest

from qc_service.errors import Unauthorized
from qc_service.service.signatures import toloka_signature, verify_toloka
from tests.api.test_webhooks import configure, deliver, make_project
from tests.conftest import row_counts

# Toloka's documentation, "Event authentication" (Toloka/docs,
# en/api/concepts/authentication.md): this body, secret_key "12345", v=1 and
# ts=946728000000 give this sign.
DOC_BODY = (
    b'{"events":[{"event_time":"2000-01-01T12:00:00","project_id":"project-1",'
    b'"pool_id":"pool-1","uuid":"00000000-0000-0000-0000-000000000000",'
    b'"task_suite_id":"task-suite-1","assignment_id":"assignment-1",'
    b'"webhook_subscription_id":"subscription-1","type":"ASSIGNMENT_APPROVED"}]}'
)
DOC_HEADER = (
    "{v=1, ts=946728000000, sign=609af3eefd4c12b6afad30ab456efcd21fe82f4247d3340151a3ca0c97a6cbcb}"
)


def test_the_documented_example_verifies():
    assert toloka_signature("12345", DOC_BODY, 946728000000) == DOC_HEADER
    delivery_id = verify_toloka(DOC_HEADER, DOC_BODY, ["12345"], now=946728000 + 60)
    assert delivery_id.startswith("toloka:")
    with pytest.raises(Unauthorized):
        verify_toloka(DOC_HEADER, DOC_BODY + b" ", ["12345"], now=946728000 + 60)


SECRET = "toloka secret_key of the pool subscription"
NEW_SECRET = "the next secret_key, after rotation"
HOOK_PROJECT = "toloka"


def now_ms(shift_seconds: float = 0) -> int:
    return int((time.time() + shift_seconds) * 1000)


def toloka_signed(body: bytes, secret: str = SECRET, shift_seconds: float = 0) -> dict:
    return {"Toloka-Signature": toloka_signature(secret, body, now_ms(shift_seconds))}


def assignment_body(value: str = "cat", assignment_id: str = "as-1") -> bytes:
    """An assignment as Toloka's API returns it, posted by a relay signing Toloka's way."""
    return json.dumps({
        "id": assignment_id, "user_id": "worker-1", "status": "ACCEPTED",
        "tasks": [{"id": "task-1", "input_values": {"image": "a.jpg"}}],
        "solutions": [{"output_values": {"result": value}}],
    }, separators=(",", ":")).encode()  # fmt: skip


@pytest.fixture
def toloka(client):
    make_project(client, HOOK_PROJECT, [{"name": "result", "values": ["cat", "dog"]}])
    configure(client, "toloka", secrets=[SECRET], project=HOOK_PROJECT)


def post(client, body: bytes, headers: dict, platform: str = "toloka"):
    return deliver(client, body, headers, platform, project=HOOK_PROJECT)


def test_toloka_signed_notification_and_assignment(client, toloka):
    response = post(client, DOC_BODY, toloka_signed(DOC_BODY))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["skipped"] == {"notification:ASSIGNMENT_APPROVED": 1}
    body = assignment_body()
    response = post(client, body, toloka_signed(body))
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["accepted"], response.get_json()["items"][0]["label"]) == (1, "cat")


def _flip_body(body, headers):
    return body[:-2] + bytes([body[-2] ^ 1]) + body[-1:], headers


def _header(value):
    return lambda body, headers: (body, {"Toloka-Signature": value})


def _edit(old, new):
    return lambda body, headers: (
        body,
        {"Toloka-Signature": headers["Toloka-Signature"].replace(old, new, 1)},
    )


def _change_ts(body, headers):
    header = headers["Toloka-Signature"]
    ts = re.search(r"ts=(\d+)", header).group(1)
    return body, {"Toloka-Signature": header.replace(f"ts={ts}", f"ts={int(ts) - 1000}")}


def _resigned(secret=SECRET, shift_seconds=0.0):
    return lambda body, headers: (body, toloka_signed(body, secret, shift_seconds))


REJECTIONS = {
    "one flipped body byte": _flip_body,
    "changed ts": _change_ts,
    "changed v": _edit("v=1", "v=2"),
    "wrong secret": _resigned(secret=NEW_SECRET),
    "too old": _resigned(shift_seconds=-301),
    "from the future": _resigned(shift_seconds=301),
    "empty header": _header(" "),
    "no fields": _header("{}"),
    "missing sign": _header(f"{{v=1, ts={now_ms()}}}"),
    "missing ts": _header("{v=1, sign=" + "ab" * 32 + "}"),
    "missing v": _header(f"{{ts={now_ms()}, sign=" + "ab" * 32 + "}"),
    "field without value": _header(f"{{v=1, ts={now_ms()}, sign}}"),
    "repeated field": _header(f"{{v=1, v=1, ts={now_ms()}, sign=" + "ab" * 32 + "}"),
    "sign not hex": _header(f"{{v=1, ts={now_ms()}, sign=" + "zz" * 32 + "}"),
    "sign too short": _header(f"{{v=1, ts={now_ms()}, sign=abcd}}"),
    "ts in seconds": lambda body, headers: (
        body,
        {"Toloka-Signature": toloka_signature(SECRET, body, int(time.time()))},
    ),
    "ts not a number": _header("{v=1, ts=yesterday, sign=" + "ab" * 32 + "}"),
    "negative ts": _header("{v=1, ts=-946728000000, sign=" + "ab" * 32 + "}"),
    "huge ts": _header("{v=1, ts=" + "9" * 40 + ", sign=" + "ab" * 32 + "}"),
    "odd v": _header(f"{{v=1.0, ts={now_ms()}, sign=" + "ab" * 32 + "}"),
}


def test_verification_failures_are_401_and_write_nothing(client, toloka, engine):
    good = assignment_body()
    before = row_counts(engine)
    for case, change in REJECTIONS.items():
        body, headers = change(good, toloka_signed(good))
        response = post(client, body, headers)
        assert response.status_code == 401, (case, response.get_json())
        assert response.mimetype == "application/problem+json", case
        assert response.get_json()["errors"][0]["field"] == "/headers/Toloka-Signature", case
    assert row_counts(engine) == before
    # The untouched delivery passes, so each refusal above was for its one change.
    assert post(client, good, toloka_signed(good)).status_code == 200


def test_rotated_secrets_are_both_valid(client, toloka):
    configure(client, "toloka", secrets=[SECRET, NEW_SECRET], project=HOOK_PROJECT)
    old, new = assignment_body("cat", "as-1"), assignment_body("dog", "as-2")
    assert post(client, old, toloka_signed(old, SECRET)).status_code == 200
    assert post(client, new, toloka_signed(new, NEW_SECRET)).status_code == 200
    configure(client, "toloka", secrets=[NEW_SECRET], project=HOOK_PROJECT)
    third = assignment_body("cat", "as-3")
    assert post(client, third, toloka_signed(third, SECRET)).status_code == 401


def test_no_secrets_unknown_project_and_other_platforms_are_401(client, toloka, engine):
    body = assignment_body()
    before = row_counts(engine)
    configure(client, "toloka", secrets=[], project=HOOK_PROJECT)
    assert post(client, body, toloka_signed(body)).status_code == 401
    configure(client, "toloka", secrets=[SECRET], project=HOOK_PROJECT)
    unknown = deliver(client, body, toloka_signed(body), "toloka", project="nope")
    assert unknown.status_code == 401
    # Only the toloka endpoint knows Toloka's scheme.
    assert post(client, body, toloka_signed(body), platform="jsonl").status_code == 401
    assert row_counts(engine) == before


def test_replays_and_resigned_retries_answer_the_first_answer(client, toloka, engine):
    body = assignment_body()
    headers = toloka_signed(body)
    first = post(client, body, headers)
    assert first.status_code == 200 and first.get_json()["accepted"] == 1
    before = row_counts(engine)
    # The same request again, and a retry signed later: Toloka sends no message id,
    # the body identifies the delivery.
    for again in (
        post(client, body, headers),
        post(client, body, toloka_signed(body, shift_seconds=200)),
    ):
        assert again.status_code == 200 and again.get_json() == first.get_json()
        assert again.headers["Webhook-Replayed"] == "true"
    assert row_counts(engine) == before


def test_payload_errors_are_422_naming_the_field_and_write_nothing(client, toloka, engine):
    before = row_counts(engine)
    bad = assignment_body("magenta")
    response = post(client, bad, toloka_signed(bad))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "/labels/0/value"
    assert row_counts(engine) == before

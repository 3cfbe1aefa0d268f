import hashlib
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from qc_service.platforms import (
    ADAPTERS,
    Adapter,
    Mapping,
    PayloadError,
    ProgressReader,
    get_adapter,
)
from qc_service.platforms.base import content_digest, iter_json_records, to_datetime


def test_registry_names():
    assert sorted(ADAPTERS) == [
        "a2i",
        "csv",
        "gal",
        "jsonl",
        "labelstudio",
        "mturk",
        "sagemaker",
        "toloka",
    ]
    assert all(isinstance(adapter, Adapter) for adapter in ADAPTERS.values())
    with pytest.raises(KeyError, match="known: a2i, csv"):
        get_adapter("figure-eight")


def test_mapping_round_trips_through_json():
    mapping = Mapping(
        item="data.image", attributes={"colour": "shade"}, multilabel=frozenset({"b", "a"})
    )
    stored = json.loads(json.dumps(mapping.to_dict()))
    assert stored == {
        "item": "data.image",
        "attributes": {"colour": "shade"},
        "multilabel": ["a", "b"],
    }
    assert Mapping.from_dict(stored) == mapping
    assert Mapping.from_dict(None) == Mapping()


def test_bad_mapping_names_its_fields():
    with pytest.raises(PayloadError) as caught:
        Mapping.from_dict({"item": 3, "colour": "x"})
    assert {error["field"] for error in caught.value.errors} == {"/mapping/item", "/mapping/colour"}


def test_json_array_is_streamed_across_small_reads():
    records = [{"n": index, "text": "x" * index} for index in range(50)] + [7, 8.5]
    body = json.dumps(records, indent=1).encode()
    assert [record for _, record in iter_json_records(io.BytesIO(body), read_size=7)] == records
    lines = b"\n".join(json.dumps(record).encode() for record in records)
    assert [record for _, record in iter_json_records(io.BytesIO(lines), read_size=5)] == records


def test_broken_json_names_the_record():
    with pytest.raises(PayloadError) as caught:
        list(iter_json_records(io.BytesIO(b'[{"a": 1}, {"a": ]')))
    assert caught.value.errors[0]["field"] == "/1"


def test_progress_reader_counts_bytes():
    body = ("task,worker,label\n" + "t,w,l\n" * 1000).encode()
    reader = ProgressReader(io.BytesIO(body))
    list(get_adapter("csv").parse_export(reader, Mapping()))
    assert reader.bytes_read == len(body)


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2024-02-04T19:13:23.631", "2024-02-04T19:13:23.631000+00:00"),
        ("Mon Mar 01 20:50:54 PST 2021", "2021-03-01T20:50:54-08:00"),
        ("3/24/2016 17:57:02", "2016-03-24T17:57:02+00:00"),
        (0, "1970-01-01T00:00:00+00:00"),
    ],
)
def test_timestamps(raw, iso):
    assert to_datetime(raw, "/t").isoformat() == iso


def test_bad_timestamp_is_a_payload_error():
    with pytest.raises(PayloadError):
        to_datetime("yesterday", "/t")


def test_integers_too_long_to_print_are_payload_errors():
    body = {"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 10**5000}]}
    with pytest.raises(PayloadError) as caught:
        get_adapter("labelstudio").parse_webhook(body, Mapping())
    assert caught.value.errors[0]["field"] == "/annotations/0/id"
    with pytest.raises(PayloadError):
        get_adapter("labelstudio").parse_webhook(b'{"a": ' + b"9" * 5000 + b"}", Mapping())


@pytest.mark.parametrize(
    "parts",
    [
        ("img-1", "w1", "shade", "cream", None),
        ("café ☕", 'q"uote', "back\\slash", "tab\tnew\nline\x00\x1f\u2028", None),
        ("i", "w", "tags", ["a", "b"], datetime(2024, 1, 1, 12, 30, tzinfo=UTC)),
        (
            "i",
            "w",
            "a",
            "v",
            datetime(2021, 3, 1, 20, 50, 54, tzinfo=timezone(timedelta(hours=-8))),
        ),
        ("i", 7, 2.5, True, ["x", 3], {"k": "v"}, []),
    ],
)
def test_content_digest_is_that_of_the_parts_json(parts):
    """Stored ids depend on it: the first 24 hex digits of the SHA-256 of the parts as
    compact JSON (non-ASCII kept, timestamps as ``str``)."""
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)
    assert content_digest(*parts) == hashlib.sha256(text.encode()).hexdigest()[:24]

import io

import pytest

from qc_service.events import GoldEvent
from qc_service.platforms import Mapping, PayloadError, get_adapter

from .conftest import merged, payload

adapter = get_adapter("gal")

LABELS = (
    "w1\turl1\tporn\n"
    "w1\turl2\tporn\n"
    "w2\turl1\tnotporn\r\n"  # Windows line ends happen
    "\n"
    'w2\t"url 2"\tporn\n'  # quotes are plain text
    "w3\turl1\tnotporn\n"
    "w3\turl1\tnotporn\n"  # a repeated line is one label
    "w3\turl2\t \n"
)
GOLD = "url1\tnotporn\nurl2\tporn\n"


def parse(text: str, mapping: Mapping | None = None, chunk_size: int = 5000):
    stream = io.BytesIO(text.encode())
    return merged(adapter.parse_export(stream, mapping or Mapping(), chunk_size))


def test_labels_file():
    batch = parse(LABELS, Mapping(label_attribute="rating"), chunk_size=2)
    assert [
        (label.item, label.annotator, label.attribute, label.value) for label in batch.labels
    ] == [
        ("url1", "w1", "rating", "porn"),
        ("url2", "w1", "rating", "porn"),
        ("url1", "w2", "rating", "notporn"),
        ('"url 2"', "w2", "rating", "porn"),
        ("url1", "w3", "rating", "notporn"),
        ("url1", "w3", "rating", "notporn"),
    ]
    assert len({label.id for label in batch.labels}) == 5
    assert batch.labels[0].id.startswith("gal:") and batch.labels[0].id.endswith(":rating")
    assert (batch.gold, batch.skipped) == ([], {"empty_answer": 1})


def test_gold_file():
    batch = parse(GOLD)
    assert batch.gold == [GoldEvent("url1", "label", "notporn"), GoldEvent("url2", "label", "porn")]
    assert batch.labels == []


def test_a_line_unlike_the_first_names_its_line():
    with pytest.raises(PayloadError) as caught:
        parse(LABELS + "url9\tporn\n")
    assert caught.value.errors == [{
        "field": "line 9",
        "message": "expected 3 tab-separated cells (worker, object, label) like the first "
        "line, got 2",
    }]  # fmt: skip
    with pytest.raises(PayloadError, match="object, label"):
        parse("url1\tporn\nw1\turl1\tporn\n")
    with pytest.raises(PayloadError, match="worker \\(line 1\\): must not be empty"):
        parse("\turl1\tporn\n")


def test_webhook_body_is_the_file():
    batch = adapter.parse_webhook(GOLD.encode(), Mapping())
    assert len(batch.gold) == 2
    assert adapter.parse_webhook(b"", Mapping()).labels == []
    with pytest.raises(PayloadError, match="GAL labels or gold file"):
        adapter.parse_webhook({"labels": []}, Mapping())


def test_real_adult_content():
    with payload("get_another_label/AdultContent_labels.txt").open("rb") as stream:
        labels = merged(adapter.parse_export(stream, Mapping()))
    with payload("get_another_label/AdultContent_gold.txt").open("rb") as stream:
        gold = merged(adapter.parse_export(stream, Mapping()))
    # README: 5 workers x 5 URLs, every pair labelled once; gold for url1 and url2.
    assert len(labels.labels) == 25
    assert len({label.item for label in labels.labels}) == 5
    assert len({label.annotator for label in labels.labels}) == 5
    assert sorted({label.value for label in labels.labels}) == ["notporn", "porn"]
    assert gold.gold == [GoldEvent("url1", "label", "notporn"), GoldEvent("url2", "label", "porn")]


def test_real_barzan_mozafari():
    with payload("get_another_label/BarzanMozafari_labels.txt").open("rb") as stream:
        labels = merged(adapter.parse_export(stream, Mapping()))
    with payload("get_another_label/BarzanMozafari_gold-30items.txt").open("rb") as stream:
        gold = merged(adapter.parse_export(stream, Mapping()))
    # awk -F'\t': 5000 lines, all distinct, 1000 objects, 83 MTurk workers, labels 0/1.
    assert len(labels.labels) == 5000
    assert len({label.id for label in labels.labels}) == 5000
    assert len({label.item for label in labels.labels}) == 1000
    assert len({label.annotator for label in labels.labels}) == 83
    assert len(gold.gold) == 30 and labels.gold == [] and gold.labels == []

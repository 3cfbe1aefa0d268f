"""ingest_events: retractions, labels and gold of one batch in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from qc_service.errors import InvalidInput
from qc_service.events import EventBatch, GoldEvent, LabelEvent, Retraction
from qc_service.service.ingest import ingest_events
from qc_service.store import labels as label_store
from qc_service.store.models import Label
from tests.conftest import ADMIN, row_counts


@pytest.fixture
def ctx(app):
    return app.extensions["qc"]


def label(event_id: str, annotator: str = "a1", value: str = "cream", item: str = "img-1"):
    return LabelEvent(item, annotator, "shade", value, event_id)


def counted_labels(client) -> int:
    return client.get("/api/v1/projects/shirts", headers=ADMIN).get_json()["counts"]["labels"]


def test_labels_and_gold_are_stored_together(ctx, client, project):
    batch = EventBatch(
        labels=[label("e:1"), label("e:2", annotator="a2", value="beige")],
        gold=[GoldEvent("img-1", "shade", "cream")],
        skipped={"cancelled": 2},
    )
    result, replayed = ingest_events(ctx, project, batch, source="test")
    assert not replayed
    assert (result.accepted, result.duplicates, result.gold, result.retracted) == (2, 0, 1, 0)
    assert result.skipped == {"cancelled": 2}
    assert [(i["item"], i["attribute"]) for i in result.model_dump()["items"]] == [
        ("img-1", "shade")
    ]
    counts = client.get("/api/v1/projects/shirts", headers=ADMIN).get_json()["counts"]
    assert (counts["labels"], counts["gold"]) == (2, 1)


def test_retraction_matches_the_id_exactly_or_as_a_prefix_before_a_colon(ctx, client, project):
    ids = ["ls:annotation:1", "ls:annotation:1:v1:shade", "ls:annotation:10:v1:shade"]
    batch = EventBatch(labels=[label(i, annotator=f"a{n}") for n, i in enumerate(ids)])
    ingest_events(ctx, project, batch, source="test")
    result, _ = ingest_events(
        ctx, project, EventBatch(retractions=[Retraction("ls:annotation:1")]), source="test"
    )
    # annotation 10 shares the text prefix but not the ':'-separated one.
    assert result.retracted == 2
    assert counted_labels(client) == 1
    assert result.items[0].item == "img-1"


@pytest.mark.parametrize("wildcard", ["%", "_"])
def test_like_wildcards_in_retracted_ids_are_literal(ctx, client, project, wildcard):
    batch = EventBatch(labels=[label(f"x{wildcard}y:1"), label("xzy:1", annotator="a2")])
    ingest_events(ctx, project, batch, source="test")
    result, _ = ingest_events(
        ctx, project, EventBatch(retractions=[Retraction(f"x{wildcard}y")]), source="test"
    )
    assert result.retracted == 1 and counted_labels(client) == 1


def test_update_batch_replaces_the_annotation_and_redelivery_changes_nothing(
    ctx, client, project, engine
):
    first = EventBatch(
        labels=[
            LabelEvent("img-1", "a1", "shade", "cream", "ls:annotation:5:v1:shade"),
            LabelEvent("img-1", "a1", "pattern", "solid", "ls:annotation:5:v1:pattern"),
        ]
    )
    ingest_events(ctx, project, first, source="test")
    # The update changes the shade and clears the pattern.
    update = EventBatch(
        retractions=[Retraction("ls:annotation:5")],
        labels=[LabelEvent("img-1", "a1", "shade", "beige", "ls:annotation:5:v2:shade")],
    )
    result, _ = ingest_events(ctx, project, update, source="test")
    assert (result.accepted, result.retracted) == (1, 2)
    by_attribute = {i.attribute: i for i in result.items}
    assert by_attribute["shade"].label == "beige"
    assert by_attribute["pattern"].label is None
    before = row_counts(engine)
    again, _ = ingest_events(ctx, project, update, source="test")
    assert (again.accepted, again.duplicates, again.retracted) == (0, 1, 0)
    assert row_counts(engine) == before
    assert counted_labels(client) == 1


def test_one_bad_answer_writes_nothing_and_names_its_field(ctx, project, engine):
    ingest_events(ctx, project, EventBatch(labels=[label("e:1")]), source="test")
    before = row_counts(engine)
    batch = EventBatch(
        retractions=[Retraction("e:1")],
        labels=[label("e:2")],
        gold=[GoldEvent("img-1", "shade", "magenta")],
    )
    with pytest.raises(InvalidInput) as caught:
        ingest_events(ctx, project, batch, source="test")
    assert [error.field for error in caught.value.errors] == ["/gold/0/value"]
    assert row_counts(engine) == before


def test_a_batch_that_failed_leaves_no_item_or_annotator_behind(
    ctx, client, project, engine, monkeypatch
):
    """Its new items and annotators were rolled back with it, so the next batch with
    the same keys creates them again (this process does not remember their ids)."""
    ingest_events(ctx, project, EventBatch(labels=[label("e:1")]), source="test")
    before = row_counts(engine)
    store_labels = label_store.insert_new_labels

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    batch = EventBatch(labels=[label("e:2", annotator="a-new", item="img-new")])
    monkeypatch.setattr(label_store, "insert_new_labels", fail)
    with pytest.raises(RuntimeError):
        ingest_events(ctx, project, batch, source="test")
    assert row_counts(engine) == before
    monkeypatch.setattr(label_store, "insert_new_labels", store_labels)
    result, _ = ingest_events(ctx, project, batch, source="test")
    assert result.accepted == 1
    counts = client.get("/api/v1/projects/shirts", headers=ADMIN).get_json()["counts"]
    assert (counts["labels"], counts["items"], counts["annotators"]) == (2, 2, 2)


def test_report_items_false_answers_counts_only(ctx, project):
    result, _ = ingest_events(
        ctx, project, EventBatch(labels=[label("e:1")]), source="import", report_items=False
    )
    assert (result.accepted, result.items) == (1, [])


def test_large_batches_keep_order_and_skip_stored_ids(ctx, client, project):
    # From 1,000 labels up PostgreSQL takes the COPY path: same answers as the small one.
    first = EventBatch(labels=[label(f"e:{n}", item=f"img-{n}") for n in range(600)])
    ingest_events(ctx, project, first, source="test")
    labels = [label(f"e:{n}", item=f"img-{n}") for n in range(1200)]
    # The same annotator answers one item twice in one batch: the later answer counts.
    labels += [
        label("x1", item="img-new", value="cream"),
        label("x2", item="img-new", value="beige"),
    ]
    result, _ = ingest_events(ctx, project, EventBatch(labels=labels), source="test")
    assert (result.accepted, result.duplicates) == (602, 600)
    by_item = {i.item: i for i in result.items}
    assert (by_item["img-new"].label, by_item["img-new"].confidence) == ("beige", 1.0)
    assert counted_labels(client) == 1202  # stored rows, the replaced answer included


@pytest.mark.parametrize("size", [3, 1200], ids=["small batch", "COPY batch"])
def test_stored_rows_carry_the_batch_source_project_and_times(ctx, project, engine, size):
    made_at = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    labels = [
        LabelEvent(f"img-{n}", "a1", "shade", "cream", f"e:{n}", made_at if n % 2 else None)
        for n in range(size)
    ]
    before = datetime.now(UTC)
    ingest_events(ctx, project, EventBatch(labels=labels), source="import:csv")
    after = datetime.now(UTC)
    query = sa.select(
        Label.event_id,
        Label.project_id,
        Label.source,
        Label.retracted,
        Label.created_at,
        Label.received_at,
    )
    with engine.connect() as connection:
        rows = {row.event_id: row for row in connection.execute(query)}
    assert len(rows) == size
    for n in range(size):
        row = rows[f"e:{n}"]
        assert (row.project_id, row.source, row.retracted) == (project, "import:csv", False)
        assert before <= row.received_at <= after
        # Without its own time a label was made when it was received.
        assert row.created_at == (made_at if n % 2 else row.received_at)

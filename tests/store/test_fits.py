"""Loading a fit's labels into arrays, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from qc_service.store import db
from qc_service.store import fits as fit_store

#: (label id, item, annotator, value, retracted)
LABELS = [
    (1, 1, 1, "a", False),
    (2, 1, 2, "c", False),
    (3, 1, 1, "b", False),  # replaces label 1
    (4, 2, 1, "b", False),
    (5, 2, 1, "a", True),  # retracts label 4 and is itself out
    (6, 2, 2, "a", False),
]
#: (item, annotator, value) of the labels that count
CURRENT = [(1, 1, "b"), (1, 2, "c"), (2, 2, "a")]


@pytest.fixture
def project(database_url):
    engine = db.make_engine(database_url)
    now = "CURRENT_TIMESTAMP"
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO project (id, name, target_confidence, min_labels, max_labels,"
                f" method, platform_config, created_at, revision) VALUES ('p', 'p', 0.9, 1, 3,"
                f" 'dawid_skene', '{{}}', {now}, 1)"
            )
        )
        connection.execute(
            sa.text(
                'INSERT INTO attribute (id, project_id, position, name, kind, "values")'
                """ VALUES (1, 'p', 0, 'shade', 'categorical', '["a", "b", "c"]'),"""
                """ (2, 'p', 1, 'fit', 'categorical', '["a", "b", "c"]')"""
            )
        )
        for table in ("item", "annotator"):
            for row_id in (1, 2):
                connection.execute(
                    sa.text(
                        f"INSERT INTO {table} (id, project_id, key, created_at)"
                        f" VALUES ({row_id}, 'p', 'k{row_id}', {now})"
                    )
                )
        for label_id, item, annotator, value, retracted in LABELS:
            connection.execute(
                sa.text(
                    "INSERT INTO label (id, project_id, item_id, annotator_id, attribute_id,"
                    " value, source, created_at, received_at, retracted) VALUES (:id, 'p',"
                    f" :item, :annotator, 1, :value, 'test', {now}, {now}, :retracted)"
                ),
                {
                    "id": label_id,
                    "item": item,
                    "annotator": annotator,
                    "value": value,
                    "retracted": retracted,
                },
            )
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    "values",
    [None, ["c", "b", "a"], ["a", "b"]],
    ids=["distinct values", "known values", "a value outside the known ones"],
)
def test_current_labels_are_the_newest_per_item_and_annotator(project, values):
    with db.session_scope(project) as session:
        loaded = fit_store.load_attribute_labels(session, "p", 1, values)
    got = [
        (int(item), int(annotator), loaded.values[code])
        for item, annotator, code in zip(
            loaded.item_ids, loaded.annotator_ids, loaded.value_codes, strict=True
        )
    ]
    assert got == CURRENT


@pytest.mark.parametrize("values", [None, ["a", "b", "c"]], ids=["distinct", "known"])
def test_an_attribute_without_labels_loads_empty(project, values):
    with db.session_scope(project) as session:
        loaded = fit_store.load_attribute_labels(session, "p", 2, values)
    assert len(loaded.item_ids) == len(loaded.annotator_ids) == len(loaded.value_codes) == 0

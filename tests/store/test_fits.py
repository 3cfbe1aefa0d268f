"""Loading a fit's labels into arrays, on both databases; publishing its results."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sqlalchemy as sa

from qc_service.store import db
from qc_service.store import fits as fit_store
from qc_service.store.models import RESULT_FILLFACTOR, Fit

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


def _results(confidence: float, item_ids=(1, 2)) -> fit_store.ResultColumns:
    n = len(item_ids)
    return fit_store.ResultColumns(
        attribute_id=np.ones(n, dtype=np.int64),
        item_id=np.array(item_ids, dtype=np.int64),
        label=["a"] * n,
        confidence=np.full(n, confidence),
        distribution=[json.dumps({"a": confidence, "b": 1 - confidence})] * n,
        n_labels=np.full(n, 2),
        status=["flagged"] * n,
        flags=['["uncertain"]'] * n,
        priority=np.full(n, 1 - confidence),
    )


def _publish(session, results: fit_store.ResultColumns) -> None:
    fit_store.publish(session, Fit(project_id="p", revision=1, method="dawid_skene"), results, [])


def _table_stat(session, view: str, columns: str) -> sa.Row:
    query = f"SELECT {columns} FROM {view} WHERE relid = CAST('result' AS regclass)"
    return session.execute(sa.text(query)).one()


#: PostgreSQL's storage and statistics: these tests have no SQLite counterpart.
postgres_only = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


@postgres_only
def test_a_refit_updates_results_heap_only(project):
    """Confidence, distribution and priority move on every refit: no index names them,
    and pages keep room, so updating them writes no index entry (PostgreSQL)."""
    with db.session_scope(project, write=True) as session:
        _publish(session, _results(0.6))
    with db.session_scope(project, write=True) as session:
        _publish(session, _results(0.7))
        updated, heap_only = _table_stat(
            session, "pg_stat_xact_user_tables", "n_tup_upd, n_tup_hot_upd"
        )
        options = session.execute(
            sa.text("SELECT reloptions FROM pg_class WHERE oid = CAST('result' AS regclass)")
        ).scalar_one()
    assert updated == heap_only == 2
    assert f"fillfactor={RESULT_FILLFACTOR}" in options


@postgres_only
def test_a_publish_that_inserts_many_results_analyzes_them(project):
    """After a project's first fit the planner has the new rows' statistics at once,
    not after autovacuum's next round (PostgreSQL)."""

    def analyzed() -> int:
        with db.session_scope(project) as session:
            return _table_stat(session, "pg_stat_user_tables", "analyze_count")[0]

    before = analyzed()
    with db.session_scope(project, write=True) as session:
        _publish(session, _results(0.6))
    first = analyzed()
    with db.session_scope(project, write=True) as session:
        _publish(session, _results(0.7))  # same rows: nothing inserted
    assert first == before + 1
    assert analyzed() == first

"""ensure_keys: the row id of every item or annotator key, created when missing."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from qc_service.store import db
from qc_service.store import labels as label_store
from qc_service.store.models import Annotator, Item


def test_missing_keys_are_created_and_existing_ones_keep_their_ids(engine, project):
    with db.session_scope(engine, write=True) as session:
        first = label_store.ensure_keys(session, Item, project, ["img-2", "img-1", "img-2"])
    with db.session_scope(engine, write=True) as session:
        again = label_store.ensure_keys(session, Item, project, ["img-1", "img-3"])
        annotators = label_store.ensure_keys(session, Annotator, project, ["img-1"])
    assert set(first) == {"img-1", "img-2"}
    assert again["img-1"] == first["img-1"]
    assert again["img-3"] not in first.values()
    assert set(annotators) == {"img-1"}


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_key_created_by_a_concurrent_batch_meanwhile_is_found(engine, project):
    """Another transaction has inserted the key, uncommitted, when this one creates
    it: the insert waits for the other, skips the key once the other commits, and the
    id is the other batch's. (SQLite serialises writing transactions, so this cannot
    happen there.)"""
    answer: dict[str, int] = {}
    with db.session_scope(engine, write=True) as rival_session:
        rival = label_store.ensure_keys(rival_session, Item, project, ["img-9"])
        ours = threading.Thread(target=lambda: answer.update(_ensure(engine, project)))
        ours.start()
        _wait_until_a_session_waits_for_a_lock(engine)
    ours.join(timeout=30)
    assert answer["img-9"] == rival["img-9"]
    assert set(answer) == {"img-8", "img-9"}


def _ensure(engine, project: str) -> dict[str, int]:
    with db.session_scope(engine, write=True) as session:
        return label_store.ensure_keys(session, Item, project, ["img-8", "img-9"])


def _wait_until_a_session_waits_for_a_lock(engine) -> None:
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with db.read_scope(engine) as connection:
        for _ in range(300):
            if connection.execute(waiting).scalar():
                return
            time.sleep(0.05)
    raise AssertionError("the second insert never waited for the first")

"""ensure_keys: the row id of every item or annotator key, created when missing."""

from __future__ import annotations

import pytest

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
def test_a_key_created_by_a_concurrent_batch_meanwhile_is_found(engine, project, monkeypatch):
    """Another transaction commits the key after this one looked for it and before it
    inserts it: the insert skips the key, and the id is the other batch's.
    (SQLite serialises writing transactions, so this cannot happen there.)"""
    look_up = label_store._existing_keys
    rival: dict[str, int] = {}
    calls: list[str] = []

    def look_up_while_another_batch_commits(session, model, project_id, keys):
        found = look_up(session, model, project_id, keys)
        calls.append("look up")
        if len(calls) == 1:
            with db.session_scope(engine, write=True) as other:
                rival.update(label_store.ensure_keys(other, Item, project_id, ["img-9"]))
        return found

    monkeypatch.setattr(label_store, "_existing_keys", look_up_while_another_batch_commits)
    with db.session_scope(engine, write=True) as session:
        ids = label_store.ensure_keys(session, Item, project, ["img-8", "img-9"])
    assert ids["img-9"] == rival["img-9"]
    assert set(ids) == {"img-8", "img-9"}
    # Ours, the rival's, and ours again for the key the insert skipped.
    assert len(calls) == 3

"""Fits: loading a project's labels into arrays, and publishing a fit's output.

Loading is one query per attribute returning plain tuples, turned into numpy arrays
at once: no ORM object per label. Publishing replaces the project's results and
annotator scores in one transaction, so readers see the old fit or the new one,
never a mix, and a run that fails half-way leaves the old fit in service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from qc_service.store.models import AnnotatorScore, Fit, Gold, Label, Result

#: Rows per multi-row INSERT when publishing.
_INSERT_CHUNK = 5000


@dataclass(frozen=True)
class AttributeLabels:
    """The labels that count now for one attribute: row ids and stored values.

    ``value_codes`` index ``values`` (the distinct stored values seen), so a value's
    text is parsed once, not once per label.
    """

    item_ids: np.ndarray
    annotator_ids: np.ndarray
    value_codes: np.ndarray
    values: list[str]


def load_attribute_labels(session: Session, project_id: str, attribute_id: int) -> AttributeLabels:
    """Current labels of one attribute: newest per (item, annotator), retracted ones out.

    The rows come sorted by the ``ix_label_current`` index, so the newest label of each
    (item, annotator) is the last of its run and one pass of numpy picks it.
    """
    query = (
        select(Label.item_id, Label.annotator_id, Label.id, Label.retracted, Label.value)
        .where(Label.project_id == project_id, Label.attribute_id == attribute_id)
        .order_by(Label.item_id, Label.annotator_id, Label.id)
    )
    connection = session.connection()
    rows = connection.execute(query).all()
    if not rows:
        empty = np.empty(0, dtype=np.int64)
        return AttributeLabels(empty, empty, empty, [])
    item_ids, annotator_ids, _ids, retracted, values = zip(*rows, strict=True)
    item = np.fromiter(item_ids, dtype=np.int64, count=len(rows))
    annotator = np.fromiter(annotator_ids, dtype=np.int64, count=len(rows))
    dropped = np.fromiter(retracted, dtype=bool, count=len(rows))
    distinct, codes = np.unique(np.array(values, dtype=object), return_inverse=True)
    last_of_run = np.ones(len(rows), dtype=bool)
    last_of_run[:-1] = (item[1:] != item[:-1]) | (annotator[1:] != annotator[:-1])
    keep = last_of_run & ~dropped
    return AttributeLabels(
        item[keep], annotator[keep], codes[keep].astype(np.int64), [str(v) for v in distinct]
    )


def load_gold(session: Session, project_id: str, attribute_id: int) -> list[tuple[int, str, str]]:
    """Known answers of one attribute: (item_id, value, source)."""
    query = select(Gold.item_id, Gold.value, Gold.source).where(
        Gold.project_id == project_id, Gold.attribute_id == attribute_id
    )
    return [tuple(row) for row in session.execute(query)]


def current_fit(session: Session, project_id: str) -> Fit | None:
    query = select(Fit).where(Fit.project_id == project_id, Fit.current.is_(True))
    return session.scalar(query.order_by(Fit.id.desc()).limit(1))


def publish(
    session: Session,
    fit: Fit,
    results: Sequence[dict],
    scores: Sequence[dict],
) -> Fit:
    """Make ``fit`` the project's current fit with its results and annotator scores.

    Rows are dicts of ``Result`` / ``AnnotatorScore`` columns without ``fit_id``.
    Call inside one write transaction: on any error nothing of it is visible.
    """
    project_id = fit.project_id
    session.execute(
        update(Fit).where(Fit.project_id == project_id, Fit.current.is_(True)).values(current=False)
    )
    fit.current = True
    session.add(fit)
    session.flush()
    session.execute(delete(Result).where(Result.project_id == project_id))
    session.execute(delete(AnnotatorScore).where(AnnotatorScore.project_id == project_id))
    for table, rows in ((Result.__table__, results), (AnnotatorScore.__table__, scores)):
        for start in range(0, len(rows), _INSERT_CHUNK):
            chunk = [{**row, "fit_id": fit.id} for row in rows[start : start + _INSERT_CHUNK]]
            session.execute(insert(table), chunk)
    return fit


def annotator_params(
    session: Session, project_id: str, attribute_ids: Sequence[int], annotator_ids: Sequence[int]
) -> dict[tuple[int, int], dict]:
    """Current model parameters by (attribute_id, annotator_id), for the streaming E-step."""
    if not attribute_ids or not annotator_ids:
        return {}
    query = select(
        AnnotatorScore.attribute_id, AnnotatorScore.annotator_id, AnnotatorScore.params
    ).where(
        AnnotatorScore.project_id == project_id,
        AnnotatorScore.attribute_id.in_(sorted(set(attribute_ids))),
        AnnotatorScore.annotator_id.in_(sorted(set(annotator_ids))),
    )
    return {(a, n): params for a, n, params in session.execute(query)}
